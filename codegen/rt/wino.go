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

// rtWinoInput computes V = B^T d B for input channels [c0, c1) (counted
// over all groups) of every image and tile of src ([B][C][H][W]) and stores
// it as the GEMMs' B operand: v holds 16*G matrices of K×NPad values,
// (ξ, group) at index ξ*G+group, each in panels of nr columns (column n of
// row k at n/nr*K*nr + k*nr + n%nr). Columns from N to NPad are zeroed:
// the kernels read whole panels, and although what they read there only
// reaches columns they do not store, stale values could be denormals or
// NaNs that slow the arithmetic down. Each plane is first copied with its padding into
// scratch ((2*TH+2)*(2*TW+2) values), so every tile is a plain 4x4 read.
func rtWinoInput(v, src []float32, g *rtWinoGeom, c0, c1, nr int, scratch []float32) {
	hp, wp := 2*g.TH+2, 2*g.TW+2
	pad := scratch[:hp*wp]
	step := g.G * g.ldV // from ξ to ξ+1
	for c := c0; c < c1; c++ {
		grp, k := c/g.K, c%g.K
		// Column n of matrix (0, grp) is at pan + col.
		pan, col := grp*g.ldV+k*nr, 0
		for img := range g.B {
			rtPadPlanes(pad, src[img*g.inImg+c*g.H*g.W:], 0, 1, g.H, g.W, g.PT, g.PL, hp, wp)
			for ty := range g.TH {
				rows := pad[ty*2*wp : ty*2*wp+4*wp]
				for tx := range g.TW {
					r0 := rows[tx*2 : tx*2+4]
					r1 := rows[wp+tx*2 : wp+tx*2+4]
					r2 := rows[2*wp+tx*2 : 2*wp+tx*2+4]
					r3 := rows[3*wp+tx*2 : 3*wp+tx*2+4]
					// Columns, then rows, of B^T d B.
					var e [4][4]float32
					for j := range 4 {
						e[0][j] = r0[j] - r2[j]
						e[1][j] = r1[j] + r2[j]
						e[2][j] = r2[j] - r1[j]
						e[3][j] = r1[j] - r3[j]
					}
					o := v[pan+col : pan+col+15*step+1]
					for i := range 4 {
						r := e[i]
						b := 4 * i * step
						o[b] = r[0] - r[2]
						o[b+step] = r[1] + r[2]
						o[b+2*step] = r[2] - r[1]
						o[b+3*step] = r[1] - r[3]
					}
					if col++; col == nr {
						col, pan = 0, pan+g.K*nr
					}
				}
			}
		}
		for n := g.N; n < g.NPad; n++ {
			for xi := range 16 {
				v[xi*step+pan+col] = 0
			}
			if col++; col == nr {
				col, pan = 0, pan+g.K*nr
			}
		}
	}
}

// rtWinoOutput computes Y = A^T m A for filters [o0, o1) (over all groups)
// and every image and tile from the 16 GEMM results mm (16*G matrices of
// M×N values, (ξ, group) at index ξ*G+group), adds the bias, applies the
// activation and writes the 2x2 blocks, clipped at the edges, into dst
// ([B][G*M][OH][OW]).
func rtWinoOutput(dst, mm []float32, bias []float32, g *rtWinoGeom, o0, o1 int) {
	step := g.G * g.ldM // from ξ to ξ+1
	for o := o0; o < o1; o++ {
		grp, oo := o/g.M, o%g.M
		b := bias[o]
		src := mm[grp*g.ldM+oo*g.N:]
		n := 0
		for img := range g.B {
			out := dst[img*g.outIm+o*g.OH*g.OW : img*g.outIm+(o+1)*g.OH*g.OW]
			for ty := range g.TH {
				for tx := range g.TW {
					var m [16]float32
					for xi := range 16 {
						m[xi] = src[xi*step+n]
					}
					n++
					// Rows then columns of A^T m A.
					var r [2][4]float32
					for j := range 4 {
						r[0][j] = m[j] + m[4+j] + m[8+j]
						r[1][j] = m[4+j] - m[8+j] - m[12+j]
					}
					y0, x0 := ty*2, tx*2
					for i := range 2 {
						if y0+i >= g.OH {
							break
						}
						row := out[(y0+i)*g.OW:]
						row[x0] = rtActivate(r[i][0]+r[i][1]+r[i][2]+b, g.Act, g.Slope)
						if x0+1 < g.OW {
							row[x0+1] = rtActivate(r[i][1]-r[i][2]-r[i][3]+b, g.Act, g.Slope)
						}
					}
				}
			}
		}
	}
}
