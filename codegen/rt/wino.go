package rt

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
// tile. B and A have entries 0 and ±1 and G halves, so the transforms add
// little rounding: the results stay within a few ulps of the direct
// algorithm's.

// rtWinoGeom describes a Winograd convolution over a whole batch. The
// generator writes every field, derived ones included (see winoGeom in
// codegen/layers.go).
type rtWinoGeom struct {
	B, C, H, W   int // batch, input channels (all groups), input height and width
	PT, PL       int // top and left padding
	G, K, M      int // groups, input channels per group, filters per group
	OH, OW       int
	TH, TW       int // tiles: ceil(OH/2), ceil(OW/2)
	N, NPad      int // GEMM columns: B*TH*TW, and that rounded up to whole panels
	Act          int
	Slope        float32
	ldV, ldM     int // distance between consecutive matrices of V (at least K*NPad) and of M (M*N)
	inImg, outIm int // elements of one image of the input and of the output
}

// rtWinoFilters computes U = G g G^T for every filter o and channel c of
// w ([filters][K][3][3]) and packs, for each ξ of the 16 and each group, the
// M×K matrix U[ξ] into panels of mr rows (rtPackRows): dst holds 16*G
// matrices of panels*mr*K values, (ξ, group) at index ξ*G+group.
func rtWinoFilters(dst, w []float32, g *rtWinoGeom, mr int) {
	filters := g.G * g.M
	u := make([]float32, 16*filters*g.K) // [ξ][filter][c]
	for o := range filters {
		for c := range g.K {
			k := w[(o*g.K+c)*9 : (o*g.K+c)*9+9]
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
					u[((i*4+j)*filters+o)*g.K+c] = v
				}
			}
		}
	}
	panels := (g.M + mr - 1) / mr
	for xi := range 16 {
		for grp := range g.G {
			rtPackRows(dst[(xi*g.G+grp)*panels*mr*g.K:], u[xi*filters*g.K:(xi+1)*filters*g.K], grp*g.M, g.M, g.K, mr)
		}
	}
}

// rtWinoSlack is the slack, in floats, that the transforms' SIMD kernels
// may read and write past the ends of their planes and rows.
const rtWinoSlack = 16

// rtWinoKernels are an implementation's SIMD Winograd transforms, nil for
// the Go ones (rtWinoInGo, rtWinoOutGo, which define them).
type rtWinoKernels struct {
	in  func(dst, even, odd []float32, th, tw, ld, ldDst int)
	out func(y, m []float32, n, step, ldY int, bias float32)
}

// rtWinoScratch is the per-worker scratch the transforms of g need: the
// input transform's parity-split plane and 16 rows of tiles, or the output
// transform's 4 rows of N tiles.
func rtWinoScratch(th, tw, n int) int {
	plane := (2*th+2)*(tw+1) + rtWinoSlack
	return max(2*plane+16*(th*tw+rtWinoSlack), 4*(n+rtWinoSlack))
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
// plus bias.
func rtWinoOutGo(y, m []float32, n, step, ldY int, bias float32) {
	for t := range n {
		var r [2][4]float32
		for j := range 4 {
			a, b, c, d := m[j*step+t], m[(4+j)*step+t], m[(8+j)*step+t], m[(12+j)*step+t]
			r[0][j] = a + b + c
			r[1][j] = b - c - d
		}
		for dy := range 2 {
			y[(2*dy)*ldY+t] = r[dy][0] + r[dy][1] + r[dy][2] + bias
			y[(2*dy+1)*ldY+t] = r[dy][1] - r[dy][2] - r[dy][3] + bias
		}
	}
}

// rtWinoInput computes V = B^T d B for input channels [c0, c1) (counted
// over all groups) of every image and tile of src ([B][C][H][W]) and stores
// it as the GEMMs' B operand: v holds 16*G matrices of K×NPad values,
// (ξ, group) at index ξ*G+group, each in panels of nr columns (column n of
// row k at n/nr*K*nr + k*nr + n%nr). Columns from N to NPad are zeroed:
// the kernels read whole panels, and although what they read there only
// reaches columns they do not store, stale values could be denormals or
// NaNs that slow the arithmetic down. Each plane is first copied with its
// padding, split by column parity, into scratch (rtWinoScratch), so that
// the transform runs along rows of tiles.
func rtWinoInput(v, src []float32, g *rtWinoGeom, c0, c1, nr int, scratch []float32, k *rtWinoKernels) {
	hp, ld := 2*g.TH+2, g.TW+1
	plane := hp*ld + rtWinoSlack
	even, odd := scratch[:plane], scratch[plane:2*plane]
	T, ldt := g.TH*g.TW, g.TH*g.TW+rtWinoSlack
	tmp := scratch[2*plane : 2*plane+16*ldt]
	step := g.G * g.ldV // from ξ to ξ+1
	for c := c0; c < c1; c++ {
		grp, kk := c/g.K, c%g.K
		base := grp*g.ldV + kk*nr // column 0 of row kk of matrix (0, grp)
		for img := range g.B {
			x := src[img*g.inImg+c*g.H*g.W : img*g.inImg+(c+1)*g.H*g.W]
			for y := range hp {
				e, o := even[y*ld:y*ld+ld], odd[y*ld:y*ld+ld]
				iy := y - g.PT
				if uint(iy) >= uint(g.H) {
					clear(e)
					clear(o)
					continue
				}
				row := x[iy*g.W : iy*g.W+g.W]
				for t := range ld {
					e[t], o[t] = 0, 0
					if ix := 2*t - g.PL; uint(ix) < uint(g.W) {
						e[t] = row[ix]
					}
					if ix := 2*t + 1 - g.PL; uint(ix) < uint(g.W) {
						o[t] = row[ix]
					}
				}
			}
			if k.in != nil {
				k.in(tmp, even, odd, g.TH, g.TW, ld, ldt)
			} else {
				rtWinoInGo(tmp, even, odd, g.TH, g.TW, ld, ldt)
			}
			// Scatter the 16 rows of T tiles into the panels.
			for n0, t := img*T, 0; t < T; {
				col := n0 % nr
				at := base + n0/nr*g.K*nr + col
				seg := min(nr-col, T-t)
				for xi := range 16 {
					copy(v[xi*step+at:xi*step+at+seg], tmp[xi*ldt+t:xi*ldt+t+seg])
				}
				n0, t = n0+seg, t+seg
			}
		}
		for n := g.N; n < g.NPad; n++ {
			at := base + n/nr*g.K*nr + n%nr
			for xi := range 16 {
				v[xi*step+at] = 0
			}
		}
	}
}

// rtWinoOutput computes Y = A^T m A for filters [o0, o1) (over all groups)
// and every image and tile from the 16 GEMM results mm (16*G matrices of
// M×N values, (ξ, group) at index ξ*G+group; mm has rtWinoSlack values of
// slack after its end), adds the bias, applies the activation and writes
// the 2x2 blocks, clipped at the edges, into dst ([B][G*M][OH][OW]).
// scratch holds rtWinoScratch values.
func rtWinoOutput(dst, mm []float32, bias []float32, g *rtWinoGeom, o0, o1 int, scratch []float32, k *rtWinoKernels) {
	step := g.G * g.ldM // from ξ to ξ+1
	ldY := g.N + rtWinoSlack
	y := scratch[:4*ldY]
	for o := o0; o < o1; o++ {
		grp, oo := o/g.M, o%g.M
		m := mm[grp*g.ldM+oo*g.N:]
		if k.out != nil {
			k.out(y, m, g.N, step, ldY, bias[o])
		} else {
			rtWinoOutGo(y, m, g.N, step, ldY, bias[o])
		}
		n := 0
		for img := range g.B {
			out := dst[img*g.outIm+o*g.OH*g.OW : img*g.outIm+(o+1)*g.OH*g.OW]
			for ty := range g.TH {
				for dy := range min(2, g.OH-2*ty) {
					row := out[(2*ty+dy)*g.OW : (2*ty+dy+1)*g.OW]
					ya, yb := y[2*dy*ldY+n:2*dy*ldY+n+g.TW], y[(2*dy+1)*ldY+n:(2*dy+1)*ldY+n+g.TW]
					for tx := range g.TW {
						row[2*tx] = ya[tx]
						if 2*tx+1 < g.OW {
							row[2*tx+1] = yb[tx]
						}
					}
				}
				n += g.TW
			}
			if g.Act != rtActNone {
				rtActivateAll(out, g.Act, g.Slope)
			}
		}
	}
}
