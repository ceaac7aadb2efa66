package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// convIm2col is an independent convolution: for each image and group it
// lays the receptive fields out as columns of a matrix (im2col) and
// multiplies the group's weight matrix by it. It shares no code with Conv.
func convIm2col(src []float32, batch int, in ir.Shape, a *ir.ConvAttrs, w, b []float32) ([]float32, ir.Shape) {
	oh := (in.H+a.Pad.Top+a.Pad.Bottom-a.DilH*(a.KH-1)-1)/a.StrideH + 1
	ow := (in.W+a.Pad.Left+a.Pad.Right-a.DilW*(a.KW-1)-1)/a.StrideW + 1
	out := ir.Shape{C: a.Filters, H: oh, W: ow}
	cg, fg := in.C/a.Groups, a.Filters/a.Groups
	K := cg * a.KH * a.KW // rows of the column matrix
	P := oh * ow          // columns: output positions
	dst := make([]float32, batch*out.Elems())

	at := func(n, c, h, w int) float64 {
		if h < 0 || h >= in.H || w < 0 || w >= in.W {
			return 0
		}
		return float64(src[((n*in.C+c)*in.H+h)*in.W+w])
	}
	for n := range batch {
		for g := range a.Groups {
			// cols[k][p], k = (ci, kh, kw), p = (y, x).
			cols := make([][]float64, K)
			for k := range cols {
				ci, kh, kw := k/(a.KH*a.KW), k/a.KW%a.KH, k%a.KW
				cols[k] = make([]float64, P)
				for p := range P {
					y, x := p/ow, p%ow
					cols[k][p] = at(n, g*cg+ci, y*a.StrideH-a.Pad.Top+kh*a.DilH, x*a.StrideW-a.Pad.Left+kw*a.DilW)
				}
			}
			// out[f][p] = b[f] + Σ_k W[f][k]·cols[k][p], W the group's [fg, K] slice.
			for fl := range fg {
				f := g*fg + fl
				for p := range P {
					s := 0.0
					for k := range K {
						s += float64(w[f*K+k]) * cols[k][p]
					}
					if b != nil {
						s += float64(b[f])
					}
					dst[(n*a.Filters+f)*P+p] = float32(s)
				}
			}
		}
	}
	return dst, out
}

func randSlice(r *rand.Rand, n int) []float32 {
	return ramp(n, func(int) float32 { return float32(r.NormFloat64()) })
}

// TestConvIm2col compares Conv with convIm2col over many random small shapes.
func TestConvIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tested := 0
	for tested < 1500 {
		a := &ir.ConvAttrs{
			Groups: 1 + r.IntN(3), KH: 1 + r.IntN(4), KW: 1 + r.IntN(4),
			StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3),
			DilH: 1 + r.IntN(2), DilW: 1 + r.IntN(2),
			Pad: ir.Pad{Top: r.IntN(3), Bottom: r.IntN(3), Left: r.IntN(3), Right: r.IntN(3)},
		}
		if r.IntN(3) == 0 { // symmetric padding too
			p := r.IntN(3)
			a.Pad = ir.Pad{Top: p, Bottom: p, Left: p, Right: p}
		}
		cg := 1 + r.IntN(3)
		a.Filters = a.Groups * (1 + r.IntN(3))
		in := shape(a.Groups*cg, 1+r.IntN(9), 1+r.IntN(9))
		if in.H+a.Pad.Top+a.Pad.Bottom < a.DilH*(a.KH-1)+1 || in.W+a.Pad.Left+a.Pad.Right < a.DilW*(a.KW-1)+1 {
			continue // no output
		}
		batch := 1 + r.IntN(2)
		x := randSlice(r, batch*in.Elems())
		w := randSlice(r, a.Filters*cg*a.KH*a.KW)
		var b []float32
		if r.IntN(2) == 0 {
			b = randSlice(r, a.Filters)
		}
		want, out := convIm2col(x, batch, in, a, w, b)
		got := make([]float32, len(want))
		Conv(got, x, batch, in, out, a, w, b)
		what := fmt.Sprintf("case %d: batch %d in %v %+v", tested, batch, in, *a)
		// Both sum in float64 and round once: at most an ulp apart.
		checkNear(t, what, got, want, 1e-6)
		if t.Failed() {
			return
		}

		// Run agrees with the direct call and checks the output shape.
		nIn := input(in)
		nConv := &ir.Node{Name: "conv", Op: ir.OpConv, Inputs: []*ir.Node{nIn}, Shape: out, Conv: *a}
		res := mustRun(t, graph(nIn, nConv), params{nConv: {w, b}}, x, batch)
		checkNear(t, what+" via Run", res.Values[nConv], want, 1e-6)
		tested++
	}
}

// naiveConv is the brief's formula transcribed literally, one output at a time.
func naiveConv(src []float32, batch int, in, out ir.Shape, a *ir.ConvAttrs, w, b []float32) []float32 {
	cg, fg := in.C/a.Groups, a.Filters/a.Groups
	dst := make([]float32, batch*out.Elems())
	for n := range batch {
		for co := range out.C {
			g := co / fg
			for oh := range out.H {
				for ow := range out.W {
					s := 0.0
					if b != nil {
						s = float64(b[co])
					}
					for ci := range cg {
						for kh := range a.KH {
							for kw := range a.KW {
								ih := oh*a.StrideH - a.Pad.Top + kh*a.DilH
								iw := ow*a.StrideW - a.Pad.Left + kw*a.DilW
								if ih < 0 || ih >= in.H || iw < 0 || iw >= in.W {
									continue
								}
								s += float64(w[((co*cg+ci)*a.KH+kh)*a.KW+kw]) *
									float64(src[((n*in.C+g*cg+ci)*in.H+ih)*in.W+iw])
							}
						}
					}
					dst[((n*out.C+co)*out.H+oh)*out.W+ow] = float32(s)
				}
			}
		}
	}
	return dst
}

// TestConvLarger checks a few bigger, AlexNet-like configurations against
// the literal formula.
func TestConvLarger(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		in ir.Shape
		a  ir.ConvAttrs
	}{
		{shape(3, 35, 35), ir.ConvAttrs{Filters: 8, KH: 11, KW: 11, StrideH: 4, StrideW: 4, DilH: 1, DilW: 1, Groups: 1, Pad: ir.Pad{Top: 2, Bottom: 2, Left: 2, Right: 2}}},
		{shape(8, 13, 13), ir.ConvAttrs{Filters: 12, KH: 5, KW: 5, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 2, Pad: ir.Pad{Top: 2, Bottom: 2, Left: 2, Right: 2}}},
		{shape(6, 10, 17), ir.ConvAttrs{Filters: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 1, DilH: 3, DilW: 2, Groups: 6, Pad: ir.Pad{Top: 0, Bottom: 3, Left: 4, Right: 1}}},
		{shape(4, 1, 1), ir.ConvAttrs{Filters: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}}},
	}
	for _, c := range cases {
		a := c.a
		_, out := convIm2col(make([]float32, c.in.Elems()), 1, c.in, &a, make([]float32, a.Filters*c.in.C/a.Groups*a.KH*a.KW), nil)
		x := randSlice(r, 2*c.in.Elems())
		w := randSlice(r, a.Filters*c.in.C/a.Groups*a.KH*a.KW)
		b := randSlice(r, a.Filters)
		got := make([]float32, 2*out.Elems())
		Conv(got, x, 2, c.in, out, &a, w, b)
		checkNear(t, fmt.Sprintf("%v %+v", c.in, a), got, naiveConv(x, 2, c.in, out, &a, w, b), 1e-6)
	}
}

// TestConvOutputWritten guards against uninitialised output: every output is
// written even when the input is all zeros and there is no bias.
func TestConvOutputWritten(t *testing.T) {
	a := &ir.ConvAttrs{Filters: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}}
	dst := ramp(2*9, func(int) float32 { return float32(math.NaN()) })
	Conv(dst, make([]float32, 9), 1, shape(1, 3, 3), shape(2, 3, 3), a, make([]float32, 18), nil)
	checkNear(t, "conv", dst, make([]float32, 18), 0)
}
