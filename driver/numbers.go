package driver

import (
	"encoding/binary"
	"math"
	"strconv"
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
		return appendMember(rec, idx, tagInt, v[:binary.PutVarint(v[:], n)])
	}
	f, err := strconv.ParseFloat(bytesString(text), 64)
	if err != nil {
		// Out of a double's range: the text alone, for the column to judge.
		return appendMember(rec, idx, tagNumber, text)
	}
	rec = binary.AppendUvarint(rec, idx)
	rec = append(rec, tagFloat)
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

// numberValue gives a column of kind k its value straight from a number read while downloading,
// when k takes it as is (integers and doubles). Otherwise it returns the number as tagNumber and
// its text, written into scratch for an integer, for the caller to convert as it does any text.
func numberValue(k kind, tag byte, val []byte, bx *boxer, scratch []byte) (v any, done bool, outTag byte, text []byte, err error) {
	switch tag {
	case tagInt:
		n, m := binary.Varint(val)
		if m <= 0 || m != len(val) {
			return nil, true, 0, nil, errRecord
		}
		switch k {
		case kindInt:
			return bx.int64(n), true, 0, nil, nil
		case kindFloat:
			// float64(n) rounds as ParseFloat of its text does: both give the nearest double.
			return bx.float64(float64(n)), true, 0, nil, nil
		}
		return nil, false, tagNumber, strconv.AppendInt(scratch[:0], n, 10), nil
	case tagFloat:
		if len(val) < 8 {
			return nil, true, 0, nil, errRecord
		}
		if k == kindFloat {
			return bx.float64(math.Float64frombits(binary.LittleEndian.Uint64(val))), true, 0, nil, nil
		}
		return nil, false, tagNumber, val[8:], nil
	}
	return nil, false, tag, val, nil
}
