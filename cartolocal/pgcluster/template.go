package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// A template is a stopped cluster with PostGIS installed, kept in the user's cache directory.
// Temporary clusters start as a copy of it: copying some 60 MB of files takes a fraction of the
// time initdb and CREATE EXTENSION postgis take, which is most of a test process's start-up.
// The first temporary cluster of a machine builds it. Its key changes with the PostgreSQL and
// PostGIS installed, so an upgrade builds a new one.
type template struct {
	dir string // where the template lives once complete
}

// templateFormat changes whenever what a template holds changes ("2": postgis_raster too).
const templateFormat = "2"

// findTemplate returns the template for the binaries in binDir, or nil when there is no cache
// directory to keep one in (or CARTOLOCAL_TEMPLATE=off).
func findTemplate(binDir string) *template {
	if os.Getenv("CARTOLOCAL_TEMPLATE") == "off" {
		return nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	h := sha256.New()
	fmt.Fprintln(h, templateFormat, binDir)
	stamp := func(path string) {
		if fi, err := os.Stat(path); err == nil {
			fmt.Fprintln(h, path, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	stamp(filepath.Join(binDir, "postgres"))
	if out, err := exec.Command(filepath.Join(binDir, "pg_config"), "--sharedir").Output(); err == nil {
		stamp(filepath.Join(strings.TrimSpace(string(out)), "extension", "postgis.control"))
	}
	return &template{dir: filepath.Join(cache, "cartolocal", "template-"+hex.EncodeToString(h.Sum(nil))[:16])}
}

// complete reports whether the template has been built.
func (t *template) complete() bool {
	_, err := os.Stat(filepath.Join(t.dir, passwordFile))
	return err == nil
}

// copyTo copies the template into dst, which must not exist.
func (t *template) copyTo(dst string) error {
	return copyTree(t.dir, dst)
}

// save stores the stopped cluster in dataDir as the template. Several processes may race to
// build it: each copies into its own staging directory, and the first rename wins.
func (t *template) save(dataDir string) error {
	if err := os.MkdirAll(filepath.Dir(t.dir), 0o700); err != nil {
		return err
	}
	// Staging directories of builders killed midway are of no use to anyone.
	if old, _ := filepath.Glob(filepath.Join(filepath.Dir(t.dir), ".staging-*")); len(old) > 0 {
		for _, dir := range old {
			if fi, err := os.Stat(dir); err == nil && time.Since(fi.ModTime()) > time.Hour {
				_ = os.RemoveAll(dir)
			}
		}
	}
	staging, err := os.MkdirTemp(filepath.Dir(t.dir), ".staging-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	tree := filepath.Join(staging, "data")
	if err := copyTree(dataDir, tree); err != nil {
		return err
	}
	for _, transient := range []string{logFileName, "postmaster.pid", "postmaster.opts"} {
		_ = os.Remove(filepath.Join(tree, transient))
	}
	if err := os.Rename(tree, t.dir); err != nil && !t.complete() {
		return err
	}
	return nil
}

// copyTree copies a directory of regular files and directories, keeping permissions (PostgreSQL
// insists on 0700 or 0750 for its data directory). Go's io.Copy between files uses
// copy_file_range, which file systems that can share blocks turn into a cheap clone.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm())
		case d.Type().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return nil // sockets and the like: a stopped cluster has none
		}
	})
}

// syncTree flushes every file and directory below dir to disk.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = f.Sync()
		return errors.Join(err, f.Close())
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// buildTemplate installs PostGIS (and postgis_raster) in the freshly made, running cluster, stops it, saves it as the
// template, and starts it again.
func (c *Cluster) buildTemplate(ctx context.Context, t *template) error {
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		return err
	}
	var available bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')").Scan(&available)
	if err == nil && available {
		_, err = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis")
	}
	if err == nil && available {
		// Raster support where the server has it, as the server's install makes it anyway.
		_, err = conn.Exec(ctx, `DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis_raster') THEN
		CREATE EXTENSION IF NOT EXISTS postgis_raster;
	END IF;
END $$`)
	}
	conn.Close(ctx)
	if err != nil {
		return err
	}
	if !available {
		return nil // no template without PostGIS; starting the server says what to install
	}
	c.stopProcess()
	start := time.Now()
	saveErr := t.save(c.dataDir)
	if saveErr == nil {
		c.logf("cartolocal: saved a cluster template in %s (%v); later temporary clusters start from it", t.dir, time.Since(start).Round(time.Millisecond))
	}
	if err := c.launchRetrying(ctx); err != nil {
		return err
	}
	if saveErr != nil {
		c.logf("cartolocal: could not save a cluster template in %s: %v", t.dir, saveErr)
	}
	return nil
}

// setPassword gives a cluster copied from the template its own superuser password.
func (c *Cluster) setPassword(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	pw := randomHex(20)
	// pw is hex: it needs no quoting inside the literal.
	if _, err := conn.Exec(ctx, "ALTER ROLE "+superuser+" PASSWORD '"+pw+"'"); err != nil {
		return err
	}
	c.password = pw
	f, err := os.OpenFile(filepath.Join(c.dataDir, passwordFile), os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(pw + "\n")
	if err == nil && c.durable() {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
