package imports_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/imports"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// capitals is a small CSV of three capitals (coordinates rounded from OpenStreetMap).
const capitals = "name,lat,lon,population\nMadrid,40.4168,-3.7038,3223000\nParis,48.8566,2.3522,2161000\nLisbon,38.7223,-9.1393,545000\n"

func scalar(t *testing.T, acct *cartotest.Account, sql string) string {
	t.Helper()
	var v any
	if err := acct.Server.AdminPool().QueryRow(context.Background(), sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return fmt.Sprint(v)
}

func TestUploadAndWait(t *testing.T) {
	acct := cartotest.New(t)
	c := imports.New(acct.Client(t))
	ctx := context.Background()
	var sent []int64
	imp, err := c.Upload(ctx, "capitals.csv", strings.NewReader(capitals), &imports.Options{
		Privacy: imports.Public, Progress: func(n int64) { sent = append(sent, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) == 0 || sent[len(sent)-1] != int64(len(capitals)) {
		t.Errorf("progress %v, want up to %d", sent, len(capitals))
	}
	var states []imports.State
	done, err := c.Wait(ctx, imp.ID, imports.OnChange(func(i *imports.Import) { states = append(states, i.State) }),
		imports.PollInterval(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if done.TableName != "capitals" || done.TableID == "" || done.TablesCreated != 1 || !done.Success || done.DisplayName != "capitals.csv" || done.DataType != "file" {
		t.Errorf("%+v", done)
	}
	if states[len(states)-1] != imports.Complete {
		t.Errorf("states %v", states)
	}
	if got := scalar(t, acct, `SELECT count(*) FROM "`+acct.User+`".capitals WHERE GeometryType(the_geom) = 'POINT'`); got != "3" {
		t.Errorf("%s points", got)
	}
	// The dataset is public: the public key reads it.
	if got := scalar(t, acct, `SELECT has_table_privilege('publicuser', '"`+acct.User+`".capitals', 'SELECT')`); got != "true" {
		t.Errorf("public dataset not readable")
	}
	ids, err := c.List(ctx)
	if err != nil || len(ids) != 0 {
		t.Errorf("List: %v %v", ids, err)
	}

	// create_vis: a map of the new dataset comes with the import.
	imp, err = c.Upload(ctx, "capitals.csv", strings.NewReader(capitals), &imports.Options{CreateVis: true})
	if err != nil {
		t.Fatal(err)
	}
	done, err = c.Wait(ctx, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !done.CreateVisualization || done.VisualizationID == "" || done.DerivedVisualizationID != done.VisualizationID || done.TableName != "capitals_1" {
		t.Errorf("create_vis: %+v", done)
	}
	if got := scalar(t, acct, `SELECT type || ' ' || array_to_string(tables, ',') FROM cartolocal.visualizations WHERE id = '`+done.VisualizationID+`'`); got != "derived capitals_1" {
		t.Errorf("the map: %s", got)
	}
}

// rows is a CSV made on the fly, never held whole: a header and n rows.
type rows struct {
	n, i int
	buf  []byte
}

func (r *rows) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.i <= r.n {
		if r.i == 0 {
			r.buf = append(r.buf, "id,name,lat,lon\n"...)
		} else {
			r.buf = fmt.Appendf(r.buf, "%d,place %d,%.4f,%.4f\n", r.i, r.i, float64(r.i%170)-85, float64(r.i%350)-175)
		}
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// A larger upload streams from a reader that is never whole in memory.
func TestUploadStreams(t *testing.T) {
	acct := cartotest.New(t)
	c := imports.New(acct.Client(t))
	ctx := context.Background()
	var last int64
	imp, err := c.Upload(ctx, "many.csv", &rows{n: 100000}, &imports.Options{Progress: func(n int64) { last = n }})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Wait(ctx, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last < 3<<20 {
		t.Errorf("progress ended at %d bytes", last)
	}
	if got := scalar(t, acct, `SELECT count(*) FROM "`+acct.User+`"."`+done.TableName+`" WHERE the_geom IS NOT NULL`); got != "100000" {
		t.Errorf("%s rows", got)
	}
}

func TestFailures(t *testing.T) {
	acct := cartotest.New(t)
	c := imports.New(acct.Client(t))
	ctx := context.Background()
	imp, err := c.Upload(ctx, "empty.csv", strings.NewReader(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Wait(ctx, imp.ID)
	var ie *imports.ImportError
	if !errors.As(err, &ie) || ie.Code != 1005 || ie.Title != "Empty file" || ie.Source != "user" || !strings.Contains(ie.Advice, "no processable information") {
		t.Fatalf("%#v", err)
	}

	src := httptest.NewServer(http.NotFoundHandler())
	defer src.Close()
	imp, err = c.FromURL(ctx, src.URL+"/missing.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Wait(ctx, imp.ID)
	if !errors.As(err, &ie) || ie.Code != 1100 || ie.HTTPStatus != 404 || done.State != imports.Failure {
		t.Fatalf("%v %+v", err, done)
	}

	if err := acct.Server.SetStorageQuota(ctx, acct.User, 64); err != nil {
		t.Fatal(err)
	}
	imp, err = c.Upload(ctx, "capitals.csv", strings.NewReader(capitals), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.Wait(ctx, imp.ID); !errors.As(err, &ie) || ie.Code != 8001 {
		t.Fatalf("quota: %v", err)
	}
	acct.Server.SetStorageQuota(ctx, acct.User, 0)

	// Another account's key: CARTO's empty 401.
	other := cartotest.New(t)
	bad, err := carto.NewClient(acct.URL, carto.WithAPIKey(other.MasterKey), carto.WithRetryPolicy(carto.NoRetries))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imports.New(bad).List(ctx); err == nil {
		t.Fatal("another account's key was accepted")
	}
}

func TestFromURLQueryConnector(t *testing.T) {
	acct := cartotest.New(t)
	c := imports.New(acct.Client(t))
	ctx := context.Background()
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, capitals)
	}))
	defer src.Close()
	imp, err := c.FromURL(ctx, src.URL+"/Capitals.CSV", &imports.Options{NoTypeGuessing: true})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Wait(ctx, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The URL is kept as given (carto-python lower-cases it), and type_guessing=false holds.
	if done.TableName != "capitals" || done.OriginalURL != src.URL+"/Capitals.CSV" || done.TypeGuessing {
		t.Errorf("%+v", done)
	}
	if got := scalar(t, acct, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '"`+acct.User+`".capitals'::regclass AND attname = 'population'`); got != "text" {
		t.Errorf("population is %s", got)
	}

	imp, err = c.FromQuery(ctx, "SELECT name, the_geom FROM capitals WHERE name = 'Paris'", "paris", nil)
	if err != nil {
		t.Fatal(err)
	}
	if done, err = c.Wait(ctx, imp.ID); err != nil || done.TableName != "paris" || done.DataType != "query" {
		t.Fatalf("%v %+v", err, done)
	}

	// A connector to a second database of the same PostgreSQL.
	db := "conn_" + acct.User
	admin := acct.Server.AdminPool()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)") })
	cfg, err := pgx.ParseConfig(acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = db
	pc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pc.Exec(ctx, "CREATE TABLE parks (name text, lat float8, lng float8); INSERT INTO parks VALUES ('Retiro', 40.4153, -3.6845), ('Bois', 48.8625, 2.2491)")
	pc.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn := imports.Connector{Provider: "postgres", Table: "parks", Connection: imports.Connection{
		Server: cfg.Host, Port: int(cfg.Port), Database: db, Username: cfg.User, Password: cfg.Password, SSLMode: "disable"}}
	imp, err = c.FromConnector(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if done, err = c.Wait(ctx, imp.ID); err != nil || done.TableName != "parks" {
		t.Fatalf("%v %+v", err, done)
	}
	if got := scalar(t, acct, `SELECT count(*) FROM "`+acct.User+`".parks WHERE the_geom IS NOT NULL`); got != "2" {
		t.Errorf("parks: %s with geometry", got)
	}
	conn.Provider = "mysql"
	imp, err = c.FromConnector(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ie *imports.ImportError
	if _, err = c.Wait(ctx, imp.ID); !errors.As(err, &ie) || ie.Code != 1501 || strings.Contains(err.Error(), cfg.Password) {
		t.Fatalf("mysql: %v", err)
	}
}

func TestSyncs(t *testing.T) {
	acct := cartotest.New(t)
	c := imports.New(acct.Client(t))
	ctx := context.Background()
	var mu sync.Mutex
	body := capitals
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(w, body)
	}))
	defer src.Close()
	_, err := c.CreateSync(ctx, imports.SyncSpec{URL: src.URL + "/capitals.csv", Interval: 10 * time.Minute})
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 || !strings.Contains(ce.Message(), "Sync interval must be at least 15 minutes") {
		t.Fatalf("10 minutes: %v", err)
	}
	s, err := c.CreateSync(ctx, imports.SyncSpec{URL: src.URL + "/capitals.csv", Interval: imports.MinInterval})
	if err != nil {
		t.Fatal(err)
	}
	if s.State != imports.SyncQueued || s.ImportID == "" || s.Interval != 15*time.Minute || s.RanAt.IsZero() {
		t.Errorf("%+v", s)
	}
	var states []imports.SyncState
	s, err = c.WaitSync(ctx, s.ID, imports.OnSyncChange(func(s *imports.Sync) { states = append(states, s.State) }))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "capitals" || s.VisualizationID == "" || s.State != imports.SyncSuccess {
		t.Errorf("%+v (states %v)", s, states)
	}
	// Within 15 minutes of the last run, CARTO does not run it again.
	if enq, err := c.ForceSync(ctx, s.ID); err != nil || enq {
		t.Errorf("ForceSync: %v %v", enq, err)
	}
	list, err := c.ListSyncs(ctx)
	if err != nil || len(list) != 1 || list[0].ID != s.ID {
		t.Errorf("ListSyncs: %v %v", list, err)
	}
	if err := c.DeleteSync(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSync(ctx, s.ID); !carto.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	if got := scalar(t, acct, `SELECT count(*) FROM "`+acct.User+`".capitals`); got != "3" {
		t.Errorf("the table: %s rows", got)
	}
}
