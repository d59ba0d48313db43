package main

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
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
	flags := []string{"--base_url=" + acct.URL, "--api_key=" + acct.MasterKey}

	var out strings.Builder
	if err := run(ctx, append([]string{"create", "--query=select pg_sleep(30)"}, flags...), &out); err != nil {
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
		if err := run(ctx, append([]string{"read", "--job_id=" + id}, flags...), &out); err != nil {
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

	// The environment works as well as the flags.
	t.Setenv("CARTO_BASE_URL", acct.URL)
	t.Setenv("CARTO_API_KEY", acct.MasterKey)
	out.Reset()
	if err := run(ctx, []string{"cancel", "--job_id=" + id}, &out); err != nil {
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
	t.Setenv("CARTO_BASE_URL", "")
	t.Setenv("CARTO_API_KEY", "")
	ctx := context.Background()
	for _, args := range [][]string{
		nil,
		{"drop"},
		{"create"},
		{"read"},
		{"cancel", "--job_id=x"}, // no base URL
		{"create", "--bogus"},
	} {
		var ue usageError
		if err := run(ctx, args, &strings.Builder{}); !errors.As(err, &ue) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
	// A bad base URL is reported without the key.
	err := run(ctx, []string{"read", "--job_id=x", "--base_url=ftp://x", "--api_key=secretvalue"}, &strings.Builder{})
	if err == nil || strings.Contains(err.Error(), "secretvalue") {
		t.Fatalf("err = %v", err)
	}
}
