package vec

import (
	"fmt"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
)

// neonLRN writes vecLRNNEON, lrn's contract on NEON: LRN across channels
// with beta 0.75, four pixels at a time; n is a multiple of 4 (the caller
// does the rest). For each block of pixels i and each channel c,
//
//	s = Σ x[cc][i]² over cc in [max(c-before, 0), min(c+after, C-1)]
//	d[c][i] = x[c][i] / (r*sqrt(r)), r = sqrt(k + alpha*s)
//
// the window's squares summed afresh for every channel (no running sum
// that could cancel), k + alpha*s fused, and FSQRT and FDIV IEEE, as
// AVX2's VSQRTPS and VDIVPS. Each channel's row is prefetched
// lrnPrefetch bytes ahead, for the blocks to come.
func neonLRN(f *neonFile) {
	name := LRNName(gemm.NEON)
	fn := f.function(name, "func(d, x *float32, n, c, dstStride, srcStride, before, after int, k, alpha float32)",
		name+" computes LRN with beta 0.75 over n pixels (a multiple of 4) of c channels:",
		"d[ch*dstStride+i] = x[ch*srcStride+i] * (k + alpha*Σ x[cc*srcStride+i]²)^-0.75,",
		"cc over [max(ch-before, 0), min(ch+after, c-1)].")
	const (
		d, x, end, chans, dS, sS, before, after = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5), arm64.Reg(6), arm64.Reg(7)
		off, ch, dp, xp, lo, cnt, p, last       = arm64.Reg(8), arm64.Reg(9), arm64.Reg(10), arm64.Reg(11), arm64.Reg(12), arm64.Reg(13), arm64.Reg(14), arm64.Reg(15)
		acc, v, u, y, r, q, kv, alpha           = arm64.V(0), arm64.V(1), arm64.V(2), arm64.V(3), arm64.V(4), arm64.V(5), arm64.V(16), arm64.V(17)
	)
	fn.loadArgs(d, x, end, chans, dS, sS, before, after)
	fn.Op("LSL", "$2", end, end) // bytes
	fn.Op("LSL", "$2", dS, dS)
	fn.Op("LSL", "$2", sS, sS)
	fn.Op("SUB", "$1", chans, last)
	fn.Op("FMOVS", fn.arg("k"), kv.F())
	fn.Op("VDUP", kv.S(0), kv.S4())
	fn.Op("FMOVS", fn.arg("alpha"), alpha.F())
	fn.Op("VDUP", alpha.S(0), alpha.S4())
	fn.Op("MOVD", "ZR", off)

	fn.Label("block")
	fn.Op("CMP", end, off)
	fn.Op("BGE", "done")
	fn.Op("MOVD", "ZR", ch)
	fn.Op("ADD", off, d, dp)
	fn.Op("ADD", off, x, xp)

	fn.Label("channel")
	fn.Op("PRFM", fmt.Sprintf("%d(%v)", lrnPrefetch, xp), "PLDL1KEEP")
	// lo = max(ch-before, 0); cnt = min(ch+after, c-1) - lo + 1.
	fn.Op("SUBS", before, ch, lo)
	fn.Op("CSEL", "LT", "ZR", lo, lo)
	fn.Op("ADD", after, ch, cnt)
	fn.Op("CMP", last, cnt)
	fn.Op("CSEL", "GT", last, cnt, cnt)
	fn.Op("SUB", lo, cnt, cnt)
	fn.Op("ADD", "$1", cnt, cnt)
	fn.Op("MUL", sS, lo, p)
	fn.Op("ADD", x, p, p)
	fn.Op("ADD", off, p, p)
	fn.Op("VEOR", acc.B16(), acc.B16(), acc.B16())
	fn.Label("window")
	fn.Op("VLD1", fmt.Sprintf("(%v)", p), "["+v.S4()+"]")
	fn.Op("VFMLA", v.S4(), v.S4(), acc.S4()) // acc += v*v
	fn.Op("ADD", sS, p, p)
	fn.Op("SUBS", "$1", cnt, cnt)
	fn.Op("BNE", "window")

	fn.Op("VMOV", kv.B16(), u.B16())
	fn.Op("VFMLA", alpha.S4(), acc.S4(), u.S4()) // u = k + alpha*acc
	fn.Op("VLD1", fmt.Sprintf("(%v)", xp), "["+y.S4()+"]")
	fn.Word(arm64.FSQRT(r, u))
	fn.Word(arm64.FSQRT(q, r))
	fn.Word(arm64.FMUL(r, q, r))
	fn.Word(arm64.FDIV(y, y, r)) // y = y / r
	fn.Op("VST1", "["+y.S4()+"]", fmt.Sprintf("(%v)", dp))
	fn.Op("ADD", dS, dp, dp)
	fn.Op("ADD", sS, xp, xp)
	fn.Op("ADD", "$1", ch, ch)
	fn.Op("CMP", chans, ch)
	fn.Op("BLT", "channel")

	fn.Op("ADD", "$16", off, off)
	fn.Op("B", "block")
	fn.Label("done")
	fn.Op("RET")
}
