package sqlapi

// format=topojson, as CARTO's lib/models/formats/pg/topojson.js builds it: the geojson query with
// "where the_geom is not null", every feature handed to the topojson package (0.0.8) with
// quantization 1e4 and force-clockwise, and the Topology written out at the end, so an error is an
// ordinary error answer. The objects are named by feature index ("0", "1", ...) and keep their
// properties. Where cartolocal differs, on purpose:
//   - the features wait in a temporary file rather than in memory, so memory stays flat;
//   - each line and ring is an arc of its own: shared borders are not found and merged into one
//     arc as topojson does (the geometry is the same, the file larger);
//   - a collection without lines or polygons has "arcs":[], where CARTO writes "arcs":[undefined],
//     which is not JSON (sample 40-format-topojson) and no reader opens.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/gocarto/carto/cartolocal/internal/pgvalue"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// topoQuantization is CARTO's quantization option.
const topoQuantization = 1e4

// topojsonQuery is CARTO's TopoJsonFormat.getQuery.
func topojsonQuery(sql, dp string) string {
	return geojsonQuery(sql, dp) + " where " + geomColumn + " is not null"
}

// serveTopoJSON runs the query, spools its features, then writes the Topology.
func (srv *Server) serveTopoJSON(ctx context.Context, w http.ResponseWriter, pgc *pgconn.PgConn, sql string, skip func(string) bool, callback string, fail func(*httpapi.Error)) {
	spool, err := os.CreateTemp("", "cartolocal-topojson-*")
	if err != nil {
		fail(&httpapi.Error{Status: http.StatusInternalServerError, Message: "Unexpected error: " + err.Error()})
		return
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	sw := bufio.NewWriterSize(spool, 64<<10)

	f := &geojsonFormat{enc: pgvalue.Encoder{NaNNull: true}, skip: skip}
	bound := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	var line []byte
	var n int
	mrr := pgc.Exec(ctx, sql)
	var qerr error
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		if fds := rr.FieldDescriptions(); fds != nil {
			f.describe(fds)
		}
		for rr.NextRow() && qerr == nil {
			vals := rr.Values()
			if f.geom < 0 || vals[f.geom] == nil {
				continue
			}
			g, err := geojson.UnmarshalGeometry(vals[f.geom])
			if err != nil {
				qerr = err
				break
			}
			if g.Coordinates != nil {
				bound = extend(bound, g.Coordinates.Bound())
			}
			line = append(line[:0], vals[f.geom]...)
			line = append(line, '\t')
			line = appendRowObject(line, &f.enc, f.props, vals)
			line = append(line, '\n')
			if _, err := sw.Write(line); err != nil {
				qerr = err
			}
			n++
		}
		if _, err := rr.Close(); err != nil && qerr == nil {
			qerr = err
		}
	}
	if err := mrr.Close(); err != nil && qerr == nil {
		qerr = err
	}
	if ctx.Err() != nil {
		return
	}
	if qerr == nil {
		qerr = sw.Flush()
	}
	if qerr != nil {
		if _, ok := qerr.(*pgconn.PgError); ok {
			fail(sqlError(qerr))
		} else {
			fail(&httpapi.Error{Status: http.StatusBadRequest, Message: qerr.Error()})
		}
		return
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		fail(&httpapi.Error{Status: http.StatusInternalServerError, Message: "Unexpected error: " + err.Error()})
		return
	}
	arcs, err := os.CreateTemp("", "cartolocal-topoarcs-*")
	if err != nil {
		fail(&httpapi.Error{Status: http.StatusInternalServerError, Message: "Unexpected error: " + err.Error()})
		return
	}
	defer os.Remove(arcs.Name())
	defer arcs.Close()

	t := newTopology(bound, bufio.NewWriterSize(arcs, 64<<10))
	out := bufio.NewWriterSize(w, flushBytes)
	w.WriteHeader(http.StatusOK)
	if callback != "" {
		out.WriteString(callback + "(")
	}
	out.WriteString(`{"type":"Topology","transform":{"scale":[`)
	out.Write(jsjson.AppendFloat(nil, 1/t.kx))
	out.WriteByte(',')
	out.Write(jsjson.AppendFloat(nil, 1/t.ky))
	out.WriteString(`],"translate":[`)
	out.Write(jsjson.AppendFloat(nil, t.x0))
	out.WriteByte(',')
	out.Write(jsjson.AppendFloat(nil, t.y0))
	out.WriteString(`]},"objects":{`)
	sr := bufio.NewReaderSize(spool, 64<<10)
	var obj []byte
	for i := 0; ; i++ {
		rec, err := sr.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A feature longer than the buffer: gather it.
			big := append([]byte(nil), rec...)
			for err == bufio.ErrBufferFull {
				rec, err = sr.ReadSlice('\n')
				big = append(big, rec...)
			}
			rec = big
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(http.ErrAbortHandler) // the status line went out: cut the answer
		}
		geomText, props, _ := bytes.Cut(rec[:len(rec)-1], []byte{'\t'})
		g, gerr := geojson.UnmarshalGeometry(geomText)
		if gerr != nil {
			panic(http.ErrAbortHandler)
		}
		if i > 0 {
			out.WriteByte(',')
		}
		obj = strconv.AppendQuote(obj[:0], strconv.Itoa(i))
		obj = append(obj, ':')
		obj = t.appendObject(obj, g, props)
		out.Write(obj)
	}
	out.WriteString(`},"arcs":[`)
	if err := t.arcs.Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
	if _, err := arcs.Seek(0, io.SeekStart); err != nil {
		panic(http.ErrAbortHandler)
	}
	_, _ = io.Copy(out, arcs)
	out.WriteString("]}")
	if callback != "" {
		out.WriteByte(')')
	}
	_ = out.Flush()
}

func extend(a, b orb.Bound) orb.Bound {
	return orb.Bound{
		Min: orb.Point{math.Min(a.Min[0], b.Min[0]), math.Min(a.Min[1], b.Min[1])},
		Max: orb.Point{math.Max(a.Max[0], b.Max[0]), math.Max(a.Max[1], b.Max[1])},
	}
}

// topology quantizes positions and numbers the arcs it writes.
type topology struct {
	x0, y0, kx, ky float64
	arcs           *bufio.Writer
	n              int // arcs written
	buf            []byte
}

func newTopology(b orb.Bound, arcs *bufio.Writer) *topology {
	t := &topology{kx: 1, ky: 1, arcs: arcs}
	if !math.IsInf(b.Min[0], 0) {
		t.x0, t.y0 = b.Min[0], b.Min[1]
		// As topojson 0.0.8: k = (Q-1)/(x1-x0), or 1 when the extent is flat.
		if dx := b.Max[0] - b.Min[0]; dx != 0 {
			t.kx = (topoQuantization - 1) / dx
		}
		if dy := b.Max[1] - b.Min[1]; dy != 0 {
			t.ky = (topoQuantization - 1) / dy
		}
	}
	return t
}

// q quantizes a position as Math.round does.
func (t *topology) q(p orb.Point) [2]int64 {
	return [2]int64{int64(math.Floor((p[0]-t.x0)*t.kx + 0.5)), int64(math.Floor((p[1]-t.y0)*t.ky + 0.5))}
}

func appendPos(b []byte, p [2]int64) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, p[0], 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, p[1], 10)
	return append(b, ']')
}

// arc writes one line as a delta-encoded arc and returns its index.
func (t *topology) arc(ls []orb.Point) int {
	b := t.buf[:0]
	if t.n > 0 {
		b = append(b, ',')
	}
	b = append(b, '[')
	var prev [2]int64
	first := true
	for _, p := range ls {
		qp := t.q(p)
		if !first && qp == prev {
			continue // coincident after quantization
		}
		if !first {
			b = append(b, ',')
			b = appendPos(b, [2]int64{qp[0] - prev[0], qp[1] - prev[1]})
		} else {
			b = appendPos(b, qp)
		}
		prev, first = qp, false
	}
	b = append(b, ']')
	t.buf = b
	_, _ = t.arcs.Write(b)
	t.n++
	return t.n - 1
}

// ring writes a ring turned as force-clockwise wants it (outer rings clockwise, holes the other
// way) and returns its arc index.
func (t *topology) ring(r orb.Ring, outer bool) int {
	if clockwise := r.Orientation() == orb.CW; clockwise != outer {
		rev := make(orb.Ring, len(r))
		for i, p := range r {
			rev[len(r)-1-i] = p
		}
		r = rev
	}
	return t.arc(r)
}

func (t *topology) appendPolygon(b []byte, p orb.Polygon) []byte {
	b = append(b, '[')
	for i, r := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(t.ring(r, i == 0)), 10)
		b = append(b, ']')
	}
	return append(b, ']')
}

// appendGeometry appends a geometry object's members after "type".
func (t *topology) appendGeometry(b []byte, g orb.Geometry) []byte {
	switch g := g.(type) {
	case orb.Point:
		b = append(b, `"type":"Point","coordinates":`...)
		b = appendPos(b, t.q(g))
	case orb.MultiPoint:
		b = append(b, `"type":"MultiPoint","coordinates":[`...)
		for i, p := range g {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPos(b, t.q(p))
		}
		b = append(b, ']')
	case orb.LineString:
		b = append(b, `"type":"LineString","arcs":[`...)
		b = strconv.AppendInt(b, int64(t.arc(g)), 10)
		b = append(b, ']')
	case orb.MultiLineString:
		b = append(b, `"type":"MultiLineString","arcs":[`...)
		for i, ls := range g {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(t.arc(ls)), 10)
			b = append(b, ']')
		}
		b = append(b, ']')
	case orb.Polygon:
		b = append(b, `"type":"Polygon","arcs":`...)
		b = t.appendPolygon(b, g)
	case orb.MultiPolygon:
		b = append(b, `"type":"MultiPolygon","arcs":[`...)
		for i, p := range g {
			if i > 0 {
				b = append(b, ',')
			}
			b = t.appendPolygon(b, p)
		}
		b = append(b, ']')
	case orb.Collection:
		b = append(b, `"type":"GeometryCollection","geometries":[`...)
		for i, sub := range g {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = t.appendGeometry(b, sub)
			b = append(b, '}')
		}
		b = append(b, ']')
	default:
		b = append(b, `"type":null`...)
	}
	return b
}

// appendObject appends one feature's object: its geometry and its properties.
func (t *topology) appendObject(b []byte, g *geojson.Geometry, props []byte) []byte {
	b = append(b, '{')
	b = t.appendGeometry(b, g.Geometry())
	b = append(b, `,"properties":`...)
	b = append(b, props...)
	return append(b, '}')
}
