package neonkernels

import (
	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/asmgen/gemm/internal/kerneltest"
)

// benchK is the reduction length of the benchmark kernels.
const benchK = 1152

// N is gemm.NEON, short for the table.
const N = gemm.NEON

// configs lists the kernels of this package; names are derived from the
// fields by kerneltest.Name. They cover every feature of Config on NEON:
// both presets, runtime and baked K and LDC, unroll factors with and
// without a remainder, MR of every residue mod 4 (the A loads), one to
// four B vectors per load and more, Bias, Accumulate, every ragged column
// width (1-3 lanes, with and without Accumulate) and StoreM, every
// activation, and bfloat16 B panels.
var configs = kerneltest.Named([]gemm.Config{
	// Presets, runtime K and ldc.
	{ISA: N, MR: 8, NR: 12, Unroll: 4},
	{ISA: N, MR: 12, NR: 8, Unroll: 4},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActReLU},
	{ISA: N, MR: 12, NR: 8, Unroll: 2, Accumulate: true, Act: gemm.ActLeakyReLU, Slope: 0.1, StoreN: 7, StoreM: 11},

	// Benchmark kernels: constant K, runtime ldc.
	{ISA: N, MR: 8, NR: 12, K: benchK, Unroll: 4},
	{ISA: N, MR: 12, NR: 8, K: benchK, Unroll: 4},

	// Edges: A residues, B widths, ragged columns, baked K and LDC.
	{ISA: N, MR: 1, NR: 4, Unroll: 1},
	{ISA: N, MR: 2, NR: 8, Unroll: 3, Accumulate: true, StoreN: 6},
	{ISA: N, MR: 3, NR: 20, Unroll: 2, Bias: true, StoreN: 17},
	{ISA: N, MR: 5, NR: 16, K: 9, Unroll: 4, LDC: 20, Bias: true, Act: gemm.ActReLU, StoreN: 13, StoreM: 4},
	{ISA: N, MR: 6, NR: 16, Unroll: 4, Accumulate: true, StoreN: 15},
	{ISA: N, MR: 7, NR: 12, K: 37, Unroll: 4, LDC: 50, Bias: true, Accumulate: true, StoreN: 11},
	{ISA: N, MR: 8, NR: 12, K: 4, Unroll: 4, Act: gemm.ActReLU, StoreN: 1, StoreM: 1},
	{ISA: N, MR: 8, NR: 12, K: 3, Unroll: 4, Act: gemm.ActLeakyReLU, Slope: -0.5, StoreN: 10},
	{ISA: N, MR: 8, NR: 12, K: 1, Unroll: 4, LDC: 12, Accumulate: true, Act: gemm.ActReLU, StoreN: 11, StoreM: 3},
	{ISA: N, MR: 16, NR: 4, K: 100, Unroll: 8, LDC: 1000, Bias: true, Accumulate: true, Act: gemm.ActReLU, StoreM: 13},
	{ISA: N, MR: 24, NR: 4, Unroll: 2, LDC: 4, Act: gemm.ActReLU},
	{ISA: N, MR: 4, NR: 24, Unroll: 2, Bias: true, Act: gemm.ActLeakyReLU, Slope: 1.5, StoreN: 22},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActClip, Hi: 6, StoreN: 9},
	{ISA: N, MR: 12, NR: 8, K: 5, Unroll: 2, Accumulate: true, Act: gemm.ActClip, Lo: -0.25, Hi: 0.3, StoreM: 5},

	// Ragged edges of 1 to 3 columns, transposed: 8 rows (1 to 4
	// accumulators a column), 7, 5, 4 and 3 (A's partial loads), bias,
	// accumulate, activations, B in place, baked and runtime K.
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActSiLU, StoreN: 1},
	{ISA: N, MR: 8, NR: 12, K: 37, Unroll: 4, LDC: 49, LDB: 49, Bias: true, Accumulate: true, Act: gemm.ActReLU, StoreN: 1},
	{ISA: N, MR: 8, NR: 12, K: 160, Unroll: 4, LDB: 196, Bias: true, Act: gemm.ActClip, Hi: 6, StoreN: 2, StoreM: 5},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Accumulate: true, Act: gemm.ActGELU, StoreN: 3},
	{ISA: N, MR: 7, NR: 12, K: 13, Unroll: 2, Bias: true, Act: gemm.ActLeakyReLU, Slope: 0.1, StoreN: 3, StoreM: 6},
	{ISA: N, MR: 5, NR: 8, Unroll: 1, Bias: true, Accumulate: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5, StoreN: 1},
	{ISA: N, MR: 4, NR: 12, K: 21, Unroll: 4, LDC: 30, Accumulate: true, Act: gemm.ActSigmoid, StoreN: 3},
	{ISA: N, MR: 3, NR: 4, Unroll: 4, Bias: true, StoreN: 2},

	// bfloat16 B panels.
	{ISA: N, MR: 1, NR: 24, K: 37, Unroll: 4, LDC: 100, StoreN: 21, BF16B: true},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActReLU, BF16B: true},

	// The activations computed from constants, ragged and whole.
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActSiLU, StoreN: 11},
	{ISA: N, MR: 12, NR: 8, Unroll: 4, Bias: true, Act: gemm.ActSigmoid, StoreM: 9},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Accumulate: true, Act: gemm.ActSiLU, StoreN: 7},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5},
	{ISA: N, MR: 12, NR: 8, K: 7, Unroll: 2, Act: gemm.ActHardSigmoid, Alpha: 0.2, Beta: 0.5, StoreN: 5},
	{ISA: N, MR: 5, NR: 8, Unroll: 1, Bias: true, Act: gemm.ActHardSigmoid, Alpha: 0.2, Beta: 0.5, StoreN: 7},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5, StoreN: 7},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActSigmoid, StoreN: 10},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: gemm.ActGELU, StoreN: 9},
	{ISA: N, MR: 12, NR: 8, Unroll: 4, Accumulate: true, Act: gemm.ActGELU},
	// B read in place, rows LDB apart (1x1 convolutions without im2col).
	{ISA: N, MR: 8, NR: 12, Unroll: 4, LDB: 13, Bias: true, Act: gemm.ActReLU},
	{ISA: N, MR: 12, NR: 8, K: 37, Unroll: 4, LDB: 3136, Accumulate: true, StoreM: 5},
	{ISA: N, MR: 4, NR: 20, K: 6, Unroll: 4, LDC: 30, LDB: 21, Bias: true, Act: gemm.ActSiLU, StoreN: 18},
	{ISA: N, MR: 1, NR: 12, K: 5, Unroll: 2, LDB: 49, BF16B: true},
	// Ragged tiles in place: rows as short as the vectors loaded.
	{ISA: N, MR: 8, NR: 12, K: 7, Unroll: 4, LDB: 8, Bias: true, Act: gemm.ActReLU, StoreN: 5, StoreM: 3},
	{ISA: N, MR: 12, NR: 8, Unroll: 4, LDB: 4, Accumulate: true, StoreN: 1},
	{ISA: N, MR: 8, NR: 12, K: 9, Unroll: 4, LDB: 1, Bias: true, StoreN: 1},
	{ISA: N, MR: 8, NR: 12, Unroll: 4, LDB: 6, Act: gemm.ActReLU, StoreN: 6},
})

// callOnceEnv names the environment variable that makes TestCallOnce run:
// TestInstructionCounts (qemu_test.go) sets it and counts, under qemu, the
// instructions each kernel executes.
const callOnceEnv = "CNNC_NEON_CALL_ONCE"

// countK is the reduction length TestInstructionCounts runs the kernels
// with a runtime K at.
const countK = benchK

// countArgs returns the k and ldc a kernel is called with to count its
// instructions.
func countArgs(cfg gemm.Config) (k, ldc int) {
	k, ldc = countK, cfg.NR
	if cfg.K > 0 {
		k = cfg.K
	}
	if cfg.LDC > 0 {
		ldc = cfg.LDC
	}
	return k, ldc
}
