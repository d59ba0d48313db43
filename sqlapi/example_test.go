package sqlapi_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/gocarto/carto/sqlapi"
)

// A format=geojson response is read one feature at a time; a query that fails mid-stream ends
// with CARTO's error instead of io.EOF.
func ExampleNewFeatureReader() {
	body := strings.NewReader(`{"type": "FeatureCollection", "features": [` +
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"r":1}},` +
		`{"type":"Feature","geometry":null,"properties":{"r":2}}],"error":["division by zero"]}`)
	fr := sqlapi.NewFeatureReader(body)
	for {
		f, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(f.Geometry, f.Properties["r"])
	}
	// Output:
	// [1 2] 1
	// <nil> 2
	// error: carto: division by zero
}
