package pgcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// installHint is what to do when no PostgreSQL is found.
const installHint = "install PostgreSQL and PostGIS (Debian/Ubuntu: apt-get install postgresql-15 postgresql-15-postgis-3) or set Config.PGURL to an existing server"

// findBinDir returns the directory holding initdb and postgres: the one on PATH first (resolving
// symlinks, since Debian links /usr/bin wrappers elsewhere), then /usr/lib/postgresql/*/bin, newest
// major version first.
func findBinDir() (string, error) {
	var tried []string
	ok := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if ok(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if ok(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	if len(tried) == 0 {
		tried = append(tried, "$PATH", "/usr/lib/postgresql/*/bin")
	}
	return "", fmt.Errorf("cartolocal: no PostgreSQL server binaries (initdb, postgres) found in %s: %s",
		strings.Join(tried, ", "), installHint)
}

// versionOf reads the major version out of /usr/lib/postgresql/VERSION/bin.
func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}
