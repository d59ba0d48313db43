// Command cartolocal runs a local CARTO-compatible server (SQL, Batch, Import, Maps, account and
// Auth APIs) backed by a real PostgreSQL + PostGIS: a private cluster it starts with the machine's initdb and postgres,
// or an existing server given by --pg-url.
//
//	cartolocal [--addr 127.0.0.1:5480] [--user NAME]... [--api-key KEY] [--data-dir DIR]
//	           [--pg-url URL] [--statement-timeout 30s]
//	cartolocal --version
//
// Once serving, it prints for each user, on standard output, lines a script can read:
//
//	CARTO_USER=demo
//	CARTO_BASE_URL=http://127.0.0.1:5480/user/demo/
//	CARTO_API_KEY=<master key>
//	CARTO_PUBLIC_KEY=<public key>
//
// and logs on standard error. SIGINT or SIGTERM shuts the HTTP server down gracefully, stops
// PostgreSQL (when it started it) and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cartolocal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5480", "`host:port` to serve HTTP on (port 0 picks a free port)")
	pgURL := fs.String("pg-url", "", "superuser `URL` of an existing PostgreSQL with PostGIS; empty starts a private cluster")
	dataDir := fs.String("data-dir", "", "data `directory` of the private cluster, kept across runs; empty uses a temporary one")
	apiKey := fs.String("api-key", "", "master API `key` of the first user; empty keeps the stored one or generates one")
	timeout := fs.Duration("statement-timeout", 0, "statement timeout of every user, as CARTO's plans set one (0: none)")
	version := fs.Bool("version", false, "print gocarto's version and exit")
	var users []string
	fs.Func("user", "user `name` to serve (repeatable; default demo)", func(v string) error {
		users = append(users, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: cartolocal [flags]\n\nA local CARTO (SQL, Batch, Import, Maps, account and Auth APIs) on PostgreSQL + PostGIS.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, carto.Version)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cartolocal: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *pgURL != "" && *dataDir != "" {
		fmt.Fprintln(stderr, "cartolocal: --pg-url and --data-dir exclude each other")
		return 2
	}
	if len(users) == 0 {
		users = []string{"demo"}
	}
	logger := log.New(stderr, "", log.LstdFlags)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := cartolocal.Config{PGURL: *pgURL, DataDir: *dataDir, StatementTimeout: *timeout, Logf: logger.Printf}
	for i, name := range users {
		uc := cartolocal.UserConfig{Name: name}
		if i == 0 {
			uc.MasterKey = *apiKey
		}
		cfg.Users = append(cfg.Users, uc)
	}
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	srv, err := cartolocal.New(startCtx, cfg)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, prefixed(err))
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "cartolocal: %v\n", err)
		srv.Close()
		return 1
	}
	hs := srv.HTTPServer() // with the timeouts a server facing untrusted clients needs
	hs.ErrorLog = logger
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	logger.Printf("cartolocal: serving %s on %s", users, base)
	for _, name := range users {
		u, _ := srv.User(name)
		fmt.Fprintf(stdout, "CARTO_USER=%s\nCARTO_BASE_URL=%s/user/%s/\nCARTO_API_KEY=%s\nCARTO_PUBLIC_KEY=%s\n",
			name, base, name, u.MasterKey, u.PublicKey)
	}
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync()
	}

	status := 0
	select {
	case <-ctx.Done():
		stop() // a second signal now kills the process; PostgreSQL then shuts itself down
		logger.Printf("cartolocal: shutting down")
	case err := <-served:
		logger.Printf("cartolocal: HTTP server: %v", err)
		status = 1
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		logger.Printf("cartolocal: HTTP shutdown: %v", err)
		_ = hs.Close()
	}
	if err := srv.Close(); err != nil {
		logger.Print(prefixed(err))
		status = 1
	}
	return status
}

// prefixed is err's message with the command's name in front once: the package's errors already
// start with it, and "cartolocal: cartolocal: ..." stuttered.
func prefixed(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "cartolocal: ") {
		return msg
	}
	return "cartolocal: " + msg
}
