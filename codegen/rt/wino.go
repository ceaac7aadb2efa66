package rt

import "math"

// Winograd's minimal filtering F(2x2, 3x3) for 3x3 stride-1 convolutions:
// each 2x2 block of outputs is computed from a 4x4 block of the input with
// 16 multiplications per input channel instead of 36. With the transforms
//
//	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//	A^T = [1 1 1 0; 0 1 -1 -1]
//
// a convolution is: U = G g G^T per filter and channel (at load), V = B^T d
// B per channel and input tile, 16 independent GEMMs M[ξ] = U[ξ] V[ξ] over
// the channels (the assembly micro-kernels), and Y = A^T m A per filter and
// tile. The GEMMs and the output transform are fused: one task computes an
// MR×NR block of all 16 M[ξ] into its scratch and transforms it there
// (rtWinoOutTile), so that M is never stored whole. B and A have entries 0
// and ±1 and G halves, so the transforms add little rounding: the results
// stay within a few ulps of the direct algorithm's.
//
// F(2x2, 5x5) for 5x5 stride-1 convolutions works the same way on 6x6
// input tiles: 36 multiplications per channel and 2x2 outputs instead of
// 100, with the interpolation points 0, ±1, ±2 and ∞:
//
//	B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
//	       0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//	G   = [1/4 0 0 0 0; -1/6 -1/6 -1/6 -1/6 -1/6; -1/6 1/6 -1/6 1/6 -1/6;
//	       1/24 1/12 1/6 1/3 2/3; 1/24 -1/12 1/6 -1/3 2/3; 0 0 0 0 1]
//	A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1]
//
// Its larger coefficients cost accuracy: over 48 channels of random data
// one layer's error is up to about 1e-5 of its outputs' scale (measured
// with numpy against float64), against about 1e-7 for the direct
// algorithm, which is still ten times inside cnnc's 1e-4 tolerance.

// rtWinoGeom describes a Winograd convolution computed Imgs images at a
// time (the whole batch, or a group of it whose transformed input stays
// in cache). The generator writes every field, derived ones included (see
// winoGeom in codegen/layers.go).
type rtWinoGeom struct {
	R            int // the filters' size: 3 for F(2x2, 3x3), 5 for F(2x2, 5x5)
	S            int // the convolution's stride (1, or see rtWinoSpaceToDepth)
	KH, KW       int // the convolution's filter size: R×R, or at most S*R for S > 1
	Imgs         int // images per group
	C, H, W      int // input channels (all groups, times S*S), input height and width
	PT, PL       int // top and left padding
	G, K, M      int // groups, input channels per group, filters per group
	OH, OW       int
	TH, TW       int // tiles: ceil(OH/2), ceil(OW/2)
	N, NPad      int // a group's GEMM columns: Imgs*TH*TW, and that rounded up to whole panels
	Act          int
	Slope        float32
	ldV          int // distance between consecutive matrices of V: at least K*NPad
	inImg, outIm int // elements of one image of the input and of the output
}

// points is the number of Winograd points of g: (R+1)², one GEMM each.
func (g *rtWinoGeom) points() int { return (g.R + 1) * (g.R + 1) }

// rtWinoFilters computes U = G g G^T for every filter o and channel c of
// w ([filters][K][R][R]) and packs, for each ξ of the points and each
// group, the M×K matrix U[ξ] into panels of mr rows (rtPackRows): dst holds
// points*G matrices of panels*mr*K values, (ξ, group) at index ξ*G+group.
func rtWinoFilters(dst, w []float32, g *rtWinoGeom, mr int) {
	filters := g.G * g.M
	if g.S > 1 {
		w = rtWinoSpaceToDepth(w, filters, g.K/(g.S*g.S), g.KH, g.KW, g.S, g.R)
	}
	np := g.points()
	u := make([]float32, np*filters*g.K) // [ξ][filter][c]
	if g.R == 5 {
		rtWino5Filters(u, w, filters, g.K)
	} else {
		rtWino3Filters(u, w, filters, g.K)
	}
	panels := (g.M + mr - 1) / mr
	for xi := range np {
		for grp := range g.G {
			rtPackRows(dst[(xi*g.G+grp)*panels*mr*g.K:], u[xi*filters*g.K:(xi+1)*filters*g.K], grp*g.M, g.M, g.K, mr)
		}
	}
}

// rtWinoSpaceToDepth rearranges the filters w ([filters][C][KH][KW]) of a
// stride-S convolution into those ([filters][C*S*S][R][R]) of the stride-1
// convolution over the S×S space-to-depth of its (padded) input, which
// computes the same outputs: channel (c*S+dy)*S+dx of that input is
// x[c][S*Y+dy][S*X+dx], and its tap (ky, kx) is w[c][S*ky+dy][S*kx+dx], or
// zero past KH and KW. It is how an 11x11 stride-4 convolution (AlexNet's
// conv1) becomes a 3x3 stride-1 one, for Winograd F(2x2, 3x3).
func rtWinoSpaceToDepth(w []float32, filters, C, KH, KW, S, R int) []float32 {
	out := make([]float32, filters*C*S*S*R*R)
	for f := range filters {
		for c := range C {
			for dy := range S {
				for dx := range S {
					cc := (f*C+c)*S*S + dy*S + dx
					for ky := range R {
						for kx := range R {
							if y, x := S*ky+dy, S*kx+dx; y < KH && x < KW {
								out[(cc*R+ky)*R+kx] = w[((f*C+c)*KH+y)*KW+x]
							}
						}
					}
				}
			}
		}
	}
	return out
}

// rtWino3Filters computes F(2x2, 3x3)'s U = G k G^T of every filter and
// channel of w into u ([16][filters][K]).
func rtWino3Filters(u, w []float32, filters, K int) {
	for o := range filters {
		for c := range K {
			k := w[(o*K+c)*9 : (o*K+c)*9+9]
			// t = G k (4x3), then t G^T (4x4).
			var t [4][3]float32
			for j := range 3 {
				k0, k1, k2 := k[j], k[3+j], k[6+j]
				t[0][j] = k0
				t[1][j] = (k0 + k1 + k2) / 2
				t[2][j] = (k0 - k1 + k2) / 2
				t[3][j] = k2
			}
			for i := range 4 {
				r := t[i]
				for j, v := range [4]float32{r[0], (r[0] + r[1] + r[2]) / 2, (r[0] - r[1] + r[2]) / 2, r[2]} {
					u[((i*4+j)*filters+o)*K+c] = v
				}
			}
		}
	}
}

// rtWino5Filters computes F(2x2, 5x5)'s U = G k G^T of every filter and
// channel of w into u ([36][filters][K]), in float64 and rounded once.
func rtWino5Filters(u, w []float32, filters, K int) {
	gk := func(k0, k1, k2, k3, k4 float64) [6]float64 {
		return [6]float64{
			k0 / 4,
			-(k0 + k1 + k2 + k3 + k4) / 6,
			-(k0 - k1 + k2 - k3 + k4) / 6,
			(k0 + 2*k1 + 4*k2 + 8*k3 + 16*k4) / 24,
			(k0 - 2*k1 + 4*k2 - 8*k3 + 16*k4) / 24,
			k4,
		}
	}
	for o := range filters {
		for c := range K {
			k := w[(o*K+c)*25 : (o*K+c)*25+25]
			var t [6][5]float64 // G k
			for j := range 5 {
				col := gk(float64(k[j]), float64(k[5+j]), float64(k[10+j]), float64(k[15+j]), float64(k[20+j]))
				for i := range 6 {
					t[i][j] = col[i]
				}
			}
			for i := range 6 {
				r := t[i]
				for j, v := range gk(r[0], r[1], r[2], r[3], r[4]) {
					u[((i*6+j)*filters+o)*K+c] = float32(v)
				}
			}
		}
	}
}

// rtWinoZeros is the source of the copies that clear V's padding columns.
var rtWinoZeros [64]float32

// rtWinoSlack is the slack, in floats, that the transforms' SIMD kernels
// may read and write past the ends of their planes and rows.
const rtWinoSlack = 16

// rtWinoKernels are an implementation's SIMD Winograd transforms, nil for
// the Go ones (rtWinoInGo, rtWinoOutGo, rtWino5InGo and rtWino5OutGo, which
// define them): in and out for F(2x2, 3x3), in5 and out5 for F(2x2, 5x5).
// copy copies rows rows of n elements, dst[r*ldDst+j] = src[r*ldSrc+j],
// for the input transform's scatter (nil: one copy per row).
type rtWinoKernels struct {
	in, in5   func(dst, even, odd []float32, th, tw, ld, ldDst int)
	out, out5 func(y, m []float32, n, step, ldY int, bias, lo float32)
	copy      func(dst, src []float32, rows, n, ldDst, ldSrc int)
}

// rtWinoPlane is the shape of the parity-split padded plane of a Winograd
// layer with r×r filters and th×tw tiles: hp rows of ld even (and ld odd)
// columns.
func rtWinoPlane(r, th, tw int) (hp, ld int) { return 2*th + r - 1, tw + (r-1)/2 }

// rtWinoInScratch is the per-worker scratch the input transform of a
// layer with r×r filters and th×tw tiles needs: the parity-split plane and
// (r+1)² rows of tiles.
func rtWinoInScratch(r, th, tw int) int {
	hp, ld := rtWinoPlane(r, th, tw)
	plane := hp*ld + rtWinoSlack
	return 2*plane + (r+1)*(r+1)*(th*tw+rtWinoSlack)
}

// rtWinoTileScratch is the per-worker scratch of one block of mr×nr GEMM
// results of a layer with r×r filters and its output transform: (r+1)²
// blocks, slack, and rtWinoOutTile's 4 rows.
func rtWinoTileScratch(r, mr, nr int) int {
	return (r+1)*(r+1)*mr*nr + rtWinoSlack + 4*(nr+rtWinoSlack)
}

// rtWinoInGo is the input transform V = B^T d B of one padded plane split by
// column parity (even[y*ld+t] is column 2t of row y, odd[y*ld+t] column
// 2t+1): element ξ = 4i+j of tile t = ty*tw+tx goes to dst[ξ*ldDst+t].
func rtWinoInGo(dst, even, odd []float32, th, tw, ld, ldDst int) {
	for ty := range th {
		e, o := even[2*ty*ld:], odd[2*ty*ld:]
		for tx := range tw {
			// Rows 0..3 of the tile's columns 2tx, 2tx+1, 2tx+2, 2tx+3.
			var d [4][4]float32
			for r := range 4 {
				d[r] = [4]float32{e[r*ld+tx], o[r*ld+tx], e[r*ld+tx+1], o[r*ld+tx+1]}
			}
			var c [4][4]float32 // B^T d
			for j := range 4 {
				c[0][j] = d[0][j] - d[2][j]
				c[1][j] = d[1][j] + d[2][j]
				c[2][j] = d[2][j] - d[1][j]
				c[3][j] = d[1][j] - d[3][j]
			}
			t := ty*tw + tx
			for i := range 4 {
				r := c[i]
				dst[(4*i)*ldDst+t] = r[0] - r[2]
				dst[(4*i+1)*ldDst+t] = r[1] + r[2]
				dst[(4*i+2)*ldDst+t] = r[2] - r[1]
				dst[(4*i+3)*ldDst+t] = r[1] - r[3]
			}
		}
	}
}

// rtWinoOutGo is the output transform Y = A^T m A of n tiles of one filter:
// m[ξ*step+t] is element ξ of tile t; y[k*ldY+t] gets Y's element k = 2*dy+dx
// plus bias, clamped below at lo (NaN stays NaN).
func rtWinoOutGo(y, m []float32, n, step, ldY int, bias, lo float32) {
	for t := range n {
		var r [2][4]float32
		for j := range 4 {
			a, b, c, d := m[j*step+t], m[(4+j)*step+t], m[(8+j)*step+t], m[(12+j)*step+t]
			r[0][j] = a + b + c
			r[1][j] = b - c - d
		}
		for dy := range 2 {
			y[(2*dy)*ldY+t] = max(r[dy][0]+r[dy][1]+r[dy][2]+bias, lo)
			y[(2*dy+1)*ldY+t] = max(r[dy][1]-r[dy][2]-r[dy][3]+bias, lo)
		}
	}
}

// rtWino5InGo is F(2x2, 5x5)'s input transform V = B^T d B, as rtWinoInGo
// (element ξ = 6i+j of tile t goes to dst[ξ*ldDst+t]).
func rtWino5InGo(dst, even, odd []float32, th, tw, ld, ldDst int) {
	bt := func(d0, d1, d2, d3, d4, d5 float32) [6]float32 {
		a, b := d4-4*d2, d3-4*d1
		c, e := d4-d2, 2*(d3-d1)
		return [6]float32{a - d2 + 4*d0, a + b, a - b, c + e, c - e, d5 - b - 4*d3}
	}
	for ty := range th {
		e, o := even[2*ty*ld:], odd[2*ty*ld:]
		for tx := range tw {
			var c [6][6]float32 // B^T d: c[i][j] is row i of column j
			for j := range 6 {
				s, x := e, tx+j/2
				if j%2 == 1 {
					s = o
				}
				col := bt(s[x], s[ld+x], s[2*ld+x], s[3*ld+x], s[4*ld+x], s[5*ld+x])
				for i := range 6 {
					c[i][j] = col[i]
				}
			}
			t := ty*tw + tx
			for i := range 6 {
				r := c[i]
				for j, v := range bt(r[0], r[1], r[2], r[3], r[4], r[5]) {
					dst[(6*i+j)*ldDst+t] = v
				}
			}
		}
	}
}

// rtWino5OutGo is F(2x2, 5x5)'s output transform Y = A^T m A, as
// rtWinoOutGo (m[ξ*step+t] is element ξ = 6i+j of tile t).
func rtWino5OutGo(y, m []float32, n, step, ldY int, bias, lo float32) {
	for t := range n {
		var r [2][6]float32
		for j := range 6 {
			var v [6]float32
			for i := range 6 {
				v[i] = m[(6*i+j)*step+t]
			}
			r[0][j] = v[0] + v[1] + v[2] + v[3] + v[4]
			r[1][j] = v[1] - v[2] + 2*(v[3]-v[4]) + v[5]
		}
		for dy := range 2 {
			v := r[dy]
			y[(2*dy)*ldY+t] = max(v[0]+v[1]+v[2]+v[3]+v[4]+bias, lo)
			y[(2*dy+1)*ldY+t] = max(v[1]-v[2]+2*(v[3]-v[4])+v[5]+bias, lo)
		}
	}
}

// rtAt is x[i], or 0 outside x.
func rtAt(x []float32, i int) float32 {
	if uint(i) < uint(len(x)) {
		return x[i]
	}
	return 0
}

// rtWinoInput computes V = B^T d B for input channels [c0, c1) (counted
// over all groups) of every tile of images [img0, img0+Imgs) of src
// ([batch][C][H][W]) and stores it as the GEMMs' B operand (column
// (img-img0)*TH*TW + tile): v holds points*G matrices of K×NPad values,
// (ξ, group) at index ξ*G+group, each in panels of nr columns (column n of
// row k at n/nr*K*nr + k*nr + n%nr). Columns from N to NPad are zeroed:
// the kernels read whole panels, and although what they read there only
// reaches columns they do not store, stale values could be denormals or
// NaNs that slow the arithmetic down. Each plane is first copied with its
// padding, split by column parity, into scratch (rtWinoInScratch), so that
// the transform runs along rows of tiles.
func rtWinoInput(v, src []float32, g *rtWinoGeom, c0, c1, img0, nr int, scratch []float32, k *rtWinoKernels) {
	hp, ld := rtWinoPlane(g.R, g.TH, g.TW)
	plane := hp*ld + rtWinoSlack
	even, odd := scratch[:plane], scratch[plane:2*plane]
	np := g.points()
	T, ldt := g.TH*g.TW, g.TH*g.TW+rtWinoSlack
	tmp := scratch[2*plane : 2*plane+np*ldt]
	in, inGo := k.in, rtWinoInGo
	if g.R == 5 {
		in, inGo = k.in5, rtWino5InGo
	}
	S := g.S
	step := g.G * g.ldV // from ξ to ξ+1
	for c := c0; c < c1; c++ {
		grp, kk := c/g.K, c%g.K
		base := grp*g.ldV + kk*nr // column 0 of row kk of matrix (0, grp)
		// Channel c is (ci*S+dy)*S+dx of the input's space-to-depth: plane
		// element (y, X) is x[ci][S*y+dy-PT][S*X+dx-PL] (S = 1: dy = dx = 0).
		ci, dy, dx := c/(S*S), c/S%S, c%S
		// Both plane columns 2t and 2t+1 come from inside the row for t in
		// [lo, hi): there a plain strided copy; the edges are checked.
		lo, hi := min(ld, max(0, g.PL-dx+2*S-1)/(2*S)), 0
		if n := g.W - 1 - S - dx + g.PL; n >= 0 {
			hi = min(ld, n/(2*S)+1)
		}
		for i := range g.Imgs {
			img := img0 + i
			x := src[img*g.inImg+ci*g.H*g.W : img*g.inImg+(ci+1)*g.H*g.W]
			for y := range hp {
				e, o := even[y*ld:y*ld+ld], odd[y*ld:y*ld+ld]
				iy := S*y + dy - g.PT
				if uint(iy) >= uint(g.H) {
					clear(e)
					clear(o)
					continue
				}
				row := x[iy*g.W : iy*g.W+g.W]
				for t := range lo {
					e[t], o[t] = rtAt(row, 2*S*t+dx-g.PL), rtAt(row, 2*S*t+S+dx-g.PL)
				}
				if hi > lo {
					ei, oi := e[lo:hi], o[lo:hi]
					src := row[2*S*lo+dx-g.PL : 2*S*(hi-1)+S+dx-g.PL+1]
					if S == 1 {
						for i := range ei {
							ei[i], oi[i] = src[2*i], src[2*i+1]
						}
					} else {
						for i := range ei {
							ei[i], oi[i] = src[2*S*i], src[2*S*i+S]
						}
					}
				}
				for t := max(lo, hi); t < ld; t++ {
					e[t], o[t] = rtAt(row, 2*S*t+dx-g.PL), rtAt(row, 2*S*t+S+dx-g.PL)
				}
			}
			if in != nil {
				in(tmp, even, odd, g.TH, g.TW, ld, ldt)
			} else {
				inGo(tmp, even, odd, g.TH, g.TW, ld, ldt)
			}
			// Scatter the points' rows of T tiles into the panels.
			for n0, t := i*T, 0; t < T; {
				col := n0 % nr
				at := base + n0/nr*g.K*nr + col
				seg := min(nr-col, T-t)
				if k.copy != nil {
					// The kernel's reach, checked here.
					_, _ = v[at+(np-1)*step+seg-1], tmp[t+(np-1)*ldt+seg-1]
					k.copy(v[at:], tmp[t:], np, seg, step, ldt)
				} else {
					for xi := range np {
						copy(v[xi*step+at:xi*step+at+seg], tmp[xi*ldt+t:xi*ldt+t+seg])
					}
				}
				n0, t = n0+seg, t+seg
			}
		}
		for n := g.N; n < g.NPad; {
			col := n % nr
			seg := min(nr-col, g.NPad-n)
			at := base + n/nr*g.K*nr + col
			if k.copy != nil && seg <= len(rtWinoZeros) {
				// One call for every point: rows of zeros (source stride 0).
				_ = v[at+(np-1)*step+seg-1]
				k.copy(v[at:], rtWinoZeros[:], np, seg, step, 0)
			} else {
				for xi := range np {
					clear(v[xi*step+at : xi*step+at+seg])
				}
			}
			n += seg
		}
	}
}

// rtWinoOutTile computes Y = A^T m A for filters [o0, o0+rows) (over all
// groups) and GEMM columns (batch tiles) [n0, n0+cols) from one block of
// the GEMMs' results, s[ξ*step + r*ld + t] being element ξ of filter o0+r
// at column n0+t (s has whole vectors of slack after each row and after
// its end, which the kernels may read). It adds the bias, applies the
// activation and writes the 2x2 blocks, clipped at the edges, into dst
// ([B][G*M][OH][OW]). y is scratch of 4*(ld+rtWinoSlack) values.
func rtWinoOutTile(dst, s, bias []float32, g *rtWinoGeom, o0, rows, ld, step, n0, cols int, y []float32, k *rtWinoKernels) {
	ldY := ld + rtWinoSlack
	y = y[:4*ldY]
	out, outGo := k.out, rtWinoOutGo
	if g.R == 5 {
		out, outGo = k.out5, rtWino5OutGo
	}
	T := g.TH * g.TW
	// ReLU is the transform's clamp; other activations are applied after.
	lo, act := float32(math.Inf(-1)), g.Act
	if act == rtActReLU {
		lo, act = 0, rtActNone
	}
	for r := range rows {
		o := o0 + r
		if out != nil {
			out(y, s[r*ld:], cols, step, ldY, bias[o], lo)
		} else {
			outGo(y, s[r*ld:], cols, step, ldY, bias[o], lo)
		}
		if act != rtActNone {
			for q := range 4 {
				rtActivateAll(y[q*ldY:q*ldY+cols], g.Act, g.Slope)
			}
		}
		// Walk the columns a run of tiles (within one row of tiles) at a time.
		for t := 0; t < cols; {
			n := n0 + t
			img, ty, tx := n/T, n%T/g.TW, n%g.TW
			run := min(g.TW-tx, cols-t)
			plane := dst[img*g.outIm+o*g.OH*g.OW : img*g.outIm+(o+1)*g.OH*g.OW]
			for dy := range min(2, g.OH-2*ty) {
				row := plane[(2*ty+dy)*g.OW : (2*ty+dy+1)*g.OW]
				ya, yb := y[2*dy*ldY+t:2*dy*ldY+t+run], y[(2*dy+1)*ldY+t:(2*dy+1)*ldY+t+run]
				// Whole pairs, then the last column if OW is odd and this
				// run ends the row.
				pairs := run
				if tx+run == g.TW && g.OW%2 == 1 {
					pairs--
					row[2*(tx+pairs)] = ya[pairs]
				}
				out := row[2*tx : 2*(tx+pairs)]
				for i := range pairs {
					out[2*i], out[2*i+1] = ya[i], yb[i]
				}
			}
			t += run
		}
	}
}
