package sqlapi

import (
	"slices"
	"strconv"

	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/gocarto/carto/cartolocal/internal/pgvalue"
	"github.com/jackc/pgx/v5/pgconn"
)

// column is one key of CARTO's row objects.
type column struct {
	name   string
	key    []byte // `"name":`, escaped once
	src    int    // the value's index in the row: the last column of that name
	oid    uint32
	typmod int32
	codec  pgvalue.Codec
}

// planColumns turns a row description into the keys of CARTO's row objects, which node-postgres
// builds as JavaScript objects: a repeated name keeps its first position and its last value, keys
// that are array indexes ("0", "17") come first in numeric order, skipped names are deleted, and
// "__proto__" is no key at all.
func planColumns(fds []pgconn.FieldDescription, skip func(name string) bool) []column {
	cols := make([]column, 0, len(fds))
	pos := make(map[string]int, len(fds))
	for i, fd := range fds {
		if fd.Name == "__proto__" {
			// Assigning it sets the JavaScript object's prototype: it never becomes a key.
			continue
		}
		c := column{name: fd.Name, src: i, oid: fd.DataTypeOID, typmod: fd.TypeModifier, codec: pgvalue.CodecFor(fd.DataTypeOID)}
		if j, ok := pos[fd.Name]; ok {
			c.key = cols[j].key
			cols[j] = c
			continue
		}
		c.key = append(jsjson.AppendString(nil, fd.Name), ':')
		pos[fd.Name] = len(cols)
		cols = append(cols, c)
	}
	if skip != nil {
		cols = slices.DeleteFunc(cols, func(c column) bool { return skip(c.name) })
	}
	// Array-index keys first, ascending, as JavaScript orders an object's own keys.
	slices.SortStableFunc(cols, func(a, b column) int {
		ai, aok := arrayIndex(a.name)
		bi, bok := arrayIndex(b.name)
		switch {
		case aok && bok:
			switch {
			case ai < bi:
				return -1
			case ai > bi:
				return 1
			}
			return 0
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	return cols
}

// arrayIndex reports whether name is a canonical array index (0 … 2^32-2), the keys JavaScript
// lists before all others.
func arrayIndex(name string) (uint64, bool) {
	if name == "" || len(name) > 10 || (len(name) > 1 && name[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(name, 10, 64)
	if err != nil || n > 4294967294 {
		return 0, false
	}
	return n, true
}

// skipper returns a predicate for the skipfields list, nil when it is empty.
func skipper(names []string) func(string) bool {
	if len(names) == 0 {
		return nil
	}
	return func(n string) bool { return slices.Contains(names, n) }
}

// appendRowObject appends {"key":value,...} for one row.
func appendRowObject(b []byte, enc *pgvalue.Encoder, cols []column, vals [][]byte) []byte {
	b = append(b, '{')
	for i := range cols {
		c := &cols[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, c.key...)
		var v []byte
		if c.src < len(vals) {
			v = vals[c.src]
		}
		b = enc.AppendValue(b, c.codec, v)
	}
	return append(b, '}')
}

// appendFields appends the "fields" object for cols.
func appendFields(b []byte, names pgvalue.TypeNames, cols []column) []byte {
	b = append(b, '{')
	for i := range cols {
		c := &cols[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, c.key...)
		b = pgvalue.AppendFieldInfo(b, names.Name(c.oid), c.oid, c.typmod)
	}
	return append(b, '}')
}
