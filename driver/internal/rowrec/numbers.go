package rowrec

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"
)

// Numbers are read while the answer downloads, before the fields say what their columns are: the
// download leaves the client time to spare (the server is the slower side), while everything done
// after the trailer adds to the query's time. An integer is kept as its value, since its text can
// be written back exactly; any other number keeps its text beside its double value, since a
// numeric column needs the text as sent.

// appendNumber appends the member idx holding the JSON number text (valid JSON) to rec.
func appendNumber(rec []byte, idx uint64, text []byte) []byte {
	if n, ok := canonicalInt(text); ok {
		var v [binary.MaxVarintLen64]byte
		return appendMember(rec, idx, Int, v[:binary.PutVarint(v[:], n)])
	}
	f, err := strconv.ParseFloat(bytesString(text), 64)
	if err != nil {
		// Out of a double's range: the text alone, for the column to judge.
		return appendMember(rec, idx, Number, text)
	}
	rec = binary.AppendUvarint(rec, idx)
	rec = append(rec, Float)
	rec = binary.AppendUvarint(rec, uint64(8+len(text)))
	rec = binary.LittleEndian.AppendUint64(rec, math.Float64bits(f))
	return append(rec, text...)
}

// canonicalInt reads text as an integer when it is one written as strconv.FormatInt writes it:
// digits with no leading zero and an optional minus (not -0), few enough not to overflow. JSON
// allows no other form of an integer but -0.
func canonicalInt(text []byte) (int64, bool) {
	digits := text
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || digits[0] == '0' && (len(digits) > 1 || len(text) > 1) {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(text) {
		n = -n
	}
	return n, true
}

// IntValue is the integer an Int member holds.
func IntValue(val []byte) (int64, error) {
	n, m := binary.Varint(val)
	if m <= 0 || m != len(val) {
		return 0, ErrCorrupt
	}
	return n, nil
}

// FloatValue is the double a Float member holds, and the number's text.
func FloatValue(val []byte) (float64, []byte, error) {
	if len(val) < 8 {
		return 0, nil, ErrCorrupt
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(val)), val[8:], nil
}

// bytesString views b as a string for a call that does not keep it.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
