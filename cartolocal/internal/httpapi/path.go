package httpapi

import (
	"net/http"
	"net/url"
)

// PathValue is r.PathValue(name) unescaped: the mux matches escaped segments and hands them over
// as sent, so "Default%20public" must become "Default public" before it names anything.
func PathValue(r *http.Request, name string) string {
	v := r.PathValue(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
