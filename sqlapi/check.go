package sqlapi

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gocarto/carto"
)

// copyChecked copies a json or geojson answer to w while reading its top-level members: the
// rows or features are only validated and passed on, and an "error" member (CARTO's late error,
// after the first row, in a 200 answer) becomes the returned *carto.Error. The body must be one
// complete JSON object; anything less is a cut connection.
func copyChecked(w *countWriter, resp *Response) error {
	tee := io.TeeReader(resp, w)
	d := jsontext.NewDecoder(tee, jsontext.AllowDuplicateNames(true))
	cerr, err := readMembers(d)
	if err == nil {
		// Nothing may follow the object; reading to EOF also copies any whitespace after it.
		if _, terr := d.ReadToken(); terr != io.EOF {
			if terr == nil {
				terr = errors.New("unexpected data after the answer's JSON object")
			}
			err = terr
		}
	}
	if w.failed {
		return fmt.Errorf("writing the answer: %w", err)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return readFailure(resp, err)
	}
	if cerr != nil {
		return lateError(cerr, resp)
	}
	return nil
}

// readMembers reads one JSON object, returning CARTO's error members when it has any.
func readMembers(d *jsontext.Decoder) (*carto.Error, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, fmt.Errorf("the answer is not a JSON object")
	}
	var cerr *carto.Error
	get := func() *carto.Error {
		if cerr == nil {
			cerr = &carto.Error{}
		}
		return cerr
	}
	for d.PeekKind() != '}' {
		name, err := d.ReadToken()
		if err != nil {
			return nil, err
		}
		var target *string
		switch name.String() {
		case "error":
			raw, err := d.ReadValue()
			if err != nil {
				return nil, err
			}
			var msgs []string
			if json.Unmarshal(raw, &msgs) != nil {
				var one string
				if json.Unmarshal(raw, &one) == nil {
					msgs = []string{one}
				} else {
					msgs = []string{string(raw)}
				}
			}
			get().Messages = append(get().Messages, msgs...)
			continue
		case "context":
			target = &get().Context
		case "detail":
			target = &get().Detail
		case "hint":
			target = &get().Hint
		}
		if target != nil && d.PeekKind() == '"' {
			v, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			*target = v.String()
			continue
		}
		if err := d.SkipValue(); err != nil {
			return nil, err
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return nil, err
	}
	if cerr != nil && len(cerr.Messages) == 0 {
		// context, detail or hint alone are not an error.
		cerr = nil
	}
	return cerr, nil
}
