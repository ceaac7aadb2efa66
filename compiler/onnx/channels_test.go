package onnx

import "testing"

// conv8 is x [N, 3, 4, 4] through a Conv "c" with 8 filters.
func conv8(opset int64) *graphBuilder {
	return newGraph(opset, 3, 4, 4).weight("W", 8, 3, 1, 1).node("Conv", "c", []string{"x", "W"}, []string{"c"})
}

func TestChannels(t *testing.T) {
	cat := func(b *graphBuilder, ins ...string) *graphBuilder {
		return b.node("Concat", "cat", ins, []string{"y"}, aInt("axis", 1)).output("y")
	}
	runMapCases(t, []mapCase{
		{"split_input", cat(conv8(13).ints("sp", []int64{2}, 3, 5).node("Split", "s", []string{"c", "sp"}, []string{"a", "b"}, aInt("axis", 1)), "b", "a"),
			[]string{"{name: s_0, op: slice, start: 0, end: 3}", "{name: s_1, op: slice, input: c, start: 3, end: 8}", "{name: cat, op: concat, inputs: [s_1, s_0]}"}, nil},
		{"split_attr", cat(conv8(11).node("Split", "s", []string{"c"}, []string{"a", "b"}, aInt("axis", -3), aInts("split", 6, 2)), "b", "a"),
			[]string{"{name: s_0, op: slice, start: 0, end: 6}", "{name: s_1, op: slice, input: c, start: 6, end: 8}"}, nil},
		{"split_equal_one_used", cat(conv8(13).node("Split", "s", []string{"c"}, []string{"a", "b", "d", "e"}, aInt("axis", 1)), "d", "c"),
			[]string{"{name: s_2, op: slice, start: 4, end: 6}", "{name: cat, op: concat, inputs: [s_2, c]}"}, nil},
		{"split_num_outputs_18", cat(newGraph(18, 3, 4, 4).weight("W", 7, 3, 1, 1).node("Conv", "c", []string{"x", "W"}, []string{"c"}).
			node("Split", "s", []string{"c"}, []string{"a", "b"}, aInt("axis", 1), aInt("num_outputs", 2)), "b", "a"),
			[]string{"{name: s_0, op: slice, start: 0, end: 4}", "{name: s_1, op: slice, input: c, start: 4, end: 7}"}, nil},
		{"split_unequal", cat(newGraph(13, 3, 4, 4).weight("W", 7, 3, 1, 1).node("Conv", "c", []string{"x", "W"}, []string{"c"}).
			node("Split", "s", []string{"c"}, []string{"a", "b"}, aInt("axis", 1)), "b", "a"),
			nil, []string{"7 channels do not split into 2 equal parts"}},
		{"split_height", cat(conv8(13).node("Split", "s", []string{"c"}, []string{"a", "b"}, aInt("axis", 2)), "b", "a"),
			nil, []string{"splits axis 2 of [N, 8, 4, 4]; cnnc splits the channels only"}},
		{"split_bad_sizes", cat(conv8(13).ints("sp", []int64{2}, 3, 4).node("Split", "s", []string{"c", "sp"}, []string{"a", "b"}, aInt("axis", 1)), "b", "a"),
			nil, []string{"split [3 4] does not add up to the 8 channels"}},
		{"slice_channels", conv8(13).ints("st", []int64{1}, 2).ints("en", []int64{1}, 1<<40).ints("ax", []int64{1}, 1).
			node("Slice", "s", []string{"c", "st", "en", "ax"}, []string{"y"}).output("y"),
			[]string{"{name: s, op: slice, start: 2, end: 8}"}, nil},
		{"slice_negative", conv8(13).ints("st", []int64{1}, -3).ints("en", []int64{1}, -1).ints("ax", []int64{1}, -3).
			node("Slice", "s", []string{"c", "st", "en", "ax"}, []string{"y"}).output("y"),
			[]string{"{name: s, op: slice, start: 5, end: 7}"}, nil},
		{"slice_all", conv8(13).ints("st", []int64{1}, 0).ints("en", []int64{1}, 8).ints("ax", []int64{1}, 1).
			node("Slice", "s", []string{"c", "st", "en", "ax"}, []string{"s"}).node("Relu", "r", []string{"s"}, []string{"y"}).output("y"),
			[]string{"{name: r, op: relu}  # r"}, nil},
		{"slice_width", conv8(13).ints("st", []int64{1}, 0).ints("en", []int64{1}, 2).ints("ax", []int64{1}, 3).
			node("Slice", "s", []string{"c", "st", "en", "ax"}, []string{"y"}).output("y"),
			nil, []string{"slices axis 3 of [N, 8, 4, 4]; cnnc slices the channels only"}},
		{"slice_step", conv8(13).ints("st", []int64{1}, 0).ints("en", []int64{1}, 8).ints("ax", []int64{1}, 1).ints("sp", []int64{1}, 2).
			node("Slice", "s", []string{"c", "st", "en", "ax", "sp"}, []string{"y"}).output("y"),
			nil, []string{"step 2: cnnc slices a contiguous range of channels"}},
		{"shuffle", conv8(13).ints("s5", []int64{5}, 0, 4, 2, 4, 4).ints("s4", []int64{4}, 0, -1, 4, 4).
			node("Reshape", "r", []string{"c", "s5"}, []string{"r"}).
			node("Transpose", "t", []string{"r"}, []string{"t"}, aInts("perm", 0, 2, 1, 3, 4)).
			node("Reshape", "r2", []string{"t", "s4"}, []string{"y"}).output("y"),
			[]string{"{name: t, op: channel_shuffle, groups: 4}"}, nil},
		{"shuffle_other_perm", conv8(13).ints("s5", []int64{5}, 0, 4, 2, 4, 4).
			node("Reshape", "r", []string{"c", "s5"}, []string{"r"}).
			node("Transpose", "t", []string{"r"}, []string{"y"}, aInts("perm", 0, 1, 2, 4, 3)).output("y"),
			nil, []string{"perm [0 1 2 4 3] of an activation [N, 4, 2, 4, 4]: cnnc import transposes activations only"}},
		{"transpose_batch", conv8(13).node("Transpose", "t", []string{"c"}, []string{"y"}, aInts("perm", 1, 0, 2, 3)).output("y"),
			nil, []string{"perm [1 0 2 3] moves the batch axis"}},
		{"transpose_size1_axes", conv8(13).node("GlobalAveragePool", "g", []string{"c"}, []string{"g"}).
			node("Transpose", "t", []string{"g"}, []string{"t"}, aInts("perm", 0, 1, 3, 2)).
			node("Relu", "r", []string{"t"}, []string{"y"}).output("y"),
			[]string{"{name: r, op: relu}"}, nil},
		{"nhwc_pool", conv8(13).node("Transpose", "t", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1)).
			node("MaxPool", "p", []string{"t"}, []string{"y"}, aInts("kernel_shape", 2, 2)).output("y"),
			nil, []string{`"p": input "t" is a channels-last view [N, 4, 4, 8] of the layer from c (made by Transpose "t"); on such a view cnnc import accepts only channel-wise operators`}},
		{"nhwc_output", conv8(13).node("Transpose", "t", []string{"c"}, []string{"y"}, aInts("perm", 0, 2, 3, 1)).output("y"),
			nil, []string{`the graph output "y" has shape [N, 4, 4, 8], which no cnnc layer produces`}},
		{"nhwc_softmax_relu", conv8(13).node("Transpose", "t", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1)).
			node("Relu", "r", []string{"t"}, []string{"r"}).node("Softmax", "s", []string{"r"}, []string{"s"}, aInt("axis", -1)).
			node("Transpose", "t2", []string{"s"}, []string{"y"}, aInts("perm", 0, 3, 1, 2)).output("y"),
			[]string{"{name: r, op: relu}", "{name: s, op: softmax}"}, nil},
		{"nhwc_softmax_over_w", conv8(13).node("Transpose", "t", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1)).
			node("Softmax", "s", []string{"t"}, []string{"s"}, aInt("axis", 2)).
			node("Transpose", "t2", []string{"s"}, []string{"y"}, aInts("perm", 0, 3, 1, 2)).output("y"),
			nil, []string{"softmax over axis 2 of a tensor [N, 4, 4, 8]"}},
		{"nhwc_linear", conv8(13).weight("L", 8, 5).weight("b", 5).node("Transpose", "t", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1)).
			node("MatMul", "mm", []string{"t", "L"}, []string{"m"}).node("Add", "a", []string{"b", "m"}, []string{"a"}).
			node("Transpose", "t2", []string{"a"}, []string{"y"}, aInts("perm", 0, 3, 1, 2)).output("y"),
			[]string{"{name: mm, op: conv, filters: 5, kernel: 1}  # mm, a"}, nil},
		{"nhwc_linear_bad", conv8(13).weight("L", 4, 5).node("Transpose", "t", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1)).
			node("MatMul", "mm", []string{"t", "L"}, []string{"m"}).
			node("Transpose", "t2", []string{"m"}, []string{"y"}, aInts("perm", 0, 3, 1, 2)).output("y"),
			nil, []string{`the second operand "L" has shape [4 5]; on a channels-last view [N, 4, 4, 8] cnnc import takes a constant [8, D]`}},
		{"nhwc_mul_per_channel", conv8(13).weight("k", 8).node("Transpose", "t", []string{"c"}, []string{"t"}, aInts("perm", 0, 2, 3, 1)).
			node("Mul", "m", []string{"t", "k"}, []string{"m"}).
			node("Transpose", "t2", []string{"m"}, []string{"y"}, aInts("perm", 0, 3, 1, 2)).output("y"),
			[]string{"{name: c, op: conv, filters: 8, kernel: 1, bias: false}  # c, m"}, nil},
	})
}
