// Package ir is cnnc's intermediate representation: a DAG of typed nodes,
// each with an inferred per-image NCHW shape. The front end (package spec)
// builds it, the passes (package passes) rewrite it, and the back ends
// (codegen, the reference engine) consume it.
package ir

import "fmt"

// Op is the operation a node performs.
type Op uint8

const (
	OpInput Op = iota
	OpConv
	OpDense
	OpReLU
	OpLeakyReLU
	OpSigmoid
	OpTanh
	OpSoftmax
	OpFlatten
	OpDropout
	OpMaxPool
	OpAvgPool
	OpGlobalAvgPool
	OpLRN
	OpBatchNorm
	OpAdd
	OpConcat
	numOps
)

var opNames = [...]string{
	OpInput:         "input",
	OpConv:          "conv",
	OpDense:         "dense",
	OpReLU:          "relu",
	OpLeakyReLU:     "leaky_relu",
	OpSigmoid:       "sigmoid",
	OpTanh:          "tanh",
	OpSoftmax:       "softmax",
	OpFlatten:       "flatten",
	OpDropout:       "dropout",
	OpMaxPool:       "maxpool",
	OpAvgPool:       "avgpool",
	OpGlobalAvgPool: "global_avgpool",
	OpLRN:           "lrn",
	OpBatchNorm:     "batchnorm",
	OpAdd:           "add",
	OpConcat:        "concat",
}

// Compile-time guard, as stringer does: adding an Op without a name fails to build.
var _ = [1]struct{}{}[len(opNames)-int(numOps)]

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// ParseOp returns the Op spelled s in the spec language.
func ParseOp(s string) (Op, bool) {
	for i, n := range opNames {
		if n == s && Op(i) != OpInput {
			return Op(i), true
		}
	}
	return 0, false
}

// Ops lists the spec-language op names, in declaration order.
func Ops() []string {
	var out []string
	for i, n := range opNames {
		if Op(i) != OpInput {
			out = append(out, n)
		}
	}
	return out
}

// IsActivation reports whether o is an elementwise activation that can be
// fused into a producer's epilogue.
func (o Op) IsActivation() bool {
	switch o {
	case OpReLU, OpLeakyReLU, OpSigmoid, OpTanh:
		return true
	}
	return false
}

// ActKind is an elementwise activation applied in a fused epilogue.
type ActKind uint8

const (
	ActNone ActKind = iota
	ActReLU
	ActLeakyReLU
	ActSigmoid
	ActTanh
)

var actNames = [...]string{"none", "relu", "leaky_relu", "sigmoid", "tanh"}

func (a ActKind) String() string {
	if int(a) < len(actNames) {
		return actNames[a]
	}
	return fmt.Sprintf("ActKind(%d)", a)
}

// Activation is a fused elementwise epilogue.
type Activation struct {
	Kind  ActKind
	Slope float32 // negative slope, for ActLeakyReLU
}

func (a Activation) String() string {
	if a.Kind == ActLeakyReLU {
		return fmt.Sprintf("leaky_relu(%g)", a.Slope)
	}
	return a.Kind.String()
}

// ActivationOf returns the Activation equivalent of an activation op node.
func ActivationOf(n *Node) Activation {
	switch n.Op {
	case OpReLU:
		return Activation{Kind: ActReLU}
	case OpLeakyReLU:
		return Activation{Kind: ActLeakyReLU, Slope: n.Slope}
	case OpSigmoid:
		return Activation{Kind: ActSigmoid}
	case OpTanh:
		return Activation{Kind: ActTanh}
	}
	panic("ir: ActivationOf " + n.Op.String())
}

// Pad is explicit spatial padding; Top/Left may differ from Bottom/Right
// (TensorFlow-style "same" puts the extra row/column at the bottom/right).
type Pad struct{ Top, Bottom, Left, Right int }

func (p Pad) String() string {
	if p.Top == p.Bottom && p.Left == p.Right {
		if p.Top == p.Left {
			return fmt.Sprint(p.Top)
		}
		return fmt.Sprintf("[%d,%d]", p.Top, p.Left)
	}
	return fmt.Sprintf("[t%d,b%d,l%d,r%d]", p.Top, p.Bottom, p.Left, p.Right)
}

// ConvAttrs are a convolution's attributes. Weights have PyTorch's layout
// [Filters, InC/Groups, KH, KW].
type ConvAttrs struct {
	Filters          int
	KH, KW           int
	StrideH, StrideW int
	DilH, DilW       int
	Pad              Pad
	Groups           int
	Bias             bool
}

// DenseAttrs are a fully connected layer's attributes. Weights have
// PyTorch's layout [Units, In]; the input is flattened in C, H, W order.
type DenseAttrs struct {
	Units int
	Bias  bool
}

// PoolAttrs are max or average pooling attributes.
type PoolAttrs struct {
	KH, KW           int
	StrideH, StrideW int
	Pad              Pad
	Ceil             bool
	CountPad         bool // avgpool: padded zeros count in the divisor (PyTorch's count_include_pad)
}

// LRNAttrs is local response normalisation across channels, with PyTorch's
// and Caffe's meaning: b = a / (K + Alpha/Size * sum(a^2))^Beta over Size
// neighbouring channels (Size/2 before, (Size-1)/2 after).
type LRNAttrs struct {
	Size        int
	Alpha, Beta float64
	K           float64
}

// BatchNormAttrs is inference-mode batch normalisation with running statistics.
type BatchNormAttrs struct {
	Eps float64
}
