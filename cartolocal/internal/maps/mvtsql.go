package maps

import (
	"math"
	"strconv"
	"strings"
)

// Web mercator constants of Windshaft's pg-mvt renderer (and node-cartodb-query-tables).
const (
	earthCircumference = 40075016.68557849
	originShift        = 20037508.342789245
	defaultExtent      = 4096
	defaultSimplify    = 256
	// maxZoom bounds z: beyond it tiles are smaller than float64 can place.
	maxZoom = 32
)

// tileBox is a tile's web-mercator envelope and its resolution (meters per pixel of a 256 px
// tile), as pg-mvt computes them.
type tileBox struct {
	Z, X, Y                int
	XMin, YMin, XMax, YMax float64
	Res                    float64
}

func newTileBox(z, x, y int) tileBox {
	size := earthCircumference / math.Exp2(float64(z))
	b := tileBox{Z: z, X: x, Y: y, Res: size / 256}
	b.XMin = -originShift + float64(x)*size
	b.XMax = b.XMin + size
	b.YMax = originShift - float64(y)*size
	b.YMin = b.YMax - size
	return b
}

// envelope is the tile's ST_MakeEnvelope.
func (b tileBox) envelope() string {
	return "ST_MakeEnvelope(" + num(b.XMin) + ", " + num(b.YMin) + ", " + num(b.XMax) + ", " + num(b.YMax) + ", 3857)"
}

// num writes a float as JavaScript would, so the SQL reads as Windshaft's.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// substituteTokens replaces Mapnik's tokens in a layer's SQL, as pg-mvt does: !bbox! becomes the
// buffered tile envelope, !pixel_width! and !pixel_height! the resolution, !scale_denominator!
// the resolution over 0.00028 m per pixel.
func substituteTokens(sql string, b tileBox, bufferPx int) string {
	if !strings.Contains(sql, "!") {
		return sql
	}
	bb := "ST_Expand(" + b.envelope() + ", " + num(b.Res*float64(bufferPx)) + ")"
	r := strings.NewReplacer("!bbox!", bb, "!pixel_width!", num(b.Res), "!pixel_height!", num(b.Res),
		"!scale_denominator!", num(b.Res/0.00028))
	return r.Replace(sql)
}

// layerSQL returns a layer's SQL ready to wrap: a trailing ';' removed, sql_wrap applied.
func layerSQL(l *layer) string {
	sql := strings.TrimSpace(l.Options.SQL)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	if w := l.Options.SQLWrap; w != "" {
		sql = strings.ReplaceAll(w, "<%= sql %>", sql)
	}
	return sql
}

// columnsSQL asks for a layer's columns: pg-mvt's schema query, with the tokens of tile 0/0/0.
func columnsSQL(l *layer, bufferPx int) string {
	return "SELECT * FROM (" + substituteTokens(layerSQL(l), newTileBox(0, 0, 0), bufferPx) + ") __windshaft_mvt_schema LIMIT 0"
}

// column is a layer's result column.
type column struct {
	Name string
	OID  uint32
}

// PostgreSQL type OIDs pg-mvt turns into MVT properties; every other type is dropped.
var propertyOIDs = map[uint32]bool{
	16: true, 20: true, 21: true, 23: true, 700: true, 701: true, 1700: true, // bool, ints, floats, numeric
	1042: true, 1043: true, 25: true, 705: true, // bpchar, varchar, text, unknown
}

// dateOIDs are date, timestamp and timestamptz: properties (as epoch numbers) only with
// dates_as_numbers.
var dateOIDs = map[uint32]bool{1082: true, 1114: true, 1184: true}

// mvtParams are the per-map MVT parameters: extent, the grid geometries are simplified to, and
// the buffer in pixels of a 256 px tile.
type mvtParams struct {
	Extent, SimplifyExtent, BufferPx int
}

// paramsFor derives pg-mvt's parameters from a map's layers.
func paramsFor(c *mapConfig) mvtParams {
	p := mvtParams{Extent: defaultExtent, BufferPx: c.BufferMVT}
	var vectorExtent, simplify int
	for _, l := range c.Layers {
		if vectorExtent == 0 && l.Options.VectorExtent > 0 {
			vectorExtent = l.Options.VectorExtent
		}
		if simplify == 0 && l.Options.VectorSimplifyExtent > 0 {
			simplify = l.Options.VectorSimplifyExtent
		}
	}
	if vectorExtent > 0 {
		p.Extent = vectorExtent
	}
	switch {
	case simplify > 0:
		p.SimplifyExtent = simplify
	case vectorExtent > 0:
		p.SimplifyExtent = vectorExtent
	default:
		p.SimplifyExtent = defaultSimplify
	}
	return p
}

// tileLayerSQL is pg-mvt's query for one layer of one tile: the layer's rows whose geometry
// meets the buffered tile, simplified, clipped and encoded by ST_AsMVT under the layer's id.
func tileLayerSQL(l *layer, cols []column, b tileBox, p mvtParams) string {
	geom := quoteIdent(l.geomColumn())
	env := b.envelope()
	g := geom
	if p.Extent != p.SimplifyExtent {
		tol := num((earthCircumference / math.Exp2(float64(b.Z))) / float64(p.SimplifyExtent*2))
		g = "ST_Simplify(ST_RemoveRepeatedPoints(" + geom + ", " + tol + "), " + tol + ", true)"
	}
	subpixel := int(math.Round(float64(p.BufferPx) * float64(p.Extent) / 256))
	var sb strings.Builder
	sb.WriteString("SELECT ST_AsMVT(geometries, ")
	sb.WriteString(quoteLiteral(l.ID))
	sb.WriteString(", ")
	sb.WriteString(strconv.Itoa(p.Extent))
	sb.WriteString(")\n  FROM (\n    SELECT ST_AsMVTGeom(\n             ")
	sb.WriteString(g)
	sb.WriteString(",\n             ")
	sb.WriteString(env)
	sb.WriteString(",\n             ")
	sb.WriteString(strconv.Itoa(p.Extent))
	sb.WriteString(", ")
	sb.WriteString(strconv.Itoa(subpixel))
	sb.WriteString(", true) as the_geom_webmercator")
	for _, c := range cols {
		switch {
		case propertyOIDs[c.OID]:
			sb.WriteString(", ")
			sb.WriteString(quoteIdent(c.Name))
		case dateOIDs[c.OID] && l.Options.DatesAsNumbers:
			sb.WriteString(", date_part('epoch', ")
			sb.WriteString(quoteIdent(c.Name))
			sb.WriteString(") AS ")
			sb.WriteString(quoteIdent(c.Name))
		}
	}
	sb.WriteString("\n      FROM (")
	sb.WriteString(substituteTokens(layerSQL(l), b, p.BufferPx))
	sb.WriteString(") AS cdbq\n     WHERE ")
	sb.WriteString(geom)
	sb.WriteString(" && ST_Expand(")
	sb.WriteString(env)
	sb.WriteString(", ")
	sb.WriteString(num(b.Res * float64(p.BufferPx)))
	sb.WriteString(")\n  ) AS geometries")
	return sb.String()
}

// tileSQL joins the layers' queries into one MVT: SELECT ((q0) || (q1)) AS st_asmvt.
func tileSQL(parts []string) string {
	return "SELECT ((" + strings.Join(parts, ") || (") + ")) AS st_asmvt"
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a PostgreSQL string literal; with a backslash it is an E-prefixed literal whose
// backslashes are doubled, so it reads the same whatever standard_conforming_strings says.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		q = "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}
