package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBatchBounded asks every command that makes an input batch for more
// than maxBatchBytes: each must refuse with the batch's size, before
// allocating it (a 40 GB AlexNet batch killed cnnc input) and without
// writing a file.
func TestBatchBounded(t *testing.T) {
	dir := t.TempDir()
	// 3x1024x1024 float32s: 12 MiB an image, so 100 images are over 1 GiB.
	big := filepath.Join(dir, "big.yaml")
	spec := "name: big\ninput: [3, 1024, 1024]\npreprocess: {channels: rgb, scale: 1/255}\nlayers:\n  - {name: r, op: relu}\n"
	if err := os.WriteFile(big, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.npy")
	images := strings.Repeat(filepath.Join(dir, "missing.png,"), 99) + filepath.Join(dir, "missing.png")
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"input", "../../spec/alexnet.yaml", "-batch", "65536", "-o", out},
			"-batch: a batch of 65536 images of 3x227x227 float32s would need 40,524,054,528 bytes, over cnnc's limit of 1 GiB (1,073,741,824 bytes) for a batch: at most 1736 images of alexnet"},
		{[]string{"input", big, "-batch", "100", "-o", out},
			"-batch: a batch of 100 images of 3x1024x1024 float32s would need 1,258,291,200 bytes"},
		{[]string{"run", "-engine", "interp", big, "-batch", "100", "-output", out}, "85 images of big"},
		{[]string{"run", big, "-batch", "100", "-output", out}, "85 images of big"},
		// The files are not opened: the count alone is too many.
		{[]string{"run", "-engine", "interp", big, "-image", images, "-output", out}, "-image: a batch of 100 images"},
	} {
		_, stderr, code := cnnc(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.err) {
			t.Errorf("cnnc %s: status %d, stderr\n%s\nwant status 2 and %q", strings.Join(c.args, " "), code, stderr, c.err)
		}
		if fileExists(out) {
			t.Errorf("cnnc %s wrote %s", strings.Join(c.args, " "), out)
			os.Remove(out)
		}
	}
	// Within the limit, the same commands work.
	if _, stderr, code := cnnc(t, "input", big, "-batch", "2", "-o", out); code != 0 {
		t.Errorf("cnnc input -batch 2: status %d\n%s", code, stderr)
	}
}
