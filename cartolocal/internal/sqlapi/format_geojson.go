package sqlapi

import (
	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/gocarto/carto/cartolocal/internal/pgvalue"
	"github.com/jackc/pgx/v5/pgconn"
)

// geomColumn is the geometry column CARTO's geojson format uses ("gn"), and the one it drops too.
const (
	geomColumn         = "the_geom"
	webMercatorColumn  = "the_geom_webmercator"
	geojsonCollection  = `{"type": "FeatureCollection", "features": [`
	geojsonFeatureHead = `{"type":"Feature","geometry":`
)

// geojsonQuery wraps sql as CARTO's geojson format does; dp is pasted as given, as CARTO pastes it.
func geojsonQuery(sql, dp string) string {
	return "SELECT *, ST_AsGeoJSON(" + geomColumn + "," + dp + ") as " + geomColumn + " FROM (" + sql + ") as foo"
}

// geojsonFormat is lib/models/formats/pg/geojson.js: a FeatureCollection streamed feature by
// feature, the geometry the ST_AsGeoJSON text of the_geom, the properties every other column but
// the_geom and the_geom_webmercator, serialized as JSON.stringify does without CARTO's NaN replacer
// (so NaN and Infinity are null there).
type geojsonFormat struct {
	enc      pgvalue.Encoder
	skip     func(string) bool
	callback string
	props    []column
	geom     int // index of the GeoJSON text, -1 when there is none
	n        int64
}

func (f *geojsonFormat) describe(fds []pgconn.FieldDescription) {
	f.props = planColumns(fds, func(name string) bool {
		return name == geomColumn || name == webMercatorColumn || (f.skip != nil && f.skip(name))
	})
	f.geom = -1
	if f.skip == nil || !f.skip(geomColumn) {
		for i, fd := range fds {
			if fd.Name == geomColumn {
				f.geom = i
			}
		}
	}
}

func (f *geojsonFormat) open(b []byte) []byte {
	if f.callback != "" {
		b = append(b, f.callback...)
		b = append(b, '(')
	}
	return append(b, geojsonCollection...)
}

func (f *geojsonFormat) row(b []byte, vals [][]byte) []byte {
	if f.n > 0 {
		b = append(b, ',')
	}
	f.n++
	b = append(b, geojsonFeatureHead...)
	if f.geom >= 0 && f.geom < len(vals) && vals[f.geom] != nil {
		b = append(b, vals[f.geom]...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"properties":`...)
	b = appendRowObject(b, &f.enc, f.props, vals)
	return append(b, '}')
}

func (f *geojsonFormat) close(b []byte, run *sqlRun, late *httpapi.Error) ([]byte, bool) {
	b = append(b, ']')
	if late != nil {
		b = append(b, `,"error":[`...)
		b = jsjson.AppendString(b, late.Message)
		b = append(b, ']')
	}
	b = append(b, '}')
	if f.callback != "" {
		b = append(b, ')')
	}
	return b, true
}
