package rt

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
)

// The generated package's API: Options, Model and its methods, New, Load,
// LayerInfo and Implementations are the same for every network. What they
// read of the network is generated beside them (network.go stands in for
// it here): the shape constants, Layers, the network struct of weights and
// SIMD kernels (newNetwork), m.load, m.planGo and the plans of the assembly
// implementations, scratchLen, stagingLen, tmpLen, outputOffset and
// pkgName.

// Options configure a Model.
type Options struct {
	// Threads is the number of goroutines Infer uses; 0 means runtime.GOMAXPROCS(0).
	// It is capped at 4 x runtime.GOMAXPROCS(0): more workers would only take turns
	// on the processors, each holding its own scratch memory.
	Threads int
	// Impl names the kernels to use, one of Implementations(); "" means the fastest.
	Impl string
}

// Model is the network with its weights loaded and packed for one
// implementation. Infer may be called from several goroutines; calls on one
// Model run one at a time, so use one Model per goroutine for parallel
// inference (each Model also uses Threads goroutines itself).
type Model struct {
	network // the weights, packed by load, and the SIMD kernels of impl
	mu      sync.Mutex
	impl    int
	threads int
	closed  bool // by Close, which has unmapped mem
	pool    *rtPool
	mem     *rtMem // maps the large buffers (weights, arena) outside the Go heap, on huge pages where it can
	steps   []rtStep
	prefix  int       // steps[:prefix] run image by image (rtStep.img)
	src     []float32 // the input during Infer
	arena   []float32
	scratch [][]float32 // per worker: im2col panels, LRN rows
	tmp     [][]float32 // per worker: LRN's squares and sums
	staging []float32   // one layer's reshaped input: dense inputs packed, conv inputs padded

	// The image-major prefix (runPrefix). Its tasks read the image they
	// compute and the buffers they compute it in from lanes[w], w being
	// the worker that runs them. owns and stagings are the lanes' buffers,
	// one pair per worker there has been (SetThreads keeps them for
	// reuse): the first pair is the arena's start and staging.
	lanes     []rtLane
	owns      [][]float32
	stagings  [][]float32
	runImage  func(worker, img int)        // m.prefixImage, made once: a method value allocates
	profiling bool                         // prefixImage times its steps into times
	times     [][len(Layers)]time.Duration // per worker: prefixImage's step times
}

// rtLane is what the tasks of the image-major prefix that one worker runs
// read (Model.lanes): the image they compute, the prefix's own storage
// (prefixOwnLen floats, which hold one image's activations that only the
// prefix uses) and the staging buffer they compute it in.
type rtLane struct {
	img     int
	own     []float32
	staging []float32
	_       [8]byte // a cache line each: a worker writes its img
}

// New reads a safetensors weights file from r and returns a Model using the
// fastest implementation and all CPUs. Tensors are named as a PyTorch
// state_dict names them (conv1.weight, conv1.bias, ...).
func New(r io.Reader) (*Model, error) {
	return NewWithOptions(r, Options{})
}

// NewWithOptions is New with options.
func NewWithOptions(r io.Reader, o Options) (*Model, error) {
	data, err := rtReadAll(r)
	if err != nil {
		return nil, err
	}
	return newModel(data, o)
}

// Load reads the weights file at path; see New.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := newModel(data, Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// rtArenaSlack is how many floats the arena has after its last tensor. A
// 1x1 convolution's GEMM kernels read its input in place (gemm.Config.LDB),
// and on a ragged last column of tiles load whole vectors: up to 15 floats
// past the last row of the input, into lanes that are never stored, but
// which must be mapped.
const rtArenaSlack = 16

func newModel(data []byte, o Options) (*Model, error) {
	impl, err := implIndex(o.Impl)
	if err != nil {
		return nil, err
	}
	file, err := stReadSafetensors(data)
	if err != nil {
		return nil, err
	}
	m := &Model{network: newNetwork(impl), impl: impl, mem: new(rtMem)}
	// Unmap the large buffers when the Model is garbage: only it points into them.
	runtime.AddCleanup(m, func(mem *rtMem) {
		mem.free()
	}, m.mem)
	if err := m.load(file); err != nil {
		return nil, err
	}
	m.arena = rtAlloc[float32](m.mem, ArenaLen+rtArenaSlack)[:ArenaLen]
	m.staging = rtAlloc[float32](m.mem, stagingLen[impl])
	m.steps = m.plan()
	for m.prefix < len(m.steps) && m.steps[m.prefix].img {
		m.prefix++
	}
	m.runImage = m.prefixImage
	m.SetThreads(o.Threads)
	return m, nil
}

// SetThreads sets the number of goroutines Infer uses; n <= 0 means
// runtime.GOMAXPROCS(0), and n is capped at 4 x runtime.GOMAXPROCS(0)
// (Threads reports what it got).
func (m *Model) SetThreads(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		panic(pkgName + ": SetThreads on a closed Model")
	}
	n = rtClampThreads(n)
	if m.pool != nil {
		m.pool.close()
	}
	m.threads = n
	m.scratch = make([][]float32, n)
	m.tmp = make([][]float32, n)
	for i := range n {
		m.scratch[i] = make([]float32, scratchLen[m.impl])
		m.tmp[i] = make([]float32, tmpLen)
	}
	m.lanes = make([]rtLane, n)
	m.times = make([][len(Layers)]time.Duration, n)
	for m.prefix > 0 && len(m.owns) < n {
		if len(m.owns) == 0 {
			m.owns, m.stagings = append(m.owns, m.arena[:prefixOwnLen]), append(m.stagings, m.staging)
			continue
		}
		// The GEMM kernels may read up to rtArenaSlack floats past a
		// tensor, as in the arena.
		own := rtAlloc[float32](m.mem, prefixOwnLen+rtArenaSlack)[:prefixOwnLen]
		m.owns, m.stagings = append(m.owns, own), append(m.stagings, rtAlloc[float32](m.mem, prefixStagingLen[m.impl]))
	}
	m.pool = rtNewPool(n)
	// Stop the workers when the Model is garbage: they hold no reference to it.
	runtime.AddCleanup(m, func(p *rtPool) {
		p.close()
	}, m.pool)
}

// Threads reports the number of goroutines Infer uses.
func (m *Model) Threads() int {
	return m.threads
}

// Impl reports the implementation the Model runs.
func (m *Model) Impl() string {
	return implNames[m.impl]
}

// Infer runs the network on src, Batch images of InputC x InputH x InputW, and
// writes the output of the last layer, Batch times OutputSize values, to dst.
// It allocates nothing.
func (m *Model) Infer(dst *[OutputLen]float32, src *[InputLen]float32) {
	m.run(dst, src, nil)
}

// Profile is Infer, adding to t[i] the time spent in Layers[i].
func (m *Model) Profile(dst *[OutputLen]float32, src *[InputLen]float32, t *[len(Layers)]time.Duration) {
	m.run(dst, src, t)
}

func (m *Model) run(dst *[OutputLen]float32, src *[InputLen]float32, t *[len(Layers)]time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		panic(pkgName + ": Infer on a closed Model")
	}
	m.src = src[:]
	if m.prefix > 0 {
		m.runPrefix(t)
	}
	m.runSteps(m.steps[m.prefix:], t)
	if off := outputOffset; off < 0 {
		copy(dst[:], src[:]) // the network is its input
	} else {
		copy(dst[:], m.arena[off:off+OutputLen])
	}
	m.src = nil
}

// runPrefix runs the image-major prefix, steps[:prefix], for every image.
// The images go to the workers whole: each worker runs every step of the
// prefix for its image, task after task, in its own lane (its own copy of
// the prefix's own storage and staging), and takes the next image. So
// no worker waits for another between steps, and each keeps its image's
// activations in its own core's cache. The last Batch%workers images,
// too few to go round, run one after another instead, with every worker
// on each step (in the first lane), as the rest of the network runs.
//
// With t, the side-by-side images' wall time is shared among the layers
// in proportion to the time the workers spent in each.
func (m *Model) runPrefix(t *[len(Layers)]time.Duration) {
	side := Batch - Batch%len(m.lanes) // images that go to the workers whole
	if side > 0 {
		for w := range m.lanes {
			m.lanes[w] = rtLane{own: m.owns[w], staging: m.stagings[w]}
		}
		m.profiling = t != nil
		start := time.Now()
		m.pool.run(0, side, m.runImage)
		if t != nil {
			wall := time.Since(start)
			var sum [len(Layers)]time.Duration
			var all time.Duration
			for w := range m.times {
				for i, d := range m.times[w] {
					sum[i] += d
					all += d
				}
				m.times[w] = [len(Layers)]time.Duration{}
			}
			for i, d := range sum {
				if all > 0 {
					t[i] += time.Duration(float64(wall) * float64(d) / float64(all))
				}
			}
		}
	}
	for img := side; img < Batch; img++ {
		for w := range m.lanes {
			m.lanes[w] = rtLane{img: img, own: m.owns[0], staging: m.stagings[0]}
		}
		m.runSteps(m.steps[:m.prefix], t)
	}
}

// prefixImage runs the image-major prefix for image img in worker w's
// lane, alone: every task of every step, in order (runPrefix).
func (m *Model) prefixImage(w, img int) {
	m.lanes[w].img = img
	for _, s := range m.steps[:m.prefix] {
		var start time.Time
		if m.profiling {
			start = time.Now()
		}
		for t := s.first; t < s.first+s.n; t++ {
			s.f(w, t)
		}
		if m.profiling {
			m.times[w][s.layer] += time.Since(start)
		}
	}
}

// runSteps runs steps one after another, adding each one's time to its
// layer's in t if t is not nil.
func (m *Model) runSteps(steps []rtStep, t *[len(Layers)]time.Duration) {
	for _, s := range steps {
		if t == nil {
			m.pool.run(s.first, s.n, s.f)
			continue
		}
		start := time.Now()
		m.pool.run(s.first, s.n, s.f)
		t[s.layer] += time.Since(start)
	}
}

// LayerInfo describes one layer of the compiled network.
type LayerInfo struct {
	Name  string // the layer's name in the spec
	Op    string // its op, with the layers fused into it in brackets
	Shape string // its output shape, per image
	MACs  int64  // multiply-adds per image
}

// Close stops the Model's goroutines and releases the memory it mapped. The
// Model must not be used afterwards: Infer, Profile and SetThreads panic.
// Closing twice does nothing.
func (m *Model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	m.pool.close()
	m.mem.free()
}

// The implementations, in the index order of the tile tables (codegen's
// impls).
const (
	rtImplGo = iota
	rtImplAVX2
	rtImplAVX512
	rtImplNEON
)

// implNames names the implementations, in index order.
var implNames = [...]string{rtImplGo: "purego", rtImplAVX2: "avx2", rtImplAVX512: "avx512", rtImplNEON: "neon"}

// Implementations lists the implementations this machine can run, fastest first.
func Implementations() []string {
	var out []string
	for _, i := range available() {
		out = append(out, implNames[i])
	}
	return out
}

func implIndex(name string) (int, error) {
	avail := available()
	if name == "" {
		return avail[0], nil
	}
	for _, i := range avail {
		if implNames[i] == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("implementation %q is not available here (have %v)", name, Implementations())
}
