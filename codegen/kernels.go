package codegen

import (
	"github.com/cnnc/cnnc/asmgen/gemm"
	"github.com/cnnc/cnnc/compiler/ir"
)

// A GEMM layer's kernels: the full tile and, where the layer's M or N is
// not a multiple of the tile, the tiles that store fewer rows or columns.
type variant struct {
	suffix       string
	edgeM, edgeN bool
}

var variants = []variant{{"full", false, false}, {"n", false, true}, {"m", true, false}, {"mn", true, true}}

// kernelName names layer l's kernel for implementation im, variant v and
// K block kb.
func (p *Plan) kernelName(l *layer, im impl, v variant, kb kblock) string {
	return p.ident(l.n, "k") + "_" + im.suffix + "_" + v.suffix + [...]string{"", "_k0", "_k1", "_k2"}[kb]
}

// needed reports whether the GEMM under tile t has tiles of variant v:
// full columns exist if N >= NR, a ragged last column if NR does not divide
// N, and likewise for rows.
func (p *gemmPlan) needed(t tile, v variant) bool {
	if p.wino {
		// Winograd GEMMs store whole tiles into scratch: their operands
		// are padded to whole panels.
		return v == variants[0]
	}
	cols := p.N >= t.NR
	if v.edgeN {
		cols = p.N%t.NR != 0
	}
	rows := p.M >= t.MR
	if v.edgeM {
		rows = p.M%t.MR != 0
	}
	return cols && rows
}

// epilogueAct sets the activation a kernel applies itself, and reports
// whether it can: ReLU, leaky ReLU, clip (ReLU6), hardsigmoid, hardswish,
// sigmoid, SiLU and GELU; the others (tanh, GELU's tanh form) are applied
// by Go code after it.
func epilogueAct(cfg *gemm.Config, a ir.Activation) bool {
	switch a.Kind {
	case ir.ActNone:
	case ir.ActReLU:
		cfg.Act = gemm.ActReLU
	case ir.ActLeakyReLU:
		cfg.Act, cfg.Slope = gemm.ActLeakyReLU, a.Alpha
	case ir.ActClip:
		cfg.Act, cfg.Lo, cfg.Hi = gemm.ActClip, a.Alpha, a.Beta
	case ir.ActHardSigmoid:
		cfg.Act, cfg.Alpha, cfg.Beta = gemm.ActHardSigmoid, a.Alpha, a.Beta
	case ir.ActHardSwish:
		cfg.Act, cfg.Alpha, cfg.Beta = gemm.ActHardSwish, 1.0/6, 0.5
	case ir.ActSigmoid:
		cfg.Act = gemm.ActSigmoid
	case ir.ActSiLU:
		cfg.Act = gemm.ActSiLU
	case ir.ActGELU:
		cfg.Act = gemm.ActGELU
	default:
		return false
	}
	return true
}

// kernelConfigs lists the package's assembly kernels for GOARCH arch. Each
// is specialised to its layer: K and the row stride of C are constants, and
// the edge variants store exactly the rows and columns left over.
func (c *gen) kernelConfigs(arch string) []gemm.Config {
	var cfgs []gemm.Config
	for _, l := range c.layers {
		if l.gemm == nil {
			continue
		}
		for i, im := range impls {
			if !im.asm || im.arch != arch {
				continue
			}
			for _, v := range variants {
				if l.gemm.needed(l.gemm.tile(i), v) {
					for _, kb := range l.gemm.tile(i).kblocks() {
						cfgs = append(cfgs, c.gemmConfig(l, i, im, v, kb, c.bf16()))
					}
				}
			}
		}
	}
	return cfgs
}

// gemmConfig is layer l's kernel of variant v and K block kb for
// implementation im (impls[i]); bf16 makes a dense layer's weights
// bfloat16.
func (p *Plan) gemmConfig(l *layer, i int, im impl, v variant, kb kblock, bf16 bool) gemm.Config {
	g, t := l.gemm, l.gemm.tile(i)
	k := g.K
	switch kb {
	case kFirst, kMid:
		k = t.kc
	case kLast:
		k = g.K - (t.kBlocks-1)*t.kc
	}
	cfg := gemm.Config{
		Name: p.kernelName(l, im, v, kb), ISA: im.isa, MR: t.MR, NR: t.NR,
		K: k, LDC: g.N, Unroll: unrollFor(k),
	}
	if g.wino {
		cfg.LDC = t.NR // a block of the task's scratch
	}
	if ldb := g.ldbOf(bSourceOf(g, t, l.batch, im), t, v.edgeN); ldb != t.NR {
		cfg.LDB = ldb // the input planes, read in place
	}
	if v.edgeM {
		cfg.StoreM = g.M % t.MR
	}
	if v.edgeN {
		cfg.StoreN = g.N % t.NR
	}
	switch {
	case g.dense:
		cfg.BF16B = bf16
	case g.wino:
		// Winograd GEMMs: bias and activation come in the output
		// transform.
	default:
		// Convolutions: bias per output channel (row) and the
		// activation in the epilogue, after the residual of an add
		// fused into it. Dense layers add their bias per unit (column)
		// in Go.
		// The first of several K blocks adds the bias, the others
		// accumulate, and the last activates.
		cfg.Bias = kb == kWhole || kb == kFirst
		cfg.Accumulate = l.sum != nil || kb == kMid || kb == kLast
		if kb == kWhole || kb == kLast {
			epilogueAct(&cfg, l.act())
		}
	}
	if !g.dense {
		// A convolution's or Winograd point's task calls the kernel on
		// panel after panel of filters, the next MR*K floats on.
		cfg.PrefetchA = 4 * t.MR * g.K
	}
	return cfg
}

// unrollFor picks the k-loop unroll: 4, with a remainder loop for the
// last K mod 4 steps (AlexNet's conv1 has K = 363).
func unrollFor(k int) int {
	if k >= 4 {
		return 4
	}
	return 1
}
