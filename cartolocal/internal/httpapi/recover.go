package httpapi

import "net/http"

// Recover serves h, turning a panic into CARTO's 500 {"error":["Unexpected error"]} logged with
// logf: a handler bug must cost one request, never the server. http.ErrAbortHandler (a streamed
// answer cut on purpose) is passed on for net/http to drop the connection.
func Recover(logf func(string, ...any), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logf("cartolocal: panic serving %s %s: %v", r.Method, r.URL.Path, v)
				WriteError(w, &Error{Status: http.StatusInternalServerError, Message: "Unexpected error"})
			}
		}()
		h.ServeHTTP(w, r)
	})
}
