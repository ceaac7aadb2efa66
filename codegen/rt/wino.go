package rt

import "math"

// Winograd's minimal filtering F(m×m, r×r) for r×r stride-1 convolutions:
// each m×m block of outputs is computed from an α×α block of the input, α
// = m+r-1, with α² multiplications per input channel instead of m²r². With
// the form's transforms B^T (α×α), G (α×r) and A^T (m×α), a convolution
// is: U = G g G^T per filter and channel (at load), V = B^T d B per
// channel and input tile, α² independent GEMMs M[ξ] = U[ξ] V[ξ] over the
// channels (the assembly micro-kernels), and Y = A^T m A per filter and
// tile. The GEMMs and the output transform are fused: one task computes an
// MR×NR block of all α² M[ξ] into its scratch and transforms it there
// (rtWinoOutTile), so that M is never stored whole.
//
// Every form, F2x3 (F(2x2, 3x3)), F4x3, F2x5, F3x5 and F4x5, runs from its
// matrices, which compiler/winograd derives by the Toom-Cook construction:
// the filter transform here, from G (rtWinoForm), and the input and output
// transforms as kernels asmgen/vec generates from B^T and A^T
// (rtWinoKernels.forms): SIMD assembly, or straight-line Go for the
// pure-Go builds and implementation (vecWinoInF4x3Go and the like, in the
// generated package's winogo.go). B^T and A^T are exact in float32 and G
// is applied in float64, so only the filter transform rounds once. F2x3's
// points 0, ±1 and ∞ give entries 0 and ±1 and halves: results within a
// few ulps of the direct algorithm's. The 6x6 forms F2x5 and F4x3 add ±2
// (coefficients up to 8 and 1/24): over 48 channels of random data one
// layer's error is up to about 1e-5 of its outputs' scale (numpy against
// float64), against about 1e-7 for the direct algorithm, ten times inside
// cnnc's 1e-4 tolerance. F4x5 adds ±1/2 on 8x8 tiles: 4 products per
// output against F2x5's 9 and the direct algorithm's 25, at about the same
// accuracy (4e-6 to 5e-6 of the outputs' scale).

// rtWinoGeom describes a Winograd convolution computed Imgs images at a
// time (the whole batch, or a group of it whose transformed input stays
// in cache). The generator writes every field, derived ones included (see
// winoGeom in codegen/layers.go).
type rtWinoGeom struct {
	R            int         // the filters' size, F.R
	O            int         // the output tiles' size, F.M
	F            *rtWinoForm // the form's matrices
	S            int         // the convolution's stride (1, or see rtWinoSpaceToDepth)
	KH, KW       int         // the convolution's filter size: R×R, or at most S*R for S > 1
	Imgs         int         // images per group
	C, H, W      int         // input channels (all groups, times S*S), input height and width
	PT, PL       int         // top and left padding
	G, K, M      int         // groups, input channels per group, filters per group
	OH, OW       int
	TH, TW       int // tiles: ceil(OH/O), ceil(OW/O)
	N, NPad      int // a group's GEMM columns: Imgs*TH*TW, and that rounded up to whole panels
	Act          rtAct
	ldV          int // distance between consecutive matrices of V: at least K*NPad
	inImg, outIm int // the input's and the output's images are this many elements apart (memory plan's ImgLen)
}

// points is the number of Winograd points of g: (O+R-1)², one GEMM each.
func (g *rtWinoGeom) points() int { return (g.O + g.R - 1) * (g.O + g.R - 1) }

// rtWinoFilters computes U = G g G^T for every filter o and channel c of
// w ([filters][K][R][R]) and packs, for each group and each panel of mr
// filters, that panel of every point's M×K matrix U[ξ] (rtPackRows):
// dst holds G*panels*points panels of mr*K values, (group, panel, ξ) at
// index (group*panels+panel)*points+ξ. A task of the fused GEMMs computes
// a run of panels for every point, so it reads one contiguous stream of
// filters, which the hardware prefetchers follow without restarting.
func rtWinoFilters(dst, w []float32, g *rtWinoGeom, mr int) {
	filters := g.G * g.M
	if g.S > 1 {
		w = rtWinoSpaceToDepth(w, filters, g.K/(g.S*g.S), g.KH, g.KW, g.S, g.R)
	}
	np := g.points()
	u := make([]float32, np*filters*g.K) // [ξ][filter][c]
	rtWinoTransformFilters(u, w, filters, g.K, g.F)
	panels := (g.M + mr - 1) / mr
	for grp := range g.G {
		for p := range panels {
			for xi := range np {
				rtPackRows(dst[((grp*panels+p)*np+xi)*mr*g.K:], u[xi*filters*g.K:(xi+1)*filters*g.K], grp*g.M+p*mr, min(mr, g.M-p*mr), g.K, mr)
			}
		}
	}
}

// rtWinoSpaceToDepth rearranges the filters w ([filters][C][KH][KW]) of a
// stride-S convolution into those ([filters][C*S*S][R][R]) of the stride-1
// convolution over the S×S space-to-depth of its (padded) input, which
// computes the same outputs: channel (c*S+dy)*S+dx of that input is
// x[c][S*Y+dy][S*X+dx], and its tap (ky, kx) is w[c][S*ky+dy][S*kx+dx], or
// zero past KH and KW. It is how an 11x11 stride-4 convolution (AlexNet's
// conv1) becomes a 3x3 stride-1 one, for Winograd F4x3.
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

// rtWinoZeros is the source of the copies that clear V's padding columns.
var rtWinoZeros [64]float32

// rtWinoSlack is the slack, in floats, that the transforms' SIMD kernels
// may read and write past the ends of their planes and rows.
const rtWinoSlack = 16

// rtWinoKernels are an implementation's Winograd kernels: forms[i] the
// transforms of the form whose rtWinoForm.Index is i (SIMD, or the Go
// ones), and copy, which copies rows rows of n elements, dst[r*ldDst+j] =
// src[r*ldSrc+j], for the input transform's scatter (nil: one copy per
// row). split[o], where not nil, is rtWinoSplit into o planes ps elements
// apart from dst (dst[q*ps+X] = row[o*X+q-pl], zero outside the row, for
// X < n), as one SIMD kernel that writes whole vectors: up to
// rtWinoSlack-2 elements past n in each plane (nil: rtWinoSplit). join[o]
// is the inverse for the output transform's o×o tiles, o rows ldS apart
// into one: dst[o*i+q] = src[q*ldS+i] for o*i+q < n, writing nothing else
// and reading up to rtWinoSlack-1 elements past a row's last (nil:
// rtWino4Scatter and the like).
type rtWinoKernels struct {
	forms []rtWinoFormKernels
	copy  func(dst, src []float32, rows, n, ldDst, ldSrc int)
	split [rtWinoMaxO + 1]func(dst []float32, ps, n int, row []float32, pl int)
	join  [rtWinoMaxO + 1]func(dst, src []float32, n, ldS int)
}

// rtWinoFormKernels are the transforms of one form. in is the input
// transform V = B^T d B of one row of tw tiles of a padded plane split by
// column modulo M into M planes ps apart: column x, row y of tile t's
// window is planes[(x%M)*ps + y*ld + t + x/M], and element ξ = α*i+j of
// tile t goes to dst[ξ*ldDst+t]. out is the output transform Y = A^T m A
// of n tiles of one filter: m[ξ*step+t] is element ξ of tile t, and
// y[k*ldY+t] gets Y's element k = M*dy+dx plus bias, clamped below at lo
// (NaN stays NaN). SIMD kernels may read and write up to rtWinoSlack
// elements past the ends of the rows.
type rtWinoFormKernels struct {
	in  func(dst, planes []float32, ps, tw, ld, ldDst int)
	out func(y, m []float32, n, step, ldY int, bias, lo float32)
}

// rtWinoPlane is the shape of the padded input plane of a Winograd layer
// with o×o output tiles, r×r filters and th×tw tiles, split by column
// modulo o (tiles step by o columns): o planes of hp rows of ld columns.
func rtWinoPlane(o, r, th, tw int) (hp, ld int) { return o*th + r - 1, tw + (r-2)/o + 1 }

// rtWinoInScratch is the per-worker scratch the input transform of a
// layer with o×o output tiles, r×r filters, stride s and th×tw tiles
// needs: the o planes of the split plane, the padded input rows they come
// from, and (o+r-1)² rows of tiles.
func rtWinoInScratch(o, r, s, th, tw int) int {
	hp, ld := rtWinoPlane(o, r, th, tw)
	plane := hp*ld + rtWinoSlack
	return o*plane + hp*o*s*ld + (o+r-1)*(o+r-1)*(th*tw+rtWinoSlack)
}

// rtWinoTileScratch is the per-worker scratch of one block of mr×nr GEMM
// results of a layer with o×o output tiles and r×r filters, and its output
// transform: (o+r-1)² blocks, slack, and rtWinoOutTile's o² rows.
func rtWinoTileScratch(o, r, mr, nr int) int {
	return (o+r-1)*(o+r-1)*mr*nr + rtWinoSlack + o*o*(nr+rtWinoSlack)
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
// padding, then split by column modulo O (even and odd columns for O = 2),
// into scratch (rtWinoInScratch), so that the transform runs along rows of
// tiles.
func rtWinoInput(v, src []float32, g *rtWinoGeom, c0, c1, img0, nr int, scratch []float32, k *rtWinoKernels) {
	O := g.O
	hp, ld := rtWinoPlane(O, g.R, g.TH, g.TW)
	plane := hp*ld + rtWinoSlack
	var planes [rtWinoMaxO][]float32
	for q := range O {
		planes[q] = scratch[q*plane : (q+1)*plane]
	}
	np := g.points()
	S := g.S
	OS := O * S // input columns from one plane column to the next
	// flat holds the hp input rows the plane reads, each with its padding
	// and OS*ld columns wide: flat[y*OS*ld + PL + X] = x[ci][S*y+dy-PT][X],
	// zero outside the input. Plane q's element u = y*ld+t is then
	// flat[OS*u + q*S + dx]: one strided gather for the whole plane, and
	// one flat for the S channels (dx) of a space-to-depth that share ci
	// and dy.
	wp := OS * ld
	flat := scratch[O*plane : O*plane+hp*wp]
	T, ldt := g.TH*g.TW, g.TH*g.TW+rtWinoSlack
	tmp := scratch[O*plane+hp*wp : O*plane+hp*wp+np*ldt]
	in := k.forms[g.F.Index].in
	step := g.G * g.ldV // from ξ to ξ+1
	for i := range g.Imgs {
		img := img0 + i
		have := -1 // the ci*S+dy whose rows flat holds
		for c := c0; c < c1; c++ {
			grp, kk := c/g.K, c%g.K
			base := grp*g.ldV + kk*nr // column 0 of row kk of matrix (0, grp)
			// Channel c is (ci*S+dy)*S+dx of the input's space-to-depth:
			// plane element (y, X) is x[ci][S*y+dy-PT][S*X+dx-PL] (S = 1:
			// dy = dx = 0).
			ci, dy, dx := c/(S*S), c/S%S, c%S
			if S == 1 {
				// Split the padded rows straight into the planes: one
				// pass, where flat and rtWinoGather take two.
				x := src[img*g.inImg+ci*g.H*g.W : img*g.inImg+(ci+1)*g.H*g.W]
				split := k.split[O]
				for y := range hp {
					if iy := y - g.PT; uint(iy) < uint(g.H) {
						if split != nil {
							// The kernel's reach, checked here: the last
							// plane's row and its vector's overhang,
							// which rows after it and the slack take.
							_ = scratch[y*ld+(O-1)*plane+ld+rtWinoSlack-2]
							split(scratch[y*ld:], plane, ld, x[iy*g.W:(iy+1)*g.W], g.PL)
						} else {
							rtWinoSplit(&planes, O, y*ld, ld, x[iy*g.W:(iy+1)*g.W], g.PL)
						}
					} else {
						for q := range O {
							clear(planes[q][y*ld : (y+1)*ld])
						}
					}
				}
			} else if c/S != have {
				have = c / S
				x := src[img*g.inImg+ci*g.H*g.W : img*g.inImg+(ci+1)*g.H*g.W]
				for y := range hp {
					fr := flat[y*wp : (y+1)*wp]
					if iy := S*y + dy - g.PT; uint(iy) < uint(g.H) {
						rtWinoPad(fr, x[iy*g.W:(iy+1)*g.W], g.PL)
					} else {
						clear(fr)
					}
				}
			}
			if S > 1 {
				rtWinoGather(&planes, O, S, hp*ld, flat[dx:])
			}
			for ty := range g.TH {
				in(tmp[ty*g.TW:], scratch[O*ty*ld:], plane, g.TW, ld, ldt)
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
	}
	for c := c0; c < c1; c++ {
		base := c/g.K*g.ldV + c%g.K*nr
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

// rtWinoPad fills dst with the input row's columns X-pl (X counting
// from dst's start), zero outside the row.
func rtWinoPad(dst, row []float32, pl int) {
	a, b := min(max(pl, 0), len(dst)), min(max(pl+len(row), 0), len(dst))
	if len(dst) <= 64 {
		// Short rows (small maps) by plain loops: copy and clear are
		// calls that cost more than the copying.
		for i := range dst {
			dst[i] = 0
		}
		if a < b {
			d, r := dst[a:b], row[a-pl:b-pl]
			for i := range d {
				d[i] = r[i]
			}
		}
		return
	}
	clear(dst[:a])
	if a < b {
		copy(dst[a:b], row[a-pl:b-pl])
	}
	clear(dst[b:])
}

// rtWinoSplit sets elements [at, at+ld) of the O planes to a row of the
// padded input split by column modulo O: planes[q][at+X] = row[O*X+q-pl],
// zero outside the row. The columns X whose O elements all lie in the row
// go without bounds checks, O = 2 and 4 unrolled.
func rtWinoSplit(planes *[rtWinoMaxO][]float32, O, at, ld int, row []float32, pl int) {
	// The whole groups are X in [x0, x1): O*X-pl >= 0 and O*X+O-1-pl <
	// len(row).
	x0 := 0
	if pl > 0 {
		x0 = min((pl+O-1)/O, ld)
	}
	x1 := x0
	if last := len(row) + pl - O; last >= 0 {
		x1 = max(min(last/O+1, ld), x0)
	}
	edge := func(X int) {
		for q := range O {
			v := float32(0)
			if c := O*X + q - pl; uint(c) < uint(len(row)) {
				v = row[c]
			}
			planes[q][at+X] = v
		}
	}
	for X := range x0 {
		edge(X)
	}
	for X := x1; X < ld; X++ {
		edge(X)
	}
	n := x1 - x0
	if n == 0 {
		return
	}
	src := row[O*x0-pl : O*x1-pl]
	switch O {
	case 2:
		p0, p1 := planes[0][at+x0:at+x1], planes[1][at+x0:at+x1]
		p1 = p1[:len(p0)]
		for i := range p0 {
			s := src[2*i : 2*i+2 : 2*i+2]
			p0[i], p1[i] = s[0], s[1]
		}
	case 4:
		p0, p1, p2, p3 := planes[0][at+x0:at+x1], planes[1][at+x0:at+x1], planes[2][at+x0:at+x1], planes[3][at+x0:at+x1]
		p1, p2, p3 = p1[:len(p0)], p2[:len(p0)], p3[:len(p0)]
		for i := range p0 {
			s := src[4*i : 4*i+4 : 4*i+4]
			p0[i], p1[i], p2[i], p3[i] = s[0], s[1], s[2], s[3]
		}
	default:
		for q := range O {
			p := planes[q][at+x0 : at+x1]
			for i := range p {
				p[i] = src[O*i+q]
			}
		}
	}
}

// rtWinoMaxO is the largest output tile size: the planes a plane splits into.
const rtWinoMaxO = 6

// rtWinoGather sets elements [0, n) of the O planes, planes[q][u] =
// src[O*S*u + q*S]: the split of a row (or of rows O*S*ld wide, whose
// planes are then ld wide) by column modulo O, every S-th column: the
// space-to-depth layers' (S > 1); stride 1 splits with rtWinoSplit or
// rtWinoKernels.split.
func rtWinoGather(planes *[rtWinoMaxO][]float32, O, S, n int, src []float32) {
	if O != 2 && O != 4 {
		src := src[:O*S*(n-1)+(O-1)*S+1]
		for q := range O {
			p := planes[q][:n]
			for i := range p {
				p[i] = src[O*S*i+q*S]
			}
		}
		return
	}
	if O == 2 {
		e, o := planes[0][:n], planes[1][:n]
		for i := range e {
			e[i], o[i] = src[2*S*i], src[2*S*i+S]
		}
		return
	}
	p0, p1, p2, p3 := planes[0][:n], planes[1][:n], planes[2][:n], planes[3][:n]
	for i := range p0 {
		s := src[4*S*i : 4*S*i+3*S+1]
		p0[i], p1[i], p2[i], p3[i] = s[0], s[S], s[2*S], s[3*S]
	}
}

// rtWinoOutTile computes Y = A^T m A for filters [o0, o0+rows) (over all
// groups) and GEMM columns (batch tiles) [n0, n0+cols) from one block of
// the GEMMs' results, s[ξ*step + r*ld + t] being element ξ of filter o0+r
// at column n0+t (s has whole vectors of slack after each row and after
// its end, which the kernels may read). It adds the bias, applies the
// activation and writes the O×O blocks, clipped at the edges, into dst
// ([B][G*M][OH][OW]). y is scratch of O*O*(ld+rtWinoSlack) values.
func rtWinoOutTile(dst, s, bias []float32, g *rtWinoGeom, o0, rows, ld, step, n0, cols int, y []float32, k *rtWinoKernels) {
	O := g.O
	ldY := ld + rtWinoSlack
	y = y[:O*O*ldY]
	out := k.forms[g.F.Index].out
	T := g.TH * g.TW
	// ReLU is the transform's clamp; other activations are applied after.
	lo, act := float32(math.Inf(-1)), g.Act
	if act.Kind == rtActReLU {
		lo, act = 0, rtAct{}
	}
	for r := range rows {
		o := o0 + r
		out(y, s[r*ld:], cols, step, ldY, bias[o], lo)
		if act.Kind != rtActNone {
			for q := range O * O {
				rtActivateAll(y[q*ldY:q*ldY+cols], act)
			}
		}
		if join := k.join[O]; join != nil {
			rtWinoJoinRows(dst[o*g.OH*g.OW:], y, ldY, g, n0, cols, join)
			continue
		}
		if O == 4 {
			rtWino4Scatter(dst[o*g.OH*g.OW:], y, ldY, g, n0, cols)
			continue
		}
		if O != 2 {
			rtWinoScatter(dst[o*g.OH*g.OW:], y, ldY, g, n0, cols)
			continue
		}
		// Walk the columns a run of tiles (within one row of tiles) at a time.
		for t := 0; t < cols; {
			n := n0 + t
			img, ty, tx := n/T, n%T/g.TW, n%g.TW
			run := min(g.TW-tx, cols-t)
			plane := dst[img*g.outIm+o*g.OH*g.OW : img*g.outIm+(o+1)*g.OH*g.OW]
			// Whole pairs, then the last column if OW is odd and this run
			// ends the row.
			pairs := run
			if tx+run == g.TW && g.OW%2 == 1 {
				pairs--
			}
			for dy := range min(2, g.OH-2*ty) {
				row := plane[(2*ty+dy)*g.OW : (2*ty+dy+1)*g.OW]
				ya, yb := y[2*dy*ldY+t:2*dy*ldY+t+run], y[(2*dy+1)*ldY+t:(2*dy+1)*ldY+t+run]
				if pairs < run {
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

// rtWinoJoinRows is rtWinoScatter with a join kernel (rtWinoKernels.join):
// a run of tiles along a row of tiles, clipped at the map's right edge,
// is one call per output row.
func rtWinoJoinRows(dst, y []float32, ldY int, g *rtWinoGeom, n0, cols int, join func(dst, src []float32, n, ldS int)) {
	T, O, OW := g.TH*g.TW, g.O, g.OW
	for t := 0; t < cols; {
		n := n0 + t
		img, ty, tx := n/T, n%T/g.TW, n%g.TW
		run := min(g.TW-tx, cols-t)
		w := min(O*run, OW-O*tx)
		for dy := range min(O, g.OH-O*ty) {
			at := img*g.outIm + (O*ty+dy)*OW + O*tx
			src := y[O*dy*ldY+t:]
			_ = src[(O-1)*ldY+(w+O-1)/O+rtWinoSlack-2] // the kernel's reach
			join(dst[at:at+w], src, w, ldY)
		}
		t += run
	}
}

// rtWino4Scatter writes the 4x4 blocks of tiles [n0, n0+cols) (counted
// over the batch) of one filter, y[(4*dy+dx)*ldY + t], into dst, which
// starts at the filter's plane of image 0. A tile at a time: the runs of
// tiles along a row are short on the small maps F4x3 computes.
func rtWino4Scatter(dst, y []float32, ldY int, g *rtWinoGeom, n0, cols int) {
	T, OW := g.TH*g.TW, g.OW
	img, ty, tx := n0/T, n0%T/g.TW, n0%g.TW
	for t := range cols {
		at := img*g.outIm + 4*ty*OW + 4*tx
		if 4*tx+4 <= OW && 4*ty+4 <= g.OH {
			d := dst[at : at+3*OW+4]
			d0, d1, d2, d3 := d[:4], d[OW:OW+4], d[2*OW:2*OW+4], d[3*OW:3*OW+4]
			yt := y[t : t+15*ldY+1]
			d0[0], d0[1], d0[2], d0[3] = yt[0], yt[ldY], yt[2*ldY], yt[3*ldY]
			d1[0], d1[1], d1[2], d1[3] = yt[4*ldY], yt[5*ldY], yt[6*ldY], yt[7*ldY]
			d2[0], d2[1], d2[2], d2[3] = yt[8*ldY], yt[9*ldY], yt[10*ldY], yt[11*ldY]
			d3[0], d3[1], d3[2], d3[3] = yt[12*ldY], yt[13*ldY], yt[14*ldY], yt[15*ldY]
		} else {
			for dy := range min(4, g.OH-4*ty) {
				for dx := range min(4, OW-4*tx) {
					dst[at+dy*OW+dx] = y[(4*dy+dx)*ldY+t]
				}
			}
		}
		if tx++; tx == g.TW {
			if tx, ty = 0, ty+1; ty == g.TH {
				ty, img = 0, img+1
			}
		}
	}
}

// rtWinoScatter writes the O×O blocks of tiles [n0, n0+cols) (counted
// over the batch) of one filter, y[(O*dy+dx)*ldY + t], into dst, which
// starts at the filter's plane of image 0, a tile at a time, clipped at
// the map's edges: rtWino4Scatter for any O.
func rtWinoScatter(dst, y []float32, ldY int, g *rtWinoGeom, n0, cols int) {
	T, O, OW := g.TH*g.TW, g.O, g.OW
	img, ty, tx := n0/T, n0%T/g.TW, n0%g.TW
	for t := range cols {
		at := img*g.outIm + O*ty*OW + O*tx
		h, w := min(O, g.OH-O*ty), min(O, OW-O*tx)
		for dy := range h {
			d := dst[at+dy*OW : at+dy*OW+w]
			for dx := range d {
				d[dx] = y[(O*dy+dx)*ldY+t]
			}
		}
		if tx++; tx == g.TW {
			if tx, ty = 0, ty+1; ty == g.TH {
				ty, img = 0, img+1
			}
		}
	}
}

// rtWinoForm is a Winograd form F(M×M, R×R), Alpha = M+R-1 ≤ 8: its
// filter transform G, which the generator writes out from
// compiler/winograd's Toom-Cook construction, and the index of its input
// and output transforms, generated from the same construction, in
// rtWinoKernels.forms.
type rtWinoForm struct {
	M, R, Alpha int
	Index       int       // the form's kernels in rtWinoKernels.forms
	G           []float64 // G, Alpha×R, rounded to float64
}

// rtWinoTransformFilters computes U = G k G^T of every filter and channel of w
// ([filters][K][R][R]) for form f into u ([α²][filters][K]), in float64 and
// rounded once.
func rtWinoTransformFilters(u, w []float32, filters, K int, f *rtWinoForm) {
	a, r := f.Alpha, f.R
	t := make([]float64, a*r) // G k
	for o := range filters {
		for c := range K {
			k := w[(o*K+c)*r*r : (o*K+c+1)*r*r]
			for i := range a {
				for j := range r {
					var s float64
					for l := range r {
						s += f.G[i*r+l] * float64(k[l*r+j])
					}
					t[i*r+j] = s
				}
			}
			for i := range a {
				for j := range a {
					var s float64
					for l := range r {
						s += t[i*r+l] * f.G[j*r+l]
					}
					u[((i*a+j)*filters+o)*K+c] = float32(s)
				}
			}
		}
	}
}
