package vec

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"strings"

	"github.com/cnnc/cnnc/asmgen/arm64"
	"github.com/cnnc/cnnc/asmgen/gemm"
)

// The arm64 back end. avo writes only amd64, so a kind's NEON routines
// (Kernel.neon) are written with asmgen/arm64's builder: Go's mnemonics
// where its assembler has them, WORD encodings checked against GNU as for
// the rest. Every kind has them, as every kind has AVX-512 and AVX2 ones:
// GenerateNEON fails for a kind without.

// neonFile accumulates the assembly and the Go declarations of the NEON
// routines of one generated file.
type neonFile struct {
	asm   arm64.Builder
	decls bytes.Buffer
}

// neonFunc is one routine being written: the builder, and its parameters
// in order with their frame offsets.
type neonFunc struct {
	*arm64.Builder
	name   string
	params []string
	offs   map[string]int
}

// function starts routine name, of Go signature sig ("func(dst, src
// *float32, n int)"), as a NOSPLIT leaf declared //go:noescape with doc.
// Its parameters are read with arg and loadArgs.
func (f *neonFile) function(name, sig string, doc ...string) *neonFunc {
	params, offs, size := frame(sig)
	fmt.Fprintf(&f.decls, "\n// %s\n//\n//go:noescape\nfunc %s%s\n", strings.Join(doc, "\n// "), name, strings.TrimPrefix(sig, "func"))
	f.asm.Raw("")
	f.asm.Raw("// " + sig[:4] + " " + name + sig[4:])
	f.asm.Text(name, size)
	return &neonFunc{Builder: &f.asm, name: name, params: params, offs: offs}
}

// loadArgs moves the routine's first len(regs) parameters, in the
// signature's order (pointers and ints), into regs.
func (fn *neonFunc) loadArgs(regs ...arm64.Reg) {
	for i, r := range regs {
		fn.Op("MOVD", fn.arg(fn.params[i]), r)
	}
}

// arg returns the frame operand of parameter name ("n+16(FP)").
func (fn *neonFunc) arg(name string) string {
	off, ok := fn.offs[name]
	if !ok {
		panic("vec: " + fn.name + " has no parameter " + name)
	}
	return fmt.Sprintf("%s+%d(FP)", name, off)
}

// frame returns the parameters of Go signature sig in order, their frame
// offsets and the size of the arguments, as Go's ABI0 lays them out on arm64
// (each aligned to its size) and go vet's asmdecl checks them.
func frame(sig string) (params []string, offs map[string]int, size int) {
	e, err := parser.ParseExpr(sig)
	if err != nil {
		panic(fmt.Sprintf("vec: signature %q: %v", sig, err))
	}
	ft, ok := e.(*ast.FuncType)
	if !ok || ft.Results != nil {
		panic(fmt.Sprintf("vec: signature %q: want a func without results", sig))
	}
	offs = map[string]int{}
	for _, field := range ft.Params.List {
		w := 8 // pointers and ints
		if id, ok := field.Type.(*ast.Ident); ok {
			switch id.Name {
			case "int", "uintptr", "float64":
			case "float32", "int32", "uint32":
				w = 4
			default:
				panic(fmt.Sprintf("vec: signature %q: type %s", sig, id.Name))
			}
		} else if _, ok := field.Type.(*ast.StarExpr); !ok {
			panic(fmt.Sprintf("vec: signature %q: unsupported parameter type", sig))
		}
		for _, n := range field.Names {
			size = (size + w - 1) / w * w
			params = append(params, n.Name)
			offs[n.Name] = size
			size += w
		}
	}
	return params, offs, size
}

// GenerateNEON returns the assembly and Go declarations of the NEON
// routines of set's kinds for package pkg, under gemm.NEONAsmConstraint.
// A kind without NEON routines is an error.
// set's Winograd transforms are generated from their matrices
// (neon_wino.go), with their driver's row copy (vecCopyRowsNEON).
func GenerateNEON(pkg string, set Set) (asm, stubs []byte, err error) {
	var f neonFile
	f.asm.Raw(gemm.Header)
	f.asm.Raw("")
	f.asm.Raw("//go:build " + gemm.NEONAsmConstraint)
	f.asm.Raw("")
	f.asm.Raw(`#include "textflag.h"`)
	fmt.Fprintf(&f.decls, "%s\n\n//go:build %s\n\npackage %s\n", gemm.Header, gemm.NEONAsmConstraint, pkg)
	forms, err := genForms(set.Forms)
	if err != nil {
		return nil, nil, err
	}
	copies := len(forms) > 0 // for the transforms' driver
	for _, k := range set.Kernels {
		if k.neon == nil {
			return nil, nil, fmt.Errorf("vec: kind %s has no NEON routines", k.Name)
		}
		k.neon(&f)
		copies = copies || k.CopyRows
	}
	for _, w := range forms {
		neonWinoIn(&f, w)
		neonWinoOut(&f, w)
	}
	if copies {
		neonCopyRows(&f)
	}
	if stubs, err = format.Source(f.decls.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("vec: NEON declarations: %w", err)
	}
	return []byte(f.asm.String()), stubs, nil
}

// neonMaxPool3s2 writes vecMaxPool3s2NEON: one output row of a max pooling
// with 3-wide windows at stride 2, four outputs at a time. For a block of
// outputs i..i+3, VLD2 splits the eight elements from 2i into the windows'
// first (even) and middle (odd) elements, and a second VLD2 from 2i+2
// gives their last; each is reduced over the rows with FMAX, which returns
// NaN when either operand is one, and the three are reduced last. n is a
// multiple of 4 (the caller does the rest); rows are read to element
// 2n+1, one past the last window.
func neonMaxPool3s2(f *neonFile) {
	name := MaxPoolName(gemm.NEON)
	fn := f.function(name, "func(dst, src *float32, n, rows, ld int)",
		name+" computes dst[i] = max(src[r*ld+2i+k]) over r < rows, k < 3, for i < n,",
		"propagating NaN. n must be a multiple of 4; rows are read to element 2n+1.")
	neonMaxPoolRows(fn, 2)
}

// neonMaxPool3s1 writes vecMaxPool3s1NEON, the stride-1 counterpart of
// neonMaxPool3s2: a block of outputs i..i+3 reduces the vectors at
// elements i, i+1 and i+2 over the rows. n is a multiple of 4; rows are
// read to element n+1, the last window's end.
func neonMaxPool3s1(f *neonFile) {
	name := MaxPool1Name(gemm.NEON)
	fn := f.function(name, "func(dst, src *float32, n, rows, ld int)",
		name+" computes dst[i] = max(src[r*ld+i+k]) over r < rows, k < 3, for i < n,",
		"propagating NaN. n must be a multiple of 4; rows are read to element n+1.")
	neonMaxPoolRows(fn, 1)
}

// neonMaxPoolRows writes the body of the max pooling row kernels at stride
// s: V0-V2 (stride 2: V0-V3, V3 unused but loaded) accumulate a block's
// three window columns over the rows.
func neonMaxPoolRows(fn *neonFunc, s int) {
	const (
		dst, src, n, rows, ld = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4)
		p, q, r               = arm64.Reg(5), arm64.Reg(6), arm64.Reg(7)
	)
	fn.loadArgs(dst, src, n, rows, ld)
	fn.Op("LSL", "$2", ld, ld)
	// load sets the block's three columns at row pointer p into V(base),
	// V(base+1), V(base+2).
	load := func(base arm64.V) {
		if s == 2 {
			// Evens (first) and odds (middle) from 2i, evens from 2i+2
			// (last) into base+2, with base+3 taking their odds.
			fn.Op("VLD2", fmt.Sprintf("(%v)", p), base.List(2, "S4"))
			fn.Op("ADD", "$8", p, q)
			fn.Op("VLD2", fmt.Sprintf("(%v)", q), (base+2).List(2, "S4"))
			return
		}
		fn.Op("VLD1", fmt.Sprintf("(%v)", p), "["+base.S4()+"]")
		fn.Op("ADD", "$4", p, q)
		fn.Op("VLD1", fmt.Sprintf("(%v)", q), "["+(base+1).S4()+"]")
		fn.Op("ADD", "$8", p, q)
		fn.Op("VLD1", fmt.Sprintf("(%v)", q), "["+(base+2).S4()+"]")
	}
	fn.Label("block")
	fn.Op("CMP", "$4", n)
	fn.Op("BLT", "done")
	fn.Op("MOVD", src, p)
	load(0)
	fn.Op("SUBS", "$1", rows, r)
	fn.Op("BLE", "reduced")
	fn.Label("row")
	fn.Op("ADD", ld, p, p)
	load(4)
	for i := range arm64.V(3) {
		fn.Word(arm64.FMAX(i, i, 4+i))
	}
	fn.Op("SUBS", "$1", r, r)
	fn.Op("BNE", "row")
	fn.Label("reduced")
	fn.Word(arm64.FMAX(0, 0, 1))
	fn.Word(arm64.FMAX(0, 0, 2))
	fn.Op("VST1.P", "[V0.S4]", fmt.Sprintf("16(%v)", dst))
	fn.Op("ADD", fmt.Sprintf("$%d", 16*s), src, src)
	fn.Op("SUB", "$4", n, n)
	fn.Op("B", "block")
	fn.Label("done")
	fn.Op("RET")
}

// neonCopyRows writes vecCopyRowsNEON, copyRows' counterpart: rows rows of
// n elements between strided rows, sixteen elements at a time, then four,
// then one, reading and writing nothing else.
func neonCopyRows(f *neonFile) {
	name := CopyRowsName(gemm.NEON)
	fn := f.function(name, "func(dst, src *float32, rows, n, ldDst, ldSrc int)",
		name+" copies dst[r*ldDst+j] = src[r*ldSrc+j] for r < rows, j < n, reading",
		"and writing nothing else.")
	const (
		dst, src, rows, n, ldD, ldS = arm64.Reg(0), arm64.Reg(1), arm64.Reg(2), arm64.Reg(3), arm64.Reg(4), arm64.Reg(5)
		d, s, c                     = arm64.Reg(6), arm64.Reg(7), arm64.Reg(8)
	)
	fn.loadArgs(dst, src, rows, n, ldD, ldS)
	fn.Op("LSL", "$2", ldD, ldD)
	fn.Op("LSL", "$2", ldS, ldS)
	fn.Label("row")
	fn.Op("CBZ", rows, "done")
	fn.Op("MOVD", dst, d)
	fn.Op("MOVD", src, s)
	fn.Op("MOVD", n, c)
	fn.Label("by16")
	fn.Op("CMP", "$16", c)
	fn.Op("BLT", "by4")
	fn.Op("VLD1.P", fmt.Sprintf("64(%v)", s), arm64.V(0).List(4, "S4"))
	fn.Op("VST1.P", arm64.V(0).List(4, "S4"), fmt.Sprintf("64(%v)", d))
	fn.Op("SUB", "$16", c, c)
	fn.Op("B", "by16")
	fn.Label("by4")
	fn.Op("CMP", "$4", c)
	fn.Op("BLT", "by1")
	fn.Op("VLD1.P", fmt.Sprintf("16(%v)", s), "["+arm64.V(0).S4()+"]")
	fn.Op("VST1.P", "["+arm64.V(0).S4()+"]", fmt.Sprintf("16(%v)", d))
	fn.Op("SUB", "$4", c, c)
	fn.Op("B", "by4")
	fn.Label("by1")
	fn.Op("CBZ", c, "next")
	fn.Op("FMOVS.P", fmt.Sprintf("4(%v)", s), arm64.V(0).F())
	fn.Op("FMOVS.P", arm64.V(0).F(), fmt.Sprintf("4(%v)", d))
	fn.Op("SUB", "$1", c, c)
	fn.Op("B", "by1")
	fn.Label("next")
	fn.Op("ADD", ldD, dst, dst)
	fn.Op("ADD", ldS, src, src)
	fn.Op("SUB", "$1", rows, rows)
	fn.Op("B", "row")
	fn.Label("done")
	fn.Op("RET")
}
