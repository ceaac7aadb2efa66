package rt

import (
	"fmt"
	"image"
	"image/color"
)

// The spec's preprocessing (codegen copies this file only for specs that
// declare it): the generated preprocess.go holds the constants, pixelLUT
// and SetInputPixels and SetInputImage, which call these on one image of
// c channels (1: gray, or 3), h rows and w columns.

// rtPixelLUT sets lut[c][v], for every 8-bit value v, to channel c's
// input value (v·scale − mean[c]) / std[c], computed in float64 and
// rounded to float32. The conversion to float64 keeps the product from
// being fused with the subtraction, so that every platform computes the
// same values.
func rtPixelLUT(lut [][256]float32, scale float64, mean, std []float64) {
	for c := range lut {
		for v := range 256 {
			lut[c][v] = float32((float64(float64(v)*scale) - mean[c]) / std[c])
		}
	}
}

// rtSetInputPixels is SetInputPixels: image n of dst, a batch of images of
// c x h x w, from w x h pixels of c bytes each, row y at pix[y*stride:].
func rtSetInputPixels(dst []float32, n int, pix []uint8, stride int, lut [][256]float32, c, h, w int) error {
	rowBytes := w * c
	if batch := len(dst) / (c * h * w); n < 0 || n >= batch {
		return fmt.Errorf(pkgName+": SetInputPixels: image %d is outside the batch of %d", n, batch)
	}
	if stride < rowBytes {
		return fmt.Errorf(pkgName+": SetInputPixels: stride %d is less than a row of %d pixels, %d bytes", stride, w, rowBytes)
	}
	// (len(pix)-rowBytes)/stride >= h-1, without overflow.
	if len(pix) < rowBytes || (len(pix)-rowBytes)/stride < h-1 {
		return fmt.Errorf(pkgName+": SetInputPixels: %d bytes with stride %d hold fewer than %d rows of %d bytes", len(pix), stride, h, rowBytes)
	}
	img := dst[n*c*h*w : (n+1)*c*h*w]
	if c == 1 {
		lut := &lut[0]
		for y := range h {
			row := pix[y*stride:][:rowBytes]
			out := img[y*w:][:w]
			for x, v := range row {
				out[x] = lut[v]
			}
		}
		return nil
	}
	lut0, lut1, lut2 := &lut[0], &lut[1], &lut[2]
	for y := range h {
		row := pix[y*stride:][:rowBytes]
		o := y * w
		out0 := img[o:][:w]
		out1 := img[h*w+o:][:w]
		out2 := img[2*h*w+o:][:w]
		for x := range w {
			px := row[3*x:][:3]
			out0[x] = lut0[px[0]]
			out1[x] = lut1[px[1]]
			out2[x] = lut2[px[2]]
		}
	}
	return nil
}

// rtSetInputImage is SetInputImage: image n of dst from img, with bgr set
// if the input's channels are B, G, R.
func rtSetInputImage(dst []float32, n int, img image.Image, lut [][256]float32, c, h, w int, bgr bool) error {
	r := img.Bounds()
	if r.Dx() != w || r.Dy() != h {
		return fmt.Errorf(pkgName+": SetInputImage: image is %dx%d pixels; the input is %dx%d (resize or crop it first)", r.Dx(), r.Dy(), w, h)
	}
	if batch := len(dst) / (c * h * w); n < 0 || n >= batch {
		return fmt.Errorf(pkgName+": SetInputImage: image %d is outside the batch of %d", n, batch)
	}
	out := dst[n*c*h*w : (n+1)*c*h*w]
	if c == 1 {
		if g, ok := img.(*image.Gray); ok {
			return rtSetInputPixels(dst, n, g.Pix[g.PixOffset(r.Min.X, r.Min.Y):], g.Stride, lut, c, h, w)
		}
		for y := range h {
			for x := range w {
				v := color.GrayModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.Gray).Y
				out[y*w+x] = lut[0][v]
			}
		}
		return nil
	}
	// Model channel k reads source component idx[k] of (R, G, B).
	idx := [3]int{0, 1, 2}
	if bgr {
		idx = [3]int{2, 1, 0}
	}
	plane := h * w
	if m, ok := img.(*image.RGBA); ok {
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
			for x := range w {
				px := row[4*x:][:3]
				i := y*w + x
				for k := range 3 {
					out[k*plane+i] = lut[k][px[idx[k]]]
				}
			}
		}
		return nil
	}
	for y := range h {
		for x := range w {
			cr, cg, cb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			rgb := [3]uint8{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8)}
			i := y*w + x
			for k := range 3 {
				out[k*plane+i] = lut[k][rgb[idx[k]]]
			}
		}
	}
	return nil
}
