package imports

import "testing"

// A code CARTO has no texts for (1010) reads without a dangling colon.
func TestImportErrorText(t *testing.T) {
	for _, c := range []struct {
		e    ImportError
		want string
	}{
		{ImportError{ID: "i", Code: 1010}, "imports: i failed with error 1010"},
		{ImportError{ID: "i", Code: 1005, Title: "Empty file", Advice: "…"}, "imports: i failed with error 1005: Empty file"},
		{ImportError{ID: "s", Code: 1001, Advice: "HTTP 500"}, "imports: s failed with error 1001: HTTP 500"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
}
