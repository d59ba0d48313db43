package sqlapi

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/gocarto/carto"
	"github.com/gocarto/carto/geo"
	"github.com/paulmach/orb/geojson"
)

// FeatureReader decodes a GeoJSON FeatureCollection (the body of a format=geojson response of
// CARTO's SQL API) one feature at a time, holding one feature in memory, not the body.
//
// CARTO streams features as the query produces rows. When the query fails after the first row
// (a division by zero at row 3, a statement timeout), the status stays 200 and the collection
// ends with an "error" member: {"type": ..., "features": [...],"error":["division by zero"]}.
// FeatureReader returns that as a [*carto.Error] after the features that did arrive, and a body
// that stops early as an error wrapping [io.ErrUnexpectedEOF], so only a complete, successful
// collection ends with [io.EOF].
//
// Feature decoding is orb's geojson package: positions keep their first two coordinates
// (GeoJSON's third is altitude), and other geometry columns stay hex EWKB strings in Properties,
// which [geo.Geometry.Scan] decodes.
type FeatureReader struct {
	dec         *jsontext.Decoder
	state       readerState
	sawType     bool
	sawFeatures bool
	features    int
	cerr        *carto.Error // error members collected so far
	err         error        // sticky result once done
	resp        *Response    // the answer being read, when it came from Client.Open
}

type readerState int

const (
	stateStart    readerState = iota // before '{'
	stateMembers                     // between members of the collection
	stateFeatures                    // inside the features array
	stateDone
)

// NewFeatureReader returns a reader of the GeoJSON FeatureCollection in r, which it reads in
// buffered chunks as features are asked for. When r is the *Response of [Client.Open], CARTO's
// late error names the request and, for a request without an API key, says so.
func NewFeatureReader(r io.Reader) *FeatureReader {
	// Duplicate member names are allowed as in encoding/json, which orb decodes features with,
	// and as in JavaScript, whose JSON.parse is what CARTO's own clients use.
	fr := &FeatureReader{dec: jsontext.NewDecoder(r, jsontext.AllowDuplicateNames(true))}
	fr.resp, _ = r.(*Response)
	return fr
}

// Next returns the next feature. At the end of a complete collection it returns io.EOF; after a
// CARTO error member, a *carto.Error; after malformed or truncated input, another error. Once it
// has returned an error it keeps returning it.
func (fr *FeatureReader) Next() (*geojson.Feature, error) {
	for {
		switch fr.state {
		case stateDone:
			return nil, fr.err
		case stateStart:
			tok, err := fr.dec.ReadToken()
			if err != nil {
				return nil, fr.fail(err)
			}
			if tok.Kind() != '{' {
				return nil, fr.fail(fmt.Errorf("want a GeoJSON object, found %v", tok.Kind()))
			}
			fr.state = stateMembers
		case stateMembers:
			if err := fr.member(); err != nil {
				return nil, fr.fail(err)
			}
		case stateFeatures:
			if fr.dec.PeekKind() == ']' {
				if _, err := fr.dec.ReadToken(); err != nil {
					return nil, fr.fail(err)
				}
				fr.state = stateMembers
				continue
			}
			raw, err := fr.dec.ReadValue()
			if err != nil {
				return nil, fr.fail(err)
			}
			f, err := geojson.UnmarshalFeature(raw)
			if err != nil {
				return nil, fr.fail(fmt.Errorf("feature %d: %w", fr.features, err))
			}
			fr.features++
			return f, nil
		}
	}
}

// member reads one member of the collection object, or its closing brace.
func (fr *FeatureReader) member() error {
	tok, err := fr.dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() == '}' {
		return fr.end()
	}
	switch name := tok.String(); name {
	case "type":
		v, err := fr.dec.ReadToken()
		if err != nil {
			return err
		}
		if v.Kind() != '"' || v.String() != "FeatureCollection" {
			return fmt.Errorf("type is %s, not FeatureCollection", v)
		}
		fr.sawType = true
	case "features":
		v, err := fr.dec.ReadToken()
		if err != nil {
			return err
		}
		if v.Kind() != '[' {
			return fmt.Errorf("features is not an array")
		}
		fr.state = stateFeatures
		fr.sawFeatures = true
	case "error":
		return fr.errorMember()
	case "context", "detail", "hint":
		// These come with "error" in CARTO's error bodies, as strings.
		if fr.dec.PeekKind() != '"' {
			return fr.dec.SkipValue()
		}
		v, err := fr.dec.ReadToken()
		if err != nil {
			return err
		}
		ce := fr.carto()
		switch name {
		case "context":
			ce.Context = v.String()
		case "detail":
			ce.Detail = v.String()
		default:
			ce.Hint = v.String()
		}
	default:
		// bbox, crs and foreign members are not CARTO's; skip them.
		return fr.dec.SkipValue()
	}
	return nil
}

func (fr *FeatureReader) carto() *carto.Error {
	if fr.cerr == nil {
		fr.cerr = &carto.Error{}
	}
	return fr.cerr
}

// errorMember reads CARTO's "error":["message", ...].
func (fr *FeatureReader) errorMember() error {
	tok, err := fr.dec.ReadToken()
	if err != nil {
		return err
	}
	ce := fr.carto()
	switch tok.Kind() {
	case '"':
		ce.Messages = append(ce.Messages, tok.String())
		return nil
	case '[':
	default:
		return fmt.Errorf("error member is %v, not an array", tok.Kind())
	}
	for {
		switch fr.dec.PeekKind() {
		case ']':
			_, err := fr.dec.ReadToken()
			return err
		case '"':
			tok, err := fr.dec.ReadToken()
			if err != nil {
				return err
			}
			ce.Messages = append(ce.Messages, tok.String())
		default:
			// Not a string: keep its JSON text rather than lose it.
			v, err := fr.dec.ReadValue()
			if err != nil {
				return err
			}
			ce.Messages = append(ce.Messages, string(v))
		}
	}
}

// end handles the collection's closing brace.
func (fr *FeatureReader) end() error {
	fr.state = stateDone
	switch {
	case fr.cerr != nil:
		if fr.sawFeatures {
			// CARTO had answered 200 and streamed features before the query failed. Without
			// features this is an error body, whose status the caller's HTTP client saw.
			fr.late()
		}
		fr.err = fr.cerr
	case !fr.sawType && fr.features == 0:
		fr.err = &geo.DecodeError{Format: "GeoJSON", Offset: -1, Reason: "not a FeatureCollection"}
	default:
		fr.err = io.EOF
	}
	return nil
}

// late marks the collected error as one CARTO raised inside its 200 answer, after it began.
func (fr *FeatureReader) late() {
	if fr.resp != nil {
		lateError(fr.cerr, fr.resp)
		return
	}
	fr.cerr.StatusCode = http.StatusOK
}

// fail records a terminal error. A body cut short becomes io.ErrUnexpectedEOF, never io.EOF.
func (fr *FeatureReader) fail(err error) error {
	if fr.state == stateDone {
		return fr.err
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	fr.state = stateDone
	if fr.cerr != nil {
		// An error member already explains why the stream broke off.
		if fr.sawFeatures {
			fr.late()
		}
		fr.err = fr.cerr
		return fr.err
	}
	var de *geo.DecodeError
	if !errors.As(err, &de) {
		err = &geo.DecodeError{Format: "GeoJSON", Offset: int(fr.dec.InputOffset()), Reason: "reading a FeatureCollection", Err: err}
	}
	fr.err = err
	return err
}

// All returns an iterator over the remaining features. It stops after the first error, which it
// yields with a nil feature; a complete collection ends without yielding io.EOF.
func (fr *FeatureReader) All() iter.Seq2[*geojson.Feature, error] {
	return func(yield func(*geojson.Feature, error) bool) {
		for {
			f, err := fr.Next()
			if err == io.EOF {
				return
			}
			if !yield(f, err) || err != nil {
				return
			}
		}
	}
}

// ReadFeatureCollection reads a whole FeatureCollection from r with a [FeatureReader]; it returns
// the features read before an error together with the error.
func ReadFeatureCollection(r io.Reader) (*geojson.FeatureCollection, error) {
	fc := geojson.NewFeatureCollection()
	fr := NewFeatureReader(r)
	for f, err := range fr.All() {
		if err != nil {
			return fc, err
		}
		fc.Append(f)
	}
	return fc, nil
}
