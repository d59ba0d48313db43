package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWindshaftSamples: the bodies and statuses of the Maps API samples (protocol/maps-samples 11
// and 14) and Windshaft's status rules.
func TestWindshaftSamples(t *testing.T) {
	for _, tc := range []struct {
		errs   []*WindshaftError
		status int
		body   string
	}{
		{[]*WindshaftError{{Status: 400, Type: "layer", Message: `PgMvtFactory: syntax error at or near "from"`, Layer: []byte(`{"id":"layer0","index":0,"type":"mapnik"}`)}},
			400, `{"errors":["PgMvtFactory: syntax error at or near \"from\""],"errors_with_context":[{"type":"layer","message":"PgMvtFactory: syntax error at or near \"from\"","layer":{"id":"layer0","index":0,"type":"mapnik"}}]}`},
		{[]*WindshaftError{{Status: 401, Type: "auth", Subtype: "api-key-not-found", Message: "Unauthorized"}},
			401, `{"errors":["Unauthorized"],"errors_with_context":[{"type":"auth","message":"Unauthorized","subtype":"api-key-not-found"}]}`},
		{[]*WindshaftError{{Message: `relation "nope" does not exist`}, {}},
			404, `{"errors":["relation \"nope\" does not exist","Unknown error"],"errors_with_context":[{"type":"unknown","message":"relation \"nope\" does not exist"},{"type":"unknown","message":"Unknown error"}]}`},
	} {
		w := httptest.NewRecorder()
		WriteWindshaftError(w, httptest.NewRequest("GET", "/api/v1/map", nil), tc.errs...)
		if w.Code != tc.status || w.Body.String() != tc.body {
			t.Errorf("got %d %s\nwant %d %s", w.Code, w.Body, tc.status, tc.body)
		}
	}
	for msg, want := range map[string]int{
		"permission denied for table t":                                        403,
		"password authentication failed for user x":                            403,
		`role "x" does not exist`:                                              403,
		"function foo(integer) does not exist":                                 400,
		"Postgis Plugin: ERROR:  column \"x\" does not exist\nin executeQuery": 400,
		`relation "t" does not exist`:                                          404,
		"syntax error":                                                         400,
	} {
		if got := WindshaftStatus("Error: " + msg); got != want {
			t.Errorf("WindshaftStatus(%q) = %d, want %d", msg, got, want)
		}
	}
	// A callback forces 200 and the JSONP wrapper.
	w := httptest.NewRecorder()
	WriteWindshaftError(w, httptest.NewRequest("GET", "/api/v1/map?callback=cb", nil), &WindshaftError{Status: 403, Message: "x"})
	if want := `/**/ typeof cb === 'function' && cb({"errors":["x"],"errors_with_context":[{"type":"unknown","message":"x"}]});`; w.Code != 200 || w.Body.String() != want {
		t.Errorf("JSONP: %d %s", w.Code, w.Body)
	}
}

func TestRailsShapes(t *testing.T) {
	for got, want := range map[string]string{
		string(RailsErrors("bad <b> & \"q\"\u2028")): `{"errors":"bad \u003cb\u003e \u0026 \"q\"\u2028"}`,
		string(RailsCartoError("x")):                 `{"errors":"x","errors_cause":null}`,
		string(RailsErrorList("a", "b\n")):           `{"errors":["a","b\n"]}`,
		string(RailsErrorList()):                     `{"errors":[]}`,
		string(RailsErrorsKeyed("imports", "no")):    `{"errors":{"imports":"no"}}`,
		string(RailsError("x\x01\xff")):              `{"error":"x\u0001` + "\uFFFD" + `"}`,
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	w := httptest.NewRecorder()
	WriteRails(w, http.StatusUnauthorized, nil)
	if w.Code != 401 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "0" {
		t.Errorf("head: %d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestJSONPCallback(t *testing.T) {
	if got := JSONPCallback("cb.x[0]$_<script>"); got != "cb.x[0]$_script" {
		t.Errorf("got %q", got)
	}
}
