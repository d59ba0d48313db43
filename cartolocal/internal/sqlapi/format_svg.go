package sqlapi

// format=svg, as CARTO's lib/models/formats/pg/svg.js builds it: the query fits the_geom into
// 1024x768 in SQL (ST_TransScale, then ST_AsSVG with dp decimals), rows come by dimension (points,
// then lines, then polygons), and each becomes a <circle>, or a <path>.

import (
	"bytes"
	"strconv"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	svgWidth  = 1024.0
	svgHeight = 768.0
	svgRadius = 5 // of a point's circle, in pixels
	svgStroke = 1 // stroke width, in pixels
)

// svgQuery is CARTO's SvgFormat.getQuery for the_geom.
func svgQuery(sql, dp string) string {
	const gn = geomColumn
	ratio := jsjson.AppendFloat(nil, svgWidth/svgHeight)
	return "WITH source AS ( " + sql + "), extent AS ( " +
		" SELECT ST_Extent(" + gn + ") AS e FROM source " +
		"), extent_info AS ( SELECT e, " +
		"st_xmin(e) as ex0, st_ymax(e) as ey0, " +
		"st_xmax(e)-st_xmin(e) as ew, " +
		"st_ymax(e)-st_ymin(e) as eh FROM extent )" +
		", trans AS ( SELECT CASE WHEN " +
		"eh = 0 THEN 1024" +
		"/ COALESCE(NULLIF(ew,0),1024) WHEN " +
		string(ratio) + " <= (ew / eh) THEN (" +
		"1024/ew ) ELSE (" +
		"768/eh ) END as s " +
		", ex0 as x0, ey0 as y0 FROM extent_info ) " +
		"SELECT st_TransScale(e, -x0, -y0, s, s)::box2d as " +
		gn + "_box, ST_Dimension(" + gn + ") as " + gn +
		"_dimension, ST_AsSVG(ST_TransScale(" + gn + ", " +
		"-x0, -y0, s, s), 0, " + dp + ") as " + gn +
		" FROM trans, extent_info, source" +
		" ORDER BY the_geom_dimension ASC"
}

// svgFormat writes the document. Its header carries the viewBox, which comes with the first row
// that has a geometry, so the header is written then (or at the end when no row has one).
type svgFormat struct {
	box, dim, geom int // column indexes, -1 when absent
	headed         bool
}

func (f *svgFormat) describe(fds []pgconn.FieldDescription) {
	f.box, f.dim, f.geom = -1, -1, -1
	for i, fd := range fds {
		switch fd.Name {
		case geomColumn + "_box":
			f.box = i
		case geomColumn + "_dimension":
			f.dim = i
		case geomColumn:
			f.geom = i
		}
	}
}

func (f *svgFormat) open(b []byte) []byte { return b }

// header appends the XML prolog and the root tag; box is the_geom_box's text, "BOX(x y,X Y)".
func (f *svgFormat) header(b []byte, box []byte) []byte {
	f.headed = true
	b = append(b, `<?xml version="1.0" standalone="no"?>`+"\n"+
		`<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">`+"\n"+`<svg `...)
	if xmin, ymin, xmax, ymax, ok := parseBox(box); ok {
		const grow = svgRadius + svgStroke
		xmin, ymin, xmax, ymax = xmin-grow, ymin-grow, xmax+grow, ymax+grow
		b = append(b, `viewBox="`...)
		b = jsjson.AppendFloat(b, xmin)
		b = append(b, ' ')
		b = jsjson.AppendFloat(b, -ymax)
		b = append(b, ' ')
		b = jsjson.AppendFloat(b, xmax-xmin)
		b = append(b, ' ')
		b = jsjson.AppendFloat(b, ymax-ymin)
		b = append(b, `" `...)
	}
	return append(b, `style="fill-opacity:0.5; stroke:black; stroke-width:1; fill:none" xmlns="http://www.w3.org/2000/svg" version="1.1">`+"\n"...)
}

func (f *svgFormat) row(b []byte, vals [][]byte) []byte {
	if f.geom < 0 || vals[f.geom] == nil || len(vals[f.geom]) == 0 {
		return b
	}
	if !f.headed {
		var box []byte
		if f.box >= 0 {
			box = vals[f.box]
		}
		b = f.header(b, box)
	}
	g := vals[f.geom]
	var dim []byte
	if f.dim >= 0 {
		dim = vals[f.dim]
	}
	switch string(dim) {
	case "0":
		b = append(b, `<circle r="5" `...)
		b = append(b, g...)
		b = append(b, " />\n"...)
	case "1", "2":
		b = append(b, `<path d="`...)
		b = append(b, g...)
		b = append(b, "\" />\n"...)
	}
	return b
}

func (f *svgFormat) close(b []byte, _ *sqlRun, late *httpapi.Error) ([]byte, bool) {
	if late != nil {
		// SVG has no place for an error: the answer is cut, as CARTO's stream ends on one.
		return b, false
	}
	if !f.headed {
		b = f.header(b, nil)
	}
	return append(b, "</svg>\n"...), true
}

// parseBox reads PostGIS's box2d text, BOX(xmin ymin,xmax ymax), as CARTO's regular expression
// and parseFloat do.
func parseBox(box []byte) (xmin, ymin, xmax, ymax float64, ok bool) {
	rest, found := bytes.CutPrefix(box, []byte("BOX("))
	if !found {
		return 0, 0, 0, 0, false
	}
	rest, _ = bytes.CutSuffix(rest, []byte(")"))
	lo, hi, found := bytes.Cut(rest, []byte(","))
	if !found {
		return 0, 0, 0, 0, false
	}
	x0, y0, ok0 := bytes.Cut(lo, []byte(" "))
	x1, y1, ok1 := bytes.Cut(hi, []byte(" "))
	if !ok0 || !ok1 {
		return 0, 0, 0, 0, false
	}
	var err [4]error
	xmin, err[0] = strconv.ParseFloat(string(x0), 64)
	ymin, err[1] = strconv.ParseFloat(string(y0), 64)
	xmax, err[2] = strconv.ParseFloat(string(x1), 64)
	ymax, err[3] = strconv.ParseFloat(string(y1), 64)
	return xmin, ymin, xmax, ymax, err == [4]error{}
}
