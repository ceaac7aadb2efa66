package codegen

import (
	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/vec"
)

// An arch is a GOARCH with assembly implementations (impl.arch): the build
// constraint of its files, the generator of its GEMM kernels, and that of
// its asmgen/vec kernels (depthwise, pooling, im2col rows, LRN, the
// elementwise ops, Winograd's transforms) with has, which of those kinds
// it has routines for: where it has none, its implementations call the Go
// versions, which codegen/rt's <kind>_other.go select. A generated
// package gets, per arch, layers_<arch>.go, kernels_<arch>.s and .go, and
// vec_<arch>.s and .go, and dispatch_<arch>.go (the Winograd transforms'
// chooser); everything else is shared by every GOARCH.
type arch struct {
	goarch     string
	constraint string
	gemm       func(pkg string, cfgs []gemm.Config) (asm, stubs []byte, err error)
	vec        func(pkg string, set vec.Set) (asm, stubs []byte, err error)
	has        func(k *vec.Kernel) bool
}

// arches lists the GOARCHes with assembly implementations. Every other
// GOARCH, and -tags purego, builds the pure-Go implementation alone
// (gemm.FallbackConstraint and codegen/rt's dispatch_other.go).
var arches = []arch{
	{goarch: "amd64", constraint: gemm.AsmConstraint, gemm: gemm.Generate, vec: vec.Generate,
		has: func(*vec.Kernel) bool { return true }},
	{goarch: "arm64", constraint: gemm.NEONAsmConstraint, gemm: gemm.GenerateNEON, vec: vec.GenerateNEON,
		has: (*vec.Kernel).NEON},
}

// archOf returns the arch of GOARCH goarch.
func archOf(goarch string) arch {
	for _, a := range arches {
		if a.goarch == goarch {
			return a
		}
	}
	panic("codegen: no assembly for GOARCH " + goarch)
}

// hasVec reports whether implementation im calls asmgen/vec's kernels of
// kind k.
func (im impl) hasVec(k *vec.Kernel) bool { return im.asm && archOf(im.arch).has(k) }

// winoVec reports whether implementation im calls asmgen/vec's Winograd
// transforms: every arch generates them for every form (vec.Generate,
// vec.GenerateNEON), so every assembly implementation does.
func (im impl) winoVec() bool { return im.asm }

// vecFallbackConstraint builds dispatch_other.go, which stands in for the
// Winograd transforms' SIMD kernels: every GOARCH without an arch, and
// -tags purego: it complements the arches' constraints exactly.
const vecFallbackConstraint = gemm.BothFallbackConstraint
