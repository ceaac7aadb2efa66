package vec

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"

	"github.com/cnnc/cnnc/asmgen/gemm"
)

// A Kernel is one kind of vec kernel, as a value (asmgen/gemm's Config is
// one GEMM kernel): its name and the routines it emits for an ISA. codegen's
// kernelKinds pairs each with the Model field, the codegen/rt wrapper and
// the layers that use it; codegen/rt's own copy of the kernels (rt/mkvec.go)
// holds every one of Kernels.
type Kernel struct {
	// Name names the kind: "lrn", "im2col", "pool", "dw", "elt".
	Name string
	// Routines are the routines' names for isa, in the order emitted.
	Routines func(isa gemm.ISA) []string
	// CopyRows is set if the kind's wrappers also call vecCopyRows,
	// DeInterleave if its routines read the poolIdx table, LaneMasks if
	// they read AVX2's lanes8.
	CopyRows, DeInterleave, LaneMasks bool
	// emit writes the routines for isa, AVX512 or AVX2.
	emit func(ctx *build.Context, isa gemm.ISA, k *consts)
	// neon, if set, writes the routines for gemm.NEON (neon.go).
	neon func(f *neonFile)
}

// consts are the tables that routines of several kinds read.
type consts struct {
	tail16, poolIdx, lanes8 operand.Mem
	act                     *gemm.ConstPool // the activations' constants (gemm.ActCode)
}

// The kernel kinds besides Winograd's transforms.
var (
	// LRN is LRN with beta 0.75 (vecLRN).
	LRN = &Kernel{Name: "lrn", Routines: names(LRNName),
		emit: func(ctx *build.Context, isa gemm.ISA, k *consts) { lrn(ctx, isa, k.tail16) },
		neon: neonLRN}
	// Im2col writes a row of a convolution's im2col panel (vecIm2colRow).
	Im2col = &Kernel{Name: "im2col", Routines: names(Im2colRowName), DeInterleave: true,
		emit: func(ctx *build.Context, isa gemm.ISA, k *consts) { im2colRow(ctx, isa, k.tail16, k.poolIdx) },
		neon: neonIm2colRow}
	// Pool is pooling rows: 3-wide max pooling at stride 2
	// (vecMaxPool3s2) or 1 (vecMaxPool3s1: Inception's pooling branches),
	// and max and average pooling of any window width at stride 1 or 2
	// (vecMaxPoolRow, vecAvgPoolRow).
	Pool = &Kernel{Name: "pool", Routines: names(MaxPoolName, MaxPool1Name, maxPoolRowName, avgPoolRowName), DeInterleave: true,
		emit: func(ctx *build.Context, isa gemm.ISA, k *consts) {
			maxPool3s2(ctx, isa, k.tail16, k.poolIdx)
			maxPool3s1(ctx, isa, k.tail16)
			poolRow(ctx, isa, false, k.tail16, k.poolIdx)
			poolRow(ctx, isa, true, k.tail16, k.poolIdx)
		},
		neon: func(f *neonFile) {
			neonMaxPool3s2(f)
			neonMaxPool3s1(f)
			neonPoolRow(f, false)
			neonPoolRow(f, true)
		}}
	// Depthwise is a depthwise convolution over a staged channel
	// (vecDepthwise), the stride-2 gather that stages it (vecEvens), with
	// vecCopyRows, a grouped convolution's GroupedOuts outputs at once
	// (vecGroupedDW), and TallRows output rows at once for each of
	// TallShapes (vecDepthwiseTall); on amd64 also the convolution over
	// channels side by side (vecDepthwiseLanes) and its transposes
	// (vecToLanes, vecFromLanes; depthwise_lanes.go).
	Depthwise = &Kernel{Name: "dw", CopyRows: true, DeInterleave: true, LaneMasks: true,
		Routines: func(isa gemm.ISA) []string {
			out := names(DepthwiseName, EvensName, GroupedName)(isa)
			for _, t := range TallShapes {
				out = append(out, DepthwiseTallName(isa, t))
			}
			if isa != gemm.NEON {
				out = append(out, names(DepthwiseLanesName, ToLanesName, FromLanesName)(isa)...)
			}
			return out
		},
		emit: func(ctx *build.Context, isa gemm.ISA, k *consts) {
			depthwise(ctx, isa, k.tail16, k.act, false)
			evens(ctx, isa, k.tail16, k.poolIdx)
			grouped(ctx, isa, k.act)
			for _, t := range TallShapes {
				tall(ctx, isa, t, k.tail16, k.act)
			}
			depthwise(ctx, isa, k.tail16, k.act, true)
			toLanes(ctx, isa, *k)
			fromLanes(ctx, isa, *k)
		},
		neon: func(f *neonFile) {
			neonDepthwise(f)
			neonEvens(f)
			neonGrouped(f)
			for _, t := range TallShapes {
				neonTall(f, t)
			}
		}}
	// Elt is the elementwise kernels: a per-channel affine map
	// (vecAffine) and binary arithmetic (vecBinary), each with an
	// activation, global average pooling (vecMean) and layer
	// normalisation (vecLayerNorm).
	Elt = &Kernel{Name: "elt", Routines: names(AffineName, BinaryName, MeanName, LayerNormName), LaneMasks: true,
		emit: func(ctx *build.Context, isa gemm.ISA, k *consts) {
			affine(ctx, isa, k)
			binary(ctx, isa, k)
			mean(ctx, isa, k)
			layerNorm(ctx, isa)
		},
		neon: func(f *neonFile) {
			neonAffine(f)
			neonBinary(f)
			neonMean(f)
			neonLayerNorm(f)
		}}
)

// Kernels lists the kinds, in the order Generate emits them.
var Kernels = []*Kernel{LRN, Im2col, Pool, Depthwise, Elt}

func names(fns ...func(gemm.ISA) string) func(gemm.ISA) []string {
	return func(isa gemm.ISA) []string {
		var out []string
		for _, f := range fns {
			out = append(out, f(isa))
		}
		return out
	}
}

func maxPoolRowName(isa gemm.ISA) string { return PoolRowName(isa, false) }
func avgPoolRowName(isa gemm.ISA) string { return PoolRowName(isa, true) }
