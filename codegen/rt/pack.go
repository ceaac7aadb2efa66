package rt

import (
	"runtime"
	"sync"
)

// rtPackRows packs rows [row0, row0+rows) of a row-major matrix w with k
// columns into panels of mr rows: panel p holds, for each column kk, the mr
// values w[row0+p*mr+r][kk] contiguously. Rows past the end are zero, so
// the micro-kernel can always read whole panels. dst must hold
// ceil(rows/mr)*mr*k values. This is the layout of a GEMM's A operand:
// convolution filters (rows = output channels) and dense-layer inputs at
// batch > 1 (rows = images).
func rtPackRows(dst, w []float32, row0, rows, k, mr int) {
	rtPackRowsLd(dst, w, row0, rows, k, k, mr)
}

// rtPackRowsLd is rtPackRows for rows ld elements apart (ld >= k): a dense
// layer's input images when they are windows on larger ones.
func rtPackRowsLd(dst, w []float32, row0, rows, k, ld, mr int) {
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
			src := w[(row0+row)*ld : (row0+row)*ld+k]
			for kk, v := range src {
				d[kk*mr+r] = v
			}
		}
	}
}

// rtPackWeights is rtPackRows for a layer's weights at load: a big matrix
// (AlexNet's fc6 is 151 MB) is split by panels over up to GOMAXPROCS
// goroutines, one per 1<<20 values at most, which halves the first load's
// packing on two cores. Inference never calls it: it starts goroutines.
func rtPackWeights(dst, w []float32, row0, rows, k, mr int) {
	panels := (rows + mr - 1) / mr
	workers := min(runtime.GOMAXPROCS(0), panels, rows*k>>20+1)
	if workers <= 1 {
		rtPackRows(dst, w, row0, rows, k, mr)
		return
	}
	var wg sync.WaitGroup
	for i := range workers {
		p0, p1 := i*panels/workers, (i+1)*panels/workers
		wg.Go(func() {
			rtPackRows(dst[p0*mr*k:p1*mr*k], w, row0+p0*mr, min(rows-p0*mr, (p1-p0)*mr), k, mr)
		})
	}
	wg.Wait()
}

// rtPad returns v copied into a slice of length n, zero-padded.
func rtPad(v []float32, n int) []float32 {
	out := make([]float32, max(n, len(v)))
	copy(out, v)
	return out
}

// rtConvGeom describes a convolution's geometry for one group.
type rtConvGeom struct {
	C, H, W int // input channels of the group, height and width of the padded input
	KH, KW  int
	SH, SW  int
	DH, DW  int
	OH, OW  int
}

// rtPadPlanes copies planes [c0, c1) of src ([C][H][W]) into dst
// ([C][H+pt+pb][W+pl+pr], zero borders), so that a convolution's im2col
// reads no padding and needs no bounds logic.
func rtPadPlanes(dst, src []float32, c0, c1, h, w, pt, pl, hp, wp int) {
	for c := c0; c < c1; c++ {
		d := dst[c*hp*wp : (c+1)*hp*wp]
		x := src[c*h*w : (c+1)*h*w]
		clear(d[:pt*wp])
		for y := range h {
			row := d[(pt+y)*wp : (pt+y+1)*wp]
			clear(row[:pl])
			copy(row[pl:pl+w], x[y*w:(y+1)*w])
			clear(row[pl+w:])
		}
		clear(d[(pt+h)*wp:])
	}
}

// rtIm2col packs columns [col0, col0+nr) of the convolution's im2col matrix
// into a panel of nr values per row: dst[kk*nr+j] = the input element that
// output position col0+j meets at kernel offset kk = (c, ky, kx), or zero
// past the last output position. src is one image's input channels for the
// group, [C][H][W], already padded (rtPadPlanes): g has no padding, and
// every window lies inside src.
//
// It walks the panel's columns one output row at a time: within a row,
// consecutive outputs read one input row at a fixed stride, so with stride
// 1 each segment is a single copy. An implementation's SIMD kernel, if
// given, writes each panel row.
func rtIm2col(dst, src []float32, g *rtConvGeom, col0, nr int, kern rtIm2colRow) {
	cols := min(nr, g.OH*g.OW-col0)
	oy0, ox0 := col0/g.OW, col0%g.OW
	if kern != nil {
		// The kernel's reach, checked here so that it cannot stray: the
		// panel's last value and the last column's element of the last
		// kernel offset.
		_ = dst[g.C*g.KH*g.KW*nr-1]
		oy, ox := (col0+cols-1)/g.OW, (col0+cols-1)%g.OW
		_ = src[(g.C-1)*g.H*g.W+(g.KH-1)*g.DH*g.W+(g.KW-1)*g.DW+oy*g.SH*g.W+ox*g.SW]
	}
	kk := 0
	for c := range g.C {
		plane := src[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := range g.KH {
			for kx := range g.KW {
				d := dst[kk*nr : (kk+1)*nr]
				kk++
				// Element (oy, ox) of this row of the matrix is
				// plane[oy*SH*W + ox*SW + off].
				off := ky*g.DH*g.W + kx*g.DW
				if kern != nil {
					kern(d, plane[oy0*g.SH*g.W+ox0*g.SW+off:], cols, nr, g.OW, ox0, g.SW, g.SH*g.W)
					continue
				}
				oy, ox := oy0, ox0
				for j := 0; j < cols; {
					seg := min(g.OW-ox, cols-j)
					at := oy*g.SH*g.W + ox*g.SW + off
					if g.SW == 1 {
						copy(d[j:j+seg], plane[at:at+seg])
					} else {
						row := plane[at : at+(seg-1)*g.SW+1]
						out := d[j : j+seg]
						for t := range out {
							out[t] = row[t*g.SW]
						}
					}
					j += seg
					oy, ox = oy+1, 0
				}
				clear(d[cols:])
			}
		}
	}
}

// rtIm2colRow is an implementation's SIMD kernel for one row of an im2col
// panel (see rtIm2col): d[j] for j < cols is the element of the j-th output
// position from (row 0, ox0) on, s[0] the first, positions sw and output
// rows rowStep elements apart; d[cols:nr] is zeroed. The caller has checked
// the reach of d and s.
type rtIm2colRow func(d, s []float32, cols, nr, ow, ox0, sw, rowStep int)

// rtScalePanels sets dst to a's filter panels (rtPackRows' layout, groups
// of panels mr-row panels of k columns each, one group after another) with
// column kk of group grp multiplied by s[grp·k/per + kk/per]: a conv's
// filters with input channel c scaled by s[c], per = KH·KW columns per
// channel. A multiply of the conv's input by a per-channel factor
// (squeeze-excite's) is folded into the filters this way, per image.
func rtScalePanels(dst, a, s []float32, groups, panels, mr, k, per int) {
	n := panels * mr * k
	for grp := range groups {
		sg := s[grp*(k/per) : (grp+1)*(k/per)]
		d, w := dst[grp*n:(grp+1)*n], a[grp*n:(grp+1)*n]
		for p := range panels {
			for kk := range k {
				f := sg[kk/per]
				at := (p*k + kk) * mr
				dr, wr := d[at:at+mr], w[at:at+mr]
				for r, v := range wr {
					dr[r] = v * f
				}
			}
		}
	}
}
