package sqlapi_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/sqlapi"
)

// TestLateErrorText: an error the server raises after its answer began (in the trailer of a
// 200, after rows) reads as the statement's error, with no "200:" status; a permission error of
// a request without an API key says that no key was used, and is IsPermissionDenied. The
// permission check happens at the third row (query_to_xml runs its query then), so the answer has
// begun. Each of sqlapi's readers is checked: Query (json, geojson), CopyTo and FeatureReader.
func TestLateErrorText(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE secret (a int)`)
	const sel = `SELECT g AS r, ST_MakePoint(g, g) AS the_geom,
		CASE WHEN g > 2 THEN query_to_xml('SELECT * FROM secret', true, false, '')::text END AS x
		FROM generate_series(1, 5) g`
	const denied = "permission denied for table secret"
	noKey := "no API key was used"
	for _, c := range []struct {
		name   string
		client *carto.Client
	}{{"without a key", acct.PublicClient(t)}, {"with a key", acct.Client(t, carto.WithAPIKey(acct.PublicKey))}} {
		api := sqlapi.New(c.client)
		keyless := !c.client.HasAPIKey()
		check := func(what string, err error, wantPath string) {
			t.Helper()
			var ce *carto.Error
			if !errors.As(err, &ce) || ce.StatusCode != 200 || ce.Message() != denied {
				t.Fatalf("%s, %s: err = %v", c.name, what, err)
			}
			text := err.Error()
			if strings.Contains(text, "200") || !strings.Contains(text, "POST "+wantPath+": "+denied) {
				t.Errorf("%s, %s: %q", c.name, what, text)
			}
			if strings.Contains(text, noKey) != keyless || ce.NoAPIKey != keyless {
				t.Errorf("%s, %s: NoAPIKey %v: %q", c.name, what, ce.NoAPIKey, text)
			}
			if !carto.IsPermissionDenied(err) {
				t.Errorf("%s, %s: not IsPermissionDenied: %v", c.name, what, err)
			}
		}
		sqlPath := c.client.URL("api/v2/sql").Path
		for _, f := range []sqlapi.Format{sqlapi.JSON, sqlapi.GeoJSON} {
			var buf bytes.Buffer
			_, err := api.Query(testCtx(t), sel, &buf, sqlapi.WithFormat(f))
			check("Query "+string(f), err, sqlPath)
			if !bytes.Contains(buf.Bytes(), []byte(`"r":2`)) {
				t.Fatalf("%s, %s: the error came before the rows: %s", c.name, f, buf.Bytes())
			}
		}
		var out bytes.Buffer
		_, err := api.CopyTo(testCtx(t), "COPY ("+sel+") TO STDOUT", &out)
		check("CopyTo", err, c.client.URL("api/v2/sql/copyto").Path)
		if !strings.HasPrefix(out.String(), "1\t") {
			t.Fatalf("%s, CopyTo: the error came before the rows: %q", c.name, out.String())
		}
		resp, err := api.Open(testCtx(t), sel, sqlapi.WithFormat(sqlapi.GeoJSON))
		if err != nil {
			t.Fatal(err)
		}
		fr := sqlapi.NewFeatureReader(resp)
		n := 0
		for {
			_, err = fr.Next()
			if err != nil {
				break
			}
			n++
		}
		resp.Close()
		if n != 2 || err == io.EOF {
			t.Fatalf("%s, FeatureReader: %d features, then %v", c.name, n, err)
		}
		check("FeatureReader", err, sqlPath)
	}
}
