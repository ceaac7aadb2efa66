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
//
// It walks the panel's columns one output row at a time: within a row,
// consecutive outputs read one input row at a fixed stride, so with stride
// 1 each segment is a single copy.
func rtIm2col(dst, src []float32, g *rtConvGeom, col0, nr int) {
	cols := min(nr, g.OH*g.OW-col0)
	kk := 0
	for c := range g.C {
		plane := src[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := range g.KH {
			for kx := range g.KW {
				d := dst[kk*nr : (kk+1)*nr]
				oy, ox := col0/g.OW, col0%g.OW
				for j := 0; j < cols; {
					seg := min(g.OW-ox, cols-j)
					out := d[j : j+seg]
					iy := oy*g.SH - g.PT + ky*g.DH
					ix := ox*g.SW - g.PL + kx*g.DW
					switch {
					case uint(iy) >= uint(g.H):
						clear(out)
					case g.SW == 1:
						// Outputs lo..hi-1 of the segment read inside the row.
						lo := min(max(-ix, 0), seg)
						hi := max(lo, min(seg, g.W-ix))
						clear(out[:lo])
						if hi > lo {
							copy(out[lo:hi], plane[iy*g.W+ix+lo:iy*g.W+ix+hi])
						}
						clear(out[hi:])
					default:
						row := plane[iy*g.W : (iy+1)*g.W]
						for t := range out {
							if x := ix + t*g.SW; uint(x) < uint(len(row)) {
								out[t] = row[x]
							} else {
								out[t] = 0
							}
						}
					}
					j += seg
					oy, ox = oy+1, 0
				}
				clear(d[cols:])
				kk++
			}
		}
	}
}
