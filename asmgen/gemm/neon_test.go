package gemm

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNEONValidate(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		regs bool // want ErrTooManyRegisters
	}{
		{Config{MR: 8, NR: 12}, false},
		{Config{MR: 12, NR: 8}, false},
		{Config{MR: 8, NR: 12, Act: ActSiLU, Accumulate: true, StoreN: 11}, false},
		{Config{MR: 12, NR: 8, Act: ActSigmoid}, false},
		{Config{MR: 24, NR: 4}, false},                              // 24 + 1 B + 6 A
		{Config{MR: 25, NR: 4}, true},                               // 25 + 1 + 7
		{Config{MR: 9, NR: 12}, true},                               // 27 + 3 + 3
		{Config{MR: 4, NR: 28}, true},                               // 28 + 7 B + 1 A
		{Config{MR: 8, NR: 16}, true},                               // 32 accumulators
		{Config{MR: 6, NR: 16, Act: ActSiLU}, false},                // 24 + 8 epilogue
		{Config{MR: 5, NR: 20}, false},                              // 25 + 5 B + 2 A
		{Config{MR: 5, NR: 20, Act: ActSiLU}, true},                 // 25 + 8 epilogue
		{Config{MR: 5, NR: 20, Act: ActHardSwish, Alpha: 1}, false}, // 25 + max(7 loop, 5 epilogue)
	} {
		c := tc.c
		c.Name, c.ISA = "k", NEON
		err := c.Validate()
		if got := errors.Is(err, ErrTooManyRegisters); got != tc.regs {
			t.Errorf("%dx%d %v: Validate() = %v, want register error %v (budget %v)", c.MR, c.NR, c.Act, err, tc.regs, budgetFor(c))
		}
	}
	if c := (Config{Name: "k", ISA: NEON, MR: 4, NR: 10}); c.Validate() == nil {
		t.Error("NR=10 accepted for NEON")
	}
}

func TestNEONPresets(t *testing.T) {
	if p := DefaultPreset(NEON); p.Name != "neon_8x12" {
		t.Errorf("DefaultPreset(NEON) = %v", p)
	}
	for _, p := range Presets {
		if p.ISA != NEON {
			continue
		}
		// Every NEON preset fits the most demanding epilogue: SiLU with
		// Accumulate and three lanes of a ragged vector.
		c := p.Config("k")
		c.Bias, c.Accumulate, c.Act, c.StoreN = true, true, ActSiLU, c.NR-1
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
}

func TestGenerateNEON(t *testing.T) {
	cfgs := []Config{
		{Name: "n8x12", ISA: NEON, MR: 8, NR: 12, Unroll: 4, Bias: true, Act: ActSiLU},
		{Name: "n12x8", ISA: NEON, MR: 12, NR: 8, K: 9, LDC: 40, Unroll: 2, Accumulate: true, StoreN: 7},
	}
	asm, stubs, err := GenerateNEON("p", cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TEXT ·n8x12(SB), NOSPLIT|NOFRAME, $0-48", "TEXT ·n12x8(SB), NOSPLIT|NOFRAME, $0-24", "// fmla v0.4s, v24.4s, v27.s[0]"} {
		if !bytes.Contains(asm, []byte(want)) {
			t.Errorf("assembly lacks %q", want)
		}
	}
	for _, want := range []string{"//go:build arm64 && !purego", "func n8x12(a *float32, b *float32, c *float32, k int, ldc int, bias *float32)", "func n12x8(a *float32, b *float32, c *float32)"} {
		if !bytes.Contains(stubs, []byte(want)) {
			t.Errorf("stubs lack %q", want)
		}
	}
	asm2, stubs2, _ := GenerateNEON("p", cfgs)
	if !bytes.Equal(asm, asm2) || !bytes.Equal(stubs, stubs2) {
		t.Error("GenerateNEON is not deterministic")
	}
	if _, _, err := GenerateNEON("p", []Config{{Name: "x", ISA: AVX2, MR: 6, NR: 16}}); err == nil || !strings.Contains(err.Error(), "NEON") {
		t.Errorf("GenerateNEON of an AVX2 kernel: %v", err)
	}
	if _, _, err := Generate("p", cfgs[:1]); err == nil || !strings.Contains(err.Error(), "GenerateNEON") {
		t.Errorf("Generate of a NEON kernel: %v", err)
	}
}
