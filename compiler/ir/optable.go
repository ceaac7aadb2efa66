package ir

import "math"

// OpInfo is one row of the op table: what every stage of the compiler needs
// to know about an op, apart from its kernels. The spec decoder reads the
// name, fields and arity; shape inference the shape rule; the passes the
// properties; the verifier the arity and Epilogue; graphviz and the docs
// the formula. A new elementwise activation is one row here plus its
// formula in compiler/ref, codegen/rt, codegen/cuda and docs/spec.md;
// TestOpTable checks that none of those pieces is missing.
type OpInfo struct {
	Name   string  // spelling in the spec language
	Fields []Field // fields besides name, op and input/inputs
	Arity  Arity

	// Shape infers the output shape from the inputs' shapes and the
	// node's attributes; fail reports an error at a field of the layer.
	Shape func(n *Node, in []Shape, fail failFunc) (Shape, error)

	// Elementwise: output element i depends only on element i of each
	// input (after broadcasting).
	Elementwise bool
	// InPlace: the output may be written over the storage of an input of
	// the same shape that dies at this node.
	InPlace bool
	// PerChannel: output channel c reads only channel c of each input (LRN:
	// and its neighbours; flatten: the features channel c becomes), so a
	// back end may split the op by channels (codegen/cuda's partitioner).
	PerChannel bool
	// Act, for an activation, is the kind it applies; the fusion pass can
	// move it into its producer's epilogue. Whether it commutes with max
	// pooling is Activation.Monotonic, which depends on its constants.
	Act ActKind
	// Epilogue: the op's kernels can apply a fused activation as they
	// store the output (Node.Act).
	Epilogue bool
	// Params lists the learned tensors the op reads, as suffixes of the
	// layer name ("weight" is <layer>.weight); Optional ones may be absent.
	Params []string

	// Formula is the op's exact meaning, as docs/spec.md states it.
	Formula string
}

// Field is a field an op accepts in the spec language.
type Field struct {
	Name     string
	Required bool
	// Default, if not nil, is this op's default, where it differs from
	// the language's (spec.Layer.setDefaults): a float64, int or bool.
	Default any
}

// Arity is how many tensors an op reads.
type Arity uint8

const (
	Nullary  Arity = iota // the network input
	Unary                 // `input: x`, or the previous layer
	Binary                // `inputs: [a, b]`
	Variadic              // `inputs: [a, b, ...]`, two or more
)

// Info returns o's row of the op table.
func (o Op) Info() *OpInfo { return &opTable[o] }

type failFunc = func(field, format string, args ...any) (Shape, error)

var opTable [numOps]OpInfo

func init() {
	act := func(name string, kind ActKind, formula string, fields ...Field) OpInfo {
		return OpInfo{Name: name, Arity: Unary, Shape: sameShape, Elementwise: true, InPlace: true, PerChannel: true, Act: kind, Fields: fields, Formula: formula}
	}
	opTable = [numOps]OpInfo{
		OpInput: {Name: "input", Arity: Nullary, Formula: "the network input"},
		OpConv: {Name: "conv", Arity: Unary, Shape: convShape, Epilogue: true, Params: []string{"weight", "bias?"},
			Fields:  []Field{{Name: "filters", Required: true}, {Name: "kernel", Required: true}, {Name: "stride"}, {Name: "padding"}, {Name: "dilation"}, {Name: "groups"}, {Name: "bias"}},
			Formula: "y[f,i,j] = bias[f] + Σ_{c,u,v} w[f,c,u,v] · x[g·C/G + c, i·sh + u·dh − pt, j·sw + v·dw − pl], g = f / (F/G)"},
		OpDense: {Name: "dense", Arity: Unary, Shape: denseShape, Epilogue: true, Params: []string{"weight", "bias?"},
			Fields:  []Field{{Name: "units", Required: true}, {Name: "bias"}},
			Formula: "y[u] = bias[u] + Σ_k w[u,k] · x[k], x flattened in C, H, W order"},
		OpReLU:      act("relu", ActReLU, "max(x, 0)"),
		OpLeakyReLU: act("leaky_relu", ActLeakyReLU, "x if x > 0, else slope·x", Field{Name: "slope", Default: 0.01}),
		OpSigmoid:   act("sigmoid", ActSigmoid, "1 / (1 + exp(−x))"),
		OpTanh:      act("tanh", ActTanh, "tanh(x)"),
		OpClip:      act("clip", ActClip, "min(max(x, min), max); an absent bound is unbounded", Field{Name: "min"}, Field{Name: "max"}),
		OpReLU6:     act("relu6", ActClip, "min(max(x, 0), 6)"),
		OpHardSigmoid: act("hardsigmoid", ActHardSigmoid, "max(0, min(1, alpha·x + beta))",
			Field{Name: "alpha", Default: 1.0 / 6}, Field{Name: "beta", Default: 0.5}),
		OpHardSwish: act("hardswish", ActHardSwish, "x · max(0, min(1, x/6 + 1/2))"),
		OpSiLU:      act("silu", ActSiLU, "x · sigmoid(x) = x / (1 + exp(−x))"),
		OpGELU: act("gelu", ActGELU, "x/2 · (1 + erf(x/√2)); with approximate: tanh, x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))",
			Field{Name: "approximate"}),
		OpPReLU: {Name: "prelu", Arity: Unary, Shape: sameShape, PerChannel: true, Elementwise: true, InPlace: true, Params: []string{"weight"},
			Fields:  []Field{{Name: "shared"}},
			Formula: "x if x > 0, else weight[c]·x; weight has one slope per channel, or one for all if shared"},
		OpSoftmax: {Name: "softmax", Arity: Unary, Shape: sameShape,
			Formula: "exp(x[c]) / Σ_c' exp(x[c']) over the channels, at each position"},
		OpFlatten: {Name: "flatten", Arity: Unary, Shape: flattenShape, PerChannel: true, Formula: "x as a vector, in C, H, W order"},
		OpDropout: {Name: "dropout", Arity: Unary, Shape: sameShape, PerChannel: true, Fields: []Field{{Name: "rate"}},
			Formula: "x (the identity at inference; removed by removeDropout)"},
		OpMaxPool: {Name: "maxpool", Arity: Unary, Shape: poolShape, PerChannel: true, Epilogue: true,
			Fields:  []Field{{Name: "kernel", Required: true}, {Name: "stride"}, {Name: "padding"}, {Name: "ceil"}},
			Formula: "y[c,i,j] = max over the window of x (padding never wins)"},
		OpAvgPool: {Name: "avgpool", Arity: Unary, Shape: poolShape, PerChannel: true, Epilogue: true,
			Fields:  []Field{{Name: "kernel", Required: true}, {Name: "stride"}, {Name: "padding"}, {Name: "ceil"}, {Name: "count_pad"}},
			Formula: "y[c,i,j] = mean over the window of x (padding counted if count_pad)"},
		OpGlobalAvgPool: {Name: "global_avgpool", Arity: Unary, Shape: globalPoolShape, PerChannel: true, Epilogue: true,
			Formula: "y[c] = mean over H×W of x[c]"},
		OpLRN: {Name: "lrn", Arity: Unary, Shape: sameShape, PerChannel: true,
			Fields:  []Field{{Name: "size", Required: true}, {Name: "alpha"}, {Name: "beta"}, {Name: "k"}},
			Formula: "x[c] / (k + alpha/size · Σ x[c']²)^beta over size channels around c"},
		OpBatchNorm: {Name: "batchnorm", Arity: Unary, Shape: sameShape, PerChannel: true, Elementwise: true, InPlace: true, Epilogue: true,
			Params: []string{"weight", "bias", "running_mean", "running_var"}, Fields: []Field{{Name: "eps"}},
			Formula: "(x − running_mean[c]) / √(running_var[c] + eps) · weight[c] + bias[c]"},
		OpAdd: binary("add", Variadic, "a + b + …"),
		OpSub: binary("sub", Binary, "a − b"),
		OpMul: binary("mul", Binary, "a · b"),
		OpDiv: binary("div", Binary, "a / b (IEEE: x/0 is ±Inf or NaN)"),
		OpConcat: {Name: "concat", Arity: Variadic, Shape: concatShape, Epilogue: true,
			Formula: "the inputs stacked along the channels, in order"},
		OpSlice: {Name: "slice", Arity: Unary, Shape: sliceShape,
			Fields:  []Field{{Name: "start", Required: true}, {Name: "end", Required: true}},
			Formula: "y[c] = x[start + c] for c < end − start: channels [start, end)"},
		OpChannelShuffle: {Name: "channel_shuffle", Arity: Unary, Shape: shuffleShape,
			Fields:  []Field{{Name: "groups", Required: true}},
			Formula: "y[c] = x[(c mod groups)·C/groups + ⌊c/groups⌋]: ShuffleNet's shuffle"},
		OpLayerNorm: {Name: "layernorm", Arity: Unary, Shape: sameShape, Params: []string{"weight", "bias"},
			Fields:  []Field{{Name: "eps"}},
			Formula: "(x[c] − μ) / √(σ² + eps) · weight[c] + bias[c], μ and σ² the mean and (biased) variance over the channels at each position"},
	}
	// Elementwise ops keep their activation's kernel epilogue open: add
	// has always taken one.
	for o := range opTable {
		if opTable[o].Name == "" {
			panic("ir: op table has no row for Op " + Op(o).String())
		}
	}
}

// binary is the row of an elementwise arithmetic op with broadcasting.
func binary(name string, arity Arity, formula string) OpInfo {
	return OpInfo{Name: name, Arity: arity, Shape: broadcastShape, Elementwise: true, InPlace: true, PerChannel: true, Epilogue: true,
		Formula: formula + ", element by element, with NumPy broadcasting over C, H and W (each dimension equal, or 1 in some inputs)"}
}

// Defaults for the fields of activation ops whose bounds are open.
const (
	NoMin = -math.MaxFloat32
	NoMax = math.MaxFloat32
)

func sameShape(n *Node, in []Shape, fail failFunc) (Shape, error) { return in[0], nil }

func convShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	in := ins[0]
	if in.Flat {
		return flatInput(n, in, fail)
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
		msg := err1
		if err1 != "" && err2 != "" {
			msg += "; " + err2
		} else {
			msg += err2
		}
		return fail("kernel", "%s", msg)
	}
	if p := mul(a.Filters, in.C/a.Groups, a.KH, a.KW); p > MaxParams {
		return fail("filters", "%d weights, more than the limit of %d", p, MaxParams)
	}
	return Shape{C: a.Filters, H: oh, W: ow}, nil
}

func flatInput(n *Node, in Shape, fail failFunc) (Shape, error) {
	return fail("", "%s needs a CxHxW input, but %s produces a flat vector of %d", n.Op, n.Inputs[0].Name, in.C)
}

func denseShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	in := ins[0]
	if p := mul(n.Dense.Units, in.Elems()); p > MaxParams {
		return fail("units", "%d weights (%d units x %d inputs), more than the limit of %d", p, n.Dense.Units, in.Elems(), MaxParams)
	}
	return Shape{C: n.Dense.Units, H: 1, W: 1, Flat: true}, nil
}

func poolShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	in := ins[0]
	if in.Flat {
		return flatInput(n, in, fail)
	}
	a := &n.Pool
	if 2*a.Pad.Top > a.KH || 2*a.Pad.Left > a.KW {
		return fail("padding", "padding %s is more than half the kernel %dx%d", a.Pad, a.KH, a.KW)
	}
	if in.H+2*a.Pad.Top < a.KH || in.W+2*a.Pad.Left < a.KW {
		return fail("kernel", "kernel %dx%d is larger than the padded input %dx%d", a.KH, a.KW, in.H+2*a.Pad.Top, in.W+2*a.Pad.Left)
	}
	return Shape{C: in.C,
		H: PoolOut(in.H, a.KH, a.StrideH, a.Pad.Top, a.Ceil),
		W: PoolOut(in.W, a.KW, a.StrideW, a.Pad.Left, a.Ceil)}, nil
}

func globalPoolShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	if ins[0].Flat {
		return flatInput(n, ins[0], fail)
	}
	return Shape{C: ins[0].C, H: 1, W: 1}, nil
}

func flattenShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	return Shape{C: ins[0].Elems(), H: 1, W: 1, Flat: true}, nil
}

// broadcastShape is NumPy's broadcasting of per-image shapes: along C, H
// and W every input has the output's size or 1. Flat vectors broadcast
// only with flat vectors.
func broadcastShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	out := ins[0]
	for _, x := range ins[1:] {
		out.C, out.H, out.W = max(out.C, x.C), max(out.H, x.H), max(out.W, x.W)
	}
	for i, x := range ins {
		if x.Flat != ins[0].Flat {
			return fail("inputs", "cannot %s %s (%s) and %s (%s): one is a flat vector, the other CxHxW", n.Op, n.Inputs[0].Name, ins[0], n.Inputs[i].Name, x)
		}
		if (x.C != out.C && x.C != 1) || (x.H != out.H && x.H != 1) || (x.W != out.W && x.W != 1) {
			return fail("inputs", "cannot %s %s (%s): it does not broadcast to %s (each of C, H, W must be %s's or 1)", n.Op, n.Inputs[i].Name, x, out, out)
		}
	}
	return out, nil
}

// Strides are s's strides along C, H and W as an operand of an elementwise
// op that broadcasts it: 0 along an axis of size 1, so that element (c, y,
// x) of the output reads element c·sc + y·sh + x·sw of the operand.
func (s Shape) Strides() (sc, sh, sw int) {
	st := func(size, stride int) int {
		if size == 1 {
			return 0
		}
		return stride
	}
	return st(s.C, s.H*s.W), st(s.H, s.W), st(s.W, 1)
}

// Broadcast reports whether the input shape s is broadcast (has a 1 where
// out does not).
func Broadcast(s, out Shape) bool { return s.C != out.C || s.H != out.H || s.W != out.W }

func sliceShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	in, a := ins[0], n.Slice
	if a.Start >= a.End {
		return fail("end", "end %d is not after start %d", a.End, a.Start)
	}
	if a.End > in.C {
		return fail("end", "end %d is beyond the %d channels of %s", a.End, in.C, n.Inputs[0].Name)
	}
	out := in
	out.C = a.End - a.Start
	return out, nil
}

func shuffleShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	if ins[0].C%n.Groups != 0 {
		return fail("groups", "groups %d does not divide the %d channels", n.Groups, ins[0].C)
	}
	return ins[0], nil
}

func concatShape(n *Node, ins []Shape, fail failFunc) (Shape, error) {
	out := ins[0]
	for i, s := range ins[1:] {
		if s.Flat != out.Flat || s.H != out.H || s.W != out.W {
			return fail("inputs", "cannot concatenate %s (%s) and %s (%s) along channels: height and width differ", n.Inputs[0].Name, ins[0], n.Inputs[i+1].Name, s)
		}
		out.C += s.C
	}
	return out, nil
}
