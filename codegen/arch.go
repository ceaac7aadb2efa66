package codegen

import (
	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/vec"
)

// An arch is a GOARCH with assembly implementations (impl.arch): the build
// constraint of its files, the generator of its GEMM kernels, and that of
// its asmgen/vec kernels (depthwise, pooling, im2col rows, LRN, the
// elementwise ops, Winograd's transforms), which has routines for every
// kind, so that an assembly implementation calls SIMD kernels wherever
// the pure-Go one calls codegen/rt's Go code. A generated package gets,
// per arch, layers_<arch>.go, kernels_<arch>.s and .go, vec_<arch>.s and
// .go, and dispatch_<arch>.go (the Winograd transforms' chooser);
// everything else is shared by every GOARCH.
type arch struct {
	goarch     string
	constraint string
	gemm       func(pkg string, cfgs []gemm.Config) (asm, stubs []byte, err error)
	vec        func(pkg string, set vec.Set) (asm, stubs []byte, err error)
}

// arches lists the GOARCHes with assembly implementations. Every other
// GOARCH, and -tags purego, builds the pure-Go implementation alone
// (gemm.FallbackConstraint and codegen/rt's dispatch_other.go).
var arches = []arch{
	{goarch: "amd64", constraint: gemm.AsmConstraint, gemm: gemm.Generate, vec: vec.Generate},
	{goarch: "arm64", constraint: gemm.NEONAsmConstraint, gemm: gemm.GenerateNEON, vec: vec.GenerateNEON},
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

// vecFallbackConstraint builds dispatch_other.go, which stands in for the
// Winograd transforms' SIMD kernels: every GOARCH without an arch, and
// -tags purego: it complements the arches' constraints exactly.
const vecFallbackConstraint = gemm.BothFallbackConstraint
