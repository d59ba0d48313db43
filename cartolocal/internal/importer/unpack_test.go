package importer

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A .carto is a zip; MaxTablesPerImport counts its tables, not its map, which stays.
func TestUnpackCartoFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "big.carto")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	const id = "5bfdae82-0c4a-11e6-ae6e-080027880ca6"
	for i := range MaxTablesPerImport + 1 {
		w, _ := zw.Create(id + "/t" + string(rune('a'+i/10)) + string(rune('a'+i%10)) + ".csv")
		w.Write([]byte("a\n1\n"))
	}
	w, _ := zw.Create(id + "/" + id + ".carto.json")
	w.Write([]byte(`{"version":"2.0.0"}`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	files, skipped, err := Unpack(src, filepath.Join(dir, "work"))
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 1 || len(files) != MaxTablesPerImport+1 || !strings.HasSuffix(files[len(files)-1], id+".carto.json") {
		t.Fatalf("skipped %d, files %v", skipped, files)
	}
	// A kmz is unpacked too: the KML inside is the file to import.
	kmz := filepath.Join(dir, "route.kmz")
	f, _ = os.Create(kmz)
	zw = zip.NewWriter(f)
	w, _ = zw.Create("doc.kml")
	w.Write([]byte("<kml/>"))
	zw.Close()
	f.Close()
	if files, _, err := Unpack(kmz, filepath.Join(dir, "work2")); err != nil || len(files) != 1 || filepath.Base(files[0]) != "doc.kml" {
		t.Fatalf("kmz: %v %v", files, err)
	}
}
