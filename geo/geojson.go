package geo

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// decodeGeoJSON decodes a GeoJSON geometry object. GeoJSON is WGS 84 by definition (RFC 7946),
// so the SRID is 4326, as PostGIS's ST_GeomFromGeoJSON sets it.
func decodeGeoJSON(data []byte, force2D bool) (orb.Geometry, int, error) {
	gj, err := geojson.UnmarshalGeometry(data)
	if err != nil {
		return nil, 0, &DecodeError{Format: "GeoJSON", Offset: -1, Err: err}
	}
	g := gj.Geometry()
	if g == nil {
		return nil, 0, &DecodeError{Format: "GeoJSON", Offset: -1, Reason: "no geometry"}
	}
	if !force2D {
		// orb keeps the first two numbers of each position and drops the rest without a word.
		n, err := maxPositionLen(data)
		if err != nil {
			return nil, 0, &DecodeError{Format: "GeoJSON", Offset: -1, Err: err}
		}
		if n > 2 {
			dims := "Z"
			if n > 3 {
				dims = "ZM"
			}
			return nil, 0, &DimensionError{Type: g.GeoJSONType(), Dims: dims}
		}
	}
	return g, 4326, nil
}

// maxPositionLen returns the length of the longest array of numbers in a GeoJSON geometry,
// that is of its longest position, skipping "bbox" members (whose arrays are longer by design).
func maxPositionLen(data []byte) (int, error) {
	type frame struct {
		array   bool
		numbers int
		other   bool // holds something other than numbers: not a position
	}
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	var stack []frame
	longest := 0
	for {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return longest, nil
		}
		if err != nil {
			return 0, err
		}
		kind := tok.Kind()
		if kind == ']' || kind == '}' {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.array && !f.other && f.numbers > longest {
				longest = f.numbers
			}
			continue
		}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			switch {
			case !top.array:
				// Object: after a name token the member count is odd.
				if _, n := dec.StackIndex(dec.StackDepth()); kind == '"' && n%2 == 1 && tok.String() == "bbox" {
					if err := dec.SkipValue(); err != nil {
						return 0, err
					}
				}
			case kind == '0':
				top.numbers++
			default:
				top.other = true
			}
		}
		switch kind {
		case '[':
			stack = append(stack, frame{array: true})
		case '{':
			stack = append(stack, frame{})
		}
	}
}
