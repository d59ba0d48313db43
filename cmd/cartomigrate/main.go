// Command cartomigrate applies golang-migrate migrations to a CARTO account. It repeats the
// migrate CLI command for command and flag for flag (up, down, goto, force, version, drop,
// create), with the carto database driver of github.com/gocarto/carto/migrate: each migration runs
// as one Batch SQL job, which is one transaction.
//
//	export CARTO_DATABASE_URL='carto://alice:MASTER_KEY@alice.carto.com'
//	cartomigrate -path migrations up
//
// Output goes to stderr. Exit status: 0 on success (also "no change"), 1 on errors, 2 on usage
// errors. Ctrl-C once stops after the running migration (exit status 1, saying the version
// reached); a second Ctrl-C cancels its Batch job on
// the server (rolling it back), releases the lock and leaves the version dirty.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/gocarto/carto"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	c := &cli{
		stdin:   bufio.NewReader(os.Stdin),
		con:     &console{w: os.Stderr, terminal: isTerminal(os.Stderr)},
		getenv:  os.Getenv,
		signals: sigs,
	}
	os.Exit(c.run(os.Args[1:]))
}

// cli is one run of the command, with its inputs and outputs, so tests can run it in process.
type cli struct {
	stdin   *bufio.Reader
	con     *console
	getenv  func(string) string
	signals <-chan os.Signal
	start   time.Time
}

// globalFlags are the options before the command.
type globalFlags struct {
	source, path, database string
	prefetch, lockTimeout  uint
	verbose                bool
}

// exitErr carries an exit status through the commands: usage errors are 2, the rest 1.
type exitErr struct {
	code int
	msg  string
}

func (e *exitErr) Error() string { return e.msg }

func usageError(format string, v ...any) error {
	return &exitErr{code: exitUsage, msg: fmt.Sprintf(format, v...)}
}

func (c *cli) run(args []string) int {
	c.start = time.Now()
	fs := flag.NewFlagSet("cartomigrate", flag.ContinueOnError)
	fs.SetOutput(c.con.w)
	fs.Usage = func() { printUsage(c.con.w) }
	var g globalFlags
	help := fs.Bool("help", false, "")
	version := fs.Bool("version", false, "")
	fs.BoolVar(&g.verbose, "verbose", false, "")
	fs.UintVar(&g.prefetch, "prefetch", 10, "")
	fs.UintVar(&g.lockTimeout, "lock-timeout", 15, "")
	fs.StringVar(&g.path, "path", "", "")
	fs.StringVar(&g.database, "database", "", "")
	fs.StringVar(&g.source, "source", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	c.con.verbose = g.verbose
	if *version {
		fmt.Fprintln(c.con.w, carto.Version)
		return exitOK
	}
	if *help {
		printUsage(c.con.w)
		return exitOK
	}
	if g.source == "" && g.path != "" {
		g.source = "file://" + g.path
	}
	if g.database == "" {
		g.database = c.getenv("CARTO_DATABASE_URL")
	}
	if fs.NArg() < 1 {
		printUsage(c.con.w)
		return exitUsage
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	var err error
	switch cmd {
	case "create":
		err = c.create(&g, rest)
	case "up":
		err = c.up(&g, rest)
	case "down":
		err = c.down(&g, rest)
	case "goto":
		err = c.gotoVersion(&g, rest)
	case "force":
		err = c.force(&g, rest)
	case "version":
		err = c.version(&g, rest)
	case "drop":
		err = c.drop(&g, rest)
	default:
		c.con.Printf("error: unknown command %q\n\n", cmd)
		printUsage(c.con.w)
		return exitUsage
	}
	var ee *exitErr
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		if ee.msg != "" {
			c.con.Println(ee.msg)
		}
		return ee.code
	default:
		c.con.Println("error:", strings.TrimSpace(err.Error()))
		return exitError
	}
}

var negativeNumber = regexp.MustCompile(`^-[0-9]+$`)

// subFlags is a command's own flag set; -help prints the command's usage.
func (c *cli) subFlags(name, usage string, args []string, define func(*flag.FlagSet)) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.con.w)
	help := fs.Bool("help", false, "Print help information")
	if define != nil {
		define(fs)
	}
	fs.Usage = func() {
		fmt.Fprintln(c.con.w, usage)
		fs.PrintDefaults()
	}
	// A negative number is an argument (force -1), not a flag: the flag package would refuse it,
	// so the flags end there.
	var tail []string
	for i, a := range args {
		if negativeNumber.MatchString(a) {
			args, tail = args[:i], args[i:]
			break
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, &exitErr{code: exitOK}
		}
		return nil, &exitErr{code: exitUsage}
	}
	if len(tail) > 0 {
		// Reparse so that Args holds the positional arguments, the negative number included.
		rest := append(fs.Args(), tail...)
		if err := fs.Parse(append([]string{"--"}, rest...)); err != nil {
			return nil, &exitErr{code: exitUsage}
		}
	}
	if *help {
		fs.Usage()
		return nil, &exitErr{code: exitOK}
	}
	return fs, nil
}

// confirm asks a yes/no question on stderr and reads the answer from stdin, as migrate does.
func (c *cli) confirm(question string) bool {
	c.con.Println(question)
	line, _ := c.stdin.ReadString('\n')
	return strings.ToLower(strings.TrimSpace(line)) == "y"
}

func (c *cli) finished(g *globalFlags) {
	if g.verbose {
		c.con.Println("Finished after", time.Since(c.start))
	}
}
