//go:build ignore

// Mkimages writes the example images in images/ from Fashion-MNIST's test
// set (apt-get install -y dataset-fashion-mnist):
//
//	go run mkimages.go
//
// ankle_boot.png is test image 0 as it is (28x28 grey); trouser.jpg is
// test image 2 enlarged three times (84x84, colour JPEG); bag.png is test
// image 18 enlarged twice and centred on a black 84x56 canvas (RGBA PNG),
// so that the classifier must resize and crop.
package main

import (
	"compress/gzip"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log"
	"os"
)

func main() {
	f, err := os.Open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
	if err != nil {
		log.Fatal(err)
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		log.Fatal(err)
	}
	img := func(i int) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(g.Pix, data[16+i*784:16+(i+1)*784])
		return g
	}
	// enlarge places src, each pixel k x k, at (x0, y0) on a black w x h canvas.
	enlarge := func(src *image.Gray, k, w, h, x0, y0 int) *image.RGBA {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range dst.Pix {
			if i%4 == 3 {
				dst.Pix[i] = 255
			}
		}
		for y := range 28 * k {
			for x := range 28 * k {
				v := src.GrayAt(x/k, y/k).Y
				dst.SetRGBA(x0+x, y0+y, color.RGBA{v, v, v, 255})
			}
		}
		return dst
	}
	write := func(name string, enc func(io.Writer) error) {
		f, err := os.Create("images/" + name)
		if err != nil {
			log.Fatal(err)
		}
		if err := enc(f); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
	write("ankle_boot.png", func(w io.Writer) error { return png.Encode(w, img(0)) })
	write("trouser.jpg", func(w io.Writer) error {
		return jpeg.Encode(w, enlarge(img(2), 3, 84, 84, 0, 0), &jpeg.Options{Quality: 90})
	})
	write("bag.png", func(w io.Writer) error { return png.Encode(w, enlarge(img(18), 2, 84, 56, 14, 0)) })
}
