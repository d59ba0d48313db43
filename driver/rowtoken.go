package driver

import (
	"encoding/binary"
	"errors"
)

// Rows are taken apart while the answer downloads, not after: each row object, as it is validated
// (rowstream.go), is written to the spool as a compact record of its members, so that yielding
// a row after the trailer is a walk over lengths, with no JSON left to scan. A record is
//
//	member*   member = uvarint(name index) tag uvarint(len) bytes
//
// where the name index numbers the member names in the order they first appear in the answer
// (the column names, usually the same for every row, so a row costs a byte per member for them),
// tag is the JSON kind (tagNull ... tagRaw, or tagInt and tagFloat for numbers already read, see
// numbers.go), and the bytes are a string's unescaped content, a number's text (or value), or an
// object's or array's raw JSON (none for null, true and false).

// rowNames numbers the member names of an answer's rows.
type rowNames struct {
	names []string
}

// index returns the number of name, numbering it if it is new. Members come in the same order in
// every row, so the guess (the member's position) is almost always right.
func (n *rowNames) index(name []byte, guess int) uint64 {
	if guess < len(n.names) && n.names[guess] == string(name) {
		return uint64(guess)
	}
	for i, s := range n.names {
		if s == string(name) {
			return uint64(i)
		}
	}
	n.names = append(n.names, string(name))
	return uint64(len(n.names) - 1)
}

// appendMember appends one member to a record.
func appendMember(rec []byte, idx uint64, tag byte, val []byte) []byte {
	rec = binary.AppendUvarint(rec, idx)
	rec = append(rec, tag)
	rec = binary.AppendUvarint(rec, uint64(len(val)))
	return append(rec, val...)
}

var errRecord = errors.New("carto driver: a spooled row record is corrupt")

// recordReader walks the members of one record.
type recordReader struct {
	b []byte
}

// next returns the next member, or ok=false at the end of the record.
func (r *recordReader) next() (idx uint64, tag byte, val []byte, ok bool, err error) {
	b := r.b
	if len(b) == 0 {
		return 0, 0, nil, false, nil
	}
	// Name numbers and lengths are almost always below 128: one byte each.
	if len(b) >= 3 && b[0] < 0x80 && b[2] < 0x80 {
		n := int(b[2])
		if len(b)-3 < n {
			return 0, 0, nil, false, errRecord
		}
		r.b = b[3+n:]
		return uint64(b[0]), b[1], b[3 : 3+n : 3+n], true, nil
	}
	idx, k := binary.Uvarint(b)
	if k <= 0 || k >= len(b) {
		return 0, 0, nil, false, errRecord
	}
	tag = b[k]
	n, m := binary.Uvarint(b[k+1:])
	start := k + 1 + m
	if m <= 0 || uint64(len(b)-start) < n {
		return 0, 0, nil, false, errRecord
	}
	val = b[start : start+int(n) : start+int(n)]
	r.b = b[start+int(n):]
	return idx, tag, val, true, nil
}
