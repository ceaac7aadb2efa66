// Package winograd derives the matrices of Winograd's minimal filtering
// algorithms F(m×m, r×r) by the Toom-Cook construction, in exact rational
// arithmetic: one source for the code generators (codegen's filter
// transform tables, asmgen/vec's transform kernels) and their tests.
//
// F(m, r) computes m outputs of a 1-D correlation with an r-tap filter g
// from α = m+r-1 inputs d with α multiplications:
//
//	y = A^T [(G g) ⊙ (B^T d)]
//
// and the 2-D algorithm nests it: Y = A^T [(G g G^T) ⊙ (B^T d B)] A. The
// construction evaluates polynomials at α-1 finite points p_j and at
// infinity:
//
//	A^T[i][j] = p_j^i, and 1 in the last row's ∞ column;
//	G[j][k]   = p_j^k / N_j with N_j = Π_{l≠j} (p_j - p_l), and e_{r-1} for ∞;
//	B^T[j]    = the coefficients of Π_{l≠j} (x - p_l), and of Π_l (x - p_l) for ∞.
//
// Points of small magnitude keep the transforms' coefficients, and so the
// rounding error, small; Points lists the ones cnnc uses for each α. Their
// B^T and A^T entries are dyadic rationals, exact in float32, so only the
// filter transform G rounds (once, from float64, at load).
package winograd

import (
	"fmt"
	"math/big"
)

// Form is F(M×M, R×R): M×M output tiles of an R×R filter.
type Form struct{ M, R int }

// Forms are the forms cnnc computes convolutions with, the smaller tiles
// first for each R: codegen's plan chooses among a filter size's forms, and
// the generators emit each one a network uses, from its matrices alone
// (asmgen/vec's transform kernels, codegen/rt's Go transforms and filter
// transform). Adding a form is adding it here, if Points has its α.
// F(6x6, 3x3) has kernels and tests but lost to F(4x4, 3x3) on AlexNet
// (docs/design.md).
var Forms = []Form{{2, 3}, {4, 3}, {2, 5}, {3, 5}, {4, 5}}

// Alpha is the size of the form's input tiles, M+R-1: α² multiplications
// (one GEMM each, in cnnc) per tile and channel.
func (f Form) Alpha() int { return f.M + f.R - 1 }

func (f Form) String() string { return fmt.Sprintf("F(%dx%d, %dx%d)", f.M, f.M, f.R, f.R) }

// Name is f's name in identifiers, F{M}x{R}: F4x3 for F(4x4, 3x3), as in
// asmgen/vec's vecWinoInF4x3AVX512 and the generated winoF4x3.
func (f Form) Name() string { return fmt.Sprintf("F%dx%d", f.M, f.R) }

// points are the finite interpolation points for each α, smallest
// magnitudes first. The choice for α = 7 (0, ±1, ±1/2, 2) measured 3.2e-6
// of the outputs' scale on F(3x3, 5x5) over 48 channels against 4.0e-6 for
// (0, ±1, ±2, 1/2) (float32 against float64, numpy).
var points = map[int][][2]int64{
	3: {{0, 1}, {1, 1}},
	4: {{0, 1}, {1, 1}, {-1, 1}},
	5: {{0, 1}, {1, 1}, {-1, 1}, {2, 1}},
	6: {{0, 1}, {1, 1}, {-1, 1}, {2, 1}, {-2, 1}},
	7: {{0, 1}, {1, 1}, {-1, 1}, {1, 2}, {-1, 2}, {2, 1}},
	8: {{0, 1}, {1, 1}, {-1, 1}, {2, 1}, {-2, 1}, {1, 2}, {-1, 2}},
}

// Points returns the α-1 finite interpolation points of forms with input
// tiles of α (the last point is ∞), or nil if cnnc has none for α.
func Points(alpha int) []*big.Rat {
	ps, ok := points[alpha]
	if !ok {
		return nil
	}
	out := make([]*big.Rat, len(ps))
	for i, p := range ps {
		out[i] = big.NewRat(p[0], p[1])
	}
	return out
}

// Valid reports whether cnnc can construct f.
func (f Form) Valid() bool { return f.M >= 1 && f.R >= 2 && Points(f.Alpha()) != nil }

// Matrix is a matrix of exact rationals, row-major.
type Matrix [][]*big.Rat

func newMatrix(rows, cols int) Matrix {
	m := make(Matrix, rows)
	for i := range m {
		m[i] = make([]*big.Rat, cols)
		for j := range m[i] {
			m[i][j] = new(big.Rat)
		}
	}
	return m
}

func (f Form) mustValid() []*big.Rat {
	ps := Points(f.Alpha())
	if !f.Valid() {
		panic(fmt.Sprintf("winograd: no points for %v", f))
	}
	return ps
}

// AT is the output transform A^T, M×α.
func (f Form) AT() Matrix {
	ps := f.mustValid()
	a := f.Alpha()
	m := newMatrix(f.M, a)
	for i := range f.M {
		for j, p := range ps {
			m[i][j] = pow(p, i)
		}
	}
	m[f.M-1][a-1].SetInt64(1)
	return m
}

// G is the filter transform, α×R.
func (f Form) G() Matrix {
	ps := f.mustValid()
	a := f.Alpha()
	m := newMatrix(a, f.R)
	for j, p := range ps {
		n := big.NewRat(1, 1)
		for l, q := range ps {
			if l != j {
				n.Mul(n, new(big.Rat).Sub(p, q))
			}
		}
		for k := range f.R {
			m[j][k].Quo(pow(p, k), n)
		}
	}
	m[a-1][f.R-1].SetInt64(1)
	return m
}

// BT is the input transform B^T, α×α.
func (f Form) BT() Matrix {
	ps := f.mustValid()
	a := f.Alpha()
	m := newMatrix(a, a)
	for j := range a {
		poly := []*big.Rat{big.NewRat(1, 1)} // coefficients, constant first
		for l, q := range ps {
			if l != j {
				poly = mulLinear(poly, q)
			}
		}
		for k, c := range poly {
			m[j][k].Set(c)
		}
	}
	return m
}

// mulLinear returns poly × (x - q).
func mulLinear(poly []*big.Rat, q *big.Rat) []*big.Rat {
	out := make([]*big.Rat, len(poly)+1)
	for i := range out {
		out[i] = new(big.Rat)
	}
	for i, c := range poly {
		out[i+1].Add(out[i+1], c)
		out[i].Sub(out[i], new(big.Rat).Mul(c, q))
	}
	return out
}

func pow(p *big.Rat, n int) *big.Rat {
	r := big.NewRat(1, 1)
	for range n {
		r.Mul(r, p)
	}
	return r
}

// T returns m's transpose (sharing its entries).
func (m Matrix) T() Matrix {
	out := make(Matrix, len(m[0]))
	for j := range out {
		out[j] = make([]*big.Rat, len(m))
		for i := range m {
			out[j][i] = m[i][j]
		}
	}
	return out
}

// Float32 returns m's entries row-major as float32, and an error if one is
// not exact.
func (m Matrix) Float32() ([]float32, error) {
	var out []float32
	for i, row := range m {
		for j, v := range row {
			x, exact := v.Float32()
			if !exact {
				return nil, fmt.Errorf("winograd: entry (%d, %d) = %v is not exact in float32", i, j, v)
			}
			out = append(out, x)
		}
	}
	return out, nil
}

// Float64 returns m's entries row-major as the nearest float64s.
func (m Matrix) Float64() []float64 {
	var out []float64
	for _, row := range m {
		for _, v := range row {
			x, _ := v.Float64()
			out = append(out, x)
		}
	}
	return out
}

// A Pair is two rows of a matrix that differ only in the signs of some
// columns, row B = row A with the columns Odd negated (the rows of points
// p and -p: the odd powers change sign), or a single row A (B = -1, Odd
// nil). Computing both as P ± Q, P the sum over the other columns and Q
// over Odd, halves the work of the pair.
type Pair struct {
	A, B int
	Odd  []bool
}

// Pairs partitions m's rows into Pairs, in order of their first rows.
func (m Matrix) Pairs() []Pair {
	used := make([]bool, len(m))
	var out []Pair
	for a := range m {
		if used[a] {
			continue
		}
		used[a] = true
		p := Pair{A: a, B: -1}
		for b := a + 1; b < len(m) && p.B < 0; b++ {
			if used[b] {
				continue
			}
			odd, ok := signFlip(m[a], m[b])
			if ok {
				p.B, p.Odd = b, odd
				used[b] = true
			}
		}
		out = append(out, p)
	}
	return out
}

// signFlip reports whether b equals a with some nonzero columns negated
// (at least one), and which.
func signFlip(a, b []*big.Rat) ([]bool, bool) {
	odd := make([]bool, len(a))
	flip := false
	for j := range a {
		switch {
		case a[j].Cmp(b[j]) == 0:
		case new(big.Rat).Neg(a[j]).Cmp(b[j]) == 0:
			odd[j], flip = true, true
		default:
			return nil, false
		}
	}
	return odd, flip
}
