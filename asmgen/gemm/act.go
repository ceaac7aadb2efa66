package gemm

import (
	"math"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The activations that need more than a compare or two (ActHardSigmoid,
// ActHardSwish, ActSigmoid, ActSiLU, ActGELU) read their constants from memory,
// full vectors in a read-only table the kernels of one file share
// (constPool), so that they need no register beyond one to three scratch
// vectors (actScratch): the epilogue reuses the k loop's registers, and a
// tile that leaves four free can apply any of them.

// Constants of e^z, as in Cephes' expf: z = n·ln2 + r with n = round(z·log2e)
// and |r| <= ln2/2, ln2 split in two so that n·ln2 is exact enough; e^r =
// 1 + r + r²·P(r) with P of degree 5 (relative error under 2 ulp).
const (
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	// expXLo and expXHi bound x before e^-x is computed, so that n stays
	// within [-126, 254]: 2^n is then two normal powers of two (AVX2
	// multiplies by both; AVX-512's VSCALEFPS takes n whole), and e^-x
	// overflows to +Inf below x = -88.7 as it should, which makes σ(x) 0
	// and SiLU(x) -0, or NaN at x = -Inf (x itself is kept for SiLU's
	// x·σ(x), and NaN lanes for σ). Above expXHi, σ(x) is 1 in float32.
	expXLo = -176
	expXHi = 87.0
)

// GELU's erf(z), z = x/√2 clamped to [-4, 4] (beyond which erf is ±1 in
// float32, and A/B gives ±1 exactly), is z·A(z²)/B(z²), the rational
// approximation of Eigen's and XLA's float erf: within 5e-7 of erf on the
// whole line. GELU = x/2 + x/2·erf(z) is then exactly 0 below x = -4√2,
// and x above 4√2.
const geluClamp = 4

// geluA are A's coefficients, of (z²)^0 to (z²)^6, and geluB B's, of
// (z²)^0 to (z²)^4.
var (
	geluA = [7]float32{-1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04, -5.69250639462346e-05, -2.10102402082508e-06, 2.77068142495902e-08, -2.72614225801306e-10}
	geluB = [5]float32{-1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03, -2.13374055278905e-04, -1.45660718464996e-05}
)

// expP are P's coefficients, of r^0 to r^5.
var expP = [6]float32{5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4}

// ConstPool is a table of vector constants of one generated file: one
// 64-byte vector (16 copies, of which AVX2 reads 8) per distinct value, in
// the order of first use. The GEMM kernels of a file share one; asmgen/vec
// has its own.
type ConstPool struct {
	sym  operand.Symbol
	offs map[uint32]int
	vals []float32
}

// NewConstPool returns an empty pool whose table will be the static (file
// local) symbol name.
func NewConstPool(name string) *ConstPool {
	return &ConstPool{sym: operand.Symbol{Name: name, Static: true}, offs: map[uint32]int{}}
}

// Vec returns the memory operand of the vector of copies of f.
func (p *ConstPool) Vec(f float32) operand.Mem {
	bits := math.Float32bits(f)
	off, ok := p.offs[bits]
	if !ok {
		off = 64 * len(p.vals)
		p.offs[bits] = off
		p.vals = append(p.vals, f)
	}
	return operand.NewDataAddr(p.sym, off)
}

// Emit adds the table to ctx, if anything used it.
func (p *ConstPool) Emit(ctx *build.Context) {
	if len(p.vals) == 0 {
		return
	}
	ctx.StaticGlobal(p.sym.Name)
	ctx.DataAttributes(attr.RODATA | attr.NOPTR)
	for i, f := range p.vals {
		// As bits: the assembler reads $(1.0) in a 4-byte DATA as the
		// integer 1.
		for l := range 16 {
			ctx.AddDatum(64*i+4*l, operand.U32(math.Float32bits(f)))
		}
	}
}

// ActCode emits the activations that read their constants from a
// ConstPool (ActHardSigmoid, ActHardSwish, ActSigmoid, ActSiLU, ActGELU), for the
// GEMM kernels' epilogues and for asmgen/vec's kernels alike. T are
// scratch vector registers (one for the hard ones, three for sigmoid,
// SiLU and GELU: actScratch) and K an opmask register, which AVX-512's sigmoid
// uses; physical or virtual.
type ActCode struct {
	Ctx  *build.Context
	ISA  ISA
	Pool *ConstPool
	T    [3]reg.Register
	K    reg.Register
}

// Apply applies activation act, with constants alpha and beta (the hard
// ones'), to v in place; see Act for the definitions. NaN stays NaN.
func (a ActCode) Apply(act Act, alpha, beta float32, v reg.Register) {
	e, k, t1 := a.Ctx, a.Pool.Vec, a.T[0]
	switch act {
	case ActHardSwish:
		// A NaN v makes t1 a bound, and v·t1 NaN.
		e.VMULPS(k(alpha), v, t1)
		e.VADDPS(k(beta), t1, t1)
		e.VMAXPS(k(0), t1, t1)
		e.VMINPS(k(1), t1, t1)
		e.VMULPS(t1, v, v)
	case ActHardSigmoid:
		e.VMULPS(k(alpha), v, v)
		e.VADDPS(k(beta), v, v)
		// v as the second source keeps a NaN v (see ActClip).
		if a.ISA == AVX512 {
			e.VPXORD(t1, t1, t1) // VXORPS on zmm would need AVX512DQ
		} else {
			e.VXORPS(t1, t1, t1)
		}
		e.VMAXPS(v, t1, v)
		e.VMOVUPS(k(1), t1)
		e.VMINPS(v, t1, v)
	case ActGELU:
		t2, t3 := a.T[1], a.T[2]
		// t1 = z = x/√2 clamped (NaN lanes become a bound, but v·… below
		// keeps them NaN), t2 = z².
		e.VMULPS(k(1/math.Sqrt2), v, t1)
		e.VMAXPS(k(-geluClamp), t1, t1)
		e.VMINPS(k(geluClamp), t1, t1)
		e.VMULPS(t1, t1, t2)
		// t3 = z·A(z²), by Horner.
		e.VMOVUPS(k(geluA[6]), t3)
		for i := 5; i >= 0; i-- {
			e.VFMADD213PS(k(geluA[i]), t2, t3) // t3 = z²·t3 + a
		}
		e.VMULPS(t1, t3, t3)
		// t1 = B(z²); t3 = erf(z).
		e.VMOVUPS(k(geluB[4]), t1)
		for i := 3; i >= 0; i-- {
			e.VFMADD213PS(k(geluB[i]), t2, t1)
		}
		e.VDIVPS(t1, t3, t3)
		// v = x/2 + x/2·erf(z).
		e.VMULPS(k(0.5), v, v)
		e.VFMADD231PS(t3, v, v)
	case ActSigmoid, ActSiLU:
		t2, u := a.T[1], a.T[2]
		// t2 = x clamped, t1 = n = round(-x·log2e), t2 = s = x + n·ln2,
		// so that e^-x = 2^n·e^-s.
		e.VMAXPS(k(expXLo), v, t2)
		e.VMINPS(k(expXHi), t2, t2)
		e.VMULPS(k(-expLog2e), t2, t1)
		if a.ISA == AVX512 {
			e.VRNDSCALEPS(operand.U8(0), t1, t1)
		} else {
			e.VROUNDPS(operand.U8(0), t1, t1)
		}
		e.VFMADD231PS(k(expLn2Hi), t1, t2)
		e.VFMADD231PS(k(expLn2Lo), t1, t2)
		// u = e^-s = 1 - s + s²·P(-s), P(-s) by Horner in s.
		e.VMOVUPS(k(-expP[5]), u)
		for i := 4; i >= 0; i-- {
			p := expP[i]
			if i%2 == 1 {
				p = -p
			}
			e.VFMADD213PS(k(p), t2, u) // u = s·u + p
		}
		e.VMULPS(t2, u, u)
		e.VFMSUB213PS(t2, t2, u) // u = s·u - s
		e.VADDPS(k(1), u, u)
		// u = 2^n·u: e^-x.
		if a.ISA == AVX512 {
			e.VSCALEFPS(t1, u, u)
		} else {
			// 2^n = 2^(n>>1)·2^(n-n>>1), each made by putting the
			// power into 1.0's exponent field.
			e.VCVTPS2DQ(t1, t1)
			e.VPSRAD(operand.U8(1), t1, t2)
			e.VPSUBD(t2, t1, t1)
			for _, p := range []reg.Register{t2, t1} {
				e.VPSLLD(operand.U8(23), p, p)
				e.VPADDD(k(1), p, p)
				e.VMULPS(p, u, u)
			}
		}
		e.VADDPS(k(1), u, u) // 1 + e^-x
		if act == ActSiLU {
			e.VDIVPS(u, v, v) // x/(1+e^-x); NaN stays NaN
			return
		}
		e.VMOVUPS(k(1), t1)
		if a.ISA == AVX512 {
			// 1/(1+e^-x) in the lanes that are not NaN.
			e.VCMPPS(operand.U8(7), v, v, a.K) // ordered
			e.VDIVPS(u, t1, a.K, v)
			return
		}
		e.VDIVPS(u, t1, t1)
		e.VCMPPS(operand.U8(3), v, v, u) // unordered: NaN lanes
		e.VBLENDVPS(u, v, t1, v)
	}
}
