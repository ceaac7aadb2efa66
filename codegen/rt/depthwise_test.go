package rt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/ref"
)

// fakeDWKernels is a stand-in for an implementation's SIMD depthwise
// kernels, in Go, that keeps rtDWKernels' contract to its limits: conv
// reads lanes-1 values past the last it needs, and below minCols writes
// whole vectors. The tests thus reach rtDepthwise's staging, its choice of
// rows or one run, and its reach.
func fakeDWKernels(lanes, minCols int) *rtDWKernels {
	kinds := [...]int{rtActNone, rtActReLU, rtActLeakyReLU, rtActClip, rtActHardSwish, rtActSigmoid, rtActSiLU}
	conv := func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
		n := cols
		if cols < minCols {
			n = (cols + lanes - 1) / lanes * lanes
		}
		reach := (cols+lanes-1)/lanes*lanes - 1
		for r := range rows {
			for q := range n {
				v := bias
				for t, wt := range w {
					v += wt * s[r*ldS+q+offs[t]]
				}
				d[r*ldD+q] = rtActivate(v, rtAct{Kind: kinds[act], A: slope, B: hi})
			}
			for _, o := range offs {
				_ = s[r*ldS+reach+o]
			}
		}
	}
	// The AVX2 stand-in reads packed weights, as NEON's kernel does.
	packW := lanes == 8
	grouped := func(d []float32, ldD int, s, w []float32, ldW int, offs []int, n, act int, bias []float32, slope, hi float32) {
		whole := (n + lanes - 1) / lanes * lanes
		for j := range rtDWGroupedOuts {
			for q := range whole {
				v := bias[j]
				for t, o := range offs {
					wt := w[j*ldW+t]
					if packW {
						wt = w[t*rtDWGroupedOuts+j]
					}
					v += wt * s[q+o]
				}
				d[j*ldD+q] = rtActivate(v, rtAct{Kind: kinds[act], A: slope, B: hi})
			}
		}
	}
	gather := func(step int) func(dst, src []float32, rows, n, ldDst, ldSrc int) {
		return func(dst, src []float32, rows, n, ldDst, ldSrc int) {
			for r := range rows {
				for j := range n {
					dst[r*ldDst+j] = src[r*ldSrc+j*step]
				}
			}
		}
	}
	k := &rtDWKernels{lanes: lanes, minCols: minCols, conv: conv, rows: gather(1), evens: gather(2), grouped: grouped, packW: packW}
	// Over channels side by side: the contracts to the value, reading
	// and writing exactly what they say.
	k.lanesConv = func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias []float32, slope, hi float32) {
		if cols%lanes != 0 || len(w) < len(offs)*lanes || len(bias) < lanes {
			panic(fmt.Sprintf("lanesConv: cols %d, %d weights, %d biases", cols, len(w), len(bias)))
		}
		for r := range rows {
			for q := range cols {
				c := q % lanes
				v := bias[c]
				for t, o := range offs {
					v += w[t*lanes+c] * s[r*ldS+q+o]
				}
				d[r*ldD+q] = rtActivate(v, rtAct{Kind: kinds[act], A: slope, B: hi})
			}
		}
	}
	k.toLanes = func(dst, src []float32, pos []int32, n, ld, chans int) {
		for p := range n {
			for c := range lanes {
				dst[lanes*int(pos[p])+c] = 0
				if c < chans {
					dst[lanes*int(pos[p])+c] = src[c*ld+p]
				}
			}
		}
	}
	k.fromLanes = func(dst, src []float32, n, ld, chans int) {
		for p := range n {
			for c := range chans {
				dst[c*ld+p] = src[lanes*p+c]
			}
		}
	}
	reach := func(cols int) int { return (cols+lanes-1)/lanes*lanes - 1 }
	for h0 := range k.tall {
		for h1 := range k.tall[h0] {
			h := [2]int{h0, h1}
			k.tall[h0][h1] = func(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32) {
				if rows%rtDWTallRows != 0 || cols < minCols || len(offs) < kw || h1 > 0 && len(offs) < 2*kw {
					panic(fmt.Sprintf("tall %v: rows %d, cols %d, %d offsets", h, rows, cols, len(offs)))
				}
				for r := range rows {
					for q := range cols {
						v := bias
						for kx := range kw {
							for g, n := range h {
								for j := range n {
									v += w[g*kw+j*ldW+kx] * s[(r+j)*ldS+q+offs[g*kw+kx]]
								}
							}
						}
						d[r*ldD+q] = rtActivate(v, rtAct{Kind: kinds[act], A: slope, B: hi})
					}
					// The kernels read whole vectors: up to lanes-1 values past the last.
					for g, n := range h {
						for kx := 0; n > 0 && kx < kw; kx++ {
							_ = s[(r+n-1)*ldS+reach(cols)+offs[g*kw+kx]]
						}
					}
				}
			}
		}
	}
	return k
}

// dwTestKernels are the kernels the depthwise tests run: none (Go), the
// stand-ins for AVX-512's and AVX2's, and the assembly's wrappers
// (depthwise_amd64.go, depthwise_arm64.go) this machine runs.
func dwTestKernels() []*rtDWKernels {
	kernels := []*rtDWKernels{{}, fakeDWKernels(16, 1), fakeDWKernels(8, 8)}
	for _, impl := range available() {
		if k := rtDWKernelsFor(impl); k.conv != nil {
			kernels = append(kernels, &k)
		}
	}
	return kernels
}

// randDW returns a random depthwise convolution: kernels 1 to 7 (with a
// dilation, up to 13 wide), strides 1 to 3, uneven padding, multipliers
// 1 and 2, on maps from 1x1 up, or ok false if the kernel does not fit.
// One in three is grouped, with 2 to 5 channels a group, one in three has
// 8 to 47 channels.
func randDW(r *rand.Rand) (in, out ir.Shape, a ir.ConvAttrs, ok bool) {
	groups, cg := 1+r.IntN(5), 1
	switch r.IntN(3) {
	case 0:
		cg = 2 + r.IntN(4)
	case 1:
		groups = 8 + r.IntN(40) // channels 8 and 16 at a time (rtDepthwiseLanes), and the rest
	}
	in = ir.Shape{C: groups * cg, H: 1 + r.IntN(12), W: 1 + r.IntN(40)}
	if r.IntN(4) == 0 {
		in.H, in.W = 1+r.IntN(3), 1+r.IntN(3) // 1x1, 2x3 and the like
	}
	k := 1 + r.IntN(2)
	if cg > 1 {
		k = 1 + r.IntN(5)
		if r.IntN(3) == 0 {
			k = 8 + r.IntN(10) // rtDWKernels.grouped's 8, and the rest one at a time
		}
	}
	a = ir.ConvAttrs{
		Filters: k * groups, Groups: groups, KH: 1 + r.IntN(7), KW: 1 + r.IntN(7),
		StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3), DilH: 1 + r.IntN(2), DilW: 1 + r.IntN(2),
		Pad:  ir.Pad{Top: r.IntN(4), Bottom: r.IntN(4), Left: r.IntN(4), Right: r.IntN(4)},
		Bias: r.IntN(3) > 0,
	}
	if r.IntN(2) == 0 {
		a.KW, a.StrideW, a.DilW = a.KH, a.StrideH, a.DilH
	}
	hp, wp := in.H+a.Pad.Top+a.Pad.Bottom, in.W+a.Pad.Left+a.Pad.Right
	if hp < (a.KH-1)*a.DilH+1 || wp < (a.KW-1)*a.DilW+1 {
		return in, out, a, false
	}
	out = ir.Shape{C: a.Filters, H: (hp-(a.KH-1)*a.DilH-1)/a.StrideH + 1, W: (wp-(a.KW-1)*a.DilW-1)/a.StrideW + 1}
	return in, out, a, true
}

func dwGeom(in, out ir.Shape, a *ir.ConvAttrs) *rtDWGeom {
	return rtNewDWGeom(rtDWGeom{C: a.Groups, CG: in.C / a.Groups, K: a.Filters / a.Groups, H: in.H, W: in.W, KH: a.KH, KW: a.KW,
		SH: a.StrideH, SW: a.StrideW, DH: a.DilH, DW: a.DilW, PT: a.Pad.Top, PL: a.Pad.Left, OH: out.H, OW: out.W})
}

// TestDepthwise compares rtDepthwiseGo, and rtDepthwise with stand-ins for
// AVX-512's and AVX2's kernels, with the reference convolution on random
// shapes and every activation, each computing the channels in two calls
// as two workers would, over outputs and scratch full of garbage.
func TestDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	acts := []int{rtActNone, rtActReLU, rtActLeakyReLU, rtActSigmoid, rtActTanh, rtActClip, rtActHardSwish, rtActSiLU}
	kernels := dwTestKernels()
	tried := 0
	for iter := 0; tried < 600; iter++ {
		in, out, a, ok := randDW(r)
		if !ok {
			continue
		}
		tried++
		w, x := randSlice(r, a.Filters*in.C/a.Groups*a.KH*a.KW), randSlice(r, in.Elems())
		var bias []float32
		if a.Bias {
			bias = randSlice(r, a.Filters)
		}
		want := make([]float32, out.Elems())
		ref.Conv(want, x, 1, in, out, &a, w, bias)
		act := rtAct{Kind: acts[iter%len(acts)], A: float32(0.1 * float64(r.IntN(4)))}
		if act.Kind == rtActClip {
			act.A, act.B = -0.5, 0.75
		}
		// The sums' rounding scales with them, not with what the
		// activation makes of them (clip's 0.75); an activation's slope
		// is at most 1.5 (hardswish). Its own rounding scales with its
		// outputs (sigmoid(0) = 0.5).
		scale := 1e-30
		for i, v := range want {
			want[i] = rtActivate(v, act)
			scale = max(scale, math.Abs(float64(v)), math.Abs(float64(want[i])))
		}
		g := dwGeom(in, out, &a)
		for _, k := range kernels {
			got := randSlice(r, out.Elems())
			scratch := randSlice(r, rtDWScratch(g))
			half := a.Groups / 2
			rtDepthwise(got, x, w, bias, g, 0, half, scratch, act, k)
			rtDepthwise(got, x, w, bias, g, half, a.Groups, scratch, act, k)
			for i := range want {
				if d := math.Abs(float64(want[i] - got[i])); d > 1.5e-5*scale || math.IsNaN(float64(got[i])) {
					t.Fatalf("iter %d: %v -> %v %+v act %v, lanes %d: element %d: got %g, want %g (sums up to %g)",
						iter, in, out, a, act, k.lanes, i, got[i], want[i], scale)
				}
			}
		}
	}
}

// TestDepthwiseGrouped compares rtDepthwise with the reference on grouped
// convolutions of network size, whose staged groups outgrow L1 (RegNetY's
// first stage), at strides 1 and 2 and with a dilation, with the stand-ins
// and this machine's kernels.
func TestDepthwiseGrouped(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	kernels := dwTestKernels()
	for _, c := range []struct{ groups, cg, k, h, w, kh, s, d, pad int }{
		{2, 8, 8, 58, 58, 3, 1, 1, 1},   // RegNetY's first stage
		{3, 4, 2, 61, 47, 3, 2, 1, 1},   // stride 2, odd sizes
		{2, 16, 16, 20, 40, 5, 1, 2, 4}, // dilated 5x5
		{1, 6, 5, 33, 70, 3, 1, 1, 0},   // unpadded
		{3, 8, 8, 28, 28, 3, 2, 1, 1},   // stride 2, 8 outputs at once
		{2, 8, 12, 7, 7, 3, 1, 1, 1},    // 8 at once and 4 one at a time
		{2, 16, 16, 14, 14, 3, 1, 1, 1}, // two blocks of 8
		{1, 3, 9, 1, 5, 3, 1, 1, 1},     // a one-row map
	} {
		in := ir.Shape{C: c.groups * c.cg, H: c.h, W: c.w}
		a := ir.ConvAttrs{Filters: c.groups * c.k, Groups: c.groups, KH: c.kh, KW: c.kh, StrideH: c.s, StrideW: c.s, DilH: c.d, DilW: c.d,
			Pad: ir.Pad{Top: c.pad, Bottom: c.pad, Left: c.pad, Right: c.pad}, Bias: true}
		span := (c.kh-1)*c.d + 1
		out := ir.Shape{C: a.Filters, H: (c.h+2*c.pad-span)/c.s + 1, W: (c.w+2*c.pad-span)/c.s + 1}
		g := dwGeom(in, out, &a)
		w, x, bias := randSlice(r, a.Filters*c.cg*c.kh*c.kh), randSlice(r, in.Elems()), randSlice(r, a.Filters)
		want := make([]float32, out.Elems())
		ref.Conv(want, x, 1, in, out, &a, w, bias)
		act := rtAct{Kind: rtActLeakyReLU, A: 0.1}
		for i, v := range want {
			want[i] = rtActivate(v, act)
		}
		for _, k := range kernels {
			got := randSlice(r, out.Elems())
			scratch := randSlice(r, rtDWScratch(g))
			half := a.Groups / 2
			rtDepthwise(got, x, w, bias, g, 0, half, scratch, act, k)
			rtDepthwise(got, x, w, bias, g, half, a.Groups, scratch, act, k)
			near(t, fmt.Sprintf("%+v, lanes %d", c, k.lanes), want, got, 1e-5)
		}
	}
}

// TestDepthwiseNaN checks that a NaN input reaches exactly the outputs
// whose windows hold it, through ReLU and leaky ReLU, on both paths, and
// that a -Inf one gives those outputs 0 and -Inf.
func TestDepthwiseNaN(t *testing.T) {
	in := ir.Shape{C: 2, H: 9, W: 21}
	a := ir.ConvAttrs{Filters: 2, Groups: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 2, DilH: 1, DilW: 1, Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}}
	out := ir.Shape{C: 2, H: 9, W: 11}
	g := dwGeom(in, out, &a)
	x := make([]float32, in.Elems())
	w := make([]float32, 2*9)
	for i := range w {
		w[i] = 1
	}
	x[in.H*in.W+4*in.W+7] = float32(math.NaN()) // channel 1, row 4, column 7
	x[4*in.W+7] = float32(math.Inf(-1))         // channel 0, the same place
	for _, act := range []rtAct{{Kind: rtActReLU}, {Kind: rtActLeakyReLU, A: 0.1}, {Kind: rtActClip, A: 0, B: 6},
		{Kind: rtActHardSwish}, {Kind: rtActSigmoid}, {Kind: rtActSiLU}} {
		for _, k := range []*rtDWKernels{{}, fakeDWKernels(16, 1), fakeDWKernels(8, 8)} {
			got := make([]float32, out.Elems())
			rtDepthwise(got, x, w, nil, g, 0, 2, make([]float32, rtDWScratch(g)), act, k)
			for c := range 2 {
				for oy := range out.H {
					for ox := range out.W {
						v := got[(c*out.H+oy)*out.W+ox]
						inWindow := oy-1 <= 4 && 4 <= oy+1 && 2*ox-1 <= 7 && 7 <= 2*ox+1
						if c == 1 && math.IsNaN(float64(v)) != inWindow {
							t.Errorf("act %v lanes %d: output (%d, %d, %d) = %g; NaN expected: %v", act, k.lanes, c, oy, ox, v, inWindow)
						}
						if want := rtActivate(float32(math.Inf(-1)), act); c == 0 && inWindow && v != want && !(v != v && want != want) {
							t.Errorf("act %v lanes %d: output (%d, %d, %d) = %g, want %g", act, k.lanes, c, oy, ox, v, want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkDepthwiseGo times rtDepthwiseGo on MobileNet-like layers.
func BenchmarkDepthwiseGo(b *testing.B) {
	for _, c := range []struct {
		name        string
		c, hw, k, s int
		act         int
	}{
		{"28x28x96_3x3s1_leaky", 96, 28, 3, 1, rtActLeakyReLU},
		{"28x28x96_3x3s1_relu", 96, 28, 3, 1, rtActReLU},
		{"56x56x64_3x3s2_relu", 64, 56, 3, 2, rtActReLU},
		{"14x14x40_7x7s1", 40, 14, 7, 1, rtActNone},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := c.k / 2
			in := ir.Shape{C: c.c, H: c.hw, W: c.hw}
			a := ir.ConvAttrs{Filters: c.c, Groups: c.c, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s, DilH: 1, DilW: 1, Pad: ir.Pad{Top: p, Bottom: p, Left: p, Right: p}}
			oh := (c.hw+2*p-c.k)/c.s + 1
			out := ir.Shape{C: c.c, H: oh, W: oh}
			g := dwGeom(in, out, &a)
			r := rand.New(rand.NewPCG(1, 2))
			x, w, bias := randSlice(r, in.Elems()), randSlice(r, c.c*c.k*c.k), randSlice(r, c.c)
			dst := make([]float32, out.Elems())
			b.SetBytes(int64(4 * out.Elems()))
			for b.Loop() {
				rtDepthwiseGo(dst, x, w, bias, g, 0, c.c, rtAct{Kind: c.act, A: 0.1})
			}
			b.ReportMetric(float64(out.Elems()*c.k*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// dwCountEnv makes TestDWCountOnce run, for TestDWInstructionCounts.
const dwCountEnv = "CNNC_DW_COUNT"

// dwCountMark separates what TestDWInstructionCounts counts: qemu's
// CountPhases starts a phase at each call.
//
//go:noinline
func dwCountMark() {}

// dwCountShapes are the channels TestDWCountOnce convolves: MobileNet's
// first depthwise layers, one channel of 112x112 with 3x3 taps at stride 1
// and 2, padding 1, ReLU.
var dwCountShapes = []struct {
	name   string
	stride int
}{{"3x3/1 112x112", 1}, {"3x3/2 112x112->56x56", 2}}

// TestDWCountOnce runs each of dwCountShapes' channels with every
// implementation's kernels, then in Go, each between two calls of
// dwCountMark (and after a run outside them, so that nothing is done
// first in the counted phase), when dwCountEnv is set.
func TestDWCountOnce(t *testing.T) {
	if os.Getenv(dwCountEnv) == "" {
		t.Skip(dwCountEnv + " is not set: TestDWInstructionCounts runs this")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := rand.New(rand.NewPCG(5, 6))
	in := ir.Shape{C: 1, H: 112, W: 112}
	for _, sh := range dwCountShapes {
		a := ir.ConvAttrs{Filters: 1, Groups: 1, KH: 3, KW: 3, StrideH: sh.stride, StrideW: sh.stride, DilH: 1, DilW: 1,
			Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}, Bias: true}
		out := ir.Shape{C: 1, H: (in.H+2-3)/sh.stride + 1, W: (in.W+2-3)/sh.stride + 1}
		g := dwGeom(in, out, &a)
		w, x, bias := randSlice(r, 9), randSlice(r, in.Elems()), randSlice(r, 1)
		dst, scratch := make([]float32, out.Elems()), make([]float32, rtDWScratch(g))
		act := rtAct{Kind: rtActReLU}
		var runs []*rtDWKernels
		for _, impl := range available() {
			if k := rtDWKernelsFor(impl); k.conv != nil {
				runs = append(runs, &k)
			}
		}
		runs = append(runs, &rtDWKernels{}) // Go: rtDepthwiseGo
		for _, k := range runs {
			rtDepthwise(dst, x, w, bias, g, 0, 1, scratch, act, k)
			dwCountMark()
			rtDepthwise(dst, x, w, bias, g, 0, 1, scratch, act, k)
			dwCountMark()
		}
	}
}

// TestDepthwiseAllocates checks that rtDepthwise allocates nothing with
// any kernels, on a map each path takes: one channel at a time, and side
// by side with a last set of fewer channels.
func TestDepthwiseAllocates(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, hw := range []int{7, 40} {
		in := ir.Shape{C: 20, H: hw, W: hw}
		a := ir.ConvAttrs{Filters: 20, Groups: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1,
			Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}, Bias: true}
		g := dwGeom(in, in, &a)
		x, w, bias := randSlice(r, in.Elems()), randSlice(r, 20*9), randSlice(r, 20)
		dst, scratch := make([]float32, in.Elems()), make([]float32, rtDWScratch(g))
		for _, k := range dwTestKernels() {
			if n := testing.AllocsPerRun(10, func() {
				rtDepthwise(dst, x, w, bias, g, 0, 20, scratch, rtAct{Kind: rtActSiLU}, k)
			}); n != 0 {
				t.Errorf("%dx%d, lanes %d: %v allocations a call", hw, hw, k.lanes, n)
			}
		}
	}
}
