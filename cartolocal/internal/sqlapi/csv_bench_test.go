package sqlapi_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// BenchmarkCSVExport compares the two ways to answer format=csv for 100,000 rows: cartolocal's
// own streamed writer (what it serves), and ogr2ogr run with CARTO's CSV arguments into a file that
// is then read out, as CARTO's ogr.js does. Run with
//
//	go test -run '^$' -bench CSVExport ./cartolocal/internal/sqlapi
//
// and compare the two ns/op; the ratio is what serving CSV through ogr2ogr would cost.
func BenchmarkCSVExport(b *testing.B) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		b.Skip("no ogr2ogr")
	}
	acct := cartotest.New(b)
	acct.Exec(b, `CREATE TABLE places AS SELECT g AS cartodb_id, 'place '||g AS name, g/3.0::float8 AS v,
		ST_SetSRID(ST_MakePoint(g % 180, g % 90), 4326) AS the_geom FROM generate_series(1, 100000) g`)
	const q = "SELECT * FROM places"

	b.Run("streamed", func(b *testing.B) {
		form := url.Values{"q": {q}, "format": {"csv"}, "api_key": {acct.MasterKey}}.Encode()
		for b.Loop() {
			resp, err := http.Post(sqlURL(acct), "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%d, %d bytes, %v", resp.StatusCode, n, err)
			}
			b.SetBytes(n)
		}
	})

	b.Run("ogr2ogr", func(b *testing.B) {
		u, err := url.Parse(acct.PGURL)
		if err != nil {
			b.Fatal(err)
		}
		pass, _ := u.User.Password()
		pg := "PG:host=" + u.Hostname() + " port=" + u.Port() + " user=" + u.User.Username() + " dbname=" + strings.TrimPrefix(u.Path, "/")
		// The columns as CARTO's ogr.js lists them for CSV: the_geom first, each cast to text.
		sql := `SELECT "the_geom"::text,"cartodb_id"::text,"name"::text,"v"::text FROM (SELECT * FROM ` + acct.User + `.places) as _cartodbsqlapi`
		dir := b.TempDir()
		for b.Loop() {
			out := filepath.Join(dir, "cartodb-query.csv")
			cmd := exec.Command("ogr2ogr", "-f", "CSV", "-lco", "RESIZE=YES", "-lco", "ENCODING=UTF-8",
				"-lco", "STRING_QUOTING=IF_NEEDED", "-lco", "LINEFORMAT=CRLF", out, pg, "-sql", sql, "-nln", "cartodb-query")
			cmd.Env = append(os.Environ(), "PGPASSWORD="+pass, "PGSSLMODE=disable")
			if o, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, o)
			}
			f, err := os.Open(out)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, f)
			f.Close()
			os.Remove(out)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
		}
	})
}
