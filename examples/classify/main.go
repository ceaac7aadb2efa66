// Command classify names the piece of clothing in JPEG or PNG images with
// the Fashion-MNIST network of examples/fashion, compiled by cnnc:
//
//	go run . images/*            # the top 5 classes of each image
//	go run . -top 3 photo.jpg
//
// Each image is scaled (Catmull-Rom, golang.org/x/image/draw) so that its
// shorter side fits the network's 28x28 input, centre-cropped to 28x28 and
// converted to grey; the generated SetInputImage applies the spec's
// preprocessing and Infer the network, whose last layer is a softmax.
//
// Fashion-MNIST's pictures are light clothes on black; for a photo of
// dark clothing on a light background, pass -invert.
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/image/draw"

	"github.com/cnnc/cnnc/examples/fashion/fashionnet"
)

//go:embed labels.txt
var labelsFile string

// labels names the network's classes, in the order of its outputs.
var labels = strings.Split(strings.TrimSpace(labelsFile), "\n")

// A Prediction is one class with the network's probability for it.
type Prediction struct {
	Class int
	Label string
	Prob  float32
}

// Classifier runs the network on images of any size.
type Classifier struct {
	m      *fashionnet.Model
	invert bool
	in     [fashionnet.InputLen]float32
	out    [fashionnet.OutputLen]float32
}

// NewClassifier loads the network with the weights embedded in it.
func NewClassifier(invert bool) (*Classifier, error) {
	if len(labels) != fashionnet.OutputSize {
		return nil, fmt.Errorf("labels.txt names %d classes; the network has %d", len(labels), fashionnet.OutputSize)
	}
	m, err := fashionnet.NewEmbedded(fashionnet.Options{})
	if err != nil {
		return nil, err
	}
	return &Classifier{m: m, invert: invert}, nil
}

// Close releases the network's goroutines.
func (c *Classifier) Close() { c.m.Close() }

// Fit scales img so that it covers the network's input, the shorter side
// fitting exactly, and crops the centre: the usual evaluation transform
// (torchvision's Resize then CenterCrop), done as one resampling of the
// centre of img.
func Fit(img image.Image) *image.Gray {
	const w, h = fashionnet.InputW, fashionnet.InputH
	b := img.Bounds()
	// The largest centred rectangle of the input's aspect ratio.
	sw, sh := b.Dx(), b.Dy()
	if sw*h > sh*w {
		sw = (sh*w + h/2) / h
	} else {
		sh = (sw*h + w/2) / w
	}
	x0, y0 := b.Min.X+(b.Dx()-sw)/2, b.Min.Y+(b.Dy()-sh)/2
	dst := image.NewGray(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, image.Rect(x0, y0, x0+sw, y0+sh), draw.Src, nil)
	return dst
}

// Classify returns the network's probability for every class, most
// probable first.
func (c *Classifier) Classify(img image.Image) ([]Prediction, error) {
	if img.Bounds().Empty() {
		return nil, errors.New("the image is empty")
	}
	g := Fit(img)
	if c.invert {
		for i, v := range g.Pix {
			g.Pix[i] = 255 - v
		}
	}
	if err := fashionnet.SetInputImage(&c.in, 0, g); err != nil {
		return nil, err
	}
	c.m.Infer(&c.out, &c.in)
	preds := make([]Prediction, len(c.out))
	for i, p := range c.out {
		preds[i] = Prediction{Class: i, Label: labels[i], Prob: p}
	}
	slices.SortStableFunc(preds, func(a, b Prediction) int {
		switch {
		case a.Prob > b.Prob:
			return -1
		case a.Prob < b.Prob:
			return 1
		}
		return 0
	})
	return preds, nil
}

// ClassifyFile decodes the JPEG or PNG file at path and classifies it.
func (c *Classifier) ClassifyFile(path string) ([]Prediction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	preds, err := c.Classify(img)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return preds, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	top := fs.Int("top", 5, "print the `k` most probable classes")
	invert := fs.Bool("invert", false, "invert the grey levels (dark clothes on a light background)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: classify [-top k] [-invert] image.jpg|image.png...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || *top < 1 {
		fs.Usage()
		return 2
	}
	c, err := NewClassifier(*invert)
	if err != nil {
		fmt.Fprintln(stderr, "classify:", err)
		return 1
	}
	defer c.Close()
	status := 0
	for _, path := range fs.Args() {
		preds, err := c.ClassifyFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "classify:", err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s:\n", path)
		for _, p := range preds[:min(*top, len(preds))] {
			fmt.Fprintf(stdout, "  %6.2f%%  %s\n", 100*p.Prob, p.Label)
		}
	}
	return status
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
