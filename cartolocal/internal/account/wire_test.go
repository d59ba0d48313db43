package account_test

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// call sends a raw request (key as the api_key parameter when not empty, as carto-python sends
// it) and returns the status and body.
func call(t *testing.T, acct *cartotest.Account, method, path, key, body string) (int, string) {
	t.Helper()
	u := strings.TrimSuffix(acct.URL, "/") + path
	if key != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "api_key=" + key
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The Rails shapes of the account APIs, byte for byte where CARTO's are known
// (protocol/maps-imports.md §0.3, §4).
func TestRailsWireShapes(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE pts (name text); SELECT CDB_CartodbfyTable(current_schema(), 'pts'::regclass)")
	mk := acct.MasterKey
	for _, c := range []struct {
		name, method, path, key, body string
		status                        int
		want                          string // exact body, or a regexp when it starts with ^
	}{
		{"unknown viz", "GET", "/api/v1/viz/nope", mk, "", 404, `{"errors":"Visualization does not exist","errors_cause":null}`},
		{"private viz without key", "GET", "/api/v1/viz/pts", "", "", 403, `{"errors":"Visualization not viewable","errors_cause":null}`},
		{"bad key", "GET", "/api/v1/viz/pts", "nope", "", 401, ``},
		{"viz, trailing slash", "GET", "/api/v1/viz/pts/", mk, "", 200,
			`^\{"id":"[0-9a-f-]{36}","name":"pts","display_name":null,"map_id":"[0-9a-f-]{36}","active_layer_id":null,"type":"table","tags":\[\],"description":"","privacy":"PRIVATE","created_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",`},
		{"update without id", "PUT", "/api/v1/viz/pts", mk, `{"privacy":"PUBLIC"}`, 403, ``},
		{"update with a public key", "PUT", "/api/v1/viz/pts", acct.PublicKey, `{"privacy":"PUBLIC"}`, 401, ``},
		{"bad order", "GET", "/api/v1/viz?order=bogus", mk, "", 400,
			`{"error":"Wrong 'order' parameter value. Valid values are one of [:name, :updated_at, :size, :mapviews, :favorited, :estimated_row_count, :privacy, :dependent_visualizations]"}`},
		{"index", "GET", "/api/v1/viz/?type=table", mk, "", 200,
			`^\{"visualizations":\[\{"id":.*\],"total_entries":1,"total_user_entries":1,"total_likes":0,"total_shared":0,"total_locked":0\}$`},
		{"export a dataset", "POST", "/api/v3/visualization_exports?visualization_id=__ID__", mk, "", 422,
			`{"errors":"Errors: [\"Visualization Only derived visualizations can be exported\"]","errors_cause":null}`},
		{"export unknown", "POST", "/api/v3/visualization_exports?visualization_id=x", mk, "", 404, `{"errors":"Visualization not found: x","errors_cause":null}`},
		{"key unknown", "GET", "/api/v3/api_keys/nope", mk, "", 404, `{"errors":"API key not found: nope","errors_cause":null}`},
		{"key without key", "GET", "/api/v3/api_keys", "", "", 401, ``},
		{"master key", "GET", "/api/v3/api_keys/Master", mk, "", 200,
			`^\{"name":"Master","user":\{"username":"` + acct.User + `"\},"type":"master","token":"` + mk + `","grants":\[\{"type":"apis","apis":\["sql","maps"\]\},\{"type":"database","tables":\[\],"schemas":\[\]\},\{"type":"dataservices","services":\["geocoding","routing","isolines","observatory"\]\}\],"created_at":"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC","updated_at":"[^"]+"\}$`},
		{"delete master", "DELETE", "/api/v3/api_keys/Master", mk, "", 403, `{"errors":"You don't have permission to access that resource","errors_cause":null}`},
		{"create invalid", "POST", "/api/v3/api_keys/", mk, `{"name":"k","grants":[]}`, 422,
			`{"errors":"Validation failed: Grants only one apis section is allowed","errors_cause":null}`},
		{"html in messages", "GET", "/api/v3/api_keys/%3Cb%3E", mk, "", 404, `{"errors":"API key not found: \u003cb\u003e","errors_cause":null}`},
		{"tables unknown", "GET", "/api/v1/tables/nope", mk, "", 404, ``},
		{"user needs the master key", "GET", "/api/v1/users/x", acct.PublicKey, "", 401, ``},
	} {
		path := c.path
		if strings.Contains(path, "__ID__") {
			_, body := call(t, acct, "GET", "/api/v1/viz/pts", mk, "")
			id := regexp.MustCompile(`^\{"id":"([^"]+)"`).FindStringSubmatch(body)[1]
			path = strings.Replace(path, "__ID__", id, 1)
		}
		status, body := call(t, acct, c.method, path, c.key, c.body)
		ok := status == c.status
		if strings.HasPrefix(c.want, "^") {
			ok = ok && regexp.MustCompile(c.want).MatchString(body)
		} else {
			ok = ok && body == c.want
		}
		if !ok {
			t.Errorf("%s: %d %s\nwant %d %s", c.name, status, body, c.status, c.want)
		}
	}
}
