package onnx

// Channel layouts and channel groups: Transpose of activations, Split and
// Slice along the channels.
//
// cnnc's layers are NCHW. A Transpose NCHW → NHWC (perm [0, 2, 3, 1]), as
// PyTorch's permute(0, 2, 3, 1) writes it around a LayerNorm or a Linear
// over the channels (ConvNeXt), makes a channels-last view of the layer:
// the data is not moved, the act records the layout, and only channel-wise
// operators are accepted on it (node.permuted lists them). The Transpose
// back (perm [0, 3, 1, 2]) ends the view. ShuffleNet's channel shuffle,
// Reshape to [N, g, C/g, H, W], Transpose [0, 2, 1, 3, 4], Reshape back,
// is the spec's channel_shuffle.

import (
	"fmt"
	"slices"
	"strconv"
)

var (
	toNHWC  = []int64{0, 2, 3, 1}
	toNCHW  = []int64{0, 3, 1, 2}
	shuffle = []int64{0, 2, 1, 3, 4}
)

// transposeAct translates a Transpose of the activation a; dims is the
// result's full shape (batch first).
func transposeAct(n *node, a *act, perm []int64, dims []int) error {
	identity := true
	for k, p := range perm {
		identity = identity && p == int64(k)
	}
	shape := a.shape(n.im)
	whole := a.whole(n.im)
	switch {
	case identity:
		n.out(0, &value{a: a})
		return nil
	case perm[0] != 0:
		return fmt.Errorf("perm %v moves the batch axis", perm)
	case slices.Equal(perm, toNHWC) && !a.nhwc && whole && len(shape) == 3:
		n.out(0, &value{a: &act{l: a.l, dims: dims[1:], nhwc: true, via: strconv.Quote(n.pb.GetName())}})
		return nil
	case slices.Equal(perm, toNCHW) && a.nhwc && whole:
		n.out(0, &value{a: &act{l: a.l, dims: shape}})
		return nil
	case slices.Equal(perm, shuffle) && !a.nhwc && len(shape) == 3 && len(a.dims) == 4 &&
		a.dims[0]*a.dims[1] == shape[0] && slices.Equal(a.dims[2:], shape[1:]):
		g := a.dims[0]
		l := n.newLayer("channel_shuffle", []*act{{l: a.l, dims: shape}}, shape, "", field{"groups", g})
		n.out(0, &value{a: &act{l: l, dims: dims[1:]}})
		return nil
	case !a.nhwc && movesOnlyOnes(a.dims, perm):
		n.out(0, &value{a: n.view(a, dims[1:])})
		return nil
	}
	what := "an activation"
	if a.nhwc {
		what = "a channels-last view"
	}
	return fmt.Errorf("perm %v of %s %s: cnnc import transposes activations only NCHW → NHWC ([0, 2, 3, 1]) and back ([0, 3, 1, 2]) around channel-wise operators, and [N, g, C/g, H, W] to [N, C/g, g, H, W] in a channel shuffle", perm, what, batchDims(a.dims))
}

// movesOnlyOnes reports whether a permutation of [N]+dims keeps the axes
// longer than 1 in their order: the data does not move, it is a reshape.
func movesOnlyOnes(dims []int, perm []int64) bool {
	full := append([]int{-1}, dims...)
	last := -1
	for _, p := range perm {
		if full[p] == 1 {
			continue
		}
		if int(p) < last {
			return false
		}
		last = int(p)
	}
	return true
}

// sliceAct translates a Slice of the activation a along its channels
// (torch.narrow, chunk and split write it at dim 1 with constant bounds):
// the spec's slice. first, step and dims are the slice per axis of the
// full shape, batch first.
func sliceAct(n *node, a *act, first, step, dims []int) error {
	full := append([]int{-1}, a.dims...)
	ch := 1 + a.chanAxis()
	for k := range full {
		if k != ch && (dims[k] != full[k] || first[k] != 0 || step[k] != 1) {
			return fmt.Errorf("slices axis %d of %s; cnnc slices the channels only", k, batchDims(a.dims))
		}
	}
	if step[ch] != 1 {
		return fmt.Errorf("step %d: cnnc slices a contiguous range of channels", step[ch])
	}
	return n.sliceChannels(0, a, first[ch], first[ch]+dims[ch], "")
}

// sliceChannels sets output i to channels [start, end) of a, a slice layer
// (a itself if that is all of it).
func (n *node) sliceChannels(i int, a *act, start, end int, suffix string) error {
	shape := a.shape(n.im)
	if end <= start {
		return fmt.Errorf("output %d has no channels", i)
	}
	if start == 0 && end == shape[0] {
		n.out(i, &value{a: a})
		return nil
	}
	out := slices.Clone(shape)
	out[0] = end - start
	l := n.newLayer("slice", []*act{a}, out, suffix, field{"start", start}, field{"end", end})
	n.out(i, &value{a: &act{l: l, dims: layoutDims(out, a.nhwc), nhwc: a.nhwc, via: a.via}})
	return nil
}

// opSplit splits the channels into slices, one per output. The sizes are
// the split input (from opset 13) or attribute (before), or equal parts
// (num_outputs from opset 18: the last may be smaller).
func opSplit(n *node) error {
	if err := n.inputs(1, 2); err != nil {
		return err
	}
	if len(n.pb.Output) == 0 {
		return fmt.Errorf("the node has no output")
	}
	axis := n.attrInt("axis", 0)
	sizes, given := n.attrInts("split")
	if n.err != nil {
		return n.err
	}
	a, err := n.chanAct(0)
	if err != nil {
		return err
	}
	full := append([]int{-1}, a.dims...)
	ch := 1 + a.chanAxis()
	if ax, ok := normAxis(axis, len(full)); !ok || ax != ch {
		return fmt.Errorf("splits axis %d of %s; cnnc splits the channels only", axis, batchDims(a.dims))
	}
	c := full[ch]
	if n.in(1) != nil {
		if sizes, err = n.intList(1, "split"); err != nil {
			return err
		}
		given = true
	}
	k := len(n.pb.Output)
	if !given {
		part := (c + k - 1) / k
		if n.im.opset < 18 && c%k != 0 {
			return fmt.Errorf("%d channels do not split into %d equal parts", c, k)
		}
		for i := range k {
			sizes = append(sizes, int64(min(part, c-i*part)))
		}
	}
	if len(sizes) != k {
		return fmt.Errorf("%d sizes for %d outputs", len(sizes), k)
	}
	start := 0
	for i, s := range sizes {
		if s < 0 || s > int64(c-start) {
			return fmt.Errorf("split %v does not add up to the %d channels", sizes, c)
		}
		end := start + int(s)
		if o := n.pb.Output[i]; o != "" && (len(n.im.users[o]) > 0 || o == n.im.outName) {
			if err := n.sliceChannels(i, a, start, end, fmt.Sprintf("_%d", i)); err != nil {
				return err
			}
		}
		start = end
	}
	if start != c {
		return fmt.Errorf("split %v does not add up to the %d channels", sizes, c)
	}
	return nil
}
