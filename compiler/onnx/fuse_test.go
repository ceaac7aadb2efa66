package onnx

import (
	"math"
	"testing"
)

// gelu1 is x [N, 3, 4, 4] through a Conv and then GELU as the nodes
// add(b) write it; the GELU's input is "c".
func gelu1(add func(b *graphBuilder) *graphBuilder) *graphBuilder {
	b := newGraph(13, 3, 4, 4).weight("W", 4, 3, 1, 1).
		floats("half", nil, 0.5).floats("one", nil, 1).floats("sqrt2", nil, float32(math.Sqrt2)).
		floats("rsqrt2", nil, float32(1/math.Sqrt2)).floats("beta", nil, float32(math.Sqrt(2/math.Pi))).
		floats("kappa", nil, 0.044715).floats("three", nil, 3).floats("bad", nil, 0.6).
		node("Conv", "/c/Conv", []string{"x", "W"}, []string{"c"})
	return add(b)
}

func TestGELUFusion(t *testing.T) {
	runMapCases(t, []mapCase{
		{"torch_order", gelu1(func(b *graphBuilder) *graphBuilder {
			return b.node("Div", "/g/Div", []string{"c", "sqrt2"}, []string{"d"}).
				node("Erf", "/g/Erf", []string{"d"}, []string{"e"}).
				node("Add", "/g/Add", []string{"e", "one"}, []string{"a"}).
				node("Mul", "/g/Mul", []string{"c", "a"}, []string{"m"}).
				node("Mul", "/g/Mul_1", []string{"m", "half"}, []string{"y"}).output("y")
		}), []string{"{name: g, op: gelu}", "# /g/{Div, Erf, Add, Mul, Mul_1}\n"}, nil},
		{"half_first", gelu1(func(b *graphBuilder) *graphBuilder {
			return b.node("Mul", "/g/Mul", []string{"half", "c"}, []string{"h"}).
				node("Mul", "/g/Mul_1", []string{"c", "rsqrt2"}, []string{"d"}).
				node("Erf", "/g/Erf", []string{"d"}, []string{"e"}).
				node("Add", "/g/Add", []string{"one", "e"}, []string{"a"}).
				node("Mul", "/g/Mul_2", []string{"a", "h"}, []string{"y"}).output("y")
		}), []string{"{name: g, op: gelu}"}, nil},
		{"half_times_sum", gelu1(func(b *graphBuilder) *graphBuilder {
			return b.node("Div", "/g/Div", []string{"c", "sqrt2"}, []string{"d"}).
				node("Erf", "/g/Erf", []string{"d"}, []string{"e"}).
				node("Add", "/g/Add", []string{"e", "one"}, []string{"a"}).
				node("Mul", "/g/Mul", []string{"half", "a"}, []string{"m"}).
				node("Mul", "/g/Mul_1", []string{"c", "m"}, []string{"y"}).output("y")
		}), []string{"{name: g, op: gelu}"}, nil},
		{"tanh_pow", gelu1(func(b *graphBuilder) *graphBuilder {
			return b.node("Pow", "/g/Pow", []string{"c", "three"}, []string{"p"}).
				node("Mul", "/g/Mul", []string{"p", "kappa"}, []string{"k"}).
				node("Add", "/g/Add", []string{"c", "k"}, []string{"s"}).
				node("Mul", "/g/Mul_1", []string{"s", "beta"}, []string{"i"}).
				node("Tanh", "/g/Tanh", []string{"i"}, []string{"t"}).
				node("Add", "/g/Add_1", []string{"t", "one"}, []string{"a"}).
				node("Mul", "/g/Mul_2", []string{"c", "half"}, []string{"h"}).
				node("Mul", "/g/Mul_3", []string{"h", "a"}, []string{"y"}).output("y")
		}), []string{"{name: g, op: gelu, approximate: tanh}"}, nil},
		// Names that share no module, with doubled slashes: the layer is
		// named after the operator.
		{"odd_names", gelu1(func(b *graphBuilder) *graphBuilder {
			return b.node("Div", "/g//Div", []string{"c", "sqrt2"}, []string{"d"}).
				node("Erf", "/g//Erf", []string{"d"}, []string{"e"}).
				node("Add", "/h/Add", []string{"e", "one"}, []string{"a"}).
				node("Mul", "Mul", []string{"c", "a"}, []string{"m"}).
				node("Mul", "/g//Mul_1", []string{"m", "half"}, []string{"y"}).output("y")
		}), []string{"{name: Gelu, op: gelu}", "# {/g//Div, /g//Erf, /h/Add, Mul, /g//Mul_1}\n"}, nil},
		{"wrong_constant", gelu1(func(b *graphBuilder) *graphBuilder {
			return b.node("Div", "/g/Div", []string{"c", "sqrt2"}, []string{"d"}).
				node("Erf", "/g/Erf", []string{"d"}, []string{"e"}).
				node("Add", "/g/Add", []string{"e", "one"}, []string{"a"}).
				node("Mul", "/g/Mul", []string{"c", "a"}, []string{"m"}).
				node("Mul", "/g/Mul_1", []string{"m", "bad"}, []string{"y"}).output("y")
		}), nil, []string{"Erf ×1:\n      \"/g/Erf\": cnnc import takes Erf only as part of GELU"}},
		// A piece that something else reads stays, and is refused on its own.
		{"piece_used_elsewhere", gelu1(func(b *graphBuilder) *graphBuilder {
			return b.node("Div", "/g/Div", []string{"c", "sqrt2"}, []string{"d"}).
				node("Erf", "/g/Erf", []string{"d"}, []string{"e"}).
				node("Add", "/g/Add", []string{"e", "one"}, []string{"a"}).
				node("Mul", "/g/Mul", []string{"c", "a"}, []string{"m"}).
				node("Mul", "/g/Mul_1", []string{"m", "half"}, []string{"g"}).
				node("Concat", "/cat", []string{"g", "e"}, []string{"y"}, aInt("axis", 1)).output("y")
		}), nil, []string{"cannot import 1 node(s) (1 more read their outputs and were not checked):", `"/g/Erf": cnnc import takes Erf only as part of GELU`}},
	})
}

// nhwc1 is x [N, 3, 4, 4] through a Conv (4 filters) and a Transpose to
// NHWC ("t"); add appends the nodes under test.
func nhwc1(opset int64, add func(b *graphBuilder) *graphBuilder) *graphBuilder {
	b := newGraph(opset, 3, 4, 4).weight("W", 4, 3, 1, 1).weight("w", 4).weight("bias", 4).
		floats("two", nil, 2).floats("eps", nil, 1e-6).
		node("Conv", "/c/Conv", []string{"x", "W"}, []string{"c"}).
		node("Transpose", "/ln/Transpose", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1))
	return add(b)
}

// lnChain writes F.layer_norm over the last axis of "t" as torch does
// before opset 17, ending in "n" (or sq for x², Mul(d, d) instead of Pow).
func lnChain(b *graphBuilder, mulSquare, affine bool) *graphBuilder {
	b.node("ReduceMean", "/ln/ReduceMean", []string{"t"}, []string{"m"}, aInts("axes", -1)).
		node("Sub", "/ln/Sub", []string{"t", "m"}, []string{"d"})
	if mulSquare {
		b.node("Mul", "/ln/Mul_sq", []string{"d", "d"}, []string{"p"})
	} else {
		b.node("Pow", "/ln/Pow", []string{"d", "two"}, []string{"p"})
	}
	b.node("ReduceMean", "/ln/ReduceMean_1", []string{"p"}, []string{"v"}, aInts("axes", -1)).
		node("Add", "/ln/Add", []string{"v", "eps"}, []string{"ve"}).
		node("Sqrt", "/ln/Sqrt", []string{"ve"}, []string{"s"})
	if !affine {
		return b.node("Div", "/ln/Div", []string{"d", "s"}, []string{"n"})
	}
	return b.node("Div", "/ln/Div", []string{"d", "s"}, []string{"q"}).
		node("Mul", "/ln/Mul", []string{"q", "w"}, []string{"qw"}).
		node("Add", "/ln/Add_1", []string{"qw", "bias"}, []string{"n"})
}

func TestLayerNormFusion(t *testing.T) {
	back := func(b *graphBuilder) *graphBuilder {
		return b.node("Transpose", "/ln/Transpose_1", []string{"n"}, []string{"y"}, aInts("perm", 0, 3, 1, 2)).output("y")
	}
	runMapCases(t, []mapCase{
		{"chain", nhwc1(13, func(b *graphBuilder) *graphBuilder { return back(lnChain(b, false, true)) }),
			[]string{"{name: ln, op: layernorm, eps: 1e-06}", "# /ln/{ReduceMean, Sub, Pow, ReduceMean_1, Add, Sqrt, Div, Mul, Add_1}\n"}, nil},
		{"chain_mul_square_no_affine", nhwc1(13, func(b *graphBuilder) *graphBuilder { return back(lnChain(b, true, false)) }),
			[]string{"{name: ln, op: layernorm, eps: 1e-06}"}, nil},
		{"opset17", nhwc1(17, func(b *graphBuilder) *graphBuilder {
			return back(b.node("LayerNormalization", "/ln/LayerNormalization", []string{"t", "w", "bias"}, []string{"n"}, aInt("axis", -1), aFloat("epsilon", 1e-6)))
		}), []string{"{name: ln, op: layernorm, eps: 1e-06}"}, nil},
		{"opset17_axis3_default_eps", nhwc1(17, func(b *graphBuilder) *graphBuilder {
			return back(b.node("LayerNormalization", "/ln/LayerNormalization", []string{"t", "w"}, []string{"n"}, aInt("axis", 3)))
		}), []string{"{name: ln, op: layernorm}"}, nil},
		{"over_h_w_c", nhwc1(17, func(b *graphBuilder) *graphBuilder {
			return back(b.node("LayerNormalization", "/ln/LayerNormalization", []string{"t", "w", "bias"}, []string{"n"}, aInt("axis", 1)))
		}), nil, []string{"normalises axes 1 to 3 of [N, 4, 4, 4]; cnnc's layernorm normalises over the channels only"}},
		{"nchw", nhwc1(17, func(b *graphBuilder) *graphBuilder {
			return b.node("LayerNormalization", "/ln2/LayerNormalization", []string{"c", "w", "bias"}, []string{"y"}, aInt("axis", -1)).output("y")
		}), nil, []string{"normalises axes 3 to 3 of [N, 4, 4, 4]"}},
		{"scale_size", nhwc1(17, func(b *graphBuilder) *graphBuilder {
			return back(b.weight("w5", 5).node("LayerNormalization", "/ln/LayerNormalization", []string{"t", "w5"}, []string{"n"}))
		}), nil, []string{`the scale "w5" has shape [5]; want 4 values, one per channel`}},
		// Mean over another axis: no fusion, and the pieces are refused on
		// the channels-last view.
		{"chain_wrong_axis", nhwc1(13, func(b *graphBuilder) *graphBuilder {
			lnChain(b, false, true)
			b.g.Node[2].Attribute[0].Ints = []int64{-2}
			return back(b)
		}), nil, []string{"cannot import", "ReduceMean ×1:", `input "t" is a channels-last view [N, 4, 4, 4] of the layer from /c/Conv (made by Transpose "/ln/Transpose")`, "Pow ×1:\n      \"/ln/Pow\": cnnc import takes Pow only as part of a layer norm or GELU", "Sqrt ×1"}},
	})
}
