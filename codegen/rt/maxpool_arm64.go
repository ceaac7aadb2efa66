//go:build arm64 && !purego

package rt

// rtMaxPoolRowFor returns implementation impl's NEON row kernel of 3-wide
// max pooling at stride 1 or 2 (asmgen/vec's vecMaxPool3s1NEON and
// vecMaxPool3s2NEON), or nil.
func rtMaxPoolRowFor(impl int) rtMaxPoolRow {
	if impl == rtImplNEON {
		return rtMaxPoolRowNEON
	}
	return nil
}

func rtMaxPoolRowNEON(dst, src []float32, n, rows, ld, sw int) int {
	n = rtPoolWholeVectors(src, n, rows, ld, sw, 4)
	if n <= 0 {
		return 0
	}
	if sw == 1 {
		vecMaxPool3s1NEON(&dst[0], &src[0], n, rows, ld)
	} else {
		vecMaxPool3s2NEON(&dst[0], &src[0], n, rows, ld)
	}
	return n
}
