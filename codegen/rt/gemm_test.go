package rt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// gemmRef is rtGemm written plainly: each sum from zero, its products in
// kk order, as rtGemm promises, then rtGemm's epilogue.
func gemmRef(mr, nr, k int, a, b, c []float32, ldc int, bias []float32, act rtAct, sm, sn int) {
	t := make([]float32, mr*nr)
	for r := range mr {
		for j := range nr {
			var s float32
			for kk := range k {
				s += a[kk*mr+r] * b[kk*nr+j]
			}
			t[r*nr+j] = s
		}
	}
	rtGemmStore(t, nr, c, ldc, bias, act, sm, sn)
}

// gemmTestActs are an activation of every kind, each also with Add.
func gemmTestActs() []rtAct {
	var acts []rtAct
	for kind := rtActNone; kind <= rtActGELUTanh; kind++ {
		for _, add := range []bool{false, true} {
			acts = append(acts, rtAct{Kind: kind, A: 0.1, B: 0.6, Add: add})
		}
	}
	return acts
}

// TestGemm checks rtGemm against gemmRef, bit for bit (both add each
// sum's products in the same order), on its 4x16 fast path and the
// general loop: tiles up to 8x40, k from 0, ragged stores, bias nil or
// not, every activation with and without Add; and that it writes nothing
// outside the sm x sn block of c.
func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 4))
	acts := gemmTestActs()
	tiles := [][2]int{{4, 16}, {1, 16}, {2, 16}, {3, 16}, {4, 8}, {8, 12}, {1, 1}, {5, 33}}
	for iter := range 600 {
		tile := tiles[iter%len(tiles)]
		if iter >= 3*len(tiles) && iter%2 == 1 {
			tile = [2]int{1 + r.IntN(8), 1 + r.IntN(40)}
		}
		mr, nr := tile[0], tile[1]
		k := []int{0, 1, 2, 3, 7, 64, 1 + r.IntN(300)}[r.IntN(7)]
		sm, sn := mr, nr
		if r.IntN(3) == 0 {
			sm, sn = 1+r.IntN(mr), 1+r.IntN(nr)
		}
		ldc := sn + r.IntN(5)
		act := acts[r.IntN(len(acts))]
		var bias []float32
		if r.IntN(2) == 0 {
			bias = randSlice(r, mr)
		}
		a, b := randSlice(r, k*mr), randSlice(r, k*nr)
		want := randSlice(r, (sm-1)*ldc+sn+3) // old C: for Add, and to stay put elsewhere
		got := slices.Clone(want)
		gemmRef(mr, nr, k, a, b, want, ldc, bias, act, sm, sn)
		rtGemm(mr, nr, k, a, b, got, ldc, bias, act, sm, sn)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("iter %d: %dx%d k %d store %dx%d ldc %d act %+v bias %v: c[%d] = %v, want %v",
					iter, mr, nr, k, sm, sn, ldc, act, bias != nil, i, got[i], want[i])
			}
		}
	}
}

// TestGemm4x16Blocks checks both of rtGemm's 4x16 block kernels, whichever
// rtGemmWide picks on this GOARCH, against gemmRef's sums, bit for bit.
func TestGemm4x16Blocks(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 5))
	for _, k := range []int{1, 2, 5, 100, 1152} {
		a, b := randSlice(r, 4*k), randSlice(r, 16*k)
		want := make([]float32, 64)
		gemmRef(4, 16, k, a, b, want, 16, nil, rtAct{}, 4, 16)
		ap, bp := make([][4]float32, k), make([][16]float32, k)
		for i := range k {
			ap[i] = [4]float32(a[4*i:])
			bp[i] = [16]float32(b[16*i:])
		}
		for name, f := range map[string]func([][4]float32, [][16]float32, *[64]float32){
			"2x3": rtGemm4x16By2x3, "4x4": rtGemm4x16By4x4,
		} {
			var got [64]float32
			f(ap, bp, &got)
			if !slices.Equal(got[:], want) {
				t.Errorf("k %d: %s blocks differ from gemmRef", k, name)
			}
		}
	}
}

// TestGemm1x16 checks rtGemm1x16, which rtGemm calls only where
// rtGemmWide, against gemmRef's sums, bit for bit.
func TestGemm1x16(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 6))
	for _, k := range []int{1, 2, 5, 100, 1152} {
		a, b := randSlice(r, k), randSlice(r, 16*k)
		want := make([]float32, 16)
		gemmRef(1, 16, k, a, b, want, 16, nil, rtAct{}, 1, 16)
		bp := make([][16]float32, k)
		for i := range k {
			bp[i] = [16]float32(b[16*i:])
		}
		var got [16]float32
		rtGemm1x16(a, bp, &got)
		if !slices.Equal(got[:], want) {
			t.Errorf("k %d: rtGemm1x16 differs from gemmRef", k)
		}
	}
}

// BenchmarkGemm times rtGemm on the pure-Go tile (4x16) at K = 1152 (a
// 3x3 convolution over 128 channels), and the general loop on 1x16 (a
// dense layer at batch 1) and 8x12; ns/FMA is per multiply-add.
func BenchmarkGemm(bm *testing.B) {
	for _, c := range []struct{ mr, nr, k int }{{4, 16, 1152}, {4, 16, 64}, {1, 16, 1152}, {8, 12, 1152}} {
		bm.Run(fmt.Sprintf("%dx%dk%d", c.mr, c.nr, c.k), func(bm *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			a, b := randSlice(r, c.k*c.mr), randSlice(r, c.k*c.nr)
			out := make([]float32, c.mr*c.nr)
			for bm.Loop() {
				rtGemm(c.mr, c.nr, c.k, a, b, out, c.nr, nil, rtAct{}, c.mr, c.nr)
			}
			bm.ReportMetric(float64(bm.Elapsed().Nanoseconds())/float64(bm.N)/float64(c.mr*c.nr*c.k), "ns/FMA")
		})
	}
}
