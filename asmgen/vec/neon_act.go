package vec

import (
	"fmt"
	"math"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
)

// neonAct is the NEON counterpart of activate: the registers of the
// activation that a kernel's act parameter selects (0 none, 1 ReLU, 2
// leaky ReLU, 3 clip, 4 hardswish, 5 sigmoid, 6 SiLU; see activate for the
// formulas). ARM's FMAX and FMIN return NaN when either operand is NaN, so
// every path propagates NaN as the x86 code does.
type neonAct struct {
	act                  arm64.Reg  // the code
	tmp                  arm64.Reg  // scratch, for the constants' bits
	zero, slope, hi, one arm64.V    // 0, the parameters and 1 in every lane
	consts               [4]arm64.V // neonActConsts, four per register
	t                    [4]arm64.V // scratch
}

// neonActConsts returns the scalars the activations read by lane:
// gemm.NEONSigmoidConsts (sigmoid and SiLU), then hardswish's 1/6 and 1/2,
// at indices sixth and half.
func neonActConsts() (c []float32, sixth, half int) {
	c = gemm.NEONSigmoidConsts()
	return append(c, 1.0/6, 0.5), len(c), len(c) + 1
}

// setup loads the code from parameter act and fills the constant
// registers from parameters slope and hi; the lane constants only for the
// codes that read them (4 and up).
func (a *neonAct) setup(fn *neonFunc, prefix string) {
	fn.Op("MOVD", fn.arg("act"), a.act)
	fn.Op("VEOR", a.zero.B16(), a.zero.B16(), a.zero.B16())
	fn.Op("FMOVS", fn.arg("slope"), a.slope.F())
	fn.Op("VDUP", a.slope.S(0), a.slope.S4())
	fn.Op("FMOVS", fn.arg("hi"), a.hi.F())
	fn.Op("VDUP", a.hi.S(0), a.hi.S4())
	fn.Word(arm64.FMOVImm(a.one, 1))
	fn.Op("CMP", "$4", a.act)
	fn.Op("BLT", prefix+"consts")
	c, _, _ := neonActConsts()
	if len(c) > 4*len(a.consts) {
		panic("vec: neonActConsts outgrew its registers")
	}
	for i, f := range c {
		fn.Op("MOVW", fmt.Sprintf("$0x%08x", math.Float32bits(f)), a.tmp)
		fn.Op("VMOV", a.tmp, a.consts[i/4].S(i%4))
	}
	fn.Label(prefix + "consts")
}

// emit applies the activation to each vector of acc in place. Every path
// ends at the label prefix+"store", which emit writes last; the other
// labels start with prefix too.
func (a *neonAct) emit(fn *neonFunc, prefix string, acc []arm64.V) {
	store := prefix + "store"
	fn.Op("CMP", "$1", a.act)
	fn.Op("BLT", store)
	fn.Op("BEQ", prefix+"relu")
	fn.Op("CMP", "$3", a.act)
	fn.Op("BEQ", prefix+"clip")
	fn.Op("BGT", prefix+"hard")
	for _, v := range acc {
		// Leaky ReLU: max(v, 0) + slope*min(v, 0), as on x86.
		t := a.t[0]
		fn.Word(arm64.FMIN(t, v, a.zero))
		fn.Word(arm64.FMAX(v, v, a.zero))
		fn.Op("VFMLA", a.slope.S4(), t.S4(), v.S4())
	}
	fn.Op("B", store)
	fn.Label(prefix + "relu")
	for _, v := range acc {
		fn.Word(arm64.FMAX(v, v, a.zero))
	}
	fn.Op("B", store)
	fn.Label(prefix + "clip")
	for _, v := range acc {
		fn.Word(arm64.FMAX(v, v, a.slope))
		fn.Word(arm64.FMIN(v, v, a.hi))
	}
	fn.Op("B", store)
	// Hardswish (4), sigmoid (5) and SiLU (6), each its own loop.
	fn.Label(prefix + "hard")
	lane := func(i int) (arm64.V, int) { return a.consts[i/4], i % 4 }
	_, sixth, half := neonActConsts()
	for code := 4; code <= 6; code++ {
		next := fmt.Sprintf("%s%dnext", prefix, code)
		if code < 6 {
			fn.Op("CMP", fmt.Sprintf("$%d", code), a.act)
			fn.Op("BNE", next)
		}
		for _, v := range acc {
			if code > 4 {
				gemm.NEONSigmoid(fn.Builder, v, code == 6, a.one, a.consts[:], a.t)
				continue
			}
			// v *= min(max(v*(1/6) + 1/2, 0), 1), rounded as on x86
			// (a multiply, then an add); a NaN v stays NaN.
			t, h := a.t[0], a.t[1]
			c, l := lane(sixth)
			fn.Word(arm64.FMULElem(t, v, c, l))
			c, l = lane(half)
			fn.Op("VDUP", c.S(l), h.S4())
			fn.Word(arm64.FADD(t, t, h))
			fn.Word(arm64.FMAX(t, t, a.zero))
			fn.Word(arm64.FMIN(t, t, a.one))
			fn.Word(arm64.FMUL(v, v, t))
		}
		if code < 6 {
			fn.Op("B", store)
			fn.Label(next)
		}
	}
	fn.Label(store)
}
