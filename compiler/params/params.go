// Package params binds a weights file to a graph: it lists the tensors a
// graph reads (named as a PyTorch state_dict names them for layers of the
// same names), checks a file against that list, computes each node's
// effective weights (batchnorm folded where the passes folded it), and makes
// deterministic random weights for tests and demos.
package params

import (
	"fmt"
	"math"
	"slices"

	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// Want is one tensor a graph reads.
type Want struct {
	Name  string
	Shape []int
	Node  *ir.Node // the node that reads it
	Role  Role
}

// Role says what a tensor is for, which decides how Init fills it.
type Role uint8

const (
	Weight Role = iota
	Bias
	BNGamma
	BNBeta
	BNMean
	BNVar
	Slope // prelu's negative slopes
)

func bnWants(n *ir.Node, layer string, c int) []Want {
	return []Want{
		{layer + ".weight", []int{c}, n, BNGamma},
		{layer + ".bias", []int{c}, n, BNBeta},
		{layer + ".running_mean", []int{c}, n, BNMean},
		{layer + ".running_var", []int{c}, n, BNVar},
	}
}

// Wants lists every tensor g reads, in graph order. The layouts are
// PyTorch's: conv [filters, in/groups, kh, kw], dense [units, in].
func Wants(g *ir.Graph) []Want {
	var out []Want
	for _, n := range g.Nodes {
		switch n.Op {
		case ir.OpConv:
			a := &n.Conv
			out = append(out, Want{n.Name + ".weight", WeightShape(n), n, Weight})
			if a.Bias {
				out = append(out, Want{n.Name + ".bias", []int{a.Filters}, n, Bias})
			}
		case ir.OpDense:
			out = append(out, Want{n.Name + ".weight", WeightShape(n), n, Weight})
			if n.Dense.Bias {
				out = append(out, Want{n.Name + ".bias", []int{n.Dense.Units}, n, Bias})
			}
		case ir.OpBatchNorm:
			out = append(out, bnWants(n, n.Name, n.Shape.C)...)
		case ir.OpLayerNorm:
			out = append(out, Want{n.Name + ".weight", []int{n.Shape.C}, n, BNGamma}, Want{n.Name + ".bias", []int{n.Shape.C}, n, BNBeta})
		case ir.OpPReLU:
			c := n.Shape.C
			if n.Shared {
				c = 1
			}
			out = append(out, Want{n.Name + ".weight", []int{c}, n, Slope})
		}
		if n.FoldBN != nil {
			out = append(out, bnWants(n, n.FoldBN.Layer, n.Shape.C)...)
		}
	}
	return out
}

// WeightShape is the shape of a conv or dense node's weight tensor, in
// PyTorch's layout: conv [filters, in/groups, kh, kw], dense [units, in].
// It is nil for other nodes.
func WeightShape(n *ir.Node) []int {
	switch n.Op {
	case ir.OpConv:
		a := &n.Conv
		return []int{a.Filters, n.Inputs[0].Shape.C / a.Groups, a.KH, a.KW}
	case ir.OpDense:
		return []int{n.Dense.Units, n.Inputs[0].Shape.Elems()}
	}
	return nil
}

// Set holds each node's effective parameters. It implements ref.Params.
type Set struct {
	w, b map[*ir.Node][]float32
}

// Weights returns n's effective weights and bias: for conv and dense, the
// layer's own with any folded batchnorm applied (bias nil if the layer has
// none and nothing was folded); for a batchnorm, its per-channel scale and
// shift; for a prelu, its slopes; for a layernorm, its weight and bias.
func (s *Set) Weights(n *ir.Node) (w, b []float32) { return s.w[n], s.b[n] }

// Bind checks f against what g reads and computes the effective parameters.
// Missing, misshapen and unreadable tensors are errors naming the tensor;
// tensors the graph does not read are returned as warnings (see Match). A
// NaN or ±Inf is an error too, whether in a tensor the graph reads (the
// message names the tensor, how many values and the first index) or made by
// folding a batchnorm (a running_var below −eps, or a scale beyond float32;
// named as EffectiveNames says): such weights can only give NaN or infinite
// outputs. The generated packages' Load refuses the same files with the same
// messages, so Bind is also the check that a compiled package will load f.
func Bind(g *ir.Graph, f *tensor.File) (*Set, []string, error) {
	got, warnings, err := Match(g, f)
	if err != nil {
		return nil, warnings, err
	}
	var errs []error
	for _, w := range Wants(g) {
		if err := tensor.CheckFinite(fmt.Sprintf("tensor %q", w.Name), w.Shape, got[w.Name]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, warnings, joinErrors(errs)
	}
	s := Effective(g, got)
	for _, n := range g.Nodes {
		if wn, bn := EffectiveNames(n); wn != "" {
			w, b := s.Weights(n)
			shape := WeightShape(n)
			if shape == nil {
				shape = []int{len(w)} // a batchnorm's scale
			}
			if err := tensor.CheckFinite(wn, shape, w); err != nil {
				errs = append(errs, err)
			}
			if err := tensor.CheckFinite(bn, []int{len(b)}, b); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, warnings, joinErrors(errs)
	}
	return s, warnings, nil
}

// Match checks that f has every tensor g reads, with its shape, in a dtype
// cnnc reads, and returns their data by name; it does not look at the
// values. Missing, misshapen and unreadable tensors are errors naming the
// tensor; tensors the graph does not read are returned as warnings.
func Match(g *ir.Graph, f *tensor.File) (map[string][]float32, []string, error) {
	wants := Wants(g)
	var errs []error
	got := map[string][]float32{}
	for _, w := range wants {
		t, ok := f.Tensors[w.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("tensor %q (%v, for layer %s) is missing", w.Name, w.Shape, w.Node.Name))
			continue
		}
		if t.Data == nil && product(t.Shape) != 0 {
			errs = append(errs, fmt.Errorf("tensor %q has dtype %s; cnnc reads F32, F16 and BF16", w.Name, f.DTypes[w.Name]))
			continue
		}
		if !slices.Equal(t.Shape, w.Shape) {
			errs = append(errs, fmt.Errorf("tensor %q has shape %v; layer %s needs %v", w.Name, t.Shape, w.Node.Name, w.Shape))
			continue
		}
		got[w.Name] = t.Data
	}
	var warnings []string
	for _, name := range f.Order {
		if !slices.ContainsFunc(wants, func(w Want) bool { return w.Name == name }) {
			warnings = append(warnings, fmt.Sprintf("tensor %q is not used by %s", name, g.Name))
		}
	}
	if len(errs) > 0 {
		return nil, warnings, joinErrors(errs)
	}
	return got, warnings, nil
}

// EffectiveNames names, for messages, the weights and bias of n that folding
// a batchnorm computes: a batchnorm's scale and shift, or a layer's weights
// and bias with a batchnorm folded in. It returns "", "" for a node whose
// parameters are the file's tensors as they are.
func EffectiveNames(n *ir.Node) (w, b string) {
	switch {
	case n.Op == ir.OpBatchNorm:
		return fmt.Sprintf("batchnorm %s's scale weight/sqrt(running_var + eps)", n.Name),
			fmt.Sprintf("batchnorm %s's shift bias − running_mean·scale", n.Name)
	case n.FoldBN != nil && (n.Op == ir.OpConv || n.Op == ir.OpDense):
		return fmt.Sprintf("layer %s's weights with batchnorm %s folded in", n.Name, n.FoldBN.Layer),
			fmt.Sprintf("layer %s's bias with batchnorm %s folded in", n.Name, n.FoldBN.Layer)
	}
	return "", ""
}

func joinErrors(errs []error) error {
	msg := errs[0].Error()
	for _, e := range errs[1:] {
		msg += "\n" + e.Error()
	}
	return fmt.Errorf("%s", msg)
}

// Effective computes every node's effective parameters from tensors that
// have already been checked against Wants(g).
func Effective(g *ir.Graph, t map[string][]float32) *Set {
	s := &Set{w: map[*ir.Node][]float32{}, b: map[*ir.Node][]float32{}}
	for _, n := range g.Nodes {
		switch n.Op {
		case ir.OpConv, ir.OpDense:
			w, b := t[n.Name+".weight"], t[n.Name+".bias"]
			if n.FoldBN != nil {
				scale, shift := bnScaleShift(t, n.FoldBN.Layer, n.FoldBN.Eps)
				w, b = FoldBN(w, b, n.Shape.C, scale, shift)
			}
			s.w[n], s.b[n] = w, b
		case ir.OpBatchNorm:
			scale, shift := bnScaleShift(t, n.Name, n.BN.Eps)
			s.w[n], s.b[n] = scale, shift
		case ir.OpPReLU:
			s.w[n] = t[n.Name+".weight"]
		case ir.OpLayerNorm:
			s.w[n], s.b[n] = t[n.Name+".weight"], t[n.Name+".bias"]
		}
	}
	return s
}

// bnScaleShift turns batchnorm statistics into y = x*scale + shift:
// scale = gamma / sqrt(var + eps), shift = beta - mean*scale.
func bnScaleShift(t map[string][]float32, layer string, eps float64) (scale, shift []float32) {
	gamma, beta := t[layer+".weight"], t[layer+".bias"]
	mean, variance := t[layer+".running_mean"], t[layer+".running_var"]
	scale = make([]float32, len(gamma))
	shift = make([]float32, len(gamma))
	for c := range gamma {
		sc := float64(gamma[c]) / math.Sqrt(float64(variance[c])+eps)
		scale[c] = float32(sc)
		shift[c] = float32(float64(beta[c]) - float64(mean[c])*sc)
	}
	return scale, shift
}

// FoldBN folds y = x*scale + shift into a layer with out output channels:
// W'[o,...] = W[o,...]*scale[o], b'[o] = b[o]*scale[o] + shift[o] (b = 0 if nil).
// It returns new slices.
func FoldBN(w, b []float32, out int, scale, shift []float32) ([]float32, []float32) {
	per := len(w) / out
	nw := make([]float32, len(w))
	nb := make([]float32, out)
	for o := 0; o < out; o++ {
		sc := float64(scale[o])
		for i := o * per; i < (o+1)*per; i++ {
			nw[i] = float32(float64(w[i]) * sc)
		}
		bias := 0.0
		if b != nil {
			bias = float64(b[o])
		}
		nb[o] = float32(bias*sc + float64(shift[o]))
	}
	return nw, nb
}

func product(shape []int) int {
	p := 1
	for _, d := range shape {
		p *= d
	}
	return p
}
