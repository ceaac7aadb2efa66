package kernels

import (
	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/gemm/internal/kerneltest"
)

// benchK is the reduction length of the benchmark kernels.
const benchK = 1152

// epiK is the reduction length of the epilogue benchmark kernels: an
// expansion 1x1 convolution's (MobileNetV2's and EfficientNet's 24
// channels), short enough that the activation's cost shows.
const epiK = 24

// kBlockK and kBlocksK are BenchmarkKBlocks' K block and the whole K
// of its panels: codegen's blocks of a 1x1 convolution over 512 channels.
const kBlockK, kBlocksK = 128, 512

// configs lists the kernels of this package. Names are derived from the
// fields by kerneltest.Name.
var configs = kerneltest.Named([]gemm.Config{
	// Presets, runtime K and ldc.
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4},
	{ISA: gemm.AVX512, MR: 6, NR: 64, Unroll: 4, Bias: true, Act: gemm.ActReLU},
	{ISA: gemm.AVX512, MR: 14, NR: 32, Unroll: 2, Accumulate: true, Act: gemm.ActLeakyReLU, Slope: 0.1, StoreN: 29, StoreM: 11},
	{ISA: gemm.AVX512, MR: 28, NR: 16, Unroll: 4},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4},
	{ISA: gemm.AVX2, MR: 4, NR: 24, Unroll: 4, Accumulate: true, Act: gemm.ActLeakyReLU, Slope: 0.2, StoreN: 21},

	// Benchmark kernels: constant K, runtime ldc.
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: benchK, Unroll: 4},
	{ISA: gemm.AVX512, MR: 6, NR: 64, K: benchK, Unroll: 4},
	{ISA: gemm.AVX512, MR: 14, NR: 32, K: benchK, Unroll: 4},
	{ISA: gemm.AVX512, MR: 28, NR: 16, K: benchK, Unroll: 4},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: benchK, Unroll: 4},
	{ISA: gemm.AVX2, MR: 4, NR: 24, K: benchK, Unroll: 4},
	// Ragged edges of 7x7 maps (N = 49) and 14x14 ones (196), transposed.
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: benchK, Unroll: 4, StoreN: 1},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: benchK, Unroll: 4, StoreN: 4},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: benchK, Unroll: 4, StoreN: 1},
	// Epilogue benchmarks: every activation after a short K.
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: epiK, Unroll: 4, Bias: true},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActClip, Hi: 6},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActSiLU},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActSigmoid},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActGELU},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: epiK, Unroll: 4, Bias: true},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActClip, Hi: 6},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActSiLU},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActSigmoid},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: epiK, Unroll: 4, Bias: true, Act: gemm.ActGELU},

	// AVX-512 edges.
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 37, Unroll: 4, LDC: 50, Bias: true, Accumulate: true, StoreN: 45},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 4, Unroll: 4, Act: gemm.ActReLU, StoreN: 1, StoreM: 1},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 3, Unroll: 4, Act: gemm.ActLeakyReLU, Slope: -0.5, StoreN: 17},
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 3, Bias: true, StoreN: 32, StoreM: 5},
	{ISA: gemm.AVX512, MR: 6, NR: 64, Unroll: 2, Bias: true, Act: gemm.ActLeakyReLU, Slope: 1.5, StoreN: 50},
	{ISA: gemm.AVX512, MR: 4, NR: 16, Unroll: 1, Accumulate: true, StoreN: 7},
	{ISA: gemm.AVX512, MR: 30, NR: 16, Unroll: 2, LDC: 16, Act: gemm.ActReLU},
	{ISA: gemm.AVX512, MR: 1, NR: 16, Unroll: 8},
	{ISA: gemm.AVX512, MR: 14, NR: 32, K: 100, Unroll: 8, LDC: 1000, Bias: true, Accumulate: true, Act: gemm.ActReLU, StoreM: 13},
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Bias: true, Act: gemm.ActClip, Hi: 6, StoreN: 41},
	{ISA: gemm.AVX512, MR: 6, NR: 64, K: 5, Unroll: 2, Accumulate: true, Act: gemm.ActClip, Lo: -0.25, Hi: 0.5, StoreM: 5},

	// AVX2 edges.
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: 9, Unroll: 4, LDC: 20, Bias: true, Act: gemm.ActReLU, StoreN: 13, StoreM: 4},
	{ISA: gemm.AVX2, MR: 3, NR: 8, Unroll: 2, Accumulate: true, StoreN: 5},
	{ISA: gemm.AVX2, MR: 14, NR: 8, Unroll: 1},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, Accumulate: true, Act: gemm.ActLeakyReLU, Slope: 0.01},
	{ISA: gemm.AVX2, MR: 4, NR: 24, Unroll: 3, Bias: true, StoreM: 1},
	{ISA: gemm.AVX2, MR: 4, NR: 24, K: 1, Unroll: 4, LDC: 24, Accumulate: true, Act: gemm.ActReLU, StoreN: 23, StoreM: 3},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, Bias: true, Act: gemm.ActClip, Hi: 6, StoreN: 11},
	{ISA: gemm.AVX2, MR: 4, NR: 24, K: 7, Unroll: 2, Accumulate: true, Act: gemm.ActClip, Lo: -0.25, Hi: 0.5, StoreM: 2},

	// B read in place, rows LDB apart (1x1 convolutions without im2col).
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, LDB: 61, Bias: true, Act: gemm.ActReLU},
	{ISA: gemm.AVX512, MR: 28, NR: 16, K: 37, Unroll: 4, LDB: 3136, Accumulate: true, StoreM: 5},
	{ISA: gemm.AVX512, MR: 14, NR: 32, K: 9, Unroll: 2, LDC: 40, LDB: 33, Bias: true, Act: gemm.ActSiLU},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, LDB: 17, Bias: true, StoreN: 9},
	{ISA: gemm.AVX2, MR: 4, NR: 24, K: 11, Unroll: 4, LDB: 196, Act: gemm.ActClip, Hi: 6, StoreM: 3},
	{ISA: gemm.AVX512, MR: 1, NR: 48, K: 5, Unroll: 4, LDB: 50, StoreN: 45, BF16B: true},
	// Ragged tiles in place: rows as short as the vectors loaded.
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 7, Unroll: 4, LDB: 32, Bias: true, Act: gemm.ActReLU, StoreN: 17, StoreM: 3},
	{ISA: gemm.AVX512, MR: 28, NR: 16, Unroll: 4, LDB: 16, Accumulate: true, StoreN: 1},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, LDB: 8, Bias: true, StoreN: 3},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 9, Unroll: 4, LDB: 1, Bias: true, StoreN: 1},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, LDB: 5, Act: gemm.ActReLU, StoreN: 5},

	// Ragged edges of fewer columns than rows, transposed (rows in the
	// lanes): 1 to 7 columns, 8 to 1 accumulators a column, A panels of 8
	// rows and of fewer (masked loads), every activation, C accumulated,
	// B in place.
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Bias: true, Act: gemm.ActSiLU, StoreN: 1},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 37, Unroll: 4, LDC: 49, LDB: 49, Bias: true, Accumulate: true, Act: gemm.ActReLU, StoreN: 1},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 160, Unroll: 4, LDB: 196, Bias: true, Act: gemm.ActClip, Hi: 6, StoreN: 4, StoreM: 5},
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Accumulate: true, Act: gemm.ActGELU, StoreN: 3},
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Act: gemm.ActLeakyReLU, Slope: 0.1, StoreN: 5},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 3, Unroll: 4, Bias: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5, StoreN: 7, StoreM: 7},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 21, Unroll: 1, LDC: 30, Accumulate: true, Act: gemm.ActHardSigmoid, Alpha: 0.2, Beta: 0.5, StoreN: 2},
	{ISA: gemm.AVX512, MR: 6, NR: 64, Unroll: 2, Bias: true, Act: gemm.ActSigmoid, StoreN: 2},
	{ISA: gemm.AVX512, MR: 7, NR: 16, K: 13, Unroll: 4, Bias: true, Accumulate: true, Act: gemm.ActClip, Lo: -0.5, Hi: 0.5, StoreN: 6, StoreM: 6},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: 96, Unroll: 4, LDB: 49, Bias: true, Act: gemm.ActSiLU, StoreN: 1},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, Accumulate: true, Act: gemm.ActLeakyReLU, Slope: 0.3, StoreN: 4, StoreM: 3},
	{ISA: gemm.AVX2, MR: 4, NR: 24, K: 5, Unroll: 4, Bias: true, Act: gemm.ActReLU, StoreN: 3},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, Bias: true, Act: gemm.ActGELU, StoreN: 5},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: 17, Unroll: 2, Bias: true, Accumulate: true, Act: gemm.ActClip, Lo: -1, Hi: 1, StoreN: 2},
	{ISA: gemm.AVX2, MR: 8, NR: 8, Unroll: 4, Bias: true, Accumulate: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5, StoreN: 7},

	// Prefetching the next panel of A (PrefetchA): constant and runtime
	// K, with a remainder, transposed edges, both ISAs; and the K blocks
	// of BenchmarkKBlocks, with and without.
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 37, Unroll: 4, Bias: true, Act: gemm.ActReLU, PrefetchA: 8 * 37 * 4},
	{ISA: gemm.AVX512, MR: 14, NR: 32, Unroll: 4, Accumulate: true, StoreM: 9, PrefetchA: 1 << 20},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: 22, Unroll: 4, LDB: 49, Accumulate: true, StoreN: 1, PrefetchA: 64},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: 13, Unroll: 4, Bias: true, StoreN: 11, PrefetchA: 6 * 512 * 4},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, LDB: 49, StoreN: 1, PrefetchA: 4},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: kBlockK, Unroll: 4, Accumulate: true},
	{ISA: gemm.AVX512, MR: 8, NR: 48, K: kBlockK, Unroll: 4, Accumulate: true, PrefetchA: 8 * kBlocksK * 4},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: kBlockK, Unroll: 4, Accumulate: true},
	{ISA: gemm.AVX2, MR: 6, NR: 16, K: kBlockK, Unroll: 4, Accumulate: true, PrefetchA: 6 * kBlocksK * 4},

	// bfloat16 B panels: dense layers' weights at -precision bf16.
	{ISA: gemm.AVX512, MR: 1, NR: 48, K: 37, Unroll: 4, LDC: 100, StoreN: 45, BF16B: true},
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Bias: true, Act: gemm.ActReLU, BF16B: true},
	// The activations computed from memory constants (act.go), on the
	// tiles codegen uses, ragged and whole, in both ISAs.
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Bias: true, Act: gemm.ActSiLU, StoreN: 37},
	{ISA: gemm.AVX512, MR: 14, NR: 32, Unroll: 4, Bias: true, Act: gemm.ActSigmoid, StoreM: 9},
	{ISA: gemm.AVX512, MR: 28, NR: 16, Unroll: 4, Accumulate: true, Act: gemm.ActSiLU, StoreN: 5},
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Bias: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5},
	{ISA: gemm.AVX512, MR: 28, NR: 16, K: 7, Unroll: 2, Act: gemm.ActHardSigmoid, Alpha: 0.2, Beta: 0.5, StoreN: 9},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, Bias: true, Act: gemm.ActSiLU, StoreN: 13},
	{ISA: gemm.AVX2, MR: 4, NR: 24, Unroll: 4, Bias: true, Act: gemm.ActSigmoid},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, Bias: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5, StoreN: 7},
	{ISA: gemm.AVX2, MR: 4, NR: 24, K: 5, Unroll: 4, Accumulate: true, Act: gemm.ActHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5, StoreM: 3},
	{ISA: gemm.AVX512, MR: 8, NR: 48, Unroll: 4, Bias: true, Act: gemm.ActGELU, StoreN: 41},
	{ISA: gemm.AVX512, MR: 14, NR: 32, Unroll: 4, Accumulate: true, Act: gemm.ActGELU, StoreM: 5},
	{ISA: gemm.AVX2, MR: 6, NR: 16, Unroll: 4, Bias: true, Act: gemm.ActGELU, StoreN: 12},
	{ISA: gemm.AVX2, MR: 4, NR: 24, Unroll: 4, Bias: true, Act: gemm.ActGELU},
	{ISA: gemm.AVX2, MR: 1, NR: 24, Unroll: 4, StoreN: 21, BF16B: true},
	{ISA: gemm.AVX2, MR: 4, NR: 24, K: 10, Unroll: 4, Accumulate: true, StoreM: 3, BF16B: true},
})
