package ref

import (
	"math"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// All expected values in this file are worked out by hand; the comments show
// the arithmetic.

const exact = 1e-7 // tolerance for results that are exact up to float32 rounding

func TestConvBasic(t *testing.T) {
	// 1x3x3 input x[h][w] = 3h+w+1, one 2x2 filter [[1,2],[3,4]], bias 0.5:
	// out[oh][ow] = x[oh][ow] + 2x[oh][ow+1] + 3x[oh+1][ow] + 4x[oh+1][ow+1] + 0.5
	x := ramp(9, func(i int) float32 { return float32(i + 1) })
	a := &ir.ConvAttrs{Filters: 1, KH: 2, KW: 2, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, Bias: true}
	dst := make([]float32, 4)
	Conv(dst, x, 1, shape(1, 3, 3), shape(1, 2, 2), a, f32s(1, 2, 3, 4), f32s(0.5))
	// (0,0): 1+4+12+20, (0,1): 2+6+15+24, (1,0): 4+10+21+32, (1,1): 5+12+24+36
	checkNear(t, "conv", dst, f32s(37.5, 47.5, 67.5, 77.5), exact)

	// Same without bias.
	Conv(dst, x, 1, shape(1, 3, 3), shape(1, 2, 2), a, f32s(1, 2, 3, 4), nil)
	checkNear(t, "conv no bias", dst, f32s(37, 47, 67, 77), exact)
}

func TestConvStridePad(t *testing.T) {
	// 1x4x4 input x = 4h+w+1, 3x3 all-ones kernel, stride 2, padding 1:
	// output 2x2; row windows {0,1} and {1,2,3}, likewise columns.
	// sum over rows R, cols C of 4h+w+1 = |C|·Σ_R 4h + |R|·Σ_C (w+1):
	// (0,0): 2·4+2·3 = 14, (0,1): 3·4+2·9 = 30, (1,0): 2·24+3·3 = 57, (1,1): 3·24+3·9 = 99.
	x := ramp(16, func(i int) float32 { return float32(i + 1) })
	a := &ir.ConvAttrs{Filters: 1, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, Groups: 1,
		Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}}
	w := ramp(9, func(int) float32 { return 1 })
	dst := make([]float32, 4)
	Conv(dst, x, 1, shape(1, 4, 4), shape(1, 2, 2), a, w, nil)
	checkNear(t, "conv", dst, f32s(14, 30, 57, 99), exact)
}

func TestConvDilation(t *testing.T) {
	// 1x5x5 input x = 5h+w+1, 2x2 kernel [[1,2],[3,4]], dilation 2, stride 2:
	// out = x(ih,iw) + 2x(ih,iw+2) + 3x(ih+2,iw) + 4x(ih+2,iw+2) = 10·x(ih,iw) + 2·2 + 3·10 + 4·12
	// at (ih,iw) = (0,0),(0,2),(2,0),(2,2): x = 1, 3, 11, 13.
	x := ramp(25, func(i int) float32 { return float32(i + 1) })
	a := &ir.ConvAttrs{Filters: 1, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 2, DilW: 2, Groups: 1}
	dst := make([]float32, 4)
	Conv(dst, x, 1, shape(1, 5, 5), shape(1, 2, 2), a, f32s(1, 2, 3, 4), nil)
	checkNear(t, "conv", dst, f32s(92, 112, 192, 212), exact)
}

func TestConvGroups(t *testing.T) {
	// 2 channels, 4 filters, 2 groups, 1x1 kernels with weights 1,2,3,4:
	// filters 0,1 see channel 0; filters 2,3 see channel 1. Batch 2, the
	// second image the negation of the first.
	img := f32s(1, 2, 3, 4, 10, 20, 30, 40)
	x := append(append([]float32{}, img...), ramp(8, func(i int) float32 { return -img[i] })...)
	a := &ir.ConvAttrs{Filters: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 2}
	dst := make([]float32, 32)
	Conv(dst, x, 2, shape(2, 2, 2), shape(4, 2, 2), a, f32s(1, 2, 3, 4), f32s(0.5, -1, 0, 2))
	want := f32s(
		1.5, 2.5, 3.5, 4.5, // 1·ch0 + 0.5
		1, 3, 5, 7, // 2·ch0 − 1
		30, 60, 90, 120, // 3·ch1
		42, 82, 122, 162, // 4·ch1 + 2
		-0.5, -1.5, -2.5, -3.5,
		-3, -5, -7, -9,
		-30, -60, -90, -120,
		-38, -78, -118, -158,
	)
	checkNear(t, "grouped conv", dst, want, exact)
}

func TestConvAsymmetricPad(t *testing.T) {
	// 1x2x3 input [[1,2,3],[4,5,6]], 2x2 ones, padding top 0, bottom 1,
	// left 1, right 0: output 2x3, out[oh][ow] = Σ x[oh..oh+1][ow−1..ow].
	x := f32s(1, 2, 3, 4, 5, 6)
	a := &ir.ConvAttrs{Filters: 1, KH: 2, KW: 2, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1,
		Pad: ir.Pad{Top: 0, Bottom: 1, Left: 1, Right: 0}}
	dst := make([]float32, 6)
	Conv(dst, x, 1, shape(1, 2, 3), shape(1, 2, 3), a, f32s(1, 1, 1, 1), nil)
	// (0,0): 1+4, (0,1): 1+2+4+5, (0,2): 2+3+5+6, (1,0): 4, (1,1): 4+5, (1,2): 5+6
	checkNear(t, "conv", dst, f32s(5, 12, 16, 4, 9, 11), exact)
}

func TestConvMultiChannelBias(t *testing.T) {
	// 2x1x1 input [2,3], 1x1 filter [10,100], bias 1: 1 + 20 + 300.
	a := &ir.ConvAttrs{Filters: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1}
	dst := make([]float32, 1)
	Conv(dst, f32s(2, 3), 1, shape(2, 1, 1), shape(1, 1, 1), a, f32s(10, 100), f32s(1))
	checkNear(t, "conv", dst, f32s(321), exact)
}

func TestFloat64Accumulation(t *testing.T) {
	// 1e8 + 1 − 1e8 is 0 when accumulated in float32, 1 in float64.
	a := &ir.ConvAttrs{Filters: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1}
	dst := make([]float32, 1)
	Conv(dst, f32s(1e8, 1, -1e8), 1, shape(3, 1, 1), shape(1, 1, 1), a, f32s(1, 1, 1), nil)
	checkNear(t, "conv", dst, f32s(1), 0)
	Dense(dst, f32s(1e8, 1, -1e8), 1, 3, 1, f32s(1, 1, 1), nil)
	checkNear(t, "dense", dst, f32s(1), 0)
	Add(dst, f32s(1e8), f32s(1), f32s(-1e8))
	checkNear(t, "add", dst, f32s(1), 0)
}

func TestDense(t *testing.T) {
	// W = [[1,2,3],[4,5,6]], b = [0.5,−0.5]; x = [1,1,1] and [1,0,−1].
	dst := make([]float32, 4)
	Dense(dst, f32s(1, 1, 1, 1, 0, -1), 2, 3, 2, f32s(1, 2, 3, 4, 5, 6), f32s(0.5, -0.5))
	// [6+0.5, 15−0.5], [−2+0.5, −2−0.5]
	checkNear(t, "dense", dst, f32s(6.5, 14.5, -1.5, -2.5), exact)
}

// poolInput returns batch 2 of 2x4x4 images, plane (n,c) being
// 100·(2n+c) + sign·(4h+w+1).
func poolInput(sign float32) []float32 {
	return ramp(64, func(i int) float32 { return float32(100*(i/16)) + sign*float32(i%16+1) })
}

// poolExpect expands 3x3 expected values of the plane with offset 0 to all
// four planes of poolInput (max and mean both commute with adding a constant).
func poolExpect(plane []float32) []float32 {
	out := make([]float32, 0, 4*len(plane))
	for p := range 4 {
		for _, v := range plane {
			out = append(out, float32(100*p)+v)
		}
	}
	return out
}

// The overhang configuration, on 4x4 planes: kernel 3, stride 2, padding 1,
// ceil mode. Output 3x3 (ceil((4+2−3)/2)+1 = 3; the last window starts at
// row 3 < 4+1, so it is kept). Row windows before clipping: [−1,2), [1,4),
// [3,6) → clipped {0,1}, {1,2,3}, {3}; for count_pad the third window is
// cut at H+pad = 5, so it counts 2 rows, the first 3 rows.
var overhang = &ir.PoolAttrs{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}, Ceil: true}

func TestMaxPoolCeilPad(t *testing.T) {
	dst := make([]float32, 2*2*9)
	// Positive ramp: max at the largest row/col of each window, x = 4h+w+1,
	// rows max 1,3,3 and cols max 1,3,3.
	MaxPool(dst, poolInput(1), 2, shape(2, 4, 4), shape(2, 3, 3), overhang)
	checkNear(t, "maxpool", dst, poolExpect(f32s(6, 8, 8, 14, 16, 16, 14, 16, 16)), exact)
	// Negative ramp: padding (zeros) must not win. Max = −(4h+w+1) at the
	// smallest row/col: rows min 0,1,3, cols min 0,1,3.
	MaxPool(dst, poolInput(-1), 2, shape(2, 4, 4), shape(2, 3, 3), overhang)
	checkNear(t, "maxpool negative", dst, poolExpect(f32s(-1, -2, -4, -5, -6, -8, -13, -14, -16)), exact)
}

func TestMaxPoolFloor(t *testing.T) {
	// 2x2 stride 2 on 4x4: max at (2oh+1, 2ow+1), 4(2oh+1)+(2ow+1)+1.
	a := &ir.PoolAttrs{KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	dst := make([]float32, 2*2*4)
	MaxPool(dst, poolInput(1), 2, shape(2, 4, 4), shape(2, 2, 2), a)
	want := make([]float32, 0, 16)
	for p := range 4 {
		for _, v := range f32s(6, 8, 14, 16) {
			want = append(want, float32(100*p)+v)
		}
	}
	checkNear(t, "maxpool", dst, want, exact)
}

func TestMaxPoolNaN(t *testing.T) {
	nan := float32(math.NaN())
	a := &ir.PoolAttrs{KH: 1, KW: 2, StrideH: 1, StrideW: 2}
	dst := make([]float32, 2)
	MaxPool(dst, []float32{nan, 1, 2, nan}, 1, shape(1, 1, 4), shape(1, 1, 2), a)
	if !math.IsNaN(float64(dst[0])) || !math.IsNaN(float64(dst[1])) {
		t.Errorf("maxpool with NaN = %v, want [NaN NaN]", dst)
	}
}

func TestAvgPoolCeilPad(t *testing.T) {
	// Window sums over rows R, cols C of 4h+w+1 = |C|·Σ_R 4h + |R|·Σ_C (w+1),
	// with Σ_R 4h = 4, 24, 12 and Σ_C (w+1) = 3, 9, 4 for the three windows:
	//   14 30 12
	//   57 99 36
	//   27 45 16
	// Real element counts |R|·|C| with |R|,|C| = 2,3,1; with count_pad the
	// per-axis counts are 3,3,2 (the overhang past H+pad is not counted).
	dst := make([]float32, 2*2*9)
	a := *overhang
	a.CountPad = false
	AvgPool(dst, poolInput(1), 2, shape(2, 4, 4), shape(2, 3, 3), &a)
	checkNear(t, "avgpool", dst, poolExpect(f32s(
		14.0/4, 30.0/6, 12.0/2,
		57.0/6, 99.0/9, 36.0/3,
		27.0/2, 45.0/3, 16.0/1)), exact)

	// With count_pad a constant offset k contributes k·(real count)/divisor,
	// not k, so use a single plane without offset.
	a.CountPad = true
	x := ramp(16, func(i int) float32 { return float32(i + 1) })
	dst = dst[:9]
	AvgPool(dst, x, 1, shape(1, 4, 4), shape(1, 3, 3), &a)
	checkNear(t, "avgpool count_pad", dst, f32s(
		14.0/9, 30.0/9, 12.0/6,
		57.0/9, 99.0/9, 36.0/6,
		27.0/6, 45.0/6, 16.0/4), exact)
}

func TestAvgPoolAsymmetricPad(t *testing.T) {
	// TensorFlow-"same"-style padding: 1x1x3 [1,2,3], kernel 1x2, stride 2,
	// right padding 1. Windows [0,2) and [2,4) (cut at W+pad = 4, 1 real element).
	a := &ir.PoolAttrs{KH: 1, KW: 2, StrideH: 1, StrideW: 2, Pad: ir.Pad{Right: 1}}
	dst := make([]float32, 2)
	AvgPool(dst, f32s(1, 2, 3), 1, shape(1, 1, 3), shape(1, 1, 2), a)
	checkNear(t, "avgpool exclude pad", dst, f32s(1.5, 3), exact)
	a.CountPad = true
	AvgPool(dst, f32s(1, 2, 3), 1, shape(1, 1, 3), shape(1, 1, 2), a)
	checkNear(t, "avgpool count pad", dst, f32s(1.5, 1.5), exact)
	// Padding on the left only: windows [−1,1) and [1,3).
	a.Pad = ir.Pad{Left: 1}
	AvgPool(dst, f32s(1, 2, 3), 1, shape(1, 1, 3), shape(1, 1, 2), a)
	checkNear(t, "avgpool left count pad", dst, f32s(0.5, 2.5), exact)
	a.CountPad = false
	AvgPool(dst, f32s(1, 2, 3), 1, shape(1, 1, 3), shape(1, 1, 2), a)
	checkNear(t, "avgpool left exclude pad", dst, f32s(1, 2.5), exact)
}

func TestGlobalAvgPool(t *testing.T) {
	dst := make([]float32, 4)
	x := f32s(1, 2, 3, 4, 10, 20, 30, 40, -1, -1, -1, -1, 0, 0, 0, 1)
	GlobalAvgPool(dst, x, 2, shape(2, 2, 2))
	checkNear(t, "global avgpool", dst, f32s(2.5, 25, -1, 0.25), exact)
}

func TestLRNEdges(t *testing.T) {
	// One pixel, channels [1,2,3,4,5], Alpha = Size (so Alpha/Size = 1),
	// Beta = 1, K = 1: b[c] = a[c] / (1 + Σ a[c']²).
	x := f32s(1, 2, 3, 4, 5)
	dst := make([]float32, 5)
	// Size 3: c' ∈ [c−1, c+1]; sums 1+4, 1+4+9, 4+9+16, 9+16+25, 16+25.
	LRN(dst, x, 1, flat(5), &ir.LRNAttrs{Size: 3, Alpha: 3, Beta: 1, K: 1})
	checkNear(t, "lrn size 3", dst, f32s(1.0/6, 2.0/15, 3.0/30, 4.0/51, 5.0/42), exact)
	// Size 4: c' ∈ [c−2, c+1]; sums 1+4, 1+4+9, 1+4+9+16, 4+9+16+25, 9+16+25.
	LRN(dst, x, 1, flat(5), &ir.LRNAttrs{Size: 4, Alpha: 4, Beta: 1, K: 1})
	checkNear(t, "lrn size 4", dst, f32s(1.0/6, 2.0/15, 3.0/31, 4.0/55, 5.0/51), exact)
	// Size 1: only the channel itself.
	LRN(dst, x, 1, flat(5), &ir.LRNAttrs{Size: 1, Alpha: 1, Beta: 1, K: 1})
	checkNear(t, "lrn size 1", dst, f32s(1.0/2, 2.0/5, 3.0/10, 4.0/17, 5.0/26), exact)
	// Size larger than the channel count: every channel sees all of them (55).
	LRN(dst, x, 1, flat(5), &ir.LRNAttrs{Size: 11, Alpha: 11, Beta: 1, K: 1})
	checkNear(t, "lrn size 11", dst, f32s(1.0/56, 2.0/56, 3.0/56, 4.0/56, 5.0/56), exact)
}

func TestLRNAlexNetParams(t *testing.T) {
	// AlexNet's parameters, Size 5, Alpha 1e-4, Beta 0.75, K 2; channel 0 of
	// [10,20,30]: (2 + 1e-4/5 · (100+400+900))^0.75 = 2.028^0.75.
	x := f32s(10, 20, 30)
	dst := make([]float32, 3)
	LRN(dst, x, 1, flat(3), &ir.LRNAttrs{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 2})
	want := 10 / math.Pow(2.028, 0.75)
	checkNear(t, "lrn", dst[:1], f32s(want), exact)
	// All three channels see the same window, so results are proportional.
	checkNear(t, "lrn", dst[1:], f32s(2*want, 3*want), exact)
}

func TestLRNSpatial(t *testing.T) {
	// 2 channels, 1x2 pixels, 2 images; Size 3, Alpha 3, Beta 1, K 1.
	// Pixel values (ch0, ch1): (1,3), (3,0) | image 2: (2,0), (0,0).
	// Denominators 1+1+9 = 11, 1+9 = 10, 1+4 = 5, 1.
	x := f32s(1, 3, 3, 0, 2, 0, 0, 0)
	dst := make([]float32, 8)
	LRN(dst, x, 2, shape(2, 1, 2), &ir.LRNAttrs{Size: 3, Alpha: 3, Beta: 1, K: 1})
	checkNear(t, "lrn", dst, f32s(1.0/11, 3.0/10, 3.0/11, 0, 2.0/5, 0, 0, 0), exact)
	// In place.
	LRN(x, x, 2, shape(2, 1, 2), &ir.LRNAttrs{Size: 3, Alpha: 3, Beta: 1, K: 1})
	checkNear(t, "lrn in place", x, dst, 0)
}

func TestSoftmax(t *testing.T) {
	// softmax([0,1,2]) = [1, e, e²]/(1+e+e²).
	want := f32s(0.09003057317038046, 0.24472847105479764, 0.6652409557748219)
	dst := make([]float32, 6)
	// Image 2 is offset by 1000: exp(1000) overflows unless the max is subtracted.
	Softmax(dst, f32s(0, 1, 2, 1000, 1001, 1002), 2, flat(3))
	checkNear(t, "softmax flat", dst, append(append([]float32{}, want...), want...), 1e-6)

	// Spatial: C=2, 1x2 pixels. Pixel 0 has (0,0) → (½,½); pixel 1 has
	// (5, 5+ln 3) → (¼,¾). Layout [ch0p0, ch0p1, ch1p0, ch1p1].
	x := f32s(0, 5, 0, 5+math.Log(3))
	dst = dst[:4]
	Softmax(dst, x, 1, shape(2, 1, 2))
	checkNear(t, "softmax spatial", dst, f32s(0.5, 0.25, 0.5, 0.75), 1e-6)
}

func TestActivate(t *testing.T) {
	x := f32s(-1, 0, 2, math.Log(3))
	dst := make([]float32, 4)
	cases := []struct {
		act  ir.Activation
		want []float32
	}{
		{ir.Activation{}, x},
		{ir.Activation{Kind: ir.ActReLU}, f32s(0, 0, 2, math.Log(3))},
		{ir.Activation{Kind: ir.ActLeakyReLU, Alpha: 0.1}, f32s(-0.1, 0, 2, math.Log(3))},
		// sigmoid(ln 3) = 1/(1+1/3) = ¾
		{ir.Activation{Kind: ir.ActSigmoid}, f32s(1/(1+math.E), 0.5, 1/(1+math.Exp(-2)), 0.75)},
		// tanh(ln 3) = (3−⅓)/(3+⅓) = 0.8
		{ir.Activation{Kind: ir.ActTanh}, f32s(-math.Tanh(1), 0, math.Tanh(2), 0.8)},
	}
	for _, c := range cases {
		Activate(dst, x, c.act)
		checkNear(t, c.act.String(), dst, c.want, 1e-7)
	}
	// Extremes stay finite and saturate.
	Activate(dst, f32s(-1000, 1000, -1000, 1000), ir.Activation{Kind: ir.ActSigmoid})
	checkNear(t, "sigmoid extremes", dst, f32s(0, 1, 0, 1), 0)
}

func TestBatchNorm(t *testing.T) {
	// y = x·scale[c] + shift[c]; scale [2, −1], shift [1, 0.5]; 2 images of 2x1x2.
	dst := make([]float32, 8)
	BatchNorm(dst, f32s(1, 2, 3, 4, 5, 6, 7, 8), 2, shape(2, 1, 2), f32s(2, -1), f32s(1, 0.5))
	checkNear(t, "batchnorm", dst, f32s(3, 5, -2.5, -3.5, 11, 13, -6.5, -7.5), exact)
	BatchNorm(dst, f32s(1, 2, 3, 4, 5, 6, 7, 8), 2, shape(2, 1, 2), f32s(2, -1), nil)
	checkNear(t, "batchnorm no shift", dst, f32s(2, 4, -3, -4, 10, 12, -7, -8), exact)
}

func TestAddConcat(t *testing.T) {
	dst := make([]float32, 3)
	Add(dst, f32s(1, 2, 3), f32s(10, 20, 30), f32s(100, 200, 300))
	checkNear(t, "add", dst, f32s(111, 222, 333), 0)

	// Batch 2: a has 1 channel of 1x2, b 2 channels of 1x2. Each output image
	// is a's image followed by b's.
	a := f32s(1, 2 /* image 2 */, 3, 4)
	b := f32s(10, 20, 30, 40 /* image 2 */, 50, 60, 70, 80)
	dst = make([]float32, 12)
	Concat(dst, 2, a, b)
	checkNear(t, "concat", dst, f32s(1, 2, 10, 20, 30, 40, 3, 4, 50, 60, 70, 80), 0)
}
