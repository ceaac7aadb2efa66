package vec

import (
	"fmt"
	"math"
	"slices"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/compiler/winograd"
)

// The Winograd transform kernels are generated from a form's exact
// Toom-Cook matrices (compiler/winograd), for every form: every
// coefficient 0 is left out, ±1 is an add or a subtract, and any other is
// an FMA with a constant from the winoK table. Rows of B^T that differ only
// in the signs of some columns (the points ±p) are computed together as
// P ± Q, and so are the columns of A^T for ±p (their sum feeds the even
// rows, their difference the odd ones).

// WinoInName and WinoOutName name the Winograd transform kernels of form
// f for isa, e.g. vecWinoInF4x3AVX512.
func WinoInName(isa gemm.ISA, f winograd.Form) string { return "vecWinoIn" + f.Name() + isa.String() }

func WinoOutName(isa gemm.ISA, f winograd.Form) string {
	return "vecWinoOut" + f.Name() + isa.String()
}

// winoForm is a form's matrices as float32, row-major, with their pairings.
type winoForm struct {
	f        winograd.Form
	alpha    int
	bt, at   [][]float32
	rowPairs []winograd.Pair // of B^T's rows
	colPairs []winograd.Pair // of A^T's columns (A: B, Odd indexes rows)
}

// genForms returns the set's forms, checked: valid, exact in float32 and
// each once.
func genForms(forms []winograd.Form) ([]winoForm, error) {
	var out []winoForm
	for _, f := range forms {
		if !f.Valid() {
			return nil, fmt.Errorf("vec: no Winograd form %v", f)
		}
		for _, o := range out {
			if o.f == f {
				return nil, fmt.Errorf("vec: Winograd form %v listed twice", f)
			}
		}
		a := f.Alpha()
		bt, at := f.BT(), f.AT()
		btF, err := bt.Float32()
		if err != nil {
			return nil, fmt.Errorf("vec: %v: %w", f, err)
		}
		atF, err := at.Float32()
		if err != nil {
			return nil, fmt.Errorf("vec: %v: %w", f, err)
		}
		out = append(out, winoForm{
			f: f, alpha: a,
			bt: rows32(btF, a), at: rows32(atF, a),
			rowPairs: bt.Pairs(), colPairs: at.T().Pairs(),
		})
	}
	return out, nil
}

func rows32(v []float32, cols int) [][]float32 {
	var out [][]float32
	for len(v) > 0 {
		out = append(out, v[:cols])
		v = v[cols:]
	}
	return out
}

// winoConsts is the table of the coefficients other than 0 and ±1 of the
// forms: each a 32-byte vector of 8 copies (AVX2 reads the
// vector, AVX-512 broadcasts its first element).
type winoConsts struct {
	mem operand.Mem
	off map[float32]int
}

func newWinoConsts(ctx *build.Context, forms []winoForm) *winoConsts {
	var ks []float32
	for _, f := range forms {
		for _, m := range [][][]float32{f.bt, f.at} {
			for _, row := range m {
				for _, k := range row {
					if k != 0 && k != 1 && k != -1 && !slices.Contains(ks, k) {
						ks = append(ks, k)
					}
				}
			}
		}
	}
	if len(ks) == 0 {
		return &winoConsts{}
	}
	slices.Sort(ks)
	c := &winoConsts{mem: ctx.StaticGlobal("winoK"), off: map[float32]int{}}
	ctx.DataAttributes(attr.RODATA | attr.NOPTR)
	for i, k := range ks {
		c.off[k] = 32 * i
		for range 8 {
			ctx.AppendDatum(operand.U32(math.Float32bits(k)))
		}
	}
	return c
}

// winoGen emits the arithmetic of a transform kernel.
type winoGen struct {
	ctx  *build.Context
	isa  gemm.ISA
	vec  func() reg.VecVirtual
	k    *winoConsts
	kreg map[float32]reg.VecVirtual // constants held in registers
}

// term is k·v, v a vector register or memory operand.
type term = linTerm[operand.Op]

// A linTerm is k·v for a value v of a back end's own kind: an x86
// register or memory operand (term), a NEON virtual register (wTerm), a Go
// variable (goTerm).
type linTerm[V any] struct {
	k float32
	v V
}

// linStart is how the generators start a combination Σ k·v (linOrder).
type linStart int

const (
	linZero   linStart = iota // every k is -1: from zero (or -v, in Go), all terms left
	linOne                    // v, head's one term with k = 1
	linPair                   // v ± w, head's two terms, the first with k = 1, the second ±1
	linScaled                 // k·v, head's one term
)

// linOrder is the order in which every back end (AVX, NEON, Go) computes
// Σ k·v over ts, so that their Winograd transforms round alike: the zero
// terms are left out (a NaN reaches only what it should); the start is a
// +1 term (with a ±1 one if there is one, an add or subtract), else one
// that multiplies, else (all -1) zero; then rest, in ts' order, each a
// multiply-add. At least one k must be nonzero.
func linOrder[V any](ts []linTerm[V]) (start linStart, head, rest []linTerm[V]) {
	var nz []linTerm[V]
	for _, t := range ts {
		if t.k != 0 {
			nz = append(nz, t)
		}
	}
	if len(nz) == 0 {
		panic("vec: empty Winograd combination")
	}
	first := slices.IndexFunc(nz, func(t linTerm[V]) bool { return t.k == 1 })
	if first < 0 {
		first = slices.IndexFunc(nz, func(t linTerm[V]) bool { return t.k != -1 })
	}
	if first < 0 {
		return linZero, nil, nz
	}
	head = nz[first : first+1 : first+1]
	rest = slices.Delete(slices.Clone(nz), first, first+1)
	if nz[first].k != 1 {
		return linScaled, head, rest
	}
	if j := slices.IndexFunc(rest, func(t linTerm[V]) bool { return t.k == 1 || t.k == -1 }); j >= 0 {
		return linPair, append(head, rest[j]), slices.Delete(rest, j, j+1)
	}
	return linOne, head, rest
}

func isReg(v operand.Op) bool { _, ok := v.(reg.VecVirtual); return ok }

// konst returns constant k's operand: a register, or the table's memory.
func (g *winoGen) konst(k float32) (operand.Op, bool) {
	if r, ok := g.kreg[k]; ok {
		return r, true
	}
	off, ok := g.k.off[k]
	if !ok {
		panic(fmt.Sprintf("vec: no Winograd constant %g", k))
	}
	return g.k.mem.Offset(off), false
}

// holdConsts keeps up to n of the constants of rows in registers.
func (g *winoGen) holdConsts(n int, ms ...[][]float32) {
	g.kreg = map[float32]reg.VecVirtual{}
	for _, m := range ms {
		for _, row := range m {
			for _, k := range row {
				if k == 0 || k == 1 || k == -1 || len(g.kreg) >= n {
					continue
				}
				if _, ok := g.kreg[k]; !ok {
					op, _ := g.konst(k)
					r := g.vec()
					g.ctx.VBROADCASTSS(op, r)
					g.kreg[k] = r
				}
			}
		}
	}
}

// reg returns v in a register: v itself or a fresh one loaded from it.
func (g *winoGen) reg(v operand.Op) reg.VecVirtual {
	if r, ok := v.(reg.VecVirtual); ok {
		return r
	}
	r := g.vec()
	g.ctx.VMOVUPS(v, r)
	return r
}

// mul sets dst = k·v.
func (g *winoGen) mul(k float32, v operand.Op, dst reg.VecVirtual) {
	kop, inReg := g.konst(k)
	switch {
	case inReg:
		g.ctx.VMULPS(v, kop, dst)
	case g.isa == gemm.AVX512:
		g.ctx.VMULPS_BCST(kop, g.reg(v), dst)
	default:
		g.ctx.VMULPS(kop, g.reg(v), dst)
	}
}

// fma sets acc += k·v.
func (g *winoGen) fma(k float32, v operand.Op, acc reg.VecVirtual) {
	switch k {
	case 1:
		g.ctx.VADDPS(v, acc, acc)
		return
	case -1:
		g.ctx.VSUBPS(v, acc, acc)
		return
	}
	kop, inReg := g.konst(k)
	switch {
	case inReg:
		g.ctx.VFMADD231PS(v, kop, acc)
	case g.isa == gemm.AVX512:
		g.ctx.VFMADD231PS_BCST(kop, g.reg(v), acc)
	default:
		g.ctx.VFMADD231PS(kop, g.reg(v), acc)
	}
}

// add sets dst = x + y, sub dst = x - y.
func (g *winoGen) add(x, y operand.Op, dst reg.VecVirtual) {
	if !isReg(x) && isReg(y) {
		x, y = y, x
	}
	g.ctx.VADDPS(y, g.reg(x), dst)
}

func (g *winoGen) sub(x, y operand.Op, dst reg.VecVirtual) {
	g.ctx.VSUBPS(y, g.reg(x), dst)
}

// lin returns a fresh register holding Σ k·v over ts, in linOrder's
// order.
func (g *winoGen) lin(ts []term) reg.VecVirtual {
	acc := g.vec()
	start, head, rest := linOrder(ts)
	switch start {
	case linZero:
		if g.isa == gemm.AVX512 {
			g.ctx.VPXORD(acc, acc, acc)
		} else {
			g.ctx.VXORPS(acc, acc, acc)
		}
	case linOne:
		if v := head[0].v; isReg(v) {
			g.ctx.VMOVAPS(v, acc)
		} else {
			g.ctx.VMOVUPS(v, acc)
		}
	case linPair:
		if head[1].k == 1 {
			g.add(head[0].v, head[1].v, acc)
		} else {
			g.sub(head[0].v, head[1].v, acc)
		}
	case linScaled:
		g.mul(head[0].k, head[0].v, acc)
	}
	for _, t := range rest {
		g.fma(t.k, t.v, acc)
	}
	return acc
}

// rowsPaired emits out[i] = Σ_c m[i][c]·v[c] for every row of m, the rows
// of a pair as P ± Q, and calls emit with each as soon as it is computed.
func (g *winoGen) rowsPaired(m [][]float32, pairs []winograd.Pair, v []operand.Op, emit func(i int, r reg.VecVirtual)) {
	terms := func(row []float32, keep func(c int) bool, sign float32) []term {
		var ts []term
		for c, k := range row {
			if k != 0 && keep(c) {
				ts = append(ts, term{sign * k, v[c]})
			}
		}
		return ts
	}
	all := func(int) bool { return true }
	for _, p := range pairs {
		if p.B < 0 {
			emit(p.A, g.lin(terms(m[p.A], all, 1)))
			continue
		}
		even := terms(m[p.A], func(c int) bool { return !p.Odd[c] }, 1)
		odd := func(c int) bool { return p.Odd[c] }
		if len(even) == 0 { // B = -A
			emit(p.A, g.lin(terms(m[p.A], odd, 1)))
			emit(p.B, g.lin(terms(m[p.A], odd, -1)))
			continue
		}
		pv, qv := g.lin(even), g.lin(terms(m[p.A], odd, 1))
		a, b := g.vec(), g.vec()
		g.ctx.VADDPS(qv, pv, a)
		emit(p.A, a)
		g.ctx.VSUBPS(qv, pv, b)
		emit(p.B, b)
	}
}

// colsPaired emits out[r] = Σ_c m[r][c]·v[c] for the rows rs of m, with
// the columns of a pair (a, b) combined first: s = v[a] + v[b] for the
// rows where they agree, d = v[a] - v[b] where they differ. emit gets
// each row as soon as it is computed.
func (g *winoGen) colsPaired(m [][]float32, pairs []winograd.Pair, rs []int, v []operand.Op, emit func(r int, x reg.VecVirtual)) {
	type sd struct{ s, d operand.Op }
	comb := make([]sd, len(pairs))
	for i, p := range pairs {
		if p.B < 0 {
			continue
		}
		var needS, needD bool
		for _, r := range rs {
			if m[r][p.A] != 0 {
				needS = needS || !p.Odd[r]
				needD = needD || p.Odd[r]
			}
		}
		a := v[p.A]
		if needS && needD {
			a = g.reg(a)
		}
		if needS {
			s := g.vec()
			g.add(a, v[p.B], s)
			comb[i].s = s
		}
		if needD {
			d := g.vec()
			g.sub(a, v[p.B], d)
			comb[i].d = d
		}
	}
	for _, r := range rs {
		var ts []term
		for i, p := range pairs {
			k := m[r][p.A]
			switch {
			case k == 0:
			case p.B < 0:
				ts = append(ts, term{k, v[p.A]})
			case p.Odd[r]:
				ts = append(ts, term{k, comb[i].d})
			default:
				ts = append(ts, term{k, comb[i].s})
			}
		}
		emit(r, g.lin(ts))
	}
}

// strided returns the operand of row i (0 ≤ i < n ≤ 9) from base, rows
// stride bytes apart, emitting the multiples of stride it needs.
func strided(ctx *build.Context, stride reg.Register, n int) func(base reg.Register, i int) operand.Mem {
	var x3, x5, x7 reg.Register
	if n > 3 {
		r := ctx.GP64()
		ctx.LEAQ(operand.Mem{Base: stride, Index: stride, Scale: 2}, r)
		x3 = r
	}
	if n > 5 {
		r := ctx.GP64()
		ctx.LEAQ(operand.Mem{Base: stride, Index: stride, Scale: 4}, r)
		x5 = r
	}
	if n > 7 {
		r := ctx.GP64()
		ctx.LEAQ(operand.Mem{Base: stride, Index: stride, Scale: 2}, r)
		ctx.LEAQ(operand.Mem{Base: r, Index: stride, Scale: 4}, r) // 3 + 4
		x7 = r
	}
	if n > 9 {
		panic("vec: more than 9 rows")
	}
	return func(base reg.Register, i int) operand.Mem {
		m := operand.Mem{Base: base}
		switch i {
		case 0:
		case 1, 2, 4, 8:
			m.Index, m.Scale = stride, uint8(i)
		case 3, 6:
			m.Index, m.Scale = x3, uint8(i/3)
		case 5:
			m.Index, m.Scale = x5, 1
		case 7:
			m.Index, m.Scale = x7, 1
		default:
			panic(fmt.Sprintf("vec: row %d of %d", i, n))
		}
		return m
	}
}

// seek moves pointer p from row from to row to, rows stride bytes apart.
func seek(ctx *build.Context, p, stride reg.Register, from, to int) {
	switch diff := to - from; diff {
	case 0:
	case 1:
		ctx.ADDQ(stride, p)
	case -1:
		ctx.SUBQ(stride, p)
	default:
		t := ctx.GP64()
		ctx.IMUL3Q(operand.I32(int32(diff)), stride, t)
		ctx.ADDQ(t, p)
	}
}

// winoIn emits form f's input transform V = B^T d B for one row of tw
// tiles. The padded plane's columns are split by column mod M into M
// planes ps elements apart, rows ld apart: column c of tile t's window is
// plane c%M at element t + c/M, so every operation runs along t, a vector
// of tiles at a time. V[i][j] of tile t goes to dst[(α*i+j)*ldDst + t].
//
// Each vector of tiles takes two passes. The first applies B^T to the
// window's columns: column c's α rows are loaded and row i of B^T d goes
// to dst row α*i+c, V's own place for element (i, c). The second applies
// B^T along the rows: row i's α values are loaded back from dst rows
// α*i.. and V[i][j] overwrites them. At most α inputs, two partial sums
// and a result are live, within AVX2's 16 registers for α = 8; AVX-512
// keeps the constants in registers as well.
func winoIn(ctx *build.Context, isa gemm.ISA, f winoForm, k *winoConsts) {
	name := WinoInName(isa, f.f)
	a, o := f.alpha, f.f.M
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst, planes *float32, ps, tw, ld, ldDst int)")
	ctx.Doc(
		name+" is Winograd "+f.f.String()+"'s input transform of one row of tw tiles of a plane",
		fmt.Sprintf("split by column mod %d (plane q at planes[q*ps], rows ld apart); V[ξ] of tile t", o),
		"goes to dst[ξ*ldDst+t]. It reads and writes whole vectors past the ends (the caller leaves slack).",
	)
	lanes := isa.Lanes()
	g := &winoGen{ctx: ctx, isa: isa, vec: newVec(ctx, isa), k: k}
	d := ctx.Load(ctx.Param("dst"), ctx.GP64())
	cur := ctx.Load(ctx.Param("planes"), ctx.GP64())
	ps := ctx.Load(ctx.Param("ps"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ps)
	tw := paramAddr(ctx, "tw")
	ld := ctx.Load(ctx.Param("ld"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ld)
	ldD := ctx.Load(ctx.Param("ldDst"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldD)
	ldDa := ctx.GP64() // α rows of dst
	ctx.IMUL3Q(operand.I32(int32(a)), ldD, ldDa)
	row := strided(ctx, ld, a)
	if isa == gemm.AVX512 {
		g.holdConsts(32-a-6, f.bt)
	}

	tx := ctx.GP64()
	ctx.XORQ(tx, tx)
	ctx.Label("tiles")
	ctx.CMPQ(tx, tw)
	ctx.JGE(operand.LabelRef("done"))
	// Pass 1, plane by plane: B^T d of column c into dst rows α*i+c.
	pl := ctx.GP64()
	ctx.MOVQ(cur, pl)
	for q := range o {
		if q > 0 {
			ctx.ADDQ(ps, pl)
		}
		for c := q; c < a; c += o {
			v := make([]operand.Op, a)
			for y := range a {
				m := row(pl, y)
				m.Disp = 4 * (c / o)
				v[y] = g.reg(m)
			}
			w := ctx.GP64()
			if c == 0 {
				ctx.MOVQ(d, w)
			} else {
				ctx.IMUL3Q(operand.I32(int32(c)), ldD, w)
				ctx.ADDQ(d, w)
			}
			at := 0
			g.rowsPaired(f.bt, f.rowPairs, v, func(i int, r reg.VecVirtual) {
				seek(ctx, w, ldDa, at, i)
				at = i
				ctx.VMOVUPS(r, operand.Mem{Base: w})
			})
		}
	}
	// Pass 2, row by row: (B^T d) B in place.
	q := ctx.GP64()
	ctx.MOVQ(d, q)
	for i := range a {
		if i > 0 {
			ctx.ADDQ(ldDa, q)
		}
		v := make([]operand.Op, a)
		w := ctx.GP64()
		ctx.MOVQ(q, w)
		for c := range a {
			if c > 0 {
				ctx.ADDQ(ldD, w)
			}
			v[c] = g.reg(operand.Mem{Base: w})
		}
		at := a - 1
		g.rowsPaired(f.bt, f.rowPairs, v, func(j int, r reg.VecVirtual) {
			seek(ctx, w, ldD, at, j)
			at = j
			ctx.VMOVUPS(r, operand.Mem{Base: w})
		})
	}
	ctx.ADDQ(operand.U32(4*lanes), cur)
	ctx.ADDQ(operand.U32(4*lanes), d)
	ctx.ADDQ(operand.U32(lanes), tx)
	ctx.JMP(operand.LabelRef("tiles"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// winoOut emits form f's output transform max(Y + bias, lo), Y = A^T m
// A, for n tiles: m[ξ*step + t] is element ξ = α*i+j of tile t, and
// output (dy, dx) goes to y[(M*dy+dx)*ldY + t]. VMAXPS(a, lo) returns a
// when either is NaN, so NaN propagates as in the GEMM kernels' ReLU.
//
// The output rows dy go in groups: for each column j, the group's rows of
// A^T m are computed from memory (α loads, the ±p rows of m combined
// first), then each row's outputs from those registers. A group is all M
// rows if their α values each fit in the registers, else rows of one
// parity (which need only the sums, or only the differences, of the ±p
// pairs), as many as fit. A^T's column for the point 1 is all ones, so
// bias added to m[α+1] reaches every output once.
func winoOut(ctx *build.Context, isa gemm.ISA, f winoForm, k *winoConsts) {
	name := WinoOutName(isa, f.f)
	a, mm := f.alpha, f.f.M
	lanes := isa.Lanes()
	vec, y, m, n, s, ldY := winoOutStart(ctx, isa, name, f.f.String())
	g := &winoGen{ctx: ctx, isa: isa, vec: vec, k: k}
	rowMem := strided(ctx, func() reg.Register {
		r := ctx.GP64()
		ctx.IMUL3Q(operand.I32(int32(a)), s, r)
		return r
	}(), a)
	bias, lo := vec(), vec()
	ctx.VBROADCASTSS(paramAddr(ctx, "bias"), bias)
	ctx.VBROADCASTSS(paramAddr(ctx, "lo"), lo)
	ones := f.onesColumn()
	nregs := 16
	if isa == gemm.AVX512 {
		nregs = 32
	}
	groups := f.outGroups(nregs)
	all := make([]int, mm)
	for r := range all {
		all[r] = r
	}

	ctx.Label("loop")
	ctx.TESTQ(n, n)
	ctx.JLE(operand.LabelRef("done"))
	for _, grp := range groups {
		r := make([][]operand.Op, mm)
		for _, dy := range grp {
			r[dy] = make([]operand.Op, a)
		}
		pj := ctx.GP64()
		ctx.MOVQ(m, pj)
		for j := range a {
			if j > 0 {
				ctx.ADDQ(s, pj)
			}
			v := make([]operand.Op, a)
			for i := range a {
				v[i] = rowMem(pj, i)
			}
			if j == ones && ones >= 0 {
				t := g.vec()
				ctx.VADDPS(v[ones], bias, t)
				v[ones] = t
			}
			g.colsPaired(f.at, f.colPairs, grp, v, func(dy int, x reg.VecVirtual) { r[dy][j] = x })
		}
		for _, dy := range grp {
			q := ctx.GP64()
			if dy == 0 {
				ctx.MOVQ(y, q)
			} else {
				ctx.IMUL3Q(operand.I32(int32(mm*dy)), ldY, q)
				ctx.ADDQ(y, q)
			}
			at := 0
			g.colsPaired(f.at, f.colPairs, all, r[dy], func(dx int, x reg.VecVirtual) {
				if ones < 0 {
					ctx.VADDPS(bias, x, x)
				}
				ctx.VMAXPS(x, lo, x) // max(lo, x), x if NaN
				seek(ctx, q, ldY, at, dx)
				at = dx
				ctx.VMOVUPS(x, operand.Mem{Base: q})
			})
		}
	}
	ctx.ADDQ(operand.U32(4*lanes), m)
	ctx.ADDQ(operand.U32(4*lanes), y)
	ctx.SUBQ(operand.U32(lanes), n)
	ctx.JMP(operand.LabelRef("loop"))
	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// winoOutStart declares a Winograd output transform kernel for alg
// ("F(4x4, 3x3)") and loads its parameters: the tiles' results m (ξ step bytes
// apart), the output y (rows ldY bytes apart) and the tile count n. vec
// makes a vector register of isa's width.
func winoOutStart(ctx *build.Context, isa gemm.ISA, name, alg string) (vec func() reg.VecVirtual, y, m, n, s, ldY reg.Register) {
	ctx.Function(name)
	ctx.Attributes(attr.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(y, m *float32, n, step, ldY int, bias, lo float32)")
	ctx.Doc(
		name+" is Winograd "+alg+"'s output transform of n tiles: m[ξ*step+t] in,",
		"y[k*ldY+t] = max((A^T m A)[k] + bias, lo) out (NaN propagates). It reads and writes whole",
		"vectors past n.",
	)
	vec = newVec(ctx, isa)
	y = ctx.Load(ctx.Param("y"), ctx.GP64())
	m = ctx.Load(ctx.Param("m"), ctx.GP64())
	n = ctx.Load(ctx.Param("n"), ctx.GP64())
	s = ctx.Load(ctx.Param("step"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), s)
	ldY = ctx.Load(ctx.Param("ldY"), ctx.GP64())
	ctx.SHLQ(operand.U8(2), ldY)
	return vec, y, m, n, s, ldY
}

// onesColumn is A^T's all-ones column, -1 if none.
func (f winoForm) onesColumn() int {
	for c := range f.alpha {
		all := true
		for r := range f.f.M {
			all = all && f.at[r][c] == 1
		}
		if all {
			return c
		}
	}
	return -1
}

// outGroups splits the output transform's M rows into groups whose first
// pass fits nregs vector registers: all rows at once if they fit, else
// even and odd rows apart (they share A^T's column pairs), each as many
// at a time as fit. A group's registers are its rows' α values, the pair
// combinations of a column, and a few to spare.
func (f winoForm) outGroups(nregs int) [][]int {
	a, mm := f.alpha, f.f.M
	live := func(rs []int) int {
		n := len(rs)*a + 5
		for _, p := range f.colPairs {
			if p.B < 0 {
				continue
			}
			var s, d bool
			for _, r := range rs {
				s, d = s || !p.Odd[r], d || p.Odd[r]
			}
			if s {
				n++
			}
			if d {
				n++
			}
		}
		return n
	}
	all := make([]int, mm)
	for r := range all {
		all[r] = r
	}
	if live(all) <= nregs {
		return [][]int{all}
	}
	var groups [][]int
	for par := range 2 {
		var grp []int
		for r := par; r < mm; r += 2 {
			if len(grp) > 0 && live(append(slices.Clone(grp), r)) > nregs {
				groups = append(groups, grp)
				grp = nil
			}
			grp = append(grp, r)
		}
		groups = append(groups, grp)
	}
	return groups
}
