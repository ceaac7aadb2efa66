package gemm

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The transposed code shape computes a ragged column edge of few columns
// (StoreN < MR <= 8, on amd64; NEON's is in neon_tposed.go) with the rows
// in the lanes instead of the columns. The usual shape computes such a tile as one whole column
// vector per row: MR FMAs per k step, each with a broadcast of A, of
// which StoreN lanes are kept. A 7x7 map at batch 1 has N = 49 columns,
// one more than the 8x48 tile's 48, and that one column cost 43% of a
// full tile (3 of the 9 FMAs per column of the tiles beside it). The
// transposed shape loads the k step's MR values of A as one ymm vector,
// broadcasts each of the StoreN values of B and issues StoreN FMAs: one
// per column instead of MR.
//
// So that the FMAs' latency is hidden with one or two columns, each
// column has splits accumulators (1, 2, 4 or 8: as many as keep StoreN ×
// splits <= 8), which take the k steps in turn and are added at the end;
// the k loop is unrolled by a multiple of splits. The StoreN column sums
// are then transposed in registers into MR row vectors of StoreN lanes,
// and the usual epilogue adds the bias (here, by row), C and the
// activation, and stores them.
//
// Everything is VEX-encoded ymm (AVX, AVX2, FMA), on AVX-512 too: the 8
// rows fill a ymm register, and EVEX would gain nothing. Registers: the
// accumulators are Y0-Y7, the A vector Y8, the B broadcasts Y9 and Y10,
// the mask of an A panel narrower than 8 rows Y11. The transposition
// writes Y8-Y15 then Y0-Y7, and its rows end in Y8-Y15 (Z8-Z15 to the
// AVX-512 epilogue, whose VEX-written upper lanes are zero); the
// epilogue's temporaries are then Y0-Y7.

// transposedRows is the number of rows, and of registers, of the
// transposed shape.
const transposedRows = 8

// transposedShape reports whether c is computed in the transposed shape,
// and with how many accumulators a column.
func transposedShape(c Config) (ok bool, splits int) {
	if c.ISA == NEON {
		return neonTransposed(c)
	}
	if c.ISA != AVX512 && c.ISA != AVX2 || c.BF16B || c.MR > transposedRows || c.storeN() >= c.MR {
		return false, 0
	}
	return true, tposSplits(c.storeN(), transposedRows)
}

// tposSplits is how many accumulators a transposed kernel keeps for each
// of its per sums (a column's on amd64, a column's vector of rows' on
// NEON), which take the k steps in turn: the largest power of two that
// keeps per·splits at most most.
func tposSplits(per, most int) int {
	splits := 1
	for 2*splits*per <= most {
		splits *= 2
	}
	return splits
}

// transposedBudget is the register demand of a transposed kernel: the
// accumulators (then the rows), the transposition's other 8 registers
// (the loop's operands fit in them), and the epilogue's temporaries with,
// on AVX2, one for the bias broadcast.
func transposedBudget(c Config) regBudget {
	b := regBudget{acc: transposedRows, loop: transposedRows, epilogue: len(epilogueTemps(c))}
	if c.ISA == AVX2 && c.Bias {
		b.epilogue++
	}
	return b
}

// ymm returns register Yi.
func ymm(i int) reg.Register { return reg.Vector.Lookup(reg.Index(i), reg.S256) }

// Registers of the transposed shape's k loop.
var (
	tposA    = ymm(8)
	tposB    = [2]reg.Register{ymm(9), ymm(10)}
	tposMask = ymm(11)
)

// tposAcc returns the accumulator of column n for the k steps s with s
// mod splits = split.
func (e *emitter) tposAcc(split, n int) reg.Register {
	return ymm(split*e.cfg.storeN() + n)
}

// tposInit zeroes the accumulators and, for a panel of fewer than 8
// rows, makes the mask of its rows: A's loads must not read past the
// last panel.
func (e *emitter) tposInit() {
	c := e.cfg
	e.Comment("Transposed shape: rows in the lanes. Zero the accumulators.")
	for s := range e.shape.splits {
		for n := range c.storeN() {
			v := e.tposAcc(s, n)
			e.VXORPS(v, v, v)
		}
	}
	if c.MR < transposedRows {
		e.MOVQ(operand.U64(uint64(1)<<(8*c.MR)-1), regTmp)
		e.VMOVQ(regTmp, tposMask.(reg.VecPhysical).AsX())
		e.VPMOVSXBD(tposMask.(reg.VecPhysical).AsX(), tposMask)
	}
}

// tposStep is step for the transposed shape: the MR values of A, then a
// broadcast and an FMA per column.
func (e *emitter) tposStep(s int) {
	c := e.cfg
	a := operand.Mem{Base: regA, Disp: 4 * s * c.MR}
	if c.MR < transposedRows {
		e.VMASKMOVPS(a, tposMask, tposA)
	} else {
		e.VMOVUPS(a, tposA)
	}
	for n := range c.storeN() {
		b := tposB[n%2]
		e.VBROADCASTSS(operand.Mem{Base: regB, Disp: 4 * (s*c.ldb() + n)}, b)
		e.VFMADD231PS(tposA, b, e.tposAcc(s%e.shape.splits, n))
	}
}

// tposFinish adds each column's accumulators, transposes the columns into
// rows and points the epilogue at them: acc[r][0] holds row r's StoreN
// columns in its low lanes.
func (e *emitter) tposFinish() {
	c := e.cfg
	sn := c.storeN()
	e.Comment("Add each column's accumulators and transpose the columns into rows.")
	for step := 1; step < e.shape.splits; step *= 2 {
		for s := 0; s+step < e.shape.splits; s += 2 * step {
			for n := range sn {
				e.VADDPS(e.tposAcc(s+step, n), e.tposAcc(s, n), e.tposAcc(s, n))
			}
		}
	}
	width := 4
	if sn > 4 {
		width = transposedRows
	}
	for n := sn; n < width; n++ {
		e.VXORPS(ymm(n), ymm(n), ymm(n))
	}
	// t[2i], t[2i+1] interleave columns 2i and 2i+1 (rows 0,1,4,5 and
	// 2,3,6,7); u[4j+i] holds row i of columns 4j..4j+3 in its low half
	// and row i+4 in its high half.
	for i := 0; i < width; i += 2 {
		e.VUNPCKLPS(ymm(i+1), ymm(i), ymm(8+i))
		e.VUNPCKHPS(ymm(i+1), ymm(i), ymm(8+i+1))
	}
	for j := 0; j < width; j += 4 {
		t := func(i int) reg.Register { return ymm(8 + j + i) }
		e.VSHUFPS(operand.U8(0x44), t(2), t(0), ymm(j))
		e.VSHUFPS(operand.U8(0xee), t(2), t(0), ymm(j+1))
		e.VSHUFPS(operand.U8(0x44), t(3), t(1), ymm(j+2))
		e.VSHUFPS(operand.U8(0xee), t(3), t(1), ymm(j+3))
	}
	e.acc = e.acc[:0]
	for r := range e.rows {
		row := ymm(8 + r)
		i := r % 4
		switch {
		case width == transposedRows && r < 4:
			e.VPERM2F128(operand.U8(0x20), ymm(i+4), ymm(i), row)
		case width == transposedRows:
			e.VPERM2F128(operand.U8(0x31), ymm(i+4), ymm(i), row)
		case r < 4:
			e.VMOVAPS(ymm(i), row)
		default:
			e.VPERM2F128(operand.U8(0x01), ymm(i), ymm(i), row)
		}
		e.acc = append(e.acc, []reg.Register{e.vec(8 + r)})
	}
	e.temps = map[epilogueTemp]reg.Register{}
	temps := epilogueTemps(c)
	for i, t := range temps {
		e.temps[t] = e.vec(i)
	}
	e.tposBias = e.vec(len(temps))
}

// tposAddBias adds row r's bias to v: the transposed shape's accumulators
// start from zero.
func (e *emitter) tposAddBias(v reg.Register, r int) {
	m := operand.Mem{Base: regBias, Disp: 4 * r}
	if e.cfg.ISA == AVX512 {
		e.VADDPS_BCST(m, v, v)
		return
	}
	e.VBROADCASTSS(m, e.tposBias)
	e.VADDPS(e.tposBias, v, v)
}
