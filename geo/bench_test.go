package geo

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func BenchmarkScanPointHexString(b *testing.B) {
	src := postgis2D[0].hex
	b.ReportAllocs()
	for b.Loop() {
		var g Geometry
		if err := g.Scan(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanPointHexBytes(b *testing.B) {
	src := []byte(postgis2D[0].hex)
	b.ReportAllocs()
	for b.Loop() {
		var g Geometry
		if err := g.Scan(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanPolygon1000Hex(b *testing.B) {
	h, _ := New(polygonN(1000), 4326).EWKBHex()
	src := []byte(h)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var g Geometry
		if err := g.Scan(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanPolygon1000Lowercase(b *testing.B) {
	h, _ := New(polygonN(1000), 4326).EWKBHex()
	src := strings.ToLower(h)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var g Geometry
		if err := g.Scan(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEWKBHexPoint(b *testing.B) {
	g := New(orb.Point{-3.7, 40.4}, 4326)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.EWKBHex(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEWKBHexPolygon1000(b *testing.B) {
	g := New(polygonN(1000), 4326)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.EWKBHex(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFeatureReader reads a CARTO geojson body of 1000 point features.
func BenchmarkFeatureReader(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"type": "FeatureCollection", "features": [`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"type":"Feature","geometry":{"type":"Point","coordinates":[%d.123456,%d.654321]},"properties":{"cartodb_id":%d,"name":"place %d"}}`, i%180, i%90, i, i)
	}
	sb.WriteString("]}")
	body := sb.String()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		fr := NewFeatureReader(strings.NewReader(body))
		n := 0
		for _, err := range fr.All() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 1000 {
			b.Fatal(n)
		}
	}
}
