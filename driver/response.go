package driver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Value kinds in a spooled record. A record is a row object as a list of (key, value) pairs:
// uvarint key index, one tag byte, and for tags that carry bytes a uvarint length and the bytes
// (a number's text, a string's unescaped content, an object's or array's raw JSON).
const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagNumber
	tagString
	tagRaw
)

// response is a SQL API JSON answer read to its end: the rows went to a spool (or were
// skipped), everything else is here.
type response struct {
	// keys are the distinct row-object keys met, in the order met; a record names them by index.
	keys     []string
	keyIndex map[string]int // quoted key, exactly as sent -> index in keys
	rows     int64          // row objects read
	sawRows  bool

	fields    []field
	sawFields bool
	totalRows int64
	sawTotal  bool
	time      float64

	errMessages                 []string
	errContext, errDetail, hint string
	notices, warnings, infos    []string
	rec                         []byte // scratch for one record
	unq                         []byte // scratch for an unescaped string
}

// errTruncated marks an answer that ended before its JSON did: a connection cut mid-body.
var errTruncated = errors.New("the answer ended before its JSON did (connection cut?)")

// readResponse reads a whole SQL API answer from body. Rows go to sp, or are skipped if sp is
// nil (Exec has no use for them).
func readResponse(body io.Reader, sp *spool) (*response, error) {
	d := jsontext.NewDecoder(body, jsontext.AllowDuplicateNames(true))
	res := &response{}
	if err := res.read(d, sp); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %w", errTruncated, err)
		}
		return nil, err
	}
	return res, nil
}

func (res *response) read(d *jsontext.Decoder, sp *spool) error {
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
			} else {
				err = res.readRows(d, sp)
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
		var f fieldJSON
		if err := readInto(d, &f); err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
		// A name sent twice describes one column (the row objects have it once).
		dup := false
		for i := range res.fields {
			if res.fields[i].name == name {
				res.fields[i] = newField(name, f)
				dup = true
			}
		}
		if !dup {
			res.fields = append(res.fields, newField(name, f))
		}
	}
	_, err = d.ReadToken()
	return err
}

func (res *response) readRows(d *jsontext.Decoder, sp *spool) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '[' {
		return fmt.Errorf("the answer's rows are %s, not an array", kindDesc(tok.Kind()))
	}
	if res.keyIndex == nil {
		res.keyIndex = make(map[string]int)
	}
	for {
		switch d.PeekKind() {
		case ']':
			_, err := d.ReadToken()
			return err
		case '{':
		case 0:
			// PeekKind reports errors as kind 0; ReadToken returns the error itself.
			_, err := d.ReadToken()
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return err
		default:
			return fmt.Errorf("row %d is %s, not an object", res.rows+1, kindDesc(d.PeekKind()))
		}
		if err := res.readRow(d); err != nil {
			return err
		}
		if err := sp.write(res.rec); err != nil {
			return err
		}
		res.rows++
	}
}

// readRow reads one row object into res.rec.
func (res *response) readRow(d *jsontext.Decoder) error {
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	rec := res.rec[:0]
	for d.PeekKind() != '}' {
		name, err := d.ReadValue()
		if err != nil {
			return err
		}
		idx, ok := res.keyIndex[string(name)]
		if !ok {
			if name.Kind() != '"' {
				return fmt.Errorf("row %d has a member name that is not a string", res.rows+1)
			}
			key, err := jsontext.AppendUnquote(nil, name)
			if err != nil {
				return err
			}
			idx = len(res.keys)
			res.keys = append(res.keys, string(key))
			res.keyIndex[string(name)] = idx
		}
		rec = binary.AppendUvarint(rec, uint64(idx))
		v, err := d.ReadValue()
		if err != nil {
			return err
		}
		switch v[0] {
		case 'n':
			rec = append(rec, tagNull)
		case 'f':
			rec = append(rec, tagFalse)
		case 't':
			rec = append(rec, tagTrue)
		case '"':
			rec = append(rec, tagString)
			s := v[1 : len(v)-1]
			if bytes.IndexByte(s, '\\') < 0 {
				rec = binary.AppendUvarint(rec, uint64(len(s)))
				rec = append(rec, s...)
			} else {
				res.unq, err = jsontext.AppendUnquote(res.unq[:0], v)
				if err != nil {
					return err
				}
				rec = binary.AppendUvarint(rec, uint64(len(res.unq)))
				rec = append(rec, res.unq...)
			}
		case '{', '[':
			rec = append(rec, tagRaw)
			rec = binary.AppendUvarint(rec, uint64(len(v)))
			rec = append(rec, v...)
		default:
			rec = append(rec, tagNumber)
			rec = binary.AppendUvarint(rec, uint64(len(v)))
			rec = append(rec, v...)
		}
	}
	res.rec = rec
	_, err := d.ReadToken()
	return err
}

// recordReader walks the pairs of one spooled record.
type recordReader struct {
	b []byte
}

// next returns the key index, tag and bytes of the next pair; ok is false at the end.
func (r *recordReader) next() (key int, tag byte, val []byte, ok bool, err error) {
	if len(r.b) == 0 {
		return 0, 0, nil, false, nil
	}
	k, n := binary.Uvarint(r.b)
	if n <= 0 || n >= len(r.b) {
		return 0, 0, nil, false, errCorrupt
	}
	tag = r.b[n]
	r.b = r.b[n+1:]
	if tag >= tagNumber {
		l, m := binary.Uvarint(r.b)
		if m <= 0 || uint64(len(r.b)-m) < l {
			return 0, 0, nil, false, errCorrupt
		}
		val = r.b[m : m+int(l) : m+int(l)]
		r.b = r.b[m+int(l):]
	}
	return int(k), tag, val, true, nil
}

var errCorrupt = errors.New("carto driver: corrupt row spool")

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
