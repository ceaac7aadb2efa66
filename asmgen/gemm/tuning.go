package gemm

import "fmt"

// This file is the one place that holds tile parameters and code-shape
// choices, so that performance work can tune them without touching the
// emitter.

// Preset is a named register tile with tuned defaults.
type Preset struct {
	Name   string // short name, e.g. "avx512_8x48"
	ISA    ISA
	MR, NR int
	Unroll int // default k-loop unroll factor
}

// Presets lists the default tiles. The first entry of each ISA is its
// default (see DefaultPreset).
var Presets = []Preset{
	// 24 accumulators + 3 B vectors + broadcasts. Widest useful N for
	// NCHW planes with 8-row output-channel blocks.
	{Name: "avx512_8x48", ISA: AVX512, MR: 8, NR: 48, Unroll: 4},
	// 24 accumulators + 4 B vectors: fewer A broadcasts per FMA.
	{Name: "avx512_6x64", ISA: AVX512, MR: 6, NR: 64, Unroll: 4},
	// 28 accumulators + 2 B vectors: tall tile for narrow spatial extents.
	{Name: "avx512_14x32", ISA: AVX512, MR: 14, NR: 32, Unroll: 4},
	// 28 accumulators + 1 B vector: GEMMs of 16 columns (Winograd F(4x4,
	// 3x3) on a 13x13 map at batch 1 has 16 tiles).
	{Name: "avx512_28x16", ISA: AVX512, MR: 28, NR: 16, Unroll: 4},
	// 12 accumulators + 2 B vectors + broadcasts (the classic 6x16).
	{Name: "avx2_6x16", ISA: AVX2, MR: 6, NR: 16, Unroll: 4},
	// 12 accumulators + 3 B vectors + 1 broadcast: the full ymm file.
	{Name: "avx2_4x24", ISA: AVX2, MR: 4, NR: 24, Unroll: 4},
	// NEON (neon.go): 24 accumulators + 3 B vectors + 2 A vectors, each
	// A vector feeding 4 rows through FMLA by element, so that a k step
	// is 5 loads for 24 FMAs. The 3 registers left over and the loop's 5
	// give the epilogue the 8 that sigmoid and SiLU need.
	{Name: "neon_8x12", ISA: NEON, MR: 8, NR: 12, Unroll: 4},
	// 24 accumulators + 2 B vectors + 3 A vectors: the same density for
	// GEMMs with few columns (Winograd, small maps).
	{Name: "neon_12x8", ISA: NEON, MR: 12, NR: 8, Unroll: 4},
}

// Config returns a Config named name for the preset tile, storing the full
// tile with a runtime K and LDC, no bias and no activation.
func (p Preset) Config(name string) Config {
	return Config{Name: name, ISA: p.ISA, MR: p.MR, NR: p.NR, Unroll: p.Unroll}
}

// DefaultPreset returns the default tile of isa.
func DefaultPreset(isa ISA) Preset {
	for _, p := range Presets {
		if p.ISA == isa {
			return p
		}
	}
	panic(fmt.Sprintf("gemm: no preset for %v", isa))
}

// shape holds the code-shape choices for one kernel that are derived from
// its Config rather than spelled out in it.
type shape struct {
	// embeddedBroadcast makes every AVX-512 FMA read its A element with an
	// embedded-broadcast memory operand (VFMADD231PS.BCST) instead of one
	// VBROADCASTSS into a register per row and k. It needs no broadcast
	// register but issues one load per FMA instead of one per row.
	embeddedBroadcast bool
	// broadcastRegs is the number of registers cycled through by the
	// VBROADCASTSS of consecutive rows (0 with embeddedBroadcast).
	broadcastRegs int
	// transposed computes a ragged edge of fewer columns than rows with
	// the rows in the lanes, splits accumulators a column
	// (transposed.go).
	transposed bool
	splits     int
}

// maxBroadcastRegs caps the broadcast registers cycled through; with
// register renaming more than two buys nothing.
const maxBroadcastRegs = 2

// shapeFor chooses the code shape of c. A ragged edge of fewer columns
// than rows is transposed (transposed.go). Register broadcasts are preferred:
// they load each A element once per k instead of once per B vector, which
// keeps the loads per FMA well below one. AVX-512 falls back to embedded
// broadcasts when a tile has a single B vector (nothing to share) or no
// register to spare.
func shapeFor(c Config) shape {
	if ok, splits := transposedShape(c); ok {
		return shape{transposed: true, splits: splits}
	}
	w := c.ISA.Lanes()
	nv := c.NR / w
	spare := c.ISA.Registers() - c.MR*nv - nv
	if c.ISA == AVX512 && (nv == 1 || spare < 1) {
		return shape{embeddedBroadcast: true}
	}
	return shape{broadcastRegs: max(1, min(maxBroadcastRegs, spare))}
}

// regBudget counts the vector registers a kernel needs.
type regBudget struct {
	acc      int // accumulators, live throughout
	loop     int // B vectors and broadcasts, live in the k loop
	epilogue int // temporaries of the epilogue (masks, constants)
}

func (b regBudget) total() int { return b.acc + max(b.loop, b.epilogue) }

func (b regBudget) String() string {
	return fmt.Sprintf("%d accumulators + max(%d loop, %d epilogue)", b.acc, b.loop, b.epilogue)
}

// budgetFor returns the register demand of the full MR x NR tile of c.
func budgetFor(c Config) regBudget {
	if c.ISA == NEON {
		return neonBudget(c)
	}
	s := shapeFor(c)
	if s.transposed {
		return transposedBudget(c)
	}
	nv := c.NR / c.ISA.Lanes()
	b := regBudget{acc: c.MR * nv, loop: nv}
	if !s.embeddedBroadcast {
		b.loop++ // at least one broadcast register is required
	}
	b.epilogue = len(epilogueTemps(c))
	return b
}

// epilogueTemp names a vector temporary of the epilogue.
type epilogueTemp int

const (
	tempZero  epilogueTemp = iota // 0.0 for ReLU and the LeakyReLU sign test
	tempSlope                     // broadcast LeakyReLU slope
	tempMask                      // AVX2 VMASKMOVPS mask of the ragged column vector
	tempValue                     // AVX2 scratch value (masked C load, slope*x)
	tempLo                        // broadcast clip lower bound
	tempHi                        // broadcast clip upper bound
	tempT1                        // scratch of the activations computed from constants (act.go)
	tempT2
	tempT3
)

// actScratch are the scratch registers (tempT1...) activation a needs: its
// constants are read from memory (act.go), ActScratch of them.
func actScratch(a Act) []epilogueTemp {
	return []epilogueTemp{tempT1, tempT2, tempT3}[:ActScratch(a)]
}

// epilogueTemps lists the vector temporaries the epilogue of c needs.
// AVX-512 masks live in opmask registers and need no vector register.
func epilogueTemps(c Config) []epilogueTemp {
	var t []epilogueTemp
	ragged := c.storeN()%c.ISA.Lanes() != 0
	switch c.ISA {
	case AVX512:
		switch c.Act {
		case ActReLU:
			t = append(t, tempZero)
		case ActLeakyReLU:
			t = append(t, tempZero, tempSlope)
		case ActClip:
			t = append(t, tempLo, tempHi)
		}
		t = append(t, actScratch(c.Act)...)
	case AVX2:
		switch c.Act {
		case ActReLU:
			t = append(t, tempZero)
		case ActLeakyReLU:
			t = append(t, tempSlope)
		case ActClip:
			t = append(t, tempLo, tempHi)
		}
		if ragged {
			t = append(t, tempMask)
		}
		if c.Act == ActLeakyReLU || (ragged && c.Accumulate) {
			t = append(t, tempValue)
		}
		t = append(t, actScratch(c.Act)...)
	}
	return t
}
