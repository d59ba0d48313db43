package sqlapi

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gocarto/carto/cartolocal/internal/pgvalue"
)

func TestCSVField(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", `hello "world"`: `"hello ""world"""`, "{1,2,3}": `"{1,2,3}"`,
		"a;b": `"a;b"`, "a\tb": "\"a\tb\"", "l1\r\nl2": "\"l1\r\nl2\"", "with space": "with space", "": "",
	} {
		if got := string(appendCSVField(nil, []byte(in))); got != want {
			t.Errorf("appendCSVField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlanColumns(t *testing.T) {
	fds := []pgconn.FieldDescription{
		{Name: "b", DataTypeOID: 23}, {Name: "a", DataTypeOID: 23}, {Name: "10", DataTypeOID: 25},
		{Name: "b", DataTypeOID: 25}, {Name: "2", DataTypeOID: 23}, {Name: "01", DataTypeOID: 23},
		{Name: "skip", DataTypeOID: 23}, {Name: "__proto__", DataTypeOID: 23},
	}
	cols := planColumns(fds, skipper([]string{"skip"}))
	var e pgvalue.Encoder
	row := appendRowObject(nil, &e, cols, [][]byte{[]byte("1"), []byte("2"), []byte("x"), []byte("y"), []byte("3"), []byte("4"), []byte("5"), []byte("6")})
	// JavaScript object order: array indexes ascending first, then insertion order; a repeated
	// name keeps its first place and its last value.
	if want := `{"2":3,"10":"x","b":"y","a":2,"01":4}`; string(row) != want {
		t.Errorf("row = %s, want %s", row, want)
	}
	fields := appendFields(nil, pgvalue.TypeNames{}, cols)
	if want := `{"2":{"type":"number","pgtype":"int4"},"10":{"type":"string","pgtype":"text"},"b":{"type":"string","pgtype":"text"},"a":{"type":"number","pgtype":"int4"},"01":{"type":"number","pgtype":"int4"}}`; string(fields) != want {
		t.Errorf("fields = %s, want %s", fields, want)
	}
}
