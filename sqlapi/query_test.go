package sqlapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/sqlapi"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestQueryJSON writes a json answer to a writer: the bytes are CARTO's answer, whole.
func TestQueryJSON(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	var buf bytes.Buffer
	res, err := api.Query(testCtx(t), "SELECT g AS n FROM generate_series(1, 1000) g", &buf)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Rows      []map[string]int `json:"rows"`
		TotalRows int              `json:"total_rows"`
	}
	if err := json.Unmarshal(buf.Bytes(), &answer); err != nil {
		t.Fatal(err)
	}
	if len(answer.Rows) != 1000 || answer.TotalRows != 1000 || answer.Rows[999]["n"] != 1000 {
		t.Fatalf("%d rows, total %d", len(answer.Rows), answer.TotalRows)
	}
	if res.Bytes != int64(buf.Len()) || !strings.HasPrefix(res.ContentType, "application/json") {
		t.Fatalf("result %+v, %d bytes written", res, buf.Len())
	}
}

// TestQueryLateError: CARTO answers 200 and streams rows before the query fails; the error it
// appends to the body is Query's error, with the rows before it in the writer.
func TestQueryLateError(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	for _, f := range []sqlapi.Format{sqlapi.JSON, sqlapi.GeoJSON} {
		var buf bytes.Buffer
		_, err := api.Query(testCtx(t), `SELECT 1/(3-g) AS r, ST_MakePoint(g, g) AS the_geom FROM generate_series(1, 5) g`, &buf, sqlapi.WithFormat(f))
		var ce *carto.Error
		if !errors.As(err, &ce) || ce.StatusCode != 200 || ce.Message() != "division by zero" {
			t.Fatalf("%s: err = %v", f, err)
		}
		if !bytes.Contains(buf.Bytes(), []byte(`"error":["division by zero"]`)) {
			t.Fatalf("%s: body %s", f, buf.Bytes())
		}
	}
}

// TestQueryParameters: format, filename, skipfields and dp reach the server.
func TestQueryParameters(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	var buf bytes.Buffer
	res, err := api.Query(testCtx(t), `SELECT 1 AS a, 2 AS b, ST_SetSRID(ST_MakePoint(1.23456, 2.34567), 4326) AS the_geom`, &buf,
		sqlapi.WithFormat(sqlapi.GeoJSON), sqlapi.WithSkipFields("b"), sqlapi.WithDP(2), sqlapi.WithFilename("my export(1).csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[1.23,2.35]},"properties":{"a":1}}]}`
	if buf.String() != want {
		t.Fatalf("body\n%s\nwant\n%s", buf.String(), want)
	}
	if res.Filename != "my_export_1_.geojson" {
		t.Fatalf("filename %q", res.Filename)
	}
	buf.Reset()
	if _, err := api.Query(testCtx(t), `SELECT 1 AS a, 'x' AS b`, &buf, sqlapi.WithFormat(sqlapi.CSV)); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "a,b\r\n1,x\r\n" {
		t.Fatalf("csv %q", buf.String())
	}
}

// TestQueryError: an error before the answer began is a *carto.Error with CARTO's status.
func TestQueryError(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	_, err := api.Query(testCtx(t), `SELECT * FROM nope`, io.Discard, sqlapi.WithFormat(sqlapi.CSV))
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 || ce.Message() != `relation "nope" does not exist` {
		t.Fatalf("err = %v", err)
	}
}

// TestQueryCut: a body cut short is never a success. The cut is made by an httptest server
// standing in for CARTO, since a real server does not cut its answers on demand.
func TestQueryCut(t *testing.T) {
	bodies := []string{
		`{"rows":[{"a":1},{"a":2}`,
		`{"rows":[{"a":1}],"time":0.001,"fields":{"a":{"type":"number"}}`,
		`{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":null,"properties":{}}`,
	}
	for _, body := range bodies {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, body)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // cut the connection mid-body
		}))
		c, err := carto.NewClient(srv.URL+"/user/alice", carto.WithAPIKey("k"), carto.WithRetryPolicy(carto.NoRetries))
		if err != nil {
			t.Fatal(err)
		}
		_, err = sqlapi.New(c).Query(testCtx(t), "SELECT 1", io.Discard)
		if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: err = %v, want a cut connection", body, err)
		}
		srv.Close()
	}
}
