package gemm

import "math"

// Reference computes one call of the kernel described by cfg in pure Go:
//
//	C[r*ldc+j] = act( (Accumulate ? C[r*ldc+j] : 0) + (Bias ? bias[r] : 0)
//	                  + sum_{p<k} a[p*MR+r] * b[p*LDB+j] )
//
// with the activation computed in float64 from the float32 sum
// for r < StoreM and j < StoreN, leaving every other element of c
// untouched. cfg.K and cfg.LDC, when positive, override k and ldc; bias is
// ignored unless cfg.Bias is set. The dot products are accumulated in
// float64, so Reference is at least as accurate as any kernel; it panics if
// a slice is too short. cfg is not validated.
func Reference(cfg Config, k int, a, b, c []float32, ldc int, bias []float32) {
	if cfg.K > 0 {
		k = cfg.K
	}
	if cfg.LDC > 0 {
		ldc = cfg.LDC
	}
	k = max(k, 0)
	for r := range cfg.storeM() {
		for j := range cfg.storeN() {
			var s float64
			if cfg.Bias {
				s = float64(bias[r])
			}
			for p := range k {
				s += float64(a[p*cfg.MR+r]) * float64(b[p*cfg.ldb()+j])
			}
			if cfg.Accumulate {
				s += float64(c[r*ldc+j])
			}
			x := float32(s)
			hard := func(x float32) float64 {
				y := float64(cfg.Alpha)*float64(x) + float64(cfg.Beta)
				if y < 0 {
					y = 0
				}
				if y > 1 {
					y = 1
				}
				return y
			}
			switch {
			case cfg.Act == ActHardSigmoid:
				x = float32(hard(x))
			case cfg.Act == ActHardSwish:
				x = float32(float64(x) * hard(x))
			case cfg.Act == ActSigmoid:
				x = float32(1 / (1 + math.Exp(-float64(x))))
			case cfg.Act == ActSiLU:
				x = float32(float64(x) / (1 + math.Exp(-float64(x))))
			case cfg.Act == ActGELU:
				x = float32(float64(x) / 2 * (1 + math.Erf(float64(x)/math.Sqrt2)))
			case cfg.Act == ActReLU && x < 0:
				x = 0
			case cfg.Act == ActLeakyReLU && x < 0:
				x *= cfg.Slope
			case cfg.Act == ActClip && x < cfg.Lo:
				x = cfg.Lo
			case cfg.Act == ActClip && x > cfg.Hi:
				x = cfg.Hi
			}
			c[r*ldc+j] = x
		}
	}
}
