package sqlapi

import (
	"fmt"
	"strings"
	"testing"
)

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
