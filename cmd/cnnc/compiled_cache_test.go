package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
)

func compileTiny(t *testing.T) *ir.Graph {
	t.Helper()
	g, err := compiler.Compile(writeTiny(t, t.TempDir(), "tiny"), passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// runWithCache runs the test binary as cnnc with the cache in cache, and
// the go command's build cache where it is now (XDG_CACHE_HOME would move
// it too, to an empty one: then every build compiles the standard library).
func runWithCache(t *testing.T, cache string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CNNC_BE_MAIN=1", "XDG_CACHE_HOME="+cache, "GOCACHE="+goCaches(t)[0])
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// TestBuildCacheConcurrent runs three `cnnc run`s of one network at once on
// an empty cache: all must succeed with the same output, leave one build
// directory and no temporaries, and a fourth run must find the build.
func TestBuildCacheConcurrent(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("the go tool is not on PATH (%v)", err)
	}
	spec, cache := writeTiny(t, t.TempDir(), "tiny"), t.TempDir() // output_test.go's tiny network
	args := []string{"run", spec, "-top", "0", "-output"}
	outs := make([]string, 3)
	var wg sync.WaitGroup
	for i := range outs {
		outs[i] = filepath.Join(t.TempDir(), "y.npy")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, stderr, err := runWithCache(t, cache, append(args, outs[i])...); err != nil {
				t.Errorf("run %d: %v\n%s", i, err, stderr)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want, _ := os.ReadFile(outs[0])
	for i, out := range outs[1:] {
		if got, _ := os.ReadFile(out); len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("run %d wrote %d bytes, run 0 %d, not the same", i+1, len(got), len(want))
		}
	}
	root := filepath.Join(cache, "cnnc", "run")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(entries[0].Name()) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the cache holds %q, want one build directory", names)
	}
	if runtime.GOOS != "windows" {
		for _, dir := range []string{filepath.Dir(root), root} {
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v, %v; want mode 0700", dir, fi.Mode(), err)
			}
		}
	}
	_, stderr, err := runWithCache(t, cache, append(args, outs[0])...)
	if err != nil || strings.Contains(stderr, "building") {
		t.Errorf("a fourth run: %v\n%s\nwant the cached driver", err, stderr)
	}
}

// TestBuildCachePlanted puts a driver where cnnc run would look for the
// network's build, with one thing wrong at a time: cnnc must not run it.
// The last case, with nothing wrong, checks that it would have.
func TestBuildCachePlanted(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("a shell-script driver and Unix permissions")
	}
	g := compileTiny(t)
	b, err := generateDriver(g, codegen.Options{Batch: 1, Precision: "fp32"}, runDriver)
	if err != nil {
		t.Fatal(err)
	}
	x := params.Input(g, 1, 1)
	for _, c := range []struct {
		name  string
		spoil func(top, dir, driver string) error
		err   string // "": the driver runs
	}{
		{"cnnc writable", func(top, dir, driver string) error { return os.Chmod(top, 0o777) }, "cnnc can be written by its group or others (mode 0777)"},
		{"run writable", func(top, dir, driver string) error { return os.Chmod(filepath.Dir(dir), 0o770) }, "run can be written by its group or others (mode 0770)"},
		{"build dir writable", func(top, dir, driver string) error { return os.Chmod(dir, 0o777) }, b.key + " can be written by its group or others (mode 0777)"},
		{"driver writable", func(top, dir, driver string) error { return os.Chmod(driver, 0o775) }, "driver can be written by its group or others (mode 0775)"},
		{"driver a link", func(top, dir, driver string) error {
			if err := os.Rename(driver, driver+".real"); err != nil {
				return err
			}
			return os.Symlink(driver+".real", driver)
		}, "driver is not a regular file"},
		{"other owner", func(top, dir, driver string) error {
			if os.Getuid() != 0 {
				return errSkip
			}
			return os.Chown(driver, 65534, 65534)
		}, "driver belongs to user 65534, not to you (user 0)"},
		{"nothing wrong", func(top, dir, driver string) error { return nil }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			t.Setenv("XDG_CACHE_HOME", cache)
			top := filepath.Join(cache, "cnnc")
			dir := filepath.Join(top, "run", b.key)
			driver, ran := filepath.Join(dir, "driver"), filepath.Join(cache, "ran")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(driver, []byte("#!/bin/sh\ntouch "+ran+"\nexit 3\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := c.spoil(top, dir, driver); err == errSkip {
				t.Skip("needs root")
			} else if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			_, _, err := runCompiled(&env{stdout: &stderr, stderr: &stderr}, g, "", 1, x, 1, "fp32")
			if _, statErr := os.Stat(ran); c.err == "" {
				if statErr != nil {
					t.Errorf("the driver did not run: %v", err)
				}
				return
			} else if statErr == nil {
				t.Fatalf("cnnc ran the planted driver")
			}
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "rm -rf") {
				t.Errorf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}

var errSkip = fmt.Errorf("skip")

// TestBuildWithoutCacheDir runs the compiled engine with HOME and
// XDG_CACHE_HOME unset, as under cron: the driver must be built in a private
// temporary directory that is gone afterwards, not in $TMPDIR/cnnc, where
// anyone could plant one.
func TestBuildWithoutCacheDir(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("the go tool is not on PATH (%v)", err)
	}
	// The caches the go command uses now, so that the build needs neither
	// the network nor a rebuild of the standard library.
	v := goCaches(t)
	g := compileTiny(t)
	tmp := t.TempDir()
	for k, v := range map[string]string{"HOME": "", "XDG_CACHE_HOME": "", "TMPDIR": tmp, "GOCACHE": v[0], "GOMODCACHE": v[1]} {
		t.Setenv(k, v)
	}
	var stderr bytes.Buffer
	y, _, err := runCompiled(&env{stdout: &stderr, stderr: &stderr}, g, "", 1, params.Input(g, 1, 1), 1, "fp32")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if len(y) != 3 {
		t.Errorf("%d outputs, want 3", len(y))
	}
	if !strings.Contains(stderr.String(), "no user cache directory: building tiny for batch 1 in "+tmp) {
		t.Errorf("stderr\n%s\nwant it to say where it builds", stderr.String())
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left in $TMPDIR: %q", names)
	}
}

// TestGoEnvWithoutHome checks the go command's environment for a build
// with HOME unset: it must be given a build and a module cache.
func TestGoEnvWithoutHome(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v)", err)
	}
	for _, k := range []string{"HOME", "XDG_CACHE_HOME", "GOCACHE", "GOMODCACHE", "GOPATH"} {
		t.Setenv(k, "")
	}
	t.Setenv("GOENV", "off")
	scratch := t.TempDir()
	env := goEnv(gobin, scratch)
	for _, want := range []string{"GOCACHE=" + filepath.Join(scratch, "gocache"), "GOMODCACHE=" + filepath.Join(scratch, "gomodcache"), "GOFLAGS=-mod=mod -modcacherw"} {
		if !slices.Contains(env, want) {
			t.Errorf("goEnv lacks %s", want)
		}
	}
}

// goCaches returns the go command's GOCACHE and GOMODCACHE, asked once: the
// tests that move XDG_CACHE_HOME pass them on, so that builds keep the
// build cache (with XDG_CACHE_HOME alone, every build would recompile the
// standard library).
func goCaches(t testing.TB) []string {
	t.Helper()
	goCachesOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output()
		if err == nil {
			goCachesVal = strings.Split(string(out), "\n")[:2]
		}
	})
	if goCachesVal == nil {
		t.Fatal("go env GOCACHE GOMODCACHE failed")
	}
	return goCachesVal
}

var (
	goCachesOnce sync.Once
	goCachesVal  []string
)
