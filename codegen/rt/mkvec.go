//go:build ignore

// mkvec writes vec_amd64.s and vec_amd64.go: every kind of asmgen/vec's
// kernels (vec.Kernels) for this package, so that the wrappers of
// *_amd64.go compile and are tested here. codegen does not copy them: a
// generated package gets the kernels its network uses. Run by go
// generate.
package main

import (
	"log"
	"os"

	"github.com/cnnc/cnnc/asmgen/vec"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("mkvec: ")
	asm, stubs, err := vec.Generate("rt", vec.Set{Kernels: vec.Kernels})
	if err != nil {
		log.Fatal(err)
	}
	for name, b := range map[string][]byte{"vec_amd64.s": asm, "vec_amd64.go": stubs} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
