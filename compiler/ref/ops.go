package ref

import (
	"math"

	"github.com/cnnc/cnnc/compiler/ir"
)

// This file holds the per-op kernels. Each works on a batch of images stored
// contiguously in NCHW order: image n of a tensor of per-image shape s
// occupies elements [n*s.Elems(), (n+1)*s.Elems()), and within an image
// element (c, h, w) is at c*s.H*s.W + h*s.W + w. A flat shape is C features
// with H = W = 1.
//
// The kernels do not validate their arguments beyond what Go's bounds checks
// do: they panic if a slice is too short or an attribute is nonsensical
// (zero stride, Groups not dividing the channels, ...). Run validates a graph
// before calling them. Unless stated otherwise dst must not overlap the
// sources. All sums are accumulated in float64 and rounded to float32 once.

// Conv is a 2-D convolution with PyTorch's semantics (torch.nn.Conv2d with
// explicit, possibly asymmetric, zero padding). With Cg = in.C/a.Groups input
// channels and Fg = a.Filters/a.Groups filters per group, for every image n,
// output channel co (in group g = co/Fg) and output position (oh, ow):
//
//	dst[n,co,oh,ow] = b[co] + Σ_{ci<Cg, kh<KH, kw<KW} w[co,ci,kh,kw] · src[n, g·Cg+ci, ih, iw]
//	ih = oh·StrideH − Pad.Top + kh·DilH,  iw = ow·StrideW − Pad.Left + kw·DilW
//
// where src is zero outside [0,in.H)×[0,in.W). w has layout
// [Filters, Cg, KH, KW]; b has Filters entries, or is nil for no bias (a.Bias
// is not consulted: a folded batchnorm can give a bias-less conv one). The
// output size is out.H×out.W, which also encodes Pad.Bottom and Pad.Right;
// out.C must equal a.Filters.
func Conv(dst, src []float32, batch int, in, out ir.Shape, a *ir.ConvAttrs, w, b []float32) {
	cg := in.C / a.Groups      // input channels per group
	fg := a.Filters / a.Groups // filters per group
	inPlane, outPlane := in.H*in.W, out.H*out.W
	inImg, outImg := in.Elems(), out.Elems()
	kSize := cg * a.KH * a.KW // weights per filter

	// For each kw, the output columns [owLo[kw], owHi[kw]) whose input column
	// iw = ow·StrideW − Pad.Left + kw·DilW lies inside the image. iw grows with
	// ow, so the valid columns are contiguous; find them by direct search.
	owLo, owHi := make([]int, a.KW), make([]int, a.KW)
	for kw := range a.KW {
		owLo[kw], owHi[kw] = out.W, out.W
		for ow := range out.W {
			iw := ow*a.StrideW - a.Pad.Left + kw*a.DilW
			if iw >= 0 && iw < in.W {
				if owLo[kw] == out.W {
					owLo[kw] = ow
				}
				owHi[kw] = ow + 1
			}
		}
		if owLo[kw] == out.W {
			owHi[kw] = out.W // empty range
		}
	}

	acc := make([]float64, outPlane) // one output plane, accumulated in float64
	for n := range batch {
		srcImg := src[n*inImg : (n+1)*inImg]
		dstImg := dst[n*outImg : (n+1)*outImg]
		for co := range a.Filters {
			g := co / fg
			bias := 0.0
			if b != nil {
				bias = float64(b[co])
			}
			for i := range acc {
				acc[i] = bias
			}
			wf := w[co*kSize : (co+1)*kSize]
			// Accumulate one weight at a time over the whole output plane:
			// acc[oh,ow] += w[co,ci,kh,kw] · src[g·Cg+ci, ih, iw].
			for ci := range cg {
				plane := srcImg[(g*cg+ci)*inPlane : (g*cg+ci+1)*inPlane]
				for kh := range a.KH {
					for kw := range a.KW {
						wv := float64(wf[(ci*a.KH+kh)*a.KW+kw])
						lo, hi := owLo[kw], owHi[kw]
						if lo >= hi {
							continue
						}
						for oh := range out.H {
							ih := oh*a.StrideH - a.Pad.Top + kh*a.DilH
							if ih < 0 || ih >= in.H {
								continue
							}
							row := plane[ih*in.W : (ih+1)*in.W]
							accRow := acc[oh*out.W : (oh+1)*out.W]
							iw := lo*a.StrideW - a.Pad.Left + kw*a.DilW
							for ow := lo; ow < hi; ow++ {
								accRow[ow] += wv * float64(row[iw])
								iw += a.StrideW
							}
						}
					}
				}
			}
			outPlaneDst := dstImg[co*outPlane : (co+1)*outPlane]
			for i, v := range acc {
				outPlaneDst[i] = float32(v)
			}
		}
	}
}

// Dense is a fully connected layer (torch.nn.Linear) on inputs of in
// features (an image flattened in C, H, W order):
//
//	dst[n,u] = b[u] + Σ_{i<in} w[u,i] · src[n,i]
//
// w has layout [units, in]; b has units entries or is nil for no bias.
func Dense(dst, src []float32, batch, in, units int, w, b []float32) {
	for n := range batch {
		x := src[n*in : (n+1)*in]
		for u := range units {
			sum := 0.0
			if b != nil {
				sum = float64(b[u])
			}
			wu := w[u*in : (u+1)*in]
			for i, xv := range x {
				sum += float64(wu[i]) * float64(xv)
			}
			dst[n*units+u] = float32(sum)
		}
	}
}

// poolWindow returns the window of output index o along one axis of length
// size: the unclipped start (o·stride − padBefore) and the window rows clipped
// to the input, [lo, hi).
func poolWindow(o, stride, padBefore, k, size int) (start, lo, hi int) {
	start = o*stride - padBefore
	lo, hi = max(start, 0), min(start+k, size)
	return start, lo, hi
}

// MaxPool is 2-D max pooling with PyTorch's semantics (torch.nn.MaxPool2d,
// including ceil_mode; padding never wins):
//
//	dst[n,c,oh,ow] = max_{ih∈[hs, hs+KH)∩[0,in.H), iw∈[ws, ws+KW)∩[0,in.W)} src[n,c,ih,iw]
//	hs = oh·StrideH − Pad.Top,  ws = ow·StrideW − Pad.Left
//
// The output size is out.H×out.W (which encodes Pad.Bottom/Right and ceil
// mode); every window must overlap the input. As in PyTorch, a NaN in a
// window makes the result NaN. out.C must equal in.C.
func MaxPool(dst, src []float32, batch int, in, out ir.Shape, a *ir.PoolAttrs) {
	inPlane, outPlane := in.H*in.W, out.H*out.W
	for p := range batch * in.C { // every (image, channel) plane
		s := src[p*inPlane : (p+1)*inPlane]
		d := dst[p*outPlane : (p+1)*outPlane]
		for oh := range out.H {
			_, h0, h1 := poolWindow(oh, a.StrideH, a.Pad.Top, a.KH, in.H)
			for ow := range out.W {
				_, w0, w1 := poolWindow(ow, a.StrideW, a.Pad.Left, a.KW, in.W)
				m := float32(math.Inf(-1))
				for ih := h0; ih < h1; ih++ {
					for _, v := range s[ih*in.W+w0 : ih*in.W+w1] {
						if v > m || v != v { // v != v: NaN propagates, as in PyTorch
							m = v
						}
					}
				}
				d[oh*out.W+ow] = m
			}
		}
	}
}

// AvgPool is 2-D average pooling with PyTorch's semantics
// (torch.nn.AvgPool2d, including ceil_mode and count_include_pad, with the
// padding generalised to be asymmetric). Along the rows (columns likewise
// with StrideW, Pad.Left, Pad.Right, in.W):
//
//	hs = oh·StrideH − Pad.Top,  he = min(hs+KH, in.H+Pad.Bottom)
//	then clip hs' = max(hs, 0), he' = min(he, in.H)
//	dst[n,c,oh,ow] = Σ_{ih∈[hs',he'), iw∈[ws',we')} src[n,c,ih,iw] / divisor
//	divisor = (he−hs)·(we−ws) if a.CountPad else (he'−hs')·(we'−ws')
//
// So with CountPad, padded zeros count but a ceil-mode window overhanging
// the bottom/right padding is not charged for the overhang. The output size
// is out.H×out.W; every window must overlap the input. out.C must equal in.C.
func AvgPool(dst, src []float32, batch int, in, out ir.Shape, a *ir.PoolAttrs) {
	inPlane, outPlane := in.H*in.W, out.H*out.W
	for p := range batch * in.C {
		s := src[p*inPlane : (p+1)*inPlane]
		d := dst[p*outPlane : (p+1)*outPlane]
		for oh := range out.H {
			hs, h0, h1 := poolWindow(oh, a.StrideH, a.Pad.Top, a.KH, in.H)
			he := min(hs+a.KH, in.H+a.Pad.Bottom)
			for ow := range out.W {
				ws, w0, w1 := poolWindow(ow, a.StrideW, a.Pad.Left, a.KW, in.W)
				we := min(ws+a.KW, in.W+a.Pad.Right)
				sum := 0.0
				for ih := h0; ih < h1; ih++ {
					for _, v := range s[ih*in.W+w0 : ih*in.W+w1] {
						sum += float64(v)
					}
				}
				div := (h1 - h0) * (w1 - w0)
				if a.CountPad {
					div = (he - hs) * (we - ws)
				}
				d[oh*out.W+ow] = float32(sum / float64(div))
			}
		}
	}
}

// GlobalAvgPool averages every channel over its spatial extent
// (torch.nn.AdaptiveAvgPool2d(1)); the output has in.C elements per image:
//
//	dst[n,c] = (1/(in.H·in.W)) · Σ_{h,w} src[n,c,h,w]
func GlobalAvgPool(dst, src []float32, batch int, in ir.Shape) {
	plane := in.H * in.W
	for p := range batch * in.C {
		sum := 0.0
		for _, v := range src[p*plane : (p+1)*plane] {
			sum += float64(v)
		}
		dst[p] = float32(sum / float64(plane))
	}
}

// LRN is local response normalisation across channels
// (torch.nn.LocalResponseNorm, Caffe's ACROSS_CHANNELS), for spatial shapes
// and flat vectors (H = W = 1) alike:
//
//	dst[n,c,h,w] = src[n,c,h,w] / (K + Alpha/Size · Σ_{c'} src[n,c',h,w]²)^Beta
//	c' ∈ [c − Size/2, c + (Size−1)/2] ∩ [0, s.C)
//
// (channels outside the tensor count as zeros; the divisor is always Size).
// dst may be src.
func LRN(dst, src []float32, batch int, s ir.Shape, a *ir.LRNAttrs) {
	plane := s.H * s.W
	img := s.Elems()
	before, after := a.Size/2, (a.Size-1)/2
	scale := a.Alpha / float64(a.Size)
	sq := make([]float64, s.C) // squares of one pixel's channels
	res := make([]float32, s.C)
	for n := range batch {
		x := src[n*img : (n+1)*img]
		y := dst[n*img : (n+1)*img]
		for p := range plane {
			for c := range s.C {
				v := float64(x[c*plane+p])
				sq[c] = v * v
			}
			for c := range s.C {
				sum := 0.0
				for cc := max(c-before, 0); cc <= min(c+after, s.C-1); cc++ {
					sum += sq[cc]
				}
				res[c] = float32(float64(x[c*plane+p]) / math.Pow(a.K+scale*sum, a.Beta))
			}
			for c := range s.C {
				y[c*plane+p] = res[c]
			}
		}
	}
}

// Softmax is softmax over the channel dimension (torch.softmax(x, dim=1)),
// separately at every spatial position of a C×H×W shape, or over the C
// features of a flat one:
//
//	dst[n,c,h,w] = exp(src[n,c,h,w] − m) / Σ_{c'} exp(src[n,c',h,w] − m)
//	m = max_{c'} src[n,c',h,w]
//
// computed in float64. dst may be src.
func Softmax(dst, src []float32, batch int, s ir.Shape) {
	plane := s.H * s.W
	img := s.Elems()
	e := make([]float64, s.C)
	for n := range batch {
		x := src[n*img : (n+1)*img]
		y := dst[n*img : (n+1)*img]
		for p := range plane {
			m := math.Inf(-1)
			for c := range s.C {
				m = max(m, float64(x[c*plane+p])) // max propagates NaN
			}
			sum := 0.0
			for c := range s.C {
				e[c] = math.Exp(float64(x[c*plane+p]) - m)
				sum += e[c]
			}
			for c := range s.C {
				y[c*plane+p] = float32(e[c] / sum)
			}
		}
	}
}

// BatchNorm is an inference-mode batchnorm already reduced to a per-channel
// affine map:
//
//	dst[n,c,h,w] = src[n,c,h,w] · scale[c] + shift[c]
//
// (evaluated in float64 and rounded once). shift may be nil for zero.
// dst may be src.
func BatchNorm(dst, src []float32, batch int, s ir.Shape, scale, shift []float32) {
	plane := s.H * s.W
	for n := range batch {
		for c := range s.C {
			sc, sh := float64(scale[c]), 0.0
			if shift != nil {
				sh = float64(shift[c])
			}
			off := (n*s.C + c) * plane
			for i, v := range src[off : off+plane] {
				dst[off+i] = float32(float64(v)*sc + sh)
			}
		}
	}
}

// PReLU is PyTorch's PReLU: dst = x if x > 0 else slope[c]·x, with one
// slope per channel, or slope[0] for all when len(slope) is 1. dst may be
// src.
func PReLU(dst, src []float32, batch int, s ir.Shape, slope []float32) {
	plane := s.H * s.W
	for n := range batch {
		for c := range s.C {
			a := float64(slope[min(c, len(slope)-1)])
			off := (n*s.C + c) * plane
			for i, v := range src[off : off+plane] {
				x := float64(v)
				if !(x > 0) {
					x *= a
				}
				dst[off+i] = float32(x)
			}
		}
	}
}

// Activate applies an elementwise activation, dst[i] = f(src[i]) for the
// first len(src) elements, with PyTorch's definitions:
//
//	ActNone:        f(x) = x
//	ActReLU:        f(x) = max(x, 0)                 (NaN stays NaN)
//	ActLeakyReLU:   f(x) = x if x > 0 else Alpha·x
//	ActSigmoid:     f(x) = 1 / (1 + exp(−x))
//	ActTanh:        f(x) = tanh(x)
//	ActClip:        f(x) = min(max(x, Alpha), Beta)  (NaN stays NaN)
//	ActHardSigmoid: f(x) = max(0, min(1, Alpha·x + Beta))
//	ActHardSwish:   f(x) = x · max(0, min(1, x/6 + 1/2))
//	ActSiLU:        f(x) = x / (1 + exp(−x))
//	ActGELU:        f(x) = x/2 · (1 + erf(x/√2))
//	ActGELUTanh:    f(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
// Every function is evaluated in float64 and rounded once. dst may be src.
// It panics on an unknown kind; Run rejects those first.
func Activate(dst, src []float32, act ir.Activation) {
	dst = dst[:len(src)]
	if act.Kind == ir.ActNone {
		copy(dst, src)
		return
	}
	f := ActFunc(act)
	for i, v := range src {
		dst[i] = float32(f(float64(v)))
	}
}

// ActFunc returns the activation as a float64 function.
func ActFunc(act ir.Activation) func(float64) float64 {
	alpha, beta := float64(act.Alpha), float64(act.Beta)
	unit := func(v float64) float64 { return math.Max(0, math.Min(1, v)) }
	switch act.Kind {
	case ir.ActNone:
		return func(x float64) float64 { return x }
	case ir.ActReLU:
		return func(x float64) float64 {
			if x < 0 {
				return 0
			}
			return x
		}
	case ir.ActLeakyReLU:
		return func(x float64) float64 {
			if !(x > 0) {
				return x * alpha
			}
			return x
		}
	case ir.ActSigmoid:
		return func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	case ir.ActTanh:
		return math.Tanh
	case ir.ActClip:
		return func(x float64) float64 {
			if x < alpha {
				return alpha
			}
			if x > beta {
				return beta
			}
			return x
		}
	case ir.ActHardSigmoid:
		return func(x float64) float64 {
			if x != x {
				return x
			}
			return unit(alpha*x + beta)
		}
	case ir.ActHardSwish:
		return func(x float64) float64 {
			if x != x {
				return x
			}
			return x * unit(x/6+0.5)
		}
	case ir.ActSiLU:
		return func(x float64) float64 { return x / (1 + math.Exp(-x)) }
	case ir.ActGELU:
		return func(x float64) float64 { return x / 2 * (1 + math.Erf(x/math.Sqrt2)) }
	case ir.ActGELUTanh:
		c := math.Sqrt(2 / math.Pi)
		return func(x float64) float64 { return x / 2 * (1 + math.Tanh(c*(x+0.044715*x*x*x))) }
	}
	panic("ref: unknown activation " + act.Kind.String())
}

// Add is the elementwise sum of its sources, dst[i] = Σ_k srcs[k][i] for
// i < len(dst), accumulated in float64. dst may be one of the sources.
func Add(dst []float32, srcs ...[]float32) {
	for i := range dst {
		sum := 0.0
		for _, s := range srcs {
			sum += float64(s[i])
		}
		dst[i] = float32(sum)
	}
}

// Arith is the elementwise add (of two or more inputs), sub, mul or div
// (of two) with NumPy broadcasting: input k has shape shapes[k], each of
// whose C, H, W is out's or 1, and element (c, y, x) of the output reads
// element (c mod C_k, y mod H_k, x mod W_k) of input k. Sums, differences,
// products and quotients are evaluated in float64 and rounded once.
func Arith(op ir.Op, dst []float32, batch int, out ir.Shape, srcs [][]float32, shapes []ir.Shape) {
	at := func(k, n, c, y, x int) float64 {
		s := shapes[k]
		return float64(srcs[k][((n*s.C+c%s.C)*s.H+y%s.H)*s.W+x%s.W])
	}
	for n := range batch {
		for c := range out.C {
			for y := range out.H {
				for x := range out.W {
					v := at(0, n, c, y, x)
					for k := 1; k < len(srcs); k++ {
						b := at(k, n, c, y, x)
						switch op {
						case ir.OpAdd:
							v += b
						case ir.OpSub:
							v -= b
						case ir.OpMul:
							v *= b
						case ir.OpDiv:
							v /= b
						}
					}
					dst[((n*out.C+c)*out.H+y)*out.W+x] = float32(v)
				}
			}
		}
	}
}

// LayerNorm normalises over the channels at every position, as PyTorch's
// F.layer_norm over the channel axis of an NHWC view (ConvNeXt's
// LayerNorm2d): with μ and σ² the mean and biased variance of x[n, :, y, x],
// dst = (x − μ)/√(σ² + eps)·w[c] + b[c], all in float64.
func LayerNorm(dst, src []float32, batch int, s ir.Shape, w, b []float32, eps float64) {
	hw := s.H * s.W
	for n := range batch {
		img := src[n*s.C*hw : (n+1)*s.C*hw]
		for p := range hw {
			mean := 0.0
			for c := range s.C {
				mean += float64(img[c*hw+p])
			}
			mean /= float64(s.C)
			v := 0.0
			for c := range s.C {
				d := float64(img[c*hw+p]) - mean
				v += d * d
			}
			inv := 1 / math.Sqrt(v/float64(s.C)+eps)
			for c := range s.C {
				y := (float64(img[c*hw+p]) - mean) * inv * float64(w[c])
				if b != nil {
					y += float64(b[c])
				}
				dst[(n*s.C+c)*hw+p] = float32(y)
			}
		}
	}
}

// Slice copies channels [start, end) of every image of src (shape in).
func Slice(dst, src []float32, batch int, in ir.Shape, start, end int) {
	hw := in.H * in.W
	per := (end - start) * hw
	for n := range batch {
		copy(dst[n*per:(n+1)*per], src[(n*in.C+start)*hw:(n*in.C+end)*hw])
	}
}

// ChannelShuffle is ShuffleNet's channel shuffle (PyTorch's
// x.view(N, g, C/g, H, W).transpose(1, 2).reshape(N, C, H, W)):
// dst[c] = src[(c mod g)·C/g + ⌊c/g⌋].
func ChannelShuffle(dst, src []float32, batch int, s ir.Shape, groups int) {
	hw := s.H * s.W
	per := s.C / groups
	for n := range batch {
		for c := range s.C {
			from := (c%groups)*per + c/groups
			copy(dst[(n*s.C+c)*hw:(n*s.C+c+1)*hw], src[(n*s.C+from)*hw:(n*s.C+from+1)*hw])
		}
	}
}

// Concat concatenates its sources along the channel dimension
// (torch.cat(dim=1)). All sources hold batch images with the same H×W, so
// within each image this is a concatenation of the sources' per-image
// blocks; source k has len(srcs[k])/batch elements per image:
//
//	dst[n] = srcs[0][n] ‖ srcs[1][n] ‖ …
func Concat(dst []float32, batch int, srcs ...[]float32) {
	off := 0
	for n := range batch {
		for _, s := range srcs {
			per := len(s) / batch
			copy(dst[off:off+per], s[n*per:(n+1)*per])
			off += per
		}
	}
}
