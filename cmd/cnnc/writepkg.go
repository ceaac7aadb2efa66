package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// writeGenerated writes files into dir as one transaction (writePackage),
// adding a go.mod and go.sum where dir is outside any module (or the module
// is one cnnc made), so that `cd dir && go build` works (offline: the
// go.sum is cnnc's).
func writeGenerated(e *env, dir, pkg string, files []codegen.File) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real // stage beside the real directory: renames cannot cross file systems
	}
	if root := moduleRoot(abs); root == "" || root == abs {
		if root == "" || generatedBy(filepath.Join(abs, "go.mod")) || listedUnchanged(abs, "go.mod") {
			files = append(files, codegen.ModuleFiles(codegen.ModulePath(filepath.Base(abs), pkg))...)
		}
	}
	return writePackage(e, abs, files)
}

// hashFile returns the hex SHA-256 of the file at path.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// manifestName is the file in which compile records what it wrote: one
// "SHA-256  name" line per file, as sha256sum prints them (so that
// `sha256sum -c cnnc.sum` checks a package). A later compile into the same
// directory removes a file it no longer generates only if the file is
// listed there and unchanged, so a file edited after generation is kept.
const manifestName = "cnnc.sum"

const manifestHeader = "# Files written by cnnc compile, with their SHA-256 (sha256sum -c cnnc.sum checks them).\n" +
	"# A later compile removes a listed file it no longer generates only if it is unchanged.\n"

// writePackage writes the package into dir as one transaction. Everything
// is first written into a temporary directory beside dir, so an error or
// an interrupt (SIGINT, SIGTERM) leaves dir as it was and no temporary
// behind. A new dir is then that directory, renamed. An existing one gets
// the changed files renamed in (unchanged ones are left alone, so
// regenerating keeps timestamps and build caches), with interrupts held off
// until the renames are done, and loses the files an earlier compile
// generated, recorded in its cnnc.sum, that this one does not, unless they
// were edited since.
func writePackage(e *env, dir string, files []codegen.File) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	stage, rmStage, err := tempDir(filepath.Dir(dir), "."+filepath.Base(dir)+".cnnc-*")
	if err != nil {
		return err
	}
	defer rmStage()
	sums := map[string]string{}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(stage, f.Name), f.Data, 0o644); err != nil {
			return err
		}
		sums[f.Name] = fmt.Sprintf("%x", sha256.Sum256(f.Data))
	}
	names := slices.Sorted(maps.Keys(sums))
	var m strings.Builder
	m.WriteString(manifestHeader)
	for _, name := range names {
		fmt.Fprintf(&m, "%s  %s\n", sums[name], name)
	}
	if err := os.WriteFile(filepath.Join(stage, manifestName), []byte(m.String()), 0o644); err != nil {
		return err
	}
	tensor.SyncDir(stage)
	if err := os.Chmod(stage, 0o755); err != nil {
		return err
	}

	if beforeCommit != nil {
		beforeCommit()
	}
	interrupt.mu.Lock()
	defer interrupt.mu.Unlock()
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(stage, dir); err != nil {
			return err
		}
		tensor.SyncDir(filepath.Dir(dir))
		return nil
	}
	old := readManifest(dir)
	for _, name := range append(names, manifestName) {
		if name != manifestName {
			if sum, err := hashFile(filepath.Join(dir, name)); err == nil && sum == sums[name] {
				continue
			}
		}
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	tensor.SyncDir(dir)
	return removeStale(e, dir, sums, old)
}

// readManifest returns the files dir's cnnc.sum lists, with their hashes,
// or nil if it has none (a package written before cnnc kept one).
func readManifest(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil || len(b) > 1<<20 {
		return nil
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if ok && len(sum) == 64 && !strings.HasPrefix(line, "#") && filepath.Base(name) == name {
			m[name] = sum
		}
	}
	return m
}

// listedUnchanged reports whether dir's cnnc.sum lists name and the file
// still has the listed hash.
func listedUnchanged(dir, name string) bool {
	sum, ok := readManifest(dir)[name]
	if !ok {
		return false
	}
	got, err := hashFile(filepath.Join(dir, name))
	return err == nil && got == sum
}

// moduleRoot returns the directory of the go.mod governing dir, or "".
func moduleRoot(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// generatedBy reports whether the file at path was written by cnnc (go.mod
// files it writes have no header, so: whether it is exactly what cnnc writes).
func generatedBy(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.HasPrefix(string(b), "module ") && strings.Contains(string(b), "require golang.org/x/sys "+codegen.SysVersion+"\n") && strings.Count(string(b), "\n") == 5
}

// removeStale deletes the files in dir that an earlier compile generated
// and this one did not (keep lists this one's). With a manifest of the
// earlier compile (old), those are the files it lists whose hash is
// unchanged; a listed file edited since is kept with a warning. Without one,
// the package came from a cnnc that kept no manifest: those are the files
// whose first line is cnnc's generated-code header, as cnnc did then.
func removeStale(e *env, dir string, keep, old map[string]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, ent := range entries {
		name := ent.Name()
		if !ent.Type().IsRegular() || name == manifestName {
			continue
		}
		if _, ok := keep[name]; ok {
			continue
		}
		path := filepath.Join(dir, name)
		if old != nil {
			sum, listed := old[name]
			if !listed {
				continue
			}
			if got, err := hashFile(path); err != nil || got != sum {
				e.warnf("%s: an earlier cnnc compile wrote it and this one does not, but it was edited since; not removed", path)
				continue
			}
		} else if !hasGeneratedHeader(path) {
			continue
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

// hasGeneratedHeader reports whether the file's first line is cnnc's
// generated-code header.
func hasGeneratedHeader(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.HasPrefix(line, "// Code generated by cnnc ")
}
