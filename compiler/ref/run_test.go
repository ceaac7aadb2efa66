package ref

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

func TestRunPreLRNAct(t *testing.T) {
	// Input 2x1x2, layout [ch0p0, ch0p1, ch1p0, ch1p1] = [−1, −3, −3, 0].
	// LRN (Size 3, Alpha 3, Beta 1, K 1): pixel 0 denominator 1+1+9 = 11,
	// pixel 1: 1+9 = 10 → [−1/11, −3/10, −3/11, 0]. Max over the two pixels:
	// [−1/11, 0]. Leaky ReLU 0.5: [−1/22, 0]. (Pooling before the LRN would
	// give [−1/2, 0] → [−1/4, 0].)
	in := input(shape(2, 1, 2))
	pool := &ir.Node{Name: "pool", Op: ir.OpMaxPool, Inputs: []*ir.Node{in}, Shape: shape(2, 1, 1),
		Pool:   ir.PoolAttrs{KH: 1, KW: 2, StrideH: 1, StrideW: 2},
		PreLRN: &ir.LRNAttrs{Size: 3, Alpha: 3, Beta: 1, K: 1},
		Act:    ir.Activation{Kind: ir.ActLeakyReLU, Alpha: 0.5}}
	g := graph(in, pool)
	x := f32s(-1, -3, -3, 0)
	r := mustRun(t, g, nil, x, 1)
	checkNear(t, "lrn+maxpool+leaky", r.Output(g), f32s(-1.0/22, 0), exact)
	checkNear(t, "input", r.Values[in], x, 0)
}

// bigGraph returns a small graph using every op, and its parameters.
func bigGraph(r *rand.Rand) (*ir.Graph, params) {
	node := func(name string, op ir.Op, s ir.Shape, ins ...*ir.Node) *ir.Node {
		return &ir.Node{Name: name, Op: op, Shape: s, Inputs: ins}
	}
	one := ir.ConvAttrs{KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1}

	in := input(shape(2, 5, 5))
	c1 := node("c1", ir.OpConv, shape(4, 5, 5), in)
	c1.Conv = ir.ConvAttrs{Filters: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 2,
		Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}, Bias: true}
	c1.Act = ir.Activation{Kind: ir.ActReLU}
	bn := node("bn", ir.OpBatchNorm, shape(4, 5, 5), c1)
	relu := node("relu", ir.OpReLU, shape(4, 5, 5), bn)
	pool := node("pool", ir.OpMaxPool, shape(4, 3, 3), relu)
	pool.Pool = ir.PoolAttrs{KH: 2, KW: 2, StrideH: 2, StrideW: 2, Ceil: true}
	lrn := node("lrn", ir.OpLRN, shape(4, 3, 3), pool)
	lrn.LRN = ir.LRNAttrs{Size: 3, Alpha: 0.5, Beta: 0.75, K: 1}
	c2 := node("c2", ir.OpConv, shape(2, 3, 3), lrn)
	c2.Conv = one
	c2.Conv.Filters = 2
	c2.Act = ir.Activation{Kind: ir.ActTanh}
	cat := node("cat", ir.OpConcat, shape(6, 3, 3), lrn, c2)
	c3 := node("c3", ir.OpConv, shape(3, 3, 3), cat)
	c3.Conv = one
	c3.Conv.Filters = 3
	c4 := node("c4", ir.OpConv, shape(3, 3, 3), cat)
	c4.Conv = one
	c4.Conv.Filters = 3
	add := node("add", ir.OpAdd, shape(3, 3, 3), c3, c4, c3)
	leaky := node("leaky", ir.OpLeakyReLU, shape(3, 3, 3), add)
	leaky.Fn = ir.Activation{Kind: ir.ActLeakyReLU, Alpha: 0.2}
	sig := node("sig", ir.OpSigmoid, shape(3, 3, 3), leaky)
	tanh := node("tanh", ir.OpTanh, shape(3, 3, 3), sig)
	avg := node("avg", ir.OpAvgPool, shape(3, 2, 2), tanh)
	avg.Pool = ir.PoolAttrs{KH: 2, KW: 2, StrideH: 2, StrideW: 2, Pad: ir.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}, CountPad: true}
	gap := node("gap", ir.OpGlobalAvgPool, shape(3, 1, 1), avg)
	fl := node("flatten", ir.OpFlatten, flat(3), gap)
	drop := node("drop", ir.OpDropout, flat(3), fl)
	drop.Rate = 0.5
	fc := node("fc", ir.OpDense, flat(5), drop)
	fc.Dense = ir.DenseAttrs{Units: 5, Bias: true}
	sm := node("softmax", ir.OpSoftmax, flat(5), fc)

	g := graph(in, c1, bn, relu, pool, lrn, c2, cat, c3, c4, add, leaky, sig, tanh, avg, gap, fl, drop, fc, sm)
	p := params{
		c1: {randSlice(r, 4*1*9), randSlice(r, 4)},
		bn: {randSlice(r, 4), randSlice(r, 4)},
		c2: {randSlice(r, 2*4), nil},
		c3: {randSlice(r, 3*6), randSlice(r, 3)},
		c4: {randSlice(r, 3*6), randSlice(r, 3)},
		fc: {randSlice(r, 5*3), randSlice(r, 5)},
	}
	return g, p
}

// TestRunGraph checks Run's plumbing (input order, parameters, fused
// activations, one value per node) against a hand-written sequence of
// per-op calls.
func TestRunGraph(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g, p := bigGraph(r)
	const batch = 3
	x := randSlice(r, batch*50)
	res := mustRun(t, g, p, x, batch)

	get := func(name string) *ir.Node { return g.Lookup(name) }
	buf := func(name string) []float32 { return make([]float32, batch*get(name).Shape.Elems()) }
	want := map[string][]float32{}
	conv := func(name, from string) {
		n := get(name)
		y := buf(name)
		Conv(y, want[from], batch, get(from).Shape, n.Shape, &n.Conv, p[n][0], p[n][1])
		Activate(y, y, n.Act)
		want[name] = y
	}
	want["in"] = x
	conv("c1", "in")
	want["bn"] = buf("bn")
	BatchNorm(want["bn"], want["c1"], batch, shape(4, 5, 5), p[get("bn")][0], p[get("bn")][1])
	want["relu"] = buf("relu")
	Activate(want["relu"], want["bn"], ir.Activation{Kind: ir.ActReLU})
	want["pool"] = buf("pool")
	MaxPool(want["pool"], want["relu"], batch, shape(4, 5, 5), shape(4, 3, 3), &get("pool").Pool)
	want["lrn"] = buf("lrn")
	LRN(want["lrn"], want["pool"], batch, shape(4, 3, 3), &get("lrn").LRN)
	conv("c2", "lrn")
	want["cat"] = buf("cat")
	Concat(want["cat"], batch, want["lrn"], want["c2"])
	conv("c3", "cat")
	conv("c4", "cat")
	want["add"] = buf("add")
	Add(want["add"], want["c3"], want["c4"], want["c3"])
	want["leaky"] = buf("leaky")
	Activate(want["leaky"], want["add"], ir.Activation{Kind: ir.ActLeakyReLU, Alpha: 0.2})
	want["sig"] = buf("sig")
	Activate(want["sig"], want["leaky"], ir.Activation{Kind: ir.ActSigmoid})
	want["tanh"] = buf("tanh")
	Activate(want["tanh"], want["sig"], ir.Activation{Kind: ir.ActTanh})
	want["avg"] = buf("avg")
	AvgPool(want["avg"], want["tanh"], batch, shape(3, 3, 3), shape(3, 2, 2), &get("avg").Pool)
	want["gap"] = buf("gap")
	GlobalAvgPool(want["gap"], want["avg"], batch, shape(3, 2, 2))
	want["flatten"] = want["gap"]
	want["drop"] = want["gap"]
	want["fc"] = buf("fc")
	Dense(want["fc"], want["drop"], batch, 3, 5, p[get("fc")][0], p[get("fc")][1])
	want["softmax"] = buf("softmax")
	Softmax(want["softmax"], want["fc"], batch, flat(5))

	for _, n := range g.Nodes {
		checkNear(t, n.Name, res.Values[n], want[n.Name], 0)
	}
	out := res.Output(g)
	for i := range batch {
		sum := 0.0
		for _, v := range out[i*5 : (i+1)*5] {
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("image %d: softmax sums to %v", i, sum)
		}
	}
	if &res.Values[g.Nodes[0]][0] == &x[0] {
		t.Errorf("the input value aliases x")
	}

	// Batch images are independent: running each alone gives the same values.
	for i := range batch {
		one := mustRun(t, g, p, x[i*50:(i+1)*50], 1)
		for _, n := range g.Nodes {
			e := n.Shape.Elems()
			checkNear(t, n.Name+" alone", one.Values[n], res.Values[n][i*e:(i+1)*e], 0)
		}
	}
}

func TestRunErrors(t *testing.T) {
	conv := func() (*ir.Graph, params) {
		in := input(shape(4, 5, 5))
		c := &ir.Node{Name: "c", Op: ir.OpConv, Inputs: []*ir.Node{in}, Shape: shape(6, 3, 3),
			Conv: ir.ConvAttrs{Filters: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 2}}
		return graph(in, c), params{c: {make([]float32, 6*2*9), make([]float32, 6)}}
	}
	unary := func(op ir.Op, in, out ir.Shape) *ir.Graph {
		i := input(in)
		return graph(i, &ir.Node{Name: "u", Op: op, Inputs: []*ir.Node{i}, Shape: out,
			Pool: ir.PoolAttrs{KH: 2, KW: 2, StrideH: 2, StrideW: 2}, LRN: ir.LRNAttrs{Size: 3}})
	}
	x := make([]float32, 100)
	cases := []struct {
		name  string
		build func() (*ir.Graph, Params, []float32, int)
		want  string
	}{
		{"nil graph", func() (*ir.Graph, Params, []float32, int) { return nil, nil, x, 1 }, "empty graph"},
		{"no nodes", func() (*ir.Graph, Params, []float32, int) { return &ir.Graph{}, nil, x, 1 }, "empty graph"},
		{"batch 0", func() (*ir.Graph, Params, []float32, int) { g, p := conv(); return g, p, x, 0 }, "batch"},
		{"no output", func() (*ir.Graph, Params, []float32, int) { g, p := conv(); g.Output = nil; return g, p, x, 1 }, "no output"},
		{"output elsewhere", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Output = input(shape(1, 1, 1))
			return g, p, x, 1
		}, "not in the node list"},
		{"first not input", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes = g.Nodes[1:]
			return g, p, x, 1
		}, "first node"},
		{"nil node", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes = append(g.Nodes, nil)
			return g, p, x, 1
		}, "node 2 is nil"},
		{"x length", func() (*ir.Graph, Params, []float32, int) { g, p := conv(); return g, p, x[:99], 1 }, "len(x) = 99"},
		{"x length batch", func() (*ir.Graph, Params, []float32, int) { g, p := conv(); return g, p, x[:100], 2 }, "len(x)"},
		{"unknown op", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Op = ir.Op(200)
			return g, p, x[:100], 1
		}, `"c" (Op(200)): unsupported op`},
		{"second input", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Op, g.Nodes[1].Inputs = ir.OpInput, nil
			return g, p, x[:100], 1
		}, "not the first node"},
		{"input with inputs", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[0].Inputs = []*ir.Node{g.Nodes[1]}
			return g, p, x[:100], 1
		}, "input node has 1 inputs"},
		{"duplicate", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes = append(g.Nodes, g.Nodes[1])
			return g, p, x[:100], 1
		}, "more than once"},
		{"nil input", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Inputs[0] = nil
			return g, p, x[:100], 1
		}, "input 0 is nil"},
		{"order", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Inputs[0] = &ir.Node{Name: "ghost", Op: ir.OpReLU, Shape: shape(4, 5, 5)}
			return g, p, x[:100], 1
		}, `input "ghost" is not evaluated`},
		{"arity", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Inputs = append(g.Nodes[1].Inputs, g.Nodes[0])
			return g, p, x[:100], 1
		}, "2 inputs, want 1"},
		{"add no inputs", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(1, 1, 1))
			return graph(in, &ir.Node{Name: "a", Op: ir.OpAdd, Shape: shape(1, 1, 1)}), nil, x[:1], 1
		}, "no inputs"},
		{"bad shape", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Shape.C = 0
			return g, p, x[:100], 1
		}, "output shape"},
		{"bad flat", func() (*ir.Graph, Params, []float32, int) {
			return graph(input(ir.Shape{C: 2, H: 2, W: 1, Flat: true})), nil, x[:4], 1
		}, "flat shape"},
		{"huge shape", func() (*ir.Graph, Params, []float32, int) {
			return graph(input(shape(1<<24, 1<<24, 1<<24))), nil, x, 1
		}, "too many"},
		{"huge batch", func() (*ir.Graph, Params, []float32, int) {
			return graph(input(shape(1000, 1000, 1000))), nil, x, 1 << 40
		}, "too large"},
		{"bad act", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Act.Kind = 17
			return g, p, x[:100], 1
		}, "unknown fused activation"},
		{"conv groups", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Conv.Groups = 3
			return g, p, x[:100], 1
		}, "3 groups do not divide"},
		{"conv shape", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Shape = shape(6, 4, 3)
			return g, p, x[:100], 1
		}, "give 6x3x3"},
		{"conv filters", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Shape = shape(4, 3, 3)
			return g, p, x[:100], 1
		}, "give 6x3x3"},
		{"conv stride 0", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Conv.StrideH = 0
			return g, p, x[:100], 1
		}, "out of range"},
		{"conv negative pad", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Conv.Pad.Right = -1
			return g, p, x[:100], 1
		}, "out of range"},
		{"conv kernel too big", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			g.Nodes[1].Conv.DilH = 3
			return g, p, x[:100], 1
		}, "larger than the padded input"},
		{"conv no params", func() (*ir.Graph, Params, []float32, int) { g, _ := conv(); return g, nil, x[:100], 1 }, "no Params"},
		{"conv weights", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			p[g.Nodes[1]] = [2][]float32{make([]float32, 107), nil}
			return g, p, x[:100], 1
		}, `"c" (conv): Params gave 107 weights, want 108`},
		{"conv bias", func() (*ir.Graph, Params, []float32, int) {
			g, p := conv()
			p[g.Nodes[1]] = [2][]float32{make([]float32, 108), make([]float32, 5)}
			return g, p, x[:100], 1
		}, "5 bias values, want 6"},
		{"dense units", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(2, 2, 2))
			d := &ir.Node{Name: "d", Op: ir.OpDense, Inputs: []*ir.Node{in}, Shape: flat(4), Dense: ir.DenseAttrs{Units: 3}}
			return graph(in, d), params{d: {make([]float32, 24), nil}}, x[:8], 1
		}, "units 3"},
		{"dense weights", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(2, 2, 2))
			d := &ir.Node{Name: "d", Op: ir.OpDense, Inputs: []*ir.Node{in}, Shape: flat(3), Dense: ir.DenseAttrs{Units: 3}}
			return graph(in, d), params{d: {make([]float32, 23), nil}}, x[:8], 1
		}, "want 24"},
		{"batchnorm scale", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(2, 2, 2))
			b := &ir.Node{Name: "b", Op: ir.OpBatchNorm, Inputs: []*ir.Node{in}, Shape: shape(2, 2, 2)}
			return graph(in, b), params{b: {make([]float32, 3), nil}}, x[:8], 1
		}, "3 scale, want 2"},
		{"batchnorm shift", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(2, 2, 2))
			b := &ir.Node{Name: "b", Op: ir.OpBatchNorm, Inputs: []*ir.Node{in}, Shape: shape(2, 2, 2)}
			return graph(in, b), params{b: {make([]float32, 2), make([]float32, 1)}}, x[:8], 1
		}, "1 shift values, want 2"},
		{"relu shape", func() (*ir.Graph, Params, []float32, int) {
			return unary(ir.OpReLU, shape(2, 2, 2), shape(2, 1, 4)), nil, x[:8], 1
		}, "want equal"},
		{"softmax shape", func() (*ir.Graph, Params, []float32, int) {
			return unary(ir.OpSoftmax, shape(2, 2, 2), flat(8)), nil, x[:8], 1
		}, "want equal"},
		{"flatten size", func() (*ir.Graph, Params, []float32, int) {
			return unary(ir.OpFlatten, shape(2, 2, 2), flat(7)), nil, x[:8], 1
		}, "flattening"},
		{"gap shape", func() (*ir.Graph, Params, []float32, int) {
			return unary(ir.OpGlobalAvgPool, shape(2, 2, 2), shape(2, 2, 1)), nil, x[:8], 1
		}, "global pooling"},
		{"pool size", func() (*ir.Graph, Params, []float32, int) {
			return unary(ir.OpMaxPool, shape(2, 4, 4), shape(2, 3, 2)), nil, x[:32], 1
		}, "gives 2x2x2"},
		{"pool channels", func() (*ir.Graph, Params, []float32, int) {
			return unary(ir.OpAvgPool, shape(2, 4, 4), shape(1, 2, 2)), nil, x[:32], 1
		}, "channel count"},
		{"pool window in padding", func() (*ir.Graph, Params, []float32, int) {
			g := unary(ir.OpMaxPool, shape(2, 4, 4), shape(2, 4, 4))
			g.Nodes[1].Pool.Pad = ir.Pad{Top: 2, Bottom: 2, Left: 0, Right: 0}
			g.Nodes[1].Shape = shape(2, 4, 2)
			return g, nil, x[:32], 1
		}, "entirely in the padding"},
		{"pool stride 0", func() (*ir.Graph, Params, []float32, int) {
			g := unary(ir.OpAvgPool, shape(2, 4, 4), shape(2, 2, 2))
			g.Nodes[1].Pool.StrideW = 0
			return g, nil, x[:32], 1
		}, "out of range"},
		{"pool too small", func() (*ir.Graph, Params, []float32, int) {
			return unary(ir.OpMaxPool, shape(2, 1, 4), shape(2, 1, 2)), nil, x[:8], 1
		}, "window larger"},
		{"lrn size", func() (*ir.Graph, Params, []float32, int) {
			g := unary(ir.OpLRN, shape(2, 2, 2), shape(2, 2, 2))
			g.Nodes[1].LRN.Size = 0
			return g, nil, x[:8], 1
		}, "size 0"},
		{"prelrn size", func() (*ir.Graph, Params, []float32, int) {
			g := unary(ir.OpMaxPool, shape(2, 4, 4), shape(2, 2, 2))
			g.Nodes[1].PreLRN = &ir.LRNAttrs{Size: -1}
			return g, nil, x[:32], 1
		}, "fused LRN: size -1"},
		{"prelrn on add", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(1, 1, 1))
			a := &ir.Node{Name: "a", Op: ir.OpAdd, Inputs: []*ir.Node{in, in}, Shape: shape(1, 1, 1), PreLRN: &ir.LRNAttrs{Size: 1}}
			return graph(in, a), nil, x[:1], 1
		}, "fused LRN on a node with 2 inputs"},
		{"add shapes", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(2, 2, 2))
			f := &ir.Node{Name: "f", Op: ir.OpFlatten, Inputs: []*ir.Node{in}, Shape: flat(8)}
			a := &ir.Node{Name: "a", Op: ir.OpAdd, Inputs: []*ir.Node{in, f}, Shape: shape(2, 2, 2)}
			return graph(in, f, a), nil, x[:8], 1
		}, "does not broadcast"},
		{"concat channels", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(2, 2, 2))
			c := &ir.Node{Name: "c", Op: ir.OpConcat, Inputs: []*ir.Node{in, in}, Shape: shape(5, 2, 2)}
			return graph(in, c), nil, x[:8], 1
		}, "4 channels in all"},
		{"concat spatial", func() (*ir.Graph, Params, []float32, int) {
			in := input(shape(2, 2, 2))
			f := &ir.Node{Name: "f", Op: ir.OpFlatten, Inputs: []*ir.Node{in}, Shape: flat(8)}
			c := &ir.Node{Name: "c", Op: ir.OpConcat, Inputs: []*ir.Node{in, f}, Shape: shape(10, 2, 2)}
			return graph(in, f, c), nil, x[:8], 1
		}, "spatial sizes differ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, p, x, batch := c.build()
			res, err := Run(g, p, x, batch)
			if err == nil {
				t.Fatalf("Run succeeded, want error containing %q", c.want)
			}
			if res != nil {
				t.Errorf("Run returned a result with its error")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "internal error") {
				t.Errorf("error %q, want one containing %q", err, c.want)
			}
		})
	}
}

// TestRunNoPanic throws random, mostly malformed, single-op graphs at Run:
// it must return a result or an error, and never hit its panic backstop.
func TestRunNoPanic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	small := func() int { return r.IntN(6) - 1 } // −1 … 4
	ops := []ir.Op{ir.OpConv, ir.OpDense, ir.OpReLU, ir.OpLeakyReLU, ir.OpSigmoid, ir.OpTanh, ir.OpSoftmax,
		ir.OpFlatten, ir.OpDropout, ir.OpMaxPool, ir.OpAvgPool, ir.OpGlobalAvgPool, ir.OpLRN,
		ir.OpBatchNorm, ir.OpAdd, ir.OpConcat, ir.OpInput, ir.Op(99)}
	valid := 0
	for range 30000 {
		inShape := ir.Shape{C: small() + 1, H: small() + 1, W: small() + 1, Flat: r.IntN(8) == 0}
		outShape := ir.Shape{C: small() + 1, H: small() + 1, W: small() + 1, Flat: r.IntN(8) == 0}
		if r.IntN(3) == 0 {
			outShape = inShape
		}
		in := input(inShape)
		n := &ir.Node{Name: "n", Op: ops[r.IntN(len(ops))], Shape: outShape, Inputs: []*ir.Node{in}}
		switch r.IntN(6) {
		case 0:
			n.Inputs = nil
		case 1:
			n.Inputs = append(n.Inputs, in)
		}
		n.Conv = ir.ConvAttrs{Filters: small(), KH: small(), KW: small(), StrideH: small(), StrideW: small(),
			DilH: small(), DilW: small(), Groups: small(), Pad: ir.Pad{Top: small(), Bottom: small(), Left: small(), Right: small()}}
		n.Dense.Units = small()
		n.Pool = ir.PoolAttrs{KH: small(), KW: small(), StrideH: small(), StrideW: small(),
			Pad: ir.Pad{Top: small(), Bottom: small(), Left: small(), Right: small()}, Ceil: r.IntN(2) == 0, CountPad: r.IntN(2) == 0}
		n.LRN = ir.LRNAttrs{Size: small(), Alpha: 1e-4, Beta: 0.75, K: 2}
		if r.IntN(4) == 0 {
			n.PreLRN = &ir.LRNAttrs{Size: small(), Alpha: 1, Beta: 1, K: 1}
		}
		n.Act.Kind = ir.ActKind(r.IntN(6))
		w, b := make([]float32, r.IntN(40)), make([]float32, r.IntN(6))
		if r.IntN(4) == 0 {
			b = nil
		}
		if n.Op == ir.OpConv && n.Conv.Groups > 0 && inShape.C > 0 && r.IntN(2) == 0 {
			w = make([]float32, max(0, n.Conv.Filters*inShape.C/n.Conv.Groups*n.Conv.KH*n.Conv.KW))
		}
		var p Params = params{n: {w, b}}
		if r.IntN(10) == 0 {
			p = nil
		}
		batch := 1 + r.IntN(2)
		x := make([]float32, max(0, batch*inShape.Elems()+r.IntN(2)-r.IntN(2)))
		res, err := Run(graph(in, n), p, x, batch)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%v\nnode %+v\ninput %v", err, n, inShape)
			}
			continue
		}
		if got, want := len(res.Values[n]), batch*n.Shape.Elems(); got != want {
			t.Fatalf("%d values, want %d", got, want)
		}
		valid++
	}
	t.Logf("%d of 30000 random graphs were valid", valid)
	if valid < 100 {
		t.Errorf("only %d random graphs were valid; the generator is too harsh to be useful", valid)
	}
}

// TestRunPoolOutputSize checks the output sizes Run accepts for pooling
// along W (PyTorch's rule: ceil mode rounds up but drops a last window that
// would start in the right padding), and the values for the accepted ones.
func TestRunPoolOutputSize(t *testing.T) {
	cases := []struct {
		w, k, s, padL, padR int
		ceil                bool
		outW                int
		ok                  bool
		x, max              []float32
	}{
		// [1..5], k2 s2: floor windows {1,2},{3,4}; ceil adds {5}.
		{5, 2, 2, 0, 0, false, 2, true, f32s(1, 2, 3, 4, 5), f32s(2, 4)},
		{5, 2, 2, 0, 0, false, 3, false, nil, nil},
		{5, 2, 2, 0, 0, true, 3, true, f32s(1, 2, 3, 4, 5), f32s(2, 4, 5)},
		{5, 2, 2, 0, 0, true, 2, false, nil, nil},
		// [1,2,3], k2 s2 pad 1: ceil would give 3 windows, but the third
		// starts at 4−1 = 3 = W, in the padding, so it is dropped.
		{3, 2, 2, 1, 1, true, 2, true, f32s(1, 2, 3), f32s(1, 3)},
		{3, 2, 2, 1, 1, true, 3, false, nil, nil},
		// Asymmetric: right padding only; ceil keeps the window starting at 2.
		{3, 2, 2, 0, 1, true, 2, true, f32s(1, 2, 3), f32s(2, 3)},
		{4, 3, 2, 0, 0, true, 2, true, f32s(4, 3, 2, 1), f32s(4, 2)},
		{4, 3, 2, 0, 0, false, 1, true, f32s(4, 3, 2, 1), f32s(4)},
	}
	for i, c := range cases {
		in := input(shape(1, 1, c.w))
		n := &ir.Node{Name: "pool", Op: ir.OpMaxPool, Inputs: []*ir.Node{in}, Shape: shape(1, 1, c.outW),
			Pool: ir.PoolAttrs{KH: 1, KW: c.k, StrideH: 1, StrideW: c.s, Pad: ir.Pad{Left: c.padL, Right: c.padR}, Ceil: c.ceil}}
		x := c.x
		if x == nil {
			x = make([]float32, c.w)
		}
		res, err := Run(graph(in, n), nil, x, 1)
		if (err == nil) != c.ok {
			t.Errorf("case %d: err = %v, want ok = %v", i, err, c.ok)
			continue
		}
		if c.ok {
			checkNear(t, "maxpool", res.Values[n], c.max, 0)
		}
	}
}
