package pgvalue

import (
	"testing"
)

// postgisTypmod builds a PostGIS typmod as liblwgeom does: srid, type, Z and M flags.
func postgisTypmod(srid int32, wkb int32, z, m bool) int32 {
	t := (srid << 8) & 0x0FFFFF00
	if srid < 0 {
		t |= 0x10000000
	}
	t |= wkb << 2
	if z {
		t |= 2
	}
	if m {
		t |= 1
	}
	return t
}

func TestFieldInfo(t *testing.T) {
	names := TypeNames{Ext: map[uint32]string{90001: "geometry", 90002: "geography", 90003: "raster"}}
	for _, tc := range []struct {
		oid    uint32
		typmod int32
		want   string
	}{
		{23, -1, `{"type":"number","pgtype":"int4"}`},
		{20, -1, `{"type":"number","pgtype":"int8"}`},
		{1700, -1, `{"type":"number","pgtype":"numeric"}`},
		{25, -1, `{"type":"string","pgtype":"text"}`},
		{1042, 7, `{"type":"string","pgtype":"bpchar"}`},
		{16, -1, `{"type":"boolean","pgtype":"bool"}`},
		{1082, -1, `{"type":"date","pgtype":"date"}`},
		{1083, -1, `{"type":"date","pgtype":"time"}`},
		{1184, -1, `{"type":"date","pgtype":"timestamptz"}`},
		{1186, -1, `{"type":"number","pgtype":"interval"}`},
		{114, -1, `{"type":"JSON","pgtype":"JSON"}`},
		{3802, -1, `{"type":"jsonb","pgtype":"jsonb"}`},
		{1007, -1, `{"type":"number[]","pgtype":"_int4"}`},
		{1009, -1, `{"type":"string[]","pgtype":"_text"}`},
		{1000, -1, `{"type":"boolean[]","pgtype":"_bool"}`},
		{3807, -1, `{"type":"_jsonb[]","pgtype":"_jsonb"}`},
		{2950, -1, `{"type":"uuid","pgtype":"uuid"}`},
		{17, -1, `{"type":"bytea","pgtype":"bytea"}`},
		{600, -1, `{"type":"number","pgtype":"point"}`},
		{3904, -1, `{"type":"number","pgtype":"int4range"}`},
		{3908, -1, `{"type":"tsrange","pgtype":"tsrange"}`},
		{3912, -1, `{"type":"date","pgtype":"daterange"}`},
		{1266, -1, `{"type":"date","pgtype":"timetz"}`},
		{790, -1, `{"type":"money","pgtype":"money"}`},
		{26, -1, `{"type":"oid","pgtype":"oid"}`},
		{19, -1, `{"type":"name","pgtype":"name"}`},
		{2970, -1, `{"type":"txid_snapshot","pgtype":"txid_snapshot"}`},
		{18561, -1, `{"type":"unknown(18561)"}`},
		{90001, postgisTypmod(4326, 0, false, false), `{"type":"geometry","wkbtype":"Unknown","dims":2,"srid":4326}`},
		{90001, postgisTypmod(4326, 3, false, false), `{"type":"geometry","wkbtype":"Polygon","dims":2,"srid":4326}`},
		{90001, postgisTypmod(4326, 1, true, false), `{"type":"geometry","wkbtype":"Point","dims":3,"srid":4326}`},
		{90001, postgisTypmod(4326, 1, true, true), `{"type":"geometry","wkbtype":"Point","dims":4,"srid":4326}`},
		{90001, postgisTypmod(3857, 6, false, false), `{"type":"geometry","wkbtype":"MultiPolygon","dims":2,"srid":3857}`},
		{90002, postgisTypmod(4326, 2, false, false), `{"type":"geography","wkbtype":"LineString","dims":2,"srid":4326}`},
		{90001, -1, `{"type":"geometry","dims":4,"srid":-1}`},
		{90003, -1, `{"type":"raster","dims":4,"srid":-1}`},
	} {
		got := string(AppendFieldInfo(nil, names.Name(tc.oid), tc.oid, tc.typmod))
		if got != tc.want {
			t.Errorf("oid %d typmod %d: got %s, want %s", tc.oid, tc.typmod, got, tc.want)
		}
	}
}
