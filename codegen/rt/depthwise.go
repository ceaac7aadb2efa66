package rt

import "unsafe"

// A depthwise convolution (groups equal to the input channels) convolves
// each input channel c with K filters of its own, giving output channels
// c*K to c*K+K-1: KH*KW multiply-adds per output, where a GEMM per group
// would have a single row (or K rows). rtDepthwiseGo computes it directly
// in Go; rtDepthwise stages each channel's padded input in a worker's
// scratch, split by stride phase, so that an implementation's SIMD kernel
// computes every output from contiguous loads (see rtDWKernels). On small
// maps it instead transposes 16 or 8 channels side by side, so that a
// vector is one output of each (rtDepthwiseLanes).
//
// A grouped convolution with few channels per group (RegNetY's and
// ResNeXt's: CG of them) is the same with CG channels staged side by side:
// an output's taps are then CG*KH*KW, the channel's offset added to each.
// As a GEMM per group it had M = K rows and an im2col panel of CG*KH*KW
// rows to build for them.

// rtDWGeom is a depthwise convolution over one image: C groups of CG
// input channels (0 or 1: a depthwise convolution) of H x W, K filters per
// group of CG x KH x KW taps (PyTorch's [C*K][CG][KH][KW] weights),
// strides SH and SW, dilations DH and DW, PT rows and PL columns of zero
// padding on top and left (the bottom and right padding follow from OH
// and OW). rtNewDWGeom derives the other fields.
type rtDWGeom struct {
	C, CG  int
	K      int
	H, W   int
	KH, KW int
	SH, SW int
	DH, DW int
	PT, PL int
	OH, OW int

	// Output columns [oxLo, oxHi) are interior: every tap of theirs lies
	// inside the input row.
	oxLo, oxHi int
	// The staged input (rtDWStage) of one channel: SH*SW phase planes of
	// hq rows of lp values, plane values apart. Phase plane (ph, pw) holds
	// the padded input's rows ph, ph+SH, ... and columns pw, pw+SW, ...
	// A group's CG channels are staged chans values apart.
	lp, hq, plane, chans int
	// offs[(ci*KH+ky)*KW+kx] is where tap (ky, kx) of the group's channel
	// ci for output (oy, ox) lies in the staged input, less oy*lp+ox;
	// maxOff is the largest.
	offs   []int
	maxOff int
	// stage lists the gathers that stage a channel: one per phase plane.
	stage []rtDWGatherOp
	// Where rtDWLanesGeom allows, else nil: pos[iy*W+ix] is where input
	// (iy, ix) lies in the staged input, or chans where no output reads
	// it (rtDWKernels.toLanes), and offs8 and offs16 are offs in the
	// layout of 8 and 16 channels side by side (rtDepthwiseLanes).
	pos           []int32
	offs8, offs16 []int
}

// rtDWGatherOp is one of a depthwise convolution's gathers: rows rows of
// n values, from src on in the channel's input (SH rows and SW columns
// apart), to dst on in the staged input (lp values a row).
type rtDWGatherOp struct{ dst, src, rows, n int }

// rtDWSlack is how far rtDWKernels.conv may read past the last staged
// value it needs, and write past the outputs of a row it stages: a vector.
const rtDWSlack = 16

// rtNewDWGeom returns g with its derived fields set.
func rtNewDWGeom(g rtDWGeom) *rtDWGeom {
	g.CG = max(g.CG, 1)
	// Interior columns: ox*SW-PL >= 0 and ox*SW-PL+(KW-1)*DW <= W-1.
	g.oxLo = min((g.PL+g.SW-1)/g.SW, g.OW)
	g.oxHi = g.oxLo
	if last := g.W - 1 - (g.KW-1)*g.DW + g.PL; last >= 0 {
		g.oxHi = max(min(last/g.SW+1, g.OW), g.oxLo)
	}
	// The padded input the outputs read: hp x wp, from (-PT, -PL) on.
	hp := (g.OH-1)*g.SH + (g.KH-1)*g.DH + 1
	wp := (g.OW-1)*g.SW + (g.KW-1)*g.DW + 1
	g.lp, g.hq = (wp+g.SW-1)/g.SW, (hp+g.SH-1)/g.SH
	g.plane = g.lp * g.hq
	g.chans = g.SH * g.SW * g.plane
	T := g.KH * g.KW
	g.offs = make([]int, g.CG*T)
	for ky := range g.KH {
		for kx := range g.KW {
			y, x := ky*g.DH, kx*g.DW
			off := (y%g.SH*g.SW+x%g.SW)*g.plane + y/g.SH*g.lp + x/g.SW
			for ci := range g.CG {
				g.offs[ci*T+ky*g.KW+kx] = ci*g.chans + off
				g.maxOff = max(g.maxOff, ci*g.chans+off)
			}
		}
	}
	for ph := range g.SH {
		// Input rows iy0, iy0+SH, ... go to plane rows i0, i0+1, ...
		iy0 := ((ph-g.PT)%g.SH + g.SH) % g.SH
		i0 := (iy0 + g.PT) / g.SH
		rows := min((g.H-iy0+g.SH-1)/g.SH, g.hq-i0)
		if rows <= 0 {
			continue
		}
		for pw := range g.SW {
			// Plane columns j0, j0+1, ... hold input columns ix0,
			// ix0+SW, ...
			j0 := 0
			if g.PL > pw {
				j0 = (g.PL - pw + g.SW - 1) / g.SW
			}
			ix0 := j0*g.SW + pw - g.PL
			if j0 >= g.lp || ix0 >= g.W {
				continue
			}
			g.stage = append(g.stage, rtDWGatherOp{dst: (ph*g.SW+pw)*g.plane + i0*g.lp + j0, src: iy0*g.W + ix0,
				rows: rows, n: min((g.W-ix0+g.SW-1)/g.SW, g.lp-j0)})
		}
	}
	if rtDWLanesGeom(&g) {
		rtDWLanesInit(&g)
	}
	return &g
}

// rtDWLanesInit sets g's pos, offs8 and offs16: pos places each input
// where g.stage's gathers do (rtDWStage).
func rtDWLanesInit(g *rtDWGeom) {
	g.pos = make([]int32, g.H*g.W)
	for i := range g.pos {
		g.pos[i] = int32(g.chans)
	}
	for _, p := range g.stage {
		for r := range p.rows {
			for j := range p.n {
				g.pos[p.src+r*g.SH*g.W+j*g.SW] = int32(p.dst + r*g.lp + j)
			}
		}
	}
	for _, o := range g.offs {
		g.offs8, g.offs16 = append(g.offs8, 8*o), append(g.offs16, 16*o)
	}
}

// rtDWLanesOut is the most outputs a channel may have for rtDepthwise to
// compute it over channels side by side (rtDepthwiseLanes) where the
// kernels allow, and rtDWLanesOutWide the most with a filter over 5x5:
// codegen's dwLanesOut and dwLanesOutWide. On small maps a channel's rows
// waste much of their vectors (a 7x7 map fills 7 of AVX-512's 16 lanes)
// and its staging and calls cost more than its FMAs. On larger ones the
// rows fill their vectors and the tall kernels load each input row once
// for several output rows, where side by side every tap loads its own
// vector: BenchmarkDW (Zen 4, SiLU, one at a time with the tall kernels
// against side by side, with AVX-512 and AVX2) took 7x7 outputs 1.2-2.0
// times less time side by side (3x3, 5x5 and 7x7 filters, stride 1 and
// 2), 14x14 outputs about as much to 1.26 times less, 28x28 ones 1.1-1.2
// times more. In the networks (`cnnc bench`, one thread, AVX-512) 14x14
// maps took MobileNetV2's 3x3 and EfficientNet-B0's 3x3 and 5x5 layers
// 6-11% less time side by side, ConvNeXt-Tiny's 7x7 ones 15-25% more.
const (
	rtDWLanesOut     = 14 * 14
	rtDWLanesOutWide = 8 * 8
)

// rtDWLanesGeom reports whether g may go over channels side by side: a
// depthwise convolution with one filter a channel and at most
// rtDWLanesOut outputs a channel (rtDWLanesOutWide with a filter of more
// than 25 taps). rtNewDWGeom asks it once: the others read g.pos.
func rtDWLanesGeom(g *rtDWGeom) bool {
	out := g.OH * g.OW
	return g.CG == 1 && g.K == 1 && (out <= rtDWLanesOutWide || out <= rtDWLanesOut && g.KH*g.KW <= 25)
}

// rtDWLanesScratch is the scratch rtDepthwiseLanes needs, for 16 channels
// side by side (8 take half): the staged input and a slot for the values
// no output reads, the outputs, the weights, the biases, and a vector to
// align them to 64 bytes.
func rtDWLanesScratch(g *rtDWGeom) int {
	if g.pos == nil {
		return 0
	}
	return 16 * (g.chans + 3 + g.OH*g.OW + g.KH*g.KW)
}

// rtDWScratch is the scratch rtDepthwise needs with SIMD kernels: the
// staged input of a group, and rtDWOuts staged outputs of OH rows of lp
// values, each with rtDWSlack to spare, where a group has
// rtDWGroupedOuts filters or more, room for as many filters' weights
// packed (rtDWPackW), and rtDepthwiseLanes' (rtDWLanesScratch). codegen's
// dwScratch computes the same.
func rtDWScratch(g *rtDWGeom) int {
	n := g.CG*g.chans + rtDWSlack + rtDWOuts(g)*(g.OH*g.lp+rtDWSlack)
	if g.K >= rtDWGroupedOuts {
		n += rtDWGroupedOuts * g.CG * g.KH * g.KW
	}
	return n + rtDWLanesScratch(g)
}

// rtDWGroupedOuts is how many outputs of a group rtDWKernels.grouped
// computes at once: asmgen/vec's GroupedOuts.
const rtDWGroupedOuts = 8

// rtDWOuts is the number of staged outputs rtDepthwise needs: a group's
// rtDWGroupedOuts for rtDWKernels.grouped, where a group has as many
// filters, else one.
func rtDWOuts(g *rtDWGeom) int {
	if g.K >= rtDWGroupedOuts {
		return rtDWGroupedOuts
	}
	return 1
}

// rtDWZeros is the bias of rtDWGroupedOuts outputs without one.
var rtDWZeros [rtDWGroupedOuts]float32

// rtDWKernels are an implementation's SIMD depthwise kernels; conv nil
// means none. With lanes the kernels' vector width:
//
// conv computes, for r < rows and q < cols,
//
//	d[r*ldD+q] = act(bias + Σ_t w[t] * s[r*ldS+q+offs[t]]),
//
// the taps summed in order, where act(v) is v for act 0, ReLU's max(v, 0)
// for act 1, leaky ReLU's max(v, 0) + slope*min(v, 0) for act 2, clip's
// min(max(v, slope), hi) for act 3, hardswish for act 4, sigmoid for act 5
// and SiLU for act 6 (rtActivate's formulas, within a few ulp for the
// last two: e^x as in asmgen/gemm's epilogue). It reads s to lanes-1
// values past the last it needs; it writes
// nothing past d[(rows-1)*ldD+cols-1] when cols >= minCols, and whole
// vectors of lanes otherwise.
//
// rows copies dst[r*ldDst+j] = src[r*ldSrc+j], and evens sets
// dst[r*ldDst+j] = src[r*ldSrc+2j], for r < rows, j < n; neither reads or
// writes any other element past the last of these.
//
// grouped, nil where the implementation has none, computes
// rtDWGroupedOuts outputs of a group at once over one run of n values:
// for j < rtDWGroupedOuts, q < n,
//
//	d[j*ldD+q] = act(bias[j] + Σ_t w[j*ldW+t] * s[q+offs[t]]),
//
// reading s to lanes-1 values past the last it needs and writing whole
// vectors, up to lanes-1 values past each d[j*ldD+n-1]. With packW it
// reads the weights packed instead, w[t*rtDWGroupedOuts+j] (rtDWPackW),
// and not ldW.
//
// tall[h0][h1], nil where the implementation has none, is conv
// rtDWTallRows output rows at once, for a kernel of h0 rows at vertical
// stride and dilation 1 (h1 = 0), or at stride 2 of h0 even rows and h1
// odd ones, each set reading its own phase plane of the staged input
// (asmgen/vec's TallShape): for r < rows (a multiple of rtDWTallRows),
// q < cols,
//
//	d[r*ldD+q] = act(bias + Σ_kx Σ_g Σ_j w[g*kw+j*ldW+kx] * s[(r+j)*ldS+q+offs[g*kw+kx]]),
//
// kx < kw, j < h0 for g = 0 and j < h1 for g = 1. It reads s to lanes-1
// values past the last it needs and writes nothing past
// d[(rows-1)*ldD+cols-1]; cols must be at least minCols.
type rtDWKernels struct {
	lanes, minCols int
	conv           func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias, slope, hi float32)
	rows, evens    func(dst, src []float32, rows, n, ldDst, ldSrc int)
	grouped        func(d []float32, ldD int, s, w []float32, ldW int, offs []int, n, act int, bias []float32, slope, hi float32)
	packW          bool
	tall           [8][8]rtDWTall

	// lanesConv, toLanes and fromLanes, nil where the implementation has
	// none, compute over lanes channels side by side (rtDepthwiseLanes):
	// value p of channel c at lanes*p+c. For p < n and c < chans (at
	// most lanes), toLanes sets dst[lanes*pos[p]+c] = src[c*ld+p] (and
	// the lanes from chans on to 0), fromLanes dst[c*ld+p] =
	// src[lanes*p+c]; neither touches any other value. lanesConv is conv
	// in that layout, but with a vector of weights a tap, w[t*lanes+c],
	// and of biases, bias[c], for c = q mod lanes: cols is a multiple of
	// lanes, and it reads and writes no other value.
	lanesConv func(d, s, w []float32, offs []int, rows, cols, ldD, ldS, act int, bias []float32, slope, hi float32)
	toLanes   func(dst, src []float32, pos []int32, n, ld, chans int)
	fromLanes func(dst, src []float32, n, ld, chans int)
}

// rtDWTall is rtDWKernels.tall's kernel.
type rtDWTall func(d, s, w []float32, offs []int, kw, ldW, rows, cols, ldD, ldS, act int, bias, slope, hi float32)

// rtDWTallRows is the number of rows rtDWKernels.tall computes at once:
// asmgen/vec's TallRows.
const rtDWTallRows = 4

// rtDWPackW sets dst[t*rtDWGroupedOuts+j] = w[j*taps+t]: the weights of
// rtDWGroupedOuts outputs, each taps long, side by side a tap.
func rtDWPackW(dst, w []float32, taps int) {
	dst = dst[:taps*rtDWGroupedOuts]
	for j := range rtDWGroupedOuts {
		for t, v := range w[j*taps : (j+1)*taps] {
			dst[t*rtDWGroupedOuts+j] = v
		}
	}
}

// rtDepthwise computes the output channels of groups [c0, c1) of one
// image: dst is the image's output, [C*K][OH][OW], src its input,
// [C*CG][H][W], w the weights, [C*K][CG*KH*KW], and bias one per output
// channel (nil: zero). It uses the SIMD kernels k if they exist, with
// scratch (rtDWScratch values), else rtDepthwiseGo.
//
// A depthwise convolution that rtDWLanesGeom takes (g.pos set) goes
// k.lanes channels at a time, side by side (rtDepthwiseLanes), where k
// can; the others go as follows.
//
// Each group's channels are staged (rtDWStage), so that output (oy, ox)'s
// taps lie at (oy*lp+ox)+offs[t] in the staged input. If OW is lp, conv
// writes the channel's outputs to dst as one run. If one run of
// (OH-1)*lp+OW values, the garbage columns ox in [OW, lp) of each row
// included, takes a quarter fewer vectors than the rows, conv computes
// that run into the staged output and the rows are copied out. Otherwise
// conv writes the rows to dst itself.
func rtDepthwise(dst, src, w, bias []float32, g *rtDWGeom, c0, c1 int, scratch []float32, act rtAct, k *rtDWKernels) {
	if k.conv == nil {
		rtDepthwiseGo(dst, src, w, bias, g, c0, c1, act)
		return
	}
	if k.lanesConv != nil && g.pos != nil {
		rtDepthwiseLanes(dst, src, w, bias, g, c0, c1, scratch[len(scratch)-rtDWLanesScratch(g):], act, k)
		return
	}
	T := g.CG * g.KH * g.KW
	ohw, hw := g.OH*g.OW, g.H*g.W
	stage := scratch[:g.CG*g.chans+rtDWSlack]
	ld := g.OH*g.lp + rtDWSlack // one staged output's length
	out := scratch[len(stage) : len(stage)+rtDWOuts(g)*ld]
	packed := scratch[len(stage)+len(out):]
	// The kernel's reach in the staged input, checked here so that it
	// cannot stray: the last output's farthest tap, and a vector more.
	_ = stage[(g.OH-1)*g.lp+g.OW-1+g.maxOff+k.lanes-1]
	n := (g.OH-1)*g.lp + g.OW
	// Whether a group's outputs go rtDWGroupedOuts at a time, as one run
	// each into the staged outputs (their last vectors end within the
	// slack), the rows then copied out. That took RegNetY-400MF's grouped
	// convs (8 channels and filters a group) 1.2-1.8 times less time
	// than one output at a time on every map size from 56x56 to 7x7,
	// stride 1 and 2, with AVX-512 and AVX2 (BenchmarkDWGrouped, Zen 4).
	grouped := k.grouped != nil && g.K >= rtDWGroupedOuts
	if grouped {
		_ = out[(rtDWGroupedOuts-1)*ld+n-1+k.lanes-1]
	}
	vecs := func(n int) int { return (n + k.lanes - 1) / k.lanes }
	// A run of n computes garbage columns and takes a copy: worth it if
	// it saves a quarter of the vectors (7x7 maps and the like).
	flat := g.OW < k.minCols || 4*vecs(n) < 3*g.OH*vecs(g.OW)
	kact, slope, hi := rtVecAct(act), act.A, act.B
	// A kernel that shares input rows among output rows, where they do:
	// its rows go rtDWTallRows at a time, the rest to conv.
	var tall rtDWTall
	if g.DH == 1 && g.CG == 1 && g.SH <= 2 && g.OH >= rtDWTallRows && g.OW >= k.minCols {
		h0, h1 := g.KH, 0
		if g.SH == 2 {
			h0, h1 = (g.KH+1)/2, g.KH/2
		}
		if h0 < len(k.tall) {
			tall = k.tall[h0][h1]
		}
	}
	tallRows := g.OH / rtDWTallRows * rtDWTallRows
	// Every group's staging writes the same values of stage: the padding
	// and the slack stay zero.
	clear(stage)
	for c := c0; c < c1; c++ {
		for ci := range g.CG {
			x := (c*g.CG + ci) * hw
			rtDWStage(stage[ci*g.chans:], src[x:x+hw], g, k)
		}
		o := c * g.K
		for ; grouped && o+rtDWGroupedOuts <= (c+1)*g.K; o += rtDWGroupedOuts {
			b := rtDWZeros[:]
			if bias != nil {
				b = bias[o : o+rtDWGroupedOuts]
			}
			wo := w[o*T : (o+rtDWGroupedOuts)*T]
			if k.packW {
				rtDWPackW(packed, wo, T)
				wo = packed
			}
			k.grouped(out, ld, stage, wo, T, g.offs, n, kact, b, slope, hi)
			for j := range rtDWGroupedOuts {
				d := dst[(o+j)*ohw : (o+j+1)*ohw]
				rtDWGather(d, out[j*ld:], g.OH, g.OW, g.OW, g.lp, 1, k)
				if kact == 0 && act.Kind != rtActNone {
					rtActivateAll(d, act)
				}
			}
		}
		for ; o < (c+1)*g.K; o++ {
			var b float32
			if bias != nil {
				b = bias[o]
			}
			d := dst[o*ohw : (o+1)*ohw]
			wo := w[o*T : (o+1)*T]
			switch {
			case g.lp == g.OW && ohw >= k.minCols:
				k.conv(d, stage, wo, g.offs, 1, ohw, 0, 0, kact, b, slope, hi)
			case flat:
				k.conv(out, stage, wo, g.offs, 1, n, 0, 0, kact, b, slope, hi)
				rtDWGather(d, out, g.OH, g.OW, g.OW, g.lp, 1, k)
			case tall != nil:
				tall(d, stage, wo, g.offs[:min(g.SH, g.KH)*g.KW], g.KW, g.SH*g.KW, tallRows, g.OW, g.OW, g.lp, kact, b, slope, hi)
				if r := tallRows; r < g.OH {
					k.conv(d[r*g.OW:], stage[r*g.lp:], wo, g.offs, g.OH-r, g.OW, g.OW, g.lp, kact, b, slope, hi)
				}
			default:
				k.conv(d, stage, wo, g.offs, g.OH, g.OW, g.OW, g.lp, kact, b, slope, hi)
			}
			if kact == 0 && act.Kind != rtActNone {
				rtActivateAll(d, act)
			}
		}
	}
}

// rtDepthwiseLanes is rtDepthwise over k.lanes channels at a time, side
// by side (the last set may have fewer): the channels' inputs are
// transposed into the staged layout (k.toLanes at g.pos; the padding
// stays zero), convolved there, every lane an output (k.lanesConv, its
// weights packed a tap's lanes together, zero for lanes past the last
// channel), and the outputs transposed back (k.fromLanes). scratch has
// rtDWLanesScratch(g) values.
func rtDepthwiseLanes(dst, src, w, bias []float32, g *rtDWGeom, c0, c1 int, scratch []float32, act rtAct, k *rtDWKernels) {
	L := k.lanes
	T := g.KH * g.KW
	ohw, hw := g.OH*g.OW, g.H*g.W
	// Every vector the kernels load and store is then whole in a cache
	// line.
	scratch = scratch[-int(uintptr(unsafe.Pointer(unsafe.SliceData(scratch)))/4)&15:]
	stage := scratch[:L*(g.chans+1)]
	out := scratch[len(stage) : len(stage)+L*ohw]
	wp := scratch[len(stage)+len(out):][:L*T]
	b := scratch[len(stage)+len(out)+len(wp):][:L] // the set's biases
	offs := g.offs16
	if L == 8 {
		offs = g.offs8
	}
	// The conv's reach: the last output's farthest tap.
	_ = stage[L*((g.OH-1)*g.lp+g.OW-1+g.maxOff)+L-1]
	kact, slope, hi := rtVecAct(act), act.A, act.B
	clear(stage)
	clear(b)
	for c := c0; c < c1; c += L {
		n := min(L, c1-c)
		_ = src[(c+n)*hw-1]
		_ = dst[(c+n)*ohw-1]
		k.toLanes(stage, src[c*hw:], g.pos, hw, hw, n)
		if n < L {
			clear(wp)
			clear(b)
		}
		for j := range n {
			for t, v := range w[(c+j)*T : (c+j+1)*T] {
				wp[t*L+j] = v
			}
		}
		if bias != nil {
			copy(b[:n], bias[c:c+n])
		}
		k.lanesConv(out, stage, wp, offs, g.OH, g.OW*L, g.OW*L, g.lp*L, kact, b, slope, hi)
		if kact == 0 && act.Kind != rtActNone {
			rtActivateAll(out, act)
		}
		k.fromLanes(dst[c*ohw:], out, ohw, ohw, n)
	}
}

// rtDWStage writes one channel's input x ([H][W]) into dst as g's phase
// planes of the padded input (see rtDWGeom): g.stage's gathers. It writes
// the same values of dst for every channel and leaves the others, the
// padding, as they are.
func rtDWStage(dst, x []float32, g *rtDWGeom, k *rtDWKernels) {
	for _, p := range g.stage {
		rtDWGather(dst[p.dst:], x[p.src:], p.rows, p.n, g.lp, g.SH*g.W, g.SW, k)
	}
}

// rtDWGather sets d[r*ldD+j] = s[r*ldS+j*step] for r < rows, j < n, with
// k's kernels for steps 1 and 2.
func rtDWGather(d, s []float32, rows, n, ldD, ldS, step int, k *rtDWKernels) {
	// The kernels' reach, checked here so that they cannot stray.
	_ = d[(rows-1)*ldD+n-1]
	_ = s[(rows-1)*ldS+(n-1)*step]
	switch {
	case step == 1 && k.rows != nil:
		k.rows(d, s, rows, n, ldD, ldS)
	case step == 2 && k.evens != nil:
		k.evens(d, s, rows, n, ldD, ldS)
	default:
		for r := range rows {
			dr := d[r*ldD : r*ldD+n]
			sr := s[r*ldS:]
			for j := range dr {
				dr[j] = sr[j*step]
			}
		}
	}
}

// rtDepthwiseGo is rtDepthwise in Go: each output row is the bias plus,
// for each of its taps' input rows, that row's taps (rtDWRowGo), then the
// activation.
func rtDepthwiseGo(dst, src, w, bias []float32, g *rtDWGeom, c0, c1 int, act rtAct) {
	T := g.KH * g.KW
	ohw, hw := g.OH*g.OW, g.H*g.W
	for c := c0; c < c1; c++ {
		for o := c * g.K; o < (c+1)*g.K; o++ {
			var b float32
			if bias != nil {
				b = bias[o]
			}
			d := dst[o*ohw : (o+1)*ohw]
			for oy := range g.OH {
				row := d[oy*g.OW : (oy+1)*g.OW]
				for i := range row {
					row[i] = b
				}
				// The group's channels in turn, their taps in order.
				for ci := range g.CG {
					x := src[(c*g.CG+ci)*hw : (c*g.CG+ci+1)*hw]
					wo := w[(o*g.CG+ci)*T : (o*g.CG+ci+1)*T]
					if iy := oy*g.SH - g.PT; g.KH == 3 && g.KW == 3 && (g.SW == 1 || g.DW == 1) && iy >= 0 && iy+2*g.DH < g.H {
						// A 3x3 window wholly inside: its three rows at once.
						r0 := x[iy*g.W : (iy+1)*g.W]
						r1 := x[(iy+g.DH)*g.W : (iy+g.DH+1)*g.W]
						r2 := x[(iy+2*g.DH)*g.W : (iy+2*g.DH+1)*g.W]
						rtDW3x3Go(row, r0, r1, r2, wo, g)
						continue
					}
					for ky := range g.KH {
						iy := oy*g.SH - g.PT + ky*g.DH
						if iy < 0 || iy >= g.H {
							continue
						}
						rtDWRowGo(row, x[iy*g.W:(iy+1)*g.W], wo[ky*g.KW:(ky+1)*g.KW], g)
					}
				}
				rtActivateAll(row, act)
			}
		}
	}
}

// rtDW3x3Go sets an output row, holding the bias, of a 3x3 window whose
// rows r0, r1 and r2 are inside the input, all nine taps in one pass.
func rtDW3x3Go(row, r0, r1, r2, w []float32, g *rtDWGeom) {
	w = w[:9]
	// The border columns, row by row.
	for i, r := range [3][]float32{r0, r1, r2} {
		wr := w[3*i : 3*i+3]
		for ox := range g.oxLo {
			row[ox] += rtDWTap(r, wr, ox*g.SW-g.PL, g.DW)
		}
		for ox := g.oxHi; ox < len(row); ox++ {
			row[ox] += rtDWTap(r, wr, ox*g.SW-g.PL, g.DW)
		}
	}
	if g.oxLo >= g.oxHi {
		return
	}
	d := row[g.oxLo:g.oxHi]
	x0, sw := g.oxLo*g.SW-g.PL, g.SW
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	if sw == 1 {
		// Stride 1, any dilation: each tap's inputs are a slice as long as
		// d, so that no index needs a bounds check.
		n, dw := len(d), g.DW
		a0, a1, a2 := r0[x0:][:n], r0[x0+dw:][:n], r0[x0+2*dw:][:n]
		b0, b1, b2 := r1[x0:][:n], r1[x0+dw:][:n], r1[x0+2*dw:][:n]
		c0, c1, c2 := r2[x0:][:n], r2[x0+dw:][:n], r2[x0+2*dw:][:n]
		for i := range d {
			d[i] += w0*a0[i] + w1*a1[i] + w2*a2[i] + w3*b0[i] + w4*b1[i] + w5*b2[i] + w6*c0[i] + w7*c1[i] + w8*c2[i]
		}
		return
	}
	// Dilation 1 (the caller checked): each output's taps in one slice.
	s0, s1, s2 := r0[x0:], r1[x0:], r2[x0:]
	for i := range d {
		x := i * sw
		t0 := s0[x : x+3 : x+3]
		t1 := s1[x : x+3 : x+3]
		t2 := s2[x : x+3 : x+3]
		d[i] += w0*t0[0] + w1*t0[1] + w2*t0[2] + w3*t1[0] + w4*t1[1] + w5*t1[2] + w6*t2[0] + w7*t2[1] + w8*t2[2]
	}
}

// rtDWTap is the sum of taps wr, dw apart from input column ix on, over
// input row x, leaving out those outside it.
func rtDWTap(x, wr []float32, ix, dw int) float32 {
	var v float32
	for kx, wv := range wr {
		if i := ix + kx*dw; i >= 0 && i < len(x) {
			v += wv * x[i]
		}
	}
	return v
}

// rtDWRowGo adds to an output row one kernel row's taps wr over input row
// x. The interior columns take no bounds logic: their taps' slice is cut
// once per output, and 3, 5 and 7 taps are unrolled, so that the weights
// stay in registers. The few border columns check each tap.
func rtDWRowGo(row, x, wr []float32, g *rtDWGeom) {
	for ox := range g.oxLo {
		row[ox] += rtDWTap(x, wr, ox*g.SW-g.PL, g.DW)
	}
	for ox := g.oxHi; ox < len(row); ox++ {
		row[ox] += rtDWTap(x, wr, ox*g.SW-g.PL, g.DW)
	}
	if g.oxLo >= g.oxHi {
		return
	}
	d := row[g.oxLo:g.oxHi]
	s := x[g.oxLo*g.SW-g.PL:]
	sw := g.SW
	if g.DW != 1 {
		for kx, wv := range wr {
			t := s[kx*g.DW:]
			for i := range d {
				d[i] += wv * t[i*sw]
			}
		}
		return
	}
	switch len(wr) {
	case 3:
		w0, w1, w2 := wr[0], wr[1], wr[2]
		for i := range d {
			t := s[i*sw : i*sw+3 : i*sw+3]
			d[i] += w0*t[0] + w1*t[1] + w2*t[2]
		}
	case 5:
		w0, w1, w2, w3, w4 := wr[0], wr[1], wr[2], wr[3], wr[4]
		for i := range d {
			t := s[i*sw : i*sw+5 : i*sw+5]
			d[i] += w0*t[0] + w1*t[1] + w2*t[2] + w3*t[3] + w4*t[4]
		}
	case 7:
		w0, w1, w2, w3, w4, w5, w6 := wr[0], wr[1], wr[2], wr[3], wr[4], wr[5], wr[6]
		for i := range d {
			t := s[i*sw : i*sw+7 : i*sw+7]
			d[i] += w0*t[0] + w1*t[1] + w2*t[2] + w3*t[3] + w4*t[4] + w5*t[5] + w6*t[6]
		}
	default:
		for i := range d {
			t := s[i*sw : i*sw+len(wr)]
			v := d[i]
			for kx, wv := range wr {
				v += wv * t[kx]
			}
			d[i] = v
		}
	}
}
