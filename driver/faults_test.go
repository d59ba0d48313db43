package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// The tests in this file script the server's answers with httptest: cartolocal cannot be made
// to answer a rate limit, a 503 or a dropped connection on demand, as a real CARTO behind its
// load balancers can. Everything else is tested against cartolocal.

type scripted struct {
	status int
	header map[string]string
	body   string
}

// scriptServer answers the n-th request with script[n] (the last one repeats) and counts them.
func scriptServer(t *testing.T, script ...scripted) (dsn string, requests *atomic.Int32, queries *[]string) {
	t.Helper()
	var n atomic.Int32
	var mu sync.Mutex
	var qs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if err := r.ParseForm(); err == nil {
			mu.Lock()
			qs = append(qs, r.PostForm.Get("q"))
			mu.Unlock()
		}
		if user, key, ok := r.BasicAuth(); !ok || user != "alice" || key != "k" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":["Unauthorized"]}`)
			return
		}
		s := script[min(i, len(script)-1)]
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return "carto://alice:k@" + u.Host + "/user/alice?sslmode=disable", &n, &qs
}

const okBody = `{"rows":[{"n":1}],"time":0.001,"fields":{"n":{"type":"number","pgtype":"int4"}},"total_rows":1}`

var (
	rateLimited = scripted{429, map[string]string{"Retry-After": "1", "Carto-Rate-Limit-Limit": "10",
		"Carto-Rate-Limit-Remaining": "0", "Carto-Rate-Limit-Reset": "1"},
		`{"error":["You are over platform's limits. Please contact us to know more details"],"context":"limit","detail":"rate-limit"}`}
	statementTimeout = scripted{429, nil, `{"error":["You are over platform's limits: SQL query timeout error. ` +
		`Refactor your query before running again or contact CARTO support for more details."],"context":"limit","detail":"datasource"}`}
	unavailable = scripted{503, nil, `<html><body><h1>503 Service Unavailable</h1></body></html>`}
	ok          = scripted{200, nil, okBody}
)

// fromScript opens a *sql.DB on a scripted server through a client whose retry waits are
// recorded instead of slept.
func fromScript(t *testing.T, dsn string) (db *sql.DB, waits *[]time.Duration) {
	t.Helper()
	cfg, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := carto.DefaultRetryPolicy
	p.Wait = func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
	waits = new([]time.Duration)
	client, err := carto.NewClient(cfg.BaseURL, carto.WithAPIKey(cfg.APIKey), carto.WithRetryPolicy(p))
	if err != nil {
		t.Fatal(err)
	}
	db = OpenDBFromClient(client)
	t.Cleanup(func() { db.Close() })
	return db, waits
}

func TestRetryRateLimit(t *testing.T) {
	dsn, n, _ := scriptServer(t, rateLimited, ok)
	db, waits := fromScript(t, dsn)
	var v int
	if err := db.QueryRow("SELECT 1 AS n").Scan(&v); err != nil || v != 1 {
		t.Fatalf("%d, %v", v, err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
	if len(*waits) != 1 || (*waits)[0] < time.Second {
		t.Errorf("waits %v; Retry-After said 1s", *waits)
	}
	// A write is retried too: a rate-limited request was not run.
	dsn, n, _ = scriptServer(t, rateLimited, ok)
	db, _ = fromScript(t, dsn)
	if _, err := db.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Errorf("INSERT: %d requests, want 2", n.Load())
	}
}

func TestNoRetryStatementTimeout(t *testing.T) {
	dsn, n, _ := scriptServer(t, statementTimeout, ok)
	_, err := openDSN(t, dsn).Query("SELECT pg_sleep(60)")
	if !carto.IsTimeout(err) {
		t.Errorf("err = %v, want a statement timeout", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
}

func TestRetry503OnlyReadOnly(t *testing.T) {
	dsn, n, _ := scriptServer(t, unavailable, ok)
	var v int
	if err := openDSN(t, dsn).QueryRow("SELECT 1 AS n").Scan(&v); err != nil || v != 1 {
		t.Fatalf("SELECT after a 503: %d, %v", v, err)
	}
	if n.Load() != 2 {
		t.Errorf("SELECT: %d requests, want 2", n.Load())
	}

	// An INSERT may have run before the 503: it is not sent again.
	dsn, n, _ = scriptServer(t, unavailable, ok)
	_, err := openDSN(t, dsn).Exec("INSERT INTO t VALUES (1)")
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 503 || !strings.Contains(ce.Message(), "503 Service Unavailable") {
		t.Errorf("INSERT: %v", err)
	}
	if errors.Is(err, driver.ErrBadConn) {
		t.Error("a 503 was turned into ErrBadConn; database/sql would send the INSERT again")
	}
	if n.Load() != 1 {
		t.Errorf("INSERT: %d requests, want 1", n.Load())
	}

	// max_retries=0 sends once.
	dsn, n, _ = scriptServer(t, unavailable, ok)
	if _, err := openDSN(t, dsn+"&max_retries=0").Query("SELECT 1"); err == nil {
		t.Error("max_retries=0: the 503 was retried")
	}
	if n.Load() != 1 {
		t.Errorf("max_retries=0: %d requests", n.Load())
	}
}

// A request that never left (nothing listens) is tried as often as the retry policy says and
// no more (issue 9 item 4): it is not driver.ErrBadConn, which would have database/sql repeat
// the client's retries twice over. The *carto.Error is there, without the key.
func TestUnreachableAttempts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var dials atomic.Int32
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	for _, tt := range []struct {
		dsn   string
		dials int32
	}{
		{"&max_retries=0", 1},
		{"&max_retries=2", 3},
	} {
		dials.Store(0)
		cfg, err := ParseDSN("carto://alice:k@" + addr + "/user/alice?sslmode=disable" + tt.dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.HTTPClient = hc
		db := OpenDB(cfg)
		_, err = db.Exec("INSERT INTO t VALUES (1)")
		db.Close()
		var ce *carto.Error
		if !errors.As(err, &ce) || ce.Sent || ce.StatusCode != 0 {
			t.Fatalf("%s: err = %#v (%v), want an unsent *carto.Error", tt.dsn, err, err)
		}
		if errors.Is(err, driver.ErrBadConn) {
			t.Errorf("%s: err = %v is driver.ErrBadConn", tt.dsn, err)
		}
		if strings.Contains(err.Error(), ":k@") {
			t.Errorf("error shows the key: %v", err)
		}
		if got := dials.Load(); got != tt.dials {
			t.Errorf("%s: %d dials, want %d", tt.dsn, got, tt.dials)
		}
	}
}

// A trailer error in an answer that was scripted (HTTP 200, error after the rows) and answers
// that are not the SQL API's.
func TestScriptedBadAnswers(t *testing.T) {
	for _, tt := range []struct {
		body, want string
	}{
		{`{"rows":[{"n":1}],"time":0,"fields":{"n":{"type":"number","pgtype":"int4"}},"total_rows":1,"error":["canceling statement due to user request"]}`, "canceling statement"},
		{`<html>Welcome to nginx</html>`, "invalid character"},
		{`{"rows":[{"n":1}],"time":0,"fields":{"n":{"type":"number","pgtype":"int4"}},"total_rows":2}`, "total_rows says 2"},
		{`{"rows":[{"n":1}],"time":0,"fiel`, "ended before its JSON did"},
	} {
		dsn, _, _ := scriptServer(t, scripted{200, nil, tt.body})
		_, err := openDSN(t, dsn).Query("SELECT 1 AS n")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.body, err, tt.want)
		}
	}
}

// cutProxy forwards connections to target but passes only the first limit bytes of each
// answer, then drops the connection: a load balancer or network failing mid-body.
func cutProxy(t *testing.T, target string, limit int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.CopyN(c, s, limit)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestConnectionCutMidBody(t *testing.T) {
	acct := cartotest.New(t)
	u, _ := url.Parse(acct.URL)
	proxy := cutProxy(t, u.Host, 64<<10)
	dsn := strings.Replace(acct.DSN(), u.Host, proxy, 1)
	db := openDSN(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT i, md5(i::text) AS h FROM generate_series(1, 50000) i")
	if err == nil {
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		t.Fatalf("QueryContext succeeded on a cut answer and yielded %d rows", n)
	}
	if !errors.Is(err, errTruncated) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want a truncated answer", err)
	}
	t.Logf("cut answer: %v", err)
}

// TestZeroConfigRetries: a Config built by hand, with no MaxRetries, retries as the default
// policy does (issue 9 item 12); MaxRetries -1 and max_retries=0 send once.
func TestZeroConfigRetries(t *testing.T) {
	dsn, n, _ := scriptServer(t, unavailable, ok)
	cfg, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := OpenDB(&Config{BaseURL: cfg.BaseURL, APIKey: "k"})
	defer db.Close()
	var v int
	if err := db.QueryRow("SELECT 1 AS n").Scan(&v); err != nil || v != 1 {
		t.Fatalf("a zero MaxRetries did not retry a 503: %d, %v", v, err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}

	dsn, n, _ = scriptServer(t, unavailable, ok)
	cfg, _ = ParseDSN(dsn)
	db2 := OpenDB(&Config{BaseURL: cfg.BaseURL, APIKey: "k", MaxRetries: -1})
	defer db2.Close()
	if _, err := db2.Query("SELECT 1"); err == nil || n.Load() != 1 {
		t.Errorf("MaxRetries -1: %v after %d requests, want the 503 after 1", err, n.Load())
	}
}
