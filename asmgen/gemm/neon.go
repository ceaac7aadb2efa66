package gemm

import (
	"bytes"
	"fmt"
	"go/format"
	"math"
	"strings"

	"github.com/cnnc/cnnc/asmgen/arm64"
)

// NEON kernels: the same Config, semantics and Reference as the amd64
// ones, written as Go arm64 assembly by asmgen/arm64 (avo writes only
// amd64).
//
// The k loop loads the NR/4 B vectors of a step and the MR values of A as
// ceil(MR/4) vectors, all with post-incremented VLD1, and updates each
// accumulator with one FMLA by element (fmla Vacc.4S, Vb.4S, Va.S[r%4]):
// one A vector serves four rows, so no broadcast is needed. The epilogue
// works on one vector at a time in the registers the loop leaves free;
// the activations read their constants from registers filled once per
// call, full vectors (0, 1, clip bounds) or four scalars per register
// (slope, alpha, beta, sigmoid's) used by element or through VDUP.
//
// A ragged edge of 1 to 3 columns is computed transposed
// (neon_tposed.go).
//
// ARM's FMAX and FMIN return NaN when either operand is NaN, so ReLU, clip
// and the hard activations propagate NaN without the operand-order care
// the x86 code needs, and so does sigmoid's clamp.

// Build constraints of GenerateNEON's files.
const NEONAsmConstraint = "arm64 && !purego"

// General-purpose registers of the NEON kernels (ABI0 leaves: R18, the
// platform register, R26-R29 and R30 (LR) are left alone; Go's assembler
// uses R27 for large constants).
const (
	nRegA    arm64.Reg = 0 // A panel, post-incremented along k
	nRegB    arm64.Reg = 1 // B panel, post-incremented along k
	nRegC    arm64.Reg = 2 // C row, advanced by ldc in the epilogue
	nRegK    arm64.Reg = 3 // k loop counter
	nRegLDC  arm64.Reg = 4 // runtime ldc in bytes
	nRegBias arm64.Reg = 5 // bias pointer, post-incremented by row
	nRegLDB  arm64.Reg = 6 // bytes from the end of one B row to the next (LDB)
	nRegTmp  arm64.Reg = 9 // constants' bits
)

// neonEpilogue is the register layout of a NEON kernel's epilogue: vector
// constants and scratch registers, after the accumulators.
type neonEpilogue struct {
	zero, one bool      // full vectors of 0 and 1
	vecs      []float32 // other full-vector constants (clip's bounds)
	scalars   []float32 // constants read by lane, four per register
	scratch   int       // scratch vectors
}

// Indices into neonEpilogue.scalars of GELU's constants: 1/√2, the
// clamp's bounds, 1/2, then A's and B's coefficients (act.go).
const (
	geluInvSqrt2 = iota
	geluHi
	geluLo
	geluHalf
	geluA0
	geluB0 = geluA0 + len(geluA)
)

// Indices into neonEpilogue.scalars of sigmoid's constants.
const (
	sigXLo = iota
	sigXHi
	sigNegLog2e
	sigLn2Hi
	sigLn2Lo
	sigQ5 // e^-s's coefficients q5 (of s^5) ... q0
)

func neonEpilogueFor(c Config) neonEpilogue {
	var e neonEpilogue
	switch c.Act {
	case ActReLU:
		e.zero = true
	case ActLeakyReLU:
		e.scalars, e.scratch = []float32{c.Slope}, 2
	case ActClip:
		e.vecs = []float32{c.Lo, c.Hi}
	case ActHardSigmoid, ActHardSwish:
		e.zero, e.one, e.scalars, e.scratch = true, true, []float32{c.Alpha, c.Beta}, 1
	case ActGELU:
		e.scratch = 4
		e.scalars = []float32{1 / math.Sqrt2, geluClamp, -geluClamp, 0.5}
		e.scalars = append(e.scalars, geluA[:]...)
		e.scalars = append(e.scalars, geluB[:]...)
	case ActSigmoid, ActSiLU:
		e.one, e.scratch = true, 4
		e.scalars = NEONSigmoidConsts()
	}
	if c.Accumulate {
		e.scratch = max(e.scratch, 1)
	}
	if r := c.storeN() % 4; r == 3 {
		// The third lane of a ragged vector is loaded or stored through
		// one more register.
		e.scratch = max(e.scratch, 1)
		if c.Accumulate {
			e.scratch = max(e.scratch, 2)
		}
	}
	return e
}

// constRegs is the number of registers holding constants.
func (e neonEpilogue) constRegs() int {
	n := len(e.vecs) + (len(e.scalars)+3)/4
	if e.zero {
		n++
	}
	if e.one {
		n++
	}
	return n
}

// neonBudget returns the register demand of the full MR x NR tile of NEON
// kernel c.
func neonBudget(c Config) regBudget {
	nv := c.NR / 4
	e := neonEpilogueFor(c)
	if ok, _ := neonTransposed(c); ok {
		// The rows, then V16-V31 for the loop and the transposition.
		return regBudget{acc: c.MR, loop: 16, epilogue: e.constRegs() + e.scratch}
	}
	return regBudget{acc: c.MR * nv, loop: nv + (c.MR+3)/4, epilogue: e.constRegs() + e.scratch}
}

// GenerateNEON returns the Go assembly (for a file named *_arm64.s) and the
// Go declaration stubs (for a *_arm64.go file) of the NEON kernels cfgs in
// package pkg, both constrained by NEONAsmConstraint; GenerateFallback
// writes the portable versions of the same configs. The kernels are
// emitted in the order given; names must be unique.
func GenerateNEON(pkg string, cfgs []Config) (asm, stubs []byte, err error) {
	if err := validateAll(pkg, cfgs); err != nil {
		return nil, nil, err
	}
	var s, g bytes.Buffer
	fmt.Fprintf(&s, "%s\n\n//go:build %s\n\n#include \"textflag.h\"\n", Header, NEONAsmConstraint)
	fmt.Fprintf(&g, "%s\n\n//go:build %s\n\npackage %s\n", Header, NEONAsmConstraint, pkg)
	for _, c := range cfgs {
		if c.ISA != NEON {
			return nil, nil, fmt.Errorf("gemm: config %q: GenerateNEON takes NEON kernels, not %v", c.Name, c.ISA)
		}
		decl := c.Name + c.neonParams()
		fmt.Fprintf(&g, "\n// %s\n//\n//go:noescape\nfunc %s\n", strings.Join(c.doc(), "\n// "), decl)
		e := newNEONEmitter(c)
		e.emit()
		fmt.Fprintf(&s, "\n// func %s\n%s", decl, e.String())
	}
	if stubs, err = format.Source(g.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("gemm: NEON stubs: %w", err)
	}
	return s.Bytes(), stubs, nil
}

// neonParams returns the parameter list of the Go declaration, with each
// parameter typed, as avo writes it.
func (c Config) neonParams() string {
	var p []string
	for _, name := range c.Params() {
		typ := "*float32"
		switch {
		case name == "k" || name == "ldc":
			typ = "int"
		case name == "b" && c.BF16B:
			typ = "*uint16"
		}
		p = append(p, name+" "+typ)
	}
	return "(" + strings.Join(p, ", ") + ")"
}

// neonEmitter writes the assembly of one NEON kernel.
type neonEmitter struct {
	arm64.Builder
	cfg    Config
	rows   int // rows computed and stored (StoreM)
	vecs   int // column vectors computed and stored
	ragged int // lanes stored of the last column vector, 0 when full

	acc  [][]arm64.V // acc[r][j]: row r, column vector j
	bvec arm64.V     // first of the NR/4 consecutive B vectors
	avec arm64.V     // first of the ceil(MR/4) consecutive A vectors
	// tpos marks the transposed shape (neon_tposed.go), splits its
	// accumulators a column and vector of rows.
	tpos   bool
	splits int
	// Epilogue: constants and scratch registers.
	layout  neonEpilogue
	zero    arm64.V
	one     arm64.V
	vecs4   []arm64.V // layout.vecs
	scalars []arm64.V // layout.scalars, four per register
	scratch []arm64.V
}

func newNEONEmitter(c Config) *neonEmitter {
	e := &neonEmitter{cfg: c, rows: c.storeM(), layout: neonEpilogueFor(c)}
	e.vecs = (c.storeN() + 3) / 4
	e.ragged = c.storeN() % 4
	next := arm64.V(0)
	alloc := func() arm64.V {
		next++
		return next - 1
	}
	e.acc = make([][]arm64.V, e.rows)
	for r := range e.acc {
		e.acc[r] = make([]arm64.V, e.vecs)
		for j := range e.acc[r] {
			e.acc[r][j] = alloc()
		}
	}
	free := next
	e.bvec = alloc()
	next += arm64.V(c.NR/4 - 1)
	e.avec = next
	if ok, splits := neonTransposed(c); ok {
		e.tpos, e.splits, e.avec, e.bvec = true, splits, nTposA, nTposB
	}
	// The epilogue reuses the loop's registers.
	next = free
	if e.layout.zero {
		e.zero = alloc()
	}
	if e.layout.one {
		e.one = alloc()
	}
	for range e.layout.vecs {
		e.vecs4 = append(e.vecs4, alloc())
	}
	for range (len(e.layout.scalars) + 3) / 4 {
		e.scalars = append(e.scalars, alloc())
	}
	for range e.layout.scratch {
		e.scratch = append(e.scratch, alloc())
	}
	return e
}

// scalar returns the register and lane of constant i of layout.scalars.
func (e *neonEmitter) scalar(i int) (arm64.V, int) { return e.scalars[i/4], i % 4 }

func (e *neonEmitter) emit() {
	c := e.cfg
	e.Text(c.Name, 8*len(c.Params()))
	e.Comment(c.doc()...)
	e.Op("MOVD", "a+0(FP)", nRegA)
	e.Op("MOVD", "b+8(FP)", nRegB)
	e.Op("MOVD", "c+16(FP)", nRegC)
	if skip := c.ldb() - e.loadN(); skip != 0 {
		e.Op("MOVD", fmt.Sprintf("$%d", e.bsize()*skip), nRegLDB)
	}
	if e.tpos {
		e.tposInit()
		e.kLoop()
		e.tposFinish()
	} else {
		e.initAccumulators()
		e.kLoop()
	}
	e.epilogue()
	e.Op("RET")
}

// param returns the frame operand of parameter name.
func (e *neonEmitter) param(name string) string {
	for i, p := range e.cfg.Params() {
		if p == name {
			return fmt.Sprintf("%s+%d(FP)", name, 8*i)
		}
	}
	panic("gemm: no parameter " + name)
}

// initAccumulators sets every accumulator to bias[r] or zero.
func (e *neonEmitter) initAccumulators() {
	e.Raw("")
	if !e.cfg.Bias {
		e.Comment("Zero the accumulators.")
		for _, row := range e.acc {
			for _, v := range row {
				e.Op("VEOR", v.B16(), v.B16(), v.B16())
			}
		}
		return
	}
	e.Comment("Initialise the accumulators with the bias.")
	e.Op("MOVD", e.param("bias"), nRegBias)
	for _, row := range e.acc {
		e.Op("VLD1R.P", fmt.Sprintf("4(%v)", nRegBias), "["+row[0].S4()+"]")
		for _, v := range row[1:] {
			e.Op("VMOV", row[0].B16(), v.B16())
		}
	}
}

// kLoop emits the reduction over k, unrolled by Config.Unroll.
func (e *neonEmitter) kLoop() {
	c := e.cfg
	u := c.unroll()
	e.Raw("")
	if c.K > 0 {
		n, rem := c.K/u, c.K%u
		e.Comment(fmt.Sprintf("Reduction over K=%d: %d iteration(s) of %d step(s), %d remaining.", c.K, n, u, rem))
		switch {
		case n == 1:
			e.steps(u)
		case n > 1:
			e.Op("MOVD", fmt.Sprintf("$%d", n), nRegK)
			e.Label(labelLoop)
			e.steps(u)
			e.Op("SUBS", "$1", nRegK, nRegK)
			e.Op("BNE", labelLoop)
		}
		e.steps(rem)
		return
	}
	e.Comment(fmt.Sprintf("Reduction over the runtime k: blocks of %d step(s), then single steps.", u))
	e.Op("MOVD", e.param("k"), nRegK)
	if u > 1 {
		e.Op("SUBS", fmt.Sprintf("$%d", u), nRegK, nRegK)
		e.Op("BLT", labelTail)
		e.Label(labelLoop)
		e.steps(u)
		e.Op("SUBS", fmt.Sprintf("$%d", u), nRegK, nRegK)
		e.Op("BGE", labelLoop)
		e.Label(labelTail)
		e.Op("ADDS", fmt.Sprintf("$%d", u), nRegK, nRegK)
	} else {
		e.Op("CMP", "$0", nRegK)
	}
	e.Op("BLE", labelDone)
	e.Label(labelRemainder)
	e.steps(1)
	e.Op("SUBS", "$1", nRegK, nRegK)
	e.Op("BNE", labelRemainder)
	e.Label(labelDone)
}

// steps emits n k steps.
func (e *neonEmitter) steps(n int) {
	for i := range n {
		e.step(i)
	}
}

// loadN is the number of floats of each row of B a step loads: LoadN, or
// the transposed shape's one vector.
func (e *neonEmitter) loadN() int {
	if e.tpos {
		return 4
	}
	return e.cfg.LoadN()
}

// step emits one rank-1 update of the accumulators, step s of an unrolled
// block, advancing the panel pointers past it.
func (e *neonEmitter) step(s int) {
	c := e.cfg
	// B: loadN/4 vectors, up to four per VLD1.
	for j := 0; j < e.loadN()/4; j += 4 {
		n := min(4, e.loadN()/4-j)
		v := e.bvec + arm64.V(j)
		if c.BF16B {
			e.Op("VLD1.P", fmt.Sprintf("%d(%v)", 8*n, nRegB), v.List(n, "H4"))
			for i := range n {
				e.Word(arm64.SHLL16(v+arm64.V(i), v+arm64.V(i)))
			}
			continue
		}
		e.Op("VLD1.P", fmt.Sprintf("%d(%v)", 16*n, nRegB), v.List(n, "S4"))
	}
	if c.ldb() != e.loadN() {
		// The loads advanced B by what they read; the next row is further.
		e.Op("ADD", nRegLDB.String(), nRegB, nRegB)
	}
	// A: MR values, whole vectors up to four per VLD1, then the 1 to 3
	// left over, so that nothing past the panel is read.
	full := c.MR / 4
	for i := 0; i < full; i += 4 {
		n := min(4, full-i)
		e.Op("VLD1.P", fmt.Sprintf("%d(%v)", 16*n, nRegA), (e.avec+arm64.V(i)).List(n, "S4"))
	}
	last := e.avec + arm64.V(full)
	switch c.MR % 4 {
	case 1:
		e.Op("FMOVS.P", fmt.Sprintf("4(%v)", nRegA), last.F())
	case 2:
		e.Op("VLD1.P", fmt.Sprintf("8(%v)", nRegA), "["+last.S2()+"]")
	case 3:
		e.Op("VLD1.P", fmt.Sprintf("8(%v)", nRegA), "["+last.S2()+"]")
		e.Op("VLD1.P", fmt.Sprintf("4(%v)", nRegA), last.S(2))
	}
	if e.tpos {
		e.tposFMAs(s)
		return
	}
	for r, row := range e.acc {
		for j, v := range row {
			e.Word(arm64.FMLAElem(v, e.bvec+arm64.V(j), e.avec+arm64.V(r/4), r%4))
		}
	}
}

// bsize is the size in bytes of one element of B.
func (e *neonEmitter) bsize() int {
	if e.cfg.BF16B {
		return 2
	}
	return 4
}

// epilogue adds C (Accumulate), applies the activation and stores the
// tile, row by row.
func (e *neonEmitter) epilogue() {
	c := e.cfg
	e.Raw("")
	e.Comment("Epilogue: accumulate, activate and store the tile.")
	e.setupConstants()
	step := fmt.Sprintf("$%d", 4*c.LDC)
	if c.LDC == 0 {
		e.Op("MOVD", e.param("ldc"), nRegLDC)
		e.Op("LSL", "$2", nRegLDC, nRegLDC)
		step = nRegLDC.String()
	}
	for r, row := range e.acc {
		if r > 0 {
			e.Op("ADD", step, nRegC, nRegC)
		}
		for j, v := range row {
			lanes := 4
			if e.ragged != 0 && j == len(row)-1 {
				lanes = e.ragged
			}
			if c.Accumulate {
				t := e.scratch[0]
				e.load(t, 16*j, lanes)
				e.Word(arm64.FADD(v, v, t))
			}
			e.activate(v)
			e.store(v, 16*j, lanes)
		}
	}
}

// load sets the first lanes of t to the floats of the current C row at
// byte offset off (the other lanes are garbage).
func (e *neonEmitter) load(t arm64.V, off, lanes int) {
	at := func(o int) string { return fmt.Sprintf("%d(%v)", o, nRegC) }
	switch lanes {
	case 4:
		e.Op("FMOVQ", at(off), t.F())
	case 1:
		e.Op("FMOVS", at(off), t.F())
	case 2:
		e.Op("FMOVD", at(off), t.F())
	case 3:
		u := e.scratch[1]
		e.Op("FMOVD", at(off), t.F())
		e.Op("FMOVS", at(off+8), u.F())
		e.Op("VMOV", u.S(0), t.S(2))
	}
}

// store writes the first lanes of v to the current C row at byte offset
// off.
func (e *neonEmitter) store(v arm64.V, off, lanes int) {
	at := func(o int) string { return fmt.Sprintf("%d(%v)", o, nRegC) }
	switch lanes {
	case 4:
		e.Op("FMOVQ", v.F(), at(off))
	case 1:
		e.Op("FMOVS", v.F(), at(off))
	case 2:
		e.Op("FMOVD", v.F(), at(off))
	case 3:
		t := e.scratch[0]
		e.Op("FMOVD", v.F(), at(off))
		e.Op("VDUP", v.S(2), t.S4())
		e.Op("FMOVS", t.F(), at(off+8))
	}
}

// setupConstants fills the epilogue's constant registers.
func (e *neonEmitter) setupConstants() {
	if e.layout.zero {
		e.Op("VEOR", e.zero.B16(), e.zero.B16(), e.zero.B16())
	}
	if e.layout.one {
		e.Word(arm64.FMOVImm(e.one, 1))
	}
	for i, f := range e.layout.vecs {
		v := e.vecs4[i]
		if arm64.FMOVImmOK(f) {
			e.Word(arm64.FMOVImm(v, f))
			continue
		}
		e.movBits(f)
		e.Op("VDUP", nRegTmp, v.S4())
	}
	for i, f := range e.layout.scalars {
		v, l := e.scalar(i)
		e.movBits(f)
		e.Op("VMOV", nRegTmp, v.S(l))
	}
}

// movBits sets nRegTmp to the bits of f.
func (e *neonEmitter) movBits(f float32) {
	e.Op("MOVW", fmt.Sprintf("$0x%08x", math.Float32bits(f)), nRegTmp)
}

// dup sets every lane of t to scalar constant i.
func (e *neonEmitter) dup(t arm64.V, i int) {
	v, l := e.scalar(i)
	e.Op("VDUP", v.S(l), t.S4())
}

// activate applies the activation to v in place; see Act.
func (e *neonEmitter) activate(v arm64.V) {
	c := e.cfg
	switch c.Act {
	case ActReLU:
		e.Word(arm64.FMAX(v, v, e.zero))
	case ActLeakyReLU:
		t, m := e.scratch[0], e.scratch[1]
		s, l := e.scalar(0)
		e.Word(arm64.FMULElem(t, v, s, l))
		e.Word(arm64.FCMLTZero(m, v)) // v < 0; false for NaN
		e.Op("VBIT", m.B16(), t.B16(), v.B16())
	case ActClip:
		e.Word(arm64.FMAX(v, v, e.vecs4[0]))
		e.Word(arm64.FMIN(v, v, e.vecs4[1]))
	case ActHardSigmoid, ActHardSwish:
		// t = beta + alpha·v, fused, clamped to [0, 1].
		t := e.scratch[0]
		a, l := e.scalar(0)
		e.dup(t, 1)
		e.Word(arm64.FMLAElem(t, v, a, l))
		e.Word(arm64.FMAX(t, t, e.zero))
		if c.Act == ActHardSigmoid {
			e.Word(arm64.FMIN(v, t, e.one))
			return
		}
		e.Word(arm64.FMIN(t, t, e.one))
		e.Word(arm64.FMUL(v, v, t))
	case ActSigmoid, ActSiLU:
		e.sigmoid(v)
	case ActGELU:
		e.gelu(v)
	}
}

// gelu computes GELU(v) in place as act.go's ActCode does: z = v/√2
// clamped to [-4, 4], erf(z) = z·A(z²)/B(z²), v = v/2 + v/2·erf(z).
func (e *neonEmitter) gelu(v arm64.V) {
	t1, t2, u, w := e.scratch[0], e.scratch[1], e.scratch[2], e.scratch[3]
	m, l := e.scalar(geluInvSqrt2)
	e.Word(arm64.FMULElem(t1, v, m, l))
	e.dup(w, geluHi)
	e.Word(arm64.FMIN(t1, t1, w))
	e.dup(w, geluLo)
	e.Word(arm64.FMAX(t1, t1, w))
	e.Word(arm64.FMUL(t2, t1, t1)) // z²
	// A(z²) by Horner, alternating u and w: dst = a + src·z².
	src, dst := u, w
	e.dup(src, geluA0+len(geluA)-1)
	for i := len(geluA) - 2; i >= 0; i-- {
		e.dup(dst, geluA0+i)
		e.Op("VFMLA", t2.S4(), src.S4(), dst.S4())
		src, dst = dst, src
	}
	za := dst
	e.Word(arm64.FMUL(za, src, t1)) // z·A(z²); t1 and src are free
	src, dst = t1, src
	e.dup(src, geluB0+len(geluB)-1)
	for i := len(geluB) - 2; i >= 0; i-- {
		e.dup(dst, geluB0+i)
		e.Op("VFMLA", t2.S4(), src.S4(), dst.S4())
		src, dst = dst, src
	}
	e.Word(arm64.FDIV(za, za, src)) // erf(z)
	h, hl := e.scalar(geluHalf)
	e.Word(arm64.FMULElem(v, v, h, hl))
	e.Op("VFMLA", za.S4(), v.S4(), v.S4()) // v += v·erf
}

// sigmoid computes sigmoid(v) or SiLU(v) in place with NEONSigmoid, its
// constants in the scalar registers, four per register.
func (e *neonEmitter) sigmoid(v arm64.V) {
	NEONSigmoid(&e.Builder, v, e.cfg.Act == ActSiLU, e.one, e.scalars, [4]arm64.V(e.scratch))
}

// NEONSigmoidConsts returns the constants NEONSigmoid reads, in order:
// the clamp's bounds, -log2(e), ln2's two parts, then e^-s's coefficients
// q5 (of s^5) ... q0 (act.go).
func NEONSigmoidConsts() []float32 {
	c := []float32{expXLo, expXHi, -expLog2e, expLn2Hi, expLn2Lo}
	for i := 5; i >= 0; i-- {
		c = append(c, expQ[i])
	}
	return c
}

// NEONSigmoid writes to b the NEON code of sigmoid(v), or of SiLU(v) with
// silu, in place, as act.go's ActCode computes e^-x on x86: x clamped,
// e^-x = 2^n·e^-s with n = round(-x·log2e), s = x + n·ln2, e^-s by the same
// polynomial, 2^n built in the exponent field (+Inf at n = 128). NEON then
// divides, where x86 refines a reciprocal estimate. NaN stays NaN (FMAX
// and FMIN propagate it). consts hold NEONSigmoidConsts four per register
// (constant i in lane i%4 of consts[i/4]), one is 1.0 in every lane, and t
// are four scratch registers; the GEMM kernels' epilogues and asmgen/vec's
// kernels share it.
func NEONSigmoid(b *arm64.Builder, v arm64.V, silu bool, one arm64.V, consts []arm64.V, t [4]arm64.V) {
	t1, t2, u, w := t[0], t[1], t[2], t[3]
	elem := func(i int) (arm64.V, int) { return consts[i/4], i % 4 }
	dup := func(d arm64.V, i int) {
		c, l := elem(i)
		b.Op("VDUP", c.S(l), d.S4())
	}
	// t2 = x clamped to [expXLo, expXHi] (NaN stays NaN).
	dup(w, sigXLo)
	b.Word(arm64.FMAX(t2, v, w))
	dup(w, sigXHi)
	b.Word(arm64.FMIN(t2, t2, w))
	// t1 = n, t2 = s.
	m, l := elem(sigNegLog2e)
	b.Word(arm64.FMULElem(t1, t2, m, l))
	b.Word(arm64.FRINTN(t1, t1))
	m, l = elem(sigLn2Hi)
	b.Word(arm64.FMLAElem(t2, t1, m, l))
	m, l = elem(sigLn2Lo)
	b.Word(arm64.FMLAElem(t2, t1, m, l))
	// e^-s by Horner in s, alternating u and w: dst = q + src·s.
	src, dst := u, w
	dup(src, sigQ5)
	for i := sigQ5 + 1; i <= sigQ5+5; i++ {
		dup(dst, i)
		b.Op("VFMLA", t2.S4(), src.S4(), dst.S4())
		src, dst = dst, src
	}
	// t1 = 2^n: (n << 23) + 1.0's bits; src = 2^n·e^-s = e^-x.
	b.Word(arm64.FCVTZS(t1, t1))
	b.Op("VSHL", "$23", t1.S4(), t1.S4())
	b.Op("VADD", one.S4(), t1.S4(), t1.S4())
	b.Word(arm64.FMUL(src, src, t1))
	b.Word(arm64.FADD(src, src, one)) // 1 + e^-x
	if silu {
		b.Word(arm64.FDIV(v, v, src))
		return
	}
	b.Word(arm64.FDIV(v, one, src))
}
