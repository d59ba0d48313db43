package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	_ "github.com/gocarto/carto/driver"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestUserInfo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, member := cartotest.New(t), cartotest.New(t)
	member.Exec(t, "CREATE TABLE t (a int); SELECT CDB_CartodbfyTable(current_schema(), 't'::regclass)")
	org := "org-" + admin.User
	if err := admin.Server.AddOrganization(ctx, org, admin.User, member.User); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("carto", admin.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out bytes.Buffer
	if err := run(ctx, admin.Client(t), db, args{Org: org, Username: member.User}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"username                    " + member.User + "\n", "org_user                    true\n", "org_admin                   false\n",
		"table_count                 1\n", "\nData services\nSERVICE", "isolines        0     ", "hires_geocoder  0     ",
		"routing         0     ", "observatory     0     ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// Without an organization, the account's own user.
	out.Reset()
	if err := run(ctx, member.Client(t), db, args{Username: member.User}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "org_user                    true\n") {
		t.Errorf("own user:\n%s", out.String())
	}
	// Only the organization's admin reads its members.
	err = run(ctx, member.Client(t), db, args{Org: org, Username: admin.User}, &out)
	if !carto.IsPermissionDenied(err) {
		t.Fatalf("a member reading the admin: %v", err)
	}
}
