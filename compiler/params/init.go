package params

import (
	"hash/fnv"
	"math"

	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// rng is splitmix64: tiny, fast, and fixed forever, so that the weights a
// seed gives never change with the Go release (math/rand's streams may).
type rng struct{ s uint64 }

func newRNG(seed uint64, name string) *rng {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &rng{s: seed ^ h.Sum64()}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns a float64 in [0, 1) with 53 random bits.
func (r *rng) uniform() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal returns an approximately standard normal variate: the Irwin-Hall
// sum of twelve uniforms, less six. Each uniform has 48 bits, so the sum is
// exact in float64 and the result is bit-for-bit the same on every
// platform, which Box-Muller's Log and Cos (assembly on some GOARCHes)
// would not guarantee. Its tails stop at ±6, which initial weights do not miss.
func (r *rng) normal() float64 {
	var sum uint64
	for range 12 {
		sum += r.next() >> 16
	}
	return float64(sum)/(1<<48) - 6
}

// Init returns deterministic random tensors for every tensor g reads. Each
// tensor's values depend only on seed and its name, not on the order of the
// layers or on which passes ran. Weights are He-initialised (normal with
// standard deviation sqrt(2/fan_in)) so activations keep their scale through
// deep ReLU stacks; biases are uniform in [-0.1, 0.1); batchnorm statistics
// are drawn so that folding is exercised: gamma and var in [0.5, 1.5), beta
// and mean in [-0.25, 0.25); prelu slopes in [0, 0.5).
func Init(g *ir.Graph, seed uint64) []*tensor.Tensor {
	var out []*tensor.Tensor
	for _, w := range Wants(g) {
		r := newRNG(seed, w.Name)
		data := make([]float32, product(w.Shape))
		switch w.Role {
		case Weight:
			fanIn := 1
			for _, d := range w.Shape[1:] {
				fanIn *= d
			}
			std := math.Sqrt(2 / float64(fanIn))
			for i := range data {
				data[i] = float32(r.normal() * std)
			}
		case Bias:
			fill(data, r, -0.1, 0.1)
		case BNGamma, BNVar:
			fill(data, r, 0.5, 1.5)
		case BNBeta, BNMean:
			fill(data, r, -0.25, 0.25)
		case Slope:
			fill(data, r, 0, 0.5)
		}
		out = append(out, &tensor.Tensor{Name: w.Name, Shape: w.Shape, Data: data})
	}
	return out
}

func fill(data []float32, r *rng, lo, hi float64) {
	for i := range data {
		data[i] = float32(lo + (hi-lo)*r.uniform())
	}
}

// Input returns a deterministic random input batch: standard normal values,
// the scale of a normalised image.
func Input(g *ir.Graph, batch int, seed uint64) []float32 {
	r := newRNG(seed, "input")
	x := make([]float32, batch*g.Input().Shape.Elems())
	for i := range x {
		x[i] = float32(r.normal())
	}
	return x
}

// Map returns tensors by name, for Effective.
func Map(ts []*tensor.Tensor) map[string][]float32 {
	m := make(map[string][]float32, len(ts))
	for _, t := range ts {
		m[t.Name] = t.Data
	}
	return m
}
