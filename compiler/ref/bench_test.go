package ref

import (
	"math/rand/v2"
	"testing"

	"github.com/cnnc/cnnc/compiler/ir"
)

// BenchmarkConvAlexNetConv2 times AlexNet's conv2 (96x27x27 → 256x27x27,
// 5x5, padding 2, 2 groups) on one image: 448 M multiply-adds.
func BenchmarkConvAlexNetConv2(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	in, out := shape(96, 27, 27), shape(256, 27, 27)
	a := &ir.ConvAttrs{Filters: 256, KH: 5, KW: 5, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 2,
		Pad: ir.Pad{Top: 2, Bottom: 2, Left: 2, Right: 2}, Bias: true}
	x := randSlice(r, in.Elems())
	w := randSlice(r, 256*48*25)
	bias := randSlice(r, 256)
	dst := make([]float32, out.Elems())
	b.ResetTimer()
	for b.Loop() {
		Conv(dst, x, 1, in, out, a, w, bias)
	}
	macs := float64(out.Elems() * 48 * 25)
	b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

// uniform returns n values uniform in [−0.05, 0.05): cheaper than
// randSlice for AlexNet's 60 M parameters.
func uniform(r *rand.Rand, n int) []float32 {
	return ramp(n, func(int) float32 { return r.Float32()*0.1 - 0.05 })
}

// alexNet returns Caffe's AlexNet (3x227x227 input, LRN fused into the
// pools, ReLU fused into the convs and fcs) with random parameters.
func alexNet(r *rand.Rand) (*ir.Graph, params) {
	p := params{}
	nodes := []*ir.Node{input(shape(3, 227, 227))}
	last := func() *ir.Node { return nodes[len(nodes)-1] }
	add := func(n *ir.Node) *ir.Node {
		n.Inputs = []*ir.Node{last()}
		nodes = append(nodes, n)
		return n
	}
	relu := ir.Activation{Kind: ir.ActReLU}
	conv := func(name string, filters, k, stride, pad, groups, size int) {
		in := last().Shape
		n := add(&ir.Node{Name: name, Op: ir.OpConv, Shape: shape(filters, size, size), Act: relu,
			Conv: ir.ConvAttrs{Filters: filters, KH: k, KW: k, StrideH: stride, StrideW: stride, DilH: 1, DilW: 1,
				Groups: groups, Pad: ir.Pad{Top: pad, Bottom: pad, Left: pad, Right: pad}, Bias: true}})
		p[n] = [2][]float32{uniform(r, filters*in.C/groups*k*k), uniform(r, filters)}
	}
	pool := func(name string, size int, lrn bool) {
		n := add(&ir.Node{Name: name, Op: ir.OpMaxPool, Shape: shape(last().Shape.C, size, size),
			Pool: ir.PoolAttrs{KH: 3, KW: 3, StrideH: 2, StrideW: 2}})
		if lrn {
			n.PreLRN = &ir.LRNAttrs{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}
		}
	}
	fc := func(name string, units int, act ir.Activation) {
		in := last().Shape.Elems()
		n := add(&ir.Node{Name: name, Op: ir.OpDense, Shape: flat(units), Act: act, Dense: ir.DenseAttrs{Units: units, Bias: true}})
		p[n] = [2][]float32{uniform(r, units*in), uniform(r, units)}
	}
	conv("conv1", 96, 11, 4, 0, 1, 55)
	pool("pool1", 27, true)
	conv("conv2", 256, 5, 1, 2, 2, 27)
	pool("pool2", 13, true)
	conv("conv3", 384, 3, 1, 1, 1, 13)
	conv("conv4", 384, 3, 1, 1, 2, 13)
	conv("conv5", 256, 3, 1, 1, 2, 13)
	pool("pool5", 6, false)
	add(&ir.Node{Name: "flatten", Op: ir.OpFlatten, Shape: flat(9216)})
	fc("fc6", 4096, relu)
	add(&ir.Node{Name: "drop6", Op: ir.OpDropout, Shape: flat(4096), Rate: 0.5})
	fc("fc7", 4096, relu)
	add(&ir.Node{Name: "drop7", Op: ir.OpDropout, Shape: flat(4096), Rate: 0.5})
	fc("fc8", 1000, ir.Activation{})
	add(&ir.Node{Name: "prob", Op: ir.OpSoftmax, Shape: flat(1000)})
	return graph(nodes...), p
}

func BenchmarkAlexNetBatch2(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	g, p := alexNet(r)
	x := randSlice(r, 2*3*227*227)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(g, p, x, 2); err != nil {
			b.Fatal(err)
		}
	}
}
