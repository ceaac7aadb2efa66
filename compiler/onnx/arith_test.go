package onnx

import "testing"

// conv4 is x [N, 3, 4, 4] through a Conv "c" (4 filters, 1x1, a bias "B").
func conv4(opset int64) *graphBuilder {
	return newGraph(opset, 3, 4, 4).weight("W", 4, 3, 1, 1).weight("B", 4).
		node("Conv", "c", []string{"x", "W", "B"}, []string{"c"})
}

func TestActivations(t *testing.T) {
	act := func(opset int64, op string, ins []string, attrs ...any) *graphBuilder {
		return conv4(opset).floats("zero", nil, 0).floats("six", nil, 6).floats("lo", nil, -1).floats("hi", nil, 2).
			floats("v", []int64{2}, 0, 1).
			node(op, "a", append([]string{"c"}, ins...), []string{"y"}, attrList(attrs)...).output("y")
	}
	runMapCases(t, []mapCase{
		{"relu6_inputs", act(13, "Clip", []string{"zero", "six"}), []string{"{name: a, op: relu6}"}, nil},
		{"relu6_attrs", act(9, "Clip", nil, aFloat("min", 0), aFloat("max", 6)), []string{"{name: a, op: relu6}"}, nil},
		{"clip_inputs", act(13, "Clip", []string{"lo", "hi"}), []string{"{name: a, op: clip, min: -1, max: 2}"}, nil},
		{"clip_max_only", act(13, "Clip", []string{"", "hi"}), []string{"{name: a, op: clip, max: 2}"}, nil},
		{"clip_min_attr", act(6, "Clip", nil, aFloat("min", -1)), []string{"{name: a, op: clip, min: -1}"}, nil},
		{"clip_default_bounds", act(6, "Clip", nil, aFloat("min", -3.4028234663852886e38), aFloat("max", 3.4028234663852886e38)), []string{"{name: a, op: clip}"}, nil},
		{"clip_crossed", act(13, "Clip", []string{"hi", "lo"}), nil, []string{`"a": min 2 is more than max -1`}},
		{"clip_vector", act(13, "Clip", []string{"v"}), nil, []string{`min "v" is not a scalar`}},
		{"hardsigmoid_onnx_default", act(13, "HardSigmoid", nil), []string{"{name: a, op: hardsigmoid, alpha: 0.2}"}, nil},
		{"hardsigmoid_torch", act(13, "HardSigmoid", nil, aFloat("alpha", 1.0/6)), []string{"{name: a, op: hardsigmoid}"}, nil},
		{"hardsigmoid_beta", act(13, "HardSigmoid", nil, aFloat("alpha", 0.25), aFloat("beta", 0.4)), []string{"{name: a, op: hardsigmoid, alpha: 0.25, beta: 0.4}"}, nil},
		{"hardswish", act(14, "HardSwish", nil), []string{"{name: a, op: hardswish}"}, nil},
		{"gelu", act(20, "Gelu", nil), []string{"{name: a, op: gelu}"}, nil},
		{"gelu_tanh", act(20, "Gelu", nil, aStr("approximate", "tanh")), []string{"{name: a, op: gelu, approximate: tanh}"}, nil},
		{"gelu_bad", act(20, "Gelu", nil, aStr("approximate", "erf")), nil, []string{`approximate "erf" is not none or tanh`}},
		{"prelu_c11", conv4(13).weight("s", 4, 1, 1).node("PRelu", "p", []string{"c", "s"}, []string{"y"}).output("y"),
			[]string{"{name: p, op: prelu}"}, nil},
		{"prelu_1c11", conv4(13).weight("s", 1, 4, 1, 1).node("PRelu", "p", []string{"c", "s"}, []string{"y"}).output("y"),
			[]string{"{name: p, op: prelu}"}, nil},
		{"prelu_shared", conv4(13).weight("s", 1, 1, 1).node("PRelu", "p", []string{"c", "s"}, []string{"y"}).output("y"),
			[]string{"{name: p, op: prelu, shared: true}"}, nil},
		{"prelu_on_w", conv4(13).weight("s", 4).node("PRelu", "p", []string{"c", "s"}, []string{"y"}).output("y"),
			nil, []string{`the slope "s" has shape [4]; cnnc's prelu has one slope per channel of [N, 4, 4, 4], or one for all`}},
		// Sigmoid and HardSigmoid gates: x times g(x) is one layer; a g(x)
		// that something else reads stays.
		{"silu", conv4(13).node("Sigmoid", "s", []string{"c"}, []string{"s"}).node("Mul", "m", []string{"s", "c"}, []string{"y"}).output("y"),
			[]string{"{name: m, op: silu}  # s, m"}, nil},
		{"silu_gate_used", conv4(13).node("Sigmoid", "s", []string{"c"}, []string{"s"}).node("Mul", "m", []string{"c", "s"}, []string{"m"}).
			node("Add", "a", []string{"m", "s"}, []string{"y"}).output("y"),
			[]string{"{name: s, op: sigmoid}", "{name: m, op: silu, input: c}", "{name: a, op: add, inputs: [m, s]}"}, nil},
		{"hardswish_written", conv4(13).node("HardSigmoid", "h", []string{"c"}, []string{"h"}, aFloat("alpha", 1.0/6)).
			node("Mul", "m", []string{"c", "h"}, []string{"y"}).output("y"),
			[]string{"{name: m, op: hardswish}  # h, m"}, nil},
		// With ONNX's default alpha 0.2 it is not hardswish.
		{"hardsigmoid_gate", conv4(13).node("HardSigmoid", "h", []string{"c"}, []string{"h"}).
			node("Mul", "m", []string{"c", "h"}, []string{"y"}).output("y"),
			[]string{"{name: h, op: hardsigmoid, alpha: 0.2}", "{name: m, op: mul, inputs: [c, h]}"}, nil},
	})
}

func TestArithmetic(t *testing.T) {
	gap := func(b *graphBuilder) *graphBuilder {
		return b.node("GlobalAveragePool", "g", []string{"c"}, []string{"g"})
	}
	runMapCases(t, []mapCase{
		{"se_mul", gap(conv4(13)).node("Sigmoid", "s", []string{"g"}, []string{"s"}).node("Mul", "m", []string{"c", "s"}, []string{"y"}).output("y"),
			[]string{"{name: m, op: mul, inputs: [c, s]}"}, nil},
		{"sub_div", gap(conv4(13)).node("Sub", "d", []string{"c", "g"}, []string{"d"}).node("Div", "q", []string{"d", "g"}, []string{"y"}).output("y"),
			[]string{"{name: d, op: sub, inputs: [c, g]}", "{name: q, op: div, inputs: [d, g]}"}, nil},
		{"add_broadcast_both", conv4(13).weight("W1", 1, 4, 1, 1).node("Conv", "one", []string{"c", "W1"}, []string{"o"}).
			node("GlobalAveragePool", "g", []string{"c"}, []string{"g"}).node("Add", "a", []string{"o", "g"}, []string{"y"}).output("y"),
			[]string{"{name: a, op: add, inputs: [one, g]}"}, nil},
		{"not_broadcastable", conv4(13).node("MaxPool", "p", []string{"c"}, []string{"p"}, aInts("kernel_shape", 2, 2)).
			node("Add", "a", []string{"c", "p"}, []string{"y"}).output("y"),
			nil, []string{`"a": the operands' shapes [N, 4, 4, 4] and [N, 4, 3, 3] do not broadcast`}},
		{"ranks_differ", conv4(13).node("Flatten", "f", []string{"c"}, []string{"f"}).
			node("Mul", "m", []string{"c", "f"}, []string{"y"}).output("y"),
			nil, []string{"the operands have shapes [N, 4, 4, 4] and [N, 64]; cnnc import broadcasts activations of equal rank only"}},
		{"layouts_differ", conv4(13).node("Transpose", "t", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1)).
			node("Add", "a", []string{"c", "t"}, []string{"y"}).output("y"),
			nil, []string{`one operand is a channels-last view (made by Transpose "t") and the other is not`}},
		{"const_mul_conv", conv4(13).weight("k", 4, 1, 1).node("Mul", "m", []string{"k", "c"}, []string{"y"}).output("y"),
			[]string{"{name: c, op: conv, filters: 4, kernel: 1}  # c, m"}, nil},
		{"const_sub_first", conv4(13).floats("k", nil, 2).node("Sub", "s", []string{"k", "c"}, []string{"y"}).output("y"),
			[]string{"{name: c, op: conv, filters: 4, kernel: 1}  # c, s"}, nil},
		{"const_bias_no_bias", newGraph(13, 3, 4, 4).weight("W", 4, 3, 1, 1).weight("k", 1, 4, 1, 1).
			node("Conv", "c", []string{"x", "W"}, []string{"c"}).node("Add", "a", []string{"c", "k"}, []string{"y"}).output("y"),
			[]string{"{name: c, op: conv, filters: 4, kernel: 1}  # c, a"}, nil},
		{"const_div_dense", newGraph(13, 3, 2, 2).weight("B", 12, 5).floats("k", []int64{5}, 1, 2, 3, 4, 5).
			node("Flatten", "f", []string{"x"}, []string{"f"}).node("MatMul", "mm", []string{"f", "B"}, []string{"d"}).
			node("Div", "q", []string{"d", "k"}, []string{"y"}).output("y"),
			[]string{"{name: mm, op: dense, units: 5, bias: false}  # mm, q"}, nil},
		{"const_after_bn", conv4(13).weight("s", 4).weight("b", 4).weight("mu", 4).floats("v", []int64{4}, 1, 2, 3, 4).floats("k", nil, 3).
			node("BatchNormalization", "bn", []string{"c", "s", "b", "mu", "v"}, []string{"n"}).
			node("Mul", "m", []string{"n", "k"}, []string{"y"}).output("y"),
			[]string{"{name: bn, op: batchnorm}  # bn, m"}, nil},
		{"const_mul_one", conv4(13).floats("k", nil, 1).node("Relu", "r", []string{"c"}, []string{"r"}).
			node("Mul", "m", []string{"r", "k"}, []string{"y"}).output("y"),
			[]string{"{name: r, op: relu}"}, nil},
		{"const_after_relu", conv4(13).floats("k", nil, 2).node("Relu", "r", []string{"c"}, []string{"r"}).
			node("Mul", "m", []string{"r", "k"}, []string{"y"}).output("y"),
			nil, []string{`"m": Mul of an activation and the constant "k": the activation is a relu layer (from r); cnnc has no layer with a constant operand`}},
		{"const_over_activation", conv4(13).floats("k", nil, 2).node("Div", "q", []string{"k", "c"}, []string{"y"}).output("y"),
			nil, []string{`Div of the constant "k" by an activation: cnnc has no reciprocal`}},
		{"const_div_zero", conv4(13).floats("k", nil, 0).node("Div", "q", []string{"c", "k"}, []string{"y"}).output("y"),
			nil, []string{`Div by the constant "k", which holds 0`}},
		{"const_not_per_channel", conv4(13).weight("k", 4, 4).node("Add", "a", []string{"c", "k"}, []string{"y"}).output("y"),
			nil, []string{`Add of [N, 4, 4, 4] and the constant "k" of shape [4 4]: cnnc import folds a constant operand only when it is one value per channel`}},
		// The original layer stays when something else reads it.
		{"const_fold_copy", conv4(13).weight("k", 4, 1, 1).node("Mul", "m", []string{"c", "k"}, []string{"m"}).
			node("Add", "a", []string{"m", "c"}, []string{"y"}).output("y"),
			[]string{"{name: c, op: conv, filters: 4, kernel: 1}  # c\n", "{name: c_2, op: conv, input: input, filters: 4, kernel: 1}  # c, m", "{name: a, op: add, inputs: [c_2, c]}"}, nil},
	})
}
