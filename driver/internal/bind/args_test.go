package bind

import (
	"database/sql"
	"database/sql/driver"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gocarto/carto/geo"
)

// argsTestPtrValuer has a pointer-receiver Value that copes with a nil receiver.
type argsTestPtrValuer struct{ s string }

func (p *argsTestPtrValuer) Value() (driver.Value, error) {
	if p == nil {
		return "nil receiver", nil
	}
	return p.s, nil
}

// argsTestValuerOfSlice returns a slice from Value: kept, so it becomes an array.
type argsTestValuerOfSlice struct{}

func (argsTestValuerOfSlice) Value() (driver.Value, error) { return []int64{1}, nil }

// argsTestLoop returns itself from Value forever.
type argsTestLoop struct{}

func (l argsTestLoop) Value() (driver.Value, error) { return l, nil }

func TestCheckNamedValue(t *testing.T) {
	now := time.Now()
	g := geo.New(orb.Point{1, 2}, 4326)
	var nilGeo *geo.Geometry
	var nilInt *int
	seven := 7
	tests := []struct {
		in, want any
	}{
		{nil, nil},
		{true, true},
		{int64(-1), int64(-1)},
		{1.5, 1.5},
		{"s", "s"},
		{[]byte("b"), []byte("b")},
		{now, now},
		// Kept for interpolate.
		{g, g},
		{orb.Point{1, 2}, orb.Point{1, 2}},
		{orb.LineString{{1, 2}}, orb.LineString{{1, 2}}},
		{[]int64{1}, []int64{1}},
		{[]string{"a"}, []string{"a"}},
		{[]any{1, "a"}, []any{1, "a"}},
		{[][]int{{1}}, [][]int{{1}}},
		{uint64(math.MaxUint64), uint64(math.MaxUint64)},
		// Converted.
		{uint64(5), int64(5)},
		{uint(5), int64(5)},
		{7, int64(7)},
		{int8(-7), int64(-7)},
		{float32(0.5), 0.5},
		{litTestString("x"), "x"},
		{litTestInt(3), int64(3)},
		{litTestJSON("{}"), []byte("{}")},
		{&seven, int64(7)},
		{nilInt, nil},
		{nilGeo, nil},
		{sql.NullString{String: "a", Valid: true}, "a"},
		{sql.NullInt64{}, nil},
		{sql.NullTime{Time: now, Valid: true}, now},
		{&argsTestPtrValuer{s: "p"}, "p"},
		{(*argsTestPtrValuer)(nil), "nil receiver"},
		{(*sql.NullString)(nil), nil},
		{argsTestValuerOfSlice{}, []int64{1}},
	}
	for _, tt := range tests {
		nv := driver.NamedValue{Ordinal: 1, Value: tt.in}
		if err := CheckNamedValue(&nv); err != nil {
			t.Errorf("CheckNamedValue(%T %v): %v", tt.in, tt.in, err)
			continue
		}
		if !reflect.DeepEqual(nv.Value, tt.want) {
			t.Errorf("CheckNamedValue(%T %v) = %T %v, want %T %v", tt.in, tt.in, nv.Value, nv.Value, tt.want, tt.want)
		}
	}
}

func TestCheckNamedValueErrors(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{struct{}{}, "unsupported argument type struct {}"},
		{map[string]int{}, "unsupported argument type map[string]int"},
		{[2]int{}, "unsupported argument type [2]int"},
		{[]struct{}{}, "unsupported argument type []struct {}: its elements cannot be written as SQL"},
		{[]map[string]int{}, "unsupported argument type []map[string]int"},
		{complex64(1), "unsupported argument type complex64"},
		{make(chan int), "unsupported argument type chan int"},
		{sql.Out{Dest: new(int)}, "unsupported argument type sql.Out"},
		{litTestFailingValuer{}, "boom"},
		{argsTestLoop{}, "Value returns Valuers 4 deep"},
	}
	for _, tt := range tests {
		nv := driver.NamedValue{Ordinal: 1, Value: tt.in}
		err := CheckNamedValue(&nv)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "carto driver: ") {
			t.Errorf("CheckNamedValue(%T): error %v, want %q", tt.in, err, tt.want)
		}
	}
}

// TestCheckedValuesInterpolate: everything checkNamedValue accepts, interpolate writes.
func TestCheckedValuesInterpolate(t *testing.T) {
	for _, v := range []any{
		uint(math.MaxUint64), sql.NullFloat64{Float64: 2, Valid: true}, &argsTestPtrValuer{}, litTestTags{"x"},
		[]*string{nil}, [][]float32{{1}}, []sql.NullInt64{{}}, geo.Geometry{}, []orb.Polygon{},
	} {
		nv := driver.NamedValue{Ordinal: 1, Value: v}
		if err := CheckNamedValue(&nv); err != nil {
			t.Errorf("CheckNamedValue(%T): %v", v, err)
			continue
		}
		if _, err := Interpolate("select $1", []driver.NamedValue{nv}); err != nil {
			t.Errorf("Interpolate(%T): %v", v, err)
		}
	}
}
