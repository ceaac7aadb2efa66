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
// start with path. WriteFileAtomic is StageFile followed by Commit.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	s, err := StageFile(path, nil, write)
	if err != nil {
		return err
	}
	return s.Commit()
}

// Staged is a file written to a temporary beside its destination and not yet
// renamed into place: the first half of WriteFileAtomic, for callers that
// write several files as one (rename them all, or none) or must remove the
// temporary on an interrupt.
type Staged struct {
	Path string // the destination
	Temp string // the complete temporary, in Path's directory
}

// StageFile writes what write writes to a new temporary file beside path,
// flushed, synced and closed, and returns it uncommitted. created, if not
// nil, is called with the temporary's name as soon as it exists, before
// anything is written (so that a caller can remove it if interrupted). On
// any error the temporary is removed.
func StageFile(path string, created func(temp string), write func(io.Writer) error) (s *Staged, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return nil, fmt.Errorf("%s: not a file name", path)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, pathError(path, err)
	}
	tmp := f.Name()
	if created != nil {
		created(tmp)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, pathError(path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return nil, pathError(path, err)
	}
	if err := f.Sync(); err != nil {
		return nil, pathError(path, err)
	}
	if err := f.Close(); err != nil {
		return nil, pathError(path, err)
	}
	done = true
	return &Staged{Path: path, Temp: tmp}, nil
}

// Commit renames the temporary into place and syncs the directory. If the
// rename fails, the temporary is removed.
func (s *Staged) Commit() error {
	if err := os.Rename(s.Temp, s.Path); err != nil {
		os.Remove(s.Temp)
		return pathError(s.Path, err)
	}
	SyncDir(filepath.Dir(s.Path)) // make the rename itself durable
	return nil
}

// SyncDir makes the creations, renames and removals in dir durable, where
// the system can: not every system can sync a directory (Windows cannot),
// so failures are ignored.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Discard removes the temporary.
func (s *Staged) Discard() { os.Remove(s.Temp) }
