package column

import (
	"fmt"
	"math"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto/driver/internal/rowrec"
)

// FuzzNumberValue: a number read while downloading (rowrec's Int and Float) gives every kind of column
// the value its text gives (the text read after the trailer, as rowrec.Number), error for error.
func FuzzNumberValue(f *testing.F) {
	for _, s := range []string{
		"0", "-0", "7", "-12", "1.5", "1.50", "-0.0", "1e3", "1E+3", "2.5e-7", "1e999", "-1e999",
		"123456789012345678", "-123456789012345678", "1234567890123456789", "9223372036854775807",
		"9223372036854775808", "9223372036854776000", "-9223372036854775808", "0.1", "4e-324",
		"1.7976931348623157e308", "411522.3333333333",
	} {
		f.Add(s)
	}
	kinds := []kind{kindOther, kindText, kindInt, kindFloat, kindNumeric, kindBool, kindTimestamp,
		kindJSON, kindBytea, kindArray, kindGeometry}
	f.Fuzz(func(t *testing.T, text string) {
		if v := jsontext.Value(text); !v.IsValid() || v.Kind() != '0' {
			return
		}
		var names rowrec.Names
		var unq []byte
		rec, _, err := rowrec.AppendRow(nil, &unq, &names, []byte(`{"n":`+text+`}`))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		rd := rowrec.NewReader(rec)
		_, tag, val, ok, err := rd.Next()
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", text, ok, err)
		}
		for _, k := range kinds {
			fl := &Field{Name: "n", kind: k}
			var bx, bx2 Boxer
			got, gerr := Value(fl, tag, val, &bx)
			want, werr := Value(fl, rowrec.Number, []byte(text), &bx2)
			if (gerr == nil) != (werr == nil) {
				t.Fatalf("%s kind %d: error %v, from the text %v", text, k, gerr, werr)
			}
			if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want); g != w {
				if gf, ok := got.(float64); ok && math.IsNaN(gf) {
					continue
				}
				t.Fatalf("%s kind %d: %s, from the text %s", text, k, g, w)
			}
		}
	})
}
