package importer

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxTablesPerImport is how many files of one archive CARTO imports; the rest are skipped with a
// max_tables_per_import warning.
const MaxTablesPerImport = 26

// supported are the extensions CARTO's importer accepts (Unp::SUPPORTED_FORMATS) without the
// archives, which Unpack opens.
var supported = words(".csv .shp .ods .xls .xlsx .tif .tiff .kml .kmz .js .json .osm .geojson .gpkg .gpx .tab .tsv .txt .gdb .fgdb")

// Ext is the lower-cased extension of name, counting .tar.gz as one.
func Ext(name string) string {
	l := strings.ToLower(name)
	if strings.HasSuffix(l, ".tar.gz") {
		return ".tar.gz"
	}
	return filepath.Ext(l)
}

// IsArchive reports whether Unpack opens files of name's kind (Unp::COMPRESSED_EXTENSIONS that
// we read). A kmz is unpacked as the zip it is, as CARTO's unp does, so its table is named after
// the KML inside (usually doc.kml gives "doc"). A .carto map export is a zip too: its .carto.json
// and the data of its tables come out of it.
func IsArchive(name string) bool {
	switch Ext(name) {
	case ".zip", ".gz", ".tgz", ".tar.gz", ".tar", ".kmz", ".carto":
		return true
	}
	return false
}

// Unpack returns the files to import from src: src itself, or what its archive holds (unpacked
// into dir). Hidden files, readme texts and shapefile sidecars are left out; more than
// MaxTablesPerImport files are cut, and skipped says how many were.
func Unpack(src, dir string) (files []string, skipped int, err error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, 0, Fail(1000, err)
	}
	if st.Size() == 0 {
		return nil, 0, Failf(CodeEmptyFile, "%s is empty", filepath.Base(src))
	}
	if !IsArchive(src) {
		if !supported[Ext(src)] {
			return nil, 0, Failf(CodeUnsupported, "%s: unsupported extension", filepath.Base(src))
		}
		return []string{src}, 0, nil
	}
	out := filepath.Join(dir, "unpacked")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, 0, Fail(1000, err)
	}
	if err := unpackInto(src, out); err != nil {
		return nil, 0, err
	}
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") || name == "__MACOSX" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		l := strings.ToLower(name)
		if strings.Contains(l, "readme") && strings.HasSuffix(l, ".txt") {
			return nil
		}
		if IsArchive(name) && Ext(name) != ".kmz" {
			// Archives in archives: CARTO's unp does not recurse either. A kmz in one is a
			// file GDAL reads as it is.
			return nil
		}
		if supported[Ext(name)] {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, 0, Fail(CodeDecompression, err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, 0, Failf(CodeUnsupported, "%s holds no file of a supported type", filepath.Base(src))
	}
	// The cut counts tables only: a .carto's map (its .carto.json) is no table
	// (Runner#table_files), and it stays, after them.
	var tables, maps []string
	for _, f := range files {
		if strings.HasSuffix(strings.ToLower(f), ".carto.json") {
			maps = append(maps, f)
		} else {
			tables = append(tables, f)
		}
	}
	if len(tables) > MaxTablesPerImport {
		skipped = len(tables) - MaxTablesPerImport
		tables = tables[:MaxTablesPerImport]
	}
	files = append(tables, maps...)
	return files, skipped, nil
}

// unpackInto unpacks the archive src into dir; kmz and .carto files are zips.
func unpackInto(src, dir string) error {
	switch Ext(src) {
	case ".zip", ".kmz", ".carto":
		return unzip(src, dir)
	case ".tar":
		f, err := os.Open(src)
		if err != nil {
			return Fail(1000, err)
		}
		defer f.Close()
		return untar(f, dir)
	case ".tgz", ".tar.gz":
		return gunzipTo(src, dir, true)
	default: // .gz
		return gunzipTo(src, dir, false)
	}
}

func gunzipTo(src, dir string, isTar bool) error {
	f, err := os.Open(src)
	if err != nil {
		return Fail(1000, err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return Fail(CodeDecompression, err)
	}
	defer z.Close()
	inner := strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	if isTar || Ext(inner) == ".tar" {
		return untar(z, dir)
	}
	return writeFile(filepath.Join(dir, inner), z)
}

func unzip(src, dir string) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return Fail(CodeDecompression, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Flags&0x1 != 0 {
			return Failf(1018, "%s is encrypted", f.Name)
		}
		target, ok := inside(dir, f.Name)
		if !ok || f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return Fail(CodeDecompression, err)
		}
		err = writeFile(target, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return Fail(CodeDecompression, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		target, ok := inside(dir, h.Name)
		if !ok {
			continue
		}
		if err := writeFile(target, tr); err != nil {
			return err
		}
	}
}

// inside is where an archive member named name goes under dir; a name that would leave dir
// (absolute, or climbing with ..) is skipped.
func inside(dir, name string) (string, bool) {
	clean := filepath.Clean("/" + filepath.ToSlash(name))
	if clean == "/" {
		return "", false
	}
	return filepath.Join(dir, clean), true
}

// writeFile copies r into a new file; a reader that fails mid-way is a broken archive.
func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Fail(1000, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return Fail(1000, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return Fail(CodeDecompression, fmt.Errorf("unpacking %s: %w", filepath.Base(path), err))
	}
	if err := f.Close(); err != nil {
		return Fail(1000, err)
	}
	return nil
}
