package codegen

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/ir"
)

// A kernelKind is one kind of SIMD kernel that layers call besides the
// GEMMs, as a value (asmgen/gemm's Config is one GEMM kernel). Everything
// that differs between kinds is here: Generate asks uses whether the
// network needs the kind; if so the network struct of model.go gets the
// field, newNetwork sets it with choose(impl), vec_amd64.s gets the
// assembly, and the rt files are copied. Adding a kind is a value here,
// its generator in asmgen/vec (a vec.Kernel) and its wrappers in
// codegen/rt (docs/design.md).
type kernelKind struct {
	// field is the network struct's field that the layers' code passes
	// (m.field), of codegen/rt type typ; doc is its comment.
	field, typ, doc string
	// uses reports whether the network has layers that call the kind.
	uses func(c *gen) bool
	// vec is the assembly the kind's wrappers call.
	vec *vec.Kernel
	// rt are the codegen/rt files the kind needs, copied only if used:
	// rt/<kind>_amd64.go holds the wrappers of the assembly and choose,
	// rt/<kind>_other.go choose for the pure-Go builds (nil kernels).
	rt []string
	// choose names the function that returns implementation impl's
	// kernels: typ+"For" in codegen/rt, unless emit writes it.
	choose string
	// emit, if set, writes choose into dispatch_<arch>.go (for each of
	// arches) and dispatch_other.go (a nil), and vecSet the assembly it
	// needs: for Winograd's transforms, whose wrappers depend on the
	// network's forms.
	emit   func(c *gen, f *jen.File, a *arch)
	vecSet func(c *gen, s *vec.Set)
}

// kernelKinds lists the kinds, in the order of vec.Kernels.
var kernelKinds = []*kernelKind{
	{field: "lrn", typ: "rtLRNKernel", doc: "LRN's SIMD kernel, or nil", uses: (*gen).hasLRN,
		vec: vec.LRN, rt: []string{"lrn_amd64.go", "lrn_arm64.go", "lrn_other.go"}},
	{field: "im2col", typ: "rtIm2colRow", doc: "im2col's SIMD kernel, or nil", uses: usesAlgo(algoGEMM),
		vec: vec.Im2col, rt: []string{"im2col_amd64.go", "im2col_arm64.go", "im2col_other.go"}},
	{field: "pooling", typ: "*rtPoolKernels", doc: "pooling rows' SIMD kernels, or nil", uses: (*gen).hasPool, choose: "rtPoolKernelsFor",
		vec: vec.Pool, rt: []string{"pooling_amd64.go", "pooling_arm64.go", "pooling_other.go"}},
	{field: "dw", typ: "rtDWKernels", doc: "depthwise convolutions' SIMD kernels, or nils", uses: usesAlgo(algoDepthwise),
		vec: vec.Depthwise, rt: []string{"depthwise.go", "depthwise_amd64.go", "depthwise_arm64.go", "depthwise_other.go"}},
	{field: "elt", typ: "rtEltKernels", doc: "elementwise layers' SIMD kernels, or nils", uses: (*gen).hasElt,
		vec: vec.Elt, rt: []string{"elt.go", "elt_amd64.go", "elt_arm64.go", "elt_other.go"}},
	{field: "wino", typ: "rtWinoKernels", doc: "Winograd transforms' SIMD kernels, or nils", uses: usesAlgo(algoWinograd),
		rt: []string{"wino.go"}, choose: "winoKernels", emit: (*gen).winoKernels, vecSet: (*gen).winoVec},
}

func init() {
	for _, k := range kernelKinds {
		if k.choose == "" {
			k.choose = k.typ + "For"
		}
	}
}

// usesAlgo is the uses of a kind that the layers of algorithm a call:
// im2col the GEMM convolutions, dw the depthwise ones, wino Winograd's.
func usesAlgo(a algo) func(c *gen) bool {
	return func(c *gen) bool {
		return slices.ContainsFunc(c.layers, func(l *layer) bool { return l.algo == a })
	}
}

// kinds returns the kinds the network uses.
func (c *gen) kinds() []*kernelKind {
	var out []*kernelKind
	for _, k := range kernelKinds {
		if k.uses(c) {
			out = append(out, k)
		}
	}
	return out
}

// kernel is the expression by which a layer passes its kernel of the kind
// with field name field: the Model's, or nil where the network uses none.
func (c *gen) kernel(field string) jen.Code {
	for _, k := range c.kinds() {
		if k.field == field {
			return jen.Id("m").Dot(field)
		}
	}
	return jen.Nil()
}

// vecSet is the assembly of every vec_<arch>.s: the kinds the network
// uses.
func (c *gen) vecSet() vec.Set {
	var s vec.Set
	for _, k := range c.kinds() {
		if k.vec != nil {
			s.Kernels = append(s.Kernels, k.vec)
		}
		if k.vecSet != nil {
			k.vecSet(c, &s)
		}
	}
	return s
}

// hasLRN reports whether the network normalises with AlexNet's beta, the
// case the vec kernels serve.
func (c *gen) hasLRN() bool {
	for _, l := range c.layers {
		if l.n.Op == ir.OpLRN && l.n.LRN.Beta == 0.75 || l.n.PreLRN != nil && l.n.PreLRN.Beta == 0.75 {
			return true
		}
	}
	return false
}

// hasPool reports whether the network has max or average pooling layers
// (global average pooling is an elementwise kind's), which call the
// pooling row kernels.
func (c *gen) hasPool() bool {
	for _, l := range c.layers {
		if l.n.Op == ir.OpMaxPool || l.n.Op == ir.OpAvgPool {
			return true
		}
	}
	return false
}

// hasElt reports whether the network has elementwise layers, which call
// the elementwise kernels (see eltOp).
func (c *gen) hasElt() bool {
	return slices.ContainsFunc(c.layers, func(l *layer) bool { return eltOp(l) })
}
