package column

import (
	"fmt"
	"testing"

	"github.com/gocarto/carto/driver/internal/rowrec"
)

// BenchmarkValue is the conversion of the values of bench/driver's rows (a, b, d int4, c numeric,
// e float8) as the spool holds them, one row per iteration: most of what decoding a big numeric
// answer costs after the trailer.
func BenchmarkValue(b *testing.B) {
	fields := []Field{
		NewField("a", FieldJSON{Type: "number", PGType: "int4"}),
		NewField("b", FieldJSON{Type: "number", PGType: "int4"}),
		NewField("c", FieldJSON{Type: "number", PGType: "numeric"}),
		NewField("d", FieldJSON{Type: "number", PGType: "int4"}),
		NewField("e", FieldJSON{Type: "number", PGType: "float8"}),
	}
	const n = 1000
	type member struct {
		tag byte
		val []byte
	}
	var rows [][]member
	var names rowrec.Names
	var unq []byte
	for g := 1; g <= n; g++ {
		row := fmt.Sprintf(`{"a":%d,"b":%d,"c":%d.5,"d":%d,"e":%v}`, g, g*2, g/2, g%7, float64(g)/3)
		rec, _, err := rowrec.AppendRow(nil, &unq, &names, []byte(row))
		if err != nil {
			b.Fatal(err)
		}
		var ms []member
		rd := rowrec.NewReader(rec)
		for {
			_, tag, val, ok, err := rd.Next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			ms = append(ms, member{tag, val})
		}
		rows = append(rows, ms)
	}
	var bx Boxer
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for col, m := range rows[i%n] {
			if _, err := Value(&fields[col], m.tag, m.val, &bx); err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
}
