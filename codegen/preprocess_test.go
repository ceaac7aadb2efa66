package codegen_test

// The preprocessing functions of generated packages (SetInputPixels and
// SetInputImage, from a spec's `preprocess:` section) against the formula
// of docs/spec.md, x = (p·scale − mean[c]) / std[c] in float64 rounded to
// float32, evaluated here from constants written independently of the
// spec's text: RGB, BGR and gray, odd strides, rows without padding after
// the last, batches of 1 and 3, sub-images at an offset, every image type
// the standard decoders return.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/codegen"
	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
	"github.com/cnnc/cnnc/compiler/tensor"
)

type ppCase struct {
	pkg          string
	c, h, w      int
	batch        int
	stride       int // bytes per row of SetInputPixels's input
	channels     string
	specFields   string // the preprocess mapping as the spec writes it
	scale        float64
	mean, std    []float64 // per channel
	fastPathType string
}

var ppCases = []ppCase{
	{pkg: "pp_rgb_b3", c: 3, h: 5, w: 7, batch: 3, stride: 7*3 + 5, channels: "rgb",
		specFields: "{channels: rgb, scale: 1/255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}",
		scale:      1.0 / 255, mean: []float64{0.485, 0.456, 0.406}, std: []float64{0.229, 0.224, 0.225}, fastPathType: "*image.RGBA"},
	{pkg: "pp_bgr_b1", c: 3, h: 4, w: 6, batch: 1, stride: 6*3 + 1, channels: "bgr",
		specFields: "\n  channels: bgr\n  mean: 127.5\n  std: [50, 60.5, 70.25]",
		scale:      1, mean: []float64{127.5, 127.5, 127.5}, std: []float64{50, 60.5, 70.25}, fastPathType: "*image.RGBA"},
	{pkg: "pp_gray_b3", c: 1, h: 6, w: 5, batch: 3, stride: 5 + 3, channels: "gray",
		specFields: "{channels: gray, scale: -1/255, mean: -1, std: 0.5}",
		scale:      -1.0 / 255, mean: []float64{-1}, std: []float64{0.5}, fastPathType: "*image.Gray"},
	{pkg: "pp_gray_b1", c: 1, h: 3, w: 9, batch: 1, stride: 9, channels: "gray",
		specFields: "{channels: gray, scale: 0.00392156862745098, mean: [0.286], std: [0.353]}",
		scale:      1.0 / 255, mean: []float64{0.286}, std: []float64{0.353}, fastPathType: "*image.Gray"},
}

// ppRef is docs/spec.md's formula.
func ppRef(c ppCase, ch int, p uint8) float32 {
	return float32((float64(float64(p)*c.scale) - c.mean[ch]) / c.std[ch])
}

// The test images, as files the generated test decodes: every image type
// that image/png and image/jpeg return for 8-bit images, plus Gray16.
var ppImages = []string{"gray.png", "gray16.png", "opaque.png", "alpha.png", "paletted.png", "photo.jpg", "grayphoto.jpg"}

func TestPreprocessGenerated(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v): generated packages cannot be built", err)
	}
	dir := t.TempDir()
	writeModule(t, dir)
	for _, c := range ppCases {
		writePPCase(t, dir, c)
	}
	if t.Failed() {
		return
	}
	out := goRun(t, goTool, dir, nil, "test", "-count=1", "-v", "./...")
	for _, c := range ppCases {
		for _, test := range []string{"TestSetInputPixels", "TestSetInputImage"} {
			if !bytes.Contains(out, []byte("--- PASS: "+test+" ")) {
				t.Errorf("%s: %s did not pass", c.pkg, test)
			}
		}
	}
	if n := bytes.Count(out, []byte("--- PASS: TestSetInputImage ")); n != len(ppCases) {
		t.Errorf("TestSetInputImage passed %d times, want %d:\n%s", n, len(ppCases), out)
	}
}

func writePPCase(t *testing.T, dir string, c ppCase) {
	t.Helper()
	spec := fmt.Sprintf("name: %s\ninput: [%d, %d, %d]\npreprocess: %s\nlayers:\n  - {name: r, op: relu}\n", c.pkg, c.c, c.h, c.w, c.specFields)
	g, err := compiler.Compile(writeSpec(t, dir, c.pkg, spec), passes.Options{Verify: true})
	if err != nil {
		t.Fatalf("%s: %v\n%s", c.pkg, err, spec)
	}
	files, err := codegen.Generate(g, codegen.Options{Batch: c.batch})
	if err != nil {
		t.Fatal(err)
	}
	pkgDir := filepath.Join(dir, c.pkg)
	r := rand.New(rand.NewPCG(uint64(c.c*1000+c.h*10+c.w), uint64(c.batch)))

	// SetInputPixels: Batch buffers, each exactly long enough, with random
	// bytes (the padding too); the reference reads channel k of pixel (y,
	// x) at y*stride + x*C + k.
	pixLen := (c.h-1)*c.stride + c.w*c.c
	raw := make([]byte, c.batch*pixLen)
	for i := range raw {
		raw[i] = uint8(r.UintN(256))
	}
	want := make([]float32, c.batch*c.c*c.h*c.w)
	for n := range c.batch {
		for k := range c.c {
			for y := range c.h {
				for x := range c.w {
					want[((n*c.c+k)*c.h+y)*c.w+x] = ppRef(c, k, raw[n*pixLen+y*c.stride+x*c.c+k])
				}
			}
		}
	}
	ts := []*tensor.Tensor{{Name: "pixels", Shape: []int{c.batch, c.c, c.h, c.w}, Data: want}}

	// SetInputImage: images of (W+2)x(H+3) whose sub-image at (1, 2) is
	// the input.
	W, H := c.w+2, c.h+3
	rect := image.Rect(0, 0, W, H)
	gray, gray16, opaque, alpha := image.NewGray(rect), image.NewGray16(rect), image.NewRGBA(rect), image.NewNRGBA(rect)
	pal := make(color.Palette, 37)
	for i := range pal {
		pal[i] = color.NRGBA{uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256))}
	}
	paletted := image.NewPaletted(rect, pal)
	for y := range H {
		for x := range W {
			gray.SetGray(x, y, color.Gray{uint8(r.UintN(256))})
			gray16.SetGray16(x, y, color.Gray16{uint16(r.UintN(65536))})
			opaque.SetRGBA(x, y, color.RGBA{uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256)), 255})
			alpha.SetNRGBA(x, y, color.NRGBA{uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256))})
			paletted.SetColorIndex(x, y, uint8(r.UintN(uint(len(pal)))))
		}
	}
	encoded := map[string][]byte{}
	for name, img := range map[string]image.Image{"gray.png": gray, "gray16.png": gray16, "opaque.png": opaque, "alpha.png": alpha, "paletted.png": paletted, "photo.jpg": alpha, "grayphoto.jpg": gray} {
		var b bytes.Buffer
		if strings.HasSuffix(name, ".png") {
			err = png.Encode(&b, img)
		} else {
			err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
		}
		if err != nil {
			t.Fatal(err)
		}
		encoded[name] = b.Bytes()
	}
	types := map[string]bool{}
	for _, name := range ppImages {
		img, _, err := image.Decode(bytes.NewReader(encoded[name]))
		if err != nil {
			t.Fatal(err)
		}
		types[fmt.Sprintf("%T", img)] = true
		sub := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(1, 2, 1+c.w, 2+c.h))
		want := make([]float32, c.c*c.h*c.w)
		for y := range c.h {
			for x := range c.w {
				col := sub.At(1+x, 2+y)
				if c.c == 1 {
					want[y*c.w+x] = ppRef(c, 0, color.GrayModel.Convert(col).(color.Gray).Y)
					continue
				}
				r, g, b, _ := col.RGBA()
				rgb := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
				for k := range 3 {
					src := k
					if c.channels == "bgr" {
						src = 2 - k
					}
					want[(k*c.h+y)*c.w+x] = ppRef(c, k, rgb[src])
				}
			}
		}
		ts = append(ts, &tensor.Tensor{Name: "image_" + name, Shape: []int{c.c, c.h, c.w}, Data: want})
		files = append(files, codegen.File{Name: "testdata/" + name, Data: encoded[name]})
	}
	for _, typ := range []string{"*image.Gray", "*image.Gray16", "*image.RGBA", "*image.NRGBA", "*image.Paletted", "*image.YCbCr"} {
		if !types[typ] {
			t.Errorf("no test image decodes as %s", typ)
		}
	}

	test := strings.NewReplacer("PACKAGE", c.pkg, "STRIDE", fmt.Sprint(c.stride), "PIXLEN", fmt.Sprint(pixLen),
		"FASTTYPE", c.fastPathType, "IMAGES", `{"`+strings.Join(ppImages, `", "`)+`"}`).Replace(ppTest)
	files = append(files,
		codegen.File{Name: "pp_test.go", Data: []byte(test)},
		codegen.File{Name: "testdata/pixels.bin", Data: raw},
		codegen.File{Name: "testdata/want.safetensors", Data: tensorBytes(t, ts)})
	if err := os.MkdirAll(filepath.Join(pkgDir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(pkgDir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ppTest is the generated package's test of its preprocessing.
const ppTest = `package PACKAGE

import (
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"testing"
)

const (
	ppStride = STRIDE
	ppPixLen = PIXLEN
	imageLen = InputC * InputH * InputW
)

var ppImages = []stringIMAGES

func ppWant(t *testing.T) map[string]*stTensor {
	data, err := os.ReadFile("testdata/want.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	f, err := stReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	return f.Tensors
}

func ppNaN(dst *[InputLen]float32) {
	for i := range dst {
		dst[i] = float32(math.NaN())
	}
}

// ppCheck compares dst[off:off+len(want)] bit for bit and requires the rest
// of dst to be NaN, untouched.
func ppCheck(t *testing.T, what string, dst *[InputLen]float32, off int, want []float32) {
	t.Helper()
	bad := 0
	for i, v := range dst {
		if i >= off && i < off+len(want) {
			if math.Float32bits(v) != math.Float32bits(want[i-off]) && bad < 5 {
				t.Errorf("%s: element %d is %g, want %g", what, i, v, want[i-off])
				bad++
			}
		} else if !math.IsNaN(float64(v)) && bad < 5 {
			t.Errorf("%s: element %d, outside the image, was written: %g", what, i, v)
			bad++
		}
	}
}

func TestSetInputPixels(t *testing.T) {
	raw, err := os.ReadFile("testdata/pixels.bin")
	if err != nil {
		t.Fatal(err)
	}
	want := ppWant(t)["pixels"].Data
	var dst [InputLen]float32
	// One image at a time, in reverse order: each call writes only its image.
	for n := Batch - 1; n >= 0; n-- {
		ppNaN(&dst)
		if err := SetInputPixels(&dst, n, raw[n*ppPixLen:(n+1)*ppPixLen], ppStride); err != nil {
			t.Fatal(err)
		}
		ppCheck(t, fmt.Sprintf("image %d", n), &dst, n*imageLen, want[n*imageLen:(n+1)*imageLen])
	}
	for n := range Batch {
		if err := SetInputPixels(&dst, n, raw[n*ppPixLen:(n+1)*ppPixLen], ppStride); err != nil {
			t.Fatal(err)
		}
	}
	ppCheck(t, "batch", &dst, 0, want)

	// Bad arguments are errors that write nothing.
	row := InputW * InputC
	for _, c := range []struct{ n, stride, len int }{
		{-1, ppStride, ppPixLen}, {Batch, ppStride, ppPixLen}, {0, row - 1, ppPixLen}, {0, 0, ppPixLen}, {0, -ppStride, ppPixLen},
		{0, ppStride, ppPixLen - 1}, {0, ppStride, 0}, {0, math.MaxInt, ppPixLen}, {0, ppStride + 1, ppPixLen},
	} {
		if InputH == 1 && c.stride > ppStride {
			continue // one row: any stride will do
		}
		ppNaN(&dst)
		err := SetInputPixels(&dst, c.n, raw[:c.len], c.stride)
		if err == nil {
			t.Errorf("SetInputPixels(n=%d, %d bytes, stride %d) succeeded", c.n, c.len, c.stride)
		}
		ppCheck(t, fmt.Sprintf("after the error %v", err), &dst, 0, nil)
	}

	if a := testing.AllocsPerRun(20, func() { SetInputPixels(&dst, Batch-1, raw[:ppPixLen], ppStride) }); a != 0 {
		t.Errorf("SetInputPixels allocates %v times", a)
	}
}

func TestSetInputImage(t *testing.T) {
	want := ppWant(t)
	var dst [InputLen]float32
	fast := 0
	for _, name := range ppImages {
		f, err := os.Open("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		sub := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(1, 2, 1+InputW, 2+InputH))
		n := Batch - 1
		ppNaN(&dst)
		if err := SetInputImage(&dst, n, sub); err != nil {
			t.Fatal(err)
		}
		ppCheck(t, fmt.Sprintf("%s (%T)", name, img), &dst, n*imageLen, want["image_"+name].Data)

		ppNaN(&dst)
		if err := SetInputImage(&dst, n, img); err == nil {
			t.Errorf("%s: SetInputImage of a %v image succeeded", name, img.Bounds())
		}
		if err := SetInputImage(&dst, Batch, sub); err == nil {
			t.Errorf("%s: SetInputImage of image %d succeeded", name, Batch)
		}
		ppCheck(t, name+" after errors", &dst, 0, nil)

		if fmt.Sprintf("%T", img) == "FASTTYPE" {
			fast++
			if a := testing.AllocsPerRun(20, func() { SetInputImage(&dst, 0, sub) }); a != 0 {
				t.Errorf("SetInputImage(%T) allocates %v times", sub, a)
			}
		}
	}
	if fast == 0 {
		t.Errorf("no test image is a FASTTYPE")
	}
}
`

// TestPreprocessOnlyWhenDeclared checks that a spec without preprocessing
// gets no preprocess.go, and that Generate refuses preprocessing that does
// not fit the input.
func TestPreprocessOnlyWhenDeclared(t *testing.T) {
	g, err := compiler.Compile("../spec/lenet5.yaml", passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := codegen.Generate(g, codegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name == "preprocess.go" || bytes.Contains(f.Data, []byte("SetInputPixels")) {
			t.Errorf("lenet5 has no preprocessing, but %s has it", f.Name)
		}
	}
	g.Preprocess = &ir.Preprocess{Channels: "rgb", Scale: 1, Mean: []float64{0, 0, 0}, Std: []float64{1, 1, 1}}
	if _, err := codegen.Generate(g, codegen.Options{}); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("Generate with rgb preprocessing of a 1-channel input: %v", err)
	}
}
