package maptemplate

import (
	"crypto/subtle"
)

// Error is a refused template, parameter or value, with what Windshaft answers for it: the maps
// server writes it in Windshaft's error dialect.
type Error struct {
	Status  int    // HTTP status
	Type    string // errors_with_context type; "" is "unknown"
	Message string // Windshaft's message, word for word
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// constEq compares secrets in constant time; an empty expected value matches nothing.
func constEq(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
