package rt

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkIm2col times the im2col panels of stems and strided convs with
// this CPU's fastest row kernel, a panel of nr columns a call, for every
// column of an image: nr 48 is AVX-512's tile, one rtIm2col call a
// tile; larger nr packs several tiles a call.
func BenchmarkIm2col(b *testing.B) {
	for _, c := range []struct {
		name          string
		c, h, k, s, o int
	}{
		{"mobilenet_stem", 3, 226, 3, 2, 112},
		{"resnet_conv1", 3, 230, 7, 2, 112},
		{"resnet_layer2_0_conv2", 128, 58, 3, 2, 28},
		{"resnet_layer3_0_conv2", 256, 30, 3, 2, 14},
	} {
		g := &rtConvGeom{C: c.c, H: c.h, W: c.h, KH: c.k, KW: c.k, SH: c.s, SW: c.s, DH: 1, DW: 1, OH: c.o, OW: c.o}
		x := randSlice(rand.New(rand.NewPCG(1, 2)), c.c*c.h*c.h)
		kern := rtIm2colRowFor(available()[0])
		K, N := c.c*c.k*c.k, c.o*c.o
		for _, nr := range []int{48, 384} {
			d := make([]float32, K*nr)
			b.Run(fmt.Sprintf("%s/nr%d", c.name, nr), func(b *testing.B) {
				for b.Loop() {
					for col := 0; col < N; col += nr {
						rtIm2col(d, x, g, col, nr, kern)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(K*N)*1000, "ps/elem")
			})
		}
	}
}
