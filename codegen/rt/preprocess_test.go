package rt

import (
	"image"
	"image/color"
	"strings"
	"testing"
)

// TestSetInput checks preprocess.go on a batch of two 3x2 images of 3
// channels, and of 1: the pixel path, *image.RGBA's and the generic one
// agree with the formula, B, G, R order included.
func TestSetInput(t *testing.T) {
	const h, w = 2, 3
	mean, std := []float64{0.5, 0.25, 0.125}, []float64{2, 4, 8}
	lut := make([][256]float32, 3)
	rtPixelLUT(lut, 1.0/255, mean, std)
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h)) // opaque: the same colours through img.At
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(10*x + y), uint8(100 + x), uint8(200 + y), 255}
			rgba.SetRGBA(x, y, c)
			nrgba.Set(x, y, c)
		}
	}
	for _, bgr := range []bool{false, true} {
		want := make([]float32, 2*3*h*w)
		for y := range h {
			for x := range w {
				px := rgba.RGBAAt(x, y)
				rgb := [3]uint8{px.R, px.G, px.B}
				for k := range 3 {
					src := k
					if bgr {
						src = 2 - k
					}
					want[3*h*w+k*h*w+y*w+x] = float32((float64(float64(rgb[src])/255) - mean[k]) / std[k])
				}
			}
		}
		for _, img := range []image.Image{rgba, nrgba} {
			got := make([]float32, len(want))
			if err := rtSetInputImage(got, 1, img, lut, 3, h, w, bgr); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("bgr %v, %T: value %d = %v; want %v", bgr, img, i, got[i], want[i])
				}
			}
		}
		if bgr {
			continue
		}
		pix := make([]uint8, 0, h*(3*w+1))
		for y := range h {
			for x := range w {
				px := rgba.RGBAAt(x, y)
				pix = append(pix, px.R, px.G, px.B)
			}
			if y < h-1 {
				pix = append(pix, 0) // stride 3w+1: the last row unpadded
			}
		}
		got := make([]float32, len(want))
		if err := rtSetInputPixels(got, 1, pix, 3*w+1, lut, 3, h, w); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("pixels: value %d = %v; want %v", i, got[i], want[i])
			}
		}
	}
	gray := image.NewGray(image.Rect(0, 0, w, h))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(40 * i)
	}
	got := make([]float32, h*w)
	if err := rtSetInputImage(got, 0, gray, lut[:1], 1, h, w, false); err != nil {
		t.Fatal(err)
	}
	for i, v := range gray.Pix {
		if got[i] != lut[0][v] {
			t.Errorf("gray: value %d = %v; want %v", i, got[i], lut[0][v])
		}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{rtSetInputPixels(got, 1, gray.Pix, w, lut[:1], 1, h, w), "image 1 is outside the batch of 1"},
		{rtSetInputPixels(got, 0, gray.Pix, w-1, lut[:1], 1, h, w), "stride 2 is less than a row of 3 pixels, 3 bytes"},
		{rtSetInputPixels(got, 0, gray.Pix[:w], w, lut[:1], 1, h, w), "3 bytes with stride 3 hold fewer than 2 rows of 3 bytes"},
		{rtSetInputImage(got, 0, image.NewGray(image.Rect(0, 0, 1, 1)), lut[:1], 1, h, w, false), "image is 1x1 pixels; the input is 3x2"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) || !strings.HasPrefix(tc.err.Error(), pkgName+": ") {
			t.Errorf("err = %v; want %q", tc.err, tc.want)
		}
	}
}
