package imports_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// brokenGPX is a GPX whose start is well formed (GDAL opens it) and whose end is cut in the
// middle of a waypoint: loading it fails half way.
func brokenGPX() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<gpx version="1.1" creator="gocarto test" xmlns="http://www.topografix.com/GPX/1/1">` + "\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "<wpt lat=\"%d.5\" lon=\"2\"><name>p%d</name></wpt>\n", i%80, i)
	}
	b.WriteString("<wpt lat=\"1\" lon=\"2\"><name>bad & broken</name></wpt>\n<wpt lat=")
	return b.Bytes()
}

// Each code comes from an input that causes it, as on CARTO.
func TestErrorCodes(t *testing.T) {
	e, acct := newEnv(t, nil)
	cases := []struct {
		file    string
		content []byte
		code    int
	}{
		{"streets.cpg", []byte("UTF-8\n"), 1002},                             // a shapefile's sidecar alone
		{"broken.zip", []byte("PK\x03\x04 this is not a zip archive"), 1003}, // a broken archive
		{"empty.csv", nil, 1005},                                             // 0 bytes
		{"broken.gpx", brokenGPX(), 2001},                                    // ogr2ogr fails half way
		{"data.json", []byte(`{"rows":[{"a":1},{"a":2}]}`), 3007},            // JSON that is not GeoJSON
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			id := e.upload(t, acct, c.file, c.content, "")
			m := e.wait(t, acct, id)
			if m["state"] != "failure" || m["success"] != false {
				t.Fatalf("state %v success %v", m["state"], m["success"])
			}
			if got := int(m["error_code"].(float64)); got != c.code {
				t.Fatalf("error_code %d, want %d", got, c.code)
			}
			text := m["get_error_text"].(map[string]any)
			want := map[int]string{1002: "Unsupported/Unrecognized file type", 1003: "Decompression error", 1005: "Empty file",
				2001: "Unable to load data", 3007: "JSON may not be valid GeoJSON"}[c.code]
			if text["title"] != want || text["source"] != "user" || text["what_about"] == "" {
				t.Errorf("get_error_text %v", text)
			}
		})
	}

	t.Run("1100", func(t *testing.T) {
		src := httptest.NewServer(http.NotFoundHandler())
		defer src.Close()
		m := e.wait(t, acct, e.createJSON(t, acct, map[string]any{"url": src.URL + "/gone/data.csv"}))
		if m["error_code"] != float64(1100) || m["http_response_code"] != float64(404) || m["http_response_code_message"] != "Not Found" {
			t.Errorf("%v", m)
		}
		if m["data_type"] != "url" || m["display_name"] != "data.csv" || m["original_url"] != src.URL+"/gone/data.csv" {
			t.Errorf("%v", m)
		}
	})

	t.Run("8001", func(t *testing.T) {
		if err := e.srv.SetStorageQuota(context.Background(), acct.User, 100); err != nil {
			t.Fatal(err)
		}
		defer e.srv.SetStorageQuota(context.Background(), acct.User, 0)
		if got := e.failCode(t, acct, "capitals.csv", []byte(capitalsCSV)); got != 8001 {
			t.Errorf("error_code %d, want 8001", got)
		}
	})
}
