package carto

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// TestThirdPartyNotices checks the repository against the convention THIRD_PARTY_NOTICES states:
// every third_party/<name>/ directory holds a LICENSE file and has a section in
// THIRD_PARTY_NOTICES with that text, and every section names such a directory.
func TestThirdPartyNotices(t *testing.T) {
	for _, err := range checkNotices(os.DirFS(".")) {
		t.Error(err)
	}
}

// TestThirdPartyNoticesFixtures runs the check on small trees under testdata/notices, so that it
// is known to catch each mistake while the repository has none to catch.
func TestThirdPartyNoticesFixtures(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string // one substring per expected error, in order
	}{
		{"good", nil},
		{"bad", []string{
			"web/third_party/changed: the section in THIRD_PARTY_NOTICES differs from its LICENSE",
			"web/third_party/nolicense: no LICENSE file",
			"web/third_party/nosection: no section in THIRD_PARTY_NOTICES",
			"web/third_party: plain.js is a file",
			`THIRD_PARTY_NOTICES: section "web/third_party/changed" appears twice`,
			`THIRD_PARTY_NOTICES: section "web/third_party/gone" names no third_party directory`,
			`THIRD_PARTY_NOTICES: section "web/vendor" names no third_party directory`,
		}},
		{"nofile", []string{"THIRD_PARTY_NOTICES: open THIRD_PARTY_NOTICES:"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			errs := checkNotices(os.DirFS(path.Join("testdata", "notices", tc.dir)))
			for i, err := range errs {
				if i >= len(tc.want) || !strings.Contains(err.Error(), tc.want[i]) {
					t.Errorf("error %d: %v", i, err)
				}
			}
			for _, w := range tc.want[min(len(errs), len(tc.want)):] {
				t.Errorf("missing error %q", w)
			}
		})
	}
}

// noticesFile is where the sections live, at the module root.
const noticesFile = "THIRD_PARTY_NOTICES"

// checkNotices returns every breach of the convention in the tree fsys, sorted: first those of
// the directories (in walk order), then those of the sections.
func checkNotices(fsys fs.FS) []error {
	var errs []error
	dirs := map[string]bool{} // third_party/<name> directories found, by path
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		// What the go command ignores is no source and embeds nothing we ship.
		if p != "." && (d.Name() == "testdata" || d.Name() == "node_modules" ||
			strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			return fs.SkipDir
		}
		if path.Base(path.Dir(p)) == "third_party" {
			dirs[p] = true
			if _, err := fs.Stat(fsys, path.Join(p, "LICENSE")); err != nil {
				errs = append(errs, fmt.Errorf("%s: no LICENSE file beside the third-party files", p))
			}
			return fs.SkipDir
		}
		if d.Name() == "third_party" {
			entries, err := fs.ReadDir(fsys, p)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if !e.IsDir() {
					errs = append(errs, fmt.Errorf("%s: %s is a file; third-party files go in %s/<name>/ with their LICENSE", p, e.Name(), p))
				}
			}
		}
		return nil
	})
	if err != nil {
		return append(errs, err)
	}

	sections, err := readNotices(fsys)
	if err != nil {
		return append(errs, fmt.Errorf("%s: %w", noticesFile, err))
	}
	seen := map[string]bool{}
	var sectionErrs []error
	for _, s := range sections {
		switch {
		case seen[s.dir]:
			sectionErrs = append(sectionErrs, fmt.Errorf("%s: section %q appears twice", noticesFile, s.dir))
			continue
		case !dirs[s.dir]:
			sectionErrs = append(sectionErrs, fmt.Errorf("%s: section %q names no third_party directory (remove it, or fix its path)", noticesFile, s.dir))
		}
		seen[s.dir] = true
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		if !seen[dir] {
			errs = append(errs, fmt.Errorf("%s: no section in %s; add one holding the text of its LICENSE", dir, noticesFile))
			continue
		}
		license, err := fs.ReadFile(fsys, path.Join(dir, "LICENSE"))
		if err != nil {
			continue // reported by the walk
		}
		for _, s := range sections {
			if s.dir == dir && !strings.Contains(normalizeSpace(s.text), normalizeSpace(string(license))) {
				errs = append(errs, fmt.Errorf("%s: the section in %s differs from its LICENSE", dir, noticesFile))
				break
			}
		}
	}
	slices.SortStableFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return append(errs, sectionErrs...)
}

// notice is one section of THIRD_PARTY_NOTICES: the directory it names and its text.
type notice struct {
	dir, text string
}

// readNotices splits THIRD_PARTY_NOTICES into its sections. A section begins with a line
// "=== DIR ===" and runs to the next one; the text before the first is the file's header.
func readNotices(fsys fs.FS) ([]notice, error) {
	f, err := fsys.Open(noticesFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		sections []notice
		text     strings.Builder
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if dir, ok := strings.CutPrefix(line, "=== "); ok {
			if dir, ok = strings.CutSuffix(dir, " ==="); !ok || strings.TrimSpace(dir) == "" {
				return nil, fmt.Errorf("malformed section line %q; want === DIR ===", line)
			}
			if len(sections) > 0 {
				sections[len(sections)-1].text = text.String()
			}
			text.Reset()
			sections = append(sections, notice{dir: path.Clean(strings.TrimSpace(dir))})
			continue
		}
		text.WriteString(line)
		text.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(sections) > 0 {
		sections[len(sections)-1].text = text.String()
	}
	if len(sections) == 0 && !strings.Contains(text.String(), "third_party") {
		return nil, errors.New("no header stating the third_party convention")
	}
	return sections, nil
}

// normalizeSpace folds runs of white space into one space, so that a license text re-wrapped or
// indented in THIRD_PARTY_NOTICES still matches its file.
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
