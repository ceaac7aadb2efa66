// Package golden is what cnnc's golden-file tests share: one -update flag
// and the comparison that reports a difference as a line diff, or rewrites
// the file under -update (the go/printer pattern).
//
//	go test ./codegen -run TestCompiledGolden -update
//
// rewrites codegen's goldens; the same flag works in every package whose
// tests use this one. Goldens are never edited by hand: change the
// generator, rerun with -update and review the diff.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Update reports whether the test binary runs with -update.
func Update() bool { return *update }

// maxDiffLines bounds the diff a failure prints: a generator change can
// touch thousands of lines, and the first ones say what happened.
const maxDiffLines = 200

// Check compares got with the file at path, or, under -update, writes got
// there (creating its directory).
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (go test -update writes it)", err)
		return
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s mismatch (-want +got; go test -update rewrites it after an intended change):\n%s", path, Diff(want, got))
	}
}

// CheckDir compares the files of dir with files (name -> contents), and
// reports a file in dir that files does not name as stale. Under -update
// it makes dir hold exactly files.
func CheckDir(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		Check(t, filepath.Join(dir, name), files[name])
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("%s is stale: the test no longer makes it (go test -update removes it)", filepath.Join(dir, e.Name()))
		}
	}
}

// Diff returns a line diff of want and got, as cmp.Diff prints it (-want
// +got), cut after maxDiffLines lines.
func Diff(want, got []byte) string {
	d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n"))
	lines := strings.Split(d, "\n")
	if len(lines) > maxDiffLines {
		d = strings.Join(lines[:maxDiffLines], "\n") + fmt.Sprintf("\n... and %d more lines of diff", len(lines)-maxDiffLines)
	}
	return d
}
