package gemm

import (
	"errors"
	"fmt"
	"go/token"
	"math"
	"strings"
)

// ISA selects the instruction set a kernel is generated for.
type ISA int

const (
	// AVX512 uses 512-bit zmm registers (16 floats), 32 vector registers and
	// opmask registers. Only AVX512F instructions are emitted, and the AVX,
	// AVX2 and FMA ones of the transposed shape (transposed.go), which
	// every AVX-512 CPU has.
	AVX512 ISA = iota
	// AVX2 uses 256-bit ymm registers (8 floats) and 16 vector registers.
	// It requires AVX2 and FMA.
	AVX2
	// NEON is arm64's Advanced SIMD: 128-bit V registers (4 floats), 32 of
	// them. Its kernels come from GenerateNEON (neon.go).
	NEON
)

// String returns the name of the ISA.
func (i ISA) String() string {
	switch i {
	case AVX512:
		return "AVX512"
	case AVX2:
		return "AVX2"
	case NEON:
		return "NEON"
	}
	return fmt.Sprintf("ISA(%d)", int(i))
}

// Lanes returns the number of float32 lanes of one vector register.
func (i ISA) Lanes() int {
	switch i {
	case AVX512:
		return 16
	case NEON:
		return 4
	}
	return 8
}

// Registers returns the number of vector registers available.
func (i ISA) Registers() int {
	if i == AVX512 || i == NEON {
		return 32
	}
	return 16
}

func (i ISA) valid() bool { return i == AVX512 || i == AVX2 || i == NEON }

// Act is the activation applied to the finished tile before it is stored.
type Act int

const (
	// ActNone stores the linear result.
	ActNone Act = iota
	// ActReLU stores max(x, 0) (NaN is propagated).
	ActReLU
	// ActLeakyReLU stores x < 0 ? Slope*x : x.
	ActLeakyReLU
	// ActClip stores min(max(x, Lo), Hi) (NaN is propagated): ReLU6 and
	// clip.
	ActClip
	// ActHardSigmoid stores min(max(Alpha*x + Beta, 0), 1).
	ActHardSigmoid
	// ActHardSwish stores x * min(max(Alpha*x + Beta, 0), 1): with Alpha
	// 1/6 and Beta 1/2, MobileNetV3's hardswish.
	ActHardSwish
	// ActSigmoid stores 1/(1+e^-x).
	ActSigmoid
	// ActSiLU stores x/(1+e^-x) (swish): EfficientNet's activation.
	ActSiLU
	// ActGELU stores x/2·(1+erf(x/√2)): ConvNeXt's and the
	// transformers' activation, PyTorch's exact GELU. erf is a rational
	// approximation within 5e-7 (act.go's geluA and geluB).
	ActGELU
)

// String returns the name of the activation.
func (a Act) String() string {
	switch a {
	case ActNone:
		return "None"
	case ActReLU:
		return "ReLU"
	case ActLeakyReLU:
		return "LeakyReLU"
	case ActClip:
		return "Clip"
	case ActHardSigmoid:
		return "HardSigmoid"
	case ActHardSwish:
		return "HardSwish"
	case ActSigmoid:
		return "Sigmoid"
	case ActSiLU:
		return "SiLU"
	case ActGELU:
		return "GELU"
	}
	return fmt.Sprintf("Act(%d)", int(a))
}

// Config describes one micro-kernel. Every field is fixed at generation
// time; see the package documentation for the semantics of a call.
type Config struct {
	// Name is the Go function name, e.g. "gemm8x48AVX512".
	Name string
	// ISA is the instruction set to generate for.
	ISA ISA
	// MR is the number of rows of the tile (broadcast operands, taken from
	// the A panel).
	MR int
	// NR is the number of columns of the tile (vector operands, taken from
	// the B panel); a multiple of ISA.Lanes().
	NR int
	// K is the reduction length. 0 makes it a runtime parameter k; a positive
	// value is baked in as the loop bound.
	K int
	// Unroll is the unroll factor of the k loop (0 means 1).
	Unroll int
	// LDC is the row stride of C in floats. 0 makes it a runtime parameter
	// ldc; a positive value is baked in.
	LDC int
	// LDB is the row stride of B in floats; 0 means NR, a packed panel. A
	// stride lets a kernel read B where it lies: a 1x1 convolution's input
	// planes, whose rows are H*W floats apart, need no im2col copy. The
	// kernel loads the whole vectors that hold a row's StoreN columns
	// (LoadN floats), so a ragged tile reads up to Lanes-1 floats past
	// them; they reach only lanes that are not stored, but they must be
	// readable memory. LDB may be less than LoadN (a 1x1 map has N = 1):
	// rows then overlap in lanes that are not stored.
	LDB int
	// Bias adds bias[r] to row r; it adds a bias pointer parameter.
	Bias bool
	// Accumulate adds the result to the existing contents of C (split-K)
	// instead of overwriting it.
	Accumulate bool
	// Act is the activation applied before storing.
	Act Act
	// Slope is the negative slope of ActLeakyReLU; it must be zero for the
	// other activations.
	Slope float32
	// Lo and Hi are ActClip's bounds; they must be zero for the other
	// activations.
	Lo, Hi float32
	// Alpha and Beta are ActHardSigmoid's and ActHardSwish's line; they
	// must be zero for the other activations.
	Alpha, Beta float32
	// StoreN is the number of columns actually stored, for the ragged right
	// edge (0 means NR). Loads of B are always full NR wide.
	StoreN int
	// StoreM is the number of rows actually stored, for the ragged bottom
	// edge (0 means MR).
	StoreM int
	// PrefetchA, if positive, is how far in bytes past the A values of a k
	// step lie those that the kernel prefetches (PREFETCHT0) as it goes:
	// the next panel's, MR*K*4 bytes on, when the caller runs the kernel
	// on panel after panel. A K block of a longer panel is a run of a few
	// KiB that the previous call did not read next to, which the
	// processor's prefetchers do not fetch before the loads that miss;
	// with few columns of B to reuse each panel, those misses were up to
	// a sixth of a layer's time. amd64 only: NEON kernels ignore it.
	PrefetchA int
	// BF16B makes the B panel bfloat16 (the upper halves of float32s,
	// parameter b *uint16): each vector is widened to float32 in registers
	// (VPMOVZXWD, VPSLLD) and the arithmetic stays float32. It halves the
	// bytes a weight-streaming GEMV reads. AVX-512 kernels then also need
	// AVX512BW.
	BF16B bool
}

// storeN returns the effective number of stored columns.
func (c Config) storeN() int {
	if c.StoreN == 0 {
		return c.NR
	}
	return c.StoreN
}

// storeM returns the effective number of stored rows.
func (c Config) storeM() int {
	if c.StoreM == 0 {
		return c.MR
	}
	return c.StoreM
}

// LoadN is the number of floats of each row of B the kernel loads: the
// whole vectors holding StoreN columns, or NR for a NEON kernel of packed
// panels (LDB 0), whose ragged tiles load whole panel rows.
func (c Config) LoadN() int {
	w := c.ISA.Lanes()
	if c.ISA == NEON && c.LDB == 0 {
		return c.NR
	}
	return (c.storeN() + w - 1) / w * w
}

// ldb returns the effective row stride of B.
func (c Config) ldb() int {
	if c.LDB == 0 {
		return c.NR
	}
	return c.LDB
}

// unroll returns the effective unroll factor: Config.Unroll, rounded up
// to a multiple of a transposed kernel's accumulators a column.
func (c Config) unroll() int {
	u := max(c.Unroll, 1)
	if s := shapeFor(c); s.transposed {
		u = (u + s.splits - 1) / s.splits * s.splits
	}
	return u
}

// Params returns the names of the parameters of the generated function in
// order: a, b and c always, then k (runtime K), ldc (runtime LDC) and bias
// (Bias) when present. a, b, c and bias are *float32 (b is *uint16 with
// BF16B); k and ldc are int.
func (c Config) Params() []string {
	p := []string{"a", "b", "c"}
	if c.K == 0 {
		p = append(p, "k")
	}
	if c.LDC == 0 {
		p = append(p, "ldc")
	}
	if c.Bias {
		p = append(p, "bias")
	}
	return p
}

// Signature returns the Go function type of the generated function, e.g.
// "func(a, b, c *float32, k int, ldc int, bias *float32)".
func (c Config) Signature() string {
	var parts []string
	parts = append(parts, "a, b, c *float32")
	if c.BF16B {
		parts[0] = "a *float32, b *uint16, c *float32"
	}
	if c.K == 0 {
		parts = append(parts, "k int")
	}
	if c.LDC == 0 {
		parts = append(parts, "ldc int")
	}
	if c.Bias {
		parts = append(parts, "bias *float32")
	}
	return "func(" + strings.Join(parts, ", ") + ")"
}

// maxUnroll bounds Config.Unroll to keep the code size sane.
const maxUnroll = 64

// Validate reports whether c describes a kernel that can be generated,
// including whether its accumulators, B vectors, broadcasts and epilogue
// temporaries fit the vector register file.
func (c Config) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("gemm: config %q: %s", c.Name, fmt.Sprintf(format, args...))
	}
	if !token.IsIdentifier(c.Name) || c.Name == "_" {
		return fail("name is not a Go identifier")
	}
	if !c.ISA.valid() {
		return fail("unknown ISA %v", c.ISA)
	}
	w := c.ISA.Lanes()
	switch {
	case c.MR < 1:
		return fail("MR=%d must be positive", c.MR)
	case c.NR < w || c.NR%w != 0:
		return fail("NR=%d must be a positive multiple of %d for %v", c.NR, w, c.ISA)
	case c.K < 0 || c.K > math.MaxInt32:
		return fail("K=%d out of range [0, 2^31)", c.K)
	case c.Unroll < 0 || c.Unroll > maxUnroll:
		return fail("Unroll=%d out of range [0, %d]", c.Unroll, maxUnroll)
	case c.StoreN < 0 || c.StoreN > c.NR:
		return fail("StoreN=%d out of range [0, NR=%d]", c.StoreN, c.NR)
	case c.StoreM < 0 || c.StoreM > c.MR:
		return fail("StoreM=%d out of range [0, MR=%d]", c.StoreM, c.MR)
	case c.LDC < 0:
		return fail("LDC=%d must not be negative", c.LDC)
	case c.LDC > 0 && c.LDC < c.storeN():
		return fail("LDC=%d is smaller than the %d stored columns", c.LDC, c.storeN())
	case c.LDB < 0:
		return fail("LDB=%d must not be negative", c.LDB)
	case c.PrefetchA < 0:
		return fail("PrefetchA=%d must not be negative", c.PrefetchA)
	}
	if c.Act != ActLeakyReLU && c.Slope != 0 {
		return fail("Slope is only meaningful with ActLeakyReLU")
	}
	if c.Act != ActClip && (c.Lo != 0 || c.Hi != 0) {
		return fail("Lo and Hi are only meaningful with ActClip")
	}
	if c.Act != ActHardSigmoid && c.Act != ActHardSwish && (c.Alpha != 0 || c.Beta != 0) {
		return fail("Alpha and Beta are only meaningful with ActHardSigmoid and ActHardSwish")
	}
	finite := func(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }
	switch c.Act {
	case ActNone, ActReLU:
	case ActLeakyReLU:
		if !finite(c.Slope) {
			return fail("Slope %v is not finite", c.Slope)
		}
	case ActClip:
		if !finite(c.Lo) || !finite(c.Hi) || c.Lo > c.Hi {
			return fail("clip bounds [%v, %v] are not finite and ordered", c.Lo, c.Hi)
		}
	case ActHardSigmoid, ActHardSwish:
		if !finite(c.Alpha) || !finite(c.Beta) {
			return fail("Alpha %v and Beta %v must be finite", c.Alpha, c.Beta)
		}
	case ActSigmoid, ActSiLU, ActGELU:
	default:
		return fail("unknown activation %v", c.Act)
	}
	// Maximum displacements must fit the 32-bit addressing modes.
	const maxDisp = math.MaxInt32 / 2
	if int64(c.unroll())*int64(c.ldb())*4 > maxDisp || int64(c.MR)*int64(c.LDC)*4 > maxDisp || int64(c.PrefetchA)+int64(c.unroll())*int64(c.MR)*4 > maxDisp {
		return fail("displacements exceed 32 bits")
	}
	if b := budgetFor(c); b.total() > c.ISA.Registers() {
		return fmt.Errorf("gemm: config %q: %w: %v needs %d vector registers, %v has %d",
			c.Name, ErrTooManyRegisters, b, b.total(), c.ISA, c.ISA.Registers())
	}
	return nil
}

// ErrTooManyRegisters is wrapped by the error Validate returns when a tile
// does not fit the vector register file.
var ErrTooManyRegisters = errors.New("tile does not fit the register file")
