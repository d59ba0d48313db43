package geo

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"
)

func TestTypedPoint(t *testing.T) {
	var p Point
	if err := p.Scan(postgis2D[0].hex); err != nil {
		t.Fatal(err)
	}
	if !p.Valid || p.Geom != (orb.Point{-3.7, 40.4}) || p.SRID != 4326 {
		t.Fatalf("got %+v", p)
	}
	if p.Geom.Lon() != -3.7 || p.Geom.Lat() != 40.4 {
		t.Fatal("Lon/Lat")
	}
	h, err := p.EWKBHex()
	if err != nil || h != postgis2D[0].hex {
		t.Fatalf("EWKBHex = %s, %v", h, err)
	}
	v, err := p.Value()
	if err != nil || v != postgis2D[0].hex {
		t.Fatalf("Value = %v, %v", v, err)
	}

	err = p.Scan(postgisZM[3].hex) // LINESTRING Z: the dimension is reported before the type
	var de *DimensionError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	err = p.Scan(postgis2D[2].hex) // a polygon
	var te *TypeError
	if !errors.As(err, &te) || te.Want != "orb.Point" || te.Got != "Polygon" {
		t.Fatalf("err = %v", err)
	}
	if !p.Valid || p.SRID != 4326 {
		t.Fatal("a failed Scan changed the destination")
	}
	if err.Error() != "geo: cannot scan a Polygon into orb.Point" {
		t.Fatalf("message: %v", err)
	}

	if err := p.Scan(nil); err != nil || p.Valid {
		t.Fatalf("NULL: %+v, %v", p, err)
	}
	if v, err := p.Value(); v != nil || err != nil {
		t.Fatalf("NULL Value = %v, %v", v, err)
	}
	if p.String() != "NULL" {
		t.Fatal(p.String())
	}
}

func TestTypedForce2D(t *testing.T) {
	var ls LineString
	if err := Force2D(&ls).Scan(postgisZM[4].hex); err != nil { // LINESTRING ZM
		t.Fatal(err)
	}
	if !ls.Valid || !orb.Equal(ls.Geom, orb.LineString{{1, 2}, {5, 6}}) {
		t.Fatalf("got %+v", ls)
	}
	if err := Force2D(fakeScanner{}).Scan(postgisZM[4].hex); err == nil {
		t.Fatal("Force2D of a foreign scanner: no error")
	}
}

type fakeScanner struct{}

func (fakeScanner) Scan(any) error { return nil }

func TestTypedJSON(t *testing.T) {
	var mp MultiPolygon
	if err := mp.UnmarshalJSON([]byte(`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}`)); err != nil {
		t.Fatal(err)
	}
	if !mp.Valid || mp.SRID != 4326 || len(mp.Geom) != 1 {
		t.Fatalf("got %+v", mp)
	}
	b, err := mp.MarshalJSON()
	if err != nil || string(b) != `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}` {
		t.Fatalf("MarshalJSON = %s, %v", b, err)
	}
	var te *TypeError
	if err := mp.UnmarshalJSON([]byte(`{"type":"Point","coordinates":[1,2]}`)); !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	if err := mp.UnmarshalJSON([]byte(`null`)); err != nil || mp.Valid {
		t.Fatalf("null: %+v %v", mp, err)
	}
	if b, _ := mp.MarshalJSON(); string(b) != "null" {
		t.Fatal(string(b))
	}
	g := NewTyped(orb.Point{1, 2}, 4326).Geometry()
	if g.SRID != 4326 || g.Geom != (orb.Point{1, 2}) {
		t.Fatal(g)
	}
}
