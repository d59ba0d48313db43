package main

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/examples/internal/cli"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

var fieldRE = regexp.MustCompile(`(?m)^(\w+): (.*)$`)

func fields(out string) map[string]string {
	m := map[string]string{}
	for _, f := range fieldRE.FindAllStringSubmatch(out, -1) {
		m[f[1]] = f[2]
	}
	return m
}

func TestCreateReadCancel(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := carto.NewClient(acct.URL, carto.WithAPIKey(acct.MasterKey))
	if err != nil {
		t.Fatal(err)
	}
	b := batch.New(client)

	var out strings.Builder
	if err := run(ctx, b, "create", "select pg_sleep(30)", "", &out); err != nil {
		t.Fatal(err)
	}
	created := fields(out.String())
	if created["status"] != "pending" || created["user"] != acct.User || created["query"] != "select pg_sleep(30)" || len(created["job_id"]) != 36 || created["created_at"] == "" || created["updated_at"] == "" {
		t.Fatalf("create printed:\n%s", out.String())
	}
	id := created["job_id"]

	deadline := time.Now().Add(30 * time.Second)
	for {
		out.Reset()
		if err := run(ctx, b, "read", "", id, &out); err != nil {
			t.Fatal(err)
		}
		if fields(out.String())["status"] == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read printed:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	out.Reset()
	if err := run(ctx, b, "cancel", "", id, &out); err != nil {
		t.Fatal(err)
	}
	if f := fields(out.String()); f["status"] != "cancelled" || f["job_id"] != id {
		t.Fatalf("cancel printed:\n%s", out.String())
	}
	if strings.Contains(out.String(), acct.MasterKey) {
		t.Fatal("the key was printed")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct{ op, query, jobID string }{
		{"", "", ""},
		{"drop", "", ""},
		{"create", "", ""},
		{"update", "", "x"},
		{"update", "q", ""},
		{"read", "", ""},
		{"cancel", "", ""},
	} {
		if err := check(c.op, c.query, c.jobID); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%+v: err = %v, want a usage error", c, err)
		}
	}
	for _, c := range []struct{ op, query, jobID string }{
		{"create", "q", ""}, {"read", "", "x"}, {"update", "q", "x"}, {"cancel", "", "x"},
	} {
		if err := check(c.op, c.query, c.jobID); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
