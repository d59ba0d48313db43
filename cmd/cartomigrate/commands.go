package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"

	gomigrate "github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"

	cmigrate "github.com/gocarto/carto/migrate"
)

func (c *cli) up(g *globalFlags, args []string) error {
	fs, err := c.subFlags("up", upUsage, args, nil)
	if err != nil {
		return err
	}
	limit := -1
	if fs.NArg() > 0 {
		n, err := strconv.ParseUint(fs.Arg(0), 10, 31)
		if err != nil {
			return usageError("error: can't read limit argument N")
		}
		limit = int(n)
	}
	s, err := c.open(g, true)
	if err != nil {
		return err
	}
	defer s.close()
	if limit >= 0 {
		err = s.m.Steps(limit)
	} else {
		err = s.m.Up()
	}
	return s.result(g, err)
}

func (c *cli) down(g *globalFlags, args []string) error {
	var all bool
	fs, err := c.subFlags("down", downUsage, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&all, "all", false, "Apply all down migrations")
	})
	if err != nil {
		return err
	}
	limit, confirm := -1, false
	switch {
	case all && fs.NArg() > 0:
		return usageError("error: -all cannot be used with other arguments")
	case all:
	case fs.NArg() == 0:
		confirm = true
	case fs.NArg() == 1:
		n, err := strconv.ParseUint(fs.Arg(0), 10, 31)
		if err != nil {
			return usageError("error: can't read limit argument N")
		}
		limit = int(n)
	default:
		return usageError("error: too many arguments")
	}
	if confirm {
		if !c.confirm("Are you sure you want to apply all down migrations? [y/N]") {
			return &exitErr{code: exitError, msg: "Not applying all down migrations"}
		}
		c.con.Println("Applying all down migrations")
	}
	s, err := c.open(g, true)
	if err != nil {
		return err
	}
	defer s.close()
	if limit >= 0 {
		err = s.m.Steps(-limit)
	} else {
		err = s.m.Down()
	}
	return s.result(g, err)
}

func (c *cli) gotoVersion(g *globalFlags, args []string) error {
	fs, err := c.subFlags("goto", gotoUsage, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("error: please specify version argument V")
	}
	v, err := strconv.ParseUint(fs.Arg(0), 10, 63)
	if err != nil {
		return usageError("error: can't read version argument V")
	}
	s, err := c.open(g, true)
	if err != nil {
		return err
	}
	defer s.close()
	return s.result(g, s.m.Migrate(uint(v)))
}

// result reports the outcome of up, down and goto as migrate does: "no change" is a success.
func (s *session) result(g *globalFlags, err error) error {
	switch {
	case errors.Is(err, gomigrate.ErrNoChange):
		s.c.con.Println(err)
		err = nil
	case err != nil:
		return s.explain(err)
	}
	s.c.finished(g)
	if g.verbose && s.prog.Jobs > 0 {
		p := s.prog
		s.c.con.Printf("%d Batch jobs: %s in migrations (create %s, wait %s); server-side %s; noticed %s after they ended\n",
			p.Jobs, round(p.Total), round(p.Create), round(p.Wait), round(p.Server), round(p.PollLag))
	}
	if s.stopping.Load() {
		// Stopped early on request: the command did not do what it was asked, so it fails,
		// as an interrupted command should, and says how far it got.
		msg := "error: interrupted: stopped after the running migration"
		if v, dirty, err := s.drv.Version(); err == nil {
			msg += "; the database is at " + versionName(v)
			if dirty {
				msg += " (dirty)"
			}
		}
		return &exitErr{code: exitError, msg: msg}
	}
	return nil
}

func (c *cli) force(g *globalFlags, args []string) error {
	ifDirty := -2 // not given
	fs, err := c.subFlags("force", forceUsage, args, func(fs *flag.FlagSet) {
		fs.Func("if-dirty", "Force only if the version is still `N` (dirty): refuse if a migration's job recorded it meanwhile", func(v string) error {
			n, err := strconv.ParseInt(v, 10, 63)
			if err != nil || n < -1 {
				return errors.New("want a version >= -1")
			}
			ifDirty = int(n)
			return nil
		})
	})
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("error: please specify version argument V")
	}
	v, err := strconv.ParseInt(fs.Arg(0), 10, 63)
	if err != nil {
		return usageError("error: can't read version argument V")
	}
	if v < -1 {
		return usageError("error: argument V must be >= -1")
	}
	s, err := c.open(g, false)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.drv.Lock(); err != nil {
		return err
	}
	// Reading the version first arms SetVersion's guard: should a migration's Batch job still
	// run and record its version clean, SetVersion waits for it (both take the migrations
	// table's advisory lock) and then refuses, instead of recording as not applied a migration
	// that just committed.
	cur, dirty, err := s.drv.Version()
	if err != nil {
		return errors.Join(err, s.drv.Unlock())
	}
	if ifDirty != -2 && (cur != ifDirty || !dirty) {
		state := versionName(cur)
		if dirty {
			state += " (dirty)"
		}
		return errors.Join(fmt.Errorf("nothing forced: the database is at %s, not %s (dirty) as -if-dirty expects; a migration's Batch job that was still running has recorded it, so run the migrations again to go on", state, versionName(ifDirty)), s.drv.Unlock())
	}
	if err := s.drv.SetVersion(int(v), false); err != nil {
		if errors.Is(err, cmigrate.ErrConflict) {
			err = fmt.Errorf("%w\nNothing was forced: the version changed while force waited (a migration's Batch job recorded it, or\nanother migrator wrote it). Run `cartomigrate version` to see where the database is now", err)
		}
		return errors.Join(err, s.drv.Unlock())
	}
	if err := s.drv.Unlock(); err != nil {
		return err
	}
	c.finished(g)
	return nil
}

func (c *cli) version(g *globalFlags, args []string) error {
	if _, err := c.subFlags("version", versionUsage, args, nil); err != nil {
		return err
	}
	s, err := c.open(g, false)
	if err != nil {
		return err
	}
	defer s.close()
	v, dirty, err := s.drv.Version()
	switch {
	case err != nil:
		return err
	case v == database.NilVersion:
		return gomigrate.ErrNilVersion
	case dirty:
		c.con.Printf("version %v (dirty)\n", v)
	default:
		c.con.Printf("version %v\n", v)
	}
	return nil
}

func (c *cli) drop(g *globalFlags, args []string) error {
	var forced bool
	if _, err := c.subFlags("drop", dropUsage, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&forced, "f", false, "Force the drop command by bypassing the confirmation prompt")
	}); err != nil {
		return err
	}
	if !forced {
		if !c.confirm("Are you sure you want to drop the entire database schema? [y/N]") {
			return &exitErr{code: exitError, msg: "Aborted dropping the entire database schema"}
		}
		c.con.Println("Dropping the entire database schema")
	}
	s, err := c.open(g, false)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.drv.Lock(); err != nil {
		return err
	}
	if err := s.drv.Drop(); err != nil {
		return errors.Join(err, s.drv.Unlock())
	}
	if err := s.drv.Unlock(); err != nil {
		return err
	}
	c.finished(g)
	return nil
}
