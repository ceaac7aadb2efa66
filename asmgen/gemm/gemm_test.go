package gemm

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestPresetsValid(t *testing.T) {
	for _, p := range Presets {
		c := p.Config("k")
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		// The presets must also fit with the most demanding epilogue.
		c.Bias, c.Accumulate, c.Act, c.Slope, c.StoreN = true, true, ActLeakyReLU, 0.1, c.NR-1
		if err := c.Validate(); err != nil {
			t.Errorf("%s with LeakyReLU and a ragged edge: %v", p.Name, err)
		}
	}
	for _, isa := range []ISA{AVX512, AVX2} {
		if p := DefaultPreset(isa); p.ISA != isa {
			t.Errorf("DefaultPreset(%v) = %v", isa, p)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Name: "k", ISA: AVX512, MR: 8, NR: 48}
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		errSub string
		regs   bool // want ErrTooManyRegisters
	}{
		{"ok", func(*Config) {}, "", false},
		{"name", func(c *Config) { c.Name = "1x" }, "identifier", false},
		{"isa", func(c *Config) { c.ISA = 7 }, "ISA", false},
		{"mr", func(c *Config) { c.MR = 0 }, "MR", false},
		{"nr", func(c *Config) { c.NR = 40 }, "NR", false},
		{"nr avx2", func(c *Config) { c.ISA, c.MR, c.NR = AVX2, 4, 12 }, "NR", false},
		{"k", func(c *Config) { c.K = -1 }, "K", false},
		{"storeN", func(c *Config) { c.StoreN = 49 }, "StoreN", false},
		{"storeM", func(c *Config) { c.StoreM = 9 }, "StoreM", false},
		{"ldc", func(c *Config) { c.LDC = 40 }, "LDC", false},
		{"ldc ragged", func(c *Config) { c.LDC, c.StoreN = 40, 40 }, "", false},
		{"ldb", func(c *Config) { c.LDB = -1 }, "LDB", false},
		{"ldb ragged", func(c *Config) { c.LDB, c.StoreN = 32, 17 }, "", false},
		{"ldb overlapping", func(c *Config) { c.LDB, c.StoreN = 1, 1 }, "", false},
		{"ldb neon ragged", func(c *Config) { c.ISA, c.NR, c.LDB, c.StoreN = NEON, 12, 4, 3 }, "", false},
		{"slope", func(c *Config) { c.Slope = 0.1 }, "Slope", false},
		{"act", func(c *Config) { c.Act = 9 }, "activation", false},
		{"too many acc", func(c *Config) { c.MR = 11 }, "", true},
		{"avx2 6x16", func(c *Config) { c.ISA, c.MR, c.NR = AVX2, 6, 16 }, "", false},
		{"avx2 7x16", func(c *Config) { c.ISA, c.MR, c.NR = AVX2, 7, 16 }, "", true},
		{"avx2 4x24", func(c *Config) { c.ISA, c.MR, c.NR = AVX2, 4, 24 }, "", false},
		{"avx2 14x8", func(c *Config) { c.ISA, c.MR, c.NR = AVX2, 14, 8 }, "", false},
		{"avx2 15x8", func(c *Config) { c.ISA, c.MR, c.NR = AVX2, 15, 8 }, "", true},
		// Embedded broadcasts let AVX-512 use every register.
		{"avx512 15x32", func(c *Config) { c.MR, c.NR = 15, 32 }, "", false},
		{"avx512 31x16", func(c *Config) { c.MR, c.NR = 31, 16 }, "", false},
		{"avx512 31x16 leaky", func(c *Config) { c.MR, c.NR, c.Act = 31, 16, ActLeakyReLU }, "", true},
		{"avx512 32x16", func(c *Config) { c.MR, c.NR = 32, 16 }, "", true},
	} {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.errSub == "" && !tc.regs && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.regs && !errors.Is(err, ErrTooManyRegisters):
			t.Errorf("%s: got %v, want ErrTooManyRegisters", tc.name, err)
		case tc.errSub != "" && (err == nil || !strings.Contains(err.Error(), tc.errSub)):
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.errSub)
		}
	}
}

func TestSignature(t *testing.T) {
	c := Config{Name: "k", ISA: AVX2, MR: 6, NR: 16}
	if got, want := c.Signature(), "func(a, b, c *float32, k int, ldc int)"; got != want {
		t.Errorf("Signature() = %q, want %q", got, want)
	}
	c.K, c.LDC, c.Bias = 9, 20, true
	if got, want := c.Signature(), "func(a, b, c *float32, bias *float32)"; got != want {
		t.Errorf("Signature() = %q, want %q", got, want)
	}
	if got, want := strings.Join(c.Params(), ","), "a,b,c,bias"; got != want {
		t.Errorf("Params() = %q, want %q", got, want)
	}
}

func TestGenerate(t *testing.T) {
	cfgs := []Config{
		{Name: "k1", ISA: AVX512, MR: 8, NR: 48, Unroll: 4, Bias: true, Act: ActReLU},
		{Name: "k2", ISA: AVX2, MR: 6, NR: 16, K: 9, LDC: 20, Accumulate: true, StoreN: 13},
	}
	asm, stubs, err := Generate("p", cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range [][]byte{asm, stubs} {
		if !bytes.HasPrefix(f, []byte(Header+"\n\n//go:build "+AsmConstraint+"\n")) {
			t.Errorf("bad header:\n%.200s", f)
		}
	}
	for _, want := range []string{
		"TEXT ·k1(SB), NOSPLIT, $0-48", "TEXT ·k2(SB), NOSPLIT, $0-24", "VZEROUPPER", "VMASKMOVPS",
		// avo's ISA analysis: AVX-512 kernels need only AVX512F, AVX2
		// kernels nothing beyond AVX2 and FMA.
		"// Requires: AVX, AVX512F\n", "// Requires: AVX, AVX2, FMA3\n",
	} {
		if !bytes.Contains(asm, []byte(want)) {
			t.Errorf("assembly lacks %q", want)
		}
	}
	for _, want := range []string{"package p", "//go:noescape", "func k1(a *float32, b *float32, c *float32, k int, ldc int, bias *float32)"} {
		if !bytes.Contains(stubs, []byte(want)) {
			t.Errorf("stubs lack %q", want)
		}
	}
	asm2, stubs2, err := Generate("p", cfgs)
	if err != nil || !bytes.Equal(asm, asm2) || !bytes.Equal(stubs, stubs2) {
		t.Errorf("Generate is not deterministic (err %v)", err)
	}
	fb, err := GenerateFallback("p", cfgs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(fb, []byte(Header+"\n\n//go:build "+FallbackConstraint+"\n")) {
		t.Errorf("bad fallback header:\n%.200s", fb)
	}

	if _, _, err := Generate("p", append(cfgs, cfgs[0])); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate names: got %v", err)
	}
	if _, _, err := Generate("p-q", cfgs); err == nil {
		t.Error("bad package name accepted")
	}
	if _, err := GenerateFallback("p", []Config{{Name: "x", ISA: AVX2, MR: 20, NR: 8}}); err == nil {
		t.Error("invalid config accepted by GenerateFallback")
	}
}

func TestReference(t *testing.T) {
	// MR=2, NR=8 tile, K=2, storing 2 rows and 3 columns.
	cfg := Config{MR: 2, NR: 8, Bias: true, Accumulate: true, Act: ActLeakyReLU, Slope: 0.5, StoreN: 3}
	a := []float32{1, 2, 3, 4} // k=0: rows 1, 2; k=1: rows 3, 4
	b := make([]float32, 16)
	for i := range b {
		b[i] = float32(i) // k=0: 0..7; k=1: 8..15
	}
	c := []float32{
		1, 1, 1, 9,
		-100, -100, -100, 9,
	}
	Reference(cfg, 2, a, b, c, 4, []float32{10, 20})
	// Row 0: 1 + 10 + 1*j + 3*(8+j); row 1: -100 + 20 + 2*j + 4*(8+j), negative
	// values halved.
	want := []float32{
		35, 39, 43, 9,
		-24, -21, -18, 9,
	}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("C = %v, want %v", c, want)
		}
	}
}
