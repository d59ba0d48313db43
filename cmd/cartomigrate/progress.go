package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gocarto/carto/batch"
	cmigrate "github.com/gocarto/carto/migrate"
)

// progress follows the migrations' Batch jobs through the driver's events: it draws the live line
// while a job runs, hands the finished job to the next "migration done" line golang-migrate logs,
// and adds up where the time went.
type progress struct {
	con *console

	mu      sync.Mutex
	current *cmigrate.Event // the running job, nil between jobs
	done    *cmigrate.RunStats
	stop    chan struct{}
	// lastStatus is the status last reported in -verbose, so each change is told once.
	lastStatus batch.Status

	// Totals over the command, for -verbose and for measuring.
	Jobs                                 int
	Total, Create, Wait, Server, PollLag time.Duration
}

// liveAfter is how long a job runs before the live line appears: short migrations only get their
// one line.
const liveAfter = time.Second

func newProgress(con *console) *progress { return &progress{con: con} }

// observe receives the driver's events.
func (p *progress) observe(ev cmigrate.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Stats != nil {
		p.current, p.lastStatus = nil, ""
		st := *ev.Stats
		p.done = &st
		p.Jobs++
		p.Total += st.Total
		p.Create += st.Create
		p.Wait += st.Wait
		p.Server += st.Server
		p.PollLag += st.Lag
		if p.stop != nil {
			close(p.stop)
			p.stop = nil
		}
		p.con.clearLive()
		if p.con.verbose {
			p.con.Printf("Batch job %s: %s (create %s, wait %s; server %s, noticed %s after it ended)\n",
				st.JobID, statusOf(ev), round(st.Create), round(st.Wait), round(st.Server), round(st.Lag))
		}
		return
	}
	e := ev
	p.current = &e
	if p.stop == nil && p.con.terminal {
		p.stop = make(chan struct{})
		go p.draw(p.stop)
	}
	if p.con.verbose && ev.Job != nil && ev.Job.Status != p.lastStatus {
		p.con.Printf("Batch job %s for version %d: %s\n", ev.Job.ID, ev.Version, ev.Job.Status)
	}
	if ev.Job != nil {
		p.lastStatus = ev.Job.Status
	}
}

func statusOf(ev cmigrate.Event) string {
	if ev.Job == nil {
		return "unknown"
	}
	return string(ev.Job.Status)
}

// draw refreshes the live line twice a second until stop closes.
func (p *progress) draw(stop chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	var shown string
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		ev := p.current
		p.mu.Unlock()
		if ev == nil || time.Since(ev.Started) < liveAfter {
			continue
		}
		dir := "u"
		if ev.Down {
			dir = "d"
		}
		id := ""
		if ev.Job != nil {
			id = ev.Job.ID
		}
		line := fmt.Sprintf("%d/%s %s %s (Batch job %s)", ev.Version, dir, statusOf(*ev), time.Since(ev.Started).Truncate(time.Second), id)
		if line != shown {
			p.con.setLive(line)
			shown = line
		}
	}
}

// takeDoneIf returns the job that finished last and forgets it, if take.
func (p *progress) takeDoneIf(take bool) *cmigrate.RunStats {
	if !take {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.done
	p.done = nil
	return d
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d
}

// logger is golang-migrate's Logger. It adds the Batch job to the one line golang-migrate prints
// per migration. golang-migrate gives no hook for that line but its format, so the formats of
// v4.20.1 are matched here; any other line passes unchanged.
type logger struct {
	con  *console
	prog *progress
}

const (
	finishedFormat        = "%v (%v)\n"
	finishedVerboseFormat = "Finished %v (read %v, ran %v)\n"
)

func (l *logger) Printf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	switch st := l.prog.takeDoneIf(format == finishedFormat || format == finishedVerboseFormat); {
	case st == nil:
	case format == finishedFormat && len(v) == 2:
		// golang-migrate's duration counts from when the migration was buffered, which with
		// prefetching includes waiting for the migrations before it; the job's own time is the
		// one worth showing.
		msg = fmt.Sprintf("%v (%v, Batch job %s)\n", v[0], round(st.Total), st.JobID)
	default:
		msg = strings.TrimSuffix(msg, ")\n") + ", Batch job " + st.JobID + ")\n"
	}
	l.con.write(msg)
}

func (l *logger) Verbose() bool { return l.con.verbose }
