package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	gomigrate "github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/source"
	_ "github.com/golang-migrate/migrate/v4/source/file"

	cmigrate "github.com/gocarto/carto/migrate"
)

// session is an open account, with golang-migrate on top when the command runs migrations.
type session struct {
	c    *cli
	drv  *cmigrate.Driver
	src  source.Driver // nil when the command needs no migrations
	m    *gomigrate.Migrate
	prog *progress
	done chan struct{}

	stopping atomic.Bool // a Ctrl-C asked golang-migrate to stop after the running migration
}

// open connects to the account. withSource also opens the migrations and golang-migrate.
func (c *cli) open(g *globalFlags, withSource bool) (*session, error) {
	dbURL, err := databaseURL(g)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, prog: newProgress(c.con), done: make(chan struct{})}
	if withSource {
		if g.source == "" {
			return nil, usageError("error: no migrations: give -path DIR or -source file://DIR")
		}
		// Opened before the account, so a typo in the path costs no request.
		s.src, err = source.Open(g.source)
		if err != nil {
			return nil, fmt.Errorf("failed to open source, %q: %w", g.source, err)
		}
		// golang-migrate reports a directory without migrations as "first .: file does not
		// exist" once it has the lock; say what it means, before any request.
		if _, err := s.src.First(); errors.Is(err, fs.ErrNotExist) {
			s.src.Close()
			return nil, fmt.Errorf("no migration files found in %s (they are named VERSION_TITLE.up.sql and VERSION_TITLE.down.sql; subdirectories are not read)", sourceDir(g.source))
		}
	}
	s.drv, err = cmigrate.Open(dbURL)
	if err != nil {
		if s.src != nil {
			s.src.Close()
		}
		return nil, fmt.Errorf("failed to open database: %w", err)
	}
	s.drv.OnProgress(s.prog.observe)
	if withSource {
		s.m, err = gomigrate.NewWithInstance("file", s.src, "carto", s.drv)
		if err != nil {
			s.src.Close()
			s.drv.Close()
			return nil, err
		}
		s.m.Log = &logger{con: c.con, prog: s.prog}
		s.m.PrefetchMigrations = g.prefetch
		// The driver gives up with a message that names the holder; golang-migrate's own timer,
		// a little longer, is only a backstop.
		s.m.LockTimeout = s.drv.Config().LockTimeout + 5*time.Second
	}
	go s.handleSignals()
	return s, nil
}

// sourceDir is the directory of a file:// source, for messages.
func sourceDir(src string) string {
	if dir, ok := strings.CutPrefix(src, "file://"); ok {
		return dir
	}
	return src
}

// databaseURL is -database or $CARTO_DATABASE_URL, with -lock-timeout passed to the driver
// unless the URL sets x-lock-timeout itself. It is never printed: it carries the API key.
func databaseURL(g *globalFlags) (string, error) {
	raw := g.database
	if raw == "" {
		return "", usageError("error: no database: give -database carto://USER:API_KEY@HOST[/user/USER] or set CARTO_DATABASE_URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's error quotes the URL, key and all.
		return "", usageError("error: -database does not parse as a URL (carto://USER:API_KEY@HOST[:PORT][/user/USER])")
	}
	if u.Scheme != "carto" {
		return "", usageError("error: -database must be a carto:// URL (carto://USER:API_KEY@HOST[:PORT][/user/USER])")
	}
	q := u.Query()
	if !q.Has("x-lock-timeout") {
		q.Set("x-lock-timeout", fmt.Sprint(g.lockTimeout))
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// handleSignals: the first Ctrl-C asks golang-migrate to stop after the running migration, the
// second cancels the running Batch job, the third gives up at once (the lease then expires by
// itself). Commands that run no migration are interrupted at the first.
func (s *session) handleSignals() {
	n := 0
	for {
		select {
		case <-s.done:
			return
		case sig := <-s.c.signals:
			n++
			switch {
			case n == 1 && s.m != nil && sig == os.Interrupt:
				s.c.con.Println("Stopping after this running migration ... (Ctrl-C again to cancel it)")
				s.stopping.Store(true)
				select {
				case s.m.GracefulStop <- true:
				default:
				}
			case n <= 2:
				s.c.con.Println("Cancelling the running Batch job; the version will be left dirty ...")
				s.drv.Interrupt()
			default:
				s.c.con.Println("Exiting without cleaning up; the lock expires by itself within", s.drv.Config().LockLease)
				os.Exit(exitError)
			}
		}
	}
}

// close releases everything; with golang-migrate, its Close closes source and driver.
func (s *session) close() {
	close(s.done)
	if s.m != nil {
		srcErr, dbErr := s.m.Close()
		if err := errors.Join(srcErr, dbErr); err != nil {
			s.c.con.Println(err)
		}
		return
	}
	if err := s.drv.Close(); err != nil {
		s.c.con.Println(err)
	}
}

// explain turns errors that leave the database dirty, or in doubt, into a message that says what
// state it is in and how to get out. It never advises a force that could record as not applied a
// migration that committed: that is how a migration comes to run twice.
func (s *session) explain(err error) error {
	var me *cmigrate.MigrationError
	var dirty gomigrate.ErrDirty
	if s.src == nil {
		return err
	}
	switch {
	case errors.As(err, &me):
		at := me.Version
		if !me.Down {
			at = s.prevVersion(me.Version)
		}
		switch {
		case me.Outcome == cmigrate.OutcomeUnknown:
			return fmt.Errorf("%w\nWhether the migration was applied is unknown: its Batch job may have committed it, may still be queued or running, or may have failed.\n%s",
				err, findOut(me.Target, at))
		case me.Outcome == cmigrate.OutcomeNotRun && me.Restored:
			return fmt.Errorf("%w\nNothing of it ran, and the database is still at %s", err, versionName(at))
		case me.Outcome == cmigrate.OutcomeNotRun:
			return fmt.Errorf("%w\nNothing of it ran, but version %d is left dirty: run `cartomigrate force %d` to record that the database is still at %s",
				err, me.Target, at, versionName(at))
		case errors.Is(err, cmigrate.ErrInterrupted):
			return fmt.Errorf("%w\nVersion %d is left dirty. The migration ran as one transaction, which was cancelled and rolled back, so the database is still at %s:\nrun `cartomigrate force %d` to record that, then run the migrations again",
				err, me.Target, versionName(at), at)
		}
		return fmt.Errorf("%w\nVersion %d is left dirty. The migration ran as one transaction, which failed and was rolled back, so the database is still at %s:\nfix the migration, run `cartomigrate force %d` to record that, then run the migrations again",
			err, me.Target, versionName(at), at)
	case errors.As(err, &dirty):
		prev := s.prevVersion(dirty.Version)
		return fmt.Errorf("%w\nA migration to version %d failed, was cancelled, or its Batch job is still queued or running (cartomigrate's jobs\nrecord their version clean in the same transaction as the migration, so while it is dirty the migration is not applied).\nIf it was `up` to %d, the database is at %s: %s.\nIf it was a down migration, force the version it started from",
			err, dirty.Version, dirty.Version, versionName(prev), safeForce(dirty.Version, prev))
	}
	return err
}

// safeForce is the force that records that a migration to target, from at, was not applied: it
// refuses if the migration's job has recorded target meanwhile. A job still queued then refuses
// to run (its guard finds the version changed), and one running makes force wait for it.
func safeForce(target, at int) string {
	return fmt.Sprintf("`cartomigrate force -if-dirty %d %d` records that; it refuses if the migration's job records version %d first\n(it waits for a running one), and a job that has not started then refuses to run", target, at, target)
}

// findOut says how to learn whether a migration to target, from the version at, was applied.
func findOut(target, at int) string {
	return fmt.Sprintf("Do not force version %d before you know: over an applied migration, that makes the migration run again.\n"+
		"Run `cartomigrate version`. `version %d` means the migration was applied: run the migrations again to go on.\n"+
		"`version %d (dirty)` means it was not applied, or its job is still queued or running: then\n%s.",
		at, target, target, safeForce(target, at))
}

// prevVersion is the migration before v in the source, or -1 when there is none.
func (s *session) prevVersion(v int) int {
	if v < 0 {
		return -1
	}
	p, err := s.src.Prev(uint(v))
	if err != nil {
		return -1
	}
	return int(p)
}

func versionName(v int) string {
	if v < 0 {
		return "no version (-1)"
	}
	return fmt.Sprintf("version %d", v)
}
