// Package rowrec is the compact form the driver spools the rows of a SQL API answer in: each row
// object, validated as JSON and taken apart in the same pass while the answer downloads
// (AppendRow), becomes a record of its members that a Reader walks after the trailer, with no JSON
// left to scan. A record is
//
//	member*   member = uvarint(name index) tag uvarint(len) bytes
//
// where the name index numbers the member names in the order they first appear in the answer
// (Names; the column names, usually the same for every row, so a row costs a byte per member for
// them), tag is the JSON kind (Null ... Raw, or Int and Float for numbers already read, see
// numbers.go), and the bytes are a string's unescaped content, a number's text (or value), or an
// object's or array's raw JSON (none for null, true and false).
package rowrec

import (
	"encoding/binary"
	"errors"
)

// The tags of a record's members.
const (
	Null byte = iota
	False
	True
	Number // a number's text (one out of a double's range)
	String // a string's unescaped content
	Raw    // an object's or array's raw JSON
	// Int is an integer as its zigzag varint; its text is the integer's canonical form.
	Int
	// Float is a number with a double value: the value's 8 bytes (little-endian IEEE 754), then
	// the number's text.
	Float
)

// ErrCorrupt means a record is not one AppendRow wrote.
var ErrCorrupt = errors.New("carto driver: a spooled row record is corrupt")

// Names numbers the member names of an answer's rows; Names[i] is the name numbered i.
type Names []string

// index returns the number of name, numbering it if it is new. Members come in the same order in
// every row, so the guess (the member's position) is almost always right.
func (n *Names) index(name []byte, guess int) uint64 {
	if guess < len(*n) && (*n)[guess] == string(name) {
		return uint64(guess)
	}
	for i, s := range *n {
		if s == string(name) {
			return uint64(i)
		}
	}
	*n = append(*n, string(name))
	return uint64(len(*n) - 1)
}

// appendMember appends one member to a record.
func appendMember(rec []byte, idx uint64, tag byte, val []byte) []byte {
	rec = binary.AppendUvarint(rec, idx)
	rec = append(rec, tag)
	rec = binary.AppendUvarint(rec, uint64(len(val)))
	return append(rec, val...)
}

// Reader walks the members of one record.
type Reader struct {
	b []byte
}

// NewReader returns a Reader of the record rec.
func NewReader(rec []byte) Reader { return Reader{b: rec} }

// Next returns the next member, or ok=false at the end of the record. val is a view of the record.
func (r *Reader) Next() (idx uint64, tag byte, val []byte, ok bool, err error) {
	b := r.b
	if len(b) == 0 {
		return 0, 0, nil, false, nil
	}
	// Name numbers and lengths are almost always below 128: one byte each.
	if len(b) >= 3 && b[0] < 0x80 && b[2] < 0x80 {
		n := int(b[2])
		if len(b)-3 < n {
			return 0, 0, nil, false, ErrCorrupt
		}
		r.b = b[3+n:]
		return uint64(b[0]), b[1], b[3 : 3+n : 3+n], true, nil
	}
	idx, k := binary.Uvarint(b)
	if k <= 0 || k >= len(b) {
		return 0, 0, nil, false, ErrCorrupt
	}
	tag = b[k]
	n, m := binary.Uvarint(b[k+1:])
	start := k + 1 + m
	if m <= 0 || uint64(len(b)-start) < n {
		return 0, 0, nil, false, ErrCorrupt
	}
	val = b[start : start+int(n) : start+int(n)]
	r.b = b[start+int(n):]
	return idx, tag, val, true, nil
}
