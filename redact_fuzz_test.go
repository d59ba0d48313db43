package carto

import (
	"strings"
	"testing"
)

// FuzzRedactURL: whatever surrounds a key in user info, in a key parameter or in a fragment,
// neither RedactURL nor NewClient's error shows it.
func FuzzRedactURL(f *testing.F) {
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
			if out := RedactURL(in); strings.Contains(out, key) {
				t.Fatalf("RedactURL(%q) = %q", in, out)
			}
			if _, err := NewClient(in); err != nil && strings.Contains(err.Error(), key) {
				t.Fatalf("NewClient(%q): %v", in, err)
			}
		}
	})
}
