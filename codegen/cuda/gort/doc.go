// Package gort is the Go API of a network cnnc compiles for CUDA (cnnc
// compile -target cuda): a cgo wrapper of the network's C API, built with
// the cuda tag. codegen/cuda copies model.go into every such package with
// the package clause rewritten, as rt_model.go, beside what it generates
// per network: <pkg>_cuda.go (the package documentation, the shape
// constants, GPUs, pkgName and the #cgo line that links lib<pkg>_cuda.a)
// and cnnc_go.h, which gives the functions of <pkg>.h (cnnc_<pkg>_create,
// ...) the fixed names model.go calls (cnnc_create, ...) as static inline
// forwarders, since cgo cannot call function-like macros.
//
// Here network.go and gort.h stand in for a generated network's Go
// constants and C API, so that model.go compiles and is tested in place:
//
//	go test -tags cuda ./codegen/cuda/gort
//
// cnnc_go.h is the one codegen/cuda generates for a package named gort
// (its tests check that). Without the cuda tag the package is only this
// documentation.
package gort
