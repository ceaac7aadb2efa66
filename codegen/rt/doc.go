// Package rt is the shape-independent runtime that cnnc copies into every
// generated package: the worker pool, weight packing, the im2col panel
// packer, the pure-Go GEMM micro-kernel and the memory-bound ops (pooling,
// LRN, softmax, elementwise). It is ordinary Go, compiled and tested here;
// codegen copies each file below with the package clause rewritten, but
// for this one, network.go (a stand-in for what codegen generates per
// network), the generators mkst.go and mkvec.go, and vec_amd64.s and .go,
// vec_arm64.s and .go and winogo.go (every asmgen/vec kernel and Go
// Winograd transform, which a generated package gets only as it needs
// them). Its files therefore import only the standard library and
// golang.org/x/sys/cpu, and every top-level identifier starts with "rt"
// (st.go's, copied from compiler/tensor, with "st") so it cannot collide
// with the generated code's identifiers. The exception is model.go and
// dispatch_*.go: the generated package's API (Options, Model, New,
// NewWithOptions, Load, LayerInfo, Implementations, which codegen's
// apiNames keeps layers' shape constants from repeating) and its
// unexported helpers newModel, available, plan, implNames and implIndex,
// which the generated code does not declare. Files named <kind>_amd64.go,
// <kind>_arm64.go (the kinds with NEON routines) and <kind>_other.go are a
// kernel kind's wrappers and pure-Go stub (codegen's kernelKinds), copied only where the network uses the kind.
package rt

//go:generate go run mkst.go
//go:generate go run mkvec.go
