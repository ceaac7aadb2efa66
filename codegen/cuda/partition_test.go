package cuda

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
)

func graph(t *testing.T, path string) *ir.Graph {
	t.Helper()
	g, err := compiler.Compile(path, passes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// summary renders placements one layer a line: name, strategy, and per GPU
// the output ranges | input ranges of the first input.
func summary(ps []Placement) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s %s", p.Node.Name, p.Strategy)
		for d := range p.Out {
			var in []Range
			if len(p.In[d]) > 0 {
				in = p.In[d][0]
			}
			fmt.Fprintf(&b, " | %d: %v<-%v", d, p.Out[d], in)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestPartitionAlexNet pins where -gpus 2 -parallel model puts every layer
// of AlexNet: as in the paper, conv2, conv4 and conv5 by group (each GPU
// reads only its own half of the channels), conv1 and conv3 by filters
// (conv3, like the paper's, reads both halves: a gather before it), the
// dense layers by units (a gather before each), LRN-pooling where its
// input is (with a 2-channel halo from the neighbour), softmax on GPU 0.
func TestPartitionAlexNet(t *testing.T) {
	ps, err := Partition(graph(t, "../../spec/alexnet.yaml"), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := `conv1 split-filters | 0: [[0,48)]<-[[0,3)] | 1: [[48,96)]<-[[0,3)]
pool1 follow-channels | 0: [[0,48)]<-[[0,50)] | 1: [[48,96)]<-[[46,96)]
conv2 split-groups | 0: [[0,128)]<-[[0,48)] | 1: [[128,256)]<-[[48,96)]
pool2 follow-channels | 0: [[0,128)]<-[[0,130)] | 1: [[128,256)]<-[[126,256)]
conv3 split-filters | 0: [[0,192)]<-[[0,256)] | 1: [[192,384)]<-[[0,256)]
conv4 split-groups | 0: [[0,192)]<-[[0,192)] | 1: [[192,384)]<-[[192,384)]
conv5 split-groups | 0: [[0,128)]<-[[0,192)] | 1: [[128,256)]<-[[192,384)]
pool5 follow-channels | 0: [[0,128)]<-[[0,128)] | 1: [[128,256)]<-[[128,256)]
fc6 split-units | 0: [[0,2048)]<-[[0,256)] | 1: [[2048,4096)]<-[[0,256)]
fc7 split-units | 0: [[0,2048)]<-[[0,4096)] | 1: [[2048,4096)]<-[[0,4096)]
fc8 split-units | 0: [[0,500)]<-[[0,4096)] | 1: [[500,1000)]<-[[0,4096)]
prob whole | 0: [[0,1000)]<-[[0,1000)] | 1: []<-[]
`
	if diff := cmp.Diff(want, summary(ps)); diff != "" {
		t.Errorf("placements (-want +got):\n%s", diff)
	}
	conv := map[string][2]ConvPart{}
	for _, p := range ps {
		if p.Conv != nil {
			conv[p.Node.Name] = [2]ConvPart{p.Conv[0], p.Conv[1]}
		}
	}
	wantConv := map[string][2]ConvPart{
		"conv1": {{0, 1, 0, 48}, {0, 1, 48, 96}},
		"conv2": {{0, 1, 0, 128}, {1, 2, 0, 128}},
		"conv3": {{0, 1, 0, 192}, {0, 1, 192, 384}},
		"conv4": {{0, 1, 0, 192}, {1, 2, 0, 192}},
		"conv5": {{0, 1, 0, 128}, {1, 2, 0, 128}},
		"fc6":   {{0, 1, 0, 2048}, {0, 1, 2048, 4096}},
		"fc7":   {{0, 1, 0, 2048}, {0, 1, 2048, 4096}},
		"fc8":   {{0, 1, 0, 500}, {0, 1, 500, 1000}},
	}
	if diff := cmp.Diff(wantConv, conv); diff != "" {
		t.Errorf("conv parts (-want +got):\n%s", diff)
	}
}

// TestExchangesAlexNet checks the copies -gpus 2 -parallel model makes for
// AlexNet: none before the grouped layers, halos for the LRN-poolings,
// gathers before conv3, the dense layers and (to GPU 0) softmax.
func TestExchangesAlexNet(t *testing.T) {
	c, err := prepare(graph(t, "../../spec/alexnet.yaml"), Options{GPUs: 2, Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	var copies []string
	for _, o := range c.s.ops {
		if o.kind == opCopy {
			copies = append(copies, o.comment)
		}
	}
	want := []string{
		"conv1 channels 48..49: GPU 1 -> GPU 0",
		"conv1 channels 46..47: GPU 0 -> GPU 1",
		"conv2 channels 128..129: GPU 1 -> GPU 0",
		"conv2 channels 126..127: GPU 0 -> GPU 1",
		"pool2 channels 128..255: GPU 1 -> GPU 0",
		"pool2 channels 0..127: GPU 0 -> GPU 1",
		"pool5 channels 128..255: GPU 1 -> GPU 0",
		"pool5 channels 0..127: GPU 0 -> GPU 1",
		"fc6 features 2048..4095: GPU 1 -> GPU 0",
		"fc6 features 0..2047: GPU 0 -> GPU 1",
		"fc7 features 2048..4095: GPU 1 -> GPU 0",
		"fc7 features 0..2047: GPU 0 -> GPU 1",
		"fc8 features 500..999: GPU 1 -> GPU 0",
	}
	if diff := cmp.Diff(want, copies); diff != "" {
		t.Errorf("copies (-want +got):\n%s", diff)
	}
}

// TestPartitionGroupsOverGPUs checks grouped convolutions with fewer groups
// than GPUs (each group's filters split among its GPUs) and with a number
// of groups the GPUs do not divide.
func TestPartitionGroupsOverGPUs(t *testing.T) {
	for _, tc := range []struct {
		groups, fg, gpus int
		want             []ConvPart
	}{
		{2, 128, 4, []ConvPart{{0, 1, 0, 64}, {0, 1, 64, 128}, {1, 2, 0, 64}, {1, 2, 64, 128}}},
		{2, 128, 3, []ConvPart{{0, 1, 0, 64}, {0, 1, 64, 128}, {1, 2, 0, 128}}},
		{3, 2, 2, []ConvPart{{0, 1, 0, 2}, {1, 3, 0, 2}}},
		{4, 3, 2, []ConvPart{{0, 2, 0, 3}, {2, 4, 0, 3}}},
		{1, 5, 4, []ConvPart{{0, 1, 0, 1}, {0, 1, 1, 2}, {0, 1, 2, 3}, {0, 1, 3, 5}}},
		{1, 2, 4, []ConvPart{{0, 1, 0, 0}, {0, 1, 0, 1}, {0, 1, 1, 1}, {0, 1, 1, 2}}},
	} {
		var got []ConvPart
		for d := range tc.gpus {
			got = append(got, convPart(tc.groups, tc.fg, tc.gpus, d))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%d groups of %d filters over %d GPUs (-want +got):\n%s", tc.groups, tc.fg, tc.gpus, diff)
		}
		// Every filter is computed exactly once.
		seen := make([]int, tc.groups*tc.fg)
		for _, p := range got {
			for g := p.G0; g < p.G1; g++ {
				for m := p.M0; m < p.M1; m++ {
					seen[g*tc.fg+m]++
				}
			}
		}
		for f, n := range seen {
			if n != 1 {
				t.Errorf("%d groups of %d filters over %d GPUs: filter %d computed %d times", tc.groups, tc.fg, tc.gpus, f, n)
			}
		}
	}
}

// TestPartitionCovers checks, for every spec and GPU count, that every
// layer's output channels are computed exactly once across the GPUs.
func TestPartitionCovers(t *testing.T) {
	paths := []string{"../../spec/alexnet.yaml", "../../spec/fire_small.yaml", "../../spec/resnet_small.yaml",
		"../../compiler/testdata/corners/spatial_softmax.yaml", "../../compiler/testdata/corners/pools.yaml",
		"../../compiler/testdata/corners/flat_norms.yaml", "testdata/specs/alexnet_mini.yaml"}
	for _, path := range paths {
		g := graph(t, path)
		for gpus := 1; gpus <= 5; gpus++ {
			ps, err := Partition(g, gpus)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				count := make([]int, p.Node.Shape.C)
				for _, rs := range p.Out {
					for _, r := range rs {
						for c := r.Lo; c < r.Hi; c++ {
							count[c]++
						}
					}
				}
				for c, n := range count {
					if n != 1 {
						t.Fatalf("%s, %d GPUs: %s channel %d is computed %d times", path, gpus, p.Node.Name, c, n)
					}
				}
			}
		}
	}
}

func TestRanges(t *testing.T) {
	a := []Range{{0, 10}, {20, 30}}
	if got, want := subtract(a, []Range{{5, 25}}), []Range{{0, 5}, {25, 30}}; !cmp.Equal(got, want) {
		t.Errorf("subtract: %v, want %v", got, want)
	}
	if got, want := intersect(a, []Range{{5, 25}}), []Range{{5, 10}, {20, 25}}; !cmp.Equal(got, want) {
		t.Errorf("intersect: %v, want %v", got, want)
	}
	if got, want := merge([]Range{{3, 4}, {0, 2}, {2, 3}, {5, 5}}), []Range{{0, 4}}; !cmp.Equal(got, want) {
		t.Errorf("merge: %v, want %v", got, want)
	}
}

// TestHazards checks the event logic on a hand-made schedule: a copy
// reading a region waits for the kernel that wrote it, a later kernel
// overwriting the region waits for the copy, and waits already implied by
// others are left out.
func TestHazards(t *testing.T) {
	s := &schedule{gpus: 2, last: make([]*op, 4), uses: make([][streamsPerGPU]bool, 2)}
	reg := func(gpu, lo, hi int) region {
		return region{gpu: gpu, base: 0, stride: 100, count: 1, lo: lo, hi: hi}
	}
	k1 := &op{gpu: 0, stream: computeStream, writes: []region{reg(0, 0, 50)}}
	s.add(k1)
	cp := &op{gpu: 1, stream: copyStream, reads: []region{reg(0, 0, 50)}, writes: []region{reg(1, 0, 50)}}
	s.add(cp)
	k2 := &op{gpu: 1, stream: computeStream, reads: []region{reg(1, 0, 50)}, writes: []region{reg(1, 50, 100)}}
	s.add(k2)
	k3 := &op{gpu: 0, stream: computeStream, writes: []region{reg(0, 0, 10)}} // overwrites what cp reads
	s.add(k3)
	k4 := &op{gpu: 0, stream: computeStream, writes: []region{reg(0, 60, 70)}} // disjoint: no wait
	s.add(k4)
	k5 := &op{gpu: 1, stream: computeStream, reads: []region{reg(1, 0, 10)}} // ordered after cp through k2
	s.add(k5)
	waits := func(o *op) []int {
		var out []int
		for _, w := range o.waits {
			out = append(out, w.index)
		}
		return out
	}
	for _, tc := range []struct {
		o    *op
		want []int
	}{{k1, nil}, {cp, []int{0}}, {k2, []int{1}}, {k3, []int{1}}, {k4, nil}, {k5, nil}} {
		if got := waits(tc.o); !cmp.Equal(got, tc.want) {
			t.Errorf("op %d waits for %v, want %v", tc.o.index, got, tc.want)
		}
	}
	if k1.event < 0 || cp.event < 0 || k2.event >= 0 {
		t.Errorf("events: k1 %d, cp %d, k2 %d; want k1 and cp only", k1.event, cp.event, k2.event)
	}
}
