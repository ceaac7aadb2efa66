// Package kerneltest is what the GEMM kernel test packages (kernels for
// amd64, neonkernels for arm64) share: kernel names derived from configs,
// the shapes each kernel is called with, and the comparison with
// gemm.Reference.
package kerneltest

import (
	"bytes"
	"fmt"
	"go/format"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// Func is the uniform signature of the adapters of a kernel table;
// arguments a kernel does not take are ignored.
type Func func(a, b, c *float32, k, ldc int, bias *float32)

// Named sets the Name of every config to Name(config).
func Named(cfgs []gemm.Config) []gemm.Config {
	for i := range cfgs {
		cfgs[i].Name = Name(cfgs[i])
	}
	return cfgs
}

// Name derives a unique Go name from the fields of c, e.g.
// "avx512_8x48_k1152_u4".
func Name(c gemm.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s_%dx%d", strings.ToLower(c.ISA.String()), c.MR, c.NR)
	if c.K > 0 {
		fmt.Fprintf(&b, "_k%d", c.K)
	}
	fmt.Fprintf(&b, "_u%d", c.Unroll)
	if c.LDC > 0 {
		fmt.Fprintf(&b, "_ldc%d", c.LDC)
	}
	if c.LDB > 0 {
		fmt.Fprintf(&b, "_ldb%d", c.LDB)
	}
	if c.Bias {
		b.WriteString("_bias")
	}
	if c.Accumulate {
		b.WriteString("_acc")
	}
	r := strings.NewReplacer("-", "m", ".", "p")
	switch c.Act {
	case gemm.ActReLU:
		b.WriteString("_relu")
	case gemm.ActLeakyReLU:
		b.WriteString("_leaky" + r.Replace(fmt.Sprint(c.Slope)))
	case gemm.ActClip:
		b.WriteString("_clip" + r.Replace(fmt.Sprint(c.Lo)) + "_" + r.Replace(fmt.Sprint(c.Hi)))
	case gemm.ActHardSigmoid, gemm.ActHardSwish:
		b.WriteString("_" + strings.ToLower(c.Act.String()) + r.Replace(fmt.Sprintf("%.3g", c.Alpha)) + "_" + r.Replace(fmt.Sprint(c.Beta)))
	case gemm.ActSigmoid, gemm.ActSiLU, gemm.ActGELU:
		b.WriteString("_" + strings.ToLower(c.Act.String()))
	}
	if c.StoreN > 0 {
		fmt.Fprintf(&b, "_n%d", c.StoreN)
	}
	if c.BF16B {
		b.WriteString("_bf16")
	}
	if c.StoreM > 0 {
		fmt.Fprintf(&b, "_m%d", c.StoreM)
	}
	if c.PrefetchA > 0 {
		fmt.Fprintf(&b, "_pf%d", c.PrefetchA)
	}
	return b.String()
}

// Guard is the number of guard elements before and after the C tile.
const Guard = 67

// Ks returns the reduction lengths to test cfg with.
func Ks(cfg gemm.Config) []int {
	if cfg.K > 0 {
		return []int{cfg.K}
	}
	u := max(cfg.Unroll, 1)
	return slices.Compact([]int{-1, 0, 1, 2, u - 1, u, u + 1, 2*u + 3, 67})
}

// LDCs returns the C row strides to test cfg with.
func LDCs(cfg gemm.Config) []int {
	if cfg.LDC > 0 {
		return []int{cfg.LDC}
	}
	n := cfg.StoreN
	if n == 0 {
		n = cfg.NR
	}
	return []int{n, cfg.NR + 5, 3*cfg.NR + 1}
}

// Check calls fn, the kernel of cfg, with every k of Ks and ldc of LDCs on
// random data, and once with a NaN in A, comparing each result with
// gemm.Reference (see Call).
func Check(t *testing.T, cfg gemm.Config, fn Func) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(len(cfg.Name))))
	for _, k := range Ks(cfg) {
		for _, ldc := range LDCs(cfg) {
			Call(t, cfg, fn, rng, k, ldc, false)
		}
	}
	// A NaN in A must reach row 0 of C through every activation.
	Call(t, cfg, fn, rng, max(cfg.K, 5), LDCs(cfg)[0], true)
}

// Call runs one call of fn on random data and compares C with
// gemm.Reference: stored elements within tolerance, everything else
// bit-identical. With nan, A[0] (row 0, first k) is NaN and row 0 of C must
// come out NaN. A kernel with BF16B reads b as bfloat16: fn's adapter
// narrows the float32 panel it is given.
func Call(t *testing.T, cfg gemm.Config, fn Func, rng *rand.Rand, k, ldc int, nan bool) {
	t.Helper()
	random := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		return s
	}
	kk := max(k, 0)
	a := random(max(kk, 1) * cfg.MR)
	ldb := cfg.LDB
	if ldb == 0 {
		ldb = cfg.NR
	}
	// B's rows are ldb apart; the last one is NR long, so that a kernel
	// reading past it faults or is caught by the race detector's bounds.
	b := random(max(kk-1, 0)*ldb + cfg.NR)
	if cfg.BF16B {
		// B must be exactly representable in bfloat16 for the reference.
		for i, v := range b {
			b[i] = math.Float32frombits(math.Float32bits(v) &^ 0xffff)
		}
	}
	bias := random(cfg.MR)
	if nan {
		a[0] = float32(math.NaN())
	}
	c := random(Guard + (cfg.MR+1)*ldc + cfg.NR + Guard)
	want := slices.Clone(c)
	gemm.Reference(cfg, k, a, b, want[Guard:], ldc, bias)

	var biasPtr *float32
	if cfg.Bias {
		biasPtr = &bias[0]
	}
	got := slices.Clone(c)
	fn(&a[0], &b[0], &got[Guard], k, ldc, biasPtr)

	storeM, storeN := cfg.StoreM, cfg.StoreN
	if storeM == 0 {
		storeM = cfg.MR
	}
	if storeN == 0 {
		storeN = cfg.NR
	}
	// The activation's steepest slope scales the tolerance (hardswish's is
	// up to 1 + Beta + 2·Alpha·|x| where it is not clipped, under 2 here).
	slope := math.Max(1, math.Abs(float64(cfg.Slope)))
	if cfg.Act == gemm.ActHardSwish {
		slope = 2
	}
	errors := 0
	for i := range got {
		r, j := (i-Guard)/ldc, (i-Guard)%ldc
		stored := i >= Guard && r < storeM && j < storeN
		if !stored {
			if math.Float32bits(got[i]) != math.Float32bits(c[i]) {
				t.Errorf("k=%d ldc=%d: element %d (row %d col %d) outside the stored tile changed: %v -> %v",
					k, ldc, i-Guard, r, j, c[i], got[i])
				errors++
			}
		} else {
			// Tolerance: relative 1e-5 of the sum of the magnitudes of the terms.
			mag := 0.0
			if cfg.Bias {
				mag += math.Abs(float64(bias[r]))
			}
			if cfg.Accumulate {
				mag += math.Abs(float64(c[i]))
			}
			for p := range kk {
				mag += math.Abs(float64(a[p*cfg.MR+r]) * float64(b[p*ldb+j]))
			}
			if math.IsNaN(float64(want[i])) {
				if !math.IsNaN(float64(got[i])) {
					t.Errorf("k=%d ldc=%d: C[%d,%d] = %v, want NaN", k, ldc, r, j, got[i])
					errors++
				}
			} else if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-5*mag*slope || math.IsNaN(d) {
				t.Errorf("k=%d ldc=%d: C[%d,%d] = %v, want %v (|diff| %.3g > %.3g)",
					k, ldc, r, j, got[i], want[i], d, 1e-5*mag*slope)
				errors++
			}
		}
		if errors >= 10 {
			t.Fatal("too many errors")
		}
	}
}

// RangeTested reports whether ActivationRange applies to cfg: an
// activation computed from constants, a runtime or unit K, no Accumulate.
func RangeTested(cfg gemm.Config) bool {
	switch cfg.Act {
	case gemm.ActSigmoid, gemm.ActSiLU, gemm.ActGELU, gemm.ActHardSigmoid, gemm.ActHardSwish:
		return cfg.K <= 1 && !cfg.Accumulate
	}
	return false
}

// ActivationRange runs fn, a kernel whose activation is computed from
// constants (sigmoid, SiLU, hardsigmoid, hardswish; see RangeTested), on
// sums across float32's range, infinities and NaN included, and (sigmoid,
// SiLU, GELU) on a dense grid of [-90, 90], where their polynomials' and
// range reductions' errors show: a K=1 product a[r]*1 puts x in row r.
// Each output must be the reference's within 4e-7 of its magnitude, or
// 2^-126·max(1, |x|) (sigmoid and SiLU may flush to 0 what is under
// 2^-126 below x = -87.3; act.go), and NaN exactly where the reference's
// is.
func ActivationRange(t *testing.T, cfg gemm.Config, fn Func) {
	t.Helper()
	xs := []float32{float32(math.Inf(-1)), -1e30, -200, -88.5, -88.3, -87.5, -20, -3.5, -1, -1e-3, 0, 1e-20, 0.25, 3,
		5, 20, 86.9, 87.5, 100, 1e30, float32(math.Inf(1)), float32(math.NaN())}
	if cfg.Act == gemm.ActSigmoid || cfg.Act == gemm.ActSiLU || cfg.Act == gemm.ActGELU {
		for x := -90.0; x < 90; x += 0.0137 {
			xs = append(xs, float32(x))
		}
	}
	for i0 := 0; i0 < len(xs); i0 += cfg.MR {
		a := make([]float32, cfg.MR)
		for r := range a {
			a[r] = xs[(i0+r)%len(xs)]
		}
		b := make([]float32, cfg.NR)
		for j := range b {
			b[j] = 1
		}
		ldc := cfg.NR
		bias := make([]float32, cfg.MR)
		want := make([]float32, cfg.MR*ldc)
		gemm.Reference(cfg, 1, a, b, want, ldc, bias)
		got := make([]float32, cfg.MR*ldc)
		fn(&a[0], &b[0], &got[0], 1, ldc, &bias[0])
		for i, w := range want {
			g := got[i]
			x := a[i/ldc]
			switch {
			case math.IsNaN(float64(w)) != math.IsNaN(float64(g)):
				t.Errorf("x=%v: got %v, want %v", x, g, w)
			case math.IsNaN(float64(w)):
			case cfg.Act == gemm.ActGELU:
				// erf's approximation is absolute: x/2·erf errs by up
				// to 5e-7·|x|/2.
				if math.Abs(float64(g-w)) > 4e-7*math.Abs(float64(w))+3e-7*math.Max(1, math.Abs(float64(x))) {
					t.Errorf("x=%v: got %v, want %v", x, g, w)
				}
			case math.Abs(float64(g-w)) > math.Max(4e-7*math.Abs(float64(w)), 0x1p-126*math.Max(1, math.Abs(float64(x)))) && g != w:
				t.Errorf("x=%v: got %v, want %v", x, g, w)
			}
		}
	}
}

// Table returns the source of a test file of package pkg (with build
// constraint constraint, if not empty) that maps every kernel name of cfgs
// to an adapter to Func, as the variable kernelFuncs. A BF16B kernel's
// adapter narrows its float32 B panel with the package's toBF16.
func Table(pkg, constraint string, cfgs []gemm.Config) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n", gemm.Header)
	if constraint != "" {
		fmt.Fprintf(&b, "//go:build %s\n\n", constraint)
	}
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	fmt.Fprintf(&b, "// kernelFuncs maps kernel names to adapters to kernelFunc.\n")
	fmt.Fprintf(&b, "var kernelFuncs = map[string]kernelFunc{\n")
	for _, c := range cfgs {
		args := "a, b, c"
		if c.K == 0 {
			args += ", k"
		}
		if c.LDC == 0 {
			args += ", ldc"
		}
		if c.Bias {
			args += ", bias"
		}
		if c.BF16B {
			ldb := max(c.LDB, c.NR)
			n := fmt.Sprintf("max(k-1, 0)*%d+%d", ldb, c.NR)
			if c.K > 0 {
				n = fmt.Sprintf("%d", (c.K-1)*ldb+c.NR)
			}
			args = strings.Replace(args, "a, b, c", "a, &bb[0], c", 1)
			fmt.Fprintf(&b, "%q: func(a, b, c *float32, k, ldc int, bias *float32) { bb := toBF16(b, %s); %s(%s) },\n", c.Name, n, c.Name, args)
			continue
		}
		fmt.Fprintf(&b, "%q: func(a, b, c *float32, k, ldc int, bias *float32) { %s(%s) },\n", c.Name, c.Name, args)
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}

// ToBF16 returns the upper halves of n float32s at p (exact for values
// already rounded to bfloat16).
func ToBF16(p *float32, n int) []uint16 {
	out := make([]uint16, n)
	for i, v := range unsafe.Slice(p, n) {
		out[i] = uint16(math.Float32bits(v) >> 16)
	}
	return out
}
