package rt

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/ref"
	"github.com/cnnc/cnnc/compiler/winograd"
)

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// near checks got against the reference within tol of the reference's scale.
// same fails t unless got is want to the bit (any NaN matching any NaN).
func same(t *testing.T, what string, want, got []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) && !(want[i] != want[i] && got[i] != got[i]) {
			t.Fatalf("%s: [%d] = %g, want %g bit for bit", what, i, got[i], want[i])
		}
	}
}

func near(t *testing.T, what string, want, got []float32, tol float64) {
	t.Helper()
	scale := 1e-30
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(want[i] - got[i])); d > tol*scale || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: element %d: got %g, want %g (scale %g)", what, i, got[i], want[i], scale)
		}
	}
}

// TestConvGEMM checks im2col panels times packed filters, tile by tile
// with ragged edges, against the reference convolution on random shapes,
// the panels written by the Go loops and by each SIMD im2col row kernel
// this CPU runs, in turn.
func TestConvGEMM(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rows := []rtIm2colRow{nil}
	for _, impl := range available() {
		if k := rtIm2colRowFor(impl); k != nil {
			rows = append(rows, k) // the assembly's wrappers (im2col_<arch>.go)
		}
	}
	for iter := range 300 {
		row := rows[iter%len(rows)]
		g := 1 + r.IntN(3)
		a := ir.ConvAttrs{
			Filters: g * (1 + r.IntN(9)), KH: 1 + r.IntN(4), KW: 1 + r.IntN(4),
			StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3), DilH: 1 + r.IntN(2), DilW: 1 + r.IntN(2),
			Pad: ir.Pad{Top: r.IntN(3), Bottom: r.IntN(3), Left: r.IntN(3), Right: r.IntN(3)}, Groups: g, Bias: r.IntN(2) == 0,
		}
		in := ir.Shape{C: g * (1 + r.IntN(4)), H: 1 + r.IntN(12), W: 1 + r.IntN(12)}
		oh := (in.H+a.Pad.Top+a.Pad.Bottom-(a.KH-1)*a.DilH-1)/a.StrideH + 1
		ow := (in.W+a.Pad.Left+a.Pad.Right-(a.KW-1)*a.DilW-1)/a.StrideW + 1
		if in.H+a.Pad.Top+a.Pad.Bottom < (a.KH-1)*a.DilH+1 || in.W+a.Pad.Left+a.Pad.Right < (a.KW-1)*a.DilW+1 {
			continue // the kernel must fit the padded input (ir.InferShape refuses this)
		}
		out := ir.Shape{C: a.Filters, H: oh, W: ow}
		cg, m := in.C/g, a.Filters/g
		k := cg * a.KH * a.KW
		w, x := randSlice(r, a.Filters*k), randSlice(r, in.Elems())
		var bias []float32
		if a.Bias {
			bias = randSlice(r, a.Filters)
		}
		want := make([]float32, out.Elems())
		ref.Conv(want, x, 1, in, out, &a, w, bias)

		mr, nr := 1+r.IntN(8), 1+r.IntN(40)
		hp, wp := in.H+a.Pad.Top+a.Pad.Bottom, in.W+a.Pad.Left+a.Pad.Right
		padded := randSlice(r, in.C*hp*wp) // garbage that the padding must overwrite
		rtPadPlanes(padded, x, 0, in.C, in.H, in.W, a.Pad.Top, a.Pad.Left, hp, wp)
		geom := &rtConvGeom{C: cg, H: hp, W: wp, KH: a.KH, KW: a.KW, SH: a.StrideH, SW: a.StrideW,
			DH: a.DilH, DW: a.DilW, OH: oh, OW: ow}
		got := make([]float32, out.Elems())
		var act rtAct
		if r.IntN(2) == 0 {
			// A residual add fused into the epilogue, then ReLU: C holds
			// the residual before.
			act = rtAct{Kind: rtActReLU, Add: true}
			res := randSlice(r, out.Elems())
			copy(got, res)
			for i := range want {
				want[i] = max(want[i]+res[i], 0)
			}
		}
		n := oh * ow
		panels := (m + mr - 1) / mr
		ap := make([]float32, panels*mr*k)
		bp := make([]float32, k*nr)
		for gi := range g {
			rtPackRows(ap, w, gi*m, m, k, mr)
			for col := 0; col < n; col += nr {
				rtIm2col(bp, padded[gi*cg*hp*wp:], geom, col, nr, row)
				for p := range panels {
					var b []float32
					if bias != nil {
						b = bias[gi*m+p*mr:]
					}
					rtGemm(mr, nr, k, ap[p*mr*k:], bp, got[(gi*m+p*mr)*n+col:], n, b, act, min(mr, m-p*mr), min(nr, n-col))
				}
			}
		}
		near(t, fmt.Sprintf("iter %d: %+v in %v mr %d nr %d %+v (SIMD im2col %v)", iter, a, in, mr, nr, act, row != nil), want, got, 1e-5)
	}
}

// TestPackWeights checks that the parallel packing at load is rtPackRows,
// on matrices big enough to be split (over GOMAXPROCS 3, whatever the
// machine) and small ones, with ragged last panels and a row offset.
func TestPackWeights(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ row0, rows, k, mr int }{
		{0, 4096, 600, 48}, {7, 1001, 2100, 16}, {0, 50, 3, 24}, {3, 2, 1 << 20, 48}, {0, 97, 33000, 5},
	} {
		w := randSlice(r, (c.row0+c.rows)*c.k)
		n := (c.rows + c.mr - 1) / c.mr * c.mr * c.k
		want, got := randSlice(r, n), randSlice(r, n)
		rtPackRows(want, w, c.row0, c.rows, c.k, c.mr)
		rtPackWeights(got, w, c.row0, c.rows, c.k, c.mr)
		if !slices.Equal(got, want) {
			t.Errorf("%+v: rtPackWeights differs from rtPackRows", c)
		}
	}
}

func TestDenseGEMM(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 100 {
		batch, in, units := 1+r.IntN(9), 1+r.IntN(70), 1+r.IntN(70)
		w, x, bias := randSlice(r, units*in), randSlice(r, batch*in), randSlice(r, units)
		want := make([]float32, batch*units)
		ref.Dense(want, x, batch, in, units, w, bias)
		mr, nr := 1+r.IntN(6), 1+r.IntN(33)
		wp := make([]float32, (units+nr-1)/nr*nr*in)
		rtPackRows(wp, w, 0, units, in, nr)
		xp := make([]float32, (batch+mr-1)/mr*mr*in)
		rtPackRows(xp, x, 0, batch, in, mr)
		got := make([]float32, batch*units)
		for p := 0; p < batch; p += mr {
			for j := 0; j < units; j += nr {
				rtGemm(mr, nr, in, xp[p*in:], wp[j*in:], got[p*units+j:], units, nil, rtAct{}, min(mr, batch-p), min(nr, units-j))
			}
		}
		rtBiasAct(got, units, bias, rtAct{Kind: rtActLeakyReLU, A: 0.1})
		ref.Activate(want, want, ir.Activation{Kind: ir.ActLeakyReLU, Alpha: 0.1})
		near(t, fmt.Sprintf("iter %d", iter), want, got, 1e-5)
	}
}

func TestBF16(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct {
		in   float32
		want uint16
	}{{1, 0x3f80}, {-2, 0xc000}, {1 + 1.0/256, 0x3f80}, {1 + 3.0/256, 0x3f82}, {float32(math.Inf(1)), 0x7f80}} {
		var got [1]uint16
		rtToBF16(got[:], []float32{c.in})
		if got[0] != c.want {
			t.Errorf("rtToBF16(%g) = %#x, want %#x", c.in, got[0], c.want)
		}
	}
	// The bf16 GEMM equals the float32 one on the widened weights.
	mr, nr, k := 3, 20, 17
	a, b := randSlice(r, k*mr), randSlice(r, k*nr)
	h := make([]uint16, len(b))
	rtToBF16(h, b)
	for i := range b {
		if d := math.Abs(float64(b[i]) - float64(math.Float32frombits(uint32(h[i])<<16))); d > math.Abs(float64(b[i]))/256 {
			t.Fatalf("%g rounds to bfloat16 %#x, off by %g", b[i], h[i], d)
		}
		b[i] = math.Float32frombits(uint32(h[i]) << 16)
	}
	want, got := make([]float32, mr*nr), make([]float32, mr*nr)
	rtGemm(mr, nr, k, a, b, want, nr, nil, rtAct{}, mr, nr)
	rtGemmBF16(mr, nr, k, a, h, got, nr, nil, rtAct{}, mr, nr)
	near(t, "bf16 gemm", want, got, 0)
}

func randPool(r *rand.Rand) (ir.Shape, ir.Shape, ir.PoolAttrs, bool) {
	a := ir.PoolAttrs{KH: 1 + r.IntN(4), KW: 1 + r.IntN(4), StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3), Ceil: r.IntN(2) == 0, CountPad: r.IntN(2) == 0}
	a.Pad = ir.Pad{Top: r.IntN(a.KH/2 + 1), Left: r.IntN(a.KW/2 + 1)}
	a.Pad.Bottom, a.Pad.Right = a.Pad.Top, a.Pad.Left
	in := ir.Shape{C: 1 + r.IntN(7), H: 1 + r.IntN(11), W: 1 + r.IntN(11)}
	if in.H+2*a.Pad.Top < a.KH || in.W+2*a.Pad.Left < a.KW {
		return in, in, a, false
	}
	out := ir.Shape{C: in.C, H: ir.PoolOut(in.H, a.KH, a.StrideH, a.Pad.Top, a.Ceil), W: ir.PoolOut(in.W, a.KW, a.StrideW, a.Pad.Left, a.Ceil)}
	return in, out, a, true
}

func poolGeom(in, out ir.Shape, a *ir.PoolAttrs, isMax bool) *rtPoolGeom {
	return &rtPoolGeom{C: in.C, H: in.H, W: in.W, KH: a.KH, KW: a.KW, SH: a.StrideH, SW: a.StrideW,
		PT: a.Pad.Top, PL: a.Pad.Left, OH: out.H, OW: out.W, Max: isMax, CountPad: a.CountPad}
}

func TestPool(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for iter := range 700 {
		in, out, a, ok := randPool(r)
		if iter >= 500 {
			// The SIMD kernels' cases, on rows wide enough for whole
			// vectors: 3x3 windows at stride 2 (ResNet's stem: padding
			// 1) and 1 (Inception's branches), and windows 1 to 5 wide
			// at strides 1 to 6 (2x2/2 of VGG and DenseNet's
			// transitions; NEON's kernels take strides up to 4, x86's
			// gather the ones above 2).
			s, kh, kw := 1+r.IntN(2), 3, 3
			if iter%2 == 1 {
				s, kh, kw = 1+r.IntN(6), 1+r.IntN(5), 1+r.IntN(5)
			}
			a = ir.PoolAttrs{KH: kh, KW: kw, StrideH: s, StrideW: s, Ceil: r.IntN(2) == 0, CountPad: r.IntN(2) == 0}
			p := r.IntN(kw/2 + 1)
			a.Pad = ir.Pad{Top: min(p, kh/2), Left: p, Bottom: min(p, kh/2), Right: p}
			in = ir.Shape{C: 1 + r.IntN(3), H: kh + r.IntN(8), W: kw + r.IntN(140)}
			out = ir.Shape{C: in.C, H: ir.PoolOut(in.H, kh, s, a.Pad.Top, a.Ceil), W: ir.PoolOut(in.W, kw, s, p, a.Ceil)}
			ok = in.H+2*p >= 3 && in.W+2*p >= 3
		}
		if !ok {
			continue
		}
		x := randSlice(r, in.Elems())
		for _, isMax := range []bool{true, false} {
			want := make([]float32, out.Elems())
			if isMax {
				ref.MaxPool(want, x, 1, in, out, &a)
			} else {
				ref.AvgPool(want, x, 1, in, out, &a)
			}
			kerns := poolKernels() // the assembly's wrappers (pooling_<arch>.go)
			for _, kern := range kerns {
				got := make([]float32, out.Elems())
				g := poolGeom(in, out, &a, isMax)
				// Two halves of the rows, as two workers would.
				h := out.H / 2
				rtPoolRows(got, x, g, 0, in.H, 0, in.C, 0, h, rtAct{}, kern)
				rtPoolRows(got, x, g, 0, in.H, 0, in.C, h, out.H, rtAct{}, kern)
				near(t, fmt.Sprintf("iter %d max %v %+v %v kernel %v", iter, isMax, a, in, kern != nil), want, got, 1e-6)
				if kern != nil {
					// The kernels and the Go path give the same bits.
					goOut := make([]float32, out.Elems())
					rtPoolRows(goOut, x, g, 0, in.H, 0, in.C, 0, out.H, rtAct{}, nil)
					same(t, fmt.Sprintf("iter %d max %v %+v %v", iter, isMax, a, in), goOut, got)
				}
			}
		}
	}
}

// poolKernels are the pooling kernels rtPoolRows is tested with: none (the
// Go path), stand-ins for SIMD kernels that do the first half of the
// outputs (halfPool, halfRow), so that the tests reach the kernel path
// and its finishing of the rest, and each implementation's.
func poolKernels() []*rtPoolKernels {
	kerns := []*rtPoolKernels{nil, {max3: halfPool, row: halfRow, rowStrides: 4}, {row: halfRow, rowStrides: 4}}
	for _, impl := range available() {
		if k := rtPoolKernelsFor(impl); k != nil {
			kerns = append(kerns, k, &rtPoolKernels{row: k.row, rowStrides: k.rowStrides})
		}
	}
	return kerns
}

// halfPool is a stand-in for a SIMD rtMaxPoolRow that does the first half
// of the outputs (by the definition).
func halfPool(dst, src []float32, n, rows, ld, sw int) int {
	for i := range n / 2 {
		v := float32(math.Inf(-1))
		for r := range rows {
			for k := range 3 {
				v = max(v, src[r*ld+sw*i+k])
			}
		}
		dst[i] = v
	}
	return n / 2
}

// halfRow is halfPool's rtPoolRow, in rtPoolRow's order of operations.
func halfRow(dst, src []float32, n, rows, ld, kw, sw int, div float32) int {
	for i := range n / 2 {
		v := float32(math.Inf(-1))
		if div != 0 {
			v = 0
		}
		for k := range kw {
			c := src[sw*i+k]
			for r := 1; r < rows; r++ {
				if div == 0 {
					c = max(c, src[r*ld+sw*i+k])
				} else {
					c += src[r*ld+sw*i+k]
				}
			}
			if div == 0 {
				v = max(v, c)
			} else {
				v += c
			}
		}
		if div != 0 {
			v /= div
		}
		dst[i] = v
	}
	return n / 2
}

// TestPoolNaN checks that max pooling propagates NaN like PyTorch on all
// of rtPoolRows' paths: windows inside the row and clipped ones, in Go and
// in each implementation's SIMD kernel, at strides 1 and 2.
func TestPoolNaN(t *testing.T) {
	kerns := poolKernels()
	const w, nanX = 40, 21
	for _, s := range []int{1, 2} {
		for _, ceil := range []bool{false, true} {
			a := ir.PoolAttrs{KH: 3, KW: 3, StrideH: s, StrideW: s, Ceil: ceil}
			in := ir.Shape{C: 2, H: 8, W: w}
			out := ir.Shape{C: 2, H: ir.PoolOut(8, 3, s, 0, ceil), W: ir.PoolOut(w, 3, s, 0, ceil)}
			x := make([]float32, in.Elems())
			for i := range x {
				x[i] = float32(i % 7)
			}
			x[1*8*w+2*w+nanX] = float32(math.NaN()) // channel 1, row 2
			for _, kern := range kerns {
				got := make([]float32, out.Elems())
				rtPoolRows(got, x, poolGeom(in, out, &a, true), 0, in.H, 0, in.C, 0, out.H, rtAct{Kind: rtActReLU}, kern)
				for oy := range out.H {
					for ox := range out.W {
						v := got[out.H*out.W+oy*out.W+ox]
						inWindow := oy*s <= 2 && 2 < oy*s+3 && ox*s <= nanX && nanX < ox*s+3
						if math.IsNaN(float64(v)) != inWindow {
							t.Errorf("stride %d ceil %v kernel %v: output (%d, %d) = %g; NaN expected: %v", s, ceil, kern != nil, oy, ox, v, inWindow)
						}
					}
				}
			}
		}
	}
}

// TestPoolWide covers rows wider than rtPoolRows' row buffer.
func TestPoolWide(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	a := ir.PoolAttrs{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}, Ceil: true}
	in := ir.Shape{C: 2, H: 5, W: 601}
	out := ir.Shape{C: 2, H: ir.PoolOut(5, 3, 2, 1, true), W: ir.PoolOut(601, 3, 2, 1, true)}
	x := randSlice(r, in.Elems())
	for _, isMax := range []bool{true, false} {
		want := make([]float32, out.Elems())
		if isMax {
			ref.MaxPool(want, x, 1, in, out, &a)
		} else {
			ref.AvgPool(want, x, 1, in, out, &a)
		}
		got := make([]float32, out.Elems())
		rtPoolRows(got, x, poolGeom(in, out, &a, isMax), 0, in.H, 0, in.C, 0, out.H, rtAct{}, &rtPoolKernels{max3: halfPool, row: halfRow, rowStrides: 4})
		near(t, fmt.Sprintf("wide max %v", isMax), want, got, 1e-6)
	}
}

func TestLRNPool(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := range 200 {
		in, out, a, ok := randPool(r)
		if !ok {
			continue
		}
		l := ir.LRNAttrs{Size: 1 + r.IntN(6), Alpha: r.Float64() * 0.1, Beta: []float64{0.75, 0.5 + r.Float64()}[r.IntN(2)], K: 0.5 + r.Float64()*2}
		x := randSlice(r, in.Elems())
		norm := make([]float32, in.Elems())
		ref.LRN(norm, x, 1, in, &l)
		want := make([]float32, out.Elems())
		ref.MaxPool(want, norm, 1, in, out, &a)
		ref.Activate(want, want, ir.Activation{Kind: ir.ActReLU})

		lg := &rtLRNGeom{C: in.C, Size: l.Size, Alpha: float32(l.Alpha / float64(l.Size)), Beta: float32(l.Beta), K: float32(l.K)}
		full := make([]float32, in.Elems())
		rtLRN(full, in.H*in.W, x, in.H*in.W, in.H*in.W, lg, make([]float32, (in.C+1)*in.H*in.W), nil)
		near(t, fmt.Sprintf("iter %d lrn %+v", iter, l), norm, full, 1e-5)

		got := make([]float32, out.Elems())
		scratch := make([]float32, in.Elems())
		// Chunks of output rows, as the generated tasks take them.
		chunk := 1 + r.IntN(3)
		for oy := 0; oy < out.H; oy += chunk {
			rtLRNPoolRows(got, x, lg, poolGeom(in, out, &a, true), oy, min(oy+chunk, out.H), scratch, make([]float32, (in.C+1)*in.H*in.W), nil, &rtPoolKernels{max3: halfPool, row: halfRow, rowStrides: 4}, rtAct{Kind: rtActReLU})
		}
		near(t, fmt.Sprintf("iter %d lrn+pool %+v %+v %v", iter, l, a, in), want, got, 1e-5)
	}
}

func TestSoftmaxAndFriends(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	s := ir.Shape{C: 7, H: 3, W: 2}
	x := randSlice(r, s.Elems())
	want := make([]float32, len(x))
	ref.Softmax(want, x, 1, s)
	got := append([]float32(nil), x...)
	rtSoftmax(got, s.C, s.H*s.W)
	near(t, "softmax", want, got, 1e-6)

	scale, shift := randSlice(r, s.C), randSlice(r, s.C)
	ref.BatchNorm(want, x, 1, s, scale, shift)
	rtScaleShift(got, x, scale, shift, s.H*s.W, rtAct{}, &rtEltKernels{})
	near(t, "batchnorm", want, got, 1e-6)

	ref.GlobalAvgPool(want[:s.C], x, 1, s)
	rtGlobalAvg(got[:s.C], x, s.H*s.W, rtAct{}, &rtEltKernels{})
	near(t, "global avg", want[:s.C], got[:s.C], 1e-6)

	for _, act := range testActivations() {
		ref.Activate(want, x, act)
		copy(got, x)
		rtActivateAll(got, rtAct{Kind: int(act.Kind), A: act.Alpha, B: act.Beta})
		near(t, act.String(), want, got, 1e-6)
	}
}

// testActivations is every ir.ActKind with typical constants.
func testActivations() []ir.Activation {
	var out []ir.Activation
	for k := range ir.NumActKinds {
		a := ir.Activation{Kind: k}
		switch k {
		case ir.ActLeakyReLU:
			a.Alpha = 0.2
		case ir.ActClip:
			a.Alpha, a.Beta = -0.5, 6
		case ir.ActHardSigmoid:
			a.Alpha, a.Beta = 1.0/6, 0.5
		}
		out = append(out, a)
	}
	return out
}

// TestActivateEveryKind checks rtActivate against the reference for every
// activation kind, over [-10, 10], the kinks and NaN, and that rtAct's
// kinds are ir.ActKind's values.
func TestActivateEveryKind(t *testing.T) {
	kinds := map[int]ir.ActKind{rtActNone: ir.ActNone, rtActReLU: ir.ActReLU, rtActLeakyReLU: ir.ActLeakyReLU,
		rtActSigmoid: ir.ActSigmoid, rtActTanh: ir.ActTanh, rtActClip: ir.ActClip, rtActHardSigmoid: ir.ActHardSigmoid,
		rtActHardSwish: ir.ActHardSwish, rtActSiLU: ir.ActSiLU, rtActGELU: ir.ActGELU, rtActGELUTanh: ir.ActGELUTanh}
	if len(kinds) != int(ir.NumActKinds) {
		t.Fatalf("rt has %d activation kinds, ir %d", len(kinds), ir.NumActKinds)
	}
	for rk, k := range kinds {
		if rk != int(k) {
			t.Errorf("rt's kind %d is ir's %v (%d)", rk, k, k)
		}
	}
	var x []float32
	for v := -10.0; v <= 10; v += 1.0 / 64 {
		x = append(x, float32(v))
	}
	x = append(x, -3, 3, 0, -0.5, 6, 100, -100, float32(math.NaN()))
	for _, act := range testActivations() {
		want := make([]float32, len(x))
		ref.Activate(want, x, act)
		for i, v := range x {
			got := rtActivate(v, rtAct{Kind: int(act.Kind), A: act.Alpha, B: act.Beta})
			w := want[i]
			if math.IsNaN(float64(w)) != math.IsNaN(float64(got)) || math.Abs(float64(got-w)) > 1e-6*max(1, math.Abs(float64(w))) {
				t.Errorf("%v(%g) = %g, want %g", act, v, got, w)
			}
		}
	}
}

// TestPool_RunsEveryTaskOnce checks that run calls each task of [first,
// first+n) once and no other, never two at once on a worker, and allocates
// nothing.
func TestPool_RunsEveryTaskOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		p := rtNewPool(workers)
		for _, n := range []int{0, 1, 2, 7, 100} {
			for _, first := range []int{0, 5} {
				hits := make([]atomic.Int32, first+n+3)
				var busy [8]atomic.Int32
				p.run(first, n, func(w, task int) {
					if busy[w].Add(1) != 1 {
						t.Errorf("worker %d runs two tasks at once", w)
					}
					hits[task].Add(1)
					busy[w].Add(-1)
				})
				for i := range hits {
					want := int32(0)
					if i >= first && i < first+n {
						want = 1
					}
					if hits[i].Load() != want {
						t.Fatalf("workers %d first %d n %d: task %d ran %d times", workers, first, n, i, hits[i].Load())
					}
				}
			}
		}
		f := func(w, task int) {}
		if allocs := testing.AllocsPerRun(100, func() { p.run(3, 64, f) }); allocs != 0 {
			t.Errorf("workers %d: %v allocations per run", workers, allocs)
		}
		p.close()
	}
}

// TestWinograd runs the Winograd pipelines of F2x3, F4x3, F6x3, F2x5, F3x5 and F4x5 (filter and
// input transforms, then points*G pure-Go GEMMs fused block by block with
// the output transform, with ragged blocks) against the reference
// convolution on random batches, shapes, paddings, groups and strides (a
// stride-S convolution with filters of S*(R-1)+1 to S*R runs as the R×R
// stride-1 convolution of the input's space-to-depth).
func TestWinograd(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := range 1200 {
		// Output tiles: R = 3 takes 2, 4 or 6, R = 5 takes 2, 3 or 4.
		R := 3 + 2*r.IntN(2)
		sizes := map[int][]int{3: {2, 2, 4, 4, 6}, 5: {2, 2, 3, 4}}[R]
		O := sizes[r.IntN(len(sizes))]
		S, KH := 1, R
		if r.IntN(2) == 0 {
			S = 2 + r.IntN(3)
			KH = S*(R-1) + 1 + r.IntN(S)
		}
		G := 1 + r.IntN(3)
		a := ir.ConvAttrs{Filters: G * (1 + r.IntN(9)), KH: KH, KW: KH, StrideH: S, StrideW: S, DilH: 1, DilW: 1,
			Pad: ir.Pad{Top: r.IntN(R + 3), Bottom: r.IntN(R + 3), Left: r.IntN(R + 3), Right: r.IntN(R + 3)}, Groups: G, Bias: true}
		in := ir.Shape{C: G * (1 + r.IntN(5)), H: 1 + r.IntN(KH+14), W: 1 + r.IntN(KH+14)}
		if in.H+a.Pad.Top+a.Pad.Bottom < KH || in.W+a.Pad.Left+a.Pad.Right < KH {
			continue
		}
		oh, ow := (in.H+a.Pad.Top+a.Pad.Bottom-KH)/S+1, (in.W+a.Pad.Left+a.Pad.Right-KH)/S+1
		B := 1 + r.IntN(4)
		out := ir.Shape{C: a.Filters, H: oh, W: ow}
		K, M := in.C/G*S*S, a.Filters/G
		w, x, bias := randSlice(r, a.Filters*in.C/G*KH*KH), randSlice(r, B*in.Elems()), randSlice(r, a.Filters)
		want := make([]float32, B*out.Elems())
		ref.Conv(want, x, B, in, out, &a, w, bias)
		// The scale is the convolution's, before ReLU can make it tiny.
		scale := 1e-30
		for _, v := range want {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		ref.Activate(want, want, ir.Activation{Kind: ir.ActReLU})

		mr, nr := 1+r.IntN(8), 1+r.IntN(40)
		// Images per group: a divisor of the batch.
		imgs := B
		for imgs = 1 + r.IntN(B); B%imgs != 0; imgs-- {
		}
		g := &rtWinoGeom{R: R, O: O, S: S, KH: KH, KW: KH, Imgs: imgs, C: in.C * S * S, H: in.H, W: in.W, PT: a.Pad.Top, PL: a.Pad.Left, G: G, K: K, M: M, OH: oh, OW: ow, Act: rtAct{Kind: rtActReLU}}
		g.F = rtWinoFormOf(t, winograd.Form{M: O, R: R})
		g.NPad = (imgs*((oh+O-1)/O)*((ow+O-1)/O) + nr - 1) / nr * nr
		rtWinoSetup(g)
		np := g.points()
		panels := (M + mr - 1) / mr
		u := make([]float32, np*G*panels*mr*K)
		rtWinoFilters(u, w, g, mr)
		half := g.C / 2
		scratch := randSlice(r, rtWinoInScratch(O, R, S, g.TH, g.TW)) // garbage too
		goKernels := rtWinoKernels{forms: rtWinoGoForms}
		got := make([]float32, B*out.Elems())
		for i := range got {
			got[i] = float32(math.NaN()) // every output must be written
		}
		sc := randSlice(r, rtWinoTileScratch(O, R, mr, nr)) // garbage too
		for img0 := 0; img0 < B; img0 += imgs {
			v := randSlice(r, np*G*g.ldV) // garbage the transform must overwrite
			rtWinoInput(v, x, g, 0, half, img0, nr, scratch, &goKernels)
			rtWinoInput(v, x, g, half, g.C, img0, nr, scratch, &goKernels)
			for n := g.N; n < g.NPad; n++ {
				for m := range np * G {
					for k := range K {
						if at := m*g.ldV + n/nr*K*nr + k*nr + n%nr; v[at] != 0 {
							t.Fatalf("iter %d: padding column %d of V[%d] row %d is %g", iter, n, m, k, v[at])
						}
					}
				}
			}
			// The fused GEMMs and output transform, block by block, in an
			// order unlike the generated code's.
			for j := (g.N + nr - 1) / nr * nr; j > 0; {
				j -= nr
				for grp := range G {
					for p := range panels {
						for xi := range np {
							rtGemm(mr, nr, K, u[((grp*panels+p)*np+xi)*mr*K:], v[(xi*G+grp)*g.ldV+j*K:], sc[xi*mr*nr:], nr, nil, rtAct{}, mr, nr)
						}
						rtWinoOutTile(got, sc, bias, g, grp*M+p*mr, min(mr, M-p*mr), nr, mr*nr, img0*g.TH*g.TW+j, min(nr, g.N-j), sc[np*mr*nr+rtWinoSlack:], &goKernels)
					}
				}
			}
		}
		// F2x5's and F4x3's transforms have coefficients up to 8 and 1/24.
		tol := map[int]float64{3: 1e-5, 5: 3e-5}[R]
		if O > 2 {
			tol = 3e-5
		}
		for i := range want {
			if d := math.Abs(float64(want[i] - got[i])); !(d <= tol*scale) {
				t.Fatalf("iter %d: F(%d, %d) %+v in %v batch %d (groups of %d) mr %d nr %d: element %d: got %g, want %g (scale %g)", iter, O, R, a, in, B, imgs, mr, nr, i, got[i], want[i], scale)
			}
		}
	}
}

// rtWinoTestForms are the forms of winogo.go, in mkvec.go's order:
// cnnc's and F6x3. rtWinoGoForms are their Go transforms.
var rtWinoTestForms = append(slices.Clone(winograd.Forms), winograd.Form{M: 6, R: 3})

var rtWinoGoForms = []rtWinoFormKernels{
	{vecWinoInF2x3Go, vecWinoOutF2x3Go}, {vecWinoInF4x3Go, vecWinoOutF4x3Go}, {vecWinoInF2x5Go, vecWinoOutF2x5Go},
	{vecWinoInF3x5Go, vecWinoOutF3x5Go}, {vecWinoInF4x5Go, vecWinoOutF4x5Go}, {vecWinoInF6x3Go, vecWinoOutF6x3Go},
}

// rtWinoFormOf is form f's rtWinoForm, as codegen writes it, indexing
// rtWinoGoForms.
func rtWinoFormOf(t *testing.T, f winograd.Form) *rtWinoForm {
	i := slices.Index(rtWinoTestForms, f)
	if i < 0 || len(rtWinoTestForms) != len(rtWinoGoForms) {
		t.Fatalf("no Go transforms of %v", f)
	}
	return &rtWinoForm{M: f.M, R: f.R, Alpha: f.Alpha(), Index: i, G: f.G().Float64()}
}

// rtWinoSetup fills in g's derived fields, as codegen's winoGeom does.
func rtWinoSetup(g *rtWinoGeom) {
	g.TH, g.TW = (g.OH+g.O-1)/g.O, (g.OW+g.O-1)/g.O
	g.N = g.Imgs * g.TH * g.TW
	g.ldV = g.K*g.NPad + 16
	g.inImg = g.C / (g.S * g.S) * g.H * g.W
	g.outIm = g.G * g.M * g.OH * g.OW
}

// TestReadAll checks rtReadAll against the bytes it was given, from a file
// (sized up front) and from a plain reader.
func TestReadAll(t *testing.T) {
	want := make([]byte, 3<<20+7)
	for i := range want {
		want[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "w")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, r := range []io.Reader{f, bytes.NewReader(want), io.LimitReader(bytes.NewReader(want), 5)} {
		got, err := rtReadAll(r)
		n := len(want)
		if _, ok := r.(*io.LimitedReader); ok {
			n = 5
		}
		if err != nil || !bytes.Equal(got, want[:n]) {
			t.Errorf("%T: %d bytes, %v; want %d bytes", r, len(got), err, n)
		}
	}
}

// TestWorkerPool runs steps of every size on pools of 1 to 4 workers, some
// right after each other (spinning workers) and some after a pause longer
// than rtPoolSpin (parked ones), and checks that every task runs exactly
// once, with a worker number in range that no two running calls share.
func TestWorkerPool(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for workers := 1; workers <= 4; workers++ {
		p := rtNewPool(workers)
		var busy [4]atomic.Int32
		for iter := range 300 {
			first, n := r.IntN(50), r.IntN(40)
			counts := make([]atomic.Int32, first+n)
			var bad atomic.Int32
			p.run(first, n, func(w, task int) {
				if w < 0 || w >= workers || busy[w].Add(1) != 1 {
					bad.Add(1)
					return
				}
				counts[task].Add(1)
				if task%7 == 0 {
					time.Sleep(time.Microsecond) // uneven tasks
				}
				busy[w].Add(-1)
			})
			if bad.Load() != 0 {
				t.Fatalf("%d workers, iter %d: a worker number out of range or shared by running calls", workers, iter)
			}
			for task := range counts {
				if want := int32(b2i(task >= first)); counts[task].Load() != want {
					t.Fatalf("%d workers, iter %d (first %d, n %d): task %d ran %d times", workers, iter, first, n, task, counts[task].Load())
				}
			}
			if iter%50 == 0 {
				time.Sleep(2 * rtPoolSpin) // let the workers park
			}
		}
		p.close()
	}
}

// TestWorkerRetract checks the hand-off when a worker has not started its
// job by the time every task is claimed (its thread busy elsewhere): wait
// takes the job back, drops its function and returns at once, the worker
// never runs it when it does get to run, and it runs the next job as
// usual.
func TestWorkerRetract(t *testing.T) {
	w := &rtWorker{wake: make(chan struct{}, 1)}
	shares := make([]rtShare, 2)
	var stale atomic.Int32
	shares[1].set(0, 3)
	w.post(rtJob{f: func(int, int) { stale.Add(1) }, shares: shares, worker: 1})
	shares[1].set(3, 3) // the caller has claimed every task
	w.wait()            // the worker is not running: this must not block
	if w.job.f != nil {
		// A parked worker holding it would keep the Model alive.
		t.Error("the retracted job's function is still held")
	}
	go w.loop()
	defer func() {
		w.quit.Store(true)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}()
	for round := range 50 {
		var ran [10]atomic.Int32
		shares[0].set(0, 5)
		shares[1].set(5, 10)
		f := func(worker, task int) {
			if worker != 0 && worker != 1 {
				t.Errorf("worker %d", worker)
			}
			ran[task].Add(1)
		}
		w.post(rtJob{f: f, shares: shares, worker: 1})
		caller := rtJob{f: f, shares: shares}
		caller.claim()
		w.wait()
		for i := range ran {
			if ran[i].Load() != 1 {
				t.Fatalf("round %d: task %d ran %d times", round, i, ran[i].Load())
			}
		}
		if round%10 == 0 {
			time.Sleep(2 * rtPoolSpin)
		}
	}
	if stale.Load() != 0 {
		t.Errorf("the retracted job ran %d tasks", stale.Load())
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAlloc checks rtAlloc's buffers: zeroed, writable, n long, and, for
// those that span a huge page on Linux, mapped at a huge-page boundary
// and unmapped by free.
func TestAlloc(t *testing.T) {
	var mm rtMem
	small := rtAlloc[float32](&mm, 1000)
	if len(small) != 1000 || len(mm.maps) != 0 {
		t.Fatalf("small buffer: len %d, %d mappings; want 1000 from the heap", len(small), len(mm.maps))
	}
	for _, n := range []int{rtHugePage / 4, 3*rtHugePage/4 + 5} {
		b := rtAlloc[float32](&mm, n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("rtAlloc(%d): len %d cap %d", n, len(b), cap(b))
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("rtAlloc(%d)[%d] = %g, want 0", n, i, v)
			}
			b[i] = float32(i)
		}
		if b[n-1] != float32(n-1) {
			t.Fatalf("rtAlloc(%d): last element not written", n)
		}
		if addr := uintptr(unsafe.Pointer(&b[0])); runtime.GOOS == "linux" && addr%rtHugePage != 0 {
			t.Errorf("rtAlloc(%d) starts at %#x, not on a huge page", n, addr)
		}
	}
	h := rtAlloc[uint16](&mm, rtHugePage)
	if len(h) != rtHugePage {
		t.Fatalf("rtAlloc[uint16]: len %d", len(h))
	}
	h[len(h)-1] = 7
	want := 0
	if runtime.GOOS == "linux" {
		want = 3
	}
	if len(mm.maps) != want {
		t.Fatalf("%d mappings, want %d", len(mm.maps), want)
	}
	mm.free()
	if mm.maps != nil {
		t.Fatal("free left mappings")
	}
	if b := rtAlloc[float32](nil, rtHugePage); len(b) != rtHugePage {
		t.Fatal("rtAlloc with no rtMem")
	}
}

// TestClampThreads checks the worker counts SetThreads asks for: the
// default, a request within the cap, and requests past it, under two
// GOMAXPROCS settings.
func TestClampThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 3} {
		runtime.GOMAXPROCS(procs)
		limit := rtThreadsPerProc * procs
		for _, c := range []struct{ n, want int }{
			{-5, procs}, {0, procs}, {1, 1}, {limit, limit}, {limit + 1, limit}, {100000, limit}, {math.MaxInt, limit},
		} {
			if got := rtClampThreads(c.n); got != c.want {
				t.Errorf("GOMAXPROCS %d: rtClampThreads(%d) = %d, want %d", procs, c.n, got, c.want)
			}
		}
	}
}

// TestExp checks rtExp against math.Exp over float32's whole range of
// arguments: within 2 ulp where the result is normal, and exact at the
// edges (0, +Inf, NaN).
func TestExp(t *testing.T) {
	check := func(x float32) {
		got := rtExp(x)
		want := math.Exp(float64(x))
		if w := float64(float32(want)); math.IsNaN(w) != math.IsNaN(float64(got)) || math.IsInf(w, 1) != math.IsInf(float64(got), 1) {
			t.Fatalf("rtExp(%g) = %g, want %g", x, got, want)
		}
		if want > 1e-37 && want < 3e38 && math.Abs(float64(got)-want) > 2*math.Abs(want)*0x1p-23 {
			t.Fatalf("rtExp(%g) = %g, want %g (error %.3g ulp)", x, got, want, math.Abs(float64(got)-want)/math.Abs(want)/0x1p-23)
		}
	}
	for x := float32(-104); x < 90; x += 1.0 / 1024 {
		check(x)
	}
	for _, x := range []float32{0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -87, 88, -86.9999, 87.9999} {
		check(x)
	}
}

func BenchmarkSiLU(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%200)/20 - 5
	}
	for b.Loop() {
		rtActivateAll(x, rtAct{Kind: rtActSiLU})
	}
	b.SetBytes(4 * 4096)
}

// TestPoolChannels checks rtPoolChannels against rtPoolRows' Go path, to
// the bit, with every kernel set: its separable passes (flat over the
// channels where the geometry allows it, per row where not), the windows
// they redo, blocks of channels as scratch limits them, a task's channel
// range, and its fallback without scratch.
func TestPoolChannels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for iter := range 900 {
		in, out, a, ok := randPool(r)
		if iter%3 != 0 {
			// Networks' poolings: 3x3 at stride 1 and padding 1 or
			// stride 2 (ceil or padding 1), 2x2/2, and other windows
			// and strides, on maps of 1 to 30 columns.
			s, k := 1+r.IntN(3), 1+r.IntN(4)
			if iter%3 == 1 {
				s, k = 1+r.IntN(2), 3
			}
			a = ir.PoolAttrs{KH: k, KW: k, StrideH: s, StrideW: s, Ceil: r.IntN(2) == 0, CountPad: r.IntN(2) == 0}
			p := r.IntN(k/2 + 1)
			a.Pad = ir.Pad{Top: p, Left: p, Bottom: p, Right: p}
			hw := max(1, k-2*p) + r.IntN(30)
			in = ir.Shape{C: 1 + r.IntN(20), H: hw, W: hw}
			if r.IntN(3) == 0 {
				in.W = max(1, k-2*p) + r.IntN(30)
			}
			out = ir.Shape{C: in.C, H: ir.PoolOut(in.H, k, s, p, a.Ceil), W: ir.PoolOut(in.W, k, s, p, a.Ceil)}
			ok = true
		}
		if !ok {
			continue
		}
		x := randSlice(r, in.Elems())
		if r.IntN(4) == 0 {
			x[r.IntN(len(x))] = float32(math.NaN())
		}
		act := rtAct{Kind: []int{rtActNone, rtActReLU}[r.IntN(2)]}
		for _, isMax := range []bool{true, false} {
			g := poolGeom(in, out, &a, isMax)
			want := make([]float32, out.Elems())
			rtPoolRows(want, x, g, 0, in.H, 0, in.C, 0, out.H, act, nil)
			plane := out.H * in.W
			for _, kern := range poolKernels() {
				for _, scratch := range []int{plane - 1, plane, 2*plane + 1, in.C * plane} {
					got := make([]float32, out.Elems())
					s := make([]float32, max(scratch, 0))
					c := r.IntN(in.C + 1) // two tasks: [0, c) and [c, C)
					rtPoolChannels(got, x, g, 0, c, act, kern, s)
					rtPoolChannels(got, x, g, c, in.C, act, kern, s)
					same(t, fmt.Sprintf("iter %d max %v %+v %v kernel %v scratch %d of %d", iter, isMax, a, in, kern != nil, scratch, plane), want, got)
				}
			}
		}
	}
}

// TestLayerNorm compares rtLayerNorm, over tasks of positions, with the
// definition in float64 (two-pass variance), on channels whose mean is
// large against their spread as well as centred ones, with every
// implementation's kernels. Where they are SIMD, it also compares them
// with the Go path: to the bit on amd64 (where Go fuses no multiply-add),
// and with NaNs and infinities among the inputs, which must poison their
// position, and only it, alike.
func TestLayerNorm(t *testing.T) {
	if rtNormStep != vec.LayerNormStep {
		t.Fatalf("rtNormStep %d, the kernels' step (vec.LayerNormStep) %d", rtNormStep, vec.LayerNormStep)
	}
	r := rand.New(rand.NewPCG(15, 16))
	var none rtEltKernels
	for name, k := range eltImpls() {
		for iter := range 120 {
			c, hw := 1+r.IntN(40), 1+r.IntN(150)
			if iter%10 == 0 {
				hw = 3136 // a ConvNeXt stage: 56x56
			}
			x := randSlice(r, c*hw)
			if iter%3 == 0 {
				for i := range x {
					x[i] = 100 + x[i]*1e-2
				}
			}
			w, b := randSlice(r, c), randSlice(r, c)
			const eps = 1e-6
			want := make([]float32, c*hw)
			for p := range hw {
				var mu, v float64
				for ch := range c {
					mu += float64(x[ch*hw+p])
				}
				mu /= float64(c)
				for ch := range c {
					d := float64(x[ch*hw+p]) - mu
					v += d * d
				}
				inv := 1 / math.Sqrt(v/float64(c)+eps)
				for ch := range c {
					want[ch*hw+p] = float32((float64(x[ch*hw+p])-mu)*inv*float64(w[ch]) + float64(b[ch]))
				}
			}
			what := fmt.Sprintf("%s iter %d: %d channels of %d", name, iter, c, hw)
			run := func(k *rtEltKernels, x []float32) []float32 {
				got := make([]float32, c*hw)
				cut := r.IntN(hw + 1) // two tasks: [0, cut) and [cut, hw)
				rtLayerNorm(got, x, w, b, c, hw, 0, cut, eps, k)
				rtLayerNorm(got, x, w, b, c, hw, cut, hw, eps, k)
				return got
			}
			near(t, what, want, run(k, x), 1e-5)
			if k.norm == nil {
				continue
			}
			// In place, and against the Go path with NaNs and infinities.
			y := eltRand(r, c*hw)
			goPath := run(&none, y)
			cut := r.IntN(hw + 1)
			rtLayerNorm(y, y, w, b, c, hw, 0, cut, eps, k)
			rtLayerNorm(y, y, w, b, c, hw, cut, hw, eps, k)
			if runtime.GOARCH == "amd64" {
				same(t, what+" in place, against Go", goPath, y)
				continue
			}
			for i, g := range goPath {
				if (g != g) != (y[i] != y[i]) || g == g && math.Abs(float64(g-y[i])) > 1e-5*(1+math.Abs(float64(g))) {
					t.Fatalf("%s in place, against Go: [%d] = %g, want %g", what, i, y[i], g)
				}
			}
		}
	}
}
