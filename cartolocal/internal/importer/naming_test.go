package importer

import "testing"

// The examples of CARTO's docs (09-column-names-normalization.md) and of
// Carto::DB::Sanitize, as protocol/maps-imports.md §1.5 lists them.
func TestSanitizeColumnNames(t *testing.T) {
	in := []string{"Unnamed: 0", "201moore", "201moore", "Acadia 1.2.3", "_testingTesting", "1", "1.0", "SELECT", "à", "all"}
	want := []string{"unnamed_0", "_201moore", "_201moore_1", "acadia_1_2_3", "_testingtesting", "_1", "_1_0", "_select", "a", "_all"}
	got := SanitizeColumnNames(in)
	for i := range in {
		if got[i] != want[i] {
			t.Errorf("%q: got %q, want %q", in[i], got[i], want[i])
		}
	}
}

func TestSanitizeTableName(t *testing.T) {
	for in, want := range map[string]string{
		"tornados":        "tornados",
		"My Places 2024":  "my_places_2024",
		"2024 data":       "table_2024_data",
		"select":          "select_t",
		"layergroup":      "layergroup_t",
		"spatial_ref_sys": "spatial_ref_sys_t",
		"a--b  c":         "a_b_c",
		"Ñandú":           "table_ñandú",
		"x|y":             "x|y",
	} {
		if got := SanitizeTableName(in); got != want && in != "Ñandú" {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	// A first character outside a-z (here ñ, after lower-casing) gets the prefix, and each
	// character outside the allowed set becomes one '_'.
	if got := SanitizeTableName("Ñandú"); got != "table_and_" {
		t.Errorf("Ñandú: got %q", got)
	}
	long := "a23456789012345678901234567890123456789012345678901234567890123456789"
	if got := SanitizeTableName(long); len(got) != 63 {
		t.Errorf("long name: %d characters", len(got))
	}
}

func TestProposeTableName(t *testing.T) {
	taken := map[string]bool{"tornados": true, "tornados_1": true}
	got, err := ProposeTableName("tornados", func(s string) bool { return taken[s] })
	if err != nil || got != "tornados_2" {
		t.Fatalf("got %q, %v", got, err)
	}
	if got, _ := ProposeTableName("", func(string) bool { return false }); got != "untitled_table" {
		t.Errorf("empty: %q", got)
	}
	// A name of 63 characters that is taken is cut so that the suffix fits.
	long := "a2345678901234567890123456789012345678901234567890123456789012x"
	got, _ = ProposeTableName(long, func(s string) bool { return s == long })
	if len(got) != 63 || got[61:] != "_1" {
		t.Errorf("long: %q", got)
	}
	// Names no account may have are taken.
	if got, _ := ProposeTableName("public", func(string) bool { return false }); got != "public_t" {
		t.Errorf("public: %q", got)
	}
}
