package rt

// rtPackRows packs rows [row0, row0+rows) of a row-major matrix w with k
// columns into panels of mr rows: panel p holds, for each column kk, the mr
// values w[row0+p*mr+r][kk] contiguously. Rows past the end are zero, so
// the micro-kernel can always read whole panels. dst must hold
// ceil(rows/mr)*mr*k values. This is the layout of a GEMM's A operand:
// convolution filters (rows = output channels) and dense-layer inputs at
// batch > 1 (rows = images).
func rtPackRows(dst, w []float32, row0, rows, k, mr int) {
	panels := (rows + mr - 1) / mr
	for p := range panels {
		d := dst[p*mr*k : (p+1)*mr*k]
		for r := range mr {
			row := p*mr + r
			if row >= rows {
				for kk := range k {
					d[kk*mr+r] = 0
				}
				continue
			}
			src := w[(row0+row)*k : (row0+row+1)*k]
			for kk, v := range src {
				d[kk*mr+r] = v
			}
		}
	}
}

// rtPad returns v copied into a slice of length n, zero-padded.
func rtPad(v []float32, n int) []float32 {
	out := make([]float32, max(n, len(v)))
	copy(out, v)
	return out
}

// rtConvGeom describes a convolution's geometry for one group.
type rtConvGeom struct {
	C, H, W int // input channels of the group, input height and width
	KH, KW  int
	SH, SW  int
	DH, DW  int
	PT, PL  int // top and left padding
	OH, OW  int
}

// rtIm2col packs columns [col0, col0+nr) of the convolution's im2col matrix
// into a panel of nr values per row: dst[kk*nr+j] = the input element that
// output position col0+j meets at kernel offset kk = (c, ky, kx), or zero
// in the padding or past the last output position. src is one image's
// input channels for the group, [C][H][W].
func rtIm2col(dst, src []float32, g *rtConvGeom, col0, nr int) {
	n := g.OH * g.OW
	// Base input coordinates of each output column in the panel.
	var iy0, ix0 [256]int
	cols := min(nr, n-col0)
	for j := range cols {
		p := col0 + j
		iy0[j] = (p/g.OW)*g.SH - g.PT
		ix0[j] = (p%g.OW)*g.SW - g.PL
	}
	kk := 0
	for c := range g.C {
		plane := src[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := range g.KH {
			for kx := range g.KW {
				d := dst[kk*nr : (kk+1)*nr]
				dy, dx := ky*g.DH, kx*g.DW
				for j := range cols {
					y, x := iy0[j]+dy, ix0[j]+dx
					if uint(y) < uint(g.H) && uint(x) < uint(g.W) {
						d[j] = plane[y*g.W+x]
					} else {
						d[j] = 0
					}
				}
				for j := cols; j < nr; j++ {
					d[j] = 0
				}
				kk++
			}
		}
	}
}

// rtIm2colMaxNR bounds nr for rtIm2col.
const rtIm2colMaxNR = 256
