package onnx

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// mapCase is a handcrafted model and what its import must give: lines the
// spec must contain, or substrings the error must contain.
type mapCase struct {
	name  string
	model *graphBuilder
	spec  []string // substrings of the imported spec
	err   []string // substrings of the error; empty: the import must succeed
}

// spaces are the runs of spaces that align the spec's comments; the
// comparison of spec text ignores how many there are.
var spaces = regexp.MustCompile(` {2,}`)

func runMapCases(t *testing.T, cases []mapCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Import(c.model.bytes(t), Options{Source: c.name + ".onnx"})
			if len(c.err) > 0 {
				if err == nil {
					t.Fatalf("import succeeded, want an error with %q; spec:\n%s", c.err, res.Spec)
				}
				var ie *Error
				if !errors.As(err, &ie) {
					t.Errorf("error is %T, want *Error", err)
				}
				for _, want := range c.err {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			text := spaces.ReplaceAllString(string(res.Spec), " ")
			for _, want := range c.spec {
				if !strings.Contains(text, spaces.ReplaceAllString(want, " ")) {
					t.Errorf("spec lacks %q:\n%s", want, res.Spec)
				}
			}
		})
	}
}

// conv1 is x [N, 3, h, w] through one Conv (weights [4, 3, k, k]) with the
// given attributes.
func conv1(h, w, k int64, attrs ...any) *graphBuilder {
	b := newGraph(14, 3, h, w).weight("W", 4, 3, k, k)
	return b.node("Conv", "c", []string{"x", "W"}, []string{"y"}, attrList(attrs)...).output("y")
}

// pool1 is x [N, 3, h, w] through one pooling node.
func pool1(op string, h, w int64, attrs ...any) *graphBuilder {
	return newGraph(14, 3, h, w).node(op, "p", []string{"x"}, []string{"y"}, attrList(attrs)...).output("y")
}

func attrList(attrs []any) []*pbAttr {
	var out []*pbAttr
	for _, a := range attrs {
		out = append(out, a.(*pbAttr))
	}
	return out
}

func TestConvPadding(t *testing.T) {
	runMapCases(t, []mapCase{
		{"explicit", conv1(8, 8, 3, aInts("pads", 1, 2, 1, 2)),
			[]string{"{name: c, op: conv, filters: 4, kernel: 3, padding: [1, 2], bias: false}"}, nil},
		{"same_upper_asymmetric", conv1(8, 8, 3, aStr("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2)),
			[]string{"stride: 2, padding: same"}, nil},
		{"same_upper_symmetric", conv1(8, 8, 3, aStr("auto_pad", "SAME_UPPER")),
			[]string{"kernel: 3, padding: 1, bias: false"}, nil},
		{"same_lower_symmetric", conv1(9, 9, 3, aStr("auto_pad", "SAME_LOWER"), aInts("strides", 2, 2)),
			[]string{"stride: 2, padding: 1"}, nil},
		{"same_lower_asymmetric", conv1(8, 8, 3, aStr("auto_pad", "SAME_LOWER"), aInts("strides", 2, 2)),
			nil, []string{"Conv ×1:", `"c": padding top 1, bottom 0, left 1, right 0 is asymmetric`}},
		{"valid", conv1(8, 8, 3, aStr("auto_pad", "VALID")), []string{"kernel: 3, bias: false}"}, nil},
		{"asymmetric_explicit", conv1(8, 8, 3, aInts("pads", 0, 0, 2, 2)),
			nil, []string{"padding top 0, bottom 2, left 0, right 2 is asymmetric"}},
		{"same_explicit", conv1(8, 8, 3, aInts("pads", 0, 0, 1, 1), aInts("strides", 2, 2)),
			[]string{"padding: same"}, nil},
		{"bad_auto_pad", conv1(8, 8, 3, aStr("auto_pad", "SAME")), nil, []string{`auto_pad "SAME" is not one of`}},
		{"dilation_group", newGraph(14, 4, 9, 9).weight("W", 6, 2, 3, 3).weight("B", 6).
			node("Conv", "c", []string{"x", "W", "B"}, []string{"y"}, aInts("dilations", 2, 1), aInt("group", 2)).output("y"),
			[]string{"{name: c, op: conv, filters: 6, kernel: 3, dilation: [2, 1], groups: 2}"}, nil},
		{"bad_group", newGraph(14, 4, 9, 9).weight("W", 6, 4, 3, 3).
			node("Conv", "c", []string{"x", "W"}, []string{"y"}, aInt("group", 2)).output("y"),
			nil, []string{"4 channels per group, but the input has 4 channels in 2 groups"}},
		{"conv3d", newGraph(14, 3, 8, 8).weight("W", 4, 3, 3).node("Conv", "c", []string{"x", "W"}, []string{"y"}).output("y"),
			nil, []string{"cnnc supports 2-D convolutions"}},
		{"kernel_too_big", conv1(4, 4, 7), nil, []string{"larger than the padded input"}},
		{"unknown_attr", conv1(8, 8, 3, aInt("frobnicate", 1)), nil, []string{"attribute(s) frobnicate are not supported for Conv"}},
	})
}

func TestPooling(t *testing.T) {
	runMapCases(t, []mapCase{
		{"max_ceil", pool1("MaxPool", 8, 8, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInt("ceil_mode", 1)),
			[]string{"{name: p, op: maxpool, kernel: 3, stride: 2, ceil: true}"}, nil},
		{"max_stride1", pool1("MaxPool", 8, 8, aInts("kernel_shape", 3, 2), aInts("pads", 1, 1, 1, 1)),
			[]string{"{name: p, op: maxpool, kernel: [3, 2], stride: 1, padding: 1}"}, nil},
		{"avg_count_pad", pool1("AveragePool", 8, 8, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1), aInt("count_include_pad", 1)),
			[]string{"{name: p, op: avgpool, kernel: 3, stride: 2, padding: 1}"}, nil},
		{"avg_no_count_pad", pool1("AveragePool", 8, 8, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)),
			[]string{"{name: p, op: avgpool, kernel: 3, stride: 2, padding: 1, count_pad: false}"}, nil},
		{"avg_same_upper_symmetric", pool1("AveragePool", 9, 9, aInts("kernel_shape", 3, 3), aStr("auto_pad", "SAME_UPPER")),
			[]string{"{name: p, op: avgpool, kernel: 3, stride: 1, padding: 1, count_pad: false}"}, nil},
		{"max_same_upper_asymmetric", pool1("MaxPool", 8, 8, aInts("kernel_shape", 2, 2), aStr("auto_pad", "SAME_UPPER")),
			nil, []string{"padding top 0, bottom 1, left 0, right 1 is asymmetric; cnnc's pooling pads symmetrically"}},
		{"max_valid", pool1("MaxPool", 8, 8, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aStr("auto_pad", "VALID")),
			[]string{"{name: p, op: maxpool, kernel: 2}"}, nil},
		{"dilated", pool1("MaxPool", 8, 8, aInts("kernel_shape", 2, 2), aInts("dilations", 2, 2)),
			nil, []string{"cnnc's pooling has no dilation"}},
		{"pad_over_half", pool1("MaxPool", 8, 8, aInts("kernel_shape", 3, 3), aInts("pads", 2, 2, 2, 2)),
			nil, []string{"more than half the kernel"}},
		{"no_kernel", pool1("MaxPool", 8, 8), nil, []string{"kernel_shape is missing"}},
		{"bad_ceil", pool1("MaxPool", 8, 8, aInts("kernel_shape", 2, 2), aInt("ceil_mode", 2)), nil, []string{"ceil_mode 2"}},
		{"indices_used", newGraph(14, 3, 8, 8).node("MaxPool", "p", []string{"x"}, []string{"y", "idx"}, aInts("kernel_shape", 2, 2)).
			node("Relu", "r", []string{"idx"}, []string{"z"}).node("Add", "a", []string{"y", "z"}, []string{"out"}).output("out"),
			nil, []string{`output "idx" is used`}},
		{"global_and_reducemean", newGraph(13, 3, 8, 8).node("GlobalAveragePool", "g", []string{"x"}, []string{"a"}).
			node("ReduceMean", "m", []string{"x"}, []string{"b"}, aInts("axes", -1, -2)).node("Add", "s", []string{"a", "b"}, []string{"y"}).output("y"),
			[]string{"{name: g, op: global_avgpool}", "{name: m, op: global_avgpool, input: input}", "{name: s, op: add, inputs: [g, m]}"}, nil},
		{"reducemean_over_c", newGraph(13, 3, 8, 8).node("ReduceMean", "m", []string{"x"}, []string{"y"}, aInts("axes", 1)).output("y"),
			nil, []string{"mean over axes [1]"}},
	})
}

// TestPadFolding: a Pad before a convolution or pooling folds into it when
// the result means the same, and is refused otherwise.
func TestPadFolding(t *testing.T) {
	pad := func(h, w int64, pads []int64, mode string, value *float32, next string, attrs ...any) *graphBuilder {
		b := newGraph(14, 3, h, w).ints("pads", []int64{8}, pads...)
		ins := []string{"x", "pads"}
		if value != nil {
			b.g.Initializer = append(b.g.Initializer, scalarFloat("v", *value))
			ins = append(ins, "v")
		}
		var pa []any
		if mode != "" {
			pa = append(pa, aStr("mode", mode))
		}
		b.node("Pad", "pad", ins, []string{"p"}, attrList(pa)...)
		if next == "Conv" {
			b.weight("W", 4, 3, 3, 3)
			return b.node("Conv", "c", []string{"p", "W"}, []string{"y"}, attrList(attrs)...).output("y")
		}
		return b.node(next, "q", []string{"p"}, []string{"y"}, attrList(attrs)...).output("y")
	}
	neg := float32(-1e30)
	ninf := float32(negInf())
	runMapCases(t, []mapCase{
		{"conv", pad(8, 8, []int64{0, 0, 1, 2, 0, 0, 1, 2}, "", nil, "Conv", aInts("pads", 1, 0, 1, 0)), // H: 1+1 each side, W: 2
			[]string{"{name: c, op: conv, filters: 4, kernel: 3, padding: 2, bias: false}"}, nil},
		{"conv_same", pad(8, 8, []int64{0, 0, 0, 0, 0, 0, 1, 1}, "", nil, "Conv", aInts("strides", 2, 2)),
			[]string{"stride: 2, padding: same"}, nil},
		{"avg", pad(9, 9, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "constant", nil, "AveragePool", aInts("kernel_shape", 3, 3), aInts("strides", 2, 2)),
			[]string{"{name: q, op: avgpool, kernel: 3, stride: 2, padding: 1}"}, nil},
		{"avg_ceil_same_size", pad(8, 8, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "", nil, "AveragePool", aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInt("ceil_mode", 1)),
			[]string{"padding: 1, ceil: true}"}, nil},
		{"avg_ceil_extra_window", pad(5, 5, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "", nil, "AveragePool", aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aInt("ceil_mode", 1)),
			nil, []string{"ceil mode would give 3x3 outputs instead of ONNX's 4x4"}},
		{"avg_mixed_count", pad(9, 9, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "", nil, "AveragePool", aInts("kernel_shape", 5, 5), aInts("pads", 1, 1, 1, 1)),
			nil, []string{"cnnc cannot mix the two"}},
		{"max_zero", pad(8, 8, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "", nil, "MaxPool", aInts("kernel_shape", 3, 3)),
			nil, []string{"only a Pad with value -inf folds into it"}},
		{"max_large_negative", pad(8, 8, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "", &neg, "MaxPool", aInts("kernel_shape", 3, 3)),
			nil, []string{"only a Pad with value -inf"}},
		{"max_minus_inf", pad(8, 8, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "", &ninf, "MaxPool", aInts("kernel_shape", 3, 3)),
			[]string{"{name: q, op: maxpool, kernel: 3, stride: 1, padding: 1}"}, nil},
		{"reflect", pad(8, 8, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "reflect", nil, "Conv"),
			nil, []string{`mode "reflect"`}},
		{"channels", pad(8, 8, []int64{0, 1, 0, 0, 0, 0, 0, 0}, "", nil, "Conv"),
			nil, []string{"pad the batch or channel dimension"}},
		{"crop", pad(8, 8, []int64{0, 0, -1, 0, 0, 0, 0, 0}, "", nil, "Conv"),
			nil, []string{"negative padding crops"}},
		{"asymmetric_pool", pad(8, 8, []int64{0, 0, 1, 0, 0, 0, 0, 0}, "", nil, "AveragePool", aInts("kernel_shape", 3, 3)),
			nil, []string{"asymmetric"}},
		{"before_relu", pad(8, 8, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "", nil, "Relu"),
			nil, []string{"cnnc folds only into a following Conv, MaxPool or AveragePool"}},
	})
}

func TestAttributes(t *testing.T) {
	lrn := func(size int64) *graphBuilder {
		return newGraph(14, 8, 4, 4).node("LRN", "n", []string{"x"}, []string{"y"},
			aInt("size", size), aFloat("alpha", 1e-4), aFloat("beta", 0.75), aFloat("bias", 2)).output("y")
	}
	softmax := func(opset, axis int64, h, w int64) *graphBuilder {
		return newGraph(opset, 3, h, w).node("Softmax", "s", []string{"x"}, []string{"y"}, aInt("axis", axis)).output("y")
	}
	dense := func(attrs ...any) *graphBuilder {
		return newGraph(14, 3, 2, 2).weight("B", 5, 12).weight("C", 5).
			node("Flatten", "f", []string{"x"}, []string{"a"}).
			node("Gemm", "g", []string{"a", "B", "C"}, []string{"y"}, attrList(attrs)...).output("y")
	}
	runMapCases(t, []mapCase{
		{"lrn_odd", lrn(5), []string{"{name: n, op: lrn, size: 5, alpha: 0.0001, beta: 0.75, k: 2}"}, nil},
		{"lrn_even", lrn(4), nil, []string{"size 4 is even: ONNX's LRN window is channels c-1..c+2, cnnc's (and PyTorch's) c-2..c+1"}},
		{"softmax_channels_13", softmax(13, 1, 3, 3), []string{"{name: s, op: softmax}"}, nil},
		{"softmax_last_13", softmax(13, -1, 3, 3), nil, []string{"softmax over axis -1 of a tensor [N, 3, 3, 3]"}},
		{"softmax_last_13_w1", softmax(13, -1, 3, 1), nil, []string{"softmax over axis -1"}},
		{"softmax_coerced_11", softmax(11, 1, 3, 3), nil, []string{"axes 1 and after (opset 11 flattens them)"}},
		{"softmax_coerced_11_1x1", softmax(11, 1, 1, 1), []string{"op: softmax"}, nil},
		{"softmax_batch", softmax(13, 0, 1, 1), nil, []string{"softmax over axis 0"}},
		{"gemm_transB", dense(aInt("transB", 1)), []string{"{name: g, op: dense, units: 5}"}, nil},
		{"gemm_alpha_beta", newGraph(14, 3, 2, 2).weight("B", 12, 5).weight("C", 1, 5).
			node("Flatten", "f", []string{"x"}, []string{"a"}).
			node("Gemm", "g", []string{"a", "B", "C"}, []string{"y"}, aFloat("alpha", 2), aFloat("beta", 0.5)).output("y"),
			[]string{"{name: g, op: dense, units: 5}"}, nil},
		{"gemm_transA", dense(aInt("transA", 1), aInt("transB", 1)), nil, []string{"transA is 1"}},
		{"gemm_wrong_B", dense(), nil, []string{"B \"B\" has shape [5 12]; the input has 12 features"}},
		{"gemm_bias_matrix", newGraph(14, 3, 2, 2).weight("B", 5, 12).weight("C", 2, 5).
			node("Flatten", "f", []string{"x"}, []string{"a"}).
			node("Gemm", "g", []string{"a", "B", "C"}, []string{"y"}, aInt("transB", 1)).output("y"),
			nil, []string{"C \"C\" has shape [2 5]"}},
		{"gemm_on_image", newGraph(14, 3, 2, 2).weight("B", 5, 12).
			node("Gemm", "g", []string{"x", "B"}, []string{"y"}, aInt("transB", 1)).output("y"),
			nil, []string{"needs a matrix [N, F] (flatten it first)"}},
		{"flatten_axis0", newGraph(14, 3, 2, 2).node("Flatten", "f", []string{"x"}, []string{"y"}, aInt("axis", 0)).output("y"),
			nil, []string{"axis 0: cnnc flattens each image"}},
		{"flatten_axis2", newGraph(14, 3, 2, 2).node("Flatten", "f", []string{"x"}, []string{"y"}, aInt("axis", 2)).output("y"),
			nil, []string{"axis 2"}},
		{"concat_axis2", newGraph(14, 3, 2, 2).node("Relu", "r", []string{"x"}, []string{"a"}).
			node("Concat", "c", []string{"x", "a"}, []string{"y"}, aInt("axis", 2)).output("y"),
			nil, []string{"concatenation along axis 2"}},
		{"concat", newGraph(14, 3, 2, 2).node("Relu", "r", []string{"x"}, []string{"a"}).
			node("Concat", "c", []string{"x", "a"}, []string{"y"}, aInt("axis", -3)).output("y"),
			[]string{"{name: c, op: concat, inputs: [input, r]}"}, nil},
		{"add_broadcast", newGraph(14, 3, 2, 2).node("GlobalAveragePool", "g", []string{"x"}, []string{"a"}).
			node("Add", "s", []string{"x", "a"}, []string{"y"}).output("y"),
			[]string{"{name: s, op: add, inputs: [input, g]}"}, nil},
		{"add_constant", newGraph(14, 3, 2, 2).weight("k", 3, 1, 1).node("Add", "s", []string{"x", "k"}, []string{"y"}).output("y"),
			nil, []string{`"s": Add of an activation and the constant "k": the activation is the network input; cnnc has no layer with a constant operand`}},
		{"conv_bias_add", newGraph(14, 3, 4, 4).weight("W", 4, 3, 3, 3).weight("k", 1, 4, 1, 1).
			node("Conv", "c", []string{"x", "W"}, []string{"y"}).node("Add", "s", []string{"y", "k"}, []string{"z"}).output("z"),
			[]string{"{name: c, op: conv, filters: 4, kernel: 3}  # c, s"}, nil},
		{"conv_vector_add", newGraph(14, 3, 4, 4).weight("W", 4, 3, 3, 3).weight("k", 2).
			node("Conv", "c", []string{"x", "W"}, []string{"y"}).node("Add", "s", []string{"y", "k"}, []string{"z"}).output("z"),
			nil, []string{`"s": Add of [N, 4, 2, 2] and the constant "k" of shape [2]: cnnc import folds a constant operand only when it is one value per channel`}},
		{"bn_training", newGraph(14, 3, 2, 2).weight("s", 3).weight("b", 3).weight("m", 3).weight("v", 3).
			node("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, []string{"y"}, aInt("training_mode", 1)).output("y"),
			nil, []string{"training_mode is 1"}},
		{"bn", newGraph(14, 3, 2, 2).weight("s", 3).weight("b", 3).weight("m", 3).weight("v", 3).
			node("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, []string{"y"}, aFloat("epsilon", 1e-3)).output("y"),
			[]string{"{name: bn, op: batchnorm, eps: 0.001}"}, nil},
		{"dropout_training", newGraph(14, 3, 2, 2).ints("t", nil, 1).
			node("Dropout", "d", []string{"x", "", "t"}, []string{"y"}).output("y"),
			nil, []string{"training_mode \"t\" is not false"}},
		{"dropout_mask_used", newGraph(14, 3, 2, 2).node("Dropout", "d", []string{"x"}, []string{"y", "mask"}).output("mask"),
			nil, []string{`output "mask" is used`}},
		{"dropout", newGraph(10, 3, 2, 2).node("Dropout", "d", []string{"x"}, []string{"y"}, aFloat("ratio", 0.3)).output("y"),
			[]string{"{name: d, op: dropout, rate: 0.3}"}, nil},
		{"leaky", newGraph(14, 3, 2, 2).node("LeakyRelu", "l", []string{"x"}, []string{"y"}).output("y"),
			[]string{"{name: l, op: leaky_relu}"}, nil},
		{"reshape_not_flatten", newGraph(14, 4, 2, 2).ints("s", []int64{4}, 0, 2, 2, 4).
			node("Reshape", "r", []string{"x", "s"}, []string{"a"}).node("Relu", "u", []string{"a"}, []string{"y"}).
			node("Conv", "c", []string{"y", "W"}, []string{"z"}).weight("W", 1, 2, 1, 1).output("z"),
			nil, []string{"input \"y\" has shape [N, 2, 2, 4]; Conv needs [N, C, H, W]"}},
		{"reshape_across_batch", newGraph(14, 4, 2, 2).ints("s", []int64{2}, -1, 8).
			node("Reshape", "r", []string{"x", "s"}, []string{"y"}).output("y"),
			nil, []string{"the batch would change"}},
		{"reshape_flatten_minus1", newGraph(14, 4, 2, 2).ints("s", []int64{2}, -1, 16).
			node("Reshape", "r", []string{"x", "s"}, []string{"y"}).output("y"),
			[]string{"{name: r, op: flatten}"}, nil},
		{"unflatten", newGraph(14, 4, 2, 2).ints("s", []int64{2}, 0, -1).ints("t", []int64{4}, 0, 4, 2, 2).
			node("Reshape", "r", []string{"x", "s"}, []string{"a"}).node("Reshape", "r2", []string{"a", "t"}, []string{"b"}).
			node("MaxPool", "p", []string{"b"}, []string{"y"}, aInts("kernel_shape", 2, 2)).output("y"),
			nil, []string{"cnnc cannot turn a flat vector back into a C×H×W tensor"}},
		{"matmul_activations", newGraph(14, 4, 2, 2).node("Flatten", "f", []string{"x"}, []string{"a"}).
			node("MatMul", "m", []string{"a", "a"}, []string{"y"}).output("y"),
			nil, []string{"must be a constant"}},
		{"mul_activation", newGraph(14, 4, 2, 2).weight("k", 1).node("Mul", "m", []string{"x", "k"}, []string{"y"}).output("y"),
			nil, []string{`"m": Mul of an activation and the constant "k": the activation is the network input`}},
	})
}

// TestModelStructure covers problems with the model as a whole.
func TestModelStructure(t *testing.T) {
	twoIn := newGraph(14, 3, 2, 2)
	twoIn.g.Input = append(twoIn.g.Input, valueInfo("x2", -1, 3, 2, 2))
	twoIn.node("Add", "a", []string{"x", "x2"}, []string{"y"}).output("y")
	symH := newGraph(14, 3, 2, 2)
	symH.g.Input[0] = valueInfo("x", 1, 3, -1, 2)
	symH.node("Relu", "r", []string{"x"}, []string{"y"}).output("y")
	cases := []mapCase{
		{"unsupported", newGraph(14, 3, 4, 4).
			node("Relu", "/a/Relu", []string{"x"}, []string{"a"}).
			node("Atan", "/b/Atan", []string{"a"}, []string{"b"}).
			node("LogSoftmax", "", []string{"b"}, []string{"c"}).
			node("Atan", "/d/Atan", []string{"c"}, []string{"y"}).output("y"),
			nil, []string{
				"cannot import 3 node(s):",
				"Atan ×2: cnnc import has no such operator\n      \"/b/Atan\", \"/d/Atan\"",
				"LogSoftmax ×1:\n      \"(unnamed, output c)\": cnnc import has no such operator",
				"supported operators: Add, AveragePool,",
			}},
		{"other_domain", newGraph(14, 3, 4, 4).node("Relu", "r", []string{"x"}, []string{"y"}).output("y"),
			nil, []string{"com.example.Relu ×1:\n      \"r\": cnnc import has no such operator"}},
		{"several_errors", newGraph(14, 3, 8, 8).
			node("MaxPool", "p1", []string{"x"}, []string{"a"}, aInts("kernel_shape", 2, 2), aInts("dilations", 2, 2)).
			node("MaxPool", "p2", []string{"x"}, []string{"b"}, aInts("kernel_shape", 3, 3), aInts("pads", 0, 0, 1, 1)).
			node("Add", "s", []string{"a", "b"}, []string{"y"}).output("y"),
			nil, []string{"cannot import 2 node(s) (1 more read their outputs and were not checked):\n    MaxPool ×2:",
				`"p1": dilations`, `"p2": padding top 0, bottom 1`}},
		{"two_inputs", twoIn, nil, []string{"the graph has 2 inputs"}},
		{"symbolic_height", symH, nil, []string{"dimension 2 (H) is not fixed"}},
		{"two_outputs", newGraph(14, 3, 2, 2).node("Relu", "r", []string{"x"}, []string{"y"}).output("y").output("x"),
			nil, []string{"the graph has 2 outputs"}},
		{"output_is_input", newGraph(14, 3, 2, 2).output("x"), nil, []string{"is the input itself"}},
		{"undefined", newGraph(14, 3, 2, 2).node("Relu", "r", []string{"nope"}, []string{"y"}).output("y"),
			nil, []string{`reads "nope", which nothing defines`}},
		{"cycle", newGraph(14, 3, 2, 2).node("Add", "a", []string{"x", "b"}, []string{"a"}).
			node("Relu", "r", []string{"a"}, []string{"b"}).output("b"), nil, []string{"cycle"}},
		{"no_opset", func() *graphBuilder {
			b := newGraph(14, 3, 2, 2).node("Relu", "r", []string{"x"}, []string{"y"}).output("y")
			b.m.OpsetImport = nil
			return b
		}(), nil, []string{"imports no ai.onnx opset"}},
		{"short_data", func() *graphBuilder {
			b := conv1(4, 4, 3)
			b.g.Initializer[0].FloatData = b.g.Initializer[0].FloatData[:5]
			return b
		}(), nil, []string{`tensor "W" has 5 values; its dimensions [4 3 3 3] call for 108`}},
		{"external_data", func() *graphBuilder {
			b := conv1(4, 4, 3)
			b.g.Initializer[0].DataLocation = pbExternal()
			return b
		}(), nil, []string{"keeps its data in an external file"}},
	}
	cases[1].model.g.Node[0].Domain = strPtr("com.example")
	runMapCases(t, cases)
	if _, err := Import([]byte("not a protobuf \xff\xff"), Options{}); err == nil || !strings.Contains(err.Error(), "not an ONNX model") {
		t.Errorf("garbage: %v", err)
	}
}

// TestNames checks the layer names: from node names, unique, never
// "input", not colliding once capitalised, not Go keywords.
func TestNames(t *testing.T) {
	b := newGraph(14, 3, 4, 4).
		node("Relu", "/features/features.0/Relu", []string{"x"}, []string{"a"}).
		node("Relu", "/input/Relu", []string{"a"}, []string{"b"}).
		node("Relu", "Relu", []string{"b"}, []string{"c"}).
		node("Relu", "relu", []string{"c"}, []string{"d"}).
		node("Relu", "/0/Relu", []string{"d"}, []string{"e"}).
		node("Relu", "type", []string{"e"}, []string{"f"}).
		node("Relu", "/blk/Relu_1", []string{"f"}, []string{"g"}).
		node("Relu", "/blk/Relu_2", []string{"g"}, []string{"h"}).
		node("Relu", "", []string{"h"}, []string{"i"}).
		node("Relu", "a b\nc: {d}", []string{"i"}, []string{"j"}).
		node("Relu", "Output", []string{"j"}, []string{"y"}).output("y")
	res, err := Import(b.bytes(t), Options{Source: "dir/my-model.v2.onnx"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(res.Spec), "\n") {
		if rest, ok := strings.CutPrefix(line, "  - {name: "); ok {
			names = append(names, rest[:strings.Index(rest, ",")])
		}
	}
	want := []string{"features_0", "input_Relu", "Relu", "relu_2", "Relu_0", "type_2", "blk_Relu_1", "blk_Relu_2", "Relu_3", "a_b_c_d", "Output_2"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("names %v\nwant  %v\n%s", names, want, res.Spec)
	}
	if res.Name != "my_model_v2" {
		t.Errorf("spec name %q", res.Name)
	}
	// A file name that cannot name a Go package gets a prefix.
	for src, want := range map[string]string{"dir/main.onnx": "model_main", "func.onnx": "model_func", "_.onnx": "model"} {
		if got := NameFrom(src); got != want {
			t.Errorf("NameFrom(%q) = %q, want %q", src, got, want)
		}
	}
	if !strings.Contains(string(res.Spec), "# a b?c: {d}\n") {
		t.Errorf("the node name is not made safe in its comment:\n%s", res.Spec)
	}
}

// TestRefusalsGrouped: every node that cannot be taken is in one error,
// grouped by operator and reason, with the names of the nodes (the first
// eight of a group), and the nodes downstream of them counted.
func TestRefusalsGrouped(t *testing.T) {
	b := newGraph(13, 3, 4, 4)
	prev := "x"
	for i := range 10 {
		out := fmt.Sprintf("a%d", i)
		b.node("Atan", fmt.Sprintf("/blk.%d/Atan", i), []string{prev}, []string{out})
		prev = out
	}
	b.node("Relu", "/r/Relu", []string{prev}, []string{"r"}).
		node("Softmax", "/s1/Softmax", []string{"x"}, []string{"s1"}, aInt("axis", 2)).
		node("Softmax", "/s2/Softmax", []string{"x"}, []string{"s2"}, aInt("axis", 2)).
		node("Softmax", "/s3/Softmax", []string{"x"}, []string{"s3"}, aInt("axis", 0)).
		node("Concat", "/cat/Concat", []string{"r", "s1", "s2", "s3"}, []string{"y"}, aInt("axis", 1)).output("y")
	runMapCases(t, []mapCase{{"grouped", b, nil, []string{
		"grouped.onnx: cannot import 13 node(s) (2 more read their outputs and were not checked):\n",
		"    Atan ×10: cnnc import has no such operator\n" +
			`      "/blk.0/Atan", "/blk.1/Atan", "/blk.2/Atan", "/blk.3/Atan", "/blk.4/Atan", "/blk.5/Atan", "/blk.6/Atan", "/blk.7/Atan" and 2 more` + "\n",
		"    Softmax ×3:\n" +
			"      softmax over axis 2 of a tensor [N, 3, 4, 4]; cnnc's softmax normalises over the channels (axis 1, or the last axis of a channels-last view) only:\n" +
			`        "/s1/Softmax", "/s2/Softmax"` + "\n" +
			`      "/s3/Softmax": softmax over axis 0`,
		"  supported operators: Add,",
	}}})
}
