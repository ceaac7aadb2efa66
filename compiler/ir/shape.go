package ir

import (
	"fmt"
	"math/bits"

	"github.com/cnnc/cnnc/compiler/diag"
)

// Size limits. Every tensor, per image, and every layer's parameter count
// must stay below 2^31 elements so that generated code can index with int32
// arithmetic and no header or spec can make cnnc allocate without bound.
const (
	MaxElems  = 1<<31 - 1
	MaxParams = 1<<31 - 1
)

// mul multiplies non-negative sizes, saturating at MaxInt64 instead of wrapping.
func mul(xs ...int) int64 {
	p := uint64(1)
	for _, x := range xs {
		hi, lo := bits.Mul64(p, uint64(x))
		if hi != 0 || lo > 1<<63-1 {
			return 1<<63 - 1
		}
		p = lo
	}
	return int64(p)
}

// SamePad returns TensorFlow's "same" padding for one axis: the output is
// ceil(in/stride), the extra row or column goes at the end.
func SamePad(in, k, stride, dil int) (before, after int) {
	out := (in + stride - 1) / stride
	total := (out-1)*stride + (k-1)*dil + 1 - in
	if total < 0 {
		total = 0
	}
	return total / 2, total - total/2
}

// PoolOut is the output length of a pooling window along one axis, with
// PyTorch's rule for ceil mode: the last window must start inside the input
// or the left padding.
func PoolOut(in, k, stride, pad int, ceil bool) int {
	span := in + 2*pad - k
	out := span/stride + 1
	if ceil {
		out = (span+stride-1)/stride + 1
		if (out-1)*stride >= in+pad {
			out--
		}
	}
	return out
}

// InferShape computes n's output shape from its inputs' shapes and its
// attributes, or returns an error naming the layer and the field at fault.
// It does not modify n.
func InferShape(n *Node) (Shape, error) {
	fail := func(field, format string, args ...any) (Shape, error) {
		return Shape{}, &diag.Error{Pos: n.FieldPos(field), Layer: n.Name, Msg: fmt.Sprintf(format, args...)}
	}
	if n.Op == OpInput {
		s := n.Shape
		if e := mul(s.C, s.H, s.W); e > MaxElems {
			return fail("", "input has %d elements per image, more than the limit of %d", e, MaxElems)
		}
		return s, nil
	}
	if len(n.Inputs) == 0 {
		return fail("", "has no input")
	}
	if n.Op >= numOps || opTable[n.Op].Shape == nil {
		return fail("op", "no shape rule for op %s", n.Op)
	}
	ins := make([]Shape, len(n.Inputs))
	for i, x := range n.Inputs {
		ins[i] = x.Shape
	}
	out, err := opTable[n.Op].Shape(n, ins, fail)
	if err != nil {
		return Shape{}, err
	}
	if e := mul(out.C, out.H, out.W); e > MaxElems {
		return fail("", "output %s has %d elements per image, more than the limit of %d", out, e, MaxElems)
	}
	return out, nil
}

// convOut returns the output length of a convolution along one axis, or a
// message saying why there is none.
func convOut(in, k, stride, dil, pad int) (int, string) {
	ek := (k-1)*dil + 1
	if in+pad < ek {
		if dil > 1 {
			return 0, fmt.Sprintf("kernel %d (dilated to %d) is larger than the padded input %d", k, ek, in+pad)
		}
		return 0, fmt.Sprintf("kernel %d is larger than the padded input %d", k, in+pad)
	}
	return (in+pad-ek)/stride + 1, ""
}

// ParamCount is the number of learned parameters a node reads from the
// weights file (a folded batchnorm's four vectors included).
func ParamCount(n *Node) int64 {
	var p int64
	switch n.Op {
	case OpConv:
		a := &n.Conv
		p = mul(a.Filters, n.Inputs[0].Shape.C/a.Groups, a.KH, a.KW)
		if a.Bias {
			p += int64(a.Filters)
		}
	case OpDense:
		p = mul(n.Dense.Units, n.Inputs[0].Shape.Elems())
		if n.Dense.Bias {
			p += int64(n.Dense.Units)
		}
	case OpBatchNorm:
		p = 4 * int64(n.Shape.C)
	}
	if n.FoldBN != nil {
		p += 4 * int64(n.Shape.C)
	}
	return p
}

// MACs is the number of multiply-accumulates a node performs per image
// (convolution and dense layers; other ops count zero).
func MACs(n *Node) int64 {
	switch n.Op {
	case OpConv:
		a := &n.Conv
		return mul(n.Shape.Elems(), n.Inputs[0].Shape.C/a.Groups, a.KH, a.KW)
	case OpDense:
		return mul(n.Dense.Units, n.Inputs[0].Shape.Elems())
	}
	return 0
}
