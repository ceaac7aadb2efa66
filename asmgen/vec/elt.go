package vec

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// The elementwise kernels: the layers that make one pass over memory
// (a batchnorm that could not be folded, a residual add, squeeze-excite's
// channel-broadcast multiply, a standalone activation) as SIMD streams,
// where scalar Go took a function call and a switch per element.

// AffineName and BinaryName name the elementwise kernels for isa.
func AffineName(isa gemm.ISA) string { return "vecAffine" + isa.String() }
func BinaryName(isa gemm.ISA) string { return "vecBinary" + isa.String() }

// eltBlock is the most vectors the elementwise kernels compute together:
// enough independent chains to hide sigmoid's latency.
const eltBlock = 4

// laneMasks emits AVX2's table of lane masks for VMASKMOVPS: 8 words of
// all ones, then 8 of zeros, so that the 32 bytes at lanes8+4*(8-r) set
// the first r lanes.
func laneMasks(ctx *build.Context) (lanes8 operand.Mem) {
	lanes8 = ctx.StaticGlobal("lanes8")
	ctx.DataAttributes(attr.RODATA | attr.NOPTR)
	for i := range 16 {
		w := uint32(0)
		if i < 8 {
			w = ^w
		}
		ctx.AppendDatum(operand.U32(w))
	}
	return lanes8
}

// eltRegs are what eltStream's passes share: the activation's code and
// its vectors of 0, slope and hi (see activate).
type eltRegs struct {
	act             operand.Op
	zero, slope, hi reg.VecVirtual
}

// eltStream emits one pass over n elements (a register, counted down to
// zero) of the streams ptrs (registers, advanced past the n elements;
// ptrs[0] is the destination), so that nothing past the n elements is
// read or written. A stream of fewer than lanes elements is one masked
// vector (AVX-512's opmask from tail16, AVX2's VMASKMOVPS with a mask
// from lanes8). A longer one first computes the vector that ends at its
// end, then goes in blocks of eltBlock vectors and single vectors until
// fewer than lanes elements are left, and stores that vector last: loaded
// before anything is stored, it reads the inputs even where the
// destination is one of them, and it overlaps the vectors before it with
// the same values. So no store is partial: a masked store in place made
// the next channel's first load, which overlaps its 64 bytes, wait for
// it (vecAffine over 1024 channels of 7x7 took twice as long in place).
// compute sets the vectors of acc from load(p, i), the i-th vector of
// stream p (a memory operand, or a register loaded under the mask); then
// the activation is applied. Labels start with prefix.
func eltStream(ctx *build.Context, isa gemm.ISA, k *consts, prefix string, n reg.Register, ptrs []reg.Register, r eltRegs,
	compute func(prefix string, acc []reg.VecVirtual, load func(p, i int) operand.Op)) {
	L := isa.Lanes()
	vec := newVec(ctx, isa)
	avx512 := isa == gemm.AVX512
	const (
		whole  = iota // vectors from ptrs, stored there
		masked        // n < L elements from ptrs, stored there
		last          // the vector ending at ptrs+n, kept in a register
	)
	step := func(label string, nv, mode int) []reg.VecVirtual {
		acc := make([]reg.VecVirtual, nv)
		for i := range acc {
			acc[i] = vec()
		}
		load := func(p, i int) operand.Op { return operand.Mem{Base: ptrs[p], Disp: 4 * L * i} }
		store := func(a reg.VecVirtual, i int) { ctx.VMOVUPS(a, operand.Mem{Base: ptrs[0], Disp: 4 * L * i}) }
		switch {
		case mode == last:
			load = func(p, i int) operand.Op { return operand.Mem{Base: ptrs[p], Index: n, Scale: 4, Disp: -4 * L} }
			store = nil
		case mode == masked && avx512:
			tbl, km := ctx.GP64(), ctx.K()
			ctx.LEAQ(k.tail16, tbl)
			ctx.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, km)
			load = func(p, i int) operand.Op {
				v := vec()
				ctx.VMOVUPS_Z(operand.Mem{Base: ptrs[p]}, km, v)
				return v
			}
			store = func(a reg.VecVirtual, i int) { ctx.VMOVUPS(a, km, operand.Mem{Base: ptrs[0]}) }
		case mode == masked:
			tbl, neg, mask := ctx.GP64(), ctx.GP64(), vec()
			ctx.LEAQ(k.lanes8, tbl)
			ctx.MOVQ(n, neg)
			ctx.NEGQ(neg)
			ctx.VMOVUPS(operand.Mem{Base: tbl, Index: neg, Scale: 4, Disp: 32}, mask)
			load = func(p, i int) operand.Op {
				v := vec()
				ctx.VMASKMOVPS(operand.Mem{Base: ptrs[p]}, mask, v)
				return v
			}
			store = func(a reg.VecVirtual, i int) { ctx.VMASKMOVPS(a, mask, operand.Mem{Base: ptrs[0]}) }
		}
		compute(label, acc, load)
		activate(ctx, isa, k.act, label, r.act, acc, r.zero, r.slope, r.hi, vec)
		if store != nil {
			for i, a := range acc {
				store(a, i)
			}
		}
		return acc
	}
	advance := func() {
		for _, p := range ptrs {
			ctx.LEAQ(operand.Mem{Base: p, Index: n, Scale: 4}, p)
		}
	}
	ctx.CMPQ(n, operand.U32(L))
	ctx.JGE(operand.LabelRef(prefix + "long"))
	ctx.TESTQ(n, n)
	ctx.JZ(operand.LabelRef(prefix + "done"))
	step(prefix+"m", 1, masked)
	advance()
	ctx.JMP(operand.LabelRef(prefix + "done"))

	ctx.Label(prefix + "long")
	held := step(prefix+"l", 1, last)[0]
	end := ctx.GP64() // where held goes
	ctx.LEAQ(operand.Mem{Base: ptrs[0], Index: n, Scale: 4, Disp: -4 * L}, end)
	ctx.Label(prefix + "block")
	ctx.CMPQ(n, operand.U32(eltBlock*L))
	ctx.JL(operand.LabelRef(prefix + "one"))
	step(prefix+"b", eltBlock, whole)
	for _, p := range ptrs {
		ctx.ADDQ(operand.U32(4*L*eltBlock), p)
	}
	ctx.SUBQ(operand.U32(eltBlock*L), n)
	ctx.JMP(operand.LabelRef(prefix + "block"))

	ctx.Label(prefix + "one")
	ctx.CMPQ(n, operand.U32(L))
	ctx.JL(operand.LabelRef(prefix + "tail"))
	step(prefix+"v", 1, whole)
	for _, p := range ptrs {
		ctx.ADDQ(operand.U32(4*L), p)
	}
	ctx.SUBQ(operand.U32(L), n)
	ctx.JMP(operand.LabelRef(prefix + "one"))

	ctx.Label(prefix + "tail")
	ctx.VMOVUPS(held, operand.Mem{Base: end})
	advance()
	ctx.Label(prefix + "done")
}

// actRegs loads the activation's parameters of an elementwise kernel.
func actRegs(ctx *build.Context, isa gemm.ISA) eltRegs {
	vec := newVec(ctx, isa)
	r := eltRegs{act: paramAddr(ctx, "act"), zero: vec(), slope: vec(), hi: vec()}
	ctx.VBROADCASTSS(paramAddr(ctx, "slope"), r.slope)
	ctx.VBROADCASTSS(paramAddr(ctx, "hi"), r.hi)
	ctx.VXORPS(r.zero.AsY(), r.zero.AsY(), r.zero.AsY()) // zeroes the whole register
	return r
}

// affine emits a per-channel affine map with an activation: its Go
// equivalent is
//
//	for ch := range c {
//		for i := range n {
//			d[ch*n+i] = act(x[ch*n+i]*s[ch*ss] + t[ch*ts]) // see activate
//		}
//	}
//
// with a multiplication and an addition, each rounded, as Go computes
// x*s + t: an unfolded batchnorm's scale and shift (ss = ts = 1),
// a multiply by a broadcast value (t -0, the identity of addition, with
// ts = 0), an add of one (s 1, ss = 0), or an activation alone. d may be
// x. Channel by channel, each as eltStream's pass, so nothing past the
// c*n elements is read or written.
func affine(ctx *build.Context, isa gemm.ISA, k *consts) {
	ctx.Function(AffineName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, x, s, t *float32, c, n, ss, ts, act int, slope, hi float32)")
	ctx.Doc(
		AffineName(isa)+" computes d[ch*n+i] = act(x[ch*n+i]*s[ch*ss] + t[ch*ts]) for ch < c, i < n,",
		"the product and the sum each rounded, with act as vecDepthwise's. It reads and writes nothing",
		"past the c*n elements.",
	)
	vec := newVec(ctx, isa)
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	x := ctx.Load(ctx.Param("x"), ctx.GP64())
	s := ctx.Load(ctx.Param("s"), ctx.GP64())
	t := ctx.Load(ctx.Param("t"), ctx.GP64())
	c := ctx.Load(ctx.Param("c"), ctx.GP64())
	ss := ctx.Load(ctx.Param("ss"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ss)
	ts := ctx.Load(ctx.Param("ts"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ts)
	r := actRegs(ctx, isa)
	sv, tv := vec(), vec()
	ctx.Label("channel")
	ctx.CMPQ(c, operand.U32(0))
	ctx.JLE(operand.LabelRef("done"))
	ctx.VBROADCASTSS(operand.Mem{Base: s}, sv)
	ctx.VBROADCASTSS(operand.Mem{Base: t}, tv)
	n := ctx.GP64()
	ctx.MOVQ(paramAddr(ctx, "n"), n)
	eltStream(ctx, isa, k, "e", n, []reg.Register{d, x}, r, func(prefix string, acc []reg.VecVirtual, load func(p, i int) operand.Op) {
		for i, a := range acc {
			ctx.VMULPS(load(1, i), sv, a)
			ctx.VADDPS(tv, a, a)
		}
	})
	ctx.ADDQ(ss, s)
	ctx.ADDQ(ts, t)
	ctx.DECQ(c)
	ctx.JMP(operand.LabelRef("channel"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// binary emits elementwise arithmetic with an activation: its Go
// equivalent is
//
//	for i := range n {
//		var v float32
//		switch op {
//		case 0:
//			v = a[i] + b[i]
//		case 1:
//			v = a[i] - b[i]
//		case 2:
//			v = a[i] * b[i]
//		case 3:
//			v = a[i] / b[i]
//		}
//		d[i] = act(v) // see activate
//	}
//
// as eltStream's pass, so nothing past the n elements is read or
// written. d may be a or b.
func binary(ctx *build.Context, isa gemm.ISA, k *consts) {
	ctx.Function(BinaryName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, a, b *float32, n, op, act int, slope, hi float32)")
	ctx.Doc(
		BinaryName(isa)+" computes d[i] = act(a[i] op b[i]) for i < n, op + for op 0, - for 1, * for 2",
		"and / for 3, with act as vecDepthwise's. It reads and writes nothing past the n elements.",
	)
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	a := ctx.Load(ctx.Param("a"), ctx.GP64())
	b := ctx.Load(ctx.Param("b"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	op := paramAddr(ctx, "op")
	r := actRegs(ctx, isa)
	eltStream(ctx, isa, k, "e", n, []reg.Register{d, a, b}, r, func(prefix string, acc []reg.VecVirtual, load func(p, i int) operand.Op) {
		for i, v := range acc {
			ctx.VMOVUPS(load(1, i), v)
		}
		ctx.CMPQ(op, operand.U32(1))
		ctx.JL(operand.LabelRef(prefix + "add"))
		ctx.JE(operand.LabelRef(prefix + "sub"))
		ctx.CMPQ(op, operand.U32(2))
		ctx.JE(operand.LabelRef(prefix + "mul"))
		for _, o := range []struct {
			label string
			ins   func(ops ...operand.Op)
		}{{"div", ctx.VDIVPS}, {"add", ctx.VADDPS}, {"sub", ctx.VSUBPS}, {"mul", ctx.VMULPS}} {
			if o.label != "div" {
				ctx.Label(prefix + o.label)
			}
			for i, v := range acc {
				o.ins(load(2, i), v, v)
			}
			if o.label != "mul" {
				ctx.JMP(operand.LabelRef(prefix + "op"))
			}
		}
		ctx.Label(prefix + "op")
	})
	ctx.VZEROUPPER()
	ctx.RET()
}

// MeanName is the name of the global average pooling kernel for isa.
func MeanName(isa gemm.ISA) string { return "vecMean" + isa.String() }

// mean emits global average pooling: d[ch] = the mean of x[ch*n : ch*n+n]
// for ch < c, summed in float64 (as rtGlobalAvg does in Go) by four vector
// accumulators of widened values, then rounded to float32. Squeeze-excite
// blocks pool every block's full tensor, which Go's scalar float64 sum did
// at about 0.27 ns a value. On AVX-512 the last block of 8 values is
// masked; on AVX2 the values past the last 4 are added one by one. It reads
// nothing past the c*n values.
func mean(ctx *build.Context, isa gemm.ISA, k *consts) {
	ctx.Function(MeanName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(d, x *float32, c, n int)")
	ctx.Doc(MeanName(isa) + " sets d[ch] to the mean of x[ch*n : ch*n+n], summed in float64, for ch < c.")
	avx512 := isa == gemm.AVX512
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	x := ctx.Load(ctx.Param("x"), ctx.GP64())
	c := ctx.Load(ctx.Param("c"), ctx.GP64())
	nAddr := paramAddr(ctx, "n")
	// A vector of doubles: zmm (8) or ymm (4), widened from half as many
	// bytes of floats.
	wide, step := 8, 32
	newAcc := ctx.ZMM
	if !avx512 {
		wide, step = 4, 16
		newAcc = ctx.YMM
	}
	// inv = 1/n as a double, in every lane of a scalar register.
	inv := ctx.XMM()
	{
		t, one := ctx.GP64(), ctx.XMM()
		ctx.MOVQ(operand.U64(math.Float64bits(1)), t)
		ctx.MOVQ(t, one)
		ctx.VCVTSI2SDQ(nAddr, inv, inv)
		ctx.VDIVSD(inv, one, inv)
	}
	var tbl reg.GPVirtual
	var km reg.Register
	if avx512 {
		tbl = ctx.GP64()
		ctx.LEAQ(k.tail16, tbl)
		km = ctx.K()
	}
	acc := [4]reg.VecVirtual{newAcc(), newAcc(), newAcc(), newAcc()}
	var tail reg.VecVirtual // AVX2: the last values' sum
	if !avx512 {
		tail = ctx.XMM()
	}
	ctx.Label("channel")
	ctx.TESTQ(c, c)
	ctx.JLE(operand.LabelRef("done"))
	for _, a := range acc {
		ctx.VXORPD(a, a, a)
	}
	if !avx512 {
		ctx.VXORPD(tail, tail, tail)
	}
	n := ctx.GP64()
	ctx.MOVQ(nAddr, n)
	// Four vectors at a time.
	ctx.Label("block")
	ctx.CMPQ(n, operand.U32(4*wide))
	ctx.JL(operand.LabelRef("single"))
	for i, a := range acc {
		v := newAcc()
		ctx.VCVTPS2PD(operand.Mem{Base: x, Disp: i * step}, v)
		ctx.VADDPD(v, a, a)
	}
	ctx.ADDQ(operand.U32(4*step), x)
	ctx.SUBQ(operand.U32(4*wide), n)
	ctx.JMP(operand.LabelRef("block"))
	// Then one vector at a time, the last one masked on AVX-512.
	ctx.Label("single")
	ctx.CMPQ(n, operand.U32(wide))
	ctx.JL(operand.LabelRef("tail"))
	{
		v := newAcc()
		ctx.VCVTPS2PD(operand.Mem{Base: x}, v)
		ctx.VADDPD(v, acc[0], acc[0])
	}
	ctx.ADDQ(operand.U32(step), x)
	ctx.SUBQ(operand.U32(wide), n)
	ctx.JMP(operand.LabelRef("single"))
	ctx.Label("tail")
	if avx512 {
		ctx.TESTQ(n, n)
		ctx.JZ(operand.LabelRef("reduce"))
		ctx.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, km)
		v := newAcc()
		ctx.VCVTPS2PD_Z(operand.Mem{Base: x}, km, v)
		ctx.VADDPD(v, acc[1], acc[1])
		ctx.LEAQ(operand.Mem{Base: x, Index: n, Scale: 4}, x)
	} else {
		s := ctx.XMM()
		ctx.Label("scalar")
		ctx.TESTQ(n, n)
		ctx.JZ(operand.LabelRef("reduce"))
		ctx.VCVTSS2SD(operand.Mem{Base: x}, s, s)
		ctx.VADDSD(s, tail, tail)
		ctx.ADDQ(operand.U32(4), x)
		ctx.DECQ(n)
		ctx.JMP(operand.LabelRef("scalar"))
	}
	ctx.Label("reduce")
	ctx.VADDPD(acc[1], acc[0], acc[0])
	ctx.VADDPD(acc[3], acc[2], acc[2])
	ctx.VADDPD(acc[2], acc[0], acc[0])
	sum := acc[0]
	if avx512 {
		hi := ctx.YMM()
		ctx.VEXTRACTF64X4(operand.U8(1), sum, hi)
		ctx.VADDPD(hi, sum.AsY(), hi)
		lo := ctx.XMM()
		ctx.VEXTRACTF128(operand.U8(1), hi, lo)
		ctx.VADDPD(lo, hi.AsX(), lo)
		h := ctx.XMM()
		ctx.VUNPCKHPD(lo, lo, h)
		ctx.VADDSD(h, lo, lo)
		ctx.VMULSD(inv, lo, lo)
		ctx.VCVTSD2SS(lo, lo, lo)
		ctx.VMOVSS(lo, operand.Mem{Base: d})
	} else {
		lo := ctx.XMM()
		ctx.VEXTRACTF128(operand.U8(1), sum, lo)
		ctx.VADDPD(lo, sum.AsX(), lo)
		h := ctx.XMM()
		ctx.VUNPCKHPD(lo, lo, h)
		ctx.VADDSD(h, lo, lo)
		ctx.VADDSD(tail, lo, lo)
		ctx.VMULSD(inv, lo, lo)
		ctx.VCVTSD2SS(lo, lo, lo)
		ctx.VMOVSS(lo, operand.Mem{Base: d})
	}
	ctx.ADDQ(operand.U32(4), d)
	ctx.DECQ(c)
	ctx.JMP(operand.LabelRef("channel"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// LayerNormName is the name of the layer normalisation kernel for isa.
func LayerNormName(isa gemm.ISA) string { return "vecLayerNorm" + isa.String() }

// LayerNormStep is how many positions the layer normalisation kernels
// take at a time on every ISA: they accept n a multiple of it, and
// codegen/rt normalises the rest in Go.
const LayerNormStep = 8

// layerNorm emits the layer normalisation kernel: over n positions (a
// multiple of LayerNormStep) of c channels of x, ld apart, at each
// position
//
//	μ = Σ_ch x / c
//	σ² = max(Σ_ch x² / c − μ², 0)
//	d = float32(((x − μ) · 1/√(σ² + eps)) · w[ch] + b[ch])
//
// all in float64, each operation rounded as Go's scalar code rounds it
// on amd64 (no fused multiply-add), so that the two agree to the bit.
// Positions go two vectors of doubles at a time (16 on AVX-512, 8 on
// AVX2), then on AVX-512 one for the last 8: the sums of a block stay in
// registers while the block's channels are read twice, once to sum and
// once to write.
func layerNorm(ctx *build.Context, isa gemm.ISA) {
	ctx.Function(LayerNormName(isa))
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr(layerNormSig)
	ctx.Doc(layerNormDoc(LayerNormName(isa))...)
	avx512 := isa == gemm.AVX512
	// A vector of doubles (zmm: 8, ymm: 4), widened from a ymm or xmm of
	// floats of step bytes.
	wide, step := 8, 32
	newD, half := ctx.ZMM, func(v reg.VecVirtual) reg.Register { return v.AsY() }
	if !avx512 {
		wide, step = 4, 16
		newD, half = ctx.YMM, func(v reg.VecVirtual) reg.Register { return v.AsX() }
	}
	d := ctx.Load(ctx.Param("d"), ctx.GP64())
	x := ctx.Load(ctx.Param("x"), ctx.GP64())
	n := ctx.Load(ctx.Param("n"), ctx.GP64())
	ld4 := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld4)
	cAddr := paramAddr(ctx, "c")
	// bcastD sets every lane of v to the double in the low lane of s.
	bcastD := func(s reg.VecVirtual, v reg.VecVirtual) { ctx.VBROADCASTSD(s.AsX(), v) }
	cv, one, eps, zero := newD(), newD(), newD(), newD()
	{
		t := ctx.XMM()
		ctx.VCVTSI2SDQ(cAddr, t, t)
		bcastD(t, cv)
		g := ctx.GP64()
		ctx.MOVQ(operand.U64(math.Float64bits(1)), g)
		ctx.MOVQ(g, t)
		bcastD(t, one)
		ctx.VBROADCASTSD(paramAddr(ctx, "eps"), eps)
		ctx.VXORPD(zero, zero, zero)
	}
	// block emits nv vectors of positions from x and d.
	block := func(prefix string, nv int) {
		s, q := make([]reg.VecVirtual, nv), make([]reg.VecVirtual, nv)
		for j := range nv {
			s[j], q[j] = newD(), newD()
			ctx.VXORPD(s[j], s[j], s[j])
			ctx.VXORPD(q[j], q[j], q[j])
		}
		xp, cc := ctx.GP64(), ctx.GP64()
		ctx.MOVQ(x, xp)
		ctx.MOVQ(cAddr, cc)
		ctx.Label(prefix + "sum")
		for j := range nv {
			v, t := newD(), newD()
			ctx.VCVTPS2PD(operand.Mem{Base: xp, Disp: j * step}, v)
			ctx.VADDPD(v, s[j], s[j])
			ctx.VMULPD(v, v, t)
			ctx.VADDPD(t, q[j], q[j])
		}
		ctx.ADDQ(ld4, xp)
		ctx.DECQ(cc)
		ctx.JNZ(operand.LabelRef(prefix + "sum"))
		// μ = s/c; 1/σ = 1/√(max(q/c − μ², 0) + eps), in s and q.
		for j := range nv {
			t := newD()
			ctx.VDIVPD(cv, s[j], s[j])
			ctx.VDIVPD(cv, q[j], q[j])
			ctx.VMULPD(s[j], s[j], t)
			ctx.VSUBPD(t, q[j], q[j])
			ctx.VMAXPD(q[j], zero, q[j]) // a NaN stays: MAXPD returns its second source
			ctx.VADDPD(eps, q[j], q[j])
			ctx.VSQRTPD(q[j], q[j])
			ctx.VDIVPD(q[j], one, q[j])
		}
		dp, wp, bp := ctx.GP64(), ctx.GP64(), ctx.GP64()
		ctx.MOVQ(x, xp)
		ctx.MOVQ(d, dp)
		ctx.MOVQ(paramAddr(ctx, "w"), wp)
		ctx.MOVQ(paramAddr(ctx, "b"), bp)
		ctx.MOVQ(cAddr, cc)
		ctx.Label(prefix + "norm")
		wv, bv := newD(), newD()
		ctx.VBROADCASTSS(operand.Mem{Base: wp}, half(wv))
		ctx.VCVTPS2PD(half(wv), wv)
		ctx.VBROADCASTSS(operand.Mem{Base: bp}, half(bv))
		ctx.VCVTPS2PD(half(bv), bv)
		for j := range nv {
			v := newD()
			ctx.VCVTPS2PD(operand.Mem{Base: xp, Disp: j * step}, v)
			ctx.VSUBPD(s[j], v, v)
			ctx.VMULPD(q[j], v, v)
			ctx.VMULPD(wv, v, v)
			ctx.VADDPD(bv, v, v)
			if avx512 {
				ctx.VCVTPD2PS(v, v.AsY())
			} else {
				ctx.VCVTPD2PSY(v, v.AsX())
			}
			ctx.VMOVUPS(half(v), operand.Mem{Base: dp, Disp: j * step})
		}
		ctx.ADDQ(ld4, xp)
		ctx.ADDQ(ld4, dp)
		ctx.ADDQ(operand.U32(4), wp)
		ctx.ADDQ(operand.U32(4), bp)
		ctx.DECQ(cc)
		ctx.JNZ(operand.LabelRef(prefix + "norm"))
		ctx.ADDQ(operand.U32(nv*step), x)
		ctx.ADDQ(operand.U32(nv*step), d)
		ctx.SUBQ(operand.U32(nv*wide), n)
	}
	ctx.Label("pair")
	ctx.CMPQ(n, operand.U32(2*wide))
	ctx.JL(operand.LabelRef("single"))
	block("p", 2)
	ctx.JMP(operand.LabelRef("pair"))
	ctx.Label("single")
	if 2*wide > LayerNormStep { // a step left after the pairs
		ctx.CMPQ(n, operand.U32(wide))
		ctx.JL(operand.LabelRef("done"))
		block("s", 1)
	}
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// layerNormSig is the layer normalisation kernels' Go signature on every
// ISA.
const layerNormSig = "func(d, x, w, b *float32, c, n, ld int, eps float64)"

// layerNormDoc is the doc comment of layer normalisation kernel name.
func layerNormDoc(name string) []string {
	return []string{
		name + " normalises positions i < n of x over its c channels, ld apart:",
		"d[ch*ld+i] = ((x[ch*ld+i] - μ)/√(σ² + eps))·w[ch] + b[ch], with μ and σ² the mean",
		"and the biased variance max(E[x²] − μ², 0) of x[ch*ld+i] over ch < c, in float64.",
		fmt.Sprintf("n is a multiple of %d and c at least 1. d may be x.", LayerNormStep),
	}
}
