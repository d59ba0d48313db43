package rowrec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// TestAppendRow: a row's record gives back every member, in order, with names numbered across
// rows and strings unescaped.
func TestAppendRow(t *testing.T) {
	var names Names
	var unq []byte
	rows := []string{
		`{"a":1,"b":"x\"y\u00f1\\","c":null,"d":true,"e":[1,{"f":"]"}],"g":false}`,
		`{"b":"","a":-2.5e3,"h":{"k":"v"},"a":3}`,
	}
	want := [][]struct {
		name string
		tag  byte
		val  string
	}{
		{{"a", Number, "1"}, {"b", String, ""}, {"c", Null, ""}, {"d", True, ""}, {"e", Raw, `[1,{"f":"]"}]`}, {"g", False, ""}},
		{{"b", String, ""}, {"a", Number, "-2.5e3"}, {"h", Raw, `{"k":"v"}`}, {"a", Number, "3"}},
	}
	want[0][1].val = "x\"yñ\\"
	for i, row := range rows {
		rec, n, err := AppendRow(nil, &unq, &names, []byte(row))
		if err != nil || n != len(row) {
			t.Fatal(n, err)
		}
		rr := NewReader(rec)
		for j, w := range want[i] {
			idx, tag, val, ok, err := rr.Next()
			if err != nil || !ok {
				t.Fatalf("row %d member %d: %v %v", i, j, ok, err)
			}
			tag, val = numberText(t, tag, val)
			if names[idx] != w.name || tag != w.tag || !bytes.Equal(val, []byte(w.val)) {
				t.Errorf("row %d member %d: %s %d %q, want %s %d %q", i, j, names[idx], tag, val, w.name, w.tag, w.val)
			}
		}
		if _, _, _, ok, err := rr.Next(); ok || err != nil {
			t.Fatalf("row %d: more members (%v)", i, err)
		}
	}
	if len(names) != 7 {
		t.Fatalf("names %v", names)
	}
	for _, bad := range [][]byte{{0x80}, {0, String, 5, 'a'}} {
		rr := NewReader(bad)
		if _, _, _, _, err := rr.Next(); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}

// member is one member of a row as the oracle of FuzzAppendRow takes it apart.
type member struct {
	name string
	tag  byte
	val  string
}

// decodeRowJSON takes the row object at the start of b apart with the JSON decoder: the oracle of
// AppendRow. It returns the members and the bytes the object takes, or an error.
func decodeRowJSON(b []byte) ([]member, int, error) {
	d := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true))
	tok, err := d.ReadToken()
	if err != nil {
		return nil, 0, err
	}
	if tok.Kind() != '{' {
		return nil, 0, errors.New("not an object")
	}
	var out []member
	for d.PeekKind() != '}' {
		name, err := d.ReadToken()
		if err != nil {
			return nil, 0, err
		}
		m := member{name: name.String()}
		raw, err := d.ReadValue()
		if err != nil {
			return nil, 0, err
		}
		switch raw.Kind() {
		case '"':
			s, err := jsontext.AppendUnquote(nil, raw)
			if err != nil {
				return nil, 0, err
			}
			m.tag, m.val = String, string(s)
		case 'n':
			m.tag = Null
		case 't':
			m.tag = True
		case 'f':
			m.tag = False
		case '0':
			m.tag, m.val = Number, string(raw)
		default:
			m.tag, m.val = Raw, string(raw)
		}
		out = append(out, m)
	}
	if _, err := d.ReadToken(); err != nil {
		return nil, 0, err
	}
	return out, int(d.InputOffset()), nil
}

// FuzzAppendRow: the row scanner accepts exactly the row objects the JSON decoder accepts,
// and its record holds the members the decoder finds. Whatever follows the object (the next row)
// is not its business; bytes that end inside the object ask for more.
func FuzzAppendRow(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x\"y\u00f1\\","c":null,"d":true,"e":[1,{"f":"]"}],"g":false}`,
		`{"b":"","a":-2.5e3,"h":{"k":"v"},"a":3}`,
		`{ "a" : [ ] , "b" : { } }  ,{"a":2}`,
		`{"a":0.5E+07,"b":-0,"c":"\ud83d\ude00","d":"\ud800"}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":tru}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}",
		`{"a":[1,]}`, `{"a":{"b"}}`, `{"a":1,}`, `{,}`, `{}`, `{"a":"é"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 || b[0] != '{' {
			return
		}
		var names Names
		var unq []byte
		rec, n, err := AppendRow(nil, &unq, &names, b)
		want, wn, werr := decodeRowJSON(b)
		if err == ErrNeedMore {
			if werr == nil {
				t.Fatalf("%q: the scanner wants more, the decoder read %d bytes", b, wn)
			}
			return
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: scanner %v, decoder %v", b, err, werr)
		}
		if err != nil {
			return
		}
		if n != wn {
			t.Fatalf("%q: scanner took %d bytes, decoder %d", b, n, wn)
		}
		rr := NewReader(rec)
		for i, w := range want {
			idx, tag, val, ok, err := rr.Next()
			if err != nil || !ok {
				t.Fatalf("%q member %d: %v %v", b, i, ok, err)
			}
			tag, val = numberText(t, tag, val)
			if got := (member{names[idx], tag, string(val)}); got != w {
				t.Fatalf("%q member %d: %+v, want %+v", b, i, got, w)
			}
		}
		if _, _, _, ok, _ := rr.Next(); ok {
			t.Fatalf("%q: more members than the decoder found", b)
		}
	})
}

// numberText gives back a number read while downloading (Int, Float) as the Number and
// text it was read from, checking the value it holds against the text.
func numberText(t *testing.T, tag byte, val []byte) (byte, []byte) {
	t.Helper()
	switch tag {
	case Int:
		n, m := binary.Varint(val)
		if m != len(val) {
			t.Fatalf("Int %x", val)
		}
		return Number, strconv.AppendInt(nil, n, 10)
	case Float:
		f, err := strconv.ParseFloat(string(val[8:]), 64)
		if err != nil || math.Float64bits(f) != binary.LittleEndian.Uint64(val) {
			t.Fatalf("Float %x: the value is not the text's (%v)", val, err)
		}
		return Number, val[8:]
	}
	return tag, val
}
