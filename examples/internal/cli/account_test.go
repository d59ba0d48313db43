package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/gocarto/carto"
)

const key = "0123456789abcdef0123456789abcdef01234567" // shaped like a CARTO master key

// newAccount registers the flags on a fresh FlagSet that writes to out, with env as the
// environment.
func newAccount(out io.Writer, env map[string]string, opts ...Option) *Account {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(out)
	a := Register(fs, opts...)
	a.getenv = func(k string) string { return env[k] }
	return a
}

func TestEnvironmentDefaults(t *testing.T) {
	env := map[string]string{"CARTO_BASE_URL": "http://127.0.0.1:5480/user/demo/", "CARTO_API_KEY": key}
	a := newAccount(io.Discard, env)
	if code, done := a.parse(nil, io.Discard); done {
		t.Fatalf("parse ended the program with %d", code)
	}
	c, err := a.Client()
	if err != nil {
		t.Fatal(err)
	}
	if c.User() != "demo" {
		t.Errorf("user %q", c.User())
	}

	// Flags beat the environment, and -base-url beats $CARTO_DSN.
	env["CARTO_DSN"] = "carto://other@127.0.0.1:5480/user/other?sslmode=disable"
	a = newAccount(io.Discard, env, WithDSN())
	a.parse([]string{"-base-url", "http://127.0.0.1:5480/user/alice/", "-api-key", "k2"}, io.Discard)
	if a.baseURL != "http://127.0.0.1:5480/user/alice/" || a.dsn != "" || a.apiKey != "k2" {
		t.Errorf("flags: %q %q", a.baseURL, a.dsn)
	}
	db, err := a.OpenDB()
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Without flags the DSN (the driver's own variable) beats $CARTO_BASE_URL.
	a = newAccount(io.Discard, env, WithDSN())
	a.parse(nil, io.Discard)
	if a.dsn != env["CARTO_DSN"] || a.baseURL != "" {
		t.Errorf("env: %q %q", a.baseURL, a.dsn)
	}
	if _, err := a.Client(); !errors.Is(err, ErrUsage) {
		t.Errorf("Client with a DSN: %v", err)
	}
	db, err = a.OpenDB()
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestNoAccount(t *testing.T) {
	a := newAccount(io.Discard, nil, WithDSN())
	a.parse(nil, io.Discard)
	if _, err := a.Client(); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "CARTO_BASE_URL") {
		t.Errorf("Client: %v", err)
	}
	if _, err := a.OpenDB(); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "CARTO_DSN") {
		t.Errorf("OpenDB: %v", err)
	}
	a = newAccount(io.Discard, nil, WithDSN())
	a.parse([]string{"-base-url", "http://h/user/u/", "-dsn", "carto://u@h/user/u"}, io.Discard)
	if _, err := a.OpenDB(); !errors.Is(err, ErrUsage) {
		t.Errorf("both: %v", err)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	a := newAccount(io.Discard, nil)
	if code, done := a.parse([]string{"-version"}, &out); !done || code != 0 || out.String() != carto.Version+"\n" {
		t.Errorf("-version: %d %v %q", code, done, out.String())
	}
}

// TestKeyNeverShown: -help, a bad flag, and every error about the account leave the key out,
// whether it came from the environment or a flag.
func TestKeyNeverShown(t *testing.T) {
	env := map[string]string{"CARTO_API_KEY": key, "CARTO_BASE_URL": "ftp://" + key + "@host/"}
	var out bytes.Buffer
	for _, args := range [][]string{
		{"-help"},
		{"-api-key", key, "-nope"},
		{"-api-key=" + key, "-base-url"},
	} {
		a := newAccount(&out, env, WithDSN())
		if code, done := a.parse(args, &out); !done || code == 1 {
			t.Errorf("%q: %d %v", args, code, done)
		}
	}
	for _, args := range [][]string{
		nil,
		{"-api-key", key},
		{"-base-url", "http://" + key + "@127.0.0.1/user/u/"},
		{"-base-url", "http://127.0.0.1/user/u/?api_key=" + key},
		{"-dsn", "carto://u:" + key + "@127.0.0.1/user/u?bad=1"},
		{"-dsn", "carto://u:" + key + "@127.0.0.1/user/u", "-base-url", "x"},
	} {
		a := newAccount(&out, env, WithDSN())
		a.parse(args, &out)
		if _, err := a.Client(); err != nil {
			a.fail(err, &out)
		}
		if _, err := a.OpenDB(); err != nil {
			a.fail(err, &out)
		}
	}
	if strings.Contains(out.String(), key) {
		t.Errorf("the key was shown:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "default $CARTO_API_KEY") {
		t.Errorf("-help does not say where the key comes from:\n%s", out.String())
	}
}

func TestFail(t *testing.T) {
	var out bytes.Buffer
	a := newAccount(io.Discard, nil)
	if code := a.fail(Usagef("-table is required"), &out); code != 2 || !strings.Contains(out.String(), "example: usage: -table is required") || !strings.Contains(out.String(), "-base-url") {
		t.Errorf("usage error: %d %q", code, out.String())
	}
	out.Reset()
	if code := a.fail(errors.New("boom"), &out); code != 1 || out.String() != "example: boom\n" {
		t.Errorf("error: %d %q", code, out.String())
	}
}
