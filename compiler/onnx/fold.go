package onnx

// Constants and shape arithmetic: the operators the importer evaluates at
// import time rather than translating into layers. PyTorch's exporter
// computes Reshape targets and Pad amounts with small graphs of them
// (Shape, Gather, Unsqueeze, Concat; ConstantOfShape, Slice, Transpose,
// Cast; Sub, Div, Neg); the importer folds those graphs into constants.

import (
	"fmt"
	"slices"

	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
)

// ---------------------------------------------------------------- constants and shape arithmetic

func opConstant(n *node) error {
	if n.nin() != 0 {
		return fmt.Errorf("%d inputs; Constant takes none", n.nin())
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	if len(n.attrs) != 1 {
		return fmt.Errorf("want exactly one of value, value_float, value_floats, value_int, value_ints")
	}
	var c *constant
	switch {
	case n.attrs["value"] != nil:
		a := n.attr("value", pb.AttributeProto_TENSOR)
		if a == nil || a.T == nil {
			return fmt.Errorf("value is not a tensor")
		}
		var err error
		if c, err = decodeTensor(a.T); err != nil {
			return err
		}
	case n.attrs["value_float"] != nil:
		c = &constant{dims: []int{}, f: []float32{n.attrFloat("value_float", 0)}}
	case n.attrs["value_floats"] != nil:
		a := n.attr("value_floats", pb.AttributeProto_FLOATS)
		if a != nil {
			c = &constant{dims: []int{len(a.Floats)}, f: slices.Clone(a.Floats)}
		}
	case n.attrs["value_int"] != nil:
		c = &constant{dims: []int{}, isInt: true, i: []int64{n.attrInt("value_int", 0)}, batch: []bool{false}}
	case n.attrs["value_ints"] != nil:
		v, _ := n.attrInts("value_ints")
		c = &constant{dims: []int{len(v)}, isInt: true, i: slices.Clone(v), batch: make([]bool, len(v))}
	}
	if n.err != nil {
		return n.err
	}
	n.out(0, &value{c: c})
	return nil
}

// opShape gives the input's shape; the batch dimension of an activation is
// marked as the batch size so that Reshape can recognise it.
func opShape(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	v := n.in(0)
	var dims []int64
	var marks []bool
	switch {
	case v.c != nil:
		for _, d := range v.c.dims {
			dims = append(dims, int64(d))
		}
		marks = make([]bool, len(dims))
	case v.a != nil:
		dims = []int64{0}
		marks = []bool{true}
		for _, d := range v.a.dims {
			dims = append(dims, int64(d))
			marks = append(marks, false)
		}
	default:
		_, err := n.act(0)
		return err
	}
	r := int64(len(dims))
	start := n.attrInt("start", 0)
	end := n.attrInt("end", r)
	if n.err != nil {
		return n.err
	}
	clamp := func(x int64) int64 {
		if x < 0 {
			x += r
		}
		return min(max(x, 0), r)
	}
	s, e := clamp(start), clamp(end)
	if e < s {
		e = s
	}
	n.out(0, &value{c: &constant{dims: []int{int(e - s)}, isInt: true, i: dims[s:e], batch: marks[s:e]}})
	return nil
}

func opGather(n *node) error {
	if err := n.inputs(2, 2); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	data, err := n.konst(0, "the data")
	if err != nil {
		return err
	}
	if !data.isInt || len(data.dims) != 1 {
		return fmt.Errorf("cnnc import supports Gather only on 1-D integer tensors (shape arithmetic)")
	}
	axis := n.attrInt("axis", 0)
	if n.err != nil {
		return n.err
	}
	if ax, ok := normAxis(axis, 1); !ok || ax != 0 {
		return fmt.Errorf("axis %d is out of range", axis)
	}
	idx, err := n.konst(1, "the indices")
	if err != nil {
		return err
	}
	if !idx.isInt || len(idx.dims) > 1 || slices.Contains(idx.batch, true) {
		return fmt.Errorf("the indices %q must be an integer scalar or 1-D tensor", n.inName(1))
	}
	out := &constant{dims: slices.Clone(idx.dims), isInt: true}
	for _, i := range idx.i {
		k, ok := normAxis(i, len(data.i))
		if !ok {
			return fmt.Errorf("index %d is out of range for %d elements", i, len(data.i))
		}
		out.i = append(out.i, data.i[k])
		out.batch = append(out.batch, data.batch[k])
	}
	n.out(0, &value{c: out})
	return nil
}

func concatConst(n *node, axis int64) error {
	out := &constant{isInt: true}
	for i := range n.nin() {
		c := n.in(i).c
		if !c.isInt || len(c.dims) != 1 {
			return fmt.Errorf("cnnc import concatenates constants only when they are 1-D integer tensors (shape arithmetic)")
		}
		if ax, ok := normAxis(axis, 1); !ok || ax != 0 {
			return fmt.Errorf("axis %d is out of range", axis)
		}
		out.i = append(out.i, c.i...)
		out.batch = append(out.batch, c.batch...)
		if len(out.i) > maxElems {
			return fmt.Errorf("too many elements")
		}
	}
	out.dims = []int{len(out.i)}
	n.out(0, &value{c: out})
	return nil
}

func opCast(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	to := n.attrInt("to", 0)
	if n.err != nil {
		return n.err
	}
	toFloat := false
	switch pb.TensorProto_DataType(to) {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		toFloat = true
	case pb.TensorProto_INT64, pb.TensorProto_INT32:
	default:
		return fmt.Errorf("cast to %s is not supported", dataTypeName(int32(to)))
	}
	v := n.in(0)
	if v.c == nil {
		if _, err := n.act(0); err != nil {
			return err
		}
		if pb.TensorProto_DataType(to) != pb.TensorProto_FLOAT {
			return fmt.Errorf("casts an activation to %s; cnnc computes in FLOAT", dataTypeName(int32(to)))
		}
		n.out(0, v)
		return nil
	}
	c := v.c
	out := &constant{dims: slices.Clone(c.dims), isInt: !toFloat}
	switch {
	case toFloat && c.isInt:
		if slices.Contains(c.batch, true) {
			return fmt.Errorf("casts the batch size to a float")
		}
		for _, x := range c.i {
			out.f = append(out.f, float32(x))
		}
	case toFloat:
		out.f = slices.Clone(c.f)
	case c.isInt:
		out.i, out.batch = slices.Clone(c.i), slices.Clone(c.batch)
	default:
		for _, x := range c.f {
			if !(x > -1<<62 && x < 1<<62) {
				return fmt.Errorf("the value %v does not fit an integer", x)
			}
			out.i = append(out.i, int64(x))
		}
		out.batch = make([]bool, len(out.i))
	}
	if pb.TensorProto_DataType(to) == pb.TensorProto_INT32 {
		for _, x := range out.i {
			if x != int64(int32(x)) {
				return fmt.Errorf("the value %d does not fit INT32", x)
			}
		}
	}
	n.out(0, &value{c: out})
	return nil
}

// ---------------------------------------------------------------- constant folding

// maxFolded bounds the elements of a constant the importer computes
// (ConstantOfShape, Slice, ...): shape arithmetic needs a few.
const maxFolded = 1 << 16

// mustConst returns input i as a constant for an operator that cnnc import
// evaluates only at import time.
func (n *node) mustConst(i int) (*constant, error) {
	v := n.in(i)
	if v != nil && v.c == nil {
		return nil, fmt.Errorf("input %q is an activation; cnnc import evaluates %s only on constants (shape arithmetic), it has no such layer", n.inName(i), n.pb.GetOpType())
	}
	return n.konst(i, "the data")
}

// strides returns row-major strides for dims.
func strides(dims []int) []int {
	s := make([]int, len(dims))
	k := 1
	for i := len(dims) - 1; i >= 0; i-- {
		s[i] = k
		k *= dims[i]
	}
	return s
}

// gather makes a constant of the given dims whose element j is c's element
// at index(j).
func (c *constant) gather(dims []int, count int, index func(j int) int) *constant {
	out := &constant{dims: dims, isInt: c.isInt}
	for j := range count {
		k := index(j)
		if c.isInt {
			out.i = append(out.i, c.i[k])
			out.batch = append(out.batch, c.batch[k])
		} else {
			out.f = append(out.f, c.f[k])
		}
	}
	if c.isInt && out.i == nil {
		out.i, out.batch = []int64{}, []bool{}
	}
	return out
}

func opConstantOfShape(n *node) error {
	if n.nin() != 1 || n.in(0) == nil {
		return fmt.Errorf("ConstantOfShape takes one input")
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	shape, err := n.intList(0, "the shape")
	if err != nil {
		return err
	}
	dims := make([]int, len(shape))
	total := 1
	for i, d := range shape {
		if d < 0 || d > maxFolded {
			return fmt.Errorf("shape %v is out of range", shape)
		}
		dims[i] = int(d)
		total *= int(d)
		if total > maxFolded {
			return fmt.Errorf("shape %v has more than %d elements; cnnc import folds only small constants", shape, maxFolded)
		}
	}
	fill := &constant{dims: []int{1}, f: []float32{0}}
	if a := n.attr("value", pb.AttributeProto_TENSOR); a != nil && a.T != nil {
		if fill, err = decodeTensor(a.T); err != nil {
			return err
		}
		if fill.len() != 1 {
			return fmt.Errorf("value has %d elements; want 1", fill.len())
		}
	}
	if n.err != nil {
		return n.err
	}
	if len(dims) > maxRank {
		return fmt.Errorf("rank %d is more than %d", len(dims), maxRank)
	}
	n.out(0, &value{c: fill.gather(dims, total, func(int) int { return 0 })})
	return nil
}

// opTranspose permutes the axes of a constant, or of an activation
// (transposeAct, layout.go).
func opTranspose(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	var full []int
	v := n.in(0)
	if v.c != nil {
		full = v.c.dims
	} else if a, err := n.anyAct(0); err != nil {
		return err
	} else {
		full = append([]int{-1}, a.dims...)
	}
	r := len(full)
	perm, given := n.attrInts("perm")
	if n.err != nil {
		return n.err
	}
	if !given {
		for k := r - 1; k >= 0; k-- {
			perm = append(perm, int64(k))
		}
	}
	if len(perm) != r {
		return fmt.Errorf("perm %v for a rank-%d tensor", perm, r)
	}
	seen := make([]bool, r)
	dims := make([]int, r)
	for k, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return fmt.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
		dims[k] = full[p]
	}
	if v.c == nil {
		return transposeAct(n, v.a, perm, dims)
	}
	c := v.c
	in, out := strides(c.dims), strides(dims)
	n.out(0, &value{c: c.gather(dims, c.len(), func(j int) int {
		k := 0
		for a := range r {
			k += (j / out[a] % dims[a]) * in[perm[a]]
		}
		return k
	})})
	return nil
}

// opSlice slices a constant (ONNX's rules: negative indices count from the
// end, bounds are clamped, steps may be negative), or the channels of an
// activation (sliceAct, channels.go).
func opSlice(n *node) error {
	if err := n.inputs(1, 5); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	var full []int
	v := n.in(0)
	if v.c != nil {
		full = v.c.dims
	} else if a, err := n.chanAct(0); err != nil {
		return err
	} else {
		full = append([]int{-1}, a.dims...)
	}
	starts, _ := n.attrInts("starts")
	ends, _ := n.attrInts("ends")
	axes, hasAxes := n.attrInts("axes")
	var steps []int64
	if n.err != nil {
		return n.err
	}
	lists := []*[]int64{&starts, &ends, &axes, &steps}
	for i, what := range []string{"starts", "ends", "axes", "steps"} {
		if n.in(i+1) != nil {
			var err error
			if *lists[i], err = n.intList(i+1, what); err != nil {
				return err
			}
			if i == 2 {
				hasAxes = true
			}
		}
	}
	if !hasAxes {
		axes = nil
		for k := range starts {
			axes = append(axes, int64(k))
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	r := len(full)
	first := make([]int, r) // per axis: first index, step and count
	step := make([]int, r)
	dims := slices.Clone(full)
	for k := range step {
		step[k] = 1
	}
	done := make([]bool, r)
	for i, ax := range axes {
		a, ok := normAxis(ax, r)
		if !ok || done[a] {
			return fmt.Errorf("axes %v are out of range or repeated", axes)
		}
		done[a] = true
		d := int64(full[a])
		st := steps[i]
		if st == 0 || st < -maxElems || st > maxElems {
			return fmt.Errorf("step %d", st)
		}
		s, e := starts[i], ends[i]
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		var cnt int64
		if st > 0 {
			s, e = min(max(s, 0), d), min(max(e, 0), d)
			if e > s {
				cnt = (e - s + st - 1) / st
			}
		} else {
			s, e = min(max(s, -1), d-1), min(max(e, -1), d-1)
			if s > e {
				cnt = (s - e - st - 1) / -st
			}
		}
		first[a], step[a], dims[a] = int(s), int(st), int(cnt)
	}
	if v.c == nil {
		return sliceAct(n, v.a, first, step, dims)
	}
	c := v.c
	total := prod(dims)
	in, out := strides(c.dims), strides(dims)
	n.out(0, &value{c: c.gather(dims, total, func(j int) int {
		k := 0
		for a := range r {
			k += (first[a] + (j/out[a]%dims[a])*step[a]) * in[a]
		}
		return k
	})})
	return nil
}

// reshapeConst reshapes a constant (Reshape's rules over all dimensions).
func reshapeConst(n *node, c *constant, t []int64, marks []bool, allowzero bool) error {
	if slices.Contains(marks, true) {
		return fmt.Errorf("the shape of a constant depends on the batch size")
	}
	if len(t) > maxRank {
		return fmt.Errorf("target rank %d is more than %d", len(t), maxRank)
	}
	dims := make([]int, len(t))
	neg, known := -1, 1
	for i, v := range t {
		switch {
		case v == 0 && !allowzero:
			if i >= len(c.dims) {
				return fmt.Errorf("dimension %d copies a dimension that does not exist", i)
			}
			dims[i] = c.dims[i]
		case v == -1 && neg < 0:
			neg = i
			continue
		case v < 0 || v > maxElems:
			return fmt.Errorf("target shape %v", t)
		default:
			dims[i] = int(v)
		}
		known *= dims[i]
		if known > maxElems {
			return fmt.Errorf("target shape %v is too large", t)
		}
	}
	if neg >= 0 {
		if known == 0 || c.len()%known != 0 {
			return fmt.Errorf("target shape %v does not fit %d elements", t, c.len())
		}
		dims[neg] = c.len() / known
	}
	if prod(dims) != c.len() {
		return fmt.Errorf("target shape %v does not fit %d elements", t, c.len())
	}
	out := *c
	out.dims = dims
	n.out(0, &value{c: &out})
	return nil
}

// binaryConst evaluates an elementwise arithmetic operator on two
// constants, with ONNX's (NumPy's) broadcasting. Integer division
// truncates toward zero, as onnxruntime's does.
func binaryConst(n *node, a, b *constant) error {
	op := n.pb.GetOpType()
	if a.isInt != b.isInt {
		return fmt.Errorf("%s of a %s and a %s tensor", op, a.kind(), b.kind())
	}
	if a.isInt && (slices.Contains(a.batch, true) || slices.Contains(b.batch, true)) {
		return fmt.Errorf("the result depends on the batch size, which cnnc fixes only at compile time")
	}
	r := max(len(a.dims), len(b.dims))
	dims := make([]int, r)
	pad := func(d []int) []int { return append(slices.Repeat([]int{1}, r-len(d)), d...) }
	da, db := pad(a.dims), pad(b.dims)
	for k := range r {
		switch {
		case da[k] == db[k] || db[k] == 1:
			dims[k] = da[k]
		case da[k] == 1:
			dims[k] = db[k]
		default:
			return fmt.Errorf("shapes %v and %v do not broadcast", a.dims, b.dims)
		}
	}
	total := prod(dims)
	if total > maxFolded {
		return fmt.Errorf("the result has %d elements; cnnc import folds only small constants", total)
	}
	sa, sb, so := strides(da), strides(db), strides(dims)
	index := func(j int, d, s []int) int {
		k := 0
		for ax := range r {
			if d[ax] != 1 {
				k += (j / so[ax] % dims[ax]) * s[ax]
			}
		}
		return k
	}
	out := &constant{dims: dims, isInt: a.isInt}
	for j := range total {
		ia, ib := index(j, da, sa), index(j, db, sb)
		if a.isInt {
			x, y := a.i[ia], b.i[ib]
			var z int64
			switch op {
			case "Add":
				z = x + y
			case "Sub":
				z = x - y
			case "Mul":
				z = x * y
			case "Div":
				if y == 0 {
					return fmt.Errorf("integer division by zero")
				}
				z = x / y
			}
			out.i = append(out.i, z)
			out.batch = append(out.batch, false)
			continue
		}
		x, y := a.f[ia], b.f[ib]
		var z float32
		switch op {
		case "Add":
			z = x + y
		case "Sub":
			z = x - y
		case "Mul":
			z = x * y
		case "Div":
			z = x / y
		}
		out.f = append(out.f, z)
	}
	n.out(0, &value{c: out})
	return nil
}

func opNeg(n *node) error {
	if err := n.inputs(1, 1); err != nil {
		return err
	}
	if err := n.outputs(1); err != nil {
		return err
	}
	c, err := n.mustConst(0)
	if err != nil {
		return err
	}
	if c.isInt && slices.Contains(c.batch, true) {
		return fmt.Errorf("the result depends on the batch size")
	}
	out := c.gather(slices.Clone(c.dims), c.len(), func(j int) int { return j })
	for i := range out.i {
		out.i[i] = -out.i[i]
	}
	for i := range out.f {
		out.f[i] = -out.f[i]
	}
	n.out(0, &value{c: out})
	return nil
}
