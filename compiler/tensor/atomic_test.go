package tensor

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.npy")
	for _, content := range []string{"first", "second, longer content"} {
		err := WriteFileAtomic(path, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("file holds %q, want %q", got, content)
		}
		if names := dirEntries(t, dir); !slices.Equal(names, []string{"out.npy"}) {
			t.Errorf("directory holds %q, want only out.npy", names)
		}
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", fi.Mode().Perm())
		}
	}
}

func TestWriteFileAtomicRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFileAtomic("rel.bin", func(w io.Writer) error {
		_, err := w.Write([]byte{1, 2, 3})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if names := dirEntries(t, dir); !slices.Equal(names, []string{"rel.bin"}) {
		t.Errorf("directory holds %q, want only rel.bin", names)
	}
}

func TestWriteFileAtomicWriteError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.safetensors")
	boom := errors.New("boom")
	failing := func(w io.Writer) error {
		// Write more than the buffer holds, so part of it reaches the
		// temporary file before the failure.
		if _, err := w.Write(make([]byte, 3<<20)); err != nil {
			return err
		}
		return boom
	}

	err := WriteFileAtomic(path, failing)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want it to wrap boom", err)
	}
	if !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("error %q does not start with the path", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q after a failed write, want nothing", names)
	}

	// A failed write leaves an existing file as it was.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, failing); !errors.Is(err, boom) {
		t.Fatalf("error %v, want it to wrap boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("file holds %q after a failed write, want %q", got, "old")
	}
	if names := dirEntries(t, dir); !slices.Equal(names, []string{"out.safetensors"}) {
		t.Errorf("directory holds %q, want only out.safetensors", names)
	}
}

func TestWriteFileAtomicPanic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not propagate")
			}
		}()
		WriteFileAtomic(path, func(w io.Writer) error {
			w.Write([]byte("partial"))
			panic("write exploded")
		})
	}()
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q after a panic, want nothing", names)
	}
}

func TestWriteFileAtomicBadPath(t *testing.T) {
	dir := t.TempDir()
	write := func(w io.Writer) error { return nil }
	missing := filepath.Join(dir, "no", "such", "dir", "f")
	if err := WriteFileAtomic(missing, write); err == nil || !strings.HasPrefix(err.Error(), missing+": ") {
		t.Errorf("missing directory: error %v, want one starting with the path", err)
	}
	if err := WriteFileAtomic(dir+string(filepath.Separator), write); err == nil {
		t.Error("a directory path succeeded")
	}
	// Renaming onto an existing directory fails; the temporary file must
	// still be cleaned up.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(sub, write); err == nil {
		t.Error("replacing a non-empty directory succeeded")
	}
	if names := dirEntries(t, dir); !slices.Equal(names, []string{"sub"}) {
		t.Errorf("directory holds %q, want only sub", names)
	}
}
