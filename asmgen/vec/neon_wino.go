package vec

import (
	"fmt"
	"math"
	"slices"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/compiler/winograd"
)

// The Winograd transforms on NEON, generated from the same matrices and
// pairings as winogen's x86 kernels (winoForm) with the same arithmetic:
// every coefficient 0 left out, ±1 an add or a subtract, any other an FMA
// by a lane of a constant register (FMLA by element), rows of B^T for ±p
// computed as P ± Q and the columns of A^T for ±p combined first. avo
// allocates x86's registers; here a loop body is first written as a
// straight line of operations on virtual vector registers (neonWino) and
// then given V registers by a linear scan over it, which knows each
// value's last use. The constants sit four to a register (V28-V31), set up
// once per call from their bits.

// neonKRegs is the first of the registers that hold the constants, four
// to a register; the registers below are the scan's (and the output
// transform's bias and lo).
const neonKRegs = arm64.V(28)

// wKind is the kind of a wOp.
type wKind int

const (
	wRaw   wKind = iota // a general-purpose instruction, as text
	wLoad               // d = memory (FMOVQ off(R) or VLD1.P (R)(Rm))
	wStore              // memory = a
	wMov                // d = a
	wZero               // d = 0
	wAdd                // d = a + b
	wSub                // d = a - b
	wMul                // d = a * k
	wFMA                // d += a * k (d is live before)
	wMax                // d = max(a, b), NaN if either is
)

// wOp is one operation of a loop body. Vector operands are virtual
// registers (indexes); pinned ones (the constants, bias and lo) are
// negative: -1-v for the physical register v.
type wOp struct {
	kind    wKind
	d, a, b int
	k       float32
	mem     string   // wLoad, wStore: the address operand
	post    bool     // wLoad, wStore: VLD1.P / VST1.P with mem "(Rn)(Rm)"
	raw     []string // wRaw: mnemonic and operands
	comment string
}

// neonWino writes a transform's loop body as wOps and then its
// instructions.
type neonWino struct {
	fn   *neonFunc
	ops  []wOp
	nv   int
	kreg map[float32][2]int // constant → register, lane
	pool int                // registers V0..V(pool-1) for the scan
}

// pinned returns the operand of physical register v.
func pinned(v arm64.V) int { return -1 - int(v) }

func (g *neonWino) vec() int { g.nv++; return g.nv - 1 }

func (g *neonWino) op(o wOp) { g.ops = append(g.ops, o) }

// raw adds a general-purpose instruction to the body.
func (g *neonWino) raw(mnemonic string, operands ...any) {
	r := []string{mnemonic}
	for _, o := range operands {
		r = append(r, fmt.Sprint(o))
	}
	g.op(wOp{kind: wRaw, raw: r})
}

// load returns a fresh register loaded from mem ("off(Rn)"), or from
// (Rn) with Rn += Rm after it if post ("(Rn)(Rm)").
func (g *neonWino) load(mem string, post bool) int {
	d := g.vec()
	g.op(wOp{kind: wLoad, d: d, mem: mem, post: post})
	return d
}

func (g *neonWino) store(a int, mem string, post bool) {
	g.op(wOp{kind: wStore, a: a, mem: mem, post: post})
}

// setConsts loads the constants of ms into the constant registers, four
// to a register in the order they first appear, before the loop.
func (g *neonWino) setConsts(tmp arm64.Reg, ms ...[][]float32) {
	g.kreg = map[float32][2]int{}
	for _, m := range ms {
		for _, row := range m {
			for _, k := range row {
				if k == 0 || k == 1 || k == -1 {
					continue
				}
				if _, ok := g.kreg[k]; ok {
					continue
				}
				n := len(g.kreg)
				r := neonKRegs + arm64.V(n/4)
				if r > 31 {
					panic("vec: more than 16 Winograd constants")
				}
				g.kreg[k] = [2]int{int(r), n % 4}
				g.fn.Op("MOVW", fmt.Sprintf("$0x%08x", math.Float32bits(k)), tmp)
				g.fn.Op("VMOV", tmp, r.S(n%4))
			}
		}
	}
}

// fma sets acc += k·v.
func (g *neonWino) fma(k float32, v, acc int) {
	switch k {
	case 1:
		g.op(wOp{kind: wAdd, d: acc, a: acc, b: v})
	case -1:
		g.op(wOp{kind: wSub, d: acc, a: acc, b: v})
	default:
		g.op(wOp{kind: wFMA, d: acc, a: v, k: k})
	}
}

// wTerm is k·v for the virtual register v.
type wTerm = linTerm[int]

// lin returns a fresh register holding Σ k·v over ts, in linOrder's
// order.
func (g *neonWino) lin(ts []wTerm) int {
	acc := g.vec()
	start, head, rest := linOrder(ts)
	switch start {
	case linZero:
		g.op(wOp{kind: wZero, d: acc})
	case linOne:
		g.op(wOp{kind: wMov, d: acc, a: head[0].v})
	case linPair:
		kind := wAdd
		if head[1].k == -1 {
			kind = wSub
		}
		g.op(wOp{kind: kind, d: acc, a: head[0].v, b: head[1].v})
	case linScaled:
		g.op(wOp{kind: wMul, d: acc, a: head[0].v, k: head[0].k})
	}
	for _, t := range rest {
		g.fma(t.k, t.v, acc)
	}
	return acc
}

// rowsPaired is winoGen.rowsPaired on virtual registers: out[i] = Σ_c
// m[i][c]·v[c] for every row of m, the rows of a pair as P ± Q. It returns
// the rows in order.
func (g *neonWino) rowsPaired(m [][]float32, pairs []winograd.Pair, v []int) []int {
	out := make([]int, len(m))
	terms := func(row []float32, keep func(c int) bool, sign float32) []wTerm {
		var ts []wTerm
		for c, k := range row {
			if k != 0 && keep(c) {
				ts = append(ts, wTerm{sign * k, v[c]})
			}
		}
		return ts
	}
	all := func(int) bool { return true }
	for _, p := range pairs {
		if p.B < 0 {
			out[p.A] = g.lin(terms(m[p.A], all, 1))
			continue
		}
		even := terms(m[p.A], func(c int) bool { return !p.Odd[c] }, 1)
		odd := func(c int) bool { return p.Odd[c] }
		if len(even) == 0 { // B = -A
			out[p.A] = g.lin(terms(m[p.A], odd, 1))
			out[p.B] = g.lin(terms(m[p.A], odd, -1))
			continue
		}
		pv, qv := g.lin(even), g.lin(terms(m[p.A], odd, 1))
		a, b := g.vec(), g.vec()
		g.op(wOp{kind: wAdd, d: a, a: pv, b: qv})
		g.op(wOp{kind: wSub, d: b, a: pv, b: qv})
		out[p.A], out[p.B] = a, b
	}
	return out
}

// colsPaired is winoGen.colsPaired on virtual registers: out[r] = Σ_c
// m[r][c]·v[c] for the rows rs of m, the columns of a pair combined first.
// It returns the rows, indexed like m's.
func (g *neonWino) colsPaired(m [][]float32, pairs []winograd.Pair, rs []int, v []int) []int {
	type sd struct{ s, d int }
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
		if needS {
			comb[i].s = g.vec()
			g.op(wOp{kind: wAdd, d: comb[i].s, a: v[p.A], b: v[p.B]})
		}
		if needD {
			comb[i].d = g.vec()
			g.op(wOp{kind: wSub, d: comb[i].d, a: v[p.A], b: v[p.B]})
		}
	}
	out := make([]int, len(m))
	for _, r := range rs {
		var ts []wTerm
		for i, p := range pairs {
			k := m[r][p.A]
			switch {
			case k == 0:
			case p.B < 0:
				ts = append(ts, wTerm{k, v[p.A]})
			case p.Odd[r]:
				ts = append(ts, wTerm{k, comb[i].d})
			default:
				ts = append(ts, wTerm{k, comb[i].s})
			}
		}
		out[r] = g.lin(ts)
	}
	return out
}

// flush gives the body's virtual registers V registers below g.pool by a
// linear scan and writes its instructions. A register is free again after
// its value's last use, so an operation's result may take the register of
// an operand it reads for the last time; a copy of a value read for the
// last time takes over its register instead of being made.
func (g *neonWino) flush() {
	last := make([]int, g.nv)
	for i := range last {
		last[i] = -1
	}
	use := func(v, i int) {
		if v >= 0 {
			last[v] = i
		}
	}
	for i, o := range g.ops {
		switch o.kind {
		case wStore, wMov:
			use(o.a, i)
		case wAdd, wSub, wMax:
			use(o.a, i)
			use(o.b, i)
		case wMul:
			use(o.a, i)
		case wFMA:
			use(o.a, i)
			use(o.d, i)
		}
		if o.kind != wRaw && o.kind != wStore {
			use(o.d, i)
		}
	}
	phys := make([]arm64.V, g.nv)
	for i := range phys {
		phys[i] = -1
	}
	owner := make([]int, g.pool) // virtual in each register, -1 if free
	for i := range owner {
		owner[i] = -1
	}
	reg := func(v int) arm64.V {
		if v < 0 {
			return arm64.V(-1 - v)
		}
		if phys[v] < 0 {
			panic(fmt.Sprintf("vec: %s: virtual register %d read before it is set", g.fn.name, v))
		}
		return phys[v]
	}
	release := func(v, i int) {
		if v >= 0 && last[v] <= i && phys[v] >= 0 && owner[phys[v]] == v {
			owner[phys[v]] = -1
		}
	}
	for i, o := range g.ops {
		if o.kind == wRaw {
			g.fn.Op(o.raw[0], anys(o.raw[1:])...)
			continue
		}
		if o.kind == wMov && o.a >= 0 && last[o.a] == i && phys[o.d] < 0 {
			phys[o.d] = phys[o.a] // the copy takes over the register
			owner[phys[o.d]] = o.d
			continue
		}
		// Operands read for the last time free their registers first.
		var a, b arm64.V
		switch o.kind {
		case wStore, wMov, wMul, wFMA:
			a = reg(o.a)
			release(o.a, i)
		case wAdd, wSub, wMax:
			a, b = reg(o.a), reg(o.b)
			release(o.a, i)
			release(o.b, i)
		}
		var d arm64.V
		if o.kind != wStore {
			if o.d >= 0 && phys[o.d] < 0 {
				r := slices.Index(owner, -1)
				if r < 0 {
					panic(fmt.Sprintf("vec: %s: more than %d vector registers live", g.fn.name, g.pool))
				}
				phys[o.d], owner[r] = arm64.V(r), o.d
			}
			d = reg(o.d)
		}
		switch o.kind {
		case wLoad:
			if o.post {
				g.fn.Op("VLD1.P", o.mem, "["+d.S4()+"]")
			} else {
				g.fn.Op("FMOVQ", o.mem, d.F())
			}
		case wStore:
			if o.post {
				g.fn.Op("VST1.P", "["+a.S4()+"]", o.mem)
			} else {
				g.fn.Op("FMOVQ", a.F(), o.mem)
			}
		case wMov:
			g.fn.Op("VMOV", a.B16(), d.B16())
		case wZero:
			g.fn.Op("VEOR", d.B16(), d.B16(), d.B16())
		case wAdd:
			g.fn.Word(arm64.FADD(d, a, b))
		case wSub:
			g.fn.Word(arm64.FSUB(d, a, b))
		case wMax:
			g.fn.Word(arm64.FMAX(d, a, b))
		case wMul, wFMA:
			kr, ok := g.kreg[o.k]
			if !ok {
				panic(fmt.Sprintf("vec: no Winograd constant %g", o.k))
			}
			if o.kind == wMul {
				g.fn.Word(arm64.FMULElem(d, a, arm64.V(kr[0]), kr[1]))
			} else {
				g.fn.Word(arm64.FMLAElem(d, a, arm64.V(kr[0]), kr[1]))
			}
		}
		if o.kind != wStore {
			release(o.d, i)
		}
	}
	g.ops, g.nv = nil, 0
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// neonWinoIn writes form f's input transform, winoIn's contract on four
// tiles a vector: V = B^T d B for one row of tw tiles, the plane split by
// column mod M into M planes ps elements apart, rows ld apart; V[i][j] of
// tile t goes to dst[(α*i+j)*ldDst + t]. Each vector of tiles takes two
// passes, as winoIn's: B^T along each column of the window into dst rows
// α*i+c, then B^T along each row of that, in place. Whole vectors are
// read and written past tw (the caller leaves slack).
func neonWinoIn(f *neonFile, w winoForm) {
	name := WinoInName(gemm.NEON, w.f)
	a, M := w.alpha, w.f.M
	fn := f.function(name, "func(dst, planes *float32, ps, tw, ld, ldDst int)",
		name+" is Winograd "+w.f.String()+"'s input transform of one row of tw tiles of a plane",
		fmt.Sprintf("split by column mod %d (plane q at planes[q*ps], rows ld apart); V[ξ] of tile t", M),
		"goes to dst[ξ*ldDst+t]. It reads and writes whole vectors past the ends (the caller leaves slack).")
	const (
		d, cur, ps, tw, ld, ldD, ldDa = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5), arm64.Reg(6)
		pl, wp                        = arm64.Reg(16), arm64.Reg(17) // a plane's row 0, a dst pointer
	)
	rp := func(y int) arm64.Reg { // the plane's row y, y > 0
		return arm64.Reg(7 + y)
	}
	fn.loadArgs(d, cur, ps, tw, ld, ldD)
	fn.Op("LSL", "$2", ps, ps)
	fn.Op("LSL", "$2", ld, ld)
	fn.Op("LSL", "$2", ldD, ldD)
	fn.Op("MOVD", fmt.Sprintf("$%d", a), ldDa)
	fn.Op("MUL", ldD, ldDa, ldDa)
	g := &neonWino{fn: fn, pool: int(neonKRegs)}
	g.setConsts(wp, w.bt)
	fn.Label("tiles")
	fn.Op("CMP", "$0", tw)
	fn.Op("BLE", "done")
	// Pass 1, plane by plane: B^T d of column c into dst rows α*i+c.
	for q := range M {
		if q == 0 {
			g.raw("MOVD", cur, pl)
		} else {
			g.raw("ADD", ps, pl, pl)
		}
		for y := 1; y < a; y++ {
			prev := pl
			if y > 1 {
				prev = rp(y - 1)
			}
			g.raw("ADD", ld, prev, rp(y))
		}
		for c := q; c < a; c += M {
			v := make([]int, a)
			for y := range a {
				r := pl
				if y > 0 {
					r = rp(y)
				}
				v[y] = g.load(fmt.Sprintf("%d(%v)", 4*(c/M), r), false)
			}
			out := g.rowsPaired(w.bt, w.rowPairs, v)
			if c == 0 {
				g.raw("MOVD", d, wp)
			} else {
				g.raw("MOVD", fmt.Sprintf("$%d", c), wp)
				g.raw("MUL", ldD, wp, wp)
				g.raw("ADD", d, wp, wp)
			}
			for _, r := range out {
				g.store(r, fmt.Sprintf("(%v)(%v)", wp, ldDa), true)
			}
		}
	}
	// Pass 2, row by row: (B^T d) B in place.
	for i := range a {
		if i == 0 {
			g.raw("MOVD", d, pl)
		} else {
			g.raw("ADD", ldDa, pl, pl)
		}
		g.raw("MOVD", pl, wp)
		v := make([]int, a)
		for c := range a {
			v[c] = g.load(fmt.Sprintf("(%v)(%v)", wp, ldD), true)
		}
		out := g.rowsPaired(w.bt, w.rowPairs, v)
		g.raw("MOVD", pl, wp)
		for _, r := range out {
			g.store(r, fmt.Sprintf("(%v)(%v)", wp, ldD), true)
		}
	}
	g.flush()
	fn.Op("ADD", "$16", cur, cur)
	fn.Op("ADD", "$16", d, d)
	fn.Op("SUB", "$4", tw, tw)
	fn.Op("B", "tiles")
	fn.Label("done")
	fn.Op("RET")
}

// neonWinoOut writes form f's output transform, winoOut's contract on
// four tiles a vector: y[(M*dy+dx)*ldY + t] = max((A^T m A)[dy][dx] + bias,
// lo) for n tiles, m[ξ*step + t] element ξ = α*i+j of tile t. FMAX
// returns NaN if either operand is, so NaN propagates. The output rows go
// in winoOut's groups (all M rows if their values fit in the registers,
// else rows of one parity, as many as fit): for each column j the group's
// rows of A^T m from memory, then each row's outputs from those registers.
// bias is added to m[ξ] for A^T's all-ones column, which reaches every
// output once, or else to every output.
func neonWinoOut(f *neonFile, w winoForm) {
	name := WinoOutName(gemm.NEON, w.f)
	a, mm := w.alpha, w.f.M
	fn := f.function(name, "func(y, m *float32, n, step, ldY int, bias, lo float32)",
		name+" is Winograd "+w.f.String()+"'s output transform of n tiles: m[ξ*step+t] in,",
		"y[k*ldY+t] = max((A^T m A)[k] + bias, lo) out (NaN propagates). It reads and writes whole",
		"vectors past n.")
	const (
		y, m, n, s, ldY, sa = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5)
		pj, p, q            = arm64.Reg(6), arm64.Reg(7), arm64.Reg(8)
		bias, lo            = neonKRegs - 1, neonKRegs - 2
	)
	fn.loadArgs(y, m, n, s, ldY)
	fn.Op("LSL", "$2", s, s)
	fn.Op("LSL", "$2", ldY, ldY)
	fn.Op("MOVD", fmt.Sprintf("$%d", a), sa)
	fn.Op("MUL", s, sa, sa) // α rows of m
	fn.Op("FMOVS", fn.arg("bias"), bias.F())
	fn.Op("VDUP", bias.S(0), bias.S4())
	fn.Op("FMOVS", fn.arg("lo"), lo.F())
	fn.Op("VDUP", lo.S(0), lo.S4())
	g := &neonWino{fn: fn, pool: int(lo)}
	g.setConsts(p, w.at)
	ones := w.onesColumn()
	groups := w.outGroups(g.pool)
	all := make([]int, mm)
	for r := range all {
		all[r] = r
	}

	fn.Label("loop")
	fn.Op("CMP", "$0", n)
	fn.Op("BLE", "done")
	for _, grp := range groups {
		r := make([][]int, mm)
		for _, dy := range grp {
			r[dy] = make([]int, a)
		}
		for j := range a {
			if j == 0 {
				g.raw("MOVD", m, pj)
			} else {
				g.raw("ADD", s, pj, pj)
			}
			g.raw("MOVD", pj, p)
			v := make([]int, a)
			for i := range a {
				v[i] = g.load(fmt.Sprintf("(%v)(%v)", p, sa), true)
			}
			if j == ones {
				t := g.vec()
				g.op(wOp{kind: wAdd, d: t, a: v[ones], b: pinned(bias)})
				v[ones] = t
			}
			rows := g.colsPaired(w.at, w.colPairs, grp, v)
			for _, dy := range grp {
				r[dy][j] = rows[dy]
			}
		}
		for _, dy := range grp {
			if dy == 0 {
				g.raw("MOVD", y, q)
			} else {
				g.raw("MOVD", fmt.Sprintf("$%d", mm*dy), q)
				g.raw("MUL", ldY, q, q)
				g.raw("ADD", y, q, q)
			}
			out := g.colsPaired(w.at, w.colPairs, all, r[dy])
			for _, x := range out {
				if ones < 0 {
					g.op(wOp{kind: wAdd, d: x, a: x, b: pinned(bias)})
				}
				g.op(wOp{kind: wMax, d: x, a: x, b: pinned(lo)})
				g.store(x, fmt.Sprintf("(%v)(%v)", q, ldY), true)
			}
		}
	}
	g.flush()
	fn.Op("ADD", "$16", m, m)
	fn.Op("ADD", "$16", y, y)
	fn.Op("SUB", "$4", n, n)
	fn.Op("B", "loop")
	fn.Label("done")
	fn.Op("RET")
}
