package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// contentTypeExt maps a download's Content-Type to the extension its file gets (CARTO's
// Downloader CONTENT_TYPES_MAPPING).
var contentTypeExt = map[string]string{
	"text/csv":                             ".csv",
	"application/csv":                      ".csv",
	"text/comma-separated-values":          ".csv",
	"application/vnd.geo+json":             ".geojson",
	"application/geo+json":                 ".geojson",
	"application/json":                     ".json",
	"text/plain":                           ".txt",
	"application/vnd.google-earth.kml+xml": ".kml",
	"application/vnd.google-earth.kmz":     ".kmz",
	"application/gpx+xml":                  ".gpx",
	"application/zip":                      ".zip",
	"application/x-zip-compressed":         ".zip",
	"application/x-gzip":                   ".gz",
	"application/gzip":                     ".gz",
	"application/vnd.ms-excel":             ".xls",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
	"application/vnd.oasis.opendocument.spreadsheet":                    ".ods",
	"application/geopackage+sqlite3":                                    ".gpkg",
}

// Download is a fetched URL.
type Download struct {
	Path       string // the file, in the directory given
	Name       string // its name: Content-Disposition's, the URL's, or made up
	StatusCode int    // the HTTP status; 0 when none came
	ETag       string
	Modified   string // Last-Modified
}

// Fetch downloads rawURL into dir, streaming. HTTP 404 is 1100, 401 and 403 are 1101, another
// non-2xx 1001, an unresolvable host 1102 (CARTO's Downloader).
func Fetch(ctx context.Context, hc *http.Client, rawURL, dir string) (*Download, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, Failf(CodeDownload, "invalid URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, Fail(CodeDownload, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return nil, Fail(CodeUnknownServer, stripURL(err))
		}
		return nil, Fail(CodeDownload, stripURL(err))
	}
	defer resp.Body.Close()
	d := &Download{StatusCode: resp.StatusCode, ETag: resp.Header.Get("ETag"), Modified: resp.Header.Get("Last-Modified")}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return d, Failf(CodeNotFound, "HTTP %d", resp.StatusCode)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return d, Failf(CodeForbidden, "HTTP %d", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return d, Failf(CodeDownload, "HTTP %d", resp.StatusCode)
	}
	d.Name = downloadName(u, resp.Header)
	d.Path = filepath.Join(dir, d.Name)
	f, err := os.OpenFile(d.Path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return d, Fail(1000, err)
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		return d, Fail(1103, stripURL(err))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return d, Failf(1103, "got %d of %d bytes", n, resp.ContentLength)
	}
	return d, nil
}

// stripURL keeps a URL (which may carry credentials of the source) out of an error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// downloadName is the file name of a download: Content-Disposition's filename, else the URL's
// last segment if it has a supported extension, else a random name; an extension the
// Content-Type implies replaces a missing or unknown one.
func downloadName(u *url.URL, h http.Header) string {
	var name string
	if _, params, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = filepath.Base(filepath.Clean("/" + params["filename"]))
	}
	if name == "" || name == "/" || name == "." {
		base := path.Base(u.Path)
		if supported[Ext(base)] || IsArchive(base) {
			name = base
		}
	}
	if name == "" || name == "/" || name == "." {
		var b [8]byte
		_, _ = rand.Read(b[:])
		name = hex.EncodeToString(b[:])
	}
	if ct, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
		if ext, ok := contentTypeExt[strings.ToLower(ct)]; ok && !supported[Ext(name)] && !IsArchive(name) {
			name = strings.TrimSuffix(name, filepath.Ext(name)) + ext
		}
	}
	return strings.ReplaceAll(name, " ", "_")
}
