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
// implementation this machine has, on 1, 2 and 3 threads: its 3 images
// then run side by side in the image-major prefix, 2 so and one step by
// step, and all side by side.
func TestModel(t *testing.T) {
	var w, src [InputLen]float32
	var want [OutputLen]float32
	for i := range w {
		w[i], src[i] = float32(i+1), float32(i%5)-1.5
		want[i] = w[i] * src[i]
	}
	weights := scaleWeights(t, w[:])
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
		for _, threads := range []int{2, 1, 3} {
			m.SetThreads(threads)
			var dst [OutputLen]float32
			m.Infer(&dst, &src)
			if dst != want {
				t.Errorf("%s, %d threads: Infer = %v; want %v", impl, threads, dst, want)
			}
			var prof [len(Layers)]time.Duration
			dst = [OutputLen]float32{}
			m.Profile(&dst, &src, &prof)
			if prof[0] <= 0 || dst != want {
				t.Errorf("%s, %d threads: Profile timed %v and gave %v", impl, threads, prof, dst)
			}
			if n := testing.AllocsPerRun(10, func() { m.Infer(&dst, &src) }); n != 0 {
				t.Errorf("%s, %d threads: Infer allocates %v times", impl, threads, n)
			}
		}
		var dst [OutputLen]float32
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
	if _, err := NewWithOptions(bytes.NewReader(scaleWeights(t, make([]float32, InputLen))), Options{Impl: "vax"}); err == nil || !strings.Contains(err.Error(), `implementation "vax" is not available`) {
		t.Errorf("Impl vax: err = %v", err)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("Load(junk): err = %v; want it to name the file", err)
	}
	m, err := New(bytes.NewReader(scaleWeights(t, make([]float32, InputLen))))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !slices.Contains(Implementations(), m.Impl()) || m.Impl() != Implementations()[0] {
		t.Errorf("New picked %s of %v; want the first", m.Impl(), Implementations())
	}
}
