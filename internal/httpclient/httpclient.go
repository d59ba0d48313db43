// Package httpclient builds the *http.Client a carto.Client uses when it is given none, and that
// the driver builds for each connector so that closing a sql.DB can close its idle connections.
package httpclient

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gocarto/carto/internal/redact"
)

// New returns an *http.Client whose transport keeps up to 32 idle connections per host (Go's
// default of two is too few when every query is a request) and that refuses to follow redirects,
// so that credentials never travel to another host.
func New() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return fmt.Errorf("carto: refusing to follow a redirect to %s with credentials", redact.ParsedURL(req.URL))
		},
	}
}
