//go:build arm64 && !purego

package rt

// rtHasNEON reports whether the NEON kernels run: always, for Go's arm64
// port requires Advanced SIMD (ARMv8-A makes it mandatory; x/sys/cpu's
// ARM64.HasASIMD says the same where it can tell). The kernels use no
// optional feature (FP16, DOTPROD, BF16): one would go behind a check of
// cpu.ARM64 here, as AVX-512BW does on amd64.
const rtHasNEON = true

// available lists the implementations this CPU can run, fastest first.
func available() []int {
	if rtHasNEON {
		return []int{rtImplNEON, rtImplGo}
	}
	return []int{rtImplGo}
}

// plan lists the steps of one inference for m's implementation.
func (m *Model) plan() []rtStep {
	if m.impl == rtImplNEON {
		return m.planNEON()
	}
	return m.planGo()
}
