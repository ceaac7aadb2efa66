package tensor

import (
	"math"
	"strconv"
)

// DType is a safetensors element type. F32, F16 and BF16 are readable (F16 and
// BF16 are converted to float32); the other types are recognised by name so
// that they can be rejected with a clear error.
type DType uint8

// The safetensors element types, named as in the safetensors specification
// (F8E5M2 is "F8_E5M2", Bool is "BOOL", and so on).
const (
	InvalidDType DType = iota
	Bool
	U8
	I8
	F8E5M2
	F8E4M3
	F8E8M0
	I16
	U16
	F16
	BF16
	I32
	U32
	F32
	F64
	C64
	I64
	U64
	F4
	F6E2M3
	F6E3M2
)

var dtypeNames = [...]string{
	InvalidDType: "",
	Bool:         "BOOL",
	U8:           "U8",
	I8:           "I8",
	F8E5M2:       "F8_E5M2",
	F8E4M3:       "F8_E4M3",
	F8E8M0:       "F8_E8M0",
	I16:          "I16",
	U16:          "U16",
	F16:          "F16",
	BF16:         "BF16",
	I32:          "I32",
	U32:          "U32",
	F32:          "F32",
	F64:          "F64",
	C64:          "C64",
	I64:          "I64",
	U64:          "U64",
	F4:           "F4",
	F6E2M3:       "F6_E2M3",
	F6E3M2:       "F6_E3M2",
}

// String returns the safetensors name of d, such as "F32" or "F8_E4M3".
func (d DType) String() string {
	if d == InvalidDType || int(d) >= len(dtypeNames) {
		return "DType(" + strconv.Itoa(int(d)) + ")"
	}
	return dtypeNames[d]
}

// ParseDType returns the DType with the given safetensors name. The lookup is
// case-sensitive, as in the reference implementation.
func ParseDType(name string) (DType, bool) {
	for i, n := range dtypeNames {
		if n != "" && n == name {
			return DType(i), true
		}
	}
	return InvalidDType, false
}

// Readable reports whether this package can read tensors of type d.
func (d DType) Readable() bool {
	return d == F32 || d == F16 || d == BF16
}

// Size returns the number of bytes one element of type d occupies, or 0 for
// the sub-byte types (F4, F6_E2M3, F6_E3M2) and for invalid values.
func (d DType) Size() int {
	switch d {
	case Bool, U8, I8, F8E5M2, F8E4M3, F8E8M0:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case F64, C64, I64, U64:
		return 8
	}
	return 0
}

// Float16ToFloat32 converts an IEEE 754 binary16 value, given by its bits, to
// float32. The conversion is exact for every input: subnormals become normal
// float32 values, infinities keep their sign, and NaNs keep their sign and
// payload (shifted into the top of the float32 mantissa, so quiet NaNs stay
// quiet).
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // Inf or NaN.
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign) // ±0
		}
		// Subnormal: mant × 2⁻²⁴. Normalise: shift the leading one into the
		// implicit-bit position, lowering the exponent once per shift.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// BFloat16ToFloat32 converts a bfloat16 value, given by its bits, to float32.
// bfloat16 is the top half of a float32, so the conversion is exact for every
// input, NaN payloads included.
func BFloat16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}
