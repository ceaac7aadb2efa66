package gemm

import (
	"fmt"

	"github.com/cnnc/cnnc/asmgen/arm64"
)

// NEON's transposed shape (transposed.go's, for arm64): a ragged edge of
// 1 to 3 columns, where the usual shape issues one FMLA a row (MR a k)
// for a vector of which StoreN lanes are kept, instead takes a k step's
// MR values of A as ceil(MR/4) vectors and issues, per column, an FMLA by
// element of each with the column's value of B: StoreN·ceil(MR/4) FMLAs a
// k (2 for a 7x7 map's 49th column on the 8x12 tile, against 8). Each
// column keeps splits accumulators per vector of rows, taking the k steps
// in turn. At the end the splits are added, the bias added by row
// vector, and each block of 4 rows transposed (TRN1, TRN2) into the row
// registers V0-V(MR-1) that the usual epilogue stores.
//
// Registers: the accumulators V16-V23, A's vectors from V24, B's vector
// V27; the transposition's zero column V28 and temporaries V24, V29-V31.
const (
	nTposAcc  arm64.V = 16
	nTposA    arm64.V = 24
	nTposB    arm64.V = 27
	nTposZero arm64.V = 28
	nTposMax          = 8 // accumulators
)

// neonTransposed reports whether NEON kernel c is computed transposed,
// and with how many accumulators a column and vector of rows.
func neonTransposed(c Config) (ok bool, splits int) {
	nrv := (c.MR + 3) / 4
	sn := c.storeN()
	if c.BF16B || c.MR > 8 || sn > 3 || sn*nrv >= c.MR {
		return false, 0
	}
	return true, tposSplits(sn*nrv, nTposMax)
}

// tposAcc is the accumulator of split s, column n and vector of rows v.
func (e *neonEmitter) tposAcc(s, n, v int) arm64.V {
	nrv := (e.cfg.MR + 3) / 4
	return nTposAcc + arm64.V((s*e.cfg.storeN()+n)*nrv+v)
}

// tposInit zeroes the accumulators.
func (e *neonEmitter) tposInit() {
	e.Raw("")
	e.Comment("Transposed shape: rows in the lanes. Zero the accumulators.")
	nrv := (e.cfg.MR + 3) / 4
	for s := range e.splits {
		for n := range e.cfg.storeN() {
			for v := range nrv {
				a := e.tposAcc(s, n, v)
				e.Op("VEOR", a.B16(), a.B16(), a.B16())
			}
		}
	}
}

// tposFMAs are the FMLAs of k step s of the transposed shape, once its
// A and B vectors are loaded.
func (e *neonEmitter) tposFMAs(s int) {
	nrv := (e.cfg.MR + 3) / 4
	for n := range e.cfg.storeN() {
		for v := range nrv {
			e.Word(arm64.FMLAElem(e.tposAcc(s%e.splits, n, v), e.avec+arm64.V(v), e.bvec, n))
		}
	}
}

// tposFinish adds the splits and the bias, and transposes the columns
// into the row registers.
func (e *neonEmitter) tposFinish() {
	c := e.cfg
	sn, nrv := c.storeN(), (c.MR+3)/4
	e.Raw("")
	e.Comment("Add each column's accumulators and the bias, and transpose the columns into rows.")
	for step := 1; step < e.splits; step *= 2 {
		for s := 0; s+step < e.splits; s += 2 * step {
			for n := range sn {
				for v := range nrv {
					a := e.tposAcc(s, n, v)
					e.Word(arm64.FADD(a, a, e.tposAcc(s+step, n, v)))
				}
			}
		}
	}
	if c.Bias {
		// Row vector v's biases, lane by lane: no load past the last row.
		e.Op("MOVD", e.param("bias"), nRegBias)
		b := arm64.V(29)
		for v := range nrv {
			e.Op("VEOR", b.B16(), b.B16(), b.B16())
			for l := range min(4, e.rows-4*v) {
				e.Op("VLD1.P", fmt.Sprintf("4(%v)", nRegBias), b.S(l))
			}
			for n := range sn {
				a := e.tposAcc(0, n, v)
				e.Word(arm64.FADD(a, a, b))
			}
		}
	}
	e.Op("VEOR", nTposZero.B16(), nTposZero.B16(), nTposZero.B16())
	t := [4]arm64.V{24, 29, 30, 31}
	for v := range nrv {
		if 4*v >= e.rows {
			break
		}
		col := func(n int) arm64.V {
			if n < sn {
				return e.tposAcc(0, n, v)
			}
			return nTposZero
		}
		// t0, t1 interleave columns 0 and 1 (rows 0, 2 and 1, 3), t2, t3
		// columns 2 and 3; row 4v+i is then a pair of their halves.
		e.Op("VTRN1", col(1).S4(), col(0).S4(), t[0].S4())
		e.Op("VTRN2", col(1).S4(), col(0).S4(), t[1].S4())
		e.Op("VTRN1", col(3).S4(), col(2).S4(), t[2].S4())
		e.Op("VTRN2", col(3).S4(), col(2).S4(), t[3].S4())
		for i, op := range [4]struct {
			trn  string
			a, b int
		}{{"VTRN1", 0, 2}, {"VTRN1", 1, 3}, {"VTRN2", 0, 2}, {"VTRN2", 1, 3}} {
			if r := 4*v + i; r < e.rows {
				e.Op(op.trn, t[op.b].D2(), t[op.a].D2(), e.acc[r][0].D2())
			}
		}
	}
}
