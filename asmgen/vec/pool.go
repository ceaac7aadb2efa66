package vec

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
)

// PoolRowName is the name of the general pooling row kernel for isa: max
// pooling, or with avg average pooling.
func PoolRowName(isa gemm.ISA, avg bool) string {
	if avg {
		return "vecAvgPoolRow" + isa.String()
	}
	return "vecMaxPoolRow" + isa.String()
}

// The general pooling row kernels compute one output row of a max or
// average pooling whose windows are kw wide at stride sw (any on x86; 1
// to 4 on NEON) and lie inside the row (the caller does the clipped
// ones): for i < n,
//
//	for k := range kw { // the window's columns
//		c := src[sw*i+k] // reduced over the window's rows
//		for r := 1; r < rows; r++ {
//			c = op(c, src[r*ld+sw*i+k])
//		}
//		v = op(v, c) // v from -Inf (max) or 0 (average)
//	}
//	dst[i] = v, or v/div for an average
//
// with op the NaN-propagating max or +. That is the order codegen/rt's Go
// pooling sums in (each column over the rows, then the columns), so the
// averages are the same to the bit. A block of outputs is one vector; at
// stride 2 its elements come from two vectors, de-interleaved (on NEON,
// at stride s, VLDs splits s vectors); on x86 strides above 2 gather
// (VGATHERDPS, reading only the elements it uses). On AVX-512 every load and store is
// masked to the block, so all n outputs are done and nothing past the last
// window is read; on AVX2 and NEON the caller rounds n down to whole
// vectors, and at stride s the rows are read to s-1 elements past the last
// window. The 3-wide max pooling of
// AlexNet and ResNet has its own kernels (maxPool3s2, maxPool3s1), which
// take each row's elements once for the three columns.
const poolRowSig = "func(dst, src *float32, n, rows, ld, kw, sw int"

func poolRowDoc(isa gemm.ISA, avg bool) []string {
	name, what, v := PoolRowName(isa, avg), "max", "max(src[r*ld+sw*i+k])"
	if avg {
		what, v = "sum", "Σ src[r*ld+sw*i+k] / div"
	}
	reach := map[gemm.ISA]string{
		gemm.AVX512: "It reads nothing past the last window.",
		gemm.AVX2:   "n must be a multiple of 8; at stride 2 rows are read to one element past the last window.",
		gemm.NEON:   "n must be a multiple of 4; at stride sw rows are read to sw-1 elements past the last window.",
	}[isa]
	return []string{
		name + " computes dst[i] = " + v + " over r < rows, k < kw, for i < n,",
		"at stride sw (" + map[bool]string{true: "1 to 4", false: "1 or more"}[isa == gemm.NEON] + "), each column's " + what + " over the rows first. " + reach,
	}
}

// poolRow emits PoolRowName(isa, avg) for AVX-512 or AVX2.
func poolRow(ctx *build.Context, isa gemm.ISA, avg bool, tail16, poolIdx operand.Mem) {
	ctx.Function(PoolRowName(isa, avg))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	sig := poolRowSig + ")"
	if avg {
		sig = poolRowSig + ", div float32)"
	}
	ctx.SignatureExpr(sig)
	ctx.Doc(poolRowDoc(isa, avg)...)
	lanes := isa.Lanes()
	avx512 := isa == gemm.AVX512
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	p := ctx.Load(ctx.Param("src"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	rows := paramAddr(ctx, "rows")
	kw := paramAddr(ctx, "kw")
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld)
	sw := ctx.GP64()
	ctx.Load(ctx.Param("sw"), sw)
	var div, start reg.VecVirtual
	start = vec() // v's initial value
	if avg {
		div = vec()
		ctx.VBROADCASTSS(paramAddr(ctx, "div"), div)
		ctx.VXORPS(start, start, start)
	} else {
		broadcast(ctx, float32(math.Inf(-1)), start)
	}
	nanMax := nanMaxer(ctx, isa)
	var tbl, sixteen, zero reg.GPVirtual
	var idxE reg.VecVirtual
	var kst, klo, khi reg.Register
	if avx512 {
		tbl, sixteen, zero = ctx.GP64(), ctx.GP64(), ctx.GP64()
		ctx.LEAQ(tail16, tbl)
		ctx.MOVQ(operand.U32(16), sixteen)
		ctx.XORQ(zero, zero)
		idxE = ctx.ZMM()
		ctx.VMOVUPS(poolIdx, idxE)
		kst, klo, khi = ctx.K(), ctx.K(), ctx.K()
	}
	// Strides above 2 gather: gidx holds sw·i for lane i (poolIdx's
	// evens halved are 0, 1, 2, ...), step the bytes a block advances.
	gidx, swv, step := vec(), vec(), ctx.GP64()
	ctx.VMOVUPS(poolIdx, gidx)
	ctx.VPSRLD(operand.U8(1), gidx, gidx)
	ctx.VMOVD(sw.As32(), swv.AsX())
	ctx.VPBROADCASTD(swv.AsX(), swv)
	ctx.VPMULLD(swv, gidx, gidx)
	ctx.MOVQ(sw, step)
	ctx.SHLQ(operand.U8(uint8(2+bits.TrailingZeros(uint(lanes)))), step)
	ctx.CMPQ(sw, operand.U32(2))
	ctx.JE(operand.LabelRef("s2block"))
	ctx.JG(operand.LabelRef("sgblock"))
	// s is the stride of a path: 1, 2, or 0 for every stride above 2.
	for _, s := range []int{1, 2, 0} {
		pfx := fmt.Sprintf("s%d", s)
		if s == 0 {
			pfx = "sg"
		}
		// load sets dst to the block's elements of one column at base:
		// elements base[s*i] for the block's outputs i.
		load := func(base reg.Register, dst reg.VecVirtual) {
			m := operand.Mem{Base: base}
			switch {
			case s == 0 && avx512:
				// A gather clears its mask: it takes a copy.
				kg := ctx.K()
				ctx.KMOVW(kst, kg)
				ctx.VXORPS(dst, dst, dst)
				ctx.VGATHERDPS(operand.Mem{Base: base, Index: gidx, Scale: 4}, kg, dst)
			case s == 0:
				mask := vec()
				ctx.VPCMPEQD(mask, mask, mask)
				ctx.VXORPS(dst, dst, dst)
				ctx.VGATHERDPS(mask, operand.Mem{Base: base, Index: gidx, Scale: 4}, dst)
			case s == 1 && avx512:
				ctx.VMOVUPS_Z(m, kst, dst)
			case s == 1:
				ctx.VMOVUPS(m, dst)
			case avx512:
				hi := vec()
				ctx.VMOVUPS_Z(m, klo, dst)
				ctx.VMOVUPS_Z(m.Offset(64), khi, hi)
				ctx.VPERMT2PS(hi, idxE, dst)
			default:
				hi := vec()
				ctx.VMOVUPS(m, dst)
				ctx.VMOVUPS(m.Offset(32), hi)
				ctx.VSHUFPS(operand.U8(0x88), hi, dst, dst) // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
				ctx.VPERMPD(operand.U8(0xd8), dst, dst)     // lo0 lo2 lo4 lo6 hi0 hi2 hi4 hi6
			}
		}
		ctx.Label(pfx + "block")
		if avx512 {
			ctx.TESTQ(n, n)
			ctx.JLE(operand.LabelRef("done"))
			cnt := blockMask(ctx, n, sixteen, tbl, kst)
			if s == 2 {
				// cnt outputs take 2cnt-1 elements of a column from its
				// start: min(2cnt-1, 16) in the low vector, the rest in
				// the high one.
				c, x := ctx.GP64(), ctx.GP64()
				ctx.LEAQ(operand.Mem{Base: cnt, Index: cnt, Scale: 1, Disp: -1}, c)
				ctx.MOVQ(c, x)
				ctx.CMPQ(x, sixteen)
				ctx.CMOVQGT(sixteen, x)
				ctx.KMOVW(operand.Mem{Base: tbl, Index: x, Scale: 2}, klo)
				ctx.SUBQ(operand.U32(16), c)
				ctx.CMPQ(c, zero)
				ctx.CMOVQLT(zero, c)
				ctx.KMOVW(operand.Mem{Base: tbl, Index: c, Scale: 2}, khi)
			}
		} else {
			ctx.CMPQ(n, operand.U32(lanes))
			ctx.JL(operand.LabelRef("done"))
		}
		v := vec()
		ctx.VMOVAPS(start, v)
		col, k := ctx.GP64(), ctx.GP64()
		ctx.MOVQ(p, col)
		ctx.MOVQ(kw, k)
		ctx.Label(pfx + "col")
		c := vec()
		load(col, c)
		q, r := ctx.GP64(), ctx.GP64()
		ctx.MOVQ(col, q)
		ctx.MOVQ(rows, r)
		ctx.Label(pfx + "row")
		ctx.DECQ(r)
		ctx.JLE(operand.LabelRef(pfx + "reduced"))
		ctx.ADDQ(ld, q)
		x := vec()
		load(q, x)
		if avg {
			ctx.VADDPS(x, c, c)
		} else {
			nanMax(c, x)
		}
		ctx.JMP(operand.LabelRef(pfx + "row"))
		ctx.Label(pfx + "reduced")
		if avg {
			ctx.VADDPS(c, v, v)
		} else {
			nanMax(v, c)
		}
		ctx.ADDQ(operand.U32(4), col)
		ctx.DECQ(k)
		ctx.JNZ(operand.LabelRef(pfx + "col"))
		if avg {
			ctx.VDIVPS(div, v, v)
		}
		if avx512 {
			ctx.VMOVUPS(v, kst, operand.Mem{Base: d})
		} else {
			ctx.VMOVUPS(v, operand.Mem{Base: d})
		}
		if s == 0 {
			ctx.ADDQ(step, p)
		} else {
			ctx.ADDQ(operand.U32(4*lanes*s), p)
		}
		ctx.ADDQ(operand.U32(4*lanes), d)
		ctx.SUBQ(operand.U32(lanes), n)
		ctx.JMP(operand.LabelRef(pfx + "block"))
	}
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// neonPoolRow writes PoolRowName(gemm.NEON, avg): poolRow's loop, four
// outputs a block, at strides 1 to 4: VLD2, VLD3 and VLD4 de-interleave
// a column's elements at strides 2 to 4 (the first of the registers they
// fill). FMAX returns NaN when either operand is one.
func neonPoolRow(f *neonFile, avg bool) {
	name := PoolRowName(gemm.NEON, avg)
	sig := poolRowSig + ")"
	if avg {
		sig = poolRowSig + ", div float32)"
	}
	fn := f.function(name, sig, poolRowDoc(gemm.NEON, avg)...)
	const (
		dst, src, n, rows, ld, kw, sw = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5), arm64.Reg(6)
		col, k, q, r                  = arm64.Reg(7), arm64.Reg(8), arm64.Reg(9), arm64.Reg(10)
		start, div, v, c, x           = arm64.V(0), arm64.V(1), arm64.V(2), arm64.V(4), arm64.V(8)
	)
	fn.loadArgs(dst, src, n, rows, ld, kw, sw)
	fn.Op("LSL", "$2", ld, ld)
	if avg {
		fn.Op("FMOVS", fn.arg("div"), div.F())
		fn.Op("VDUP", div.S(0), div.S4())
		fn.Op("VEOR", start.B16(), start.B16(), start.B16())
	} else {
		fn.Op("MOVW", fmt.Sprintf("$0x%08x", math.Float32bits(float32(math.Inf(-1)))), q)
		fn.Op("VDUP", q, start.S4())
	}
	op := func(d, a, b arm64.V) {
		if avg {
			fn.Word(arm64.FADD(d, a, b))
		} else {
			fn.Word(arm64.FMAX(d, a, b))
		}
	}
	for s := 2; s <= 4; s++ {
		fn.Op("CMP", fmt.Sprintf("$%d", s), sw)
		fn.Op("BEQ", fmt.Sprintf("s%dblock", s))
	}
	for s := 1; s <= 4; s++ {
		pfx := fmt.Sprintf("s%d", s)
		// load sets t to the block's elements of the column at base (at
		// stride s, t+1..t+s-1 get the columns after it).
		load := func(base arm64.Reg, t arm64.V) {
			mnemonic := "VLD1"
			if s > 1 {
				mnemonic = fmt.Sprintf("VLD%d", s)
			}
			fn.Op(mnemonic, fmt.Sprintf("(%v)", base), t.List(s, "S4"))
		}
		fn.Label(pfx + "block")
		fn.Op("CMP", "$4", n)
		fn.Op("BLT", "done")
		fn.Op("VMOV", start.B16(), v.B16())
		fn.Op("MOVD", src, col)
		fn.Op("MOVD", kw, k)
		fn.Label(pfx + "col")
		load(col, c)
		fn.Op("MOVD", col, q)
		fn.Op("SUBS", "$1", rows, r)
		fn.Op("BLE", pfx+"reduced")
		fn.Label(pfx + "row")
		fn.Op("ADD", ld, q, q)
		load(q, x)
		op(c, c, x)
		fn.Op("SUBS", "$1", r, r)
		fn.Op("BNE", pfx+"row")
		fn.Label(pfx + "reduced")
		op(v, v, c)
		fn.Op("ADD", "$4", col, col)
		fn.Op("SUBS", "$1", k, k)
		fn.Op("BNE", pfx+"col")
		if avg {
			fn.Word(arm64.FDIV(v, v, div))
		}
		fn.Op("VST1.P", "["+v.S4()+"]", fmt.Sprintf("16(%v)", dst))
		fn.Op("ADD", fmt.Sprintf("$%d", 16*s), src, src)
		fn.Op("SUB", "$4", n, n)
		fn.Op("B", pfx+"block")
	}
	fn.Label("done")
	fn.Op("RET")
}
