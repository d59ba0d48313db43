package redact_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/internal/redact"
)

// TestURLOddInputs feeds URL URLs that net/url cannot parse, or whose query
// url.ParseQuery skips: none of them may come back with the key.
func TestURLOddInputs(t *testing.T) {
	for _, in := range []string{
		"http://bob:" + secretKey + "@host:badport/",                       // url.Parse fails: invalid port
		"https://bob:" + secretKey + " x@bob.carto.com/",                   // url.Parse fails: space in host
		"http://bob:pa?" + secretKey + "@host/",                            // '?' inside the password
		"https://bob.carto.com/%zz?api_key=" + secretKey,                   // url.Parse fails: bad escape in path
		"https://bob.carto.com/api/v2/sql?api_key=" + secretKey + ";x=1",   // ParseQuery skips a pair with ';'
		"https://bob.carto.com/api/v2/sql?api_key=" + secretKey + "%zz",    // ParseQuery skips a bad escape
		"https://bob.carto.com/api/v2/sql?q=1&api%5Fkey=" + secretKey,      // escaped parameter name
		"https://bob.carto.com/api/v2/sql?q=1&map_key=" + secretKey + "#f", // fragment
		"https://bob.carto.com/viz#api_key=" + secretKey,                   // key in a fragment
		"https:/bob:" + secretKey + "@bob.carto.com/",                      // typo: no authority, key in the path
		"https:bob:" + secretKey + "@bob.carto.com/",                       // typo: key in the opaque part
		"0://0?@&api_key=" + secretKey,                                     // unparseable, '@' before the key
	} {
		out := redact.URL(in)
		if strings.Contains(out, secretKey) || strings.Contains(out, secretKey[:8]) {
			t.Errorf("redact.URL(%q) = %q: the key is still there", in, out)
		}
		if _, err := carto.NewClient(in); err != nil && strings.Contains(err.Error(), secretKey[:8]) {
			t.Errorf("carto.NewClient(%q) error shows the key: %v", in, err)
		}
	}
	// Harmless parts stay readable.
	if out := redact.URL("https://bob.carto.com/api/v2/sql?q=select+1;&api_key=" + secretKey); !strings.Contains(out, "q=select+1") {
		t.Errorf("URL dropped the query text: %s", out)
	}
}

// secretKey stands for an API key in these tests.
const secretKey = "s3cr3t-master-key-0123456789"

func TestRedaction(t *testing.T) {
	in := "https://alice:" + secretKey + "@alice.carto.com/api/v2/sql?q=select+1&api_key=" + secretKey + "&map_key=" + secretKey
	out := redact.URL(in)
	if strings.Contains(out, secretKey) {
		t.Fatalf("URL kept the key: %s", out)
	}
	if !strings.Contains(out, "q=select") {
		t.Fatalf("URL dropped harmless parts: %s", out)
	}
	err := redact.Err(&url.Error{Op: "Post", URL: in, Err: errors.New("boom")})
	if strings.Contains(err.Error(), secretKey) {
		t.Fatalf("Err kept the key: %v", err)
	}
}
