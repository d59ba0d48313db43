package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	defaultTimeFormat = "20060102150405"
	defaultTimezone   = "UTC"
)

var (
	errInvalidSequenceWidth     = errors.New("digits must be positive")
	errIncompatibleSeqAndFormat = errors.New("the seq and format options are mutually exclusive")
	errInvalidTimeFormat        = errors.New("time format may not be empty")
)

// create writes an empty up/down pair, as migrate create does. Unlike migrate, -ext defaults to
// sql (the only kind a CARTO account runs) and -dir to -path.
func (c *cli) create(g *globalFlags, args []string) error {
	var (
		ext, dir, format, tz string
		seq                  bool
		digits               int
	)
	fs, err := c.subFlags("create", createUsage, args, func(fs *flag.FlagSet) {
		fs.StringVar(&ext, "ext", "sql", "File extension")
		fs.StringVar(&dir, "dir", "", "Directory to place file in (default: -path, else the current working directory)")
		fs.StringVar(&format, "format", defaultTimeFormat, `The Go time format string to use. If the string "unix" or "unixNano" is specified, then the seconds or nanoseconds since January 1, 1970 UTC respectively will be used. Caution, due to the behavior of time.Time.Format(), invalid format strings will not error`)
		fs.StringVar(&tz, "tz", defaultTimezone, `The timezone that will be used for generating timestamps (default: utc)`)
		fs.BoolVar(&seq, "seq", false, "Use sequential numbers instead of timestamps (default: false)")
		fs.IntVar(&digits, "digits", 6, "The number of digits to use in sequences (default: 6)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("error: please specify name")
	}
	if fs.NArg() > 1 {
		return usageError("error: too many arguments; flags go before NAME")
	}
	name := fs.Arg(0)
	if ext == "" {
		return usageError("error: -ext flag must be specified")
	}
	if dir == "" {
		dir = g.path
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return err
	}
	return c.createFiles(dir, c.start.In(loc), format, name, ext, seq, digits)
}

func (c *cli) createFiles(dir string, startTime time.Time, format, name, ext string, seq bool, digits int) error {
	if seq && format != defaultTimeFormat {
		return errIncompatibleSeqAndFormat
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("name %q must not be a path", name)
	}
	dir = filepath.Clean(dir)
	ext = "." + strings.TrimPrefix(ext, ".")

	var version string
	var err error
	if seq {
		matches, err := filepath.Glob(filepath.Join(dir, "*"+ext))
		if err != nil {
			return err
		}
		if version, err = nextSeqVersion(matches, digits); err != nil {
			return err
		}
	} else if version, err = timeVersion(startTime, format); err != nil {
		return err
	}

	matches, err := filepath.Glob(filepath.Join(dir, version+"_*"+ext))
	if err != nil {
		return err
	}
	if len(matches) > 0 {
		return fmt.Errorf("duplicate migration version: %s", version)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	for _, direction := range []string{"up", "down"} {
		filename := filepath.Join(dir, fmt.Sprintf("%s_%s.%s%s", version, name, direction, ext))
		// O_EXCL: never overwrite a migration someone already wrote.
		f, err := os.OpenFile(filename, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		abs, _ := filepath.Abs(filename)
		c.con.Println(abs)
	}
	return nil
}

// nextSeqVersion is one more than the highest sequence among the existing files. The glob
// returns them sorted, and zero-padded sequences sort as numbers.
func nextSeqVersion(matches []string, digits int) (string, error) {
	if digits <= 0 {
		return "", errInvalidSequenceWidth
	}
	next := uint64(1)
	if len(matches) > 0 {
		filename := matches[len(matches)-1]
		base := filepath.Base(filename)
		idx := strings.Index(base, "_")
		if idx < 1 { // at least one digit before the underscore
			return "", fmt.Errorf("malformed migration filename: %s", filename)
		}
		n, err := strconv.ParseUint(base[:idx], 10, 64)
		if err != nil {
			return "", err
		}
		next = n + 1
	}
	version := fmt.Sprintf("%0[2]*[1]d", next, digits)
	if len(version) > digits {
		return "", fmt.Errorf("next sequence number %s too large, at most %d digits are allowed", version, digits)
	}
	return version, nil
}

func timeVersion(t time.Time, format string) (string, error) {
	switch format {
	case "":
		return "", errInvalidTimeFormat
	case "unix":
		return strconv.FormatInt(t.Unix(), 10), nil
	case "unixNano":
		return strconv.FormatInt(t.UnixNano(), 10), nil
	}
	return t.Format(format), nil
}
