package batch

import (
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func mustJob(t *testing.T, query string) *job {
	t.Helper()
	j, err := parseJobQuery(jsontext.Value(query))
	if err != nil {
		t.Fatal(err)
	}
	j.id, j.user = "11111111-2222-4333-8444-555555555555", "u"
	return j
}

func statuses(j *job) []string {
	out := []string{j.status, j.fallbackStatus}
	for _, it := range j.items {
		out = append(out, it.str("status")+"/"+it.str("fallback_status"))
	}
	return out
}

func step(t *testing.T, j *job, to, msg string) {
	t.Helper()
	if err := j.setStatus(to, msg); err != nil {
		t.Fatalf("setStatus(%s): %v", to, err)
	}
}

func eq(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// A multi-query job between two queries is pending; cancelling it cancels the next query only,
// and it never runs again (JobMultiple.setStatus).
func TestMultipleJobCancelBetweenQueries(t *testing.T) {
	j := mustJob(t, `["select 1","select 2","select 3"]`)
	step(t, j, jobRunning, "")
	step(t, j, jobDone, "")
	eq(t, statuses(j), "pending", "", "done/", "pending/", "pending/")
	if !j.canRun() {
		t.Fatal("the second query should be runnable")
	}
	step(t, j, jobCancelled, "")
	eq(t, statuses(j), "cancelled", "", "done/", "cancelled/", "pending/")
	if j.canRun() || !j.finished() {
		t.Fatal("a cancelled job must not run again")
	}
	if err := j.setStatus(jobCancelled, ""); err == nil || err.Error() != "Cannot set status from cancelled to cancelled" {
		t.Fatalf("cancel twice: %v", err)
	}
}

// A shutdown puts a running job back to pending (CARTO's drain), query and all.
func TestDrainRunningJobs(t *testing.T) {
	j := mustJob(t, `["select 1","select 2"]`)
	step(t, j, jobRunning, "")
	step(t, j, jobPending, "")
	eq(t, statuses(j), "pending", "", "pending/", "pending/")

	// A fallback job interrupted in its job-level onerror runs that onerror again.
	f := mustJob(t, `{"query":[{"query":"select 1"}],"onerror":"select 2"}`)
	step(t, f, jobRunning, "")
	step(t, f, jobFailed, "boom")
	eq(t, statuses(f), "failed", "pending", "failed/")
	if q, _, ok := f.nextQuery(); !ok || q != "select 2" || !f.canRun() || f.finished() {
		t.Fatalf("next = %q %v", q, ok)
	}
	step(t, f, jobRunning, "")
	eq(t, statuses(f), "failed", "running", "failed/")
	step(t, f, jobPending, "")
	eq(t, statuses(f), "failed", "pending", "failed/")
	step(t, f, jobRunning, "")
	step(t, f, jobDone, "")
	eq(t, statuses(f), "failed", "done", "failed/")
	if f.canRun() || !f.finished() {
		t.Fatal("finished fallback job still runnable")
	}
}

// Templates are replaced in a query's own fallbacks only, the error message unquoted.
func TestFallbackTemplates(t *testing.T) {
	j := mustJob(t, `{"query":[{"query":"select 1","onerror":"select '<%= job_id %>', '<%=error_message%>'"}],"onerror":"select '<%= job_id %>'"}`)
	step(t, j, jobRunning, "")
	step(t, j, jobFailed, "it broke")
	q, _, _ := j.nextQuery()
	if q != "select '11111111-2222-4333-8444-555555555555', 'it broke'" {
		t.Fatalf("query onerror = %q", q)
	}
	step(t, j, jobRunning, "")
	step(t, j, jobDone, "")
	if q, _, _ := j.nextQuery(); q != "select '<%= job_id %>'" {
		t.Fatalf("job onerror = %q", q)
	}
}

// A failing fallback overwrites the query's failed_reason, as CARTO's Fallback.setStatus does.
func TestFailingFallback(t *testing.T) {
	j := mustJob(t, `{"query":[{"query":"select 1","onsuccess":"select x"}]}`)
	step(t, j, jobRunning, "")
	step(t, j, jobDone, "")
	eq(t, statuses(j), "pending", "", "done/pending")
	step(t, j, jobRunning, "")
	step(t, j, jobFailed, "column x does not exist")
	eq(t, statuses(j), "done", "", "done/failed")
	if r := j.items[0].str("failed_reason"); r != "column x does not exist" || j.failedReason != "" {
		t.Fatalf("failed_reason %q / job %q", r, j.failedReason)
	}
}

func TestJSLength(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{`{"a": 1}`, 7},
		{`{"q":"é"}`, 9},
		{`{"q":"😀"}`, 10},
		{`{"q":"a\nb"}`, 12},
	} {
		if got := jsLength(jsontext.Value(c.in)); got != c.want {
			t.Errorf("jsLength(%s) = %d, want %d", c.in, got, c.want)
		}
	}
}
