package batch

import (
	"bytes"
	"errors"
	"regexp"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/jackc/pgx/v5/pgconn"
)

// jobKind is which of CARTO's three job models a query makes (protocol §7.3).
type jobKind int

const (
	simpleJob   jobKind = iota // a string: one simple-query message
	multipleJob                // an array: queries run one after another, each in its own transaction
	fallbackJob                // {"query":[{query,onsuccess,onerror,timeout}],onsuccess,onerror}
)

// Messages CARTO answers when the query parameter is not a job.
const (
	msgInvalidSQL = "You must indicate a valid SQL"
	msgNoJobClass = "there is no job class for the provided query"
)

// job is one Batch SQL job, with the same data CARTO keeps in its Redis hash.
type job struct {
	id, user       string
	status         string
	created        time.Time
	updated        time.Time
	failedReason   string
	fallbackStatus string // "" when the job has no job-level onsuccess/onerror

	kind  jobKind
	sql   string    // simpleJob
	items []*object // multipleJob and fallbackJob: the query items, with their statuses
	main  *object   // fallbackJob: the outer {"query": [...], "onsuccess", "onerror"} object

	rev int64 // bumped by every save; the runner uses it to notice a cancel

	// runToken names the run of the query now running (empty when none runs): the query's
	// transaction writes a mark with it, which tells a restarted server that the query committed.
	runToken string
}

// now is the time CARTO writes: JavaScript's Date, to the millisecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// isoTime is JavaScript's Date.prototype.toISOString.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// parseJobQuery builds the query part of a job from the query parameter, as CARTO's JobFactory
// picks JobSimple, JobMultiple or JobFallback. It initializes statuses like CARTO's models do.
func parseJobQuery(raw jsontext.Value) (*job, error) {
	j := &job{status: jobPending}
	switch raw.Kind() {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New(msgInvalidSQL)
		}
		if s == "" {
			return nil, errors.New(msgInvalidSQL)
		}
		j.kind, j.sql = simpleJob, s
		return j, nil
	case '[':
		var elems []jsontext.Value
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, errors.New(msgInvalidSQL)
		}
		if len(elems) == 0 {
			// CARTO accepts [] and then runs nothing forever; refuse it instead.
			return nil, errors.New(msgInvalidSQL)
		}
		j.kind = multipleJob
		for _, e := range elems {
			var item *object
			switch e.Kind() {
			case '"':
				var s string
				if json.Unmarshal(e, &s) != nil {
					return nil, errors.New(msgNoJobClass)
				}
				item = &object{}
				item.setStr("query", s)
			case '{':
				o, err := parseObject(e)
				if err != nil {
					return nil, errors.New(msgNoJobClass)
				}
				if v, ok := o.get("query"); !ok || v.Kind() != '"' {
					return nil, errors.New(msgNoJobClass)
				}
				item = o
			default:
				return nil, errors.New(msgNoJobClass)
			}
			if item.str("query") == "" {
				return nil, errors.New(msgInvalidSQL)
			}
			// The stored form [{query, status}] is accepted on input; a status other than
			// pending would make a query that never runs, so every query starts pending.
			item.setStr("status", jobPending)
			j.items = append(j.items, item)
		}
		return j, nil
	case '{':
		o, err := parseObject(raw)
		if err != nil {
			return nil, errors.New(msgNoJobClass)
		}
		qv, ok := o.get("query")
		if !ok || qv.Kind() != '[' {
			return nil, errors.New(msgNoJobClass)
		}
		var elems []jsontext.Value
		if err := json.Unmarshal(qv, &elems); err != nil || len(elems) == 0 {
			return nil, errors.New(msgInvalidSQL)
		}
		j.kind, j.main = fallbackJob, o
		for _, e := range elems {
			item, err := parseObject(e)
			if err != nil || item.str("query") == "" {
				return nil, errors.New(msgNoJobClass)
			}
			item.setStr("status", jobPending)
			if item.str("onsuccess") != "" || item.str("onerror") != "" {
				item.setStr("fallback_status", jobPending)
			}
			j.items = append(j.items, item)
		}
		if o.str("onsuccess") != "" || o.str("onerror") != "" {
			j.fallbackStatus = jobPending
		}
		return j, nil
	case 'n', 'f':
		return nil, errors.New(msgInvalidSQL)
	case '0':
		if bytes.Equal(bytes.TrimSpace(raw), []byte("0")) {
			return nil, errors.New(msgInvalidSQL)
		}
	}
	return nil, errors.New(msgNoJobClass)
}

// loadJobQuery rebuilds the query part of a stored job; the stored JSON keeps every status.
func loadJobQuery(j *job, stored string) error {
	raw := jsontext.Value(stored)
	switch raw.Kind() {
	case '"':
		j.kind = simpleJob
		return json.Unmarshal(raw, &j.sql)
	case '[':
		j.kind = multipleJob
		var elems []jsontext.Value
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		for _, e := range elems {
			o, err := parseObject(e)
			if err != nil {
				return err
			}
			j.items = append(j.items, o)
		}
		return nil
	case '{':
		j.kind = fallbackJob
		o, err := parseObject(raw)
		if err != nil {
			return err
		}
		j.main = o
		qv, _ := o.get("query")
		var elems []jsontext.Value
		if err := json.Unmarshal(qv, &elems); err != nil {
			return err
		}
		for _, e := range elems {
			item, err := parseObject(e)
			if err != nil {
				return err
			}
			j.items = append(j.items, item)
		}
		return nil
	}
	return errors.New("stored job query is not a string, an array or an object")
}

// appendQuery renders the query as CARTO returns it, statuses included.
func (j *job) appendQuery(b []byte) []byte {
	switch j.kind {
	case simpleJob:
		return jsjson.AppendString(b, j.sql)
	case multipleJob:
		return j.appendItems(b)
	default:
		return j.main.appendJSON(b, func(b []byte, name string) ([]byte, bool) {
			if name != "query" {
				return nil, false
			}
			return j.appendItems(b), true
		})
	}
}

func (j *job) appendItems(b []byte) []byte {
	b = append(b, '[')
	for i, it := range j.items {
		if i > 0 {
			b = append(b, ',')
		}
		b = it.appendJSON(b, nil)
	}
	return append(b, ']')
}

// createdJSON is the job as CARTO answers a create: its keys in the order the job object got
// them (sample 50).
func (j *job) createdJSON() []byte {
	b := []byte(`{"user":`)
	b = jsjson.AppendString(b, j.user)
	b = append(b, `,"query":`...)
	b = j.appendQuery(b)
	b = append(b, `,"job_id":`...)
	b = jsjson.AppendString(b, j.id)
	b = append(b, `,"created_at":"`+isoTime(j.created)+`","updated_at":"`+isoTime(j.updated)+`","status":`...)
	b = jsjson.AppendString(b, j.status)
	if j.fallbackStatus != "" {
		b = append(b, `,"fallback_status":`...)
		b = jsjson.AppendString(b, j.fallbackStatus)
	}
	return append(b, '}')
}

// appendStoredJSON is the job as CARTO answers a read or a cancel: the order of its HMGET, empty
// fields left out, job_id last (samples 51, 58, 68).
func (j *job) appendStoredJSON(b []byte) []byte {
	b = append(b, `{"user":`...)
	b = jsjson.AppendString(b, j.user)
	b = append(b, `,"status":`...)
	b = jsjson.AppendString(b, j.status)
	b = append(b, `,"query":`...)
	b = j.appendQuery(b)
	b = append(b, `,"created_at":"`+isoTime(j.created)+`","updated_at":"`+isoTime(j.updated)+`"`...)
	if j.failedReason != "" {
		b = append(b, `,"failed_reason":`...)
		b = jsjson.AppendString(b, j.failedReason)
	}
	if j.fallbackStatus != "" {
		b = append(b, `,"fallback_status":`...)
		b = jsjson.AppendString(b, j.fallbackStatus)
	}
	b = append(b, `,"job_id":`...)
	b = jsjson.AppendString(b, j.id)
	return append(b, '}')
}

// nextQuery is the query the runner runs next, and its own timeout in milliseconds (0: none),
// as CARTO's getNextQuery. ok is false when nothing is left to run.
func (j *job) nextQuery() (sql string, timeoutMS int64, ok bool) {
	switch j.kind {
	case simpleJob:
		if j.status == jobPending {
			return j.sql, 0, true
		}
	case multipleJob:
		for _, it := range j.items {
			if it.str("status") == jobPending {
				return it.str("query"), 0, true
			}
		}
	case fallbackJob:
		if i, ok := j.nextFromQueries(); ok {
			return j.itemNext(i)
		}
		if sql, ok := j.mainNext(); ok {
			return sql, 0, true
		}
	}
	return "", 0, false
}

func (j *job) hasNext() bool {
	_, _, ok := j.nextQuery()
	return ok
}

// setStatus moves the job as CARTO's models do; an invalid move changes nothing and returns
// CARTO's error message.
func (j *job) setStatus(to, msg string) error {
	var err error
	switch j.kind {
	case simpleJob:
		err = j.setBaseStatus(to, msg)
	case multipleJob:
		err = j.setMultipleStatus(to, msg)
	default:
		err = j.setFallbackJobStatus(to, msg)
	}
	return err
}

func (j *job) setBaseStatus(to, msg string) error {
	if !validTransition(j.status, to) {
		return errors.New("Cannot set status from " + j.status + " to " + to)
	}
	j.updated = now()
	j.status = to
	if to == jobFailed && msg != "" {
		j.failedReason = msg
	}
	return nil
}

// setMultipleStatus is JobMultiple.setStatus: the job goes back to pending while queries remain,
// and the first query that can make the move makes it.
func (j *job) setMultipleStatus(to, msg string) error {
	initial := j.status
	saved := *j
	var err error
	if to == jobDone && j.hasNext() {
		err = j.setBaseStatus(jobPending, "")
	} else {
		err = j.setBaseStatus(to, msg)
	}
	if err != nil {
		return err
	}
	for _, it := range j.items {
		if validTransition(it.str("status"), to) {
			it.setStr("status", to)
			if to == jobFailed && msg != "" {
				it.setStr("failed_reason", msg)
			}
			return nil
		}
	}
	*j = saved
	return errors.New("Cannot set status from " + initial + " to " + to)
}

// ---- fallback jobs: JobFallback, QueryFallback, Fallback and MainFallback, ported ----

// change is what a step of JobFallback.setStatus reports: whether it applied, and whether it
// applied to a fallback rather than to a query.
type change struct{ valid, appliedToFallback bool }

func (j *job) setFallbackJobStatus(to, msg string) error {
	snapshot := j.snapshot()
	c := j.setQueriesStatus(to, msg)
	c = j.setJobStatusFB(to, c, msg)
	c = j.setMainFallbackStatus(to, c)
	if !c.valid {
		j.restore(snapshot)
		return errors.New("Cannot set status to " + to)
	}
	j.updated = now()
	return nil
}

type jobSnapshot struct {
	status, failedReason, fallbackStatus string
	items                                []object
}

func (j *job) snapshot() jobSnapshot {
	s := jobSnapshot{status: j.status, failedReason: j.failedReason, fallbackStatus: j.fallbackStatus}
	for _, it := range j.items {
		s.items = append(s.items, object{names: append([]string(nil), it.names...), values: append([]jsontext.Value(nil), it.values...)})
	}
	return s
}

func (j *job) restore(s jobSnapshot) {
	j.status, j.failedReason, j.fallbackStatus = s.status, s.failedReason, s.fallbackStatus
	for i := range j.items {
		*j.items[i] = s.items[i]
	}
}

func (j *job) setQueriesStatus(to, msg string) change {
	prev := change{}
	for i := range j.items {
		if c := j.setItemStatus(i, to, prev, msg); c.valid {
			prev = c
		}
	}
	return prev
}

// setItemStatus is QueryFallback.setStatus: after the query that failed or was cancelled, every
// later query and its fallback become skipped.
func (j *job) setItemStatus(i int, to string, prev change, msg string) change {
	var c change
	hasFB := j.itemHasFallback(i)
	switch {
	case prev.valid && !prev.appliedToFallback:
		if to == jobFailed || to == jobCancelled {
			j.setQueryStatus(i, jobSkipped, msg)
			if hasFB {
				j.setItemFallbackStatus(i, jobSkipped, "")
			}
		}
	case !prev.valid:
		c.valid = j.setQueryStatus(i, to, msg)
		if hasFB {
			if !c.valid {
				c.valid = j.setItemFallbackStatus(i, to, msg)
				c.appliedToFallback = true
			} else if isFinal(to) && !j.itemFallbackHasNext(i) {
				j.setItemFallbackStatus(i, jobSkipped, "")
			}
		}
	}
	return c
}

// setQueryStatus is Query.setStatus: it stamps started_at and ended_at.
func (j *job) setQueryStatus(i int, to, msg string) bool {
	it := j.items[i]
	if !validTransition(it.str("status"), to) {
		return false
	}
	it.setStr("status", to)
	if to == jobRunning {
		it.setStr("started_at", isoTime(now()))
	}
	if isFinal(to) {
		it.setStr("ended_at", isoTime(now()))
	}
	if to == jobFailed && msg != "" {
		it.setStr("failed_reason", msg)
	}
	return true
}

func (j *job) itemHasFallback(i int) bool {
	return j.items[i].str("onsuccess") != "" || j.items[i].str("onerror") != ""
}

// setItemFallbackStatus is Fallback.setStatus; a failing fallback overwrites the query's
// failed_reason, as in CARTO.
func (j *job) setItemFallbackStatus(i int, to, msg string) bool {
	it := j.items[i]
	if !validTransition(it.str("fallback_status"), to) {
		return false
	}
	it.setStr("fallback_status", to)
	if to == jobFailed && msg != "" {
		it.setStr("failed_reason", msg)
	}
	return true
}

var (
	jobIDTemplate = regexp.MustCompile(`<%=\s*job_id\s*%>`)
	errorTemplate = regexp.MustCompile(`<%=\s*error_message\s*%>`)
)

// itemFallbackNext is Fallback.getNextQuery, with CARTO's template substitution. The values are
// inserted as they are, unquoted: CARTO does the same, so an error message with a quote in it
// makes the onerror query fail.
func (j *job) itemFallbackNext(i int) (string, bool) {
	it := j.items[i]
	if it.str("fallback_status") != jobPending {
		return "", false
	}
	switch it.str("status") {
	case jobDone:
		if q := it.str("onsuccess"); q != "" {
			return jobIDTemplate.ReplaceAllLiteralString(q, j.id), true
		}
	case jobFailed:
		if q := it.str("onerror"); q != "" {
			q = jobIDTemplate.ReplaceAllLiteralString(q, j.id)
			return errorTemplate.ReplaceAllLiteralString(q, it.str("failed_reason")), true
		}
	}
	return "", false
}

func (j *job) itemFallbackHasNext(i int) bool {
	_, ok := j.itemFallbackNext(i)
	return ok
}

func (j *job) itemNext(i int) (string, int64, bool) {
	it := j.items[i]
	if it.str("status") == jobPending {
		var timeout int64
		if t, ok := it.number("timeout"); ok && t > 0 {
			timeout = int64(t)
		}
		return it.str("query"), timeout, true
	}
	if j.itemHasFallback(i) {
		if q, ok := j.itemFallbackNext(i); ok {
			return q, 0, true
		}
	}
	return "", 0, false
}

func (j *job) nextFromQueries() (int, bool) {
	for i := range j.items {
		if _, _, ok := j.itemNext(i); ok {
			return i, true
		}
	}
	return 0, false
}

func (j *job) hasNextFromQueries() bool {
	_, ok := j.nextFromQueries()
	return ok
}

// mainNext is MainFallback.getNextQuery. Job-level fallbacks get no template substitution in
// CARTO 6.0.0.
func (j *job) mainNext() (string, bool) {
	if j.main == nil || j.fallbackStatus != jobPending {
		return "", false
	}
	switch j.status {
	case jobDone:
		if q := j.main.str("onsuccess"); q != "" {
			return q, true
		}
	case jobFailed:
		if q := j.main.str("onerror"); q != "" {
			return q, true
		}
	}
	return "", false
}

// setJobStatusFB is JobFallback.setJobStatus with its shiftStatus.
func (j *job) setJobStatusFB(to string, c change, msg string) change {
	st := to
	if c.appliedToFallback {
		if !j.hasNextFromQueries() && (to == jobDone || to == jobFailed) {
			st = j.lastFinishedStatus()
		} else if to == jobDone || to == jobFailed {
			st = jobPending
		}
	} else if j.hasNextFromQueries() && to != jobRunning {
		st = jobPending
	}
	if !validTransition(j.status, st) {
		return c
	}
	j.status = st
	if st == jobFailed && msg != "" && !c.appliedToFallback {
		j.failedReason = msg
	}
	return change{valid: true}
}

func (j *job) lastFinishedStatus() string {
	last := jobDone
	for _, it := range j.items {
		if s := it.str("status"); isFinal(s) {
			last = s
		}
	}
	return last
}

// setMainFallbackStatus is JobFallback.setFallbackStatus with MainFallback.setStatus.
func (j *job) setMainFallbackStatus(to string, c change) change {
	if j.fallbackStatus == "" || j.hasNextFromQueries() {
		return c
	}
	switch {
	case c.valid && !c.appliedToFallback:
		if _, next := j.mainNext(); isFinal(to) && !next && validTransition(j.fallbackStatus, jobSkipped) {
			j.fallbackStatus = jobSkipped
			return change{valid: true, appliedToFallback: true}
		}
	case !c.valid:
		if validTransition(j.fallbackStatus, to) {
			j.fallbackStatus = to
			return change{valid: true, appliedToFallback: true}
		}
	}
	return c
}

// canRun reports whether the runner has something to run for the job: a next query, and a
// status from which it may start running (a cancelled multi-query job keeps pending queries that
// will never run).
func (j *job) canRun() bool {
	if !j.hasNext() {
		return false
	}
	switch j.kind {
	case fallbackJob:
		if j.hasNextFromQueries() {
			return j.status == jobPending
		}
		return true // the job-level fallback runs whatever the job's status
	default:
		return j.status == jobPending
	}
}

// finished reports whether nothing of the job will run any more. (A fallback job already shows
// "failed" while its job-level onerror is still to run.)
func (j *job) finished() bool { return isFinal(j.status) && !j.canRun() }

// statementError is the failed_reason CARTO stores: PostgreSQL's message alone, without severity,
// code, detail or hint.
func statementError(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message
	}
	return err.Error()
}
