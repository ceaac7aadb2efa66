package rt

import "fmt"

// This file stands in for what codegen generates for each network (in
// model.go, layers.go, layers_amd64.go, layers_arm64.go and weights.go), so that the API of
// model.go compiles and is tested here. codegen does not copy it. Its
// network has one layer, "scale": out[i] = w[i] * in[i] for a weight w of
// InputLen values.

const (
	Batch                  = 3
	InputC, InputH, InputW = 1, 2, 2
	InputLen               = Batch * InputC * InputH * InputW
	OutputSize             = InputC * InputH * InputW
	OutputLen              = Batch * OutputSize
	ArenaLen               = prefixOwnLen + OutputLen
	Precision              = "fp32"
	// pkgName begins the API's panic messages.
	pkgName = "rt"
	// outputOffset is where Infer's output is in the arena, or -1 if the
	// output is the input.
	outputOffset = prefixOwnLen
	// tmpLen is each worker's LRN scratch.
	tmpLen = 1
	// prefixOwnLen is the image-major prefix's own storage: one image's
	// products, before they are copied to the output.
	prefixOwnLen = OutputSize
)

var (
	scratchLen       = [4]int{1, 1, 1, 1}
	stagingLen       = [4]int{0, 0, 0, 0}
	prefixStagingLen = [4]int{0, 0, 0, 0}
)

// Layers lists the layers Infer runs, in order.
var Layers = [...]LayerInfo{{"scale", "scale", "1x2x2", 0}}

// network is what a Model holds of its network: the SIMD kernels of its
// implementation (every kind of kernelKinds here; codegen generates the
// ones the network uses) and its weights.
type network struct {
	lrn      rtLRNKernel    // LRN's SIMD kernel, or nil
	im2col   rtIm2colRow    // im2col's SIMD kernel, or nil
	pooling  *rtPoolKernels // pooling rows' SIMD kernels, or nil
	dw       rtDWKernels    // depthwise convolutions' SIMD kernels, or nils
	elt      rtEltKernels   // elementwise layers' SIMD kernels, or nils
	w1_scale []float32
}

// newNetwork returns implementation impl's kernels, before load.
func newNetwork(impl int) network {
	return network{lrn: rtLRNKernelFor(impl), im2col: rtIm2colRowFor(impl), pooling: rtPoolKernelsFor(impl), dw: rtDWKernelsFor(impl), elt: rtEltKernelsFor(impl)}
}

// load reads the weight "scale.weight".
func (m *Model) load(file *stFile) error {
	t, ok := file.Tensors["scale.weight"]
	if !ok || len(t.Data) != InputLen {
		return fmt.Errorf("tensor %q is missing or not %d values", "scale.weight", InputLen)
	}
	m.w1_scale = rtAlloc[float32](m.mem, InputLen)
	copy(m.w1_scale, t.Data)
	return nil
}

// l1_scale computes half of its lane's image a task into the prefix's
// own storage, and l1_scale_out copies that to the image's output, as the
// steps of the image-major prefix (rtStep.img) do: so the tests run
// Model.runPrefix both ways (images side by side, and the last ones step
// by step), and the race detector sees the workers use the lanes.
func (m *Model) l1_scale(w, t int) {
	const half = OutputSize / 2
	ln := &m.lanes[w]
	off := ln.img*OutputSize + t*half
	for i := range half {
		ln.own[t*half+i] = m.w1_scale[off+i] * m.src[off+i]
	}
}

func (m *Model) l1_scale_out(w, t int) {
	const half = OutputSize / 2
	ln := &m.lanes[w]
	copy(m.arena[prefixOwnLen+ln.img*OutputSize+t*half:][:half], ln.own[t*half:][:half])
}

func (m *Model) planGo() []rtStep {
	return []rtStep{{n: 2, f: m.l1_scale, img: true}, {n: 2, f: m.l1_scale_out, img: true}}
}
func (m *Model) planAVX2() []rtStep   { return m.planGo() }
func (m *Model) planAVX512() []rtStep { return m.planGo() }
func (m *Model) planNEON() []rtStep   { return m.planGo() }
