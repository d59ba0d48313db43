package cartolocal

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// principal is who a request runs as: an account, and whether with its master key (the account's
// owner role) or as the public role.
type principal struct {
	User   *User
	Master bool
}

// publicToken is the public key every CARTO account answers to, besides its own public key.
const publicToken = "default_public"

// resolveUser finds the account a request is for, as CARTO does: the /user/NAME path wins, then the
// host's first label. cartolocal also takes the Basic-auth user name, and the only account when
// there is just one, so that http://127.0.0.1:PORT/api/v2/sql works without a Host trick.
func (s *Server) resolveUser(r *http.Request) (*User, *apiError) {
	name := r.PathValue("user")
	if name == "" {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if label, _, ok := strings.Cut(host, "."); ok {
			if _, exists := s.User(label); exists {
				name = label
			}
		}
		if name == "" {
			if bu, _, ok := r.BasicAuth(); ok {
				if _, exists := s.User(bu); exists {
					name = bu
				}
			}
		}
		if name == "" {
			if all := s.Users(); len(all) == 1 {
				name = all[0].Name
			}
		}
		if name == "" {
			return nil, badRequest(fmt.Sprintf("No username found in hostname '%s'", host))
		}
	}
	u, ok := s.User(name)
	if !ok {
		return nil, &apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("Sorry, we can't find CARTO user '%s'. Please check that you have entered the correct domain.", name)}
	}
	return u, nil
}

// authenticate resolves the account and the key. The key is looked for where CARTO looks: the Basic
// auth password (whose user name must be the account's), then api_key or map_key in the query
// string, then in the body; an empty one counts as none.
func (s *Server) authenticate(r *http.Request, p params) (*principal, *apiError) {
	u, aerr := s.resolveUser(r)
	if aerr != nil {
		return nil, aerr
	}
	key, found := "", false
	if bu, bp, ok := r.BasicAuth(); ok {
		if bu != u.Name {
			return nil, &apiError{Status: http.StatusForbidden, Message: "permission denied"}
		}
		key, found = bp, true
	}
	if !found {
		// CARTO takes the first non-empty of the query string's api_key and map_key, then the
		// body's; p has the body winning, so the query string is read on its own first.
		query := params{}
		mergeValues(query, parseQS(r.URL.RawQuery))
	lookup:
		for _, src := range []params{query, p} {
			for _, name := range []string{"api_key", "map_key"} {
				if v, ok := src.str(name); ok && v != "" {
					key, found = v, true
					break lookup
				}
			}
		}
	}
	if !found || key == publicToken || constEq(key, u.PublicKey) {
		return &principal{User: u}, nil
	}
	if constEq(key, u.MasterKey) {
		return &principal{User: u, Master: true}, nil
	}
	for _, other := range s.Users() {
		if other != u && (constEq(key, other.MasterKey) || constEq(key, other.PublicKey)) {
			return nil, &apiError{Status: http.StatusForbidden, Message: "Forbidden"}
		}
	}
	return nil, &apiError{Status: http.StatusUnauthorized, Message: "Unauthorized"}
}

func constEq(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
