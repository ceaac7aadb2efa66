package veckernels

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/cnnc/cnnc/asmgen/vec"
)

var update = flag.Bool("update", false, "rewrite the generated files")

func TestGenerated(t *testing.T) {
	asm, stubs, err := vec.Generate("veckernels")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"vec_amd64.s": asm, "vec_amd64.go": stubs} {
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(name); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run go generate", name)
		}
	}
}

// lrnScaleGo is the formula the kernels implement.
func lrnScaleGo(d, x, s []float32, k, alpha float32) {
	for i := range d {
		r := math.Sqrt(float64(k + alpha*s[i]))
		d[i] = x[i] / float32(r*math.Sqrt(r))
	}
}

// TestLRNScale runs each kernel the CPU supports on many lengths (the
// kernels take multiples of their width; the rest must be untouched) and
// compares with the formula within 4 ulps.
func TestLRNScale(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, kern := range kernels() {
		for _, n := range []int{0, kern.lanes, 2 * kern.lanes, 5*kern.lanes + 3, 301} {
			x, s := make([]float32, n+1), make([]float32, n+1)
			for i := range x {
				x[i] = float32(r.NormFloat64())
				s[i] = float32(r.Float64() * 20)
			}
			k, alpha := float32(2), float32(1e-4/5)
			want, got := make([]float32, n+1), make([]float32, n+1)
			lrnScaleGo(want, x, s, k, alpha)
			for i := range got {
				got[i] = -7 // guard
			}
			m := n / kern.lanes * kern.lanes
			kern.fn(got, x, s, m, k, alpha)
			for i := range got {
				if i >= m {
					if got[i] != -7 {
						t.Fatalf("%s n=%d: element %d beyond %d was written", kern.name, n, i, m)
					}
					continue
				}
				if d := math.Abs(float64(got[i] - want[i])); d > 4*ulp(want[i]) {
					t.Fatalf("%s n=%d: element %d is %g, want %g", kern.name, n, i, got[i], want[i])
				}
			}
		}
	}
}

func ulp(v float32) float64 {
	b := math.Float32bits(v)
	return math.Abs(float64(math.Float32frombits(b+1) - v))
}
