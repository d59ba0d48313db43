package driver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto/driver/internal/column"
	"github.com/gocarto/carto/driver/internal/rowrec"
)

// response is a SQL API JSON answer read to its end: the rows went to a spool (or were
// skipped), everything else is here.
type response struct {
	rows     int64 // row objects read
	sawRows  bool
	firstRec []byte       // a copy of the first row's record, to check against fields
	names    rowrec.Names // the rows' member names, numbered as the records refer to them
	rec      []byte       // the record being built

	fields    []column.Field
	sawFields bool
	totalRows int64
	sawTotal  bool
	time      float64

	errMessages                 []string
	errContext, errDetail, hint string
	notices, warnings, infos    []string
}

// decoders recycles JSON decoders (and their buffers) between answers: part of the fixed cost of
// a statement.
var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(noInput) }}

// noInput is what a pooled decoder holds instead of an answer's body; nothing ever reads it.
var noInput io.Reader = bytes.NewReader(nil)

// maxPooledInput bounds the answers whose decoder goes back to the pool.
const maxPooledInput = 1 << 20

// errTruncated marks an answer that ended before its JSON did: a connection cut mid-body.
var errTruncated = errors.New("the answer ended before its JSON did (connection cut?)")

// readResponse reads a whole SQL API answer from body. Rows go to sp, or are skipped if sp is
// nil (Exec has no use for them).
func readResponse(body io.Reader, sp *spool) (*response, error) {
	d := decoders.Get().(*jsontext.Decoder)
	d.Reset(body, jsontext.AllowDuplicateNames(true))
	defer func() {
		// Small answers are where a decoder's setup shows; a decoder whose buffer grew for a big
		// one is left to the collector.
		if d.InputOffset() < maxPooledInput {
			d.Reset(noInput, jsontext.AllowDuplicateNames(true)) // let go of the body
			decoders.Put(d)
		}
	}()
	res := &response{}
	if err := res.read(d, body, sp); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %w", errTruncated, err)
		}
		return nil, err
	}
	return res, nil
}

func (res *response) read(d *jsontext.Decoder, body io.Reader, sp *spool) error {
	tok, err := d.ReadToken()
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("%w: the body is empty", errTruncated)
		}
		return err
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("the answer is %s, not a JSON object", kindDesc(tok.Kind()))
	}
	for d.PeekKind() != '}' {
		name, err := d.ReadValue()
		if err != nil {
			return err
		}
		switch string(name) {
		case `"rows"`:
			res.sawRows = true
			if sp == nil {
				err = d.SkipValue()
				break
			}
			// The rows are read by a scanner of their own (rowstream.go), from where the decoder
			// stands; the decoder then reads the members that remain.
			var rest io.Reader
			if rest, err = res.streamRows(d.UnreadBuffer(), body, sp); err == nil {
				// What the decoder reads from now on; a second rows member continues from it.
				body = rest
				d.Reset(rest, jsontext.AllowDuplicateNames(true))
				_, err = d.ReadToken() // the '{' streamRows puts before them
			}
		case `"fields"`:
			res.sawFields = true
			err = res.readFields(d)
		case `"total_rows"`:
			res.sawTotal = true
			err = readInto(d, &res.totalRows)
		case `"time"`:
			err = readInto(d, &res.time)
		case `"error"`:
			err = res.readError(d)
		case `"context"`:
			err = readInto(d, &res.errContext)
		case `"detail"`:
			err = readInto(d, &res.errDetail)
		case `"hint"`:
			err = readInto(d, &res.hint)
		case `"notices"`:
			err = readInto(d, &res.notices)
		case `"warnings"`:
			err = readInto(d, &res.warnings)
		case `"infos"`:
			err = readInto(d, &res.infos)
		default:
			err = d.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	// Anything after the closing brace is not a SQL API answer.
	if _, err := d.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the answer's JSON object")
		}
		return err
	}
	return nil
}

// readInto decodes the next value into v, tolerating null.
func readInto[T any](d *jsontext.Decoder, v *T) error {
	raw, err := d.ReadValue()
	if err != nil {
		return err
	}
	if raw.Kind() == 'n' {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func (res *response) readError(d *jsontext.Decoder) error {
	raw, err := d.ReadValue()
	if err != nil {
		return err
	}
	switch raw.Kind() {
	case '[':
		var msgs []string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return fmt.Errorf("the answer's error is not a list of strings: %w", err)
		}
		res.errMessages = msgs
		if len(msgs) == 0 {
			res.errMessages = []string{"unknown error"}
		}
	case '"':
		var msg string
		if err := json.Unmarshal(raw, &msg); err != nil {
			return err
		}
		res.errMessages = []string{msg}
	case 'n':
	default:
		res.errMessages = []string{string(raw)}
	}
	return nil
}

func (res *response) readFields(d *jsontext.Decoder) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() == 'n' {
		return nil
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("the answer's fields are %s, not an object", kindDesc(tok.Kind()))
	}
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		var f column.FieldJSON
		if err := readInto(d, &f); err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
		// A name sent twice describes one column (the row objects have it once).
		dup := false
		for i := range res.fields {
			if res.fields[i].Name == name {
				res.fields[i] = column.NewField(name, f)
				dup = true
			}
		}
		if !dup {
			res.fields = append(res.fields, column.NewField(name, f))
		}
	}
	_, err = d.ReadToken()
	return err
}

// kindDesc names a JSON kind for error messages.
func kindDesc(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return strconv.Quote(k.String())
}
