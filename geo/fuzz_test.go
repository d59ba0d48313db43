package geo

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzScan feeds arbitrary input to Scan as a string and as []byte. Scan must not panic, must not
// modify its input, must decode strings and bytes alike, and whatever it accepts must survive an
// EWKB round trip.
func FuzzScan(f *testing.F) {
	for _, c := range append(postgis2D, pointEmpty) {
		f.Add([]byte(c.hex))
		raw, _ := hex.DecodeString(c.hex)
		f.Add(raw)
		iso, _ := hex.DecodeString(c.iso)
		f.Add(iso)
	}
	for _, c := range postgisZM {
		f.Add([]byte(c.hex))
		f.Add([]byte(strings.ToLower(c.iso)))
		f.Add([]byte(c.geojson))
	}
	f.Add([]byte(xdrLineStrZ))
	f.Add([]byte(circularHex))
	f.Add([]byte(`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}],"bbox":[1,2,1,2]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		before := bytes.Clone(data)
		var fromBytes, fromString Geometry
		errB := fromBytes.Scan(data)
		if !bytes.Equal(before, data) {
			t.Fatalf("Scan modified its input")
		}
		errS := fromString.Scan(string(data))
		if (errB == nil) != (errS == nil) {
			t.Fatalf("[]byte and string disagree: %v vs %v", errB, errS)
		}
		var g2d Geometry
		err2D := Force2D(&g2d).Scan(data)
		if errB == nil && err2D != nil {
			t.Fatalf("Force2D refused what Scan accepted: %v", err2D)
		}
		if errB != nil {
			return
		}
		h, err := fromBytes.EWKBHex()
		if err != nil {
			t.Fatalf("EWKBHex of a scanned geometry: %v", err)
		}
		var back Geometry
		if err := back.Scan(h); err != nil {
			t.Fatalf("Scan of our own EWKB %s: %v", h, err)
		}
		h2, err := back.EWKBHex()
		if err != nil || h2 != h {
			t.Fatalf("round trip changed the EWKB:\n%s\n%s", h, h2)
		}
		if back.SRID != fromBytes.SRID {
			t.Fatalf("SRID %d became %d", fromBytes.SRID, back.SRID)
		}
	})
}
