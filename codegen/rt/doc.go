// Package rt is the shape-independent runtime that cnnc copies into every
// generated package: the worker pool, weight packing, the im2col panel
// packer, the pure-Go GEMM micro-kernel and the memory-bound ops (pooling,
// LRN, softmax, elementwise). It is ordinary Go, compiled and tested here;
// codegen copies each file below (this one excepted) with the package
// clause rewritten. Its files therefore import only the standard library,
// and every top-level identifier starts with "rt" so it cannot collide with
// the generated code's identifiers.
package rt

//go:generate go run mkst.go
//go:generate go run mkvec.go
