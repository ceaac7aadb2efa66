package main

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"strings"

	"github.com/cnnc/cnnc/compiler/ir"
)

// loadImages decodes the JPEG or PNG files in the comma-separated list
// paths and preprocesses them as g's spec declares: the input batch of
// `cnnc run -image`. Pixels become 8-bit channels as the generated
// SetInputImage takes them (the high bytes of RGBA() for rgb and bgr,
// color.GrayModel for gray). Each image must have the input's size:
// resizing is the caller's (examples/classify shows how).
func loadImages(g *ir.Graph, paths string) ([]float32, int, error) {
	p := g.Preprocess
	if p == nil {
		return nil, 0, fmt.Errorf("-image needs a spec with a preprocess section (see docs/spec.md); %s has none", g.File)
	}
	in := g.Input().Shape
	var x []float32
	files := strings.Split(paths, ",")
	for _, path := range files {
		img, err := decodeImage(path)
		if err != nil {
			return nil, 0, err
		}
		b := img.Bounds()
		if b.Dx() != in.W || b.Dy() != in.H {
			return nil, 0, fmt.Errorf("%s: image is %dx%d pixels; %s takes %dx%d: resize or crop it first", path, b.Dx(), b.Dy(), g.Name, in.W, in.H)
		}
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

func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (want a JPEG or PNG image)", path, err)
	}
	return img, nil
}
