// Package gemm generates register-blocked single-precision GEMM
// micro-kernels in Go assembly for amd64 (AVX-512, AVX2) and arm64 (NEON),
// specialised at generation time.
//
// The generator drives avo (github.com/mmcloughlin/avo) as a library: each
// [Config] becomes one assembly function with every tile dimension, and
// optionally the reduction length K and the C row stride, baked in as
// constants. [Generate] returns the text of one .s file and one Go stub file
// for a package; [GenerateFallback] returns a pure-Go implementation of the
// same functions for other architectures and the purego build tag.
//
// # Semantics
//
// One call of a kernel computes an MR x NR tile of C (row-major, row stride
// ldc floats; rows are output channels, columns spatial positions):
//
//	C[r*ldc+j] = act( (Accumulate ? C[r*ldc+j] : 0) + (Bias ? bias[r] : 0)
//	                  + sum_{k<K} A[k*MR+r] * B[k*LDB+j] )
//
// for r < StoreM and j < StoreN. A is a packed panel holding MR values per k,
// B a packed panel holding NR values per k (LDB = NR, the default) or rows
// LDB floats apart where they lie (a 1x1 convolution's input planes); both
// must be allocated in full, although a kernel skips the rows at or beyond
// StoreM and the column vectors wholly beyond StoreN, which are never
// stored. Of each row of B a kernel loads the [Config.LoadN] floats of the
// vectors that hold its StoreN columns.
// Elements of C outside the StoreM x StoreN corner are neither read nor
// written; the ragged column vector is handled with an opmask (AVX-512) or
// VMASKMOVPS with a constant mask (AVX2).
//
// The inner loop loads NR/lanes vectors of B per k and, for each row, one
// broadcast of A (VBROADCASTSS into a register, or the embedded-broadcast
// VFMADD231PS.BCST form on AVX-512 when the tile has a single column vector
// or no spare register) feeding NR/lanes FMAs. A ragged edge of fewer
// columns than rows (StoreN < MR <= 8: a 7x7 map's 49th column) is
// computed transposed instead, the rows in the lanes of a ymm register:
// per k one load of A's rows and one broadcast and FMA per column
// (transposed.go). Tile presets and these code-shape choices live in
// tuning.go.
//
// # Calling convention
//
// The generated Go declaration is
//
//	func NAME(a, b, c *float32, k int, ldc int, bias *float32)
//
// where k is present only when Config.K == 0, ldc only when Config.LDC == 0,
// and bias only when Config.Bias is set; [Config.Params] and
// [Config.Signature] return the exact list. Kernels are ABI0 leaf functions
// marked //go:noescape. A runtime k <= 0 is treated as an empty reduction.
//
// [Reference] is the pure-Go definition used as the test oracle.
//
// # arm64
//
// A Config whose ISA is [NEON] describes the same kernel for arm64's
// Advanced SIMD; [GenerateNEON] writes its assembly through asmgen/arm64
// (avo writes only amd64) and its stubs, with the same calling convention
// and semantics. neon.go describes the code shape.
package gemm
