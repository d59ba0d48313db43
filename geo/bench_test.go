package geo

import (
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
