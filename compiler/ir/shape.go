package ir

import (
	"fmt"
	"math/bits"
	"strings"

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
	in := n.Inputs[0].Shape
	spatial := func() (Shape, error) {
		if in.Flat {
			return fail("", "%s needs a CxHxW input, but %s produces a flat vector of %d", n.Op, n.Inputs[0].Name, in.C)
		}
		return Shape{}, nil
	}
	var out Shape
	switch n.Op {
	case OpConv:
		if _, err := spatial(); err != nil {
			return Shape{}, err
		}
		a := &n.Conv
		if in.C%a.Groups != 0 {
			return fail("groups", "groups %d does not divide the %d input channels", a.Groups, in.C)
		}
		if a.Filters%a.Groups != 0 {
			return fail("groups", "groups %d does not divide the %d filters", a.Groups, a.Filters)
		}
		oh, err1 := convOut(in.H, a.KH, a.StrideH, a.DilH, a.Pad.Top+a.Pad.Bottom)
		ow, err2 := convOut(in.W, a.KW, a.StrideW, a.DilW, a.Pad.Left+a.Pad.Right)
		if err1 != "" || err2 != "" {
			return fail("kernel", "%s", strings.Trim(err1+"; "+err2, "; "))
		}
		if p := mul(a.Filters, in.C/a.Groups, a.KH, a.KW); p > MaxParams {
			return fail("filters", "%d weights, more than the limit of %d", p, MaxParams)
		}
		out = Shape{C: a.Filters, H: oh, W: ow}
	case OpDense:
		if p := mul(n.Dense.Units, in.Elems()); p > MaxParams {
			return fail("units", "%d weights (%d units x %d inputs), more than the limit of %d", p, n.Dense.Units, in.Elems(), MaxParams)
		}
		out = Shape{C: n.Dense.Units, H: 1, W: 1, Flat: true}
	case OpMaxPool, OpAvgPool:
		if _, err := spatial(); err != nil {
			return Shape{}, err
		}
		a := &n.Pool
		if 2*a.Pad.Top > a.KH || 2*a.Pad.Left > a.KW {
			return fail("padding", "padding %s is more than half the kernel %dx%d", a.Pad, a.KH, a.KW)
		}
		if in.H+2*a.Pad.Top < a.KH || in.W+2*a.Pad.Left < a.KW {
			return fail("kernel", "kernel %dx%d is larger than the padded input %dx%d", a.KH, a.KW, in.H+2*a.Pad.Top, in.W+2*a.Pad.Left)
		}
		out = Shape{C: in.C,
			H: PoolOut(in.H, a.KH, a.StrideH, a.Pad.Top, a.Ceil),
			W: PoolOut(in.W, a.KW, a.StrideW, a.Pad.Left, a.Ceil)}
	case OpGlobalAvgPool:
		if _, err := spatial(); err != nil {
			return Shape{}, err
		}
		out = Shape{C: in.C, H: 1, W: 1}
	case OpFlatten:
		out = Shape{C: in.Elems(), H: 1, W: 1, Flat: true}
	case OpReLU, OpLeakyReLU, OpSigmoid, OpTanh, OpSoftmax, OpDropout, OpLRN, OpBatchNorm:
		out = in
	case OpAdd:
		for _, x := range n.Inputs[1:] {
			if x.Shape != in {
				return fail("inputs", "cannot add %s (%s) and %s (%s): shapes differ", n.Inputs[0].Name, in, x.Name, x.Shape)
			}
		}
		out = in
	case OpConcat:
		out = in
		for _, x := range n.Inputs[1:] {
			s := x.Shape
			if s.Flat != in.Flat || s.H != in.H || s.W != in.W {
				return fail("inputs", "cannot concatenate %s (%s) and %s (%s) along channels: height and width differ", n.Inputs[0].Name, in, x.Name, s)
			}
			out.C += s.C
		}
	default:
		return fail("op", "no shape rule for op %s", n.Op)
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
