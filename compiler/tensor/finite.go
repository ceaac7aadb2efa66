package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// A float32 is NaN or ±Inf exactly when its 8 exponent bits are all ones:
// then adding one to the exponent field carries into the sign bit, and
// for every other float32 it does not.
const (
	expBits = 0x7f800000
	expOne  = 0x00800000
	signBit = 0x80000000
)

// NonFinite returns the index of the first NaN or ±Inf in x and how many
// there are; first is -1 if there are none. When x is all finite, as
// weights are, it reads x once, without branches, two values to a uint64.
func NonFinite(x []float32) (first, count int) {
	const (
		exp2 = expBits<<32 | expBits
		one2 = expOne<<32 | expOne
	)
	var a, a0, a1, a2, a3 uint64
	i := 0
	if len(x) > 0 && uintptr(unsafe.Pointer(&x[0]))%8 != 0 {
		a = uint64(math.Float32bits(x[0])&expBits + expOne)
		i = 1
	}
	if n := (len(x) - i) / 2; n > 0 {
		u := unsafe.Slice((*uint64)(unsafe.Pointer(&x[i])), n)
		j := 0
		for ; j+4 <= len(u); j += 4 {
			a0 |= u[j]&exp2 + one2
			a1 |= u[j+1]&exp2 + one2
			a2 |= u[j+2]&exp2 + one2
			a3 |= u[j+3]&exp2 + one2
		}
		for ; j < len(u); j++ {
			a0 |= u[j]&exp2 + one2
		}
		i += 2 * n
	}
	if i < len(x) {
		a |= uint64(math.Float32bits(x[i])&expBits + expOne)
	}
	if (a|a0|a1|a2|a3)&(signBit<<32|signBit) == 0 {
		return -1, 0
	}
	first = -1
	for i, v := range x {
		if math.Float32bits(v)&expBits == expBits {
			if first < 0 {
				first = i
			}
			count++
		}
	}
	return first, count
}

// CheckFinite returns nil if x holds no NaN or ±Inf, and otherwise an
// error that says how many values are not finite and gives the first one
// and its index (by dimension if shape fits x). what names x at the start
// of the message, usually as `tensor "conv1.weight"`:
//
//	tensor "conv1.weight": 3 of 23232 values are not finite; the first, at [0 0 1 2], is NaN
func CheckFinite(what string, shape []int, x []float32) error {
	first, count := NonFinite(x)
	if count == 0 {
		return nil
	}
	at := fmt.Sprint(first)
	if n, ok := numElements(shape); ok && n == len(x) && len(shape) > 1 {
		idx := make([]int, len(shape))
		r := first
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d] = r % shape[d]
			r /= shape[d]
		}
		at = fmt.Sprint(idx)
	}
	if count == 1 {
		return fmt.Errorf("%s: 1 of %d values is not finite: at %s, %v", what, len(x), at, x[first])
	}
	return fmt.Errorf("%s: %d of %d values are not finite; the first, at %s, is %v", what, count, len(x), at, x[first])
}
