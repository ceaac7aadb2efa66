package tensor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic creates or replaces the file at path with what write
// writes. It writes to a temporary file in the same directory (so that the
// final rename cannot cross file systems), flushes and syncs it, and renames
// it into place, so that readers see either the old file or the complete new
// one, never half a file. If write returns an error, or panics, or any step
// fails, the temporary file is removed and path is left untouched.
//
// The writer passed to write is buffered. The new file gets mode 0644. Errors
// start with path.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("%s: not a file name", path)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return pathError(path, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return pathError(path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return pathError(path, err)
	}
	if err := f.Sync(); err != nil {
		return pathError(path, err)
	}
	if err := f.Close(); err != nil {
		return pathError(path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return pathError(path, err)
	}
	done = true
	// Make the rename itself durable. Not every system can sync a
	// directory (Windows cannot), so failures here are ignored.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
