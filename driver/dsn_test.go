package driver

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want Config
	}{
		{"carto://alice:k3y@alice.carto.com",
			Config{BaseURL: "https://alice.carto.com/", User: "alice", APIKey: "k3y"}},
		{"carto://alice.carto.com",
			Config{BaseURL: "https://alice.carto.com/", User: "alice"}},
		{"carto://bob:k@acme.carto.com",
			Config{BaseURL: "https://acme.carto.com/user/bob/", User: "bob", APIKey: "k"}},
		{"carto://acme.carto.com/user/bob/?api_key=k",
			Config{BaseURL: "https://acme.carto.com/user/bob/", User: "bob", APIKey: "k"}},
		{"carto://demo:mk@127.0.0.1:5480/user/demo?sslmode=disable&timeout=30s&max_retries=0&spool_memory=512k&client=etl",
			Config{BaseURL: "http://127.0.0.1:5480/user/demo/", User: "demo", APIKey: "mk", Timeout: 30 * time.Second,
				MaxRetries: -1, SpoolMemory: 512 << 10, ClientID: "etl"}},
		{"carto://demo@localhost:5480?sslmode=require",
			Config{BaseURL: "https://localhost:5480/user/demo/", User: "demo"}},
		{"https://alice.carto.com/?api_key=k",
			Config{BaseURL: "https://alice.carto.com/", User: "alice", APIKey: "k"}},
		{"http://127.0.0.1:8080/user/demo?api_key=k&spool_memory=2MiB",
			Config{BaseURL: "http://127.0.0.1:8080/user/demo/", User: "demo", APIKey: "k", SpoolMemory: 2 << 20}},
		{"  carto://carol.localhost:8080?sslmode=disable  ",
			Config{BaseURL: "http://carol.localhost:8080/", User: "carol"}},
	}
	for _, tt := range tests {
		got, err := ParseDSN(tt.dsn)
		if err != nil {
			t.Errorf("ParseDSN(%q): %v", tt.dsn, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseDSN(%q)\n got %+v\nwant %+v", tt.dsn, *got, tt.want)
		}
		// FormatDSN round-trips.
		again, err := ParseDSN(got.FormatDSN())
		if err != nil {
			t.Errorf("ParseDSN(FormatDSN()=%q): %v", got.FormatDSN(), err)
			continue
		}
		if !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q through %q\n got %+v\nwant %+v", tt.dsn, got.FormatDSN(), *again, *got)
		}
		if got.APIKey != "" && strings.Contains(got.String(), got.APIKey) {
			t.Errorf("String() = %q shows the key", got.String())
		}
		if _, err := got.NewClient(); err != nil {
			t.Errorf("NewClient for %q: %v", tt.dsn, err)
		}
	}
}

func TestParseDSNErrors(t *testing.T) {
	tests := []struct{ dsn, why string }{
		{"", "no scheme"},
		{"alice.carto.com", "no scheme"},
		{"postgres://alice@host/db", `scheme is "postgres"`},
		{"carto:alice", "no host"},
		// Slashes missing or one too many: the userinfo is not recognised as such, so the key
		// sits in the opaque part or the path.
		{"carto:alice:s3cret@alice.carto.com", "no host"},
		{"carto:/alice:s3cret@alice.carto.com", "no host"},
		{"carto:///alice:s3cret@alice.carto.com", "no host"},
		{"carto://127.0.0.1:8080?sslmode=disable&api_key=s3cret", "names no user"},
		{"carto://alice:s3cret@host.example.com/db", `the path is "/db"`},
		{"carto://alice:s3cret@host.example.com/user/bob", "not the one in the path"},
		{"carto://alice:s3cret@alice.carto.com?api_key=s3cret", "both before the @ and in api_key"},
		{"carto://alice:s3cret@alice.carto.com?sslmode=allow", `sslmode is "allow"`},
		{"https://alice.carto.com?sslmode=disable&api_key=s3cret", "sslmode belongs to carto://"},
		{"carto://alice:s3cret@alice.carto.com?timeout=5", `timeout is "5"`},
		{"carto://alice:s3cret@alice.carto.com?max_retries=-1", "max_retries"},
		{"carto://alice:s3cret@alice.carto.com?spool_memory=lots", "spool_memory"},
		{"carto://alice:s3cret@alice.carto.com?apikey=s3cret", `unknown parameter "apikey"`},
		{"carto://alice:s3cret@alice.carto.com?client=a&client=b", "given 2 times"},
		{"carto://9lives:s3cret@host.example.com", "not a CARTO user name"},
		{"carto://alice:s3cret@alice.carto.com#frag", "fragment"},
		{"carto://alice:s3cret@[::1", "does not parse"},
		{"carto://alice:s3cret@alice.carto.com?api_key=", "both before"},
	}
	for _, tt := range tests {
		_, err := ParseDSN(tt.dsn)
		if err == nil {
			t.Errorf("ParseDSN(%q) succeeded, want an error about %s", tt.dsn, tt.why)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.why) {
			t.Errorf("ParseDSN(%q) = %q, want it to say %q", tt.dsn, msg, tt.why)
		}
		if strings.Contains(msg, "s3cret") {
			t.Errorf("ParseDSN(%q) error shows the key: %q", tt.dsn, msg)
		}
		if !strings.Contains(msg, "carto://alice:API_KEY@alice.carto.com") {
			t.Errorf("ParseDSN(%q) error shows no valid example: %q", tt.dsn, msg)
		}
	}
}

// TestDSNErrorsShowUser: only the key is secret. A DSN error shows the user name it is often
// about, and the values of the known parameters, with the key blanked (issue 9, item 21).
func TestDSNErrorsShowUser(t *testing.T) {
	for dsn, want := range map[string]string{
		"carto://9lives:s3cret@host.example.com":                     `"carto://9lives:xxxxx@host.example.com"`,
		"carto://alice:s3cret@alice.carto.com?timeout=soon":          `"carto://alice:xxxxx@alice.carto.com?timeout=soon"`,
		"carto://alice@alice.carto.com/user/bob?client=app&x=1":      `"carto://alice@alice.carto.com/user/bob?client=app&x=xxxxx"`,
		"carto://0123456789abcdef0123456789abcdef01234567@h.example": `"carto://xxxxx@h.example"`,
	} {
		_, err := ParseDSN(dsn)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDSN(%q) = %v, want it to show %s", dsn, err, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "8MiB": 8 << 20, "8M": 8 << 20, "512k": 512 << 10, "1GiB": 1 << 30, "3 KiB": 3 << 10, "100B": 100} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
		if want > 0 {
			if back, _ := parseSize(formatSize(want)); back != want {
				t.Errorf("formatSize(%d) = %q reads back as %d", want, formatSize(want), back)
			}
		}
	}
	for _, in := range []string{"", "-1", "1.5M", "9999999999G", "M"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

func TestAPIKeyFromEnvironment(t *testing.T) {
	t.Setenv("CARTO_API_KEY", "envkey")
	cfg, err := ParseDSN("carto://alice@alice.carto.com")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIKey != "" || strings.Contains(cfg.FormatDSN(), "envkey") {
		t.Errorf("the environment's key leaked into the Config: %+v / %s", cfg, cfg.FormatDSN())
	}
	c, err := cfg.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasAPIKey() {
		t.Error("the client has no key; want $CARTO_API_KEY")
	}
}

func TestNilConfig(t *testing.T) {
	if _, err := NewConnector(nil); err == nil {
		t.Fatal("NewConnector(nil) succeeded")
	}
	db := OpenDB(nil)
	defer db.Close()
	if err := db.Ping(); err == nil {
		t.Fatal("OpenDB(nil) pinged")
	}
}

// TestDSNNeverShowsKey puts a 40-hex API key (CARTO's master key form) wherever a DSN can hold
// one by mistake: pasted without user: before the @, as the path, as a parameter name. ParseDSN
// must fail without showing it, and String() must not show it either.
func TestDSNNeverShowsKey(t *testing.T) {
	for _, key := range []string{"a3f1c2d4e5b60718293a4b5c6d7e8f9012345678", "93f1c2d4e5b60718293a4b5c6d7e8f90123456ab"} {
		dsns := []string{
			"carto://" + key + "@alice.carto.com",
			"carto://" + key + ":@alice.carto.com",
			"carto://" + key + "@alice.carto.com/user/alice",
			"carto://" + key + "@alice.carto.com?timeout=5",
			"carto://" + key + ":" + key + "@alice.carto.com",
			"carto://alice.carto.com/" + key,
			"carto://alice.carto.com/" + key + "?timeout=5",
			"carto://alice.carto.com/api_key/" + key,
			"carto://alice.carto.com/user/" + key,
			"carto://alice:pw@alice.carto.com/user/" + key,
			"carto://alice.carto.com?" + key,
			"carto://alice.carto.com?" + key + "=",
			"carto://alice.carto.com?timeout=5&" + key,
			"carto://alice:" + key + "@alice.carto.com?timeout=5",
			"carto://alice.carto.com?api_key=" + key + "&timeout=5",
		}
		for _, dsn := range dsns {
			cfg, err := ParseDSN(dsn)
			if err == nil {
				t.Errorf("ParseDSN(%q) succeeded (user %q)", dsn, cfg.User)
				if strings.Contains(cfg.String(), key) {
					t.Errorf("String() = %q shows the key", cfg.String())
				}
				continue
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("ParseDSN(%q) error shows the key: %v", dsn, err)
			}
		}
		// A Config built by hand with the key as its user.
		cfg := NewConfig()
		cfg.BaseURL, cfg.User = "https://alice.carto.com/user/"+key+"/", key
		if s := cfg.String(); strings.Contains(s, key) {
			t.Errorf("String() = %q shows the key", s)
		}
	}
	// A user name before the @ without a key is still fine (the key then comes from
	// $CARTO_API_KEY or api_key).
	if cfg, err := ParseDSN("carto://bob@acme.carto.com?api_key=k"); err != nil || cfg.User != "bob" {
		t.Errorf("carto://bob@acme.carto.com: %v", err)
	}
}
