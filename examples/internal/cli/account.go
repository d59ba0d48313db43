// Package cli is how every example under examples/ reaches its CARTO account and answers
// -version. Each example takes the same flags:
//
//	-base-url URL   the account, such as https://USER.carto.com/ (default $CARTO_BASE_URL)
//	-api-key KEY    its API key (default $CARTO_API_KEY)
//	-dsn DSN        a carto:// data source name instead (default $CARTO_DSN; driver examples only)
//	-version        print gocarto's version and exit
//
// cartolocal prints CARTO_BASE_URL and CARTO_API_KEY for each account it serves, so after
// eval-ing its output every example runs with no flag about the account at all.
//
// The defaults are read from the environment after the flags are parsed, never set as flag
// defaults: -help prints flag defaults, and the API key would be among them. No error this
// package returns contains the key.
package cli

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/driver"
)

// ErrUsage is wrapped by the errors that are mistakes in the command line; Fail exits with
// status 2 for them, as the flag package does.
var ErrUsage = errors.New("usage")

// Account is where an example finds its CARTO account: flags first, then the environment.
type Account struct {
	fs      *flag.FlagSet
	baseURL string
	apiKey  string // never printed: Account has no String method and no exported field holds it
	dsn     string
	withDSN bool
	version bool
	getenv  func(string) string
}

// Option changes what Register adds.
type Option func(*Account)

// WithDSN adds -dsn and $CARTO_DSN, for the examples built on the database/sql driver.
func WithDSN() Option { return func(a *Account) { a.withDSN = true } }

// Register adds the account flags and -version to fs and returns the Account they fill once
// Parse has run.
func Register(fs *flag.FlagSet, opts ...Option) *Account {
	a := &Account{fs: fs, getenv: os.Getenv}
	for _, o := range opts {
		o(a)
	}
	fs.StringVar(&a.baseURL, "base-url", "", "the account's base `URL`, such as https://USER.carto.com/ (default $CARTO_BASE_URL)")
	fs.StringVar(&a.apiKey, "api-key", "", "the account's API `key` (default $CARTO_API_KEY)")
	if a.withDSN {
		fs.StringVar(&a.dsn, "dsn", "", "a carto data source name, carto://USER:API_KEY@HOST[/user/USER], instead of -base-url (default $CARTO_DSN)")
	}
	fs.BoolVar(&a.version, "version", false, "print gocarto's version and exit")
	return a
}

// Parse parses args (without the program name) and fills what the flags left empty from the
// environment. It ends the program as flag.ExitOnError does: status 0 after -help, 2 after a
// flag it does not know, and 0 after printing the version for -version.
func (a *Account) Parse(args []string) {
	code, done := a.parse(args, os.Stdout)
	if done {
		os.Exit(code)
	}
}

// parse is Parse without the exit: done reports that the program should end with code.
func (a *Account) parse(args []string, stdout io.Writer) (code int, done bool) {
	if err := a.fs.Parse(args); err != nil {
		// ContinueOnError: the flag package has printed the error and the usage already.
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	if a.version {
		fmt.Fprintln(stdout, carto.Version)
		return 0, true
	}
	// An explicit flag beats any variable: -base-url must not be overridden by $CARTO_DSN.
	if a.baseURL == "" && a.dsn == "" {
		if a.withDSN {
			a.dsn = a.getenv("CARTO_DSN")
		}
		if a.dsn == "" {
			a.baseURL = a.getenv("CARTO_BASE_URL")
		}
	}
	if a.apiKey == "" {
		a.apiKey = a.getenv("CARTO_API_KEY")
	}
	return 0, false
}

// errNoAccount names every way to give the account.
func (a *Account) errNoAccount() error {
	if a.withDSN {
		return fmt.Errorf("%w: no account: pass -base-url or set CARTO_BASE_URL (or -dsn, CARTO_DSN), and -api-key or CARTO_API_KEY", ErrUsage)
	}
	return fmt.Errorf("%w: no account: pass -base-url or set CARTO_BASE_URL, and -api-key or CARTO_API_KEY", ErrUsage)
}

// Client returns a client of the account, for the examples that use an API package (batch,
// sqlapi, ...). It needs a base URL: a DSN is for the driver only.
func (a *Account) Client() (*carto.Client, error) {
	if a.baseURL == "" {
		if a.dsn != "" {
			return nil, fmt.Errorf("%w: this example takes -base-url, not -dsn", ErrUsage)
		}
		return nil, a.errNoAccount()
	}
	// WithAPIKey even when empty: an empty key is the public role, as the flags said.
	return carto.NewClient(a.baseURL, carto.WithAPIKey(a.apiKey))
}

// OpenDB returns a database/sql handle on the account through the carto driver, from -dsn or
// from -base-url and -api-key. A DSN without a key takes -api-key, then $CARTO_API_KEY.
func (a *Account) OpenDB() (*sql.DB, error) {
	var cfg *driver.Config
	switch {
	case a.baseURL != "" && a.dsn != "":
		return nil, fmt.Errorf("%w: -base-url and -dsn exclude each other", ErrUsage)
	case a.dsn != "":
		var err error
		if cfg, err = driver.ParseDSN(a.dsn); err != nil {
			return nil, err // ParseDSN's errors never quote the key
		}
	case a.baseURL != "":
		cfg = driver.NewConfig()
		cfg.BaseURL = a.baseURL
	default:
		return nil, a.errNoAccount()
	}
	if cfg.APIKey == "" {
		cfg.APIKey = a.apiKey
	}
	c, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// Fail ends the program after an error: it prints "name: err" on standard error and exits with
// status 2 for a usage error (after the flags' usage) and 1 otherwise.
func (a *Account) Fail(err error) {
	os.Exit(a.fail(err, os.Stderr))
}

func (a *Account) fail(err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "%s: %v\n", a.fs.Name(), err)
	if errors.Is(err, ErrUsage) {
		a.fs.SetOutput(stderr)
		a.fs.Usage()
		return 2
	}
	return 1
}

// Usagef returns a usage error with the message, for Fail.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}
