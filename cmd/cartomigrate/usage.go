package main

import (
	"fmt"
	"io"
)

// The usage texts follow golang-migrate's CLI, command for command.
const (
	createUsage = `create [-ext E] [-dir D] [-seq] [-digits N] [-format] [-tz] NAME
	   Create a set of timestamped up/down migrations titled NAME, in directory D with extension E.
	   Use -seq option to generate sequential up/down migrations with N digits.
	   Use -format option to specify a Go time format string. Note: migrations with the same time cause "duplicate migration version" error.
	   Use -tz option to specify the timezone that will be used when generating non-sequential migrations (defaults: UTC).
	   E defaults to sql, D to -path (or the current directory).`
	gotoUsage = `goto V       Migrate to version V`
	upUsage   = `up [N]       Apply all or N up migrations`
	downUsage = `down [N] [-all]    Apply all or N down migrations
	Use -all to apply all down migrations`
	dropUsage = `drop [-f]    Drop everything inside database
	Use -f to bypass confirmation`
	forceUsage = `force [-if-dirty N] V    Set version V but don't run migration (ignores dirty state)
	Use -if-dirty N to force only while the version is N (dirty), as the error messages advise`
	versionUsage = `version      Print current migration version`
)

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage: cartomigrate OPTIONS COMMAND [arg...]
       cartomigrate [ -version | -help ]

Runs golang-migrate migrations against a CARTO account, each migration as one Batch SQL job
(one transaction).

Options:
  -source          Location of the migrations (file://path)
  -path            Shorthand for -source=file://path
  -database        Run migrations against this account
                   (carto://USER:API_KEY@HOST[:PORT][/user/USER][?x-migrations-table=...];
                   default $CARTO_DATABASE_URL; without a key in it, $CARTO_API_KEY is used)
  -prefetch N      Number of migrations to load in advance before executing (default 10)
  -lock-timeout N  Allow N seconds to acquire database lock (default 15)
  -verbose         Print verbose logging
  -version         Print version
  -help            Print usage

Commands:
  %s
  %s
  %s
  %s
  %s
  %s
  %s

Ctrl-C once stops after the running migration (exit status 1); twice cancels its Batch job, which rolls it back,
and leaves the version dirty.
Exit status: 0 on success (also "no change"), 1 on errors, 2 on usage errors.

Source drivers: file
Database drivers: carto
`, createUsage, gotoUsage, upUsage, downUsage, dropUsage, forceUsage, versionUsage)
}
