// Package arm64 writes Go arm64 assembly text: a small builder for the
// kernel generators, since avo writes only amd64.
//
// Instructions the Go assembler knows (VLD1, VST1, VDUP, VMOV, VFMLA, VEOR,
// FMOVQ, MOVD, ADD, SUBS, BNE, ...) are written as Go mnemonics through
// [Builder.Op]. The vector instructions it lacks (golang/go#41092: FMUL,
// FADD, FMAX, FMLA by element, FRINTN, FCVTZS, ...) are emitted by
// [Builder.Word] as `WORD $0x...` with the instruction in ARM syntax as the
// comment. Their encodings are computed from the instruction fields by the
// functions of enc.go, each of which returns an [Inst], and enc_test.go
// assembles every form with GNU as (binutils-aarch64-linux-gnu) and
// compares the bytes, so that no encoding is typed by hand.
package arm64

import (
	"fmt"
	"strings"
)

// Reg is a general-purpose register R0-R30.
type Reg int

// String returns the Go assembler name, e.g. "R3".
func (r Reg) String() string { return fmt.Sprintf("R%d", int(r)) }

// V is a SIMD&FP register V0-V31.
type V int

// Go assembler names of V in its arrangements and scalar views.

// S4 returns "Vn.S4", four float32 (or int32) lanes.
func (v V) S4() string { return fmt.Sprintf("V%d.S4", int(v)) }

// S2 returns "Vn.S2", the low two lanes (a 64-bit register).
func (v V) S2() string { return fmt.Sprintf("V%d.S2", int(v)) }

// D2 returns "Vn.D2", two 64-bit lanes.
func (v V) D2() string { return fmt.Sprintf("V%d.D2", int(v)) }

// H4 returns "Vn.H4", four 16-bit lanes of the low half.
func (v V) H4() string { return fmt.Sprintf("V%d.H4", int(v)) }

// B16 returns "Vn.B16", the whole register as bytes (for bitwise ops).
func (v V) B16() string { return fmt.Sprintf("V%d.B16", int(v)) }

// S returns "Vn.S[i]", lane i.
func (v V) S(i int) string { return fmt.Sprintf("V%d.S[%d]", int(v), i) }

// F returns "Fn", the scalar view (FMOVS, FMOVD, FMOVQ).
func (v V) F() string { return fmt.Sprintf("F%d", int(v)) }

// List returns the register list "[Va.arr, Vb.arr, ...]" of n consecutive
// registers from v in arrangement arr ("S4", "H4"), as VLD1 and VST1 take
// it (at most four).
func (v V) List(n int, arr string) string {
	if n < 1 || n > 4 || int(v)+n > 32 {
		panic(fmt.Sprintf("arm64: bad register list V%d x %d", v, n))
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("V%d.%s", int(v)+i, arr)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Builder accumulates the text of one assembly file.
type Builder struct {
	b strings.Builder
}

// Raw writes one line as given, e.g. `#include "textflag.h"`.
func (b *Builder) Raw(line string) { b.b.WriteString(line + "\n") }

// Comment writes "// text" lines, one per element, indented like code, as
// gofmt writes comments: "//" alone for an empty element, no space before
// one that starts with a tab.
func (b *Builder) Comment(lines ...string) {
	for _, l := range lines {
		if l != "" && l[0] != '\t' {
			l = " " + l
		}
		b.b.WriteString("\t//" + l + "\n")
	}
}

// Text starts function name (a Go identifier of the package) as a NOSPLIT,
// NOFRAME leaf with argsize bytes of arguments.
func (b *Builder) Text(name string, argsize int) {
	fmt.Fprintf(&b.b, "TEXT ·%s(SB), NOSPLIT|NOFRAME, $0-%d\n", name, argsize)
}

// Label writes a label; labels are local to the function.
func (b *Builder) Label(name string) { b.b.WriteString(name + ":\n") }

// Op writes an instruction in Go assembler syntax: the mnemonic, then the
// operands in Go's order (sources first, destination last).
func (b *Builder) Op(mnemonic string, operands ...any) {
	b.b.WriteString("\t" + mnemonic)
	for i, o := range operands {
		if i == 0 {
			b.b.WriteString("\t")
		} else {
			b.b.WriteString(", ")
		}
		fmt.Fprint(&b.b, o)
	}
	b.b.WriteString("\n")
}

// Word writes an instruction the Go assembler lacks as WORD, commented
// with its ARM syntax.
func (b *Builder) Word(i Inst) {
	fmt.Fprintf(&b.b, "\tWORD\t$0x%08x // %s\n", i.Bits, i.Asm)
}

// String returns the text written so far.
func (b *Builder) String() string { return b.b.String() }
