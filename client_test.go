package carto

import (
	"strings"
	"testing"
)

func TestNewClientBaseURLs(t *testing.T) {
	t.Setenv("CARTO_API_KEY", "")
	tests := []struct {
		in, base, user string
	}{
		{"https://alice.carto.com", "https://alice.carto.com/", "alice"},
		{"https://alice.carto.com/", "https://alice.carto.com/", "alice"},
		{"https://acme.carto.com/user/bob", "https://acme.carto.com/user/bob/", "bob"},
		{"https://acme.carto.com/user/bob/", "https://acme.carto.com/user/bob/", "bob"},
		{"http://127.0.0.1:5480/user/demo", "http://127.0.0.1:5480/user/demo/", "demo"},
		{"http://localhost/user/d-1_x/", "http://localhost/user/d-1_x/", "d-1_x"},
		{"http://carol.localhost:8080", "http://carol.localhost:8080/", "carol"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.in)
		if err != nil {
			t.Errorf("NewClient(%q): %v", tt.in, err)
			continue
		}
		if c.BaseURL() != tt.base || c.User() != tt.user {
			t.Errorf("NewClient(%q) = %q user %q, want %q user %q", tt.in, c.BaseURL(), c.User(), tt.base, tt.user)
		}
		if c.HasAPIKey() {
			t.Errorf("NewClient(%q) has a key without one given", tt.in)
		}
	}
	if got := mustClient(t, "https://alice.carto.com").URL("api/v2/sql").String(); got != "https://alice.carto.com/api/v2/sql" {
		t.Errorf("URL = %q", got)
	}
}

func TestNewClientRejects(t *testing.T) {
	bad := []string{
		"", "alice.carto.com", "ftp://alice.carto.com", "https://carto.com", "https://localhost:8080",
		"https://acme.carto.com/u/bob", "https://acme.carto.com/user/", "https://acme.carto.com/user/bob/extra",
		"https://alice.carto.com/?api_key=SECRET123", "https://alice:SECRET123@alice.carto.com/",
		"https://SECRET123@alice.carto.com/", "ftp://SECRET123@alice.carto.com/", // a key pasted as the user
		"https://acme.carto.com/user/b%20ob", "http://[::1", "https://acme.carto.com/user/9bob",
	}
	for _, in := range bad {
		_, err := NewClient(in)
		if err == nil {
			t.Errorf("NewClient(%q) succeeded", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "https://USER.carto.com") {
			t.Errorf("NewClient(%q) error does not show the accepted forms: %s", in, msg)
		}
		if strings.Contains(msg, "SECRET123") {
			t.Errorf("NewClient(%q) error leaks the key: %s", in, msg)
		}
	}
}

func TestAPIKeyFromEnvironment(t *testing.T) {
	t.Setenv("CARTO_API_KEY", "fromenv")
	if !mustClient(t, "https://alice.carto.com").HasAPIKey() {
		t.Fatal("CARTO_API_KEY was not used")
	}
	c, err := NewClient("https://alice.carto.com", WithAPIKey(""))
	if err != nil || c.HasAPIKey() {
		t.Fatalf("WithAPIKey(\"\") should override the environment: %v", err)
	}
}

func mustClient(t *testing.T, base string, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
