package bind

import (
	"database/sql/driver"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/paulmach/orb"
)

// CheckNamedValue is the connection's driver.NamedValueChecker: database/sql hands it every
// argument before interpolate sees them, and then skips its own conversion.
//
// The types interpolate writes directly stay as they are: nil, bool, int64, uint64, float64,
// string, []byte, time.Time, geometries (an EWKBHex method, or orb.Geometry) and slices, so that
// a geometry is written as a geometry and not as the text its Value returns, and a slice as an
// array. Any other driver.Valuer is asked for its Value (a nil pointer is NULL). What is left
// is converted by kind like database/sql's default converter (other int, uint and float sizes,
// named string, bool and []byte types, pointers), except that a uint64 above the int64 range is
// kept (it is written as a numeric) instead of refused. Anything else is an error naming the
// type.
func CheckNamedValue(nv *driver.NamedValue) error {
	v, err := checkValue(nv.Value, 0)
	if err != nil {
		return fmt.Errorf("carto driver: %w", err)
	}
	nv.Value = v
	return nil
}

func checkValue(v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte, time.Time:
		return v, nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
		return v, nil
	case ewkbHexer, orb.Geometry:
		if isNilPointer(v) {
			return nil, nil
		}
		return v, nil
	case driver.Valuer:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && rv.IsNil() && rv.Type().Elem().Implements(valuerType) {
			// Value has a value receiver, so calling it would panic: database/sql's rule.
			return nil, nil
		}
		if depth >= maxValuerDepth {
			return nil, fmt.Errorf("%T: Value returns Valuers %d deep", v, depth)
		}
		r, err := x.Value()
		if err != nil {
			return nil, err // database/sql passes a Valuer's error on as it is
		}
		return checkValue(r, depth+1)
	}

	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return checkValue(rv.Elem().Interface(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return checkValue(rv.Uint(), depth)
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return rv.Bytes(), nil
		}
		if !elemSupported(rv.Type().Elem()) {
			return nil, fmt.Errorf("unsupported argument type %T: its elements cannot be written as SQL", v)
		}
		return v, nil
	}
	return nil, fmt.Errorf("unsupported argument type %T", v)
}

// elemSupported reports whether appendArray can write elements of type t, as far as the type
// tells: interfaces and Valuers are checked element by element when the array is written.
func elemSupported(t reflect.Type) bool {
	if t == timeType || t.Kind() == reflect.Interface ||
		t.Implements(hexerType) || t.Implements(orbType) || t.Implements(valuerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String, reflect.Bool:
		return true
	case reflect.Pointer, reflect.Slice:
		return elemSupported(t.Elem())
	}
	return false
}
