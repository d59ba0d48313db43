package httpapi

import (
	"net/http"
	"regexp"
)

// SetCORS sets the CORS headers CARTO's SQL API router sends on every answer (cors() of
// CartoDB-SQL-API's lib/api/middlewares/cors.js): any origin, any header, every header exposed.
func SetCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "*")
	h.Set("Access-Control-Expose-Headers", "*")
}

// sqlRouterPath matches the paths of CARTO's SQL API router: /api/{version}/sql and everything
// under it (the SQL API, the Batch API, COPY), with or without the /user/{user} prefix.
var sqlRouterPath = regexp.MustCompile(`^(/user/[^/]+)?/api/[^/]+/sql(/|$)`)

// SQLRouterCORS wraps h as CARTO's SQL API router wraps its routes: every answer under
// /api/{version}/sql carries SetCORS's headers, whatever its status (Express's 404 page too, sample
// 62), and an OPTIONS request, a browser's preflight, is answered 200 with an empty body (sample
// 46) on every such path. Other paths pass untouched: /api/v1/version answers without CORS.
func SQLRouterCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sqlRouterPath.MatchString(r.URL.Path) {
			SetCORS(w.Header())
			if r.Method == http.MethodOptions {
				w.Header().Set("Content-Length", "0")
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
