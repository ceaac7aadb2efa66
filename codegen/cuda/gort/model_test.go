//go:build cuda

package gort

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// weights is a weights file of network.go's stand-in network.
func weights(w ...float32) []byte {
	b := make([]byte, 4*len(w))
	for i, v := range w {
		binary.NativeEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// TestModel runs model.go's API on the stand-in network: New and Load,
// Infer from several goroutines, Devices, Close and Infer after it.
func TestModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.bin")
	if err := os.WriteFile(path, weights(1, 2, 3, 4), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	m, err := New(bytes.NewReader(weights(1, 2, 3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	src := [InputLen]float32{1, 1, 2, 0.5}
	want := [OutputLen]float32{1, 2, 6, 2}
	outs := make([][OutputLen]float32, 8)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			mi := m
			if i%2 == 1 {
				mi = loaded
			}
			if err := mi.Infer(&outs[i], &src); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, out := range outs {
		if out != want {
			t.Errorf("Infer %d: %v, want %v", i, out, want)
		}
	}
	if got := m.Devices(); len(got) != GPUs || got[0] != 0 || got[1] != 0 {
		t.Errorf("Devices() = %v, want [0 0]", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := m.Infer(&outs[0], &src); err == nil || err.Error() != "gort: Infer on a closed Model" {
		t.Errorf("Infer after Close: %v", err)
	}
	if got := m.Devices(); got[0] != -1 {
		t.Errorf("Devices() after Close = %v, want -1s", got)
	}
}

// TestErrors: the C API's failures come back as *Error with its code and
// the message of the failing call, whichever thread the goroutine is on.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.bin")
	short := filepath.Join(dir, "short.bin")
	if err := os.WriteFile(short, weights(1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		load func() (*Model, error)
		code int
		msg  string
	}{
		{"Load of a missing file", func() (*Model, error) { return Load(missing) }, 2, missing + ": cannot open"},
		{"Load of a short file", func() (*Model, error) { return Load(short) }, 3, short + ": not 4 float32s"},
		{"New of junk", func() (*Model, error) { return New(strings.NewReader("junk")) }, 3, "not 4 float32s"},
		{"New of nothing", func() (*Model, error) { return New(bytes.NewReader(nil)) }, 3, "not 4 float32s"},
	} {
		m, err := c.load()
		var e *Error
		if m != nil || !errors.As(err, &e) || e.Code != c.code || e.Msg != c.msg || err.Error() != "gort: "+c.msg {
			t.Errorf("%s: %v, %v; want code %d, %q", c.name, m, err, c.code, c.msg)
		}
	}
}

// TestCleanup: a Model that is garbage frees its C model.
func TestCleanup(t *testing.T) {
	before := liveModels()
	for range 3 {
		if _, err := New(bytes.NewReader(weights(1, 2, 3, 4))); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		runtime.GC()
		if liveModels() == before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d C models live after GC, want %d", liveModels(), before)
}
