package batch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// jobSamples are the status and body CARTO's SQL API 6.0.0 answered in the captures
// shared/protocol/sqlapi-samples/50-76 (user vizzuality).
var jobSamples = map[string]struct {
	status int
	body   string
}{
	"50": {201, `{"user":"vizzuality","query":"insert into txtest values (100, 'batch')","job_id":"10d29b0f-6e63-410a-af48-aae192cdca37","created_at":"2026-11-24T18:12:00.750Z","updated_at":"2026-11-24T18:12:00.750Z","status":"pending"}`},
	"51": {200, `{"user":"vizzuality","status":"done","query":"insert into txtest values (100, 'batch')","created_at":"2026-11-24T18:12:00.750Z","updated_at":"2026-11-24T18:12:00.762Z","job_id":"10d29b0f-6e63-410a-af48-aae192cdca37"}`},
	"52": {201, `{"user":"vizzuality","query":"select pg_sleep(30)","job_id":"3d9de462-a30b-463f-b292-8684ce4384ee","created_at":"2026-11-24T18:12:03.512Z","updated_at":"2026-11-24T18:12:03.512Z","status":"pending"}`},
	"53": {200, `{"user":"vizzuality","status":"running","query":"select pg_sleep(30)","created_at":"2026-11-24T18:12:03.512Z","updated_at":"2026-11-24T18:12:03.519Z","job_id":"3d9de462-a30b-463f-b292-8684ce4384ee"}`},
	"54": {200, `{"user":"vizzuality","status":"cancelled","query":"select pg_sleep(30)","created_at":"2026-11-24T18:12:03.512Z","updated_at":"2026-11-24T18:12:06.238Z","job_id":"3d9de462-a30b-463f-b292-8684ce4384ee"}`},
	"55": {200, `{"user":"vizzuality","status":"cancelled","query":"select pg_sleep(30)","created_at":"2026-11-24T18:12:03.512Z","updated_at":"2026-11-24T18:12:06.238Z","job_id":"3d9de462-a30b-463f-b292-8684ce4384ee"}`},
	"56": {400, `{"error":["Cannot set status from cancelled to cancelled"]}`},
	"57": {201, `{"user":"vizzuality","query":"select * from no_such_table","job_id":"5934a353-d344-4655-aeaf-cb5a507ad8cb","created_at":"2026-11-24T18:12:08.112Z","updated_at":"2026-11-24T18:12:08.112Z","status":"pending"}`},
	"58": {200, `{"user":"vizzuality","status":"failed","query":"select * from no_such_table","created_at":"2026-11-24T18:12:08.112Z","updated_at":"2026-11-24T18:12:08.122Z","failed_reason":"relation \"no_such_table\" does not exist","job_id":"5934a353-d344-4655-aeaf-cb5a507ad8cb"}`},
	"59": {400, `{"error":["Job with id 00000000-0000-0000-0000-000000000000 not found"]}`},
	"60": {403, `{"error":["permission denied"]}`},
	"64": {400, `{"error":["You must indicate a valid SQL"]}`},
	"65": {201, `{"user":"vizzuality","query":[{"query":"insert into txtest values (200,'m1')","status":"pending"},{"query":"insert into txtest values (200,'dup')","status":"pending"},{"query":"insert into txtest values (201,'m3')","status":"pending"}],"job_id":"44a6c509-4fee-437a-8e22-17370cbe03f2","created_at":"2026-11-24T18:12:12.568Z","updated_at":"2026-11-24T18:12:12.568Z","status":"pending"}`},
	"66": {200, `{"user":"vizzuality","status":"failed","query":[{"query":"insert into txtest values (200,'m1')","status":"done"},{"query":"insert into txtest values (200,'dup')","status":"failed","failed_reason":"duplicate key value violates unique constraint \"txtest_pkey\""},{"query":"insert into txtest values (201,'m3')","status":"pending"}],"created_at":"2026-11-24T18:12:12.568Z","updated_at":"2026-11-24T18:12:12.602Z","failed_reason":"duplicate key value violates unique constraint \"txtest_pkey\"","job_id":"44a6c509-4fee-437a-8e22-17370cbe03f2"}`},
	"67": {201, `{"user":"vizzuality","query":{"query":[{"query":"insert into txtest values (300,'f1')","onsuccess":"insert into txtest values (301,'<%= job_id %>')","status":"pending","fallback_status":"pending"},{"query":"select * from nope","onerror":"insert into txtest values (302,'<%= error_message %>')","status":"pending","fallback_status":"pending"}],"onerror":"insert into txtest values (303,'job failed')","onsuccess":"insert into txtest values (304,'job ok')"},"job_id":"0cbc916f-8515-4d31-b635-2defe2f79a08","created_at":"2026-11-24T18:12:16.371Z","updated_at":"2026-11-24T18:12:16.371Z","status":"pending","fallback_status":"pending"}`},
	"68": {200, `{"user":"vizzuality","status":"failed","query":{"query":[{"query":"insert into txtest values (300,'f1')","onsuccess":"insert into txtest values (301,'<%= job_id %>')","status":"done","fallback_status":"done","started_at":"2026-11-24T18:12:16.378Z","ended_at":"2026-11-24T18:12:16.389Z"},{"query":"select * from nope","onerror":"insert into txtest values (302,'<%= error_message %>')","status":"failed","fallback_status":"done","started_at":"2026-11-24T18:12:16.413Z","ended_at":"2026-11-24T18:12:16.418Z","failed_reason":"relation \"nope\" does not exist"}],"onerror":"insert into txtest values (303,'job failed')","onsuccess":"insert into txtest values (304,'job ok')"},"created_at":"2026-11-24T18:12:16.371Z","updated_at":"2026-11-24T18:12:16.443Z","fallback_status":"done","job_id":"0cbc916f-8515-4d31-b635-2defe2f79a08"}`},
	"71": {200, `{"user":"vizzuality","status":"failed","query":"insert into txtest values (400,'s1'); insert into txtest values (400,'dup')","created_at":"2026-11-24T18:12:21.414Z","updated_at":"2026-11-24T18:12:21.422Z","failed_reason":"duplicate key value violates unique constraint \"txtest_pkey\"","job_id":"d43b352e-360d-4ca6-bc2e-bd5511bf4ab1"}`},
	"73": {400, `{"error":["Your payload is too large: 17020 bytes. Max size allowed is 16384 bytes (16kb). Are you trying to import data?. Please, check out import api http://docs.cartodb.com/cartodb-platform/import-api/"]}`},
	"74": {201, `{"user":"vizzuality","query":"select 1","job_id":"bca21f64-0575-4b9f-9d60-228aac0f3005","created_at":"2026-11-24T18:12:24.748Z","updated_at":"2026-11-24T18:12:24.748Z","status":"pending"}`},
	"75": {201, `{"user":"vizzuality","query":{"query":[{"query":"select * from nope1","onerror":"select 1","status":"pending","fallback_status":"pending"},{"query":"select 2","onsuccess":"select 3","status":"pending","fallback_status":"pending"},{"query":"select 4","status":"pending"}],"onerror":"select 5"},"job_id":"828475e5-0482-4c7a-9606-28a145f0af98","created_at":"2026-11-24T18:12:35.653Z","updated_at":"2026-11-24T18:12:35.653Z","status":"pending","fallback_status":"pending"}`},
	"76": {200, `{"user":"vizzuality","status":"failed","query":{"query":[{"query":"select * from nope1","onerror":"select 1","status":"failed","fallback_status":"done","started_at":"2026-11-24T18:12:35.658Z","ended_at":"2026-11-24T18:12:35.663Z","failed_reason":"relation \"nope1\" does not exist"},{"query":"select 2","onsuccess":"select 3","status":"skipped","fallback_status":"skipped"},{"query":"select 4","status":"skipped"}],"onerror":"select 5"},"created_at":"2026-11-24T18:12:35.653Z","updated_at":"2026-11-24T18:12:35.689Z","fallback_status":"done","job_id":"828475e5-0482-4c7a-9606-28a145f0af98"}`},
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	isoRE  = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`)
)

// maskJob hides what differs from run to run: job ids and timestamps.
func maskJob(s string) string {
	s = uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if id == "00000000-0000-0000-0000-000000000000" {
			return id
		}
		return "<id>"
	})
	return isoRE.ReplaceAllString(s, "<ts>")
}

type jobHTTP struct {
	t    *testing.T
	acct *cartotest.Account
	base string // http://127.0.0.1:PORT/user/NAME/api/v2/sql/job
}

func newJobHTTP(t *testing.T, acct *cartotest.Account) *jobHTTP {
	return &jobHTTP{t: t, acct: acct, base: acct.URL + "api/v2/sql/job"}
}

// do sends one request; key "" sends none; a body starting with { is JSON, else a form.
func (h *jobHTTP) do(method, path, key, body string, basic bool) (int, http.Header, string) {
	h.t.Helper()
	u := h.base + path
	if key != "" && !basic {
		u += "?api_key=" + url.QueryEscape(key)
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	switch {
	case strings.HasPrefix(body, "{"):
		req.Header.Set("Content-Type", "application/json")
	case body != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if basic {
		req.SetBasicAuth(h.acct.User, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// check compares an answer with CARTO's sample n, masked.
func (h *jobHTTP) check(n string, status int, body string) string {
	h.t.Helper()
	want := jobSamples[n]
	wantBody := maskJob(strings.ReplaceAll(want.body, "vizzuality", h.acct.User))
	if status != want.status || maskJob(body) != wantBody {
		h.t.Errorf("sample %s:\n got %d %s\nwant %d %s", n, status, maskJob(body), want.status, wantBody)
	}
	return uuidRE.FindString(body)
}

// finish waits until nothing of the job is left to run.
func finish(t *testing.T, acct *cartotest.Account, id string) {
	t.Helper()
	b := batch.New(acct.Client(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.Wait(ctx, id, batch.PollInterval(10*time.Millisecond, 100*time.Millisecond)); err != nil && ctx.Err() != nil {
		t.Fatal(err)
	}
}

func waitJobStatus(t *testing.T, acct *cartotest.Account, id string, want batch.Status) {
	t.Helper()
	b := batch.New(acct.Client(t))
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := b.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s, want %s", id, j.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestJobSamples replays the requests of CARTO's captures 50-76 and compares the answers byte for
// byte, job ids and timestamps masked.
func TestJobSamples(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE txtest (id int PRIMARY KEY, v text)`)
	h := newJobHTTP(t, acct)
	key := acct.MasterKey

	st, hdr, body := h.do("POST", "", key, `{"query":"insert into txtest values (100, 'batch')"}`, false)
	id := h.check("50", st, body)
	if ct := hdr.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	finish(t, acct, id)
	st, _, body = h.do("GET", "/"+id, key, "", false)
	h.check("51", st, body)

	st, _, body = h.do("POST", "", "", "query="+url.QueryEscape("select pg_sleep(30)")+"&api_key="+key, false)
	id = h.check("52", st, body)
	waitJobStatus(t, acct, id, batch.Running)
	st, _, body = h.do("GET", "/"+id, key, "", false)
	h.check("53", st, body)
	st, _, body = h.do("DELETE", "/"+id, key, "", false)
	h.check("54", st, body)
	st, _, body = h.do("GET", "/"+id, key, "", false)
	h.check("55", st, body)
	st, hdr, body = h.do("DELETE", "/"+id, key, "", false)
	h.check("56", st, body)
	if cd := hdr.Get("Content-Disposition"); cd != "inline" {
		t.Errorf("error Content-Disposition = %q", cd)
	}

	st, _, body = h.do("POST", "", key, `{"query":"select * from no_such_table"}`, false)
	id = h.check("57", st, body)
	finish(t, acct, id)
	st, _, body = h.do("GET", "/"+id, key, "", false)
	h.check("58", st, body)

	st, _, body = h.do("GET", "/00000000-0000-0000-0000-000000000000", key, "", false)
	h.check("59", st, body)
	st, _, body = h.do("GET", "/not-a-uuid", key, "", false)
	if st != 400 || body != `{"error":["Job with id not-a-uuid not found"]}` {
		t.Errorf("bad id: %d %s", st, body)
	}
	st, _, body = h.do("POST", "", "", `{"query":"select 1"}`, false)
	h.check("60", st, body)
	st, _, body = h.do("POST", "", acct.PublicKey, `{"query":"select 1"}`, false)
	h.check("60", st, body) // 61: any key but the master key
	st, _, body = h.do("POST", "", key, `{}`, false)
	h.check("64", st, body)

	st, _, body = h.do("POST", "", key, `{"query":["insert into txtest values (200,'m1')","insert into txtest values (200,'dup')","insert into txtest values (201,'m3')"]}`, false)
	id = h.check("65", st, body)
	finish(t, acct, id)
	st, _, body = h.do("GET", "/"+id, key, "", false)
	h.check("66", st, body)

	st, _, body = h.do("POST", "", key, `{"query":{"query":[{"query":"insert into txtest values (300,'f1')","onsuccess":"insert into txtest values (301,'<%= job_id %>')"},{"query":"select * from nope","onerror":"insert into txtest values (302,'<%= error_message %>')"}],"onerror":"insert into txtest values (303,'job failed')","onsuccess":"insert into txtest values (304,'job ok')"}}`, false)
	fallbackID := h.check("67", st, body)
	finish(t, acct, fallbackID)
	st, _, body = h.do("GET", "/"+fallbackID, key, "", false)
	h.check("68", st, body)

	st, _, body = h.do("POST", "", key, `{"query":"insert into txtest values (400,'s1'); insert into txtest values (400,'dup')"}`, false)
	id = uuidRE.FindString(body)
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	finish(t, acct, id)
	st, _, body = h.do("GET", "/"+id, key, "", false)
	h.check("71", st, body)

	// 69 and 72: what the jobs left in the table.
	want := []string{"100:batch", "200:m1", "300:f1", "301:" + fallbackID, `302:relation "nope" does not exist`, "303:job failed"}
	if got := tableRows(t, acct, "txtest"); !slices.Equal(got, want) {
		t.Errorf("txtest = %q, want %q", got, want)
	}

	st, _, body = h.do("POST", "", key, `{"query":"select 1`+strings.Repeat(" ", 17000)+`"}`, false)
	h.check("73", st, body)
	st, _, body = h.do("POST", "", "", `{"query":"select 1`+strings.Repeat(" ", 17000)+`"}`, false)
	h.check("73", st, body) // the size is checked before the key
	st, _, body = h.do("POST", "", key, `{"query":"select 1"}`, true)
	h.check("74", st, body)

	st, _, body = h.do("POST", "", key, `{"query":{"query":[{"query":"select * from nope1","onerror":"select 1"},{"query":"select 2","onsuccess":"select 3"},{"query":"select 4"}],"onerror":"select 5"}}`, false)
	id = h.check("75", st, body)
	finish(t, acct, id)
	st, _, body = h.do("GET", "/"+id, key, "", false)
	h.check("76", st, body)

	// Routes CARTO does not have answer as Express does.
	st, _, body = h.do("PATCH", "/"+id, key, "", false)
	if st != 404 || !strings.Contains(body, "<pre>Cannot PATCH /user/"+acct.User+"/api/v2/sql/job/"+id+"</pre>") {
		t.Errorf("PATCH: %d %s", st, body)
	}
}

func tableRows(t *testing.T, acct *cartotest.Account, table string) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, fmt.Sprintf(`SELECT id || ':' || v FROM %s ORDER BY id`, pgx.Identifier{acct.User, table}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJobQueueLimit: at most 64 queued jobs per user.
func TestJobQueueLimit(t *testing.T) {
	acct := cartotest.New(t)
	h := newJobHTTP(t, acct)
	st, _, body := h.do("POST", "", acct.MasterKey, `{"query":"select pg_sleep(30)"}`, false)
	if st != 201 {
		t.Fatal(st, body)
	}
	running := uuidRE.FindString(body)
	waitJobStatus(t, acct, running, batch.Running)
	ids := []string{running}
	for i := range 64 {
		st, _, body := h.do("POST", "", acct.MasterKey, fmt.Sprintf(`{"query":"select %d"}`, i), false)
		if st != 201 {
			t.Fatalf("job %d: %d %s", i, st, body)
		}
		ids = append(ids, uuidRE.FindString(body))
	}
	st, _, body = h.do("POST", "", acct.MasterKey, `{"query":"select 65"}`, false)
	if st != 400 || body != `{"error":["Failed to create job. Max number of jobs (64) queued reached"]}` {
		t.Fatalf("65th queued job: %d %s", st, body)
	}
	// The queued ones first: once the running one goes, the next would start.
	slices.Reverse(ids)
	for _, id := range ids {
		if st, _, body := h.do("DELETE", "/"+id, acct.MasterKey, "", false); st != 200 {
			t.Fatalf("cancel: %d %s", st, body)
		}
	}
}

// TestJobExpiry: a finished job is gone 2 hours later (the expiry is moved back here).
func TestJobExpiry(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	ctx := context.Background()
	j, err := b.Run(ctx, "select 1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var left time.Duration
	if err := c.QueryRow(ctx, `SELECT expires_at - now() FROM cartolocal.batch_jobs WHERE job_id = $1`, j.ID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left < 119*time.Minute || left > 121*time.Minute {
		t.Fatalf("expires in %v, want 2h", left)
	}
	if _, err := c.Exec(ctx, `UPDATE cartolocal.batch_jobs SET expires_at = now() - interval '1 second' WHERE job_id = $1`, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, j.ID); !carto.IsNotFound(err) {
		t.Fatalf("expired job: %v", err)
	}
}

// TestJobRestart stops cartolocal in the middle of a queue, and also fakes a job left running by
// a cartolocal that died; a new cartolocal on the same data directory runs every job exactly once.
func TestJobRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL cluster twice")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	users := []cartolocal.UserConfig{{Name: "restart", MasterKey: "restartmaster", PublicKey: "restartpublic"}}
	start := func() (*cartolocal.Server, *httptest.Server, *batch.Client) {
		srv, err := cartolocal.New(ctx, cartolocal.Config{DataDir: dir, Users: users, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		c, err := carto.NewClient(hs.URL+"/user/restart", carto.WithAPIKey("restartmaster"))
		if err != nil {
			t.Fatal(err)
		}
		return srv, hs, batch.New(c)
	}

	srv, hs, b := start()
	conn, err := srv.User("restart")
	if !err {
		t.Fatal("no user")
	}
	pc, aerr := conn.Acquire(ctx, true)
	if aerr != nil {
		t.Fatal(aerr)
	}
	if _, err := pc.Exec(ctx, `CREATE TABLE hits (id int PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	pc.Release()

	const n = 8
	var ids []string
	for i := range n {
		j, err := b.Create(ctx, fmt.Sprintf("insert into hits select %d, 'x' from pg_sleep(0.15)", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	// A job "left running" by a dead cartolocal: its backend does not exist.
	orphan, err2 := b.Create(ctx, "insert into hits values (100, 'orphan')")
	if err2 != nil {
		t.Fatal(err2)
	}
	if _, err := srv.AdminPool().Exec(ctx, `UPDATE cartolocal.batch_jobs SET status = 'running', backend_pid = 2147483000 WHERE job_id = $1`, orphan.ID); err != nil {
		t.Fatal(err)
	}
	waitDone := func(b *batch.Client, id string) {
		t.Helper()
		if _, err := b.Wait(ctx, id, batch.PollInterval(20*time.Millisecond, 100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	waitDone(b, ids[1])
	hs.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv, hs, b = start()
	defer srv.Close()
	defer hs.Close()
	for _, id := range append(ids, orphan.ID) {
		waitDone(b, id)
	}
	rows, err3 := srv.AdminPool().Query(ctx, `SELECT id FROM restart.hits ORDER BY id`)
	if err3 != nil {
		t.Fatal(err3)
	}
	got, err4 := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err4 != nil {
		t.Fatal(err4)
	}
	want := []int32{0, 1, 2, 3, 4, 5, 6, 7, 100}
	if !slices.Equal(got, want) {
		t.Fatalf("rows = %v, want %v", got, want)
	}
}

// TestJobQueryForms covers the other ways a query parameter can come, and what is refused.
func TestJobQueryForms(t *testing.T) {
	acct := cartotest.New(t)
	h := newJobHTTP(t, acct)
	key := acct.MasterKey
	for _, c := range []struct {
		body   string
		status int
		want   string // a substring of the answer
	}{
		{`{"query":5}`, 400, `{"error":["there is no job class for the provided query"]}`},
		{`{"query":true}`, 400, `{"error":["there is no job class for the provided query"]}`},
		{`{"query":null}`, 400, `{"error":["You must indicate a valid SQL"]}`},
		{`{"query":""}`, 400, `{"error":["You must indicate a valid SQL"]}`},
		{`{"query":[]}`, 400, `{"error":["You must indicate a valid SQL"]}`},
		{`{"query":[1]}`, 400, `{"error":["there is no job class for the provided query"]}`},
		{`{"query":{"query":"select 1"}}`, 400, `{"error":["there is no job class for the provided query"]}`},
		{`{"query":{"query":[{"sql":"select 1"}]}}`, 400, `{"error":["there is no job class for the provided query"]}`},
		{`not json`, 400, `"error"`},
		// The stored form of a multi-query job is accepted on input, other keys kept in order.
		{`{"query":[{"query":"select 1","status":"pending"},"select 2"]}`, 201, `"query":[{"query":"select 1","status":"pending"},{"query":"select 2","status":"pending"}]`},
		// Key order of a fallback job is the user's; a timeout stays where it was given.
		{`{"query":{"onerror":"select 9","query":[{"timeout":1000,"query":"select 1","id":"a:b:c"}]}}`, 201,
			`"query":{"onerror":"select 9","query":[{"timeout":1000,"query":"select 1","id":"a:b:c","status":"pending"}]},`},
		// Form bodies: query[] makes a multi-query job.
		{"query%5B%5D=select+1&query%5B%5D=select+2", 201, `"query":[{"query":"select 1","status":"pending"},{"query":"select 2","status":"pending"}]`},
		// The size is counted in UTF-16 units, as JavaScript's string length: "é" is one, "😀" two.
		{`{"query":"select '` + strings.Repeat("é", 16360) + `'"}`, 201, `"status":"pending"`},
		{`{"query":"select '` + strings.Repeat("😀", 8190) + `'"}`, 400, `Your payload is too large: 16401 bytes.`},
	} {
		body := c.body
		if body == "not json" {
			// A JSON Content-Type with a body that is not JSON.
			body = "{not json"
		}
		st, _, got := h.do("POST", "", key, body, false)
		if st != c.status || !strings.Contains(got, c.want) {
			t.Errorf("%.80s: %d %.300s", body, st, got)
		}
		if st == 201 {
			h.do("DELETE", "/"+uuidRE.FindString(got), key, "", false)
		}
	}
}
