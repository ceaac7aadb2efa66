package codegen

import "github.com/cnnc/cnnc/asmgen/gemm"

// An arch is a GOARCH with assembly implementations (impl.arch): the build
// constraint of its files, the generator of its GEMM kernels, and whether
// asmgen/vec has kernels for it (depthwise, pooling, im2col rows, LRN,
// Winograd's transforms; without them its implementations call the Go
// versions, which codegen/rt's <kind>_other.go select). A generated
// package gets, per arch, layers_<arch>.go, kernels_<arch>.s and
// kernels_<arch>.go; everything else but vec_amd64.s/.go and
// dispatch_amd64.go is shared by every GOARCH.
type arch struct {
	goarch     string
	constraint string
	gemm       func(pkg string, cfgs []gemm.Config) (asm, stubs []byte, err error)
	vec        bool
}

// arches lists the GOARCHes with assembly implementations. Every other
// GOARCH, and -tags purego, builds the pure-Go implementation alone
// (gemm.FallbackConstraint and codegen/rt's dispatch_other.go).
var arches = []arch{
	{goarch: "amd64", constraint: gemm.AsmConstraint, gemm: gemm.Generate, vec: true},
	{goarch: "arm64", constraint: gemm.NEONAsmConstraint, gemm: gemm.GenerateNEON},
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

// vec reports whether implementation im calls asmgen/vec's kernels.
func (im impl) vec() bool { return im.asm && archOf(im.arch).vec }

// vecFallbackConstraint builds the files that stand in for asmgen/vec's
// kernels (dispatch_other.go, codegen/rt's <kind>_other.go): every GOARCH
// but amd64, and -tags purego.
const vecFallbackConstraint = "!amd64 || purego"
