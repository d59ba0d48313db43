package httpapi

import "net/http"

// SetCORS sets the CORS headers CARTO's SQL API router sends on every answer (cors() of
// CartoDB-SQL-API's lib/api/middlewares/cors.js): any origin, any header, every header exposed.
func SetCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "*")
	h.Set("Access-Control-Expose-Headers", "*")
}
