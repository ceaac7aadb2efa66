package gemm

import (
	"fmt"
	"math"
	"strings"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// General-purpose register assignment. Kernels are ABI0 leaf functions, so
// every register but SP and BP is free; R14 (g under ABIInternal) and R15
// (clobbered by global accesses when dynamically linking) are left alone
// anyway.
var (
	regA    = reg.RSI // A panel pointer, advanced along k
	regB    = reg.RDI // B panel pointer, advanced along k
	regC    = reg.RDX // C tile pointer, advanced by rows in the epilogue
	regK    = reg.RCX // k loop counter
	regLDC  = reg.RBX // runtime ldc in bytes
	regLDC3 = reg.R9  // 3*ldc in bytes
	regBias = reg.R8  // bias pointer
	regTmp  = reg.RAX // scratch for immediates
)

// Opmask register assignment (AVX-512).
var (
	maskStore = reg.K1 // lanes of the ragged column vector
	maskNeg   = reg.K2 // negative lanes for LeakyReLU
)

// Labels are function-local in Go assembly, so every kernel uses the same
// names.
const (
	labelLoop      = "kloop"
	labelTail      = "ktail"
	labelRemainder = "kremainder"
	labelDone      = "kdone"
)

// emitter generates the assembly of one kernel into a build context.
type emitter struct {
	*build.Context
	cfg   Config
	shape shape
	lanes int // floats per vector
	rows  int // rows computed and stored (StoreM)
	vecs  int // column vectors computed and stored (ceil(StoreN/lanes))
	// ragged is the number of lanes stored of the last column vector, or 0
	// when it is stored in full.
	ragged int

	acc   [][]reg.Register // acc[r][j]: row r, column vector j
	bvec  []reg.Register   // B vectors of one k step
	bcast []reg.Register   // A broadcasts (register-broadcast shape)
	temps map[epilogueTemp]reg.Register
	// consts is the file's table of vector constants (act.go).
	consts *ConstPool
	// tposBias is the transposed shape's register for a bias broadcast
	// (AVX2).
	tposBias reg.Register
}

func newEmitter(ctx *build.Context, c Config, consts *ConstPool) *emitter {
	e := &emitter{
		Context: ctx,
		consts:  consts,
		cfg:     c,
		shape:   shapeFor(c),
		lanes:   c.ISA.Lanes(),
		rows:    c.storeM(),
	}
	e.vecs = (c.storeN() + e.lanes - 1) / e.lanes
	e.ragged = c.storeN() % e.lanes

	// Vector registers are assigned statically: accumulators first, then
	// the loop operands. Epilogue temporaries reuse the registers following
	// the accumulators once the loop is done.
	next := 0
	alloc := func() reg.Register {
		r := e.vec(next)
		next++
		return r
	}
	e.acc = make([][]reg.Register, e.rows)
	for r := range e.acc {
		e.acc[r] = make([]reg.Register, e.vecs)
		for j := range e.acc[r] {
			e.acc[r][j] = alloc()
		}
	}
	free := next
	for range e.vecs {
		e.bvec = append(e.bvec, alloc())
	}
	for range e.shape.broadcastRegs {
		e.bcast = append(e.bcast, alloc())
	}
	e.temps = map[epilogueTemp]reg.Register{}
	for i, t := range epilogueTemps(c) {
		e.temps[t] = e.vec(free + i)
	}
	return e
}

// vec returns vector register i of the kernel's ISA.
func (e *emitter) vec(i int) reg.Register {
	s := reg.S256
	if e.cfg.ISA == AVX512 {
		s = reg.S512
	}
	return reg.Vector.Lookup(reg.Index(i), s)
}

// emit appends the kernel function to the context.
func (e *emitter) emit() {
	c := e.cfg
	e.Function(c.Name)
	e.Attributes(attr.NOSPLIT)
	e.Pragma("noescape")
	e.SignatureExpr(c.Signature())
	e.Doc(c.doc()...)

	e.Load(e.Param("a"), regA)
	e.Load(e.Param("b"), regB)
	e.Load(e.Param("c"), regC)

	if e.shape.transposed {
		e.tposInit()
		e.kLoop()
		e.tposFinish()
	} else {
		e.initAccumulators()
		e.kLoop()
	}
	e.epilogue()

	e.VZEROUPPER()
	e.RET()
}

// doc returns the documentation comment of the generated declaration,
// for every ISA.
func (c Config) doc() []string {
	sum := fmt.Sprintf("sum_{p<%s} a[p*%d+r]*b[p*%d+j]", c.kName(), c.MR, c.ldb())
	if c.Bias {
		sum = "bias[r] + " + sum
	}
	if c.Accumulate {
		sum = "C[r*ldc+j] + " + sum
	}
	switch c.Act {
	case ActReLU:
		sum = "max(" + sum + ", 0)"
	case ActLeakyReLU:
		sum = fmt.Sprintf("leakyReLU(%s, %v)", sum, c.Slope)
	case ActClip:
		sum = fmt.Sprintf("clip(%s, %v, %v)", sum, c.Lo, c.Hi)
	case ActHardSigmoid:
		sum = fmt.Sprintf("hardSigmoid(%s, %v, %v)", sum, c.Alpha, c.Beta)
	case ActHardSwish:
		sum = fmt.Sprintf("hardSwish(%s, %v, %v)", sum, c.Alpha, c.Beta)
	case ActSigmoid:
		sum = "sigmoid(" + sum + ")"
	case ActSiLU:
		sum = "silu(" + sum + ")"
	case ActGELU:
		sum = "gelu(" + sum + ")"
	}
	var extra []string
	if c.K > 0 {
		extra = append(extra, fmt.Sprintf("K=%d", c.K))
	}
	if c.LDC > 0 {
		extra = append(extra, fmt.Sprintf("ldc=%d", c.LDC))
	}
	extra = append(extra, fmt.Sprintf("k unrolled %dx", c.unroll()))
	return []string{
		fmt.Sprintf("%s is the %dx%d %v GEMM micro-kernel computing", c.Name, c.MR, c.NR, c.ISA),
		"",
		fmt.Sprintf("\tC[r*ldc+j] = %s", sum),
		"",
		fmt.Sprintf("for r < %d, j < %d (%s).", c.storeM(), c.storeN(), strings.Join(extra, ", ")),
	}
}

// kName is the name of the reduction length in documentation.
func (c Config) kName() string {
	if c.K > 0 {
		return fmt.Sprint(c.K)
	}
	return "k"
}

// zero clears vector register v.
func (e *emitter) zero(v reg.Register) {
	if e.cfg.ISA == AVX512 {
		e.VPXORD(v, v, v) // VXORPS on zmm would need AVX512DQ
	} else {
		e.VXORPS(v, v, v)
	}
}

// initAccumulators sets every accumulator to bias[r] or zero.
func (e *emitter) initAccumulators() {
	if !e.cfg.Bias {
		e.Comment("Zero the accumulators.")
		for _, row := range e.acc {
			for _, v := range row {
				e.zero(v)
			}
		}
		return
	}
	e.Comment("Initialise the accumulators with the bias.")
	e.Load(e.Param("bias"), regBias)
	for r, row := range e.acc {
		e.VBROADCASTSS(operand.Mem{Base: regBias, Disp: 4 * r}, row[0])
		for _, v := range row[1:] {
			e.VMOVAPS(row[0], v)
		}
	}
}

// kLoop emits the reduction over k, unrolled by Config.Unroll.
func (e *emitter) kLoop() {
	c := e.cfg
	u := c.unroll()
	if c.K > 0 {
		n, rem := c.K/u, c.K%u
		e.Commentf("Reduction over K=%d: %d iteration(s) of %d step(s), %d remaining.", c.K, n, u, rem)
		offset := 0
		switch {
		case n == 1:
			e.prefetchA(0, u)
			e.steps(0, u)
			offset = u
		case n > 1:
			e.MOVQ(operand.U32(n), regK)
			e.Label(labelLoop)
			e.prefetchA(0, u)
			e.steps(0, u)
			e.advance(u)
			e.DECQ(regK)
			e.JNZ(operand.LabelRef(labelLoop))
		}
		e.prefetchA(offset, rem)
		e.steps(offset, rem)
		return
	}

	e.Commentf("Reduction over the runtime k: blocks of %d step(s), then single steps.", u)
	e.Load(e.Param("k"), regK)
	if u > 1 {
		e.SUBQ(operand.U32(u), regK)
		e.JL(operand.LabelRef(labelTail))
		e.Label(labelLoop)
		e.prefetchA(0, u)
		e.steps(0, u)
		e.advance(u)
		e.SUBQ(operand.U32(u), regK)
		e.JGE(operand.LabelRef(labelLoop))
		e.Label(labelTail)
		e.ADDQ(operand.U32(u), regK)
	} else {
		e.TESTQ(regK, regK)
	}
	e.JLE(operand.LabelRef(labelDone))
	e.Label(labelRemainder)
	e.prefetchA(0, 1)
	e.steps(0, 1)
	e.advance(1)
	e.DECQ(regK)
	e.JNZ(operand.LabelRef(labelRemainder))
	e.Label(labelDone)
}

// prefetchA emits, for Config.PrefetchA, a PREFETCHT0 for every cache
// line's worth of the A values of n k steps from step first, PrefetchA
// bytes past them. The lines need not be aligned: the runs of consecutive
// calls abut, so every line of the next panel is fetched, some twice.
func (e *emitter) prefetchA(first, n int) {
	d := e.cfg.PrefetchA
	if d == 0 || n == 0 {
		return
	}
	for off := 0; off < 4*n*e.cfg.MR; off += 64 {
		e.PREFETCHT0(operand.Mem{Base: regA, Disp: d + 4*first*e.cfg.MR + off})
	}
}

// steps emits n consecutive k steps starting at step offset first relative
// to the current panel pointers.
func (e *emitter) steps(first, n int) {
	for s := first; s < first+n; s++ {
		e.step(s)
	}
}

// step emits one rank-1 update of the accumulators, for k step s relative
// to the panel pointers.
func (e *emitter) step(s int) {
	c := e.cfg
	if e.shape.transposed {
		e.tposStep(s)
		return
	}
	for j, v := range e.bvec {
		if c.BF16B {
			// Widen bfloat16 to float32: zero-extend each 16-bit value
			// into a 32-bit lane, then move it to the upper half.
			e.VPMOVZXWD(operand.Mem{Base: regB, Disp: 2 * (s*c.ldb() + j*e.lanes)}, v)
			e.VPSLLD(operand.U8(16), v, v)
			continue
		}
		e.VMOVUPS(operand.Mem{Base: regB, Disp: 4 * (s*c.ldb() + j*e.lanes)}, v)
	}
	for r, row := range e.acc {
		a := operand.Mem{Base: regA, Disp: 4 * (s*c.MR + r)}
		if e.shape.embeddedBroadcast {
			for j, v := range row {
				e.VFMADD231PS_BCST(a, e.bvec[j], v)
			}
			continue
		}
		bc := e.bcast[r%len(e.bcast)]
		e.VBROADCASTSS(a, bc)
		for j, v := range row {
			e.VFMADD231PS(bc, e.bvec[j], v)
		}
	}
}

// advance moves the panel pointers forward by n k steps.
func (e *emitter) advance(n int) {
	e.ADDQ(operand.U32(4*n*e.cfg.MR), regA)
	bsize := 4
	if e.cfg.BF16B {
		bsize = 2
	}
	e.ADDQ(operand.U32(bsize*n*e.cfg.ldb()), regB)
}

// epilogue adds C (Accumulate), applies the activation and stores the tile.
func (e *emitter) epilogue() {
	c := e.cfg
	e.Comment("Epilogue: accumulate, activate and store the tile.")
	e.setupTemps()
	if e.shape.transposed && c.Bias {
		e.Load(e.Param("bias"), regBias)
	}
	if c.LDC == 0 {
		e.Load(e.Param("ldc"), regLDC)
		e.SHLQ(operand.U8(2), regLDC)
		if e.rows > 3 {
			e.LEAQ(operand.Mem{Base: regLDC, Index: regLDC, Scale: 2}, regLDC3)
		}
	}
	// The activations that need three scratch registers (sigmoid, SiLU,
	// GELU) take the tile's vectors in groups, their instructions
	// interleaved (ActCode.ApplyAll), as many at once as there are
	// scratch registers (scratchPool, which grows by each stored
	// vector's accumulator); the others one vector at a time. With a
	// runtime ldc a group stays within one group of four rows, which
	// regC addresses.
	interleave := ActScratch(c.Act) == 3
	var pool []reg.Register
	if interleave {
		pool = e.scratchPool()
	}
	type item struct {
		v       reg.Register
		r, j    int
		partial bool
	}
	var items []item
	for r, row := range e.acc {
		for j, v := range row {
			items = append(items, item{v, r, j, e.ragged != 0 && j == len(row)-1})
		}
	}
	quad := 0 // the group of four rows regC points at
	for len(items) > 0 {
		n := 1
		if interleave {
			n = min(len(items), len(pool)/3, maxInterleave)
		}
		if c.LDC == 0 {
			for n > 1 && items[n-1].r/4 != items[0].r/4 {
				n--
			}
			if q := items[0].r / 4; q != quad {
				e.LEAQ(operand.Mem{Base: regC, Index: regLDC, Scale: 4}, regC)
				quad = q
			}
		}
		group := items[:n]
		items = items[n:]
		for _, it := range group {
			if e.shape.transposed && c.Bias {
				e.tposAddBias(it.v, it.r)
			}
			if c.Accumulate {
				e.addC(it.v, e.cAddr(it.r, it.j), it.partial)
			}
		}
		if !interleave {
			e.activate(group[0].v)
		} else {
			vs := make([]reg.Register, n)
			ts := make([][3]reg.Register, n)
			for i, it := range group {
				vs[i], ts[i] = it.v, [3]reg.Register(pool[3*i:])
			}
			ActCode{Ctx: e.Context, ISA: c.ISA, Pool: e.consts, K: maskNeg}.ApplyAll(c.Act, c.Alpha, c.Beta, vs, ts)
		}
		for _, it := range group {
			e.store(it.v, e.cAddr(it.r, it.j), it.partial)
			if interleave {
				pool = append(pool, it.v)
			}
		}
	}
}

// maxInterleave bounds the vectors the epilogue activates at once.
const maxInterleave = 4

// scratchPool lists the vector registers the epilogue may use as
// activation scratch: the three temporaries first, then every register
// that neither the accumulators nor the other temporaries hold.
func (e *emitter) scratchPool() []reg.Register {
	used := map[reg.Register]bool{}
	for _, row := range e.acc {
		for _, v := range row {
			used[v] = true
		}
	}
	for _, t := range e.temps {
		used[t] = true
	}
	if e.tposBias != nil {
		used[e.tposBias] = true
	}
	pool := []reg.Register{e.temps[tempT1], e.temps[tempT2], e.temps[tempT3]}
	regs := 16
	if e.cfg.ISA == AVX512 {
		regs = 32
	}
	for i := range regs {
		if v := e.vec(i); !used[v] {
			pool = append(pool, v)
		}
	}
	return pool
}

// setupTemps materialises the epilogue constants: zero, slope and masks.
func (e *emitter) setupTemps() {
	c := e.cfg
	for _, t := range epilogueTemps(c) {
		v := e.temps[t]
		switch t {
		case tempZero:
			e.zero(v)
		case tempSlope:
			e.broadcast(c.Slope, v)
		case tempLo:
			e.broadcast(c.Lo, v)
		case tempHi:
			e.broadcast(c.Hi, v)
		case tempMask:
			// Sign-extend bytes 0xff (stored lane) or 0 into 32-bit lanes.
			x := v.(reg.VecPhysical).AsX()
			e.MOVQ(operand.U64(uint64(1)<<(8*e.ragged)-1), regTmp)
			e.VMOVQ(regTmp, x)
			e.VPMOVSXBD(x, v)
		}
	}
	if c.ISA == AVX512 && e.ragged != 0 {
		e.MOVL(operand.U32(uint32(1)<<e.ragged-1), regTmp.As32())
		e.KMOVW(regTmp.As32(), maskStore)
	}
}

// broadcast sets every lane of v to f.
func (e *emitter) broadcast(f float32, v reg.Register) {
	e.MOVL(operand.U32(math.Float32bits(f)), regTmp.As32())
	if e.cfg.ISA == AVX512 {
		e.VPBROADCASTD(regTmp.As32(), v)
		return
	}
	x := v.(reg.VecPhysical).AsX()
	e.VMOVD(regTmp.As32(), x)
	e.VBROADCASTSS(x, v)
}

// cAddr returns the address of column vector j of row r of C.
func (e *emitter) cAddr(r, j int) operand.Mem {
	disp := 4 * j * e.lanes
	if e.cfg.LDC > 0 {
		return operand.Mem{Base: regC, Disp: disp + 4*r*e.cfg.LDC}
	}
	// Rows come in groups of four from regC, which advances by 4*ldc.
	switch r % 4 {
	case 1:
		return operand.Mem{Base: regC, Index: regLDC, Scale: 1, Disp: disp}
	case 2:
		return operand.Mem{Base: regC, Index: regLDC, Scale: 2, Disp: disp}
	case 3:
		return operand.Mem{Base: regC, Index: regLDC3, Scale: 1, Disp: disp}
	}
	return operand.Mem{Base: regC, Disp: disp}
}

// addC adds the current contents of C at m to v.
func (e *emitter) addC(v reg.Register, m operand.Mem, partial bool) {
	switch {
	case !partial:
		e.VADDPS(m, v, v)
	case e.cfg.ISA == AVX512:
		// Merge-masked: masked-off lanes are not read and keep v.
		e.VADDPS(m, v, maskStore, v)
	default:
		t := e.temps[tempValue]
		e.VMASKMOVPS(m, e.temps[tempMask], t)
		e.VADDPS(t, v, v)
	}
}

// activate applies the activation to v in place.
func (e *emitter) activate(v reg.Register) {
	switch e.cfg.Act {
	case ActReLU:
		// max(0, v) with v as the second source returns v when v is NaN.
		e.VMAXPS(v, e.temps[tempZero], v)
	case ActLeakyReLU:
		slope := e.temps[tempSlope]
		if e.cfg.ISA == AVX512 {
			e.VCMPPS(operand.U8(1), e.temps[tempZero], v, maskNeg) // v < 0
			e.VMULPS(slope, v, maskNeg, v)
		} else {
			t := e.temps[tempValue]
			e.VMULPS(slope, v, t)
			e.VBLENDVPS(v, t, v, v) // take slope*v where v's sign bit is set
		}
	case ActClip:
		// v as the second source: a NaN v stays NaN through both.
		e.VMAXPS(v, e.temps[tempLo], v)
		e.VMINPS(v, e.temps[tempHi], v)
	default:
		ActCode{Ctx: e.Context, ISA: e.cfg.ISA, Pool: e.consts, K: maskNeg,
			T: [3]reg.Register{e.temps[tempT1], e.temps[tempT2], e.temps[tempT3]}}.Apply(e.cfg.Act, e.cfg.Alpha, e.cfg.Beta, v)
	}
}

// store writes v to C at m.
func (e *emitter) store(v reg.Register, m operand.Mem, partial bool) {
	switch {
	case !partial:
		e.VMOVUPS(v, m)
	case e.cfg.ISA == AVX512:
		e.VMOVUPS(v, maskStore, m)
	default:
		e.VMASKMOVPS(v, e.temps[tempMask], m)
	}
}
