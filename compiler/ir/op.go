// Package ir is cnnc's intermediate representation: a DAG of typed nodes,
// each with an inferred per-image NCHW shape. The front end (package spec)
// builds it, the passes (package passes) rewrite it, and the back ends
// (codegen, the reference engine) consume it.
//
// Every op is one row of the op table (optable.go): its spelling, fields,
// arity, shape rule and the properties the passes rely on. Adding an op
// starts there.
package ir

import (
	"fmt"
	"math"
)

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
	OpClip
	OpReLU6
	OpHardSigmoid
	OpHardSwish
	OpSiLU
	OpGELU
	OpPReLU
	OpSoftmax
	OpFlatten
	OpDropout
	OpMaxPool
	OpAvgPool
	OpGlobalAvgPool
	OpLRN
	OpBatchNorm
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpConcat
	OpSlice
	OpChannelShuffle
	OpLayerNorm
	numOps
)

func (o Op) String() string {
	if o < numOps {
		return opTable[o].Name
	}
	return fmt.Sprintf("Op(%d)", o)
}

// ParseOp returns the Op spelled s in the spec language.
func ParseOp(s string) (Op, bool) {
	for i := range opTable {
		if opTable[i].Name == s && Op(i) != OpInput {
			return Op(i), true
		}
	}
	return 0, false
}

// AllOps lists every op of the spec language (not OpInput), in declaration order.
func AllOps() []Op {
	var out []Op
	for o := OpInput + 1; o < numOps; o++ {
		out = append(out, o)
	}
	return out
}

// IsActivation reports whether o is an elementwise activation that can be
// fused into a producer's epilogue.
func (o Op) IsActivation() bool { return o < numOps && opTable[o].Act != ActNone }

// ActKind is an elementwise activation applied in a fused epilogue. Each is
// the Act of one activation op's row in the op table.
type ActKind uint8

const (
	ActNone ActKind = iota
	ActReLU
	ActLeakyReLU
	ActSigmoid
	ActTanh
	ActClip        // min(max(x, Alpha), Beta)
	ActHardSigmoid // max(0, min(1, Alpha·x + Beta))
	ActHardSwish   // x · max(0, min(1, x/6 + 1/2))
	ActSiLU        // x · sigmoid(x)
	ActGELU        // x · Φ(x) = x/2 · (1 + erf(x/√2))
	ActGELUTanh    // x/2 · (1 + tanh(√(2/π) · (x + 0.044715·x³)))
	NumActKinds
)

var actNames = [...]string{"none", "relu", "leaky_relu", "sigmoid", "tanh", "clip", "hardsigmoid", "hardswish", "silu", "gelu", "gelu_tanh"}

var _ = [1]struct{}{}[len(actNames)-int(NumActKinds)]

func (a ActKind) String() string {
	if int(a) < len(actNames) {
		return actNames[a]
	}
	return fmt.Sprintf("ActKind(%d)", a)
}

// Activation is an elementwise function with its constants: a fused
// epilogue, or the function of an activation node.
type Activation struct {
	Kind ActKind
	// Alpha and Beta are the kind's constants: leaky_relu's negative slope
	// (Alpha); clip's bounds [Alpha, Beta]; hardsigmoid's slope and offset.
	// Zero for the other kinds.
	Alpha, Beta float32
}

func (a Activation) String() string {
	switch a.Kind {
	case ActLeakyReLU:
		return fmt.Sprintf("leaky_relu(%g)", a.Alpha)
	case ActClip:
		if a.Alpha == 0 && a.Beta == 6 {
			return "relu6"
		}
		return fmt.Sprintf("clip(%s,%s)", bound(a.Alpha), bound(a.Beta))
	case ActHardSigmoid:
		return fmt.Sprintf("hardsigmoid(%g,%g)", a.Alpha, a.Beta)
	}
	return a.Kind.String()
}

func bound(v float32) string {
	switch {
	case v >= math.MaxFloat32:
		return "inf"
	case v <= -math.MaxFloat32:
		return "-inf"
	}
	return fmt.Sprint(v)
}

// Monotonic reports whether the activation is non-decreasing, so that
// max(f(a), f(b)) = f(max(a, b)) and it commutes with max pooling.
// hardswish, SiLU and GELU dip below zero before rising, so they do not.
func (a Activation) Monotonic() bool {
	switch a.Kind {
	case ActNone, ActReLU, ActSigmoid, ActTanh, ActClip:
		return true
	case ActLeakyReLU:
		return a.Alpha >= 0
	case ActHardSigmoid:
		return a.Alpha >= 0
	}
	return false
}

// ActivationOf returns the function of an activation op node.
func ActivationOf(n *Node) Activation {
	if !n.Op.IsActivation() {
		panic("ir: ActivationOf " + n.Op.String())
	}
	a := n.Fn
	if a.Kind == ActNone {
		a.Kind = opTable[n.Op].Act
	}
	return a
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

// BatchNormAttrs is inference-mode batch normalisation with running
// statistics; layer normalisation has the same attribute.
type BatchNormAttrs struct {
	Eps float64
}

// SliceAttrs are the channels [Start, End) a slice takes.
type SliceAttrs struct{ Start, End int }
