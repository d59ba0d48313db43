package column

import (
	"strconv"

	"github.com/gocarto/carto/driver/internal/rowrec"
)

// Numbers are read while the answer downloads (rowrec's Int and Float members), so that the
// columns that take them as they are need no parsing after the trailer.

// numberValue gives a column of kind k its value straight from a number read while downloading,
// when k takes it as is (integers and doubles). Otherwise it returns the number as rowrec.Number and
// its text, written into scratch for an integer, for the caller to convert as it does any text.
func numberValue(k kind, tag byte, val []byte, bx *Boxer, scratch []byte) (v any, done bool, outTag byte, text []byte, err error) {
	switch tag {
	case rowrec.Int:
		n, err := rowrec.IntValue(val)
		if err != nil {
			return nil, true, 0, nil, err
		}
		switch k {
		case kindInt:
			return bx.int64(n), true, 0, nil, nil
		case kindFloat:
			// float64(n) rounds as ParseFloat of its text does: both give the nearest double.
			return bx.float64(float64(n)), true, 0, nil, nil
		}
		return nil, false, rowrec.Number, strconv.AppendInt(scratch[:0], n, 10), nil
	case rowrec.Float:
		f, text, err := rowrec.FloatValue(val)
		if err != nil {
			return nil, true, 0, nil, err
		}
		if k == kindFloat {
			return bx.float64(f), true, 0, nil, nil
		}
		return nil, false, rowrec.Number, text, nil
	}
	return nil, false, tag, val, nil
}
