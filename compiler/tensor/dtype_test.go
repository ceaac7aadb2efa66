package tensor

import (
	"math"
	"testing"
)

// refFloat16 converts binary16 bits to float32 independently of
// Float16ToFloat32, through float64 arithmetic, for the non-NaN values.
func refFloat16(h uint16) float32 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0x1f:
		return float32(math.Inf(int(sign)))
	case 0:
		return float32(sign * math.Ldexp(mant, -24))
	}
	return float32(sign * math.Ldexp(1024+mant, exp-25))
}

func TestFloat16ToFloat32Exhaustive(t *testing.T) {
	for i := 0; i <= math.MaxUint16; i++ {
		h := uint16(i)
		got := Float16ToFloat32(h)
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 { // NaN
			want := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			if math.Float32bits(got) != want {
				t.Errorf("Float16ToFloat32(%#04x) = %#08x, want NaN %#08x", h, math.Float32bits(got), want)
			}
			continue
		}
		want := refFloat16(h)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("Float16ToFloat32(%#04x) = %g (%#08x), want %g (%#08x)",
				h, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
}

func TestFloat16ToFloat32Known(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want uint32 // float32 bits
	}{
		{0x0000, 0x00000000},                       // +0
		{0x8000, 0x80000000},                       // -0
		{0x3c00, math.Float32bits(1)},              // 1
		{0xc000, math.Float32bits(-2)},             // -2
		{0x3555, math.Float32bits(0.333251953125)}, // nearest to 1/3
		{0x7bff, math.Float32bits(65504)},          // largest finite
		{0x0400, math.Float32bits(0x1p-14)},        // smallest normal
		{0x03ff, math.Float32bits(0x3ffp-24)},      // largest subnormal
		{0x0001, math.Float32bits(0x1p-24)},        // smallest subnormal
		{0x8001, math.Float32bits(-0x1p-24)},       // negative subnormal
		{0x7c00, 0x7f800000},                       // +Inf
		{0xfc00, 0xff800000},                       // -Inf
		{0x7e00, 0x7fc00000},                       // quiet NaN
		{0xfe01, 0xffc02000},                       // negative NaN with payload
		{0x7c01, 0x7f802000},                       // signalling NaN stays signalling
	} {
		if got := math.Float32bits(Float16ToFloat32(tc.h)); got != tc.want {
			t.Errorf("Float16ToFloat32(%#04x) = %#08x, want %#08x", tc.h, got, tc.want)
		}
	}
}

func TestBFloat16ToFloat32(t *testing.T) {
	for i := 0; i <= math.MaxUint16; i++ {
		b := uint16(i)
		if got, want := math.Float32bits(BFloat16ToFloat32(b)), uint32(b)<<16; got != want {
			t.Fatalf("BFloat16ToFloat32(%#04x) = %#08x, want %#08x", b, got, want)
		}
	}
	for _, tc := range []struct {
		b    uint16
		want float32
	}{
		{0x3f80, 1},
		{0xc000, -2},
		{0x4049, 3.140625},
		{0x0001, 0x1p-133}, // subnormal
		{0x7f7f, 0x1.fep127},
		{0x7f80, float32(math.Inf(1))},
		{0xff80, float32(math.Inf(-1))},
	} {
		if got := BFloat16ToFloat32(tc.b); got != tc.want {
			t.Errorf("BFloat16ToFloat32(%#04x) = %g, want %g", tc.b, got, tc.want)
		}
	}
	if v := BFloat16ToFloat32(0x7fc0); !math.IsNaN(float64(v)) {
		t.Errorf("BFloat16ToFloat32(0x7fc0) = %g, want NaN", v)
	}
}

func TestDType(t *testing.T) {
	sizes := map[DType]int{
		Bool: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1, F8E8M0: 1,
		I16: 2, U16: 2, F16: 2, BF16: 2,
		I32: 4, U32: 4, F32: 4,
		F64: 8, C64: 8, I64: 8, U64: 8,
		F4: 0, F6E2M3: 0, F6E3M2: 0,
	}
	for d, size := range sizes {
		name := d.String()
		got, ok := ParseDType(name)
		if !ok || got != d {
			t.Errorf("ParseDType(%q) = %v, %v; want %v, true", name, got, ok, d)
		}
		if d.Size() != size {
			t.Errorf("%v.Size() = %d, want %d", d, d.Size(), size)
		}
		if want := d == F32 || d == F16 || d == BF16; d.Readable() != want {
			t.Errorf("%v.Readable() = %v, want %v", d, d.Readable(), want)
		}
	}
	for _, name := range []string{"", "f32", "F128", "FLOAT", "DType(0)"} {
		if d, ok := ParseDType(name); ok {
			t.Errorf("ParseDType(%q) = %v, true; want false", name, d)
		}
	}
	if s := InvalidDType.String(); s != "DType(0)" {
		t.Errorf("InvalidDType.String() = %q", s)
	}
	if s := DType(200).String(); s != "DType(200)" {
		t.Errorf("DType(200).String() = %q", s)
	}
	for d, want := range map[DType]string{F8E4M3: "F8_E4M3", Bool: "BOOL", F6E3M2: "F6_E3M2"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), want)
		}
	}
}
