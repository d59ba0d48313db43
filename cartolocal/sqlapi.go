package cartolocal

// OWNED BY the "cartolocal SQL API" helper: replace this placeholder.

import "net/http"

func (s *Server) handleSQL(w http.ResponseWriter, r *http.Request) {
	writeError(w, &apiError{Status: 404, Message: "not yet"})
}
