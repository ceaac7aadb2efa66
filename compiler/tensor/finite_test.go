package tensor

import (
	"math"
	"testing"
)

func TestNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	big := math.Float32frombits(0x7f7fffff) // the largest finite float32
	tiny := math.Float32frombits(1)         // the smallest subnormal
	tests := []struct {
		x            []float32
		first, count int
	}{
		{nil, -1, 0},
		{[]float32{0, -0, 1, -big, big, tiny, -tiny}, -1, 0},
		{[]float32{nan}, 0, 1},
		{[]float32{1, 2, 3, 4, 5, 6, 7, -inf}, 7, 1}, // in the tail of the unrolled loop
		{[]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, inf}, 9, 1},
		{[]float32{1, inf, 3, nan, 5, -inf}, 1, 3},
		{[]float32{math.Float32frombits(0xffc00001)}, 0, 1}, // a negative NaN with a payload
	}
	for _, tt := range tests {
		// At both alignments of 8 bytes: a uint64 reads two values.
		for off := range 2 {
			buf := make([]float32, len(tt.x)+1)
			x := buf[off : off+len(tt.x)]
			copy(x, tt.x)
			first, count := NonFinite(x)
			if first != tt.first || count != tt.count {
				t.Errorf("NonFinite(%v) at offset %d = %d, %d; want %d, %d", tt.x, off, first, count, tt.first, tt.count)
			}
		}
	}
	// A NaN at every place of slices of every length up to 19, at both
	// alignments: the head, the unrolled body, its tail and the last value.
	buf := make([]float32, 20)
	for off := range 2 {
		for n := 1; n+off <= len(buf); n++ {
			x := buf[off : off+n]
			for k := range x {
				x[k] = float32(math.NaN())
				if first, count := NonFinite(x); first != k || count != 1 {
					t.Errorf("NaN at %d of %d (offset %d): NonFinite = %d, %d", k, n, off, first, count)
				}
				x[k] = 0
			}
		}
	}
	// Every exponent and sign, with a few mantissas.
	for e := uint32(0); e < 256; e++ {
		for _, m := range []uint32{0, 1, 0x400000, 0x7fffff} {
			for _, s := range []uint32{0, signBit} {
				v := math.Float32frombits(s | e<<23 | m)
				want := math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)
				x := []float32{1, 1, 1, 1, v}
				if _, count := NonFinite(x); (count == 1) != want {
					t.Errorf("NonFinite(%#x) counts %d", math.Float32bits(v), count)
				}
			}
		}
	}
}

func TestCheckFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := make([]float32, 2*3*4)
	if err := CheckFinite(`tensor "w"`, []int{2, 3, 4}, x); err != nil {
		t.Fatal(err)
	}
	x[5] = inf
	x[1*12+2*4+3] = -inf
	x[22] = nan
	for _, tt := range []struct {
		shape []int
		x     []float32
		want  string
	}{
		{[]int{2, 3, 4}, x, `tensor "w": 3 of 24 values are not finite; the first, at [0 1 1], is +Inf`},
		{[]int{24}, x, `tensor "w": 3 of 24 values are not finite; the first, at 5, is +Inf`},
		{[]int{5, 5}, x, `tensor "w": 3 of 24 values are not finite; the first, at 5, is +Inf`}, // the shape does not fit: a flat index
		{[]int{2, 2}, x[20:24], `tensor "w": 2 of 4 values are not finite; the first, at [1 0], is NaN`},
		{[]int{1}, x[23:], `tensor "w": 1 of 1 values is not finite: at 0, -Inf`},
	} {
		err := CheckFinite(`tensor "w"`, tt.shape, tt.x)
		if err == nil || err.Error() != tt.want {
			t.Errorf("CheckFinite(%v) = %v\nwant %s", tt.shape, err, tt.want)
		}
	}
}

// BenchmarkNonFinite reads AlexNet's largest tensor, fc6's 37.7M weights.
func BenchmarkNonFinite(b *testing.B) {
	x := make([]float32, 4096*9216)
	for i := range x {
		x[i] = float32(i%1000) - 500
	}
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		if _, n := NonFinite(x); n != 0 {
			b.Fatal(n)
		}
	}
}
