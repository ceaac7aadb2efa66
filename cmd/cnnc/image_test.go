package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler/tensor"
)

// TestRunImage runs the Fashion-MNIST example network on an example image
// with -image, and on the same image preprocessed here by the formula of
// docs/spec.md and passed with -input: the outputs must be the same.
func TestRunImage(t *testing.T) {
	const (
		spec    = "../../examples/fashion/fashionnet.yaml"
		weights = "../../examples/fashion/fashionnet.safetensors"
		boot    = "../../examples/classify/images/ankle_boot.png" // Fashion-MNIST class 9
		bag     = "../../examples/classify/images/bag.png"        // 84x56
	)
	f, err := os.Open(boot)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	x := make([]float32, 2*28*28)
	for i := range x {
		x[i] = float32((float64(g.Pix[i%784])/255 - 0.2860) / 0.3530)
	}
	npy := filepath.Join(t.TempDir(), "x.npy")
	if err := tensor.WriteFileAtomic(npy, func(w io.Writer) error { return tensor.WriteNpy(w, []int{2, 1, 28, 28}, x) }); err != nil {
		t.Fatal(err)
	}
	want, stderr, code := cnnc(t, "run", "-engine", "interp", spec, "-weights", weights, "-input", npy)
	if code != 0 {
		t.Fatalf("-input: status %d\n%s", code, stderr)
	}
	got, stderr, code := cnnc(t, "run", "-engine", "interp", spec, "-weights", weights, "-image", boot+","+boot)
	if code != 0 {
		t.Fatalf("-image: status %d\n%s", code, stderr)
	}
	if got != want || !strings.HasPrefix(got, "image 0: 9 (0.99") {
		t.Errorf("-image printed\n%s-input printed\n%s", got, want)
	}

	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{spec, "-weights", weights, "-image", bag}, 1, "bag.png: image is 84x56 pixels; fashionnet takes 28x28: resize or crop it first"},
		{[]string{spec, "-weights", weights, "-image", spec}, 1, "fashionnet.yaml: image: unknown format (want a JPEG or PNG image)"},
		{[]string{spec, "-weights", weights, "-image", boot, "-input", npy}, 2, "-input and -image both give the input"},
		{[]string{lenet, "-image", boot}, 1, "-image needs a spec with a preprocess section"},
	} {
		_, stderr, code := cnnc(t, append([]string{"run", "-engine", "interp"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.err) {
			t.Errorf("cnnc run %v: status %d, stderr\n%s\nwant status %d and %q", c.args, code, stderr, c.code, c.err)
		}
	}
}

// TestRunImageDeclaredSize gives -image a PNG of a few hundred bytes whose
// header declares 100000x100000 pixels: 10 GB once decoded, which killed
// cnnc. The size must be refused from the header, before decoding.
func TestRunImageDeclaredSize(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 28, 28))); err != nil {
		t.Fatal(err)
	}
	// The IHDR chunk follows the 8-byte signature: length, "IHDR", width,
	// height, ..., then the CRC of type and data.
	data := b.Bytes()
	ihdr := data[8+8 : 8+8+13]
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	binary.BigEndian.PutUint32(data[8+8+13:], crc32.ChecksumIEEE(data[8+4:8+8+13]))
	if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != 100000 {
		t.Fatalf("the doctored PNG: %+v, %v", cfg, err)
	}
	bomb := filepath.Join(t.TempDir(), "bomb.png")
	if err := os.WriteFile(bomb, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const spec = "../../examples/fashion/fashionnet.yaml"
	_, stderr, code := cnnc(t, "run", "-engine", "interp", spec, "-image", bomb)
	if want := "bomb.png: image is 100000x100000 pixels; fashionnet takes 28x28"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("status %d, stderr\n%s\nwant status 1 and %q", code, stderr, want)
	}
}
