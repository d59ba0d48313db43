package users

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gocarto/carto/cartolocal/internal/apikeys"
	"github.com/gocarto/carto/cartolocal/internal/httpapi"
)

// Principal is who a request runs as: an account, and whether with its master key (the account's
// owner role), one of its regular API keys (the key's own role), or as the public role.
type Principal struct {
	User   *User
	Master bool
	// Key is the regular API key the request came with; nil for the master key, the public key
	// and no key.
	Key *apikeys.Key
}

// PublicToken is the public key every CARTO account answers to, besides its own public key.
const PublicToken = "default_public"

// Resolve finds the account a request is for, as CARTO does: the /user/NAME path wins, then the
// host's first label. cartolocal also takes the Basic-auth user name, and the only account when
// there is just one, so that http://127.0.0.1:PORT/api/v2/sql works without a Host trick.
func (d *Directory) Resolve(r *http.Request) (*User, *httpapi.Error) {
	name := r.PathValue("user")
	if name == "" {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if label, _, ok := strings.Cut(host, "."); ok {
			if _, exists := d.Get(label); exists {
				name = label
			}
		}
		if name == "" {
			if bu, _, ok := r.BasicAuth(); ok {
				if _, exists := d.Get(bu); exists {
					name = bu
				}
			}
		}
		if name == "" {
			if all := d.All(); len(all) == 1 {
				name = all[0].Name
			}
		}
		if name == "" {
			return nil, httpapi.BadRequest(fmt.Sprintf("No username found in hostname '%s'", host))
		}
	}
	u, ok := d.Get(name)
	if !ok {
		return nil, &httpapi.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("Sorry, we can't find CARTO user '%s'. Please check that you have entered the correct domain.", name)}
	}
	return u, nil
}

// Authenticate resolves the account and the key. The key is looked for where CARTO looks: the Basic
// auth password (whose user name must be the account's), then api_key or map_key in the query
// string, then in the body; an empty one counts as none.
func (d *Directory) Authenticate(r *http.Request, p httpapi.Params) (*Principal, *httpapi.Error) {
	u, aerr := d.Resolve(r)
	if aerr != nil {
		return nil, aerr
	}
	key, found := "", false
	if bu, bp, ok := r.BasicAuth(); ok {
		if bu != u.Name {
			return nil, &httpapi.Error{Status: http.StatusForbidden, Message: "permission denied"}
		}
		key, found = bp, true
	}
	if !found {
		// CARTO takes the first non-empty of the query string's api_key and map_key, then the
		// body's; p has the body winning, so the query string is read on its own first.
		query := httpapi.Params{}
		httpapi.MergeValues(query, httpapi.ParseQS(r.URL.RawQuery))
	lookup:
		for _, src := range []httpapi.Params{query, p} {
			for _, name := range []string{"api_key", "map_key"} {
				if v, ok := src.Str(name); ok && v != "" {
					key, found = v, true
					break lookup
				}
			}
		}
	}
	if !found || key == PublicToken || constEq(key, u.PublicKey) {
		return &Principal{User: u}, nil
	}
	if constEq(key, u.MasterKey) {
		return &Principal{User: u, Master: true}, nil
	}
	if k, err := d.regularKey(r.Context(), u, key); err == nil {
		return &Principal{User: u, Key: k}, nil
	}
	// CARTO looks keys up per user: another account's key is as unknown here as a made-up one, and
	// answering it differently would tell a guesser that the string is somebody's key.
	return nil, &httpapi.Error{Status: http.StatusUnauthorized, Message: "Unauthorized"}
}

func constEq(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
