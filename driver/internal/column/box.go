package column

import (
	"database/sql/driver"
	"unsafe"
)

// Boxer makes the driver.Values of rows without an allocation for each. An int64, a float64 or a
// string put in an interface needs heap memory for the value (Go allocates it in convT64 and
// convTstring), which made five numeric columns cost five allocations a row. Boxer instead keeps
// values in slabs of a few hundred and builds each interface pointing at its slot: one allocation
// per slab, not per value. A slot is written once, before its interface exists, and never again,
// so the values are as immutable as those Go would box itself; a value a caller keeps keeps its
// slab alive, which is a few KiB.
type Boxer struct {
	ints   []int64
	floats []float64
	strs   []string
	slices [][]byte
	text   []byte // the bytes of strings, in the same spirit
	num    []byte // scratch: an integer's text written back (numbers.go)
}

const (
	boxSlab  = 256     // values per slab
	textSlab = 8 << 10 // bytes per text slab; a longer string gets its own
)

// eface is the layout of an empty interface: the type's descriptor, then a pointer to the value.
type eface struct {
	typ, data unsafe.Pointer
}

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	int64Type   = typeOf(int64(0))
	float64Type = typeOf(float64(0))
	stringType  = typeOf("")
	bytesType   = typeOf([]byte(nil))
)

// box is the interface of the given type holding the value at data.
func box(typ, data unsafe.Pointer) (v driver.Value) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, data
	return v
}

func (b *Boxer) int64(n int64) driver.Value {
	if len(b.ints) == cap(b.ints) {
		b.ints = make([]int64, 0, boxSlab)
	}
	b.ints = append(b.ints, n)
	return box(int64Type, unsafe.Pointer(&b.ints[len(b.ints)-1]))
}

func (b *Boxer) float64(f float64) driver.Value {
	if len(b.floats) == cap(b.floats) {
		b.floats = make([]float64, 0, boxSlab)
	}
	b.floats = append(b.floats, f)
	return box(float64Type, unsafe.Pointer(&b.floats[len(b.floats)-1]))
}

// string copies p out of the spool into a text slab and returns it as a string value.
func (b *Boxer) string(p []byte) driver.Value {
	var s string
	if len(p) > 0 {
		if len(p) > textSlab/4 {
			s = string(p) // big values: a slab would be mostly waste
		} else {
			if len(b.text)+len(p) > cap(b.text) {
				b.text = make([]byte, 0, textSlab)
			}
			start := len(b.text)
			b.text = append(b.text, p...)
			s = unsafe.String(&b.text[start], len(p))
		}
	}
	if len(b.strs) == cap(b.strs) {
		b.strs = make([]string, 0, boxSlab)
	}
	b.strs = append(b.strs, s)
	return box(stringType, unsafe.Pointer(&b.strs[len(b.strs)-1]))
}

// bytes boxes p, which the caller made fresh for the value: only its slice header goes in a slab.
func (b *Boxer) bytes(p []byte) driver.Value {
	if len(b.slices) == cap(b.slices) {
		b.slices = make([][]byte, 0, boxSlab)
	}
	b.slices = append(b.slices, p)
	return box(bytesType, unsafe.Pointer(&b.slices[len(b.slices)-1]))
}
