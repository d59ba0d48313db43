package redact_test

import (
	"strings"
	"testing"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/internal/redact"
)

// FuzzURL: whatever surrounds a key in user info, in a key parameter or in a fragment,
// neither URL nor NewClient's error shows it.
func FuzzURL(f *testing.F) {
	f.Add("https", "bob", "bob.carto.com/api/v2/sql", "q=1", "x")
	f.Add("http", "", "host:badport/", "", "")
	f.Add("https", "a b", "h/%zz", "a=%zz;b", "#f")
	f.Fuzz(func(t *testing.T, scheme, user, rest, query, tail string) {
		const key = "K3yK3yK3y"
		if strings.Contains(scheme+user+rest+query+tail, "K3y") || strings.ContainsAny(user, "/?#") ||
			strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return // a '/', '?' or '#' in the user name puts the key in a path or fragment
		}
		for _, in := range []string{
			scheme + "://" + user + ":" + key + "@" + rest + "?" + query,
			scheme + ":/" + user + ":" + key + "@" + rest + "?" + query,
			scheme + ":" + user + ":" + key + "@" + rest + "?" + query,
			scheme + "://" + rest + "?" + query + "&api_key=" + key + tail,
			scheme + "://" + rest + "?" + query + ";map_key=" + key + tail,
		} {
			if out := redact.URL(in); strings.Contains(out, key) {
				t.Fatalf("redact.URL(%q) = %q", in, out)
			}
			if _, err := carto.NewClient(in); err != nil && strings.Contains(err.Error(), key) {
				t.Fatalf("carto.NewClient(%q): %v", in, err)
			}
		}
	})
}
