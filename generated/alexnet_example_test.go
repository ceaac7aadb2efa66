package generated_test

// Examples of the API every generated package has, on the committed
// generated/alexnet. They live here, beside the package and not in it,
// because cnnc rewrites generated/alexnet; docs/api.md describes the API.

import (
	"bytes"
	"fmt"
	"log"
	"sync"
	"testing"
	"time"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/generated/alexnet"
)

// weights returns the bytes `cnnc weights init ../spec/alexnet.yaml -seed 1`
// writes, and an input image made as `cnnc input -seed 1` makes it.
var weights = sync.OnceValues(func() ([]byte, *[alexnet.InputLen]float32) {
	g, err := compiler.Compile("../spec/alexnet.yaml", passes.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var b bytes.Buffer
	if err := tensor.WriteSafetensors(&b, params.Init(g, 1), nil); err != nil {
		log.Fatal(err)
	}
	in := (*[alexnet.InputLen]float32)(params.Input(g, alexnet.Batch, 1))
	return b.Bytes(), in
})

// Load the weights, run one image, read the class probabilities.
func Example() {
	w, img := weights() // a safetensors file's bytes; alexnet.Load(path) reads a file

	m, err := alexnet.NewWithOptions(bytes.NewReader(w), alexnet.Options{Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	var probs [alexnet.OutputLen]float32 // Batch x 1000
	m.Infer(&probs, img)                 // img: *[alexnet.InputLen]float32, NCHW

	best, sum := 0, float32(0)
	for i, p := range probs {
		sum += p
		if p > probs[best] {
			best = i
		}
	}
	fmt.Printf("%d classes, probabilities sum to %.3f; class %d is the likeliest (%.3f)\n", len(probs), sum, best, probs[best])
	// Output: 1000 classes, probabilities sum to 1.000; class 977 is the likeliest (0.044)
}

// Every layer after the passes, with its shape and multiply-adds.
func Example_layers() {
	var macs int64
	for _, l := range alexnet.Layers {
		fmt.Printf("%-5s  %-15s  %-9s  %11d\n", l.Name, l.Op, l.Shape, l.MACs)
		macs += l.MACs
	}
	fmt.Printf("%d multiply-adds per image; input %dx%dx%d\n", macs, alexnet.InputC, alexnet.InputH, alexnet.InputW)
	// Output:
	// conv1  conv [relu1]     96x55x55     105415200
	// pool1  maxpool [norm1]  96x27x27             0
	// conv2  conv [relu2]     256x27x27    223948800
	// pool2  maxpool [norm2]  256x13x13            0
	// conv3  conv [relu3]     384x13x13    149520384
	// conv4  conv [relu4]     384x13x13    112140288
	// conv5  conv [relu5]     256x13x13     74760192
	// pool5  maxpool          256x6x6              0
	// fc6    dense [relu6]    4096          37748736
	// fc7    dense [relu7]    4096          16777216
	// fc8    dense            1000           4096000
	// prob   softmax          1000                 0
	// 724406816 multiply-adds per image; input 3x227x227
}

// Profile is Infer that also times each layer.
func Example_profile() {
	w, img := weights()
	m, err := alexnet.NewWithOptions(bytes.NewReader(w), alexnet.Options{Impl: "purego", Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	var probs [alexnet.OutputLen]float32
	var t [len(alexnet.Layers)]time.Duration // adds to t, so zero it to start over
	m.Profile(&probs, img, &t)
	timed := 0
	for i := range t {
		if t[i] > 0 {
			timed++
		}
	}
	fmt.Printf("%s kernels, %d thread: %d of %d layers timed\n", m.Impl(), m.Threads(), timed, len(t))
	// Output: purego kernels, 1 thread: 12 of 12 layers timed
}

// Implementations lists what this CPU runs, fastest first; the pure-Go
// kernels run everywhere and come last.
func ExampleImplementations() {
	impls := alexnet.Implementations()
	fmt.Println(impls[len(impls)-1])
	// Output: purego
}

// TestNoAllocation backs docs/api.md's promise for the two calls of the
// hot path: neither Infer nor Profile allocates.
func TestNoAllocation(t *testing.T) {
	w, img := weights()
	m, err := alexnet.New(bytes.NewReader(w))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var out [alexnet.OutputLen]float32
	var times [len(alexnet.Layers)]time.Duration
	if n := testing.AllocsPerRun(3, func() { m.Infer(&out, img) }); n != 0 {
		t.Errorf("Infer allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(3, func() { m.Profile(&out, img, &times) }); n != 0 {
		t.Errorf("Profile allocates %v times per call", n)
	}
}
