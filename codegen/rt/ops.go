package rt

import "math"

func rtSigmoid(v float32) float32 { return 1 / (1 + rtExp(-v)) }

// rtExp is e^x in float32, within 2 ulp: x = n·ln 2 + r with |r| ≤ ln 2/2,
// e^r by Cephes' degree-6 polynomial, times 2^n put into the exponent. It
// is several times faster than math.Exp in float64, which sigmoid and SiLU
// spent most of their time in. Outside [-87, 88] (where 2^n would leave the
// normal range), and for NaN, it falls back to math.Exp.
func rtExp(x float32) float32 {
	if !(x > -87 && x < 88) {
		return float32(math.Exp(float64(x)))
	}
	// n = round(x·log2 e) without a branch: adding 1.5·2^23 leaves the
	// integer part in the mantissa's low bits, rounded to nearest.
	const magic = 12582912
	n := (x*1.44269504088896341 + magic) - magic
	r := x - n*0.693359375 + n*2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func rtTanh(v float32) float32 { return float32(math.Tanh(float64(v))) }

// rtPoolGeom describes a pooling layer over one image.
type rtPoolGeom struct {
	C, H, W  int
	KH, KW   int
	SH, SW   int
	PT, PL   int // top and left padding (bottom and right equal them)
	OH, OW   int
	Max      bool
	CountPad bool // avg: padded zeros count in the divisor
}

// rtWindow is output o's pooling window along an axis of n inputs, k
// wide at stride s, padded by p at the start (and at the end as far as
// the last window reaches): its inputs [x0, x1), and its extent with the
// padding, which count_include_pad divides by.
func rtWindow(o, k, s, p, n int) (x0, x1, padded int) {
	xs := o*s - p
	xe := min(xs+k, n+p)
	return max(xs, 0), min(xe, n), xe - xs
}

// rowsOf and colsOf are output row oy's and column ox's windows
// (rtWindow).
func (g *rtPoolGeom) rowsOf(oy int) (y0, y1, padded int) { return rtWindow(oy, g.KH, g.SH, g.PT, g.H) }
func (g *rtPoolGeom) colsOf(ox int) (x0, x1, padded int) { return rtWindow(ox, g.KW, g.SW, g.PL, g.W) }

// div is an average's divisor for a window of h rows by w columns, ph by
// pw with the padding: the padded extent with CountPad, else the inputs.
func (g *rtPoolGeom) div(h, ph, w, pw int) int {
	if g.CountPad {
		return ph * pw
	}
	return h * w
}

// rtPoolKernels are an implementation's SIMD kernels of pooling rows
// (asmgen/vec's pooling kind); nil where it has none.
type rtPoolKernels struct {
	// max3 is 3-wide max pooling at stride 1 or 2.
	max3 rtMaxPoolRow
	// row is any window width at strides 1 to rowStrides, max or
	// average.
	row        rtPoolRow
	rowStrides int
}

// rtAnyStride is the rowStrides of kernels that take every stride (x86's
// gather strides above 2).
const rtAnyStride = 1 << 30

// rtMaxPoolRow is an implementation's SIMD kernel for an output row of a
// max pooling with 3-wide windows at stride sw, 1 or 2, whose columns are
// not clipped: it sets dst[i] to the largest of src[r*ld+sw·i+k] over r <
// rows and k < 3 (NaN if any is NaN) for the first outputs, at most n, and
// returns how many it did; the caller does the rest. It checks its reach
// against src's length.
type rtMaxPoolRow func(dst, src []float32, n, rows, ld, sw int) int

// rtPoolRow is rtMaxPoolRow for windows kw wide: with div 0 a max pooling,
// else an average: dst[i] = Σ_k Σ_r src[r*ld+sw·i+k] / div, each column
// summed over the rows first, as rtPoolRows sums in Go, so that the two
// give the same bits.
type rtPoolRow func(dst, src []float32, n, rows, ld, kw, sw int, div float32) int

// rtPoolWholeVectors is how many of n outputs a pooling row kernel of
// `lanes`-wide whole vectors (AVX2's, NEON's) does with windows kw wide at
// stride sw, 1 to maxSW: n rounded down to the vectors, less one vector
// where its loads would reach past src (they read every row to element
// sw·(n-1)+kw-1, the last window's end, and sw-1 further). It checks the
// reach, and returns 0 for a stride or width the kernels do not take.
func rtPoolWholeVectors(src []float32, n, rows, ld, kw, sw, lanes, maxSW int) int {
	if sw < 1 || sw > maxSW || kw < 1 || rows < 1 {
		return 0
	}
	reach := func(n int) int { return (rows-1)*ld + sw*(n-1) + kw - 1 + sw - 1 }
	n -= n % lanes
	if n > 0 && reach(n) >= len(src) {
		n -= lanes
	}
	if n > 0 {
		_ = src[reach(n)]
	}
	return n
}

// rtPoolRows pools output rows [oy0, oy1) of channels [c0, c1) of one
// image into dst, [C][OH][OW], then applies the activation. src holds input
// rows [row0, row0+rows) of every channel, [C][rows][W]: the whole image, or
// the rows these outputs need. Windows are clipped as PyTorch clips them
// (see docs/spec.md). kern, if not nil, has the SIMD kernels of rows of
// unclipped windows at stride 1 or 2.
func rtPoolRows(dst, src []float32, g *rtPoolGeom, row0, rows, c0, c1, oy0, oy1 int, act rtAct, kern *rtPoolKernels) {
	if kern != nil && g.W+g.PL >= g.KW {
		if max3 := kern.max3; g.Max && g.KW == 3 && g.SW <= 2 && max3 != nil {
			rtPoolRowsSIMD(dst, src, g, row0, rows, c0, c1, oy0, oy1, act, func(o, win []float32, n, rows, div int) int {
				return max3(o, win, n, rows, g.W, g.SW)
			})
			return
		}
		if row := kern.row; row != nil && g.SW <= kern.rowStrides {
			rtPoolRowsSIMD(dst, src, g, row0, rows, c0, c1, oy0, oy1, act, func(o, win []float32, n, rows, div int) int {
				return row(o, win, n, rows, g.W, g.KW, g.SW, float32(div))
			})
			return
		}
	}
	// Each output row reduces its window's input rows into one row (max or
	// sum), then slides the horizontal window along it: contiguous loops,
	// and KH+KW instead of KH*KW operations per output. A max pooling's
	// row is padded with -Inf on both sides, so that no window is clipped.
	var buf [512]float32
	// pr is the right padding the last window reaches.
	pr := max(0, (g.OW-1)*g.SW-g.PL+g.KW-g.W)
	if g.W+g.PL+pr > len(buf) {
		rtPoolRowsWide(dst, src, g, row0, rows, c0, c1, oy0, oy1, act)
		return
	}
	negInf := float32(math.Inf(-1))
	padded := buf[:g.PL+g.W+pr]
	acc := padded[g.PL : g.PL+g.W]
	if g.Max {
		for i := range g.PL {
			padded[i] = negInf
		}
		for i := g.PL + g.W; i < len(padded); i++ {
			padded[i] = negInf
		}
	}
	for c := c0; c < c1; c++ {
		base := (c*rows - row0) * g.W // src[base+y*W+x] is element (y, x)
		out := dst[c*g.OH*g.OW : (c+1)*g.OH*g.OW]
		for oy := oy0; oy < oy1; oy++ {
			y0, y1, ph := g.rowsOf(oy)
			o := out[oy*g.OW : (oy+1)*g.OW]
			copy(acc, src[base+y0*g.W:base+(y0+1)*g.W])
			for y := y0 + 1; y < y1; y++ {
				row := src[base+y*g.W : base+(y+1)*g.W]
				if g.Max {
					// The builtin max is branch-free and, like PyTorch,
					// returns NaN if either operand is NaN.
					row = row[:len(acc)]
					for x, e := range row {
						acc[x] = max(acc[x], e)
					}
				} else {
					for x, e := range row {
						acc[x] += e
					}
				}
			}
			if g.Max {
				// Windows of the padded row: none is clipped.
				if g.KW == 3 {
					for ox := range o {
						w := padded[ox*g.SW : ox*g.SW+3 : ox*g.SW+3]
						o[ox] = max(w[0], w[1], w[2])
					}
				} else {
					for ox := range o {
						v := negInf
						for _, e := range padded[ox*g.SW : ox*g.SW+g.KW] {
							v = max(v, e)
						}
						o[ox] = v
					}
				}
				if act.Kind != rtActNone {
					rtActivateAll(o, act)
				}
				continue
			}
			for ox := range o {
				x0, x1, pw := g.colsOf(ox)
				var v float32
				for _, e := range acc[x0:x1] {
					v += e
				}
				o[ox] = rtActivate(v/float32(g.div(y1-y0, ph, x1-x0, pw)), act)
			}
		}
	}
}

// rtPoolRowsSIMD is rtPoolRows with a SIMD kernel, kern: for each output
// row it computes the windows inside the row [lo, hi) with kern (given the
// window's rows and an average's divisor, 0 for max pooling) and the rest, clipped at either
// end or left by kern, in Go, in the same order of operations.
func rtPoolRowsSIMD(dst, src []float32, g *rtPoolGeom, row0, rows, c0, c1, oy0, oy1 int, act rtAct,
	kern func(o, win []float32, n, rows, div int) int) {
	// Outputs [lo, hi) have windows inside the row: SW·ox-PL >= 0 and
	// SW·ox-PL+KW <= W.
	lo, hi := rtInside(g.W, g.OW, g.KW, g.SW, g.PL)
	for c := c0; c < c1; c++ {
		base := (c*rows - row0) * g.W // src[base+y*W+x] is element (y, x)
		out := dst[c*g.OH*g.OW : (c+1)*g.OH*g.OW]
		for oy := oy0; oy < oy1; oy++ {
			y0, y1, ph := g.rowsOf(oy)
			o := out[oy*g.OW : (oy+1)*g.OW]
			win := src[base+y0*g.W : base+y1*g.W]
			div := 0 // an average's divisor; 0 for max pooling
			if !g.Max {
				div = g.div(y1-y0, ph, g.KW, g.KW)
			}
			done := lo
			if hi > lo {
				done += kern(o[lo:hi], win[g.SW*lo-g.PL:], hi-lo, y1-y0, div)
			}
			// The windows the kernel left: clipped at the row's start,
			// and at its end or past what it took.
			clipped := func(ox int) {
				x0, x1, pw := g.colsOf(ox)
				if g.Max {
					v := float32(math.Inf(-1))
					for y := range y1 - y0 {
						for _, e := range win[y*g.W+x0 : y*g.W+x1] {
							v = max(v, e)
						}
					}
					o[ox] = v
					return
				}
				var v float32
				for x := x0; x < x1; x++ {
					col := win[x]
					for y := 1; y < y1-y0; y++ {
						col += win[y*g.W+x]
					}
					v += col
				}
				o[ox] = v / float32(g.div(y1-y0, ph, x1-x0, pw))
			}
			for ox := range lo {
				clipped(ox)
			}
			for ox := done; ox < g.OW; ox++ {
				clipped(ox)
			}
			if act.Kind != rtActNone {
				rtActivateAll(o, act)
			}
		}
	}
}

// rtPoolRowsWide is rtPoolRows for rows wider than its buffer: window by window.
func rtPoolRowsWide(dst, src []float32, g *rtPoolGeom, row0, rows, c0, c1, oy0, oy1 int, act rtAct) {
	for c := c0; c < c1; c++ {
		base := (c*rows - row0) * g.W // src[base+y*W+x] is element (y, x)
		out := dst[c*g.OH*g.OW : (c+1)*g.OH*g.OW]
		for oy := oy0; oy < oy1; oy++ {
			y0, y1, ph := g.rowsOf(oy)
			for ox := range g.OW {
				x0, x1, pw := g.colsOf(ox)
				var v float32
				if g.Max {
					v = float32(math.Inf(-1))
					for y := y0; y < y1; y++ {
						for _, e := range src[base+y*g.W+x0 : base+y*g.W+x1] {
							if e > v || e != e {
								v = e
							}
						}
					}
				} else {
					var s float32
					for y := y0; y < y1; y++ {
						for _, e := range src[base+y*g.W+x0 : base+y*g.W+x1] {
							s += e
						}
					}
					v = s / float32(g.div(y1-y0, ph, x1-x0, pw))
				}
				out[oy*g.OW+ox] = rtActivate(v, act)
			}
		}
	}
}

// rtPoolChannels pools channels [c0, c1) of one image: src is its input,
// [C][H][W], dst its output, [C][OH][OW]. With SIMD kernels, scratch for
// one channel's vertical pass (OH*W floats), and a geometry that lets one
// of rtPoolPlanes' passes go flat, it goes by rtPoolPlanes, else by
// rtPoolRows: two passes a row each (3x3/2 on an odd width) make twice
// the kernel calls of rtPoolRows' one. Both give the same bits.
func rtPoolChannels(dst, src []float32, g *rtPoolGeom, c0, c1 int, act rtAct, kern *rtPoolKernels, scratch []float32) {
	flat := g.SH == 1 && g.OH == g.H || g.W == g.SW*g.OW
	if flat && kern != nil && kern.row != nil && g.SW <= kern.rowStrides && g.OH*g.W <= len(scratch) {
		rtPoolPlanes(dst, src, g, c0, c1, act, kern, scratch)
		return
	}
	rtPoolRows(dst, src, g, 0, g.H, c0, c1, 0, g.OH, act, kern)
}

// rtPoolPlanes pools channels [c0, c1) in two separable passes over as many
// channels as scratch holds: a vertical one reduces each output row's
// window of input rows into scratch, [c][OH][W], and a horizontal one the
// window's columns of that into dst. Each pass is as few kernel calls as
// the geometry allows, over the flattened rows of all the channels (per
// row only where a stride makes the rows' offsets uneven), and windows
// clipped at a plane's edge, or straddling two rows in a flat call, are
// redone one by one. rtPoolRows instead makes a kernel call, and finishes
// clipped windows in Go, per output row: most of the time of a 3x3 pooling
// of a 14x14 map. The order of operations is rtPoolRows': each column over
// the window's rows, then the columns; so averages are the same bits.
func rtPoolPlanes(dst, src []float32, g *rtPoolGeom, c0, c1 int, act rtAct, kern *rtPoolKernels, scratch []float32) {
	H, W, OH, OW := g.H, g.W, g.OH, g.OW
	plane := OH * W
	nb := len(scratch) / plane
	// Output rows [vlo, vhi) and columns [lo, hi) have windows inside the
	// input plane.
	vlo, vhi := rtInside(H, OH, g.KH, g.SH, g.PT)
	lo, hi := rtInside(W, OW, g.KW, g.SW, g.PL)
	div := float32(0) // an unclipped window's divisor; 0 for max pooling
	if !g.Max {
		div = float32(g.KH * g.KW)
	}
	// height is output row oy's window height for an average's divisor.
	height := func(oy int) int {
		y0, y1, ph := g.rowsOf(oy)
		return g.div(y1-y0, ph, 1, 1)
	}
	// cols is dst[i] = the pooling of a window of rows of the columns in
	// t (kw wide at stride sw) for i < n, with divisor d: by the kernel,
	// and what it leaves in Go.
	cols := func(dst, t []float32, n, rows, ld, kw, sw int, d float32) {
		done := 0
		if g.Max && kw == 3 && sw <= 2 && kern.max3 != nil {
			done = kern.max3(dst, t, n, rows, ld, sw)
		} else {
			done = kern.row(dst, t, n, rows, ld, kw, sw, d)
		}
		for i := done; i < n; i++ {
			v := float32(math.Inf(-1))
			if !g.Max {
				v = 0
			}
			for k := range kw {
				c := t[sw*i+k]
				for r := 1; r < rows; r++ {
					if g.Max {
						c = max(c, t[r*ld+sw*i+k])
					} else {
						c += t[r*ld+sw*i+k]
					}
				}
				if g.Max {
					v = max(v, c)
				} else {
					v += c
				}
			}
			if !g.Max {
				v /= d
			}
			dst[i] = v
		}
	}
	sumOrMax := float32(1) // the vertical pass's divisor: sums stay sums
	if g.Max {
		sumOrMax = 0
	}
	for ca := c0; ca < c1; ca += nb {
		cb := min(ca+nb, c1)
		rows := (cb - ca) * OH // output rows of this block
		t := scratch[:rows*W]
		in := src[ca*H*W : cb*H*W]
		out := dst[ca*OH*OW : cb*OH*OW]
		// The vertical pass: t's row (c, oy) reduces input rows
		// [y0, y1) of channel c.
		vrow := func(c, oy int) {
			y0, y1, _ := g.rowsOf(oy)
			cols(t[(c*OH+oy)*W:][:W], in[(c*H+y0)*W:], W, y1-y0, W, 1, 1, sumOrMax)
		}
		if g.SH == 1 && OH == H && vhi > vlo {
			// Flat: t's row R = c*OH+oy takes input rows R-PT to
			// R-PT+KH-1 for all the block's rows but the first PT and
			// the last KH-1-PT, and for every channel's rows
			// [vlo, vhi) that is right.
			n := rows - g.KH + 1
			cols(t[g.PT*W:], in, n*W, g.KH, W, 1, 1, sumOrMax)
			for c := range cb - ca {
				for oy := range vlo {
					vrow(c, oy)
				}
				for oy := vhi; oy < OH; oy++ {
					vrow(c, oy)
				}
			}
		} else {
			for c := range cb - ca {
				for oy := range OH {
					vrow(c, oy)
				}
			}
		}
		// The horizontal pass: out's row R reduces t's row R over each
		// output's window of columns. redo computes row R's outputs
		// [a, b), whose windows are inside the row, with their rows'
		// divisor.
		redo := func(R, a, b int) {
			if b > a {
				d := div
				if !g.Max {
					d = float32(height(R%OH) * g.KW)
				}
				cols(out[R*OW+a:R*OW+b], t[R*W+g.SW*a-g.PL:(R+1)*W], b-a, 1, 0, g.KW, g.SW, d)
			}
		}
		if W == g.SW*OW && hi > lo {
			// Flat: output j = R*OW+ox takes t[SW*j-PL:][:KW]. Windows
			// clipped at a row's ends, done again below, read the next
			// row.
			j0, j1 := lo, (rows-1)*OW+hi
			cols(out[j0:j1], t[g.SW*j0-g.PL:], j1-j0, 1, 0, g.KW, g.SW, div)
			if !g.Max {
				for c := range cb - ca {
					for oy := range OH {
						if height(oy) != g.KH {
							redo(c*OH+oy, lo, hi)
						}
					}
				}
			}
		} else {
			for R := range rows {
				redo(R, lo, hi)
			}
		}
		// The windows clipped at a row's start or end: the same columns
		// of every row.
		for ox := 0; ox < OW; ox++ {
			if ox == lo {
				if ox = hi; ox >= OW {
					break
				}
			}
			x0, x1, pw := g.colsOf(ox)
			if g.Max {
				o := out[ox:]
				switch x1 - x0 {
				case 1:
					for R := range rows {
						o[R*OW] = t[R*W+x0]
					}
				case 2: // 3x3 windows with padding 1, or ceil's last
					for R := range rows {
						tr := t[R*W+x0 : R*W+x0+2]
						o[R*OW] = max(tr[0], tr[1])
					}
				default:
					for R := range rows {
						tr := t[R*W+x0 : R*W+x1]
						v := tr[0]
						for _, e := range tr[1:] {
							v = max(v, e)
						}
						o[R*OW] = v
					}
				}
				continue
			}
			for R := range rows {
				var v float32
				for _, e := range t[R*W+x0 : R*W+x1] {
					v += e
				}
				y0, y1, ph := g.rowsOf(R % OH)
				out[R*OW+ox] = v / float32(g.div(y1-y0, ph, x1-x0, pw))
			}
		}
		if act.Kind != rtActNone {
			rtActivateAll(out, act)
		}
	}
}

// rtInside is which of out windows k wide at stride s, over n elements
// padded by p at the start, lie inside the n: [lo, hi), lo <= hi.
func rtInside(n, out, k, s, p int) (lo, hi int) {
	lo = min(out, (p+s-1)/s)
	if n+p < k {
		return lo, lo
	}
	return lo, max(lo, min(out, (n+p-k)/s+1))
}

// rtLRNGeom is a local response normalisation across channels.
type rtLRNGeom struct {
	C, HW int // channels and pixels per channel
	Size  int
	Alpha float32 // already divided by Size
	Beta  float32
	K     float32
}

// rtLRN normalises n pixels of every channel: src and dst point at the
// first pixel of channel 0, and channel c's pixels start at c*srcStride and
// c*dstStride. With AlexNet's beta (0.75) a SIMD kernel, if the
// implementation has one, does all but the last few pixels; the rest is
// rtLRNGo. tmp needs (C+1)*n values. dst must not overlap src (the kernels
// read channels that earlier ones have written; LRN is never planned in place).
func rtLRN(dst []float32, dstStride int, src []float32, srcStride, n int, g *rtLRNGeom, tmp []float32, kern rtLRNKernel) {
	done := 0
	if kern != nil && g.Beta == 0.75 && n > 0 {
		// The kernel's reach, checked here so that it cannot stray.
		_ = dst[(g.C-1)*dstStride+n-1]
		_ = src[(g.C-1)*srcStride+n-1]
		done = kern(dst, src, n, g.C, dstStride, srcStride, g.Size/2, (g.Size-1)/2, g.K, g.Alpha)
	}
	if done < n {
		rtLRNGo(dst[done:], dstStride, src[done:], srcStride, n-done, g, tmp)
	}
}

// rtLRNKernel is an implementation's SIMD LRN for beta 0.75 (see rtLRN and
// the assembly's Go equivalent): it does the first pixels, a multiple of
// its vector width, and returns how many.
type rtLRNKernel func(dst, src []float32, n, c, dstStride, srcStride, before, after int, k, alpha float32) int

// rtLRNGo is the portable LRN. It works a channel plane at a time, so every
// loop is contiguous: the squares of the C planes go into tmp, then each
// output plane sums the Size planes of its window.
func rtLRNGo(dst []float32, dstStride int, src []float32, srcStride, n int, g *rtLRNGeom, tmp []float32) {
	sq := tmp[:g.C*n]
	sum := tmp[g.C*n : (g.C+1)*n]
	for c := range g.C {
		x := src[c*srcStride : c*srcStride+n]
		q := sq[c*n : (c+1)*n]
		for i, v := range x {
			q[i] = v * v
		}
	}
	before, after := g.Size/2, (g.Size-1)/2
	for c := range g.C {
		lo, hi := max(c-before, 0), min(c+after, g.C-1)
		copy(sum, sq[lo*n:(lo+1)*n])
		for cc := lo + 1; cc <= hi; cc++ {
			q := sq[cc*n : (cc+1)*n]
			for i, v := range q {
				sum[i] += v
			}
		}
		x := src[c*srcStride : c*srcStride+n]
		d := dst[c*dstStride : c*dstStride+n]
		if g.Beta == 0.75 {
			// t^-0.75 as two square roots and a division, like the kernels.
			for i, v := range x {
				r := math.Sqrt(float64(g.K + g.Alpha*sum[i]))
				d[i] = v / float32(r*math.Sqrt(r))
			}
			continue
		}
		for i, v := range x {
			d[i] = v * float32(math.Pow(float64(g.K+g.Alpha*sum[i]), -float64(g.Beta)))
		}
	}
}

// rtLRNPoolRows computes output rows [oy0, oy1) of a max pooling whose input
// is the LRN of src ([C][H][W], one image): it normalises only the input
// rows those windows cover, into scratch, and pools from there, so the
// normalised image is never stored whole. scratch needs C*rows*W values for
// the rows covered, tmp (C+1)*rows*W.
func rtLRNPoolRows(dst, src []float32, l *rtLRNGeom, g *rtPoolGeom, oy0, oy1 int, scratch, tmp []float32, kern rtLRNKernel, pool *rtPoolKernels, act rtAct) {
	y0, _, _ := g.rowsOf(oy0)
	_, y1, _ := g.rowsOf(oy1 - 1)
	rows := y1 - y0
	rtLRN(scratch, rows*g.W, src[y0*g.W:], g.H*g.W, rows*g.W, l, tmp, kern)
	rtPoolRows(dst, scratch, g, y0, rows, 0, g.C, oy0, oy1, act, pool)
}

// rtSoftmax normalises each of the n vectors of length c (stride 1 when
// hw == 1, else the channels of one pixel, stride hw) in x in place.
func rtSoftmax(x []float32, c, hw int) {
	for p := range hw {
		m := float32(math.Inf(-1))
		for i := range c {
			m = max(m, x[i*hw+p])
		}
		var s float64
		for i := range c {
			e := math.Exp(float64(x[i*hw+p] - m))
			x[i*hw+p] = float32(e)
			s += e
		}
		inv := 1 / s
		for i := range c {
			x[i*hw+p] = float32(float64(x[i*hw+p]) * inv)
		}
	}
}

// rtFoldBN folds y = x*scale + shift (a batchnorm, see rtBNScaleShift) into
// a layer with len(b) output channels: w[o,...] *= scale[o] and
// b[o] = b[o]*scale[o] + shift[o]. b holds zeros if the layer has no bias.
func rtFoldBN(w, b, scale, shift []float32) {
	per := len(w) / len(b)
	for o := range b {
		sc := float64(scale[o])
		for i := o * per; i < (o+1)*per; i++ {
			w[i] = float32(float64(w[i]) * sc)
		}
		b[o] = float32(float64(b[o])*sc + float64(shift[o]))
	}
}

// rtBNScaleShift turns batchnorm statistics into per-channel scale and shift.
func rtBNScaleShift(gamma, beta, mean, variance []float32, eps float64) (scale, shift []float32) {
	scale = make([]float32, len(gamma))
	shift = make([]float32, len(gamma))
	for c := range gamma {
		sc := float64(gamma[c]) / math.Sqrt(float64(variance[c])+eps)
		scale[c] = float32(sc)
		shift[c] = float32(float64(beta[c]) - float64(mean[c])*sc)
	}
	return scale, shift
}

// rtPReLU is PReLU over one image of C planes of hw values: dst = x if
// x > 0, else slope[c]·x, with slope[0] for every channel when slope has
// one value. dst may be src.
func rtPReLU(dst, src, slope []float32, hw int) {
	for c := 0; c*hw < len(src); c++ {
		a := slope[min(c, len(slope)-1)]
		d := dst[c*hw : c*hw+hw]
		for i, v := range src[c*hw : c*hw+hw] {
			if !(v > 0) {
				v *= a
			}
			d[i] = v
		}
	}
}

// rtShuffle is ShuffleNet's channel shuffle over one image of c channels
// of hw values: dst[ch] = src[(ch mod groups)·c/groups + ⌊ch/groups⌋].
func rtShuffle(dst, src []float32, c, hw, groups int) {
	per := c / groups
	for ch := range c {
		from := (ch%groups)*per + ch/groups
		copy(dst[ch*hw:(ch+1)*hw], src[from*hw:(from+1)*hw])
	}
}
