package vec

import (
	"fmt"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
)

// neonIm2colRow writes vecIm2colRowNEON, im2colRow's contract on NEON: d[0:cols]
// gets the source elements of output positions ox0, ox0+1, ... of one
// output row and then of the rows after it, and d[cols:nr] zero; s points
// at the element of the first position, positions sw and output rows
// rowStep elements apart. A row's segment is copied sixteen elements at a
// time, then four, then one at sw 1; at sw 2 (the stem convolutions) VLD2
// splits eight elements into evens and odds and the evens are stored, four
// outputs a block while a fifth follows (so that the block's last, odd,
// element is one the segment reads); otherwise, and for the rest, one
// element at a time. Nothing past the last source element is read, nor
// anything past d[nr-1] written.
func neonIm2colRow(f *neonFile) {
	name := Im2colRowName(gemm.NEON)
	fn := f.function(name, "func(d, s *float32, cols, nr, ow, ox0, sw, rowStep int)",
		name+" writes one row of an im2col panel: d[j] for j < cols is the source",
		"element of the j-th output position from (row 0, ox0) on, rows of ow positions, s[0] the",
		"first, positions sw and rows rowStep elements apart; d[cols:nr] is zeroed.")
	const (
		d, p, cols, nr, ow, ox, sw, rowStep = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5), arm64.Reg(6), arm64.Reg(7)
		rowPtr, j, seg, rem, src, dst, n, t = arm64.Reg(8), arm64.Reg(9), arm64.Reg(10), arm64.Reg(11), arm64.Reg(12), arm64.Reg(13), arm64.Reg(14), arm64.Reg(15)
	)
	fn.loadArgs(d, p, cols, nr, ow, ox, sw, rowStep)
	// rowPtr is the source of position 0 of the current output row.
	fn.Op("MUL", sw, ox, t)
	fn.Op("SUB", fmt.Sprintf("%v<<2", t), p, rowPtr)
	fn.Op("LSL", "$2", sw, sw) // bytes from here on
	fn.Op("LSL", "$2", rowStep, rowStep)
	fn.Op("MOVD", "ZR", j)

	fn.Label("segment")
	// seg = min(ow-ox, cols-j)
	fn.Op("SUB", ox, ow, seg)
	fn.Op("SUB", j, cols, rem)
	fn.Op("CMP", seg, rem)
	fn.Op("CSEL", "LT", rem, seg, seg)
	fn.Op("MUL", sw, ox, src)
	fn.Op("ADD", rowPtr, src, src)
	fn.Op("ADD", fmt.Sprintf("%v<<2", j), d, dst)
	fn.Op("MOVD", seg, n)
	fn.Op("CMP", "$4", sw)
	fn.Op("BNE", "strided")
	fn.Label("by16")
	fn.Op("CMP", "$16", n)
	fn.Op("BLT", "by4")
	fn.Op("VLD1.P", fmt.Sprintf("64(%v)", src), arm64.V(0).List(4, "S4"))
	fn.Op("VST1.P", arm64.V(0).List(4, "S4"), fmt.Sprintf("64(%v)", dst))
	fn.Op("SUB", "$16", n, n)
	fn.Op("B", "by16")
	fn.Label("by4")
	fn.Op("CMP", "$4", n)
	fn.Op("BLT", "stail")
	fn.Op("VLD1.P", fmt.Sprintf("16(%v)", src), "["+arm64.V(0).S4()+"]")
	fn.Op("VST1.P", "["+arm64.V(0).S4()+"]", fmt.Sprintf("16(%v)", dst))
	fn.Op("SUB", "$4", n, n)
	fn.Op("B", "by4")

	fn.Label("strided")
	fn.Op("CMP", "$8", sw)
	fn.Op("BNE", "sloop")
	fn.Label("s2loop")
	fn.Op("CMP", "$5", n)
	fn.Op("BLT", "stail")
	fn.Op("VLD2.P", fmt.Sprintf("32(%v)", src), arm64.V(0).List(2, "S4"))
	fn.Op("VST1.P", "["+arm64.V(0).S4()+"]", fmt.Sprintf("16(%v)", dst))
	fn.Op("SUB", "$4", n, n)
	fn.Op("B", "s2loop")
	fn.Label("stail")
	fn.Op("CBZ", n, "next")
	fn.Label("sloop")
	fn.Op("MOVWU", fmt.Sprintf("(%v)", src), t)
	fn.Op("MOVW.P", t, fmt.Sprintf("4(%v)", dst))
	fn.Op("ADD", sw, src, src)
	fn.Op("SUB", "$1", n, n)
	fn.Op("CBNZ", n, "sloop")

	fn.Label("next")
	fn.Op("ADD", seg, j, j)
	fn.Op("CMP", cols, j)
	fn.Op("BGE", "zero")
	fn.Op("ADD", rowStep, rowPtr, rowPtr)
	fn.Op("MOVD", "ZR", ox)
	fn.Op("B", "segment")

	fn.Label("zero")
	fn.Op("SUB", cols, nr, n)
	fn.Op("ADD", fmt.Sprintf("%v<<2", cols), d, dst)
	fn.Op("VEOR", arm64.V(0).B16(), arm64.V(0).B16(), arm64.V(0).B16())
	fn.Label("z4")
	fn.Op("CMP", "$4", n)
	fn.Op("BLT", "z1")
	fn.Op("VST1.P", "["+arm64.V(0).S4()+"]", fmt.Sprintf("16(%v)", dst))
	fn.Op("SUB", "$4", n, n)
	fn.Op("B", "z4")
	fn.Label("z1")
	fn.Op("CMP", "$0", n)
	fn.Op("BLE", "done")
	fn.Op("MOVW.P", "ZR", fmt.Sprintf("4(%v)", dst))
	fn.Op("SUB", "$1", n, n)
	fn.Op("B", "z1")
	fn.Label("done")
	fn.Op("RET")
}
