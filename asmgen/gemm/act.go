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

// Sigmoid and SiLU compute e^-x, x clamped to [expXLo, expXHi], as 2^n·e^-s
// with n = round(-x·log2e) and s = x + n·ln2 in [-ln2/2, ln2/2] (ln2 in
// two parts, the first exact in n·ln2Hi, so that s is exact enough at any
// n), e^-s a polynomial of degree 5 in s (expQ: e^u's minimax relative
// error on that interval is 1.0e-7, 1.4 ulp evaluated in float32 with
// FMAs), 2^n put into the exponent field (AVX2, NEON) or applied by
// VSCALEFPS (AVX-512). The clamp makes n at most 128, whose 2^n is +Inf:
// below x = -88.38 e^-x is +Inf and σ(x) and SiLU(x) are 0 (-0 for SiLU,
// NaN at x = -Inf: -Inf·0, as in PyTorch; e^-x overflows at -88.72
// anyway); and at least -127, whose 2^n is 0 or 2^-127: above x = 87.7
// σ(x) is 1, as it is in float32. Then 1/(1+e^-x) is a reciprocal
// estimate (VRCP14PS, VRCPPS) refined by one Newton step, where a
// division would cost a vector's worth of cycles on its own (NEON
// divides); the estimates may flush to 0 a reciprocal under 2^-126, so
// that below x = -87.3 σ(x) and SiLU(x) are within 2^-126·max(1, |x|) of
// the exact ones. NaN stays NaN (SiLU: x·r; sigmoid: masked).
const (
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	expXLo   = -88.75
	expXHi   = 88
	// exp2Shift is 1.5·2^23 + 127: y + exp2Shift, rounded to float32,
	// holds round(y) + 127 in its low mantissa bits (|y| < 2^22), so
	// that shifting its bits left by 23 gives 2^round(y) (+Inf at 128, 0
	// at -127) and subtracting exp2Shift gives round(y) as a float.
	exp2Shift = 0x1.8p23 + 127
	// rcpDMax bounds the d of the Newton step's d·r, so that d = +Inf
	// (with r = 0) does not make it NaN.
	rcpDMax = 0x1p127
)

// expQ are the coefficients of e^-s's polynomial in s, of s^0 to s^5.
var expQ = [6]float32{1, -9.9999952316e-01, 4.9999147654e-01, -1.6668079793e-01, 4.1898183525e-02, -8.2636587322e-03}

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
// ConstPool (ActHardSigmoid, ActHardSwish, ActSigmoid, ActSiLU, ActGELU),
// for the GEMM kernels' epilogues and for asmgen/vec's kernels alike. T
// are scratch vector registers (one for the hard ones, three for sigmoid,
// SiLU and GELU: ActScratch) and K an opmask register, which AVX-512's
// sigmoid uses; physical or virtual.
type ActCode struct {
	Ctx  *build.Context
	ISA  ISA
	Pool *ConstPool
	T    [3]reg.Register
	K    reg.Register
}

// ActScratch is the number of scratch registers ActCode needs for act
// (a vector of T, or of ApplyAll's ts).
func ActScratch(act Act) int {
	switch act {
	case ActHardSigmoid, ActHardSwish:
		return 1
	case ActSigmoid, ActSiLU, ActGELU:
		return 3
	}
	return 0
}

// Apply applies activation act, with constants alpha and beta (the hard
// ones'), to v in place, with scratch registers a.T; see Act for the
// definitions. NaN stays NaN.
func (a ActCode) Apply(act Act, alpha, beta float32, v reg.Register) {
	a.ApplyAll(act, alpha, beta, []reg.Register{v}, [][3]reg.Register{a.T})
}

// actRegs are the registers of one vector of ApplyAll: the value and its
// scratch.
type actRegs struct{ v, t1, t2, t3 reg.Register }

// ApplyAll applies act to every vector of vs in place, as Apply does, vs[i]
// with scratch registers ts[i], their instructions interleaved: each step
// of the computation for every vector, then the next. A sigmoid or SiLU is
// a chain of some twenty dependent instructions; one at a time, the
// processor runs out of scheduler entries long before it runs out of
// execution units, and interleaving two or more keeps the units busy.
func (a ActCode) ApplyAll(act Act, alpha, beta float32, vs []reg.Register, ts [][3]reg.Register) {
	e, k := a.Ctx, a.Pool.Vec
	each := func(f func(r actRegs)) {
		for i, v := range vs {
			f(actRegs{v, ts[i][0], ts[i][1], ts[i][2]})
		}
	}
	switch act {
	case ActHardSwish:
		// A NaN v makes t1 a bound, and v·t1 NaN.
		each(func(r actRegs) { e.VMULPS(k(alpha), r.v, r.t1) })
		each(func(r actRegs) { e.VADDPS(k(beta), r.t1, r.t1) })
		each(func(r actRegs) { e.VMAXPS(k(0), r.t1, r.t1) })
		each(func(r actRegs) { e.VMINPS(k(1), r.t1, r.t1) })
		each(func(r actRegs) { e.VMULPS(r.t1, r.v, r.v) })
	case ActHardSigmoid:
		each(func(r actRegs) { e.VMULPS(k(alpha), r.v, r.v) })
		each(func(r actRegs) { e.VADDPS(k(beta), r.v, r.v) })
		// v as the second source keeps a NaN v (see ActClip).
		each(func(r actRegs) {
			if a.ISA == AVX512 {
				e.VPXORD(r.t1, r.t1, r.t1) // VXORPS on zmm would need AVX512DQ
			} else {
				e.VXORPS(r.t1, r.t1, r.t1)
			}
		})
		each(func(r actRegs) { e.VMAXPS(r.v, r.t1, r.v) })
		each(func(r actRegs) { e.VMOVUPS(k(1), r.t1) })
		each(func(r actRegs) { e.VMINPS(r.v, r.t1, r.v) })
	case ActGELU:
		// t1 = z = x/√2 clamped (NaN lanes become a bound, but v·… below
		// keeps them NaN), t2 = z².
		each(func(r actRegs) { e.VMULPS(k(1/math.Sqrt2), r.v, r.t1) })
		each(func(r actRegs) { e.VMAXPS(k(-geluClamp), r.t1, r.t1) })
		each(func(r actRegs) { e.VMINPS(k(geluClamp), r.t1, r.t1) })
		each(func(r actRegs) { e.VMULPS(r.t1, r.t1, r.t2) })
		// t3 = z·A(z²), by Horner.
		each(func(r actRegs) { e.VMOVUPS(k(geluA[6]), r.t3) })
		for i := 5; i >= 0; i-- {
			each(func(r actRegs) { e.VFMADD213PS(k(geluA[i]), r.t2, r.t3) }) // t3 = z²·t3 + a
		}
		each(func(r actRegs) { e.VMULPS(r.t1, r.t3, r.t3) })
		// t1 = B(z²).
		each(func(r actRegs) { e.VMOVUPS(k(geluB[4]), r.t1) })
		for i := 3; i >= 0; i-- {
			each(func(r actRegs) { e.VFMADD213PS(k(geluB[i]), r.t2, r.t1) })
		}
		// t3 = erf(z) = t3/t1, as a reciprocal estimate t2 refined by
		// one Newton step (B is negative, at least 0.014 in magnitude).
		each(func(r actRegs) {
			if a.ISA == AVX512 {
				e.VRCP14PS(r.t1, r.t2)
			} else {
				e.VRCPPS(r.t1, r.t2)
			}
		})
		each(func(r actRegs) { e.VFNMADD213PS(k(1), r.t2, r.t1) }) // t1 = 1 - B·r
		each(func(r actRegs) { e.VFMADD213PS(r.t2, r.t1, r.t2) })  // t2 = r + r·t1
		each(func(r actRegs) { e.VMULPS(r.t2, r.t3, r.t3) })
		// v = x/2 + x/2·erf(z).
		each(func(r actRegs) { e.VMULPS(k(0.5), r.v, r.v) })
		each(func(r actRegs) { e.VFMADD231PS(r.t3, r.v, r.v) })
	case ActSigmoid, ActSiLU:
		// t2 = x clamped (a NaN x becomes a bound here; the end restores
		// it), t1 = -x·log2e.
		each(func(r actRegs) { e.VMAXPS(k(expXLo), r.v, r.t2) })
		each(func(r actRegs) { e.VMINPS(k(expXHi), r.t2, r.t2) })
		each(func(r actRegs) { e.VMULPS(k(-expLog2e), r.t2, r.t1) })
		// n = round(t1): AVX-512 in t1; AVX2 in t3, with t1 = t1 +
		// exp2Shift, whose low bits are n+127.
		n := func(r actRegs) reg.Register { return r.t1 }
		if a.ISA == AVX512 {
			each(func(r actRegs) { e.VRNDSCALEPS(operand.U8(0), r.t1, r.t1) })
		} else {
			n = func(r actRegs) reg.Register { return r.t3 }
			each(func(r actRegs) { e.VADDPS(k(exp2Shift), r.t1, r.t1) })
			each(func(r actRegs) { e.VSUBPS(k(exp2Shift), r.t1, r.t3) })
		}
		// t2 = s = x + n·ln2.
		each(func(r actRegs) { e.VFMADD231PS(k(expLn2Hi), n(r), r.t2) })
		each(func(r actRegs) { e.VFMADD231PS(k(expLn2Lo), n(r), r.t2) })
		// t3 = e^-s, by Horner in s.
		each(func(r actRegs) { e.VMOVUPS(k(expQ[5]), r.t3) })
		for i := 4; i >= 0; i-- {
			each(func(r actRegs) { e.VFMADD213PS(k(expQ[i]), r.t2, r.t3) }) // t3 = s·t3 + q
		}
		// t3 = 2^n·e^-s = e^-x.
		if a.ISA == AVX512 {
			each(func(r actRegs) { e.VSCALEFPS(r.t1, r.t3, r.t3) })
		} else {
			each(func(r actRegs) { e.VPSLLD(operand.U8(23), r.t1, r.t1) })
			each(func(r actRegs) { e.VMULPS(r.t1, r.t3, r.t3) })
		}
		// t3 = d = 1 + e^-x, t1 = r ≈ 1/d, then t1 = r + r·(1 - d·r) = 1/d.
		each(func(r actRegs) { e.VADDPS(k(1), r.t3, r.t3) })
		each(func(r actRegs) {
			if a.ISA == AVX512 {
				e.VRCP14PS(r.t3, r.t1)
			} else {
				e.VRCPPS(r.t3, r.t1)
			}
		})
		each(func(r actRegs) { e.VMINPS(k(rcpDMax), r.t3, r.t3) })
		each(func(r actRegs) { e.VFNMADD213PS(k(1), r.t1, r.t3) }) // t3 = 1 - d·r
		each(func(r actRegs) { e.VFMADD231PS(r.t3, r.t1, r.t1) })  // t1 = r + r·t3
		switch {
		case act == ActSiLU:
			each(func(r actRegs) { e.VMULPS(r.t1, r.v, r.v) }) // NaN stays NaN
		case a.ISA == AVX512:
			// σ in the lanes that are not NaN; one vector at a time, as
			// they share the mask register.
			each(func(r actRegs) {
				e.VCMPPS(operand.U8(7), r.v, r.v, a.K) // ordered
				e.VMOVAPS(r.t1, a.K, r.v)
			})
		default:
			each(func(r actRegs) { e.VCMPPS(operand.U8(3), r.v, r.v, r.t3) }) // unordered: NaN lanes
			each(func(r actRegs) { e.VBLENDVPS(r.t3, r.v, r.t1, r.v) })
		}
	}
}
