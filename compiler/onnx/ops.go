package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/spec"
)

// handlers maps each supported ONNX operator to its translation.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"Relu":               {[]string{"consumed_inputs"}, unary("relu")},
		"Sigmoid":            {[]string{"consumed_inputs"}, unary("sigmoid")},
		"Tanh":               {[]string{"consumed_inputs"}, unary("tanh")},
		"LeakyRelu":          {[]string{"alpha", "consumed_inputs"}, opLeakyRelu},
		"Clip":               {[]string{"min", "max", "consumed_inputs"}, opClip},
		"HardSigmoid":        {[]string{"alpha", "beta", "consumed_inputs"}, opHardSigmoid},
		"HardSwish":          {nil, unary("hardswish")},
		"Gelu":               {[]string{"approximate"}, opGelu},
		"PRelu":              {[]string{"consumed_inputs"}, opPRelu},
		"Dropout":            {[]string{"ratio", "is_test", "seed", "consumed_inputs"}, opDropout},
		"Softmax":            {[]string{"axis"}, opSoftmax},
		"LRN":                {[]string{"alpha", "beta", "bias", "size"}, opLRN},
		"BatchNormalization": {[]string{"epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"}, opBatchNorm},
		"LayerNormalization": {[]string{"axis", "epsilon", "stash_type"}, opLayerNorm},
		"Conv":               {[]string{"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, opConv},
		"MaxPool":            {[]string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}, opPool},
		"AveragePool":        {[]string{"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"}, opPool},
		"GlobalAveragePool":  {nil, opGlobalAvgPool},
		"ReduceMean":         {[]string{"axes", "keepdims", "noop_with_empty_axes"}, opReduceMean},
		"Gemm":               {[]string{"alpha", "beta", "transA", "transB", "broadcast"}, opGemm},
		"MatMul":             {nil, opMatMul},
		"Add":                {nil, opBinary},
		"Sub":                {nil, opBinary},
		"Mul":                {nil, opBinary},
		"Div":                {nil, opBinary},
		"Concat":             {[]string{"axis"}, opConcat},
		"Split":              {[]string{"axis", "split", "num_outputs"}, opSplit},
		"Flatten":            {[]string{"axis"}, opFlatten},
		"Reshape":            {[]string{"allowzero", "shape"}, opReshape},
		"Squeeze":            {[]string{"axes"}, opSqueeze},
		"Unsqueeze":          {[]string{"axes"}, opUnsqueeze},
		"Pad":                {[]string{"mode", "pads", "value"}, opPad},
		"Identity":           {nil, opIdentity},
		"Constant":           {[]string{"value", "value_float", "value_floats", "value_int", "value_ints"}, opConstant},
		"Shape":              {[]string{"start", "end"}, opShape},
		"Gather":             {[]string{"axis"}, opGather},
		"Cast":               {[]string{"to", "saturate"}, opCast},
		"ConstantOfShape":    {[]string{"value"}, opConstantOfShape},
		"Slice":              {[]string{"starts", "ends", "axes"}, opSlice},
		"Transpose":          {[]string{"perm"}, opTranspose},
		"Neg":                {nil, opNeg},
	}
}

// Bounds on attribute values: cnnc's spec limit on any size.
const maxAttr = spec.MaxDim

// f32 is a float attribute as a spec field value: printed as the shortest
// decimal that reads back as the same float32.
type f32 float32

// ---------------------------------------------------------------- activations

func unary(op string) func(n *node) error {
	return func(n *node) error { return elementwise(n, op) }
}

func elementwise(n *node, op string, fields ...field) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	return unaryLayer(n, op, fields...)
}

// unaryLayer makes the layer op with the given fields, reading input 0 in
// either layout, as output 0.
func unaryLayer(n *node, op string, fields ...field) error {
	a, err := n.anyAct(0)
	if err != nil {
		return err
	}
	l := n.newLayer(op, []*act{a}, a.shape(n.im), "", fields...)
	n.out(0, &value{a: &act{l: l, dims: a.dims, nhwc: a.nhwc, via: a.via}})
	return nil
}

func opLeakyRelu(n *node) error {
	alpha := n.attrFloat("alpha", 0.01)
	if n.err != nil {
		return n.err
	}
	if !finite(alpha) {
		return fmt.Errorf("alpha %v is not finite", alpha)
	}
	var fields []field
	if alpha != 0.01 {
		fields = append(fields, field{"slope", f32(alpha)})
	}
	return elementwise(n, "leaky_relu", fields...)
}

// opClip: Clip(0, 6) is relu6, any other bounds clip. The bounds are
// attributes before opset 11 and inputs (scalar constants, each optional)
// from it; ±3.4e38 (ONNX's defaults) or ±inf is no bound.
func opClip(n *node) error {
	if err := n.inputs(1, 3); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	lo := float64(n.attrFloat("min", float32(math.Inf(-1))))
	hi := float64(n.attrFloat("max", float32(math.Inf(1))))
	if n.err != nil {
		return n.err
	}
	for i, bound := range []*float64{&lo, &hi} {
		if n.in(i+1) == nil {
			continue
		}
		c, err := n.floatConst(i+1, []string{"min", "max"}[i])
		if err != nil {
			return err
		}
		v, ok := c.scalarFloat()
		if !ok {
			return fmt.Errorf("%s %q is not a scalar", []string{"min", "max"}[i], n.inName(i+1))
		}
		*bound = v
	}
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return fmt.Errorf("a bound is NaN")
	}
	if lo > hi {
		return fmt.Errorf("min %v is more than max %v", lo, hi)
	}
	if lo == 0 && hi == 6 {
		return unaryLayer(n, "relu6")
	}
	var fields []field
	if lo > -math.MaxFloat32 {
		fields = append(fields, field{"min", f32(lo)})
	}
	if hi < math.MaxFloat32 {
		fields = append(fields, field{"max", f32(hi)})
	}
	return unaryLayer(n, "clip", fields...)
}

// opHardSigmoid: ONNX's default alpha is 0.2, the spec's (and PyTorch's)
// 1/6; the import writes alpha unless it is the spec's.
func opHardSigmoid(n *node) error {
	alpha := n.attrFloat("alpha", 0.2)
	beta := n.attrFloat("beta", 0.5)
	if n.err != nil {
		return n.err
	}
	if !finite(alpha) || !finite(beta) {
		return fmt.Errorf("alpha and beta must be finite")
	}
	var fields []field
	if alpha != float32(1.0/6) {
		fields = append(fields, field{"alpha", f32(alpha)})
	}
	if beta != 0.5 {
		fields = append(fields, field{"beta", f32(beta)})
	}
	return elementwise(n, "hardsigmoid", fields...)
}

// opGelu is ONNX's Gelu (opset 20), and the node fuse.go makes for GELU
// written out with Erf or Tanh.
func opGelu(n *node) error {
	approx := n.attrString("approximate", "none")
	if n.err != nil {
		return n.err
	}
	switch approx {
	case "none":
		return elementwise(n, "gelu")
	case "tanh":
		return elementwise(n, "gelu", field{"approximate", "tanh"})
	}
	return fmt.Errorf("approximate %q is not none or tanh", approx)
}

// opPRelu: the slope must be a constant with one value per channel
// (PyTorch writes [C, 1, 1]) or one value (nn.PReLU(), shared).
func opPRelu(n *node) error {
	if err := n.inputs(2, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, err := n.chanAct(0)
	if err != nil {
		return err
	}
	c, err := n.floatConst(1, "the slope")
	if err != nil {
		return err
	}
	k, ok := perChannel(c, a, n.im)
	if !ok {
		return fmt.Errorf("the slope %q has shape %v; cnnc's prelu has one slope per channel of %s, or one for all", n.inName(1), c.dims, batchDims(a.dims))
	}
	var fields []field
	if len(c.f) == 1 {
		k = k[:1]
		fields = append(fields, field{"shared", true})
	}
	l := n.newLayer("prelu", []*act{a}, a.shape(n.im), "", fields...)
	l.param("weight", []int{len(k)}, k)
	n.out(0, &value{a: &act{l: l, dims: a.dims, nhwc: a.nhwc, via: a.via}})
	return nil
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// opDropout: the identity at inference, kept as a dropout layer so the spec
// reads like the source network.
func opDropout(n *node) error {
	if err := n.inputs(1, 3); err != nil {
		return err
	}
	if err := n.outputs(2); err != nil {
		return err
	}
	ratio := float64(n.attrFloat("ratio", 0.5))
	if n.err != nil {
		return n.err
	}
	if n.in(1) != nil {
		c, err := n.konst(1, "the ratio")
		if err != nil {
			return err
		}
		r, ok := c.scalarFloat()
		if !ok {
			return fmt.Errorf("the ratio %q is not a scalar", n.inName(1))
		}
		ratio = r
	}
	if n.in(2) != nil {
		c, err := n.konst(2, "training_mode")
		if err != nil {
			return err
		}
		if t, ok := c.scalarFloat(); !ok || t != 0 {
			return fmt.Errorf("training_mode %q is not false; cnnc runs networks for inference", n.inName(2))
		}
	}
	if !(ratio >= 0 && ratio < 1) {
		return fmt.Errorf("ratio %v is outside [0, 1)", ratio)
	}
	var fields []field
	if float32(ratio) != 0.5 {
		fields = append(fields, field{"rate", f32(ratio)})
	}
	a, err := n.act(0)
	if err != nil {
		return err
	}
	l := n.newLayer("dropout", []*act{a}, a.shape(n.im), "", fields...)
	n.out(0, &value{a: &act{l: l, dims: a.dims}})
	return nil
}

// opSoftmax maps Softmax onto cnnc's softmax, which normalises over the
// channels (dim 1) at every position. Before opset 13 ONNX's Softmax
// flattens the dimensions from axis on and normalises over all of them;
// from opset 13 it normalises over the one axis (default -1). Either is
// cnnc's softmax exactly when the normalised dimensions are the channels
// plus any of size 1.
func opSoftmax(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, err := n.chanAct(0)
	if err != nil {
		return err
	}
	full := append([]int{-1}, a.dims...)
	r := len(full)
	ch := 1 + a.chanAxis()
	def := int64(-1)
	if n.im.opset < 13 {
		def = 1
	}
	axis := n.attrInt("axis", def)
	if n.err != nil {
		return n.err
	}
	ax, ok := normAxis(axis, r)
	if !ok {
		return fmt.Errorf("axis %d is out of range for a rank-%d input", axis, r)
	}
	reduced := []int{ax}
	if n.im.opset < 13 {
		reduced = nil
		for k := ax; k < r; k++ {
			reduced = append(reduced, k)
		}
	}
	good := slices.Contains(reduced, ch)
	for _, k := range reduced {
		if k == 0 || (k != ch && full[k] != 1) {
			good = false
		}
	}
	if !good {
		what := fmt.Sprintf("axis %d", axis)
		if n.im.opset < 13 {
			what = fmt.Sprintf("axes %d and after (opset %d flattens them)", axis, n.im.opset)
		}
		return fmt.Errorf("softmax over %s of a tensor %s; cnnc's softmax normalises over the channels (axis 1, or the last axis of a channels-last view) only", what, batchDims(a.dims))
	}
	l := n.newLayer("softmax", []*act{a}, a.shape(n.im), "")
	n.out(0, &value{a: &act{l: l, dims: a.dims, nhwc: a.nhwc, via: a.via}})
	return nil
}

func normAxis(axis int64, rank int) (int, bool) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, false
	}
	return int(axis), true
}

// opLRN: ONNX's LRN divides alpha by size, like cnnc, PyTorch and Caffe,
// and sums over channels c - floor((size-1)/2) .. c + ceil((size-1)/2).
// cnnc (and PyTorch) sum over c - floor(size/2) .. c + floor((size-1)/2):
// the same window for odd sizes only, so even sizes are refused.
func opLRN(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, err := n.spatial(0)
	if err != nil {
		return err
	}
	alpha := n.attrFloat("alpha", 1e-4)
	beta := n.attrFloat("beta", 0.75)
	bias := n.attrFloat("bias", 1)
	size := n.attrInt("size", 0)
	if n.err != nil {
		return n.err
	}
	if _, given := n.attrs["size"]; !given {
		return fmt.Errorf("attribute size is missing")
	}
	if size < 1 || size > maxAttr {
		return fmt.Errorf("size %d is out of range", size)
	}
	if size%2 == 0 {
		return fmt.Errorf("size %d is even: ONNX's LRN window is channels c-%d..c+%d, cnnc's (and PyTorch's) c-%d..c+%d; they agree only for odd sizes",
			size, (size-1)/2, size/2, size/2, (size-1)/2)
	}
	if !finite(alpha) || !finite(beta) || !finite(bias) {
		return fmt.Errorf("alpha, beta and bias must be finite")
	}
	l := n.newLayer("lrn", []*act{a}, a.shape(n.im), "",
		field{"size", int(size)}, field{"alpha", f32(alpha)}, field{"beta", f32(beta)}, field{"k", f32(bias)})
	n.out(0, &value{a: &act{l: l, dims: a.dims}})
	return nil
}

func opBatchNorm(n *node) error {
	if err := n.inputs(5, 5); err != nil {
		return err
	}
	if err := n.outputs(5); err != nil {
		return err
	}
	eps := n.attrFloat("epsilon", 1e-5)
	if n.attrInt("training_mode", 0) != 0 {
		n.failf("training_mode is 1; cnnc runs batchnorm with the running statistics (inference)")
	}
	if s := n.attrInt("spatial", 1); s != 1 {
		n.failf("spatial is %d; cnnc's batchnorm has one mean and variance per channel (spatial = 1)", s)
	}
	if n.err != nil {
		return n.err
	}
	if !finite(eps) || eps <= 0 {
		return fmt.Errorf("epsilon %v must be positive", eps)
	}
	a, err := n.materialized(0)
	if err != nil {
		return err
	}
	c := a.dims[0]
	names := []string{"weight", "bias", "running_mean", "running_var"}
	whats := []string{"the scale", "the bias", "the mean", "the variance"}
	var ts []*constant
	for i := range 4 {
		t, err := n.floatConst(i+1, whats[i])
		if err != nil {
			return err
		}
		if len(t.dims) != 1 || t.dims[0] != c {
			return fmt.Errorf("%s %q has shape %v; want [%d], one per channel", whats[i], n.inName(i+1), t.dims, c)
		}
		ts = append(ts, t)
	}
	var fields []field
	if eps != 1e-5 {
		fields = append(fields, field{"eps", f32(eps)})
	}
	l := n.newLayer("batchnorm", []*act{a}, a.shape(n.im), "", fields...)
	for i, t := range ts {
		l.param(names[i], []int{c}, t.f)
	}
	n.out(0, &value{a: &act{l: l, dims: a.dims}})
	return nil
}

// opLayerNorm maps LayerNormalization onto layernorm, which normalises
// over the channels at each position: the normalised axes (axis to the
// last) must be the channel axis and axes of size 1. That is
// LayerNormalization over the last axis of a channels-last view (ConvNeXt's
// LayerNorm2d, and fuse.go's node for F.layer_norm before opset 17) or of
// a flat [N, C]. A missing scale is 1 (fuse.go leaves it out when the
// layer norm has no weight).
func opLayerNorm(n *node) error {
	if err := n.inputs(1, 3); err != nil {
		return err
	}
	if err := n.outputs(3); err != nil {
		return err
	}
	axis := n.attrInt("axis", -1)
	eps := n.attrFloat("epsilon", 1e-5)
	if n.err != nil {
		return n.err
	}
	if !finite(eps) || eps <= 0 {
		return fmt.Errorf("epsilon %v must be positive", eps)
	}
	a, err := n.chanAct(0)
	if err != nil {
		return err
	}
	full := append([]int{-1}, a.dims...)
	ax, ok := normAxis(axis, len(full))
	if !ok || ax == 0 {
		return fmt.Errorf("axis %d is out of range for %s", axis, batchDims(a.dims))
	}
	ch := 1 + a.chanAxis()
	good := ax <= ch
	for k := ax; k < len(full); k++ {
		good = good && (k == ch || full[k] == 1)
	}
	if !good {
		return fmt.Errorf("normalises axes %d to %d of %s; cnnc's layernorm normalises over the channels only (the last axis of a channels-last view [N, H, W, C], or of [N, C])", ax, len(full)-1, batchDims(a.dims))
	}
	c := full[ch]
	params := [2][]float32{slices.Repeat([]float32{1}, c), make([]float32, c)}
	for i, what := range []string{"the scale", "the bias"} {
		if n.in(i+1) == nil {
			continue
		}
		t, err := n.floatConst(i+1, what)
		if err != nil {
			return err
		}
		if len(t.f) != c {
			return fmt.Errorf("%s %q has shape %v; want %d values, one per channel", what, n.inName(i+1), t.dims, c)
		}
		k, ok := perChannel(t, a, n.im)
		if !ok {
			return fmt.Errorf("%s %q has shape %v, which is not one value per channel of %s", what, n.inName(i+1), t.dims, batchDims(a.dims))
		}
		params[i] = k
	}
	var fields []field
	if eps != 1e-5 {
		fields = append(fields, field{"eps", f32(eps)})
	}
	l := n.newLayer("layernorm", []*act{a}, a.shape(n.im), "", fields...)
	l.param("weight", []int{c}, params[0])
	l.param("bias", []int{c}, params[1])
	n.out(0, &value{a: &act{l: l, dims: a.dims, nhwc: a.nhwc, via: a.via}})
	return nil
}

// ---------------------------------------------------------------- convolution and pooling

// padInput returns input i, a C×H×W activation, and the padding of a Pad
// node folded into it ([top, bottom, left, right], and its value).
func (n *node) padInput(i int) (*act, [4]int, *padded, error) {
	v := n.in(i)
	if v != nil && v.pad != nil {
		p := v.pad
		return p.src, p.pads, p, nil
	}
	a, err := n.spatial(i)
	return a, [4]int{}, nil, err
}

// pads2d resolves a node's padding for H and W as [top, bottom, left,
// right], from auto_pad and pads; in, k, s, d are the input size, kernel,
// stride and dilation per axis. SAME_UPPER puts the odd pixel at the end,
// SAME_LOWER at the start, as ONNX defines them.
func (n *node) pads2d(in, k, s, d [2]int) ([4]int, error) {
	var out [4]int
	auto := n.attrString("auto_pad", "NOTSET")
	pads, given := n.attrInts("pads")
	if n.err != nil {
		return out, n.err
	}
	switch auto {
	case "NOTSET", "":
		if given {
			if len(pads) != 4 {
				return out, fmt.Errorf("pads has %d values; want 4 (top, left, bottom, right)", len(pads))
			}
			for _, p := range pads {
				if p < 0 || p > maxAttr {
					return out, fmt.Errorf("pads %v: padding must be in [0, %d] (negative padding crops, which cnnc does not do)", pads, maxAttr)
				}
			}
			// ONNX order: x1_begin, x2_begin, x1_end, x2_end.
			out = [4]int{int(pads[0]), int(pads[2]), int(pads[1]), int(pads[3])}
		}
	case "VALID":
		if given && slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) {
			return out, fmt.Errorf("auto_pad VALID with non-zero pads %v", pads)
		}
	case "SAME_UPPER", "SAME_LOWER":
		if given && slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) {
			return out, fmt.Errorf("auto_pad %s with explicit pads %v", auto, pads)
		}
		for ax := range 2 {
			o := (in[ax] + s[ax] - 1) / s[ax]
			total := max((o-1)*s[ax]+(k[ax]-1)*d[ax]+1-in[ax], 0)
			head := total / 2
			if auto == "SAME_LOWER" {
				head = total - total/2
			}
			out[2*ax], out[2*ax+1] = head, total-head
		}
	default:
		return out, fmt.Errorf("auto_pad %q is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", auto)
	}
	return out, nil
}

// pair2 reads a two-element list attribute (kernel_shape, strides,
// dilations) with values in [1, maxAttr].
func (n *node) pair2(name string, def [2]int) ([2]int, bool, error) {
	v, given := n.attrInts(name)
	if n.err != nil {
		return def, false, n.err
	}
	if !given {
		return def, false, nil
	}
	if len(v) != 2 {
		return def, true, fmt.Errorf("%s has %d values %v; cnnc supports 2-D (H, W) only", name, len(v), v)
	}
	for _, x := range v {
		if x < 1 || x > maxAttr {
			return def, true, fmt.Errorf("%s %v: values must be in [1, %d]", name, v, maxAttr)
		}
	}
	return [2]int{int(v[0]), int(v[1])}, true, nil
}

// pairField is a spec pair: one integer if both are equal.
func pairField(p [2]int) any {
	if p[0] == p[1] {
		return p[0]
	}
	return p
}

func opConv(n *node) error {
	if err := n.inputs(2, 3); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, extra, pd, err := n.padInput(0)
	if err != nil {
		return err
	}
	if pd != nil && pd.value != 0 {
		return fmt.Errorf("the Pad %s before it pads with %v; a convolution's padding is zeros", pd.node, pd.value)
	}
	w, err := n.floatConst(1, "the weight")
	if err != nil {
		return err
	}
	if len(w.dims) != 4 {
		return fmt.Errorf("the weight %q has shape %v; cnnc supports 2-D convolutions, weights [M, C/group, kH, kW]", n.inName(1), w.dims)
	}
	m, cg, kh, kw := w.dims[0], w.dims[1], w.dims[2], w.dims[3]
	if m < 1 || cg < 1 || kh < 1 || kw < 1 || m > maxAttr || kh > maxAttr || kw > maxAttr {
		return fmt.Errorf("the weight %q has shape %v", n.inName(1), w.dims)
	}
	k := [2]int{kh, kw}
	if ks, given, err := n.pair2("kernel_shape", k); err != nil {
		return err
	} else if given && ks != k {
		return fmt.Errorf("kernel_shape %v disagrees with the weight's shape %v", ks, w.dims)
	}
	s, _, err := n.pair2("strides", [2]int{1, 1})
	if err != nil {
		return err
	}
	d, _, err := n.pair2("dilations", [2]int{1, 1})
	if err != nil {
		return err
	}
	group := n.attrInt("group", 1)
	if n.err != nil {
		return n.err
	}
	c, h, wd := a.dims[0], a.dims[1], a.dims[2]
	if group < 1 || group > int64(c) || int64(c)%group != 0 || int64(m)%group != 0 {
		return fmt.Errorf("group %d must divide the %d input channels and the %d filters", group, c, m)
	}
	if cg*int(group) != c {
		return fmt.Errorf("the weight %q has shape %v: %d channels per group, but the input has %d channels in %d groups", n.inName(1), w.dims, cg, c, group)
	}
	var bias *constant
	if n.in(2) != nil {
		if bias, err = n.floatConst(2, "the bias"); err != nil {
			return err
		}
		if len(bias.dims) != 1 || bias.dims[0] != m {
			return fmt.Errorf("the bias %q has shape %v; want [%d]", n.inName(2), bias.dims, m)
		}
	}
	ph, pw := h+extra[0]+extra[1], wd+extra[2]+extra[3] // the input as the node sees it
	own, err := n.pads2d([2]int{ph, pw}, k, s, d)
	if err != nil {
		return err
	}
	p := [4]int{own[0] + extra[0], own[1] + extra[1], own[2] + extra[2], own[3] + extra[3]}
	oh, ok1 := convOut(h, k[0], s[0], d[0], p[0]+p[1])
	ow, ok2 := convOut(wd, k[1], s[1], d[1], p[2]+p[3])
	if !ok1 || !ok2 {
		return fmt.Errorf("the kernel %dx%d (dilation %v) is larger than the padded input %dx%d", kh, kw, d, h+p[0]+p[1], wd+p[2]+p[3])
	}
	fields := []field{{"filters", m}, {"kernel", pairField(k)}}
	if s != [2]int{1, 1} {
		fields = append(fields, field{"stride", pairField(s)})
	}
	switch {
	case p[0] == p[1] && p[2] == p[3]:
		if p[0] != 0 || p[2] != 0 {
			fields = append(fields, field{"padding", pairField([2]int{p[0], p[2]})})
		}
	default:
		t, b := ir.SamePad(h, kh, s[0], d[0])
		l, r := ir.SamePad(wd, kw, s[1], d[1])
		if [4]int{t, b, l, r} != p {
			return fmt.Errorf("padding top %d, bottom %d, left %d, right %d is asymmetric; cnnc pads symmetrically, or as TensorFlow's \"same\" (%d, %d, %d, %d here)", p[0], p[1], p[2], p[3], t, b, l, r)
		}
		fields = append(fields, field{"padding", spec.PadSame})
	}
	if d != [2]int{1, 1} {
		fields = append(fields, field{"dilation", pairField(d)})
	}
	if group != 1 {
		fields = append(fields, field{"groups", int(group)})
	}
	if bias == nil {
		fields = append(fields, field{"bias", false})
	}
	l := n.newLayer("conv", []*act{a}, []int{m, oh, ow}, "", fields...)
	l.param("weight", slices.Clone(w.dims), w.f)
	if bias != nil {
		l.param("bias", []int{m}, bias.f)
	}
	n.out(0, &value{a: &act{l: l, dims: []int{m, oh, ow}}})
	return nil
}

// convOut is ONNX's (and cnnc's) convolution output size along one axis.
func convOut(in, k, s, d, pads int) (int, bool) {
	span := in + pads - (k-1)*d - 1
	if span < 0 {
		return 0, false
	}
	return span/s + 1, true
}

// poolOut is ONNX's pooling output size along one axis for explicit pads
// (head, tail). In ceil mode a window that would start in the tail padding
// is dropped, which onnxruntime and PyTorch do and ONNX's operator
// documentation states from opset 19.
func poolOut(in, k, s, head, tail int, ceil bool) (int, bool) {
	span := in + head + tail - k
	if span < 0 {
		return 0, false
	}
	if !ceil {
		return span/s + 1, true
	}
	out := (span+s-1)/s + 1
	if (out-1)*s >= in+head {
		out--
	}
	return out, true
}

func opPool(n *node) error {
	isMax := n.pb.GetOpType() == "MaxPool"
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	maxOuts := 1
	if isMax {
		maxOuts = 2
	}
	if err := n.outputs(maxOuts); err != nil {
		return err
	}
	a, extra, pd, err := n.padInput(0)
	if err != nil {
		return err
	}
	if pd != nil {
		if isMax && !math.IsInf(pd.value, -1) {
			return fmt.Errorf("the Pad %s before it pads with %v; cnnc's max pooling ignores padding (it pads with -inf), so only a Pad with value -inf folds into it", pd.node, pd.value)
		}
		if !isMax && pd.value != 0 {
			return fmt.Errorf("the Pad %s before it pads with %v; average pooling pads with zeros", pd.node, pd.value)
		}
	}
	k, given, err := n.pair2("kernel_shape", [2]int{})
	if err != nil {
		return err
	}
	if !given {
		return fmt.Errorf("attribute kernel_shape is missing")
	}
	s, _, err := n.pair2("strides", [2]int{1, 1})
	if err != nil {
		return err
	}
	if d, _, err := n.pair2("dilations", [2]int{1, 1}); err != nil {
		return err
	} else if d != [2]int{1, 1} {
		return fmt.Errorf("dilations %v: cnnc's pooling has no dilation", d)
	}
	ceilMode := n.attrInt("ceil_mode", 0)
	cip := n.attrInt("count_include_pad", 0)
	if n.err != nil {
		return n.err
	}
	if ceilMode != 0 && ceilMode != 1 {
		return fmt.Errorf("ceil_mode %d is not 0 or 1", ceilMode)
	}
	if cip != 0 && cip != 1 {
		return fmt.Errorf("count_include_pad %d is not 0 or 1", cip)
	}
	ceil := ceilMode == 1
	h, w := a.dims[1], a.dims[2]
	ph, pw := h+extra[0]+extra[1], w+extra[2]+extra[3] // the input as the node sees it
	own, err := n.pads2d([2]int{ph, pw}, k, s, [2]int{1, 1})
	if err != nil {
		return err
	}
	p := [4]int{own[0] + extra[0], own[1] + extra[1], own[2] + extra[2], own[3] + extra[3]}
	if p[0] != p[1] || p[2] != p[3] {
		return fmt.Errorf("padding top %d, bottom %d, left %d, right %d is asymmetric; cnnc's pooling pads symmetrically", p[0], p[1], p[2], p[3])
	}
	if 2*p[0] > k[0] || 2*p[2] > k[1] {
		return fmt.Errorf("padding %d, %d is more than half the kernel %dx%d, which cnnc (like PyTorch) does not allow", p[0], p[2], k[0], k[1])
	}
	hasExtra := extra != [4]int{}
	hasOwn := own != [4]int{}
	if !isMax && hasExtra && hasOwn && cip == 0 {
		return fmt.Errorf("the zeros of the Pad %s count in the average but the node's own padding does not (count_include_pad 0); cnnc cannot mix the two", pd.node)
	}
	countPad := cip == 1 || hasExtra
	// Output size as ONNX computes it, on the input as the node sees it.
	oh, ok1 := poolOut(ph, k[0], s[0], own[0], own[1], ceil)
	ow, ok2 := poolOut(pw, k[1], s[1], own[2], own[3], ceil)
	if !ok1 || !ok2 {
		return fmt.Errorf("the kernel %dx%d is larger than the padded input %dx%d", k[0], k[1], ph+own[0]+own[1], pw+own[2]+own[3])
	}
	// With a Pad folded in, cnnc computes the size on the unpadded input;
	// in ceil mode the two can differ by the last window.
	if ir.PoolOut(h, k[0], s[0], p[0], ceil) != oh || ir.PoolOut(w, k[1], s[1], p[2], ceil) != ow {
		return fmt.Errorf("with the Pad %s folded in, ceil mode would give %dx%d outputs instead of ONNX's %dx%d (a window that starts in the padding)",
			pd.node, ir.PoolOut(h, k[0], s[0], p[0], ceil), ir.PoolOut(w, k[1], s[1], p[2], ceil), oh, ow)
	}
	op := "avgpool"
	if isMax {
		op = "maxpool"
	}
	fields := []field{{"kernel", pairField(k)}}
	if s != k {
		fields = append(fields, field{"stride", pairField(s)})
	}
	if p[0] != 0 || p[2] != 0 {
		fields = append(fields, field{"padding", pairField([2]int{p[0], p[2]})})
	}
	if ceil {
		fields = append(fields, field{"ceil", true})
	}
	if !isMax && !countPad && (p[0] != 0 || p[2] != 0) {
		fields = append(fields, field{"count_pad", false})
	}
	c := a.dims[0]
	l := n.newLayer(op, []*act{a}, []int{c, oh, ow}, "", fields...)
	n.out(0, &value{a: &act{l: l, dims: []int{c, oh, ow}}})
	return nil
}

func opGlobalAvgPool(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, err := n.spatial(0)
	if err != nil {
		return err
	}
	c := a.dims[0]
	l := n.newLayer("global_avgpool", []*act{a}, []int{c, 1, 1}, "")
	n.out(0, &value{a: &act{l: l, dims: []int{c, 1, 1}}})
	return nil
}

// opReduceMean: a mean over H and W is global average pooling; without
// keepdims the result is [N, C], which a flatten layer gives.
func opReduceMean(n *node) error {
	if err := n.inputs(1, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, err := n.spatial(0)
	if err != nil {
		return err
	}
	axes, _ := n.attrInts("axes")
	keep := n.attrInt("keepdims", 1)
	noop := n.attrInt("noop_with_empty_axes", 0)
	if n.err != nil {
		return n.err
	}
	if n.in(1) != nil {
		if axes, err = n.intList(1, "axes"); err != nil {
			return err
		}
	}
	var norm []int
	for _, ax := range axes {
		k, ok := normAxis(ax, 4)
		if !ok {
			return fmt.Errorf("axis %d is out of range for [N, C, H, W]", ax)
		}
		if !slices.Contains(norm, k) {
			norm = append(norm, k)
		}
	}
	slices.Sort(norm)
	if len(axes) == 0 && noop != 0 {
		return fmt.Errorf("ReduceMean with no axes and noop_with_empty_axes is the identity; remove it from the model")
	}
	if !slices.Equal(norm, []int{2, 3}) {
		return fmt.Errorf("mean over axes %v; cnnc supports the mean over H and W (axes 2 and 3: global average pooling)", axes)
	}
	c := a.dims[0]
	l := n.newLayer("global_avgpool", []*act{a}, []int{c, 1, 1}, "")
	out := &act{l: l, dims: []int{c, 1, 1}}
	if keep == 0 {
		fl := n.newLayer("flatten", []*act{out}, []int{c}, "_flatten")
		out = &act{l: fl, dims: []int{c}}
	}
	n.out(0, &value{a: out})
	return nil
}

// ---------------------------------------------------------------- dense layers

func opGemm(n *node) error {
	if err := n.inputs(2, 3); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	alpha := n.attrFloat("alpha", 1)
	beta := n.attrFloat("beta", 1)
	transA := n.attrInt("transA", 0)
	transB := n.attrInt("transB", 0)
	if n.err != nil {
		return n.err
	}
	if transA != 0 {
		return fmt.Errorf("transA is %d: the input would be transposed across the batch", transA)
	}
	if !finite(alpha) || !finite(beta) {
		return fmt.Errorf("alpha and beta must be finite")
	}
	a, err := n.flat(0)
	if err != nil {
		return err
	}
	b, err := n.floatConst(1, "B (the weight)")
	if err != nil {
		return err
	}
	k := a.dims[0]
	if len(b.dims) != 2 {
		return fmt.Errorf("B %q has shape %v; want a matrix", n.inName(1), b.dims)
	}
	var units int
	var w []float32
	if transB != 0 {
		if b.dims[1] != k {
			return fmt.Errorf("B %q has shape %v (transposed); the input has %d features", n.inName(1), b.dims, k)
		}
		units, w = b.dims[0], slices.Clone(b.f)
	} else {
		if b.dims[0] != k {
			return fmt.Errorf("B %q has shape %v; the input has %d features", n.inName(1), b.dims, k)
		}
		units, w = b.dims[1], transpose(b.f, k, b.dims[1])
	}
	if units < 1 || units > maxAttr {
		return fmt.Errorf("%d units is out of range", units)
	}
	if alpha != 1 {
		for i := range w {
			w[i] *= alpha
		}
	}
	var bias []float32
	if n.in(2) != nil {
		c, err := n.floatConst(2, "C (the bias)")
		if err != nil {
			return err
		}
		if bias = broadcastBias(c, units); bias == nil {
			return fmt.Errorf("C %q has shape %v; cnnc supports a bias of shape [%d], [1, %d] or a scalar", n.inName(2), c.dims, units, units)
		}
		if beta != 1 {
			for i := range bias {
				bias[i] *= beta
			}
		}
	}
	return n.dense(a, units, w, bias)
}

// opMatMul: a matrix product of [N, K] with a constant [K, units] is a
// dense layer without bias (an Add of a constant after it becomes the
// bias); of a channels-last view [N, H, W, C] with a constant [C, D] (a
// Linear over the channels, as in ConvNeXt) it is a 1×1 convolution, whose
// output is again channels-last.
func opMatMul(n *node) error {
	if err := n.inputs(2, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	if v := n.in(0); v != nil && v.a != nil && v.a.nhwc {
		return matMulChannels(n)
	}
	a, err := n.flat(0)
	if err != nil {
		return err
	}
	b, err := n.floatConst(1, "the second operand")
	if err != nil {
		return err
	}
	k := a.dims[0]
	if len(b.dims) != 2 || b.dims[0] != k {
		return fmt.Errorf("the second operand %q has shape %v; want [%d, units]", n.inName(1), b.dims, k)
	}
	units := b.dims[1]
	if units < 1 || units > maxAttr {
		return fmt.Errorf("%d units is out of range", units)
	}
	return n.dense(a, units, transpose(b.f, k, units), nil)
}

func matMulChannels(n *node) error {
	a, err := n.chanAct(0)
	if err != nil {
		return err
	}
	b, err := n.floatConst(1, "the second operand")
	if err != nil {
		return err
	}
	c := a.shape(n.im)[0]
	if len(b.dims) != 2 || b.dims[0] != c {
		return fmt.Errorf("the second operand %q has shape %v; on a channels-last view %s cnnc import takes a constant [%d, D] (a Linear over the channels, a 1×1 convolution)", n.inName(1), b.dims, batchDims(a.dims), c)
	}
	d := b.dims[1]
	if d < 1 || d > maxAttr {
		return fmt.Errorf("%d output channels is out of range", d)
	}
	shape := []int{d, a.dims[0], a.dims[1]}
	l := n.newLayer("conv", []*act{a}, shape, "", field{"filters", d}, field{"kernel", 1}, field{"bias", false})
	l.param("weight", []int{d, c, 1, 1}, transpose(b.f, c, d))
	n.out(0, &value{a: &act{l: l, dims: layoutDims(shape, true), nhwc: true, via: a.via}})
	return nil
}

func (n *node) dense(a *act, units int, w, bias []float32) error {
	var fields []field
	fields = append(fields, field{"units", units})
	if bias == nil {
		fields = append(fields, field{"bias", false})
	}
	l := n.newLayer("dense", []*act{a}, []int{units}, "", fields...)
	l.param("weight", []int{units, a.dims[0]}, w)
	if bias != nil {
		l.param("bias", []int{units}, bias)
	}
	n.out(0, &value{a: &act{l: l, dims: []int{units}}})
	return nil
}

// transpose returns the [cols, rows] transpose of a row-major [rows, cols]
// matrix.
func transpose(m []float32, rows, cols int) []float32 {
	t := make([]float32, len(m))
	for r := range rows {
		for c := range cols {
			t[c*rows+r] = m[r*cols+c]
		}
	}
	return t
}

// broadcastBias returns c as a bias of n values, if its shape broadcasts to
// one value per unit: [n], [1, n], or a single value.
func broadcastBias(c *constant, n int) []float32 {
	if c.isInt {
		return nil
	}
	switch {
	case len(c.f) == 1 && len(c.dims) <= 2:
		b := make([]float32, n)
		for i := range b {
			b[i] = c.f[0]
		}
		return b
	case slices.Equal(c.dims, []int{n}) || slices.Equal(c.dims, []int{1, n}):
		return slices.Clone(c.f)
	}
	return nil
}

// ---------------------------------------------------------------- joins

func opConcat(n *node) error {
	if n.nin() < 1 {
		return fmt.Errorf("no inputs")
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	axis := n.attrInt("axis", 1) // the default before opset 4
	if n.err != nil {
		return n.err
	}
	if _, given := n.attrs["axis"]; !given && n.im.opset >= 4 {
		return fmt.Errorf("attribute axis is missing")
	}
	nconst := 0
	for i := range n.nin() {
		v := n.in(i)
		if v == nil {
			return fmt.Errorf("input %d is missing", i)
		}
		if v.c != nil {
			nconst++
		}
	}
	if nconst == n.nin() {
		return concatConst(n, axis)
	}
	if nconst > 0 {
		return fmt.Errorf("concatenates constants with activations; cnnc concatenates activations only")
	}
	var ins []*act
	for i := range n.nin() {
		a, err := n.materialized(i)
		if err != nil {
			return err
		}
		ins = append(ins, a)
	}
	r := len(ins[0].dims) + 1
	ax, ok := normAxis(axis, r)
	if !ok || ax != 1 {
		return fmt.Errorf("concatenation along axis %d of %s; cnnc concatenates along the channels (axis 1)", axis, batchDims(ins[0].dims))
	}
	shape := slices.Clone(ins[0].dims)
	for _, a := range ins[1:] {
		if len(a.dims) != len(shape) || !slices.Equal(a.dims[1:], shape[1:]) {
			return fmt.Errorf("cannot concatenate %s and %s along the channels", batchDims(ins[0].dims), batchDims(a.dims))
		}
		shape[0] += a.dims[0]
	}
	if shape[0] > maxElems {
		return fmt.Errorf("too many channels")
	}
	if len(ins) == 1 {
		n.out(0, &value{a: ins[0]})
		return nil
	}
	l := n.newLayer("concat", ins, shape, "")
	n.out(0, &value{a: &act{l: l, dims: shape}})
	return nil
}

// ---------------------------------------------------------------- reshapes

func opFlatten(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	a, err := n.act(0)
	if err != nil {
		return err
	}
	axis := n.attrInt("axis", 1)
	if n.err != nil {
		return n.err
	}
	r := int64(len(a.dims) + 1)
	if axis < 0 {
		axis += r
	}
	if axis != 1 {
		return fmt.Errorf("axis %d: cnnc flattens each image (axis 1); other axes merge the batch with other dimensions", n.attrInt("axis", 1))
	}
	n.out(0, &value{a: n.view(a, []int{prod(a.dims)})})
	return nil
}

// opReshape accepts reshapes that keep the batch dimension first: a
// flatten to [N, -1] (however the shape was computed: a constant, or
// Shape, Gather, Unsqueeze and Concat) and other regroupings of an image's
// elements that end in a shape cnnc has.
func opReshape(n *node) error {
	if err := n.inputs(1, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	allowzero := n.attrInt("allowzero", 0)
	attrShape, hasAttr := n.attrInts("shape")
	if n.err != nil {
		return n.err
	}
	var t []int64
	var marks []bool
	switch {
	case n.in(1) != nil:
		c, err := n.konst(1, "the shape")
		if err != nil {
			return err
		}
		if !c.isInt || len(c.dims) != 1 {
			return fmt.Errorf("the shape %q must be a 1-D integer tensor", n.inName(1))
		}
		t, marks = c.i, c.batch
	case hasAttr:
		t, marks = attrShape, make([]bool, len(attrShape))
	default:
		return fmt.Errorf("no target shape")
	}
	if v := n.in(0); v.c != nil {
		return reshapeConst(n, v.c, t, marks, allowzero != 0)
	}
	a, err := n.act(0)
	if err != nil {
		return err
	}
	per := prod(a.dims)
	dims, err := reshapeDims(t, marks, a.dims, allowzero != 0, n.im.batch)
	if err != nil {
		return fmt.Errorf("reshape of %s to %v: %v", batchDims(a.dims), showShape(t, marks), err)
	}
	if prod(dims) != per {
		return fmt.Errorf("reshape of %s to %v changes the number of elements per image", batchDims(a.dims), showShape(t, marks))
	}
	n.out(0, &value{a: n.view(a, dims)})
	return nil
}

func showShape(t []int64, marks []bool) string {
	s := "["
	for i, v := range t {
		if i > 0 {
			s += ", "
		}
		if marks[i] {
			s += "N"
		} else {
			s += fmt.Sprint(v)
		}
	}
	return s + "]"
}

// reshapeDims resolves an ONNX Reshape target t (marks[i]: element i is the
// batch size, from Shape) for an input of per-image dims in, returning the
// per-image output dims. The first target dimension must be the batch: a
// mark, 0 (copy, unless allowzero), the model's fixed batch size, or -1
// when the rest accounts for a whole image.
func reshapeDims(t []int64, marks []bool, in []int, allowzero bool, batch int64) ([]int, error) {
	if len(t) < 1 || len(t) > maxRank {
		return nil, fmt.Errorf("target rank %d is out of range", len(t))
	}
	full := append([]int{-1}, in...) // -1: the batch
	per := prod(in)
	out := make([]int, len(t)-1)
	neg := -1
	for i, v := range t {
		if i == 0 {
			continue
		}
		switch {
		case marks[i]:
			return nil, fmt.Errorf("the batch size reappears in dimension %d", i)
		case v == 0 && !allowzero:
			if i >= len(full) {
				return nil, fmt.Errorf("dimension %d copies an input dimension that does not exist", i)
			}
			out[i-1] = full[i]
		case v == -1:
			if neg >= 0 {
				return nil, fmt.Errorf("two dimensions are -1")
			}
			neg = i - 1
		case v < 1 || v > maxElems:
			return nil, fmt.Errorf("dimension %d is %d", i, v)
		default:
			out[i-1] = int(v)
		}
	}
	known := 1
	for i, d := range out {
		if i != neg {
			known *= d
			if known > maxElems {
				return nil, fmt.Errorf("too many elements")
			}
		}
	}
	switch {
	case marks[0] || (t[0] == 0 && !allowzero) || (batch > 0 && t[0] == batch):
	case t[0] == -1 && neg < 0:
		if known != per {
			return nil, fmt.Errorf("the first dimension is -1 and the others hold %d elements, not an image's %d: the batch would change", known, per)
		}
	default:
		return nil, fmt.Errorf("the first dimension is not the batch size")
	}
	if neg >= 0 {
		if known == 0 || per%known != 0 {
			return nil, fmt.Errorf("-1 cannot be resolved: %d elements per image are not a multiple of %d", per, known)
		}
		out[neg] = per / known
	}
	return out, nil
}

// axesArg reads the axes of Squeeze and Unsqueeze: an attribute before
// opset 13, an input after.
func (n *node) axesArg() ([]int64, bool, error) {
	axes, given := n.attrInts("axes")
	if n.err != nil {
		return nil, false, n.err
	}
	if n.in(1) != nil {
		v, err := n.intList(1, "axes")
		return v, true, err
	}
	return axes, given, nil
}

func opUnsqueeze(n *node) error {
	if err := n.inputs(1, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	axes, given, err := n.axesArg()
	if err != nil {
		return err
	}
	if !given {
		return fmt.Errorf("no axes")
	}
	v := n.in(0)
	var dims []int
	if v.c != nil {
		dims = v.c.dims
	} else if a, err := n.act(0); err != nil {
		return err
	} else {
		dims = append([]int{-1}, a.dims...)
	}
	r := len(dims) + len(axes)
	if r > maxRank {
		return fmt.Errorf("rank %d is more than %d", r, maxRank)
	}
	ins := make([]bool, r)
	for _, ax := range axes {
		k, ok := normAxis(ax, r)
		if !ok || ins[k] {
			return fmt.Errorf("axes %v are out of range or repeated", axes)
		}
		ins[k] = true
	}
	out := make([]int, 0, r)
	j := 0
	for k := range r {
		if ins[k] {
			out = append(out, 1)
		} else {
			out = append(out, dims[j])
			j++
		}
	}
	if v.c != nil {
		c := *v.c
		c.dims = out
		n.out(0, &value{c: &c})
		return nil
	}
	if out[0] != -1 {
		return fmt.Errorf("axes %v would insert a dimension before the batch", axes)
	}
	n.out(0, &value{a: n.view(v.a, out[1:])})
	return nil
}

func opSqueeze(n *node) error {
	if err := n.inputs(1, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	axes, given, err := n.axesArg()
	if err != nil {
		return err
	}
	v := n.in(0)
	var dims []int
	if v.c != nil {
		dims = v.c.dims
	} else if a, err := n.act(0); err != nil {
		return err
	} else {
		dims = append([]int{-1}, a.dims...)
		if !given {
			return fmt.Errorf("no axes: squeezing every dimension of size 1 could squeeze the batch")
		}
	}
	drop := make([]bool, len(dims))
	if !given {
		for k, d := range dims {
			drop[k] = d == 1
		}
	}
	for _, ax := range axes {
		k, ok := normAxis(ax, len(dims))
		if !ok {
			return fmt.Errorf("axis %d is out of range", ax)
		}
		if k == 0 && v.c == nil {
			return fmt.Errorf("axis %d is the batch", ax)
		}
		if dims[k] != 1 {
			return fmt.Errorf("axis %d has size %d, not 1", ax, dims[k])
		}
		drop[k] = true
	}
	var out []int
	for k, d := range dims {
		if !drop[k] {
			out = append(out, d)
		}
	}
	if v.c != nil {
		c := *v.c
		c.dims = out
		n.out(0, &value{c: &c})
		return nil
	}
	n.out(0, &value{a: n.view(v.a, out[1:])})
	return nil
}

// opPad records the padding; the Conv or pooling that reads the result
// folds it in (cnnc has no padding layer).
func opPad(n *node) error {
	if err := n.inputs(1, 4); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	mode := n.attrString("mode", "constant")
	padsAttr, hasPads := n.attrInts("pads")
	padValue := float64(n.attrFloat("value", 0))
	if n.err != nil {
		return n.err
	}
	if mode != "constant" {
		return fmt.Errorf("mode %q: cnnc folds only constant padding into the next layer", mode)
	}
	pads := padsAttr
	if n.in(1) != nil {
		var err error
		if pads, err = n.intList(1, "pads"); err != nil {
			return err
		}
	} else if !hasPads {
		return fmt.Errorf("no pads")
	}
	if n.in(2) != nil {
		c, err := n.konst(2, "the constant value")
		if err != nil {
			return err
		}
		v, ok := c.scalarFloat()
		if !ok {
			return fmt.Errorf("the constant value %q is not a scalar", n.inName(2))
		}
		padValue = v
	}
	axes := []int64{0, 1, 2, 3}
	if n.in(3) != nil {
		var err error
		if axes, err = n.intList(3, "axes"); err != nil {
			return err
		}
	}
	if len(pads) != 2*len(axes) {
		return fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	src := n.in(0)
	var a *act
	var p [4]int
	if src.pad != nil {
		if src.pad.value != padValue {
			return fmt.Errorf("pads with %v after a Pad with %v", padValue, src.pad.value)
		}
		a, p = src.pad.src, src.pad.pads
	} else {
		var err error
		if a, err = n.spatial(0); err != nil {
			return err
		}
	}
	for i, ax := range axes {
		k, ok := normAxis(ax, 4)
		if !ok {
			return fmt.Errorf("axis %d is out of range", ax)
		}
		begin, end := pads[i], pads[i+len(axes)]
		if begin == 0 && end == 0 {
			continue
		}
		if k < 2 {
			return fmt.Errorf("pads %v pad the batch or channel dimension; cnnc pads only H and W", pads)
		}
		if begin < 0 || end < 0 || begin > maxAttr || end > maxAttr {
			return fmt.Errorf("pads %v: padding must be in [0, %d] (negative padding crops)", pads, maxAttr)
		}
		p[2*(k-2)] += int(begin)
		p[2*(k-2)+1] += int(end)
	}
	n.out(0, &value{pad: &padded{src: a, pads: p, value: padValue, node: describe(n.pb)}})
	return nil
}

func opIdentity(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	n.out(0, n.in(0))
	return nil
}
