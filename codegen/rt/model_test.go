package rt

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// scaleWeights is a safetensors file for network.go's stand-in network.
func scaleWeights(t *testing.T, w []float32) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := stWriteSafetensors(&b, []*stTensor{{Name: "scale.weight", Shape: []int{len(w)}, Data: w}}, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestModel runs model.go's API on the stand-in network, with every
// implementation this machine has.
func TestModel(t *testing.T) {
	weights := scaleWeights(t, []float32{1, 2, 3, 4})
	impls := Implementations()
	if len(impls) == 0 || impls[len(impls)-1] != "purego" {
		t.Fatalf("Implementations() = %v; want purego last", impls)
	}
	for _, impl := range impls {
		m, err := NewWithOptions(bytes.NewReader(weights), Options{Threads: 2, Impl: impl})
		if err != nil {
			t.Fatal(err)
		}
		if m.Impl() != impl || m.Threads() != min(2, rtClampThreads(2)) {
			t.Errorf("Impl, Threads = %s, %d; want %s, 2", m.Impl(), m.Threads(), impl)
		}
		src := [InputLen]float32{1, 1, 2, 0.5}
		var dst [OutputLen]float32
		m.Infer(&dst, &src)
		if want := [OutputLen]float32{1, 2, 6, 2}; dst != want {
			t.Errorf("%s: Infer = %v; want %v", impl, dst, want)
		}
		var prof [len(Layers)]time.Duration
		m.SetThreads(1)
		m.Profile(&dst, &src, &prof)
		if prof[0] <= 0 {
			t.Errorf("%s: Profile timed %v", impl, prof)
		}
		if n := testing.AllocsPerRun(10, func() { m.Infer(&dst, &src) }); n != 0 {
			t.Errorf("%s: Infer allocates %v times", impl, n)
		}
		m.Close()
		m.Close()
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "Infer on a closed Model") {
					t.Errorf("Infer after Close: recovered %v", r)
				}
			}()
			m.Infer(&dst, &src)
		}()
	}
}

func TestModelErrors(t *testing.T) {
	if _, err := NewWithOptions(bytes.NewReader(scaleWeights(t, []float32{1})), Options{}); err == nil || !strings.Contains(err.Error(), "scale.weight") {
		t.Errorf("a short weight: err = %v", err)
	}
	if _, err := NewWithOptions(bytes.NewReader(scaleWeights(t, make([]float32, 4))), Options{Impl: "vax"}); err == nil || !strings.Contains(err.Error(), `implementation "vax" is not available`) {
		t.Errorf("Impl vax: err = %v", err)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("Load(junk): err = %v; want it to name the file", err)
	}
	m, err := New(bytes.NewReader(scaleWeights(t, make([]float32, 4))))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !slices.Contains(Implementations(), m.Impl()) || m.Impl() != Implementations()[0] {
		t.Errorf("New picked %s of %v; want the first", m.Impl(), Implementations())
	}
}
