package carto

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsVersion builds every command of the module (cmd/... and the examples) and checks
// that -version prints Version, the one version the User-Agent also carries (request_test.go
// checks the header). The examples get -version from examples/internal/cli.
func TestCommandsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command")
	}
	out, err := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 2 {
		t.Fatalf("go list found only %q", pkgs)
	}
	bin := t.TempDir()
	// One go build for all of them: the packages they share compile once.
	build := exec.Command("go", append([]string{"build", "-o", bin + string(filepath.Separator)}, pkgs...)...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, pkg := range pkgs {
		name := pkg[strings.LastIndex(pkg, "/")+1:]
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(bin, name), "-version")
			cmd.Env = []string{"PATH=/usr/bin:/bin"} // no account: -version must not need one
			out, err := cmd.CombinedOutput()
			got := strings.TrimSpace(string(out))
			if err != nil || got != Version {
				t.Errorf("%s -version: %q, %v; want %q (an example gets -version from examples/internal/cli.Register)", name, got, err, Version)
			}
		})
	}
}
