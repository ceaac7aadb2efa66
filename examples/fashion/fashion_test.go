package fashion_test

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cnnc/cnnc/compiler/tensor"
	"github.com/cnnc/cnnc/examples/fashion/fashionnet"
	"github.com/cnnc/cnnc/internal/testenv"
)

// nearTie is the largest gap between PyTorch's two largest logits at which
// cnnc may predict the other class: float32 arithmetic in another order
// moves a logit by about 1e-6 of the logits' scale (about 10 here).
const nearTie = 1e-3

// dataDir is where Debian's dataset-fashion-mnist puts the idx files.
func dataDir() string {
	if d := os.Getenv("FASHION_MNIST_DIR"); d != "" {
		return d
	}
	return "/usr/share/datasets/fashion-mnist"
}

// readIdx reads a gzipped idx file (LeCun's MNIST format): a big-endian
// magic number 0x000008NN with NN dimensions, the dimensions, unsigned bytes.
func readIdx(path string, wantDims ...int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var magic uint32
	if err := binary.Read(z, binary.BigEndian, &magic); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if magic != 0x800|uint32(len(wantDims)) {
		return nil, fmt.Errorf("%s: magic %#x, want %#x (unsigned bytes, %d dimensions)", path, magic, 0x800|len(wantDims), len(wantDims))
	}
	n := 1
	for i, want := range wantDims {
		var d uint32
		if err := binary.Read(z, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if int(d) != want {
			return nil, fmt.Errorf("%s: dimension %d is %d, want %d", path, i, d, want)
		}
		n *= want
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(z, data); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if extra, _ := io.Copy(io.Discard, z); extra != 0 {
		return nil, fmt.Errorf("%s: %d bytes after the data", path, extra)
	}
	return data, nil
}

// TestTestSet classifies all 10,000 test images with the generated package,
// from the idx file's bytes through SetInputPixels, with every
// implementation this machine has, and requires PyTorch's predicted class
// for every image (or a near-tie) and PyTorch's accuracy.
func TestTestSet(t *testing.T) {
	const n = 10000
	images, err := readIdx(filepath.Join(dataDir(), "t10k-images-idx3-ubyte.gz"), n, 28, 28)
	var labels []byte
	if err == nil {
		labels, err = readIdx(filepath.Join(dataDir(), "t10k-labels-idx1-ubyte.gz"), n)
	}
	if errors.Is(err, fs.ErrNotExist) {
		testenv.Missing(t, fmt.Sprintf("Fashion-MNIST (%v)", err), "apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR")
	}
	if err != nil {
		t.Fatal(err)
	}

	// PyTorch's predictions (train.py): [n, 2] float32, the class and the
	// gap between the two largest logits.
	shape, pt, err := tensor.LoadNpy("testdata/pytorch_predictions.npy")
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != n || shape[1] != 2 {
		t.Fatalf("pytorch_predictions.npy has shape %v, want [%d 2]", shape, n)
	}
	var recorded struct {
		Correct    int `json:"correct"`
		TestImages int `json:"test_images"`
	}
	if b, err := os.ReadFile("accuracy.json"); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &recorded); err != nil {
		t.Fatal(err)
	}
	ptCorrect := 0
	for i := range n {
		if int(pt[2*i]) == int(labels[i]) {
			ptCorrect++
		}
	}
	if recorded.TestImages != n || ptCorrect != recorded.Correct {
		t.Fatalf("accuracy.json records %d of %d correct; pytorch_predictions.npy has %d of %d", recorded.Correct, recorded.TestImages, ptCorrect, n)
	}

	for _, impl := range fashionnet.Implementations() {
		t.Run(impl, func(t *testing.T) {
			m, err := fashionnet.NewEmbedded(fashionnet.Options{Impl: impl, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			start := time.Now()
			var in [fashionnet.InputLen]float32
			var out [fashionnet.OutputLen]float32
			correct, ties := 0, 0
			for i := range n {
				if err := fashionnet.SetInputPixels(&in, 0, images[i*28*28:(i+1)*28*28], 28); err != nil {
					t.Fatal(err)
				}
				m.Infer(&out, &in)
				best := 0
				for c, p := range out {
					if p > out[best] {
						best = c
					}
				}
				if best == int(labels[i]) {
					correct++
				}
				want, margin := int(pt[2*i]), pt[2*i+1]
				if best != want {
					ties++
					msg := fmt.Sprintf("image %d: cnnc predicts %d (p=%.6f), PyTorch %d (p=%.6f), PyTorch's top-2 logit margin %.3g", i, best, out[best], want, out[want], margin)
					if margin < nearTie {
						t.Logf("near-tie: %s", msg)
					} else {
						t.Errorf("%s: not a near-tie (margin >= %g)", msg, nearTie)
					}
				}
			}
			t.Logf("%s: %d of %d correct (%.2f%%; PyTorch %d), %d near-tie disagreements, in %v",
				impl, correct, n, 100*float64(correct)/n, ptCorrect, ties, time.Since(start).Round(time.Millisecond))
			if d := correct - ptCorrect; d > ties || -d > ties {
				t.Errorf("cnnc has %d correct, PyTorch %d", correct, ptCorrect)
			}
		})
	}
}
