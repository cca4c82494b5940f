// Package docs holds the project's documents; its test keeps the
// requirement codes cited in the source pointing at REQUIREMENTS.md.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// code is a requirement code as the source cites it: S16, X4, P1, Y2.
var code = regexp.MustCompile(`\b[PSXY][0-9]{1,2}\b`)

// TestRequirementCodesResolve: every code in a Go comment is defined (as a
// table row) in REQUIREMENTS.md.
func TestRequirementCodesResolve(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("REQUIREMENTS.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if m := regexp.MustCompile(`^\| ([PSXY][0-9]{1,2}) \|`).FindStringSubmatch(line); m != nil {
			defined[m[1]] = true
		}
	}
	if len(defined) < 40 {
		t.Fatalf("REQUIREMENTS.md defines %d codes, want the 43 of the specification", len(defined))
	}
	cited := 0
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && d.Name() != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			_, comment, ok := strings.Cut(line, "//")
			if !ok {
				continue
			}
			for _, c := range code.FindAllString(comment, -1) {
				cited++
				if !defined[c] {
					t.Errorf("%s:%d cites %s, which REQUIREMENTS.md does not define", path, i+1, c)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited == 0 {
		t.Error("found no requirement code in the source; is the walk looking in the right place?")
	}
}
