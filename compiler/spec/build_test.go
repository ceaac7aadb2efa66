package spec_test

import (
	"math"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/compiler/spec"
)

func TestPreprocessCarried(t *testing.T) {
	s, err := spec.Parse("x.yaml", []byte("name: m\ninput: [3, 2, 2]\npreprocess: {channels: bgr, scale: 1/255, mean: [0.5, 0.25, 0], std: 0.5}\nlayers: [{name: r, op: relu}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := spec.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	p := g.Preprocess
	if p == nil || p.Channels != "bgr" || p.Scale != 1.0/255 || len(p.Mean) != 3 || p.Mean[1] != 0.25 || len(p.Std) != 3 || p.Std[2] != 0.5 {
		t.Fatalf("Preprocess = %+v", p)
	}
	// (255/255 − 0.5) / 0.5 = 1; (0 − 0.25) / 0.5 = −0.5; 51/255/0.5 = 0.4.
	for _, c := range []struct {
		ch   int
		v    uint8
		want float64
	}{{0, 255, 1}, {1, 0, -0.5}, {2, 51, 0.4}} {
		if got := p.Apply(c.ch, c.v); math.Abs(float64(got)-c.want) > 1e-7 {
			t.Errorf("Apply(%d, %d) = %g, want %g", c.ch, c.v, got, c.want)
		}
	}
	want := "preprocess: channels=bgr scale=0.00392156862745098 mean=[0.5 0.25 0] std=[0.5 0.5 0.5]\n"
	if f := g.Format(); !strings.Contains(f, want) {
		t.Errorf("Format lacks %q:\n%s", want, f)
	}

	s.Preprocess = nil
	if g, _ := spec.Build(s); g.Preprocess != nil || strings.Contains(g.Format(), "preprocess") {
		t.Errorf("a spec without preprocess gave %+v", g.Preprocess)
	}
}
