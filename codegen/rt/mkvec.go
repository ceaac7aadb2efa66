//go:build ignore

// mkvec writes vec_amd64.s and .go, and vec_arm64.s and .go: every kind of
// asmgen/vec's kernels (vec.Kernels; on arm64 the kinds with NEON
// routines) for this package, so that the wrappers of *_amd64.go and
// *_arm64.go compile and are tested here; and winogo.go, the Go Winograd
// transforms of every form (winograd.Forms, and F6x3, which TestWinograd
// covers too), which the Winograd driver of wino.go is tested with.
// codegen does not copy them: a generated package gets the kernels and
// transforms its network uses. Run by go generate.
package main

import (
	"log"
	"os"
	"slices"

	"github.com/cnnc/cnnc/asmgen/vec"
	"github.com/cnnc/cnnc/compiler/winograd"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("mkvec: ")
	asm, stubs, err := vec.Generate("rt", vec.Set{Kernels: vec.Kernels})
	if err != nil {
		log.Fatal(err)
	}
	neonAsm, neonStubs, err := vec.GenerateNEON("rt", vec.Set{Kernels: vec.Kernels})
	if err != nil {
		log.Fatal(err)
	}
	wino, err := vec.GenerateGo("rt", append(slices.Clone(winograd.Forms), winograd.Form{M: 6, R: 3}))
	if err != nil {
		log.Fatal(err)
	}
	for name, b := range map[string][]byte{"vec_amd64.s": asm, "vec_amd64.go": stubs, "vec_arm64.s": neonAsm, "vec_arm64.go": neonStubs, "winogo.go": wino} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
