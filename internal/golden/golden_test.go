package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps its errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }

// TestCheck: a difference, a missing file and a stale file each fail, with
// a message naming the file; an equal file passes.
func TestCheck(t *testing.T) {
	if Update() {
		t.Skip("-update rewrites instead of comparing")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.golden"), []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old.golden"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Check(r, filepath.Join(dir, "a.golden"), []byte("one\ntwo\n"))
	if len(r.errs) != 0 {
		t.Fatalf("equal file: %q", r.errs)
	}
	Check(r, filepath.Join(dir, "a.golden"), []byte("one\n2\n"))
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "a.golden mismatch (-want +got") || !strings.Contains(r.errs[0], `"two"`) || !strings.Contains(r.errs[0], `"2"`) {
		t.Fatalf("changed file: %q", r.errs)
	}
	r.errs = nil
	CheckDir(r, dir, map[string][]byte{"a.golden": []byte("one\ntwo\n"), "b.golden": nil})
	if len(r.errs) != 2 || !strings.Contains(r.errs[0], "b.golden") || !strings.Contains(r.errs[1], "old.golden is stale") {
		t.Fatalf("directory: %q", r.errs)
	}
}

func TestDiffIsCut(t *testing.T) {
	got := Diff([]byte(strings.Repeat("a\n", 1000)), []byte(strings.Repeat("b\n", 1000)))
	if n := strings.Count(got, "\n"); n > maxDiffLines+1 || !strings.Contains(got, "more lines of diff") {
		t.Errorf("diff of 2000 changed lines has %d lines", n)
	}
}
