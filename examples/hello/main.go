// Command hello shows cnnc used from another module: go generate compiles
// tiny.yaml into the package ./tiny, and main runs it.
//
//	go generate          # regenerate ./tiny (and the demo weights)
//	go run .             # classify a random image
package main

//go:generate go run github.com/cnnc/cnnc/cmd/cnnc compile tiny.yaml -o tiny -batch 1
//go:generate go run github.com/cnnc/cnnc/cmd/cnnc weights init tiny.yaml -seed 7 -o tiny.safetensors

import (
	"fmt"
	"log"
	"math/rand/v2"

	"example.com/hello/tiny"
)

func main() {
	m, err := tiny.Load("tiny.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	var img [tiny.InputLen]float32 // one 3x16x16 image, NCHW
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img {
		img[i] = float32(r.NormFloat64())
	}
	var probs [tiny.OutputLen]float32
	m.Infer(&probs, &img)

	best := 0
	for i, p := range probs {
		if p > probs[best] {
			best = i
		}
	}
	fmt.Printf("%s kernels: class %d with probability %.3f\n", m.Impl(), best, probs[best])
}
