//go:build amd64 && !purego

package rt

// rtIm2colRowFor returns implementation impl's SIMD im2col row kernel
// (asmgen/vec's vecIm2colRow), or nil.
func rtIm2colRowFor(impl int) rtIm2colRow {
	switch impl {
	case rtImplAVX512:
		return rtIm2colRowAVX512
	case rtImplAVX2:
		return rtIm2colRowAVX2
	}
	return nil
}

func rtIm2colRowAVX512(d, s []float32, cols, nr, ow, ox0, sw, rowStep int) {
	// rtIm2col has checked the reach of d and s.
	vecIm2colRowAVX512(&d[0], &s[0], cols, nr, ow, ox0, sw, rowStep)
}

func rtIm2colRowAVX2(d, s []float32, cols, nr, ow, ox0, sw, rowStep int) {
	// rtIm2col has checked the reach of d and s.
	vecIm2colRowAVX2(&d[0], &s[0], cols, nr, ow, ox0, sw, rowStep)
}
