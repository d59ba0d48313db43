package httpapi

import "net/http"

// Prefixes are the two URL forms every CARTO API answers under: bare, with the account taken from
// the host name (https://USER.carto.com/api/...), and /user/{user}/ (organizations, on-premises
// CARTO and cartolocal). A handler reads the second form's user with r.PathValue("user").
var Prefixes = [...]string{"", "/user/{user}"}

// Mount registers h for pattern (a path of net/http's ServeMux syntax without a method, such as
// "/api/{version}/sql/job/{id}") under both Prefixes. Methods are the handler's to check: CARTO's
// Express routers answer a wrong method with their own 404 page (WriteCannot), not a 405.
func Mount(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	for _, prefix := range Prefixes {
		mux.HandleFunc(prefix+pattern, h)
	}
}
