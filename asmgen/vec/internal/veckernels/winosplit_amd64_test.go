//go:build amd64 && !purego

package veckernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// splitKernel is a Winograd split kernel (asmgen/vec's winosplit.go).
type splitKernel struct {
	name     string
	lanes, o int
	fn       func(dst, src *float32, n, ps, w, pl int)
}

func splitKernelsCPU() []splitKernel {
	var ks []splitKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, splitKernel{"AVX512", 16, 2, vecWinoSplit2AVX512}, splitKernel{"AVX512", 16, 4, vecWinoSplit4AVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, splitKernel{"AVX2", 8, 2, vecWinoSplit2AVX2}, splitKernel{"AVX2", 8, 4, vecWinoSplit4AVX2})
	}
	return ks
}

// TestWinoSplit splits rows of 1 to 100 elements with 0 to 9 columns of
// padding before them into 1 to 40 columns of each plane (past the row's
// end too: padding after it) against the definition. The row lies
// between NaNs, so a read outside it would show in the zeros of the
// padding; every plane's elements from its vectors' end on must keep
// their guard.
func TestWinoSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const guard = -7
	for _, k := range splitKernelsCPU() {
		for iter := range 3000 {
			w, pl, n := 1+r.IntN(100), r.IntN(10), 1+r.IntN(40)
			if iter%3 == 0 {
				n = (w + pl + k.o - 1) / k.o // just the row and its left padding
			}
			whole := (n + k.lanes - 1) / k.lanes * k.lanes
			ps := whole + r.IntN(20)
			buf := make([]float32, w+2*64)
			for i := range buf {
				buf[i] = float32(math.NaN())
			}
			row := buf[64 : 64+w]
			for i := range row {
				row[i] = float32(r.IntN(1000)) + 1
			}
			dst := make([]float32, k.o*ps+k.lanes)
			for i := range dst {
				dst[i] = guard
			}
			k.fn(&dst[0], &row[0], n, ps, w, pl)
			for q := range k.o {
				for X := range ps {
					got := dst[q*ps+X]
					switch {
					case X < n:
						want := float32(0)
						if c := k.o*X + q - pl; c >= 0 && c < w {
							want = row[c]
						}
						if got != want {
							t.Fatalf("%s o=%d w=%d pl=%d n=%d: plane %d column %d = %g, want %g", k.name, k.o, w, pl, n, q, X, got, want)
						}
					case X >= whole && got != guard:
						t.Fatalf("%s o=%d w=%d pl=%d n=%d: plane %d column %d (past the vectors) written: %g", k.name, k.o, w, pl, n, q, X, got)
					}
				}
			}
			for _, v := range dst[k.o*ps:] {
				if v != guard {
					t.Fatalf("%s o=%d w=%d pl=%d n=%d: written past the last plane", k.name, k.o, w, pl, n)
				}
			}
		}
	}
}

// joinKernel is a Winograd join kernel (asmgen/vec's winosplit.go).
type joinKernel struct {
	name     string
	lanes, o int
	fn       func(dst, src *float32, n, ldS int)
}

func joinKernelsCPU() []joinKernel {
	var ks []joinKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, joinKernel{"AVX512", 16, 2, vecWinoJoin2AVX512}, joinKernel{"AVX512", 16, 4, vecWinoJoin4AVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, joinKernel{"AVX2", 8, 2, vecWinoJoin2AVX2}, joinKernel{"AVX2", 8, 4, vecWinoJoin4AVX2})
	}
	return ks
}

// TestWinoJoin joins o rows of 1 to 60 columns into output rows of 1 to
// o·60 elements against the definition; nothing past the row's n
// elements may change.
func TestWinoJoin(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	const guard = -7
	for _, k := range joinKernelsCPU() {
		for range 3000 {
			n := 1 + r.IntN(k.o*60)
			cols := (n + k.o - 1) / k.o
			ldS := cols + k.lanes - 1 + r.IntN(10) // the kernel may read a vector past
			src := make([]float32, k.o*ldS)
			for i := range src {
				src[i] = float32(r.IntN(1000)) + 1
			}
			dst := make([]float32, n+2*k.lanes*k.o)
			for i := range dst {
				dst[i] = guard
			}
			k.fn(&dst[0], &src[0], n, ldS)
			for i, got := range dst {
				want := float32(guard)
				if i < n {
					want = src[i%k.o*ldS+i/k.o]
				}
				if got != want {
					t.Fatalf("%s o=%d n=%d ldS=%d: element %d = %g, want %g", k.name, k.o, n, ldS, i, got, want)
				}
			}
		}
	}
}
