//go:build arm64 && !purego

package rt

// rtIm2colRowFor returns implementation impl's NEON im2col row kernel
// (asmgen/vec's vecIm2colRowNEON), or nil.
func rtIm2colRowFor(impl int) rtIm2colRow {
	if impl == rtImplNEON {
		return rtIm2colRowNEON
	}
	return nil
}

func rtIm2colRowNEON(d, s []float32, cols, nr, ow, ox0, sw, rowStep int) {
	// rtIm2col has checked the reach of d and s.
	vecIm2colRowNEON(&d[0], &s[0], cols, nr, ow, ox0, sw, rowStep)
}
