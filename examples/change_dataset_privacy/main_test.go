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
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/cartolocal/cartotest"
	_ "github.com/gocarto/carto/driver"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestChangeDatasetPrivacy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE places (name text); INSERT INTO places VALUES ('Madrid'); SELECT CDB_CartodbfyTable(current_schema(), 'places'::regclass)")
	public, err := sql.Open("carto", strings.Replace(acct.DSN(), acct.MasterKey, acct.PublicKey, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer public.Close()
	readable := func() bool {
		var n int
		return public.QueryRowContext(ctx, "SELECT count(*) FROM places").Scan(&n) == nil && n == 1
	}
	if readable() {
		t.Fatal("a new dataset is private")
	}
	for _, c := range []struct {
		arg, want string
		read      bool
	}{{"public", "Dataset places: privacy PRIVATE -> PUBLIC\n", true}, {"PRIVATE", "Dataset places: privacy PUBLIC -> PRIVATE\n", false}, {"Link", "Dataset places: privacy PRIVATE -> LINK\n", true}} {
		a, err := parseArgs([]string{"places", c.arg})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := run(ctx, acct.Client(t), a, &out); err != nil {
			t.Fatal(err)
		}
		if out.String() != c.want || readable() != c.read {
			t.Fatalf("%s: %q, readable %v", c.arg, out.String(), !c.read)
		}
	}
	if _, err := parseArgs([]string{"places", "secret"}); err == nil {
		t.Fatal("a bad privacy must be refused")
	}
	err = run(ctx, acct.Client(t), args{Dataset: "nope", Privacy: account.Public}, &bytes.Buffer{})
	if !carto.IsNotFound(err) || !strings.Contains(err.Error(), "Visualization does not exist") {
		t.Fatalf("unknown dataset: %v", err)
	}
}
