package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strings"

	"github.com/cnnc/cnnc/compiler/ir"
)

// loadImages decodes the JPEG or PNG files in the comma-separated list
// paths and preprocesses them as g's spec declares: the input batch of
// `cnnc run -image`. Pixels become 8-bit channels as the generated
// SetInputImage takes them (the high bytes of RGBA() for rgb and bgr,
// color.GrayModel for gray). Each image must have the input's size:
// resizing is the caller's (examples/classify shows how). Nothing is
// allocated on a file's word: the caller bounds the batch with checkBatch
// before any file is opened (run does, before it loads the weights), and
// each image's declared size is checked before it is decoded.
func loadImages(g *ir.Graph, paths string) ([]float32, int, error) {
	p := g.Preprocess
	if p == nil {
		return nil, 0, fmt.Errorf("-image needs a spec with a preprocess section (see docs/spec.md); %s has none", g.File)
	}
	in := g.Input().Shape
	files := strings.Split(paths, ",")
	x := make([]float32, 0, len(files)*in.Elems())
	for _, path := range files {
		img, err := decodeImage(path, in.W, in.H, g.Name)
		if err != nil {
			return nil, 0, err
		}
		b := img.Bounds()
		planes := make([][]float32, in.C)
		for c := range planes {
			planes[c] = make([]float32, 0, in.H*in.W)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for xx := b.Min.X; xx < b.Max.X; xx++ {
				col := img.At(xx, y)
				if p.Channels == "gray" {
					planes[0] = append(planes[0], p.Apply(0, color.GrayModel.Convert(col).(color.Gray).Y))
					continue
				}
				r, gg, bb, _ := col.RGBA()
				rgb := [3]uint8{uint8(r >> 8), uint8(gg >> 8), uint8(bb >> 8)}
				for c := range 3 {
					src := c
					if p.Channels == "bgr" {
						src = 2 - c
					}
					planes[c] = append(planes[c], p.Apply(c, rgb[src]))
				}
			}
		}
		for _, pl := range planes {
			x = append(x, pl...)
		}
	}
	return x, len(files), nil
}

// decodeImage decodes the image in path, which must be w x h pixels, the
// input of the network name. It reads the size the file declares first,
// and decodes only an image of that size: a small file can declare
// 100000x100000 pixels, which decoding would allocate.
func decodeImage(path string, w, h int, name string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Keep what DecodeConfig reads, to decode from the start again: that
	// works for a pipe too, which cannot seek.
	var head bytes.Buffer
	cfg, _, err := image.DecodeConfig(io.TeeReader(f, &head))
	if err != nil {
		return nil, fmt.Errorf("%s: %v (want a JPEG or PNG image)", path, err)
	}
	if cfg.Width != w || cfg.Height != h {
		return nil, fmt.Errorf("%s: image is %dx%d pixels; %s takes %dx%d: resize or crop it first", path, cfg.Width, cfg.Height, name, w, h)
	}
	img, _, err := image.Decode(io.MultiReader(&head, f))
	if err != nil {
		return nil, fmt.Errorf("%s: %v (want a JPEG or PNG image)", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		return nil, fmt.Errorf("%s: decodes to %dx%d pixels, not the %dx%d its header declares", path, b.Dx(), b.Dy(), w, h)
	}
	return img, nil
}
