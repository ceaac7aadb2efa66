package arm64

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Inst is one encoded instruction: its 32-bit encoding and its ARM (GNU
// as) syntax, which Builder.Word writes as the comment and enc_test.go
// assembles to check Bits.
type Inst struct {
	Bits uint32
	Asm  string
}

// The encoders below cover the vector instructions the kernels use that
// Go's assembler lacks, each in the arrangement the kernels need (.4S:
// four float32 or int32 lanes). Field layouts follow the Arm Architecture
// Reference Manual (Advanced SIMD three same, two-register miscellaneous,
// vector x indexed element, shift by immediate, modified immediate).

func (v V) check() {
	if v < 0 || v > 31 {
		panic(fmt.Sprintf("arm64: no vector register V%d", int(v)))
	}
}

func (v V) arm(arr string) string { return fmt.Sprintf("v%d.%s", int(v), arr) }

// threeSame encodes the Advanced SIMD "three same" form Vd.4S = op(Vn.4S,
// Vm.4S) from base, the encoding with every register field zero.
func threeSame(base uint32, name string, d, n, m V) Inst {
	d.check()
	n.check()
	m.check()
	return Inst{
		Bits: base | uint32(m)<<16 | uint32(n)<<5 | uint32(d),
		Asm:  fmt.Sprintf("%s %s, %s, %s", name, d.arm("4s"), n.arm("4s"), m.arm("4s")),
	}
}

// FADD is fadd Vd.4S, Vn.4S, Vm.4S.
func FADD(d, n, m V) Inst { return threeSame(0x4e20d400, "fadd", d, n, m) }

// FSUB is fsub Vd.4S, Vn.4S, Vm.4S: Vn - Vm.
func FSUB(d, n, m V) Inst { return threeSame(0x4ea0d400, "fsub", d, n, m) }

// FMUL is fmul Vd.4S, Vn.4S, Vm.4S.
func FMUL(d, n, m V) Inst { return threeSame(0x6e20dc00, "fmul", d, n, m) }

// FDIV is fdiv Vd.4S, Vn.4S, Vm.4S: Vn / Vm.
func FDIV(d, n, m V) Inst { return threeSame(0x6e20fc00, "fdiv", d, n, m) }

// FMAX is fmax Vd.4S, Vn.4S, Vm.4S; a NaN operand gives NaN.
func FMAX(d, n, m V) Inst { return threeSame(0x4e20f400, "fmax", d, n, m) }

// FMIN is fmin Vd.4S, Vn.4S, Vm.4S; a NaN operand gives NaN.
func FMIN(d, n, m V) Inst { return threeSame(0x4ea0f400, "fmin", d, n, m) }

// FCMGT is fcmgt Vd.4S, Vn.4S, Vm.4S: all ones where Vn > Vm.
func FCMGT(d, n, m V) Inst { return threeSame(0x6ea0e400, "fcmgt", d, n, m) }

// FCMGE is fcmge Vd.4S, Vn.4S, Vm.4S: all ones where Vn >= Vm.
func FCMGE(d, n, m V) Inst { return threeSame(0x6e20e400, "fcmge", d, n, m) }

// FCMEQ is fcmeq Vd.4S, Vn.4S, Vm.4S: all ones where Vn == Vm (not NaN).
func FCMEQ(d, n, m V) Inst { return threeSame(0x4e20e400, "fcmeq", d, n, m) }

// byElement encodes the "vector x indexed element" form Vd.4S op= Vn.4S *
// Vm.S[i]: the lane index is split into H:L and, for 32-bit lanes, Vm
// takes five bits (M:Rm).
func byElement(base uint32, name string, d, n, m V, i int) Inst {
	d.check()
	n.check()
	m.check()
	if i < 0 || i > 3 {
		panic(fmt.Sprintf("arm64: lane %d of a .4S register", i))
	}
	h, l := uint32(i>>1), uint32(i&1)
	return Inst{
		Bits: base | l<<21 | uint32(m)<<16 | h<<11 | uint32(n)<<5 | uint32(d),
		Asm:  fmt.Sprintf("%s %s, %s, v%d.s[%d]", name, d.arm("4s"), n.arm("4s"), int(m), i),
	}
}

// FMLAElem is fmla Vd.4S, Vn.4S, Vm.S[i]: Vd += Vn * Vm[i], fused.
func FMLAElem(d, n, m V, i int) Inst { return byElement(0x4f801000, "fmla", d, n, m, i) }

// FMLSElem is fmls Vd.4S, Vn.4S, Vm.S[i]: Vd -= Vn * Vm[i], fused.
func FMLSElem(d, n, m V, i int) Inst { return byElement(0x4f805000, "fmls", d, n, m, i) }

// FMULElem is fmul Vd.4S, Vn.4S, Vm.S[i].
func FMULElem(d, n, m V, i int) Inst { return byElement(0x4f809000, "fmul", d, n, m, i) }

// twoMisc encodes the "two-register miscellaneous" form Vd.4S = op(Vn.4S).
func twoMisc(base uint32, name string, d, n V, suffix string) Inst {
	d.check()
	n.check()
	return Inst{
		Bits: base | uint32(n)<<5 | uint32(d),
		Asm:  fmt.Sprintf("%s %s, %s%s", name, d.arm("4s"), n.arm("4s"), suffix),
	}
}

// FRINTN is frintn Vd.4S, Vn.4S: round to nearest, ties to even.
func FRINTN(d, n V) Inst { return twoMisc(0x4e218800, "frintn", d, n, "") }

// FCVTZS is fcvtzs Vd.4S, Vn.4S: float32 to int32, toward zero, saturating
// (NaN gives 0).
func FCVTZS(d, n V) Inst { return twoMisc(0x4ea1b800, "fcvtzs", d, n, "") }

// SCVTF is scvtf Vd.4S, Vn.4S: int32 to float32.
func SCVTF(d, n V) Inst { return twoMisc(0x4e21d800, "scvtf", d, n, "") }

// FNEG is fneg Vd.4S, Vn.4S.
func FNEG(d, n V) Inst { return twoMisc(0x6ea0f800, "fneg", d, n, "") }

// FABS is fabs Vd.4S, Vn.4S.
func FABS(d, n V) Inst { return twoMisc(0x4ea0f800, "fabs", d, n, "") }

// FSQRT is fsqrt Vd.4S, Vn.4S: the square root, correctly rounded (IEEE).
func FSQRT(d, n V) Inst { return twoMisc(0x6ea1f800, "fsqrt", d, n, "") }

// FCMLTZero is fcmlt Vd.4S, Vn.4S, #0.0: all ones where Vn < 0 (not NaN).
func FCMLTZero(d, n V) Inst { return twoMisc(0x4ea0e800, "fcmlt", d, n, ", #0.0") }

// shiftImm encodes the "shift by immediate" form on .4S lanes, whose
// immh:immb field is code.
func shiftImm(base uint32, name string, d, n V, code, shift int) Inst {
	d.check()
	n.check()
	return Inst{
		Bits: base | uint32(code)<<16 | uint32(n)<<5 | uint32(d),
		Asm:  fmt.Sprintf("%s %s, %s, #%d", name, d.arm("4s"), n.arm("4s"), shift),
	}
}

// SSHR is sshr Vd.4S, Vn.4S, #shift: arithmetic right shift, 1 <= shift
// <= 32.
func SSHR(d, n V, shift int) Inst {
	if shift < 1 || shift > 32 {
		panic(fmt.Sprintf("arm64: sshr #%d", shift))
	}
	return shiftImm(0x4f000400, "sshr", d, n, 64-shift, shift)
}

// SHL is shl Vd.4S, Vn.4S, #shift: left shift, 0 <= shift <= 31.
func SHL(d, n V, shift int) Inst {
	if shift < 0 || shift > 31 {
		panic(fmt.Sprintf("arm64: shl #%d", shift))
	}
	return shiftImm(0x4f005400, "shl", d, n, 32+shift, shift)
}

// SHLL16 is shll Vd.4S, Vn.4H, #16: widen the four 16-bit lanes of Vn's low
// half into the upper halves of 32-bit lanes (bfloat16 to float32).
func SHLL16(d, n V) Inst {
	d.check()
	n.check()
	return Inst{
		Bits: 0x2e613800 | uint32(n)<<5 | uint32(d),
		Asm:  fmt.Sprintf("shll %s, %s, #16", d.arm("4s"), n.arm("4h")),
	}
}

// FMOVImm is fmov Vd.4S, #f for the float32 values the 8-bit modified
// immediate holds: ±(16+m)/16 × 2^e with 0 <= m < 16 and -3 <= e <= 4
// (1.0, 0.5, 2.0, -1.0, ...). It panics for other values; FMOVImmOK says
// which.
func FMOVImm(d V, f float32) Inst {
	d.check()
	imm, ok := fmovImm8(f)
	if !ok {
		panic(fmt.Sprintf("arm64: fmov cannot encode %v", f))
	}
	s := strconv.FormatFloat(float64(f), 'f', -1, 32)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return Inst{
		Bits: 0x4f00f400 | (imm>>5)<<16 | (imm&31)<<5 | uint32(d),
		Asm:  fmt.Sprintf("fmov %s, #%s", d.arm("4s"), s),
	}
}

// FMOVImmOK reports whether FMOVImm can encode f.
func FMOVImmOK(f float32) bool {
	_, ok := fmovImm8(f)
	return ok
}

// fmovImm8 returns the imm8 abcdefgh whose expansion (the manual's
// VFPExpandImm for 32 bits: sign a, exponent NOT(b):bbbbb:cd, fraction
// efgh followed by zeros) is f.
func fmovImm8(f float32) (uint32, bool) {
	bits := math.Float32bits(f)
	for imm := uint32(0); imm < 256; imm++ {
		a, b, cd, efgh := imm>>7, imm>>6&1, imm>>4&3, imm&15
		exp := (b^1)<<7 | cd
		if b == 1 {
			exp |= 0x1f << 2
		}
		if a<<31|exp<<23|efgh<<19 == bits {
			return imm, true
		}
	}
	return 0, false
}

// Double-precision forms, for sums widened from float32 (.2D: two float64
// lanes).

// twoMiscAs is twoMisc with asm as its GNU as syntax: the forms whose
// operands are not all .4S.
func twoMiscAs(base uint32, d, n V, asm string) Inst {
	i := twoMisc(base, "", d, n, "")
	i.Asm = asm
	return i
}

// FADD2D is fadd Vd.2D, Vn.2D, Vm.2D.
func FADD2D(d, n, m V) Inst { return threeSame2D(0x4e20d400, "fadd", d, n, m) }

// FCVTL is fcvtl Vd.2D, Vn.2S: the low two float32 lanes of Vn widened to
// float64 (exactly).
func FCVTL(d, n V) Inst {
	return twoMiscAs(0x0e617800, d, n, fmt.Sprintf("fcvtl %s, %s", d.arm("2d"), n.arm("2s")))
}

// FCVTL2 is fcvtl2 Vd.2D, Vn.4S: the high two float32 lanes of Vn widened
// to float64.
func FCVTL2(d, n V) Inst {
	return twoMiscAs(0x4e617800, d, n, fmt.Sprintf("fcvtl2 %s, %s", d.arm("2d"), n.arm("4s")))
}

// FADDP2D is faddp Dd, Vn.2D: the sum of Vn's two float64 lanes, as a
// scalar (Fd's double view; the rest of Vd is zeroed).
func FADDP2D(d, n V) Inst {
	return twoMiscAs(0x7e70d800, d, n, fmt.Sprintf("faddp d%d, %s", int(d), n.arm("2d")))
}

// threeSame2D is threeSame on .2D lanes: the 4S encoding with sz (bit 22)
// set.
func threeSame2D(base uint32, name string, d, n, m V) Inst {
	i := threeSame(base|1<<22, name, d, n, m)
	i.Asm = fmt.Sprintf("%s %s, %s, %s", name, d.arm("2d"), n.arm("2d"), m.arm("2d"))
	return i
}

// FSUB2D is fsub Vd.2D, Vn.2D, Vm.2D: Vn - Vm.
func FSUB2D(d, n, m V) Inst { return threeSame2D(0x4ea0d400, "fsub", d, n, m) }

// FMUL2D is fmul Vd.2D, Vn.2D, Vm.2D.
func FMUL2D(d, n, m V) Inst { return threeSame2D(0x6e20dc00, "fmul", d, n, m) }

// FDIV2D is fdiv Vd.2D, Vn.2D, Vm.2D: Vn / Vm.
func FDIV2D(d, n, m V) Inst { return threeSame2D(0x6e20fc00, "fdiv", d, n, m) }

// FMAX2D is fmax Vd.2D, Vn.2D, Vm.2D; a NaN operand gives NaN.
func FMAX2D(d, n, m V) Inst { return threeSame2D(0x4e20f400, "fmax", d, n, m) }

// FSQRT2D is fsqrt Vd.2D, Vn.2D, correctly rounded.
func FSQRT2D(d, n V) Inst {
	return twoMiscAs(0x6ee1f800, d, n, fmt.Sprintf("fsqrt %s, %s", d.arm("2d"), n.arm("2d")))
}

// FCVTN is fcvtn Vd.2S, Vn.2D: Vn's two float64 lanes rounded to float32
// in Vd's low lanes (the high ones are zeroed).
func FCVTN(d, n V) Inst {
	return twoMiscAs(0x0e616800, d, n, fmt.Sprintf("fcvtn %s, %s", d.arm("2s"), n.arm("2d")))
}

// FCVTN2 is fcvtn2 Vd.4S, Vn.2D: Vn's two float64 lanes rounded to
// float32 in Vd's high lanes (the low ones are kept).
func FCVTN2(d, n V) Inst {
	return twoMiscAs(0x4e616800, d, n, fmt.Sprintf("fcvtn2 %s, %s", d.arm("4s"), n.arm("2d")))
}

// DUP2D is dup Vd.2D, Vn.D[0]: Vn's low float64 in both lanes.
func DUP2D(d, n V) Inst {
	return twoMiscAs(0x4e080400, d, n, fmt.Sprintf("dup %s, v%d.d[0]", d.arm("2d"), int(n)))
}
