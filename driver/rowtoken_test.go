package driver

import (
	"bytes"
	"testing"
)

// TestTokenizeRow: a row's record gives back every member, in order, with names numbered across
// rows and strings unescaped.
func TestTokenizeRow(t *testing.T) {
	var names rowNames
	var sc rowScanner
	rows := []string{
		`{"a":1,"b":"x\"y\u00f1\\","c":null,"d":true,"e":[1,{"f":"]"}],"g":false}`,
		`{"b":"","a":-2.5e3,"h":{"k":"v"},"a":3}`,
	}
	want := [][]struct {
		name string
		tag  byte
		val  string
	}{
		{{"a", tagNumber, "1"}, {"b", tagString, ""}, {"c", tagNull, ""}, {"d", tagTrue, ""}, {"e", tagRaw, `[1,{"f":"]"}]`}, {"g", tagFalse, ""}},
		{{"b", tagString, ""}, {"a", tagNumber, "-2.5e3"}, {"h", tagRaw, `{"k":"v"}`}, {"a", tagNumber, "3"}},
	}
	want[0][1].val = "x\"yñ\\"
	for i, row := range rows {
		rec, err := tokenizeRow(nil, &sc, &names, []byte(row))
		if err != nil {
			t.Fatal(err)
		}
		rr := recordReader{b: rec}
		for j, w := range want[i] {
			idx, tag, val, ok, err := rr.next()
			if err != nil || !ok {
				t.Fatalf("row %d member %d: %v %v", i, j, ok, err)
			}
			if names.names[idx] != w.name || tag != w.tag || !bytes.Equal(val, []byte(w.val)) {
				t.Errorf("row %d member %d: %s %d %q, want %s %d %q", i, j, names.names[idx], tag, val, w.name, w.tag, w.val)
			}
		}
		if _, _, _, ok, err := rr.next(); ok || err != nil {
			t.Fatalf("row %d: more members (%v)", i, err)
		}
	}
	if len(names.names) != 7 {
		t.Fatalf("names %v", names.names)
	}
	for _, bad := range [][]byte{{0x80}, {0, tagString, 5, 'a'}} {
		rr := recordReader{b: bad}
		if _, _, _, _, err := rr.next(); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}
