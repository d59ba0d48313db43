package sqlapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/geo"
	"github.com/gocarto/carto/sqlapi"
)

// sqlAPI posts q to the account's SQL API and returns the body to read.
func sqlAPI(t *testing.T, c *carto.Client, q, format string) io.ReadCloser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	form := url.Values{"q": {q}}
	if format != "" {
		form.Set("format", format)
	}
	resp, err := c.Do(ctx, &carto.Request{
		Method: "POST", Path: "api/v2/sql",
		Body: []byte(form.Encode()), ContentType: "application/x-www-form-urlencoded",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp.Body
}

// TestSQLAPIGeoJSON reads a format=geojson answer of cartolocal (CARTO's SQL API over PostGIS)
// feature by feature, and the hex EWKB of a second geometry column from the properties.
func TestSQLAPIGeoJSON(t *testing.T) {
	acct := cartotest.New(t)
	body := sqlAPI(t, acct.Client(t), `SELECT i AS id,
		CASE WHEN i % 2 = 0 THEN ST_SetSRID(ST_MakePoint(i, -i), 4326) END AS the_geom,
		ST_Buffer(ST_SetSRID(ST_MakePoint(i, i), 3857), 1, 2) AS area
		FROM generate_series(1, 20) i ORDER BY i`, "geojson")
	fr := sqlapi.NewFeatureReader(body)
	n := 0
	for f, err := range fr.All() {
		if err != nil {
			t.Fatal(err)
		}
		n++
		id := f.Properties["id"].(float64)
		if int(id)%2 == 0 {
			if !orb.Equal(f.Geometry, orb.Point{id, -id}) {
				t.Fatalf("feature %v: geometry %v", id, f.Geometry)
			}
		} else if f.Geometry != nil {
			t.Fatalf("feature %v: NULL the_geom came as %v", id, f.Geometry)
		}
		var area geo.Polygon
		if err := area.Scan(f.Properties["area"]); err != nil {
			t.Fatalf("feature %v: area: %v", id, err)
		}
		if area.SRID != 3857 || len(area.Geom[0]) != 9 {
			t.Fatalf("feature %v: area %v", id, area)
		}
	}
	if n != 20 {
		t.Fatalf("%d features, want 20", n)
	}
}

// TestSQLAPIGeoJSONMidstreamError: the query fails at its third row, after CARTO has sent 200 and
// the first features; the reader must end with the server's error, not io.EOF.
func TestSQLAPIGeoJSONMidstreamError(t *testing.T) {
	acct := cartotest.New(t)
	body := sqlAPI(t, acct.Client(t), `SELECT 1/(3-i) AS r, ST_SetSRID(ST_MakePoint(i, i), 4326) AS the_geom
		FROM generate_series(1, 5) i`, "geojson")
	fc, err := sqlapi.ReadFeatureCollection(body)
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 200 || len(ce.Messages) == 0 || ce.Messages[0] != "division by zero" {
		t.Fatalf("err = %#v, want the division by zero", err)
	}
	if len(fc.Features) != 2 {
		t.Fatalf("%d features before the error, want 2", len(fc.Features))
	}
}

// TestSQLAPIJSONRows scans the hex EWKB that format=json rows carry for geometry and geography
// columns.
func TestSQLAPIJSONRows(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE places (id int, the_geom geometry(Point, 4326), route geography(LineStringZ, 4326));
		INSERT INTO places VALUES (1, 'SRID=4326;POINT(-3.7 40.4)', 'SRID=4326;LINESTRING Z (1 2 3, 4 5 6)')`)
	body := sqlAPI(t, acct.Client(t), `SELECT the_geom, route FROM places`, "")
	raw, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	// The rows hold hex EWKB strings; decode them with Scan as the driver does.
	var rows struct {
		Rows []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if len(rows.Rows) != 1 {
		t.Fatalf("rows: %s", raw)
	}
	var p geo.Point
	if err := p.Scan(rows.Rows[0]["the_geom"]); err != nil || p.Geom != (orb.Point{-3.7, 40.4}) || p.SRID != 4326 {
		t.Fatalf("the_geom: %v, %v", p, err)
	}
	var route geo.Geometry
	var de *geo.DimensionError
	if err := route.Scan(rows.Rows[0]["route"]); !errors.As(err, &de) || de.Type != "LineString" || de.Dims != "Z" {
		t.Fatalf("route: err = %v", err)
	}
	if err := geo.Force2D(&route).Scan(rows.Rows[0]["route"]); err != nil || !orb.Equal(route.Geom, orb.LineString{{1, 2}, {4, 5}}) {
		t.Fatalf("route with Force2D: %v, %v", route, err)
	}
}
