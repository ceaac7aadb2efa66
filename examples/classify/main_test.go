package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"strings"
	"testing"
)

// The shipped images (mkimages.go) and Fashion-MNIST's label of the test
// image each was made from.
var shipped = map[string]string{
	"images/ankle_boot.png": "Ankle boot", // test image 0, as it is
	"images/trouser.jpg":    "Trouser",    // test image 2, 3x, colour JPEG
	"images/bag.png":        "Bag",        // test image 18, 2x, on a wider canvas
}

func TestShippedImages(t *testing.T) {
	c, err := NewClassifier(false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for path, want := range shipped {
		preds, err := c.ClassifyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if preds[0].Label != want || preds[0].Prob < 0.9 {
			t.Errorf("%s: top class %q (%.3f), want %q with probability over 0.9", path, preds[0].Label, preds[0].Prob, want)
		}
		sum := 0.0
		for i, p := range preds {
			sum += float64(p.Prob)
			if i > 0 && p.Prob > preds[i-1].Prob {
				t.Errorf("%s: predictions not sorted: %v", path, preds)
			}
			if labels[p.Class] != p.Label {
				t.Errorf("%s: class %d labelled %q", path, p.Class, p.Label)
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("%s: probabilities sum to %g", path, sum)
		}
	}
}

// TestFit checks the resize and centre crop: a 28x28 image is kept as it
// is, and of a wide or tall image only the centre square is used.
func TestFit(t *testing.T) {
	f, err := os.Open("images/ankle_boot.png")
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if g := Fit(img); !bytes.Equal(g.Pix, img.(*image.Gray).Pix) {
		t.Errorf("Fit changed a 28x28 image")
	}
	// Three 30x30 squares side by side: white, black with a grey centre, white.
	for _, wide := range []bool{true, false} {
		w, h := 90, 30
		if !wide {
			w, h = h, w
		}
		src := image.NewRGBA(image.Rect(5, 7, 5+w, 7+h)) // not at the origin
		for y := range h {
			for x := range w {
				v := uint8(255)
				if wide && x >= 30 && x < 60 || !wide && y >= 30 && y < 60 {
					v = 0
					if cx, cy := x%30, y%30; cx >= 10 && cx < 20 && cy >= 10 && cy < 20 {
						v = 128
					}
				}
				src.Set(5+x, 7+y, color.RGBA{v, v, v, 255})
			}
		}
		g := Fit(src)
		if g.Bounds() != image.Rect(0, 0, 28, 28) {
			t.Fatalf("Fit gave %v", g.Bounds())
		}
		for y := range 28 {
			for x := range 28 {
				v := g.GrayAt(x, y).Y
				inner := x >= 11 && x < 17 && y >= 11 && y < 17 // well inside the grey square
				outer := x < 8 || x >= 20 || y < 8 || y >= 20   // well outside it
				if inner && v != 128 || outer && v != 0 {
					t.Fatalf("wide=%v: pixel (%d, %d) of the crop is %d\n%v", wide, x, y, v, g.Pix)
				}
			}
		}
	}
}

func TestRun(t *testing.T) {
	var out, errs bytes.Buffer
	if s := run([]string{"-top", "2", "images/trouser.jpg", "missing.png", "main.go"}, &out, &errs); s != 1 {
		t.Errorf("status %d, want 1", s)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != "images/trouser.jpg:" || !strings.HasSuffix(lines[1], "%  Trouser") {
		t.Errorf("output:\n%s", out.String())
	}
	if e := errs.String(); !strings.Contains(e, "missing.png") || !strings.Contains(e, "main.go: image: unknown format") {
		t.Errorf("errors:\n%s", e)
	}
	if s := run(nil, &out, &errs); s != 2 {
		t.Errorf("no arguments: status %d, want 2", s)
	}
}

func ExampleClassifier() {
	c, err := NewClassifier(false)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	preds, err := c.ClassifyFile("images/bag.png")
	if err != nil {
		panic(err)
	}
	fmt.Println(preds[0].Label)
	// Output: Bag
}
