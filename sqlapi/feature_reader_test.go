package sqlapi

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

func readAll(t *testing.T, body string) ([]*geojson.Feature, error) {
	t.Helper()
	fr := NewFeatureReader(strings.NewReader(body))
	var fs []*geojson.Feature
	for {
		f, err := fr.Next()
		if err != nil {
			// The error sticks.
			if _, again := fr.Next(); again != err {
				t.Fatalf("second Next returned %v after %v", again, err)
			}
			if err == io.EOF {
				return fs, nil
			}
			return fs, err
		}
		fs = append(fs, f)
	}
}

func TestFeatureReaderSample(t *testing.T) {
	fs, err := readAll(t, featureSample)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("%d features", len(fs))
	}
	if !orb.Equal(fs[0].Geometry, orb.Point{-3.7, 40.4}) || fs[0].Properties["t"] != `hello "world"` ||
		fs[0].Properties["b"] != true || fs[0].Properties["d"] != "2020-02-29T00:00:00Z" {
		t.Fatalf("feature 0: %+v", fs[0])
	}
	if fs[1].Geometry != nil || fs[1].Properties["cartodb_id"] != 2.0 {
		t.Fatalf("feature 1: %+v", fs[1])
	}
}

// TestFeatureReaderOtherGeometryColumn: geometry columns other than the_geom stay hex EWKB in
// properties (sqlapi-samples/99c-geojson-types.txt, trimmed to the geometry columns).
func TestFeatureReaderOtherGeometryColumn(t *testing.T) {
	body := `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[-3.7,40.4]},"properties":{"cartodb_id":1,"poly":"0103000020E6100000010000000500000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F0000000000000000000000000000F03F00000000000000000000000000000000"}}]}`
	fs, err := readAll(t, body)
	if err != nil || len(fs) != 1 {
		t.Fatal(len(fs), err)
	}
	var poly geo.Polygon
	if err := poly.Scan(fs[0].Properties["poly"]); err != nil {
		t.Fatal(err)
	}
	if poly.SRID != 4326 || len(poly.Geom[0]) != 5 {
		t.Fatalf("got %v", poly)
	}
}

func TestFeatureReaderEmpty(t *testing.T) {
	fs, err := readAll(t, `{"type": "FeatureCollection", "features": []}`)
	if err != nil || len(fs) != 0 {
		t.Fatal(fs, err)
	}
}

// TestFeatureReaderMidstreamError: when the query fails after rows began streaming, CARTO keeps
// status 200 and appends ,"error":[msg] before the final brace (sqlapi.md §2.6; the json format's
// equivalent is sqlapi-samples/28-midstream-error.txt).
func TestFeatureReaderMidstreamError(t *testing.T) {
	body := `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"r":0}},{"type":"Feature","geometry":{"type":"Point","coordinates":[3,4]},"properties":{"r":1}}],"error":["division by zero"]}`
	fs, err := readAll(t, body)
	if len(fs) != 2 {
		t.Fatalf("%d features before the error", len(fs))
	}
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 200 || len(ce.Messages) != 1 || ce.Messages[0] != "division by zero" {
		t.Fatalf("err = %#v", err)
	}
	fc, err := ReadFeatureCollection(strings.NewReader(body))
	if !errors.As(err, &ce) || len(fc.Features) != 2 {
		t.Fatalf("ReadFeatureCollection: %d features, %v", len(fc.Features), err)
	}
}

// TestFeatureReaderErrorBody: a 4xx error body read by mistake is an error too, with CARTO's fields.
func TestFeatureReaderErrorBody(t *testing.T) {
	_, err := readAll(t, `{"error":["function foo() does not exist"],"context":"sql","hint":"No function matches the given name and argument types. You might need to add explicit type casts."}`)
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.Messages[0] != "function foo() does not exist" || ce.Hint == "" || ce.Context != "sql" {
		t.Fatalf("err = %#v", err)
	}
	if ce.StatusCode != 0 {
		t.Fatalf("status %d for an error body without features", ce.StatusCode)
	}
}

func TestFeatureReaderBadInput(t *testing.T) {
	for name, body := range map[string]string{
		"empty":           ``,
		"array":           `[1,2]`,
		"cut in features": featureSample[:120],
		"cut after array": `{"type": "FeatureCollection", "features": []`,
		"wrong type":      `{"type": "Feature", "features": []}`,
		"features object": `{"type": "FeatureCollection", "features": {}}`,
		"bad feature":     `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Blob"}}]}`,
		"not geojson":     `{"rows":[],"fields":{}}`,
		"garbage":         `{"type": "FeatureCollection", "features": [}`,
	} {
		_, err := readAll(t, body)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := readAll(t, featureSample[:120])
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

// errAfter yields its text and then fails, like a connection that breaks mid-body.
type errAfter struct {
	s   string
	err error
}

func (r *errAfter) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, r.err
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// TestFeatureReaderStreams checks that a feature is returned as soon as it has arrived, before
// the rest of the body does.
func TestFeatureReaderStreams(t *testing.T) {
	broken := errors.New("connection reset")
	first := `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}`
	fr := NewFeatureReader(&errAfter{s: first, err: broken})
	f, err := fr.Next()
	if err != nil || !orb.Equal(f.Geometry, orb.Point{1, 2}) {
		t.Fatalf("first feature: %v, %v", f, err)
	}
	if _, err := fr.Next(); !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

func TestFeatureReaderAllStopsEarly(t *testing.T) {
	fr := NewFeatureReader(strings.NewReader(featureSample))
	n := 0
	for range fr.All() {
		n++
		break
	}
	f, err := fr.Next()
	if n != 1 || err != nil || f.Properties["cartodb_id"] != 2.0 {
		t.Fatalf("after break: %v, %v", f, err)
	}
}

// TestFeatureReaderEveryPrefix cuts a CARTO body at every byte: no prefix may read as a
// complete collection.
func TestFeatureReaderEveryPrefix(t *testing.T) {
	body := featureSample
	for n := range len(body) {
		fr := NewFeatureReader(strings.NewReader(body[:n]))
		for i := 0; ; i++ {
			_, err := fr.Next()
			if err == io.EOF {
				// Only the whitespace after the final brace may be missing.
				if strings.TrimSpace(body[n:]) != "" {
					t.Fatalf("prefix of %d bytes read as complete", n)
				}
				break
			}
			if err != nil {
				break
			}
			if i > 10 {
				t.Fatal("no end")
			}
		}
	}
}

// FuzzFeatureReader: any input ends in a bounded number of steps, without panicking.
func FuzzFeatureReader(f *testing.F) {
	f.Add(featureSample)
	f.Add(`{"type": "FeatureCollection", "features": [],"error":["x"],"context":"c"}`)
	f.Add(`{"features": [{"type":"Feature","geometry":null,"properties":null}], "bbox": [1,2,3,4]}`)
	f.Fuzz(func(t *testing.T, body string) {
		fr := NewFeatureReader(strings.NewReader(body))
		for i := 0; ; i++ {
			f, err := fr.Next()
			if err != nil {
				if f != nil {
					t.Fatal("a feature with an error")
				}
				return
			}
			if i > len(body) {
				t.Fatal("more features than bytes")
			}
		}
	})
}

func TestFeatureReaderDuplicateNames(t *testing.T) {
	fs, err := readAll(t, `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":null,"properties":{"a":1,"a":2}}]}`)
	if err != nil || len(fs) != 1 || fs[0].Properties["a"] != 2.0 {
		t.Fatalf("%v, %v", fs, err)
	}
}

const (
	// featureSample is the body of sqlapi-samples/03-geojson.txt, captured from CARTO's SQL API
	// 6.0.0 (format=geojson; the second row has a NULL the_geom).
	featureSample = `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[-3.7,40.4]},"properties":{"cartodb_id":1,"t":"hello \"world\"","b":true,"d":"2020-02-29T00:00:00Z"}},{"type":"Feature","geometry":null,"properties":{"cartodb_id":2,"t":null,"b":null,"d":null}}]}`
)
