package winograd

import (
	"math/big"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var forms = []Form{{2, 3}, {4, 3}, {6, 3}, {2, 5}, {3, 5}, {4, 5}, {3, 3}, {2, 2}}

// TestCorrelation checks the 2-D algorithm exactly, in rationals, against
// the direct correlation Y[y][x] = Σ d[y+u][x+v] g[u][v] on integer data.
func TestCorrelation(t *testing.T) {
	for _, f := range forms {
		a, m, r := f.Alpha(), f.M, f.R
		at, g, bt := f.AT(), f.G(), f.BT()
		if len(at) != m || len(at[0]) != a || len(g) != a || len(g[0]) != r || len(bt) != a || len(bt[0]) != a {
			t.Fatalf("%v: shapes A^T %dx%d, G %dx%d, B^T %dx%d", f, len(at), len(at[0]), len(g), len(g[0]), len(bt), len(bt[0]))
		}
		for trial := range 3 {
			d, k := intMatrix(a, a, 7*trial+1), intMatrix(r, r, 13*trial+5)
			u := mul(mul(g, k), g.T())
			v := mul(mul(bt, d), bt.T())
			for i := range a {
				for j := range a {
					u[i][j].Mul(u[i][j], v[i][j])
				}
			}
			y := mul(mul(at, u), at.T())
			for i := range m {
				for j := range m {
					want := new(big.Rat)
					for p := range r {
						for q := range r {
							want.Add(want, new(big.Rat).Mul(d[i+p][j+q], k[p][q]))
						}
					}
					if y[i][j].Cmp(want) != 0 {
						t.Fatalf("%v trial %d: Y[%d][%d] = %v, want %v", f, trial, i, j, y[i][j], want)
					}
				}
			}
		}
	}
}

// TestFloat32 checks that the input and output transforms are exact in
// float32, which the kernels rely on, and that a matrix that is not is
// reported.
func TestFloat32(t *testing.T) {
	for _, f := range forms {
		if _, err := f.BT().Float32(); err != nil {
			t.Errorf("%v B^T: %v", f, err)
		}
		if _, err := f.AT().Float32(); err != nil {
			t.Errorf("%v A^T: %v", f, err)
		}
	}
	if _, err := (Form{2, 5}).G().Float32(); err == nil {
		t.Error("F(2x2, 5x5)'s G (sixths) converted exactly to float32")
	}
}

// TestKnown compares F(2x2, 5x5)'s matrices with the published ones (points
// 0, ±1, ±2 and ∞), which cnnc's kernels implemented by hand before they
// were generated from these matrices.
func TestKnown(t *testing.T) {
	f := Form{2, 5}
	bt, _ := f.BT().Float32()
	at, _ := f.AT().Float32()
	wantBT := []float32{
		4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0,
		0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1}
	wantAT := []float32{1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 1}
	if d := cmp.Diff(wantBT, bt); d != "" {
		t.Errorf("B^T mismatch (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantAT, at); d != "" {
		t.Errorf("A^T mismatch (-want +got):\n%s", d)
	}
	g := f.G().Float64()
	if g[5] != -1.0/6 || g[15] != 1.0/24 || g[29] != 1 {
		t.Errorf("G = %v", g)
	}
}

// TestForms checks that cnnc's forms can be constructed, exactly in float32
// for B^T and A^T, and are listed once each; TestCorrelation checks them.
func TestForms(t *testing.T) {
	for i, f := range Forms {
		if !f.Valid() || !slices.Contains(forms, f) || slices.Contains(Forms[:i], f) {
			t.Errorf("Forms[%d] = %v: valid %v, tested %v, listed before %v", i, f, f.Valid(), slices.Contains(forms, f), slices.Contains(Forms[:i], f))
		}
	}
}

// TestPairs checks that Pairs covers every row once and that each pair's
// rows are sign flips of each other on exactly the Odd columns.
func TestPairs(t *testing.T) {
	for _, f := range forms {
		bt := f.BT()
		seen := make([]int, len(bt))
		pairs := 0
		for _, p := range bt.Pairs() {
			seen[p.A]++
			if p.B < 0 {
				continue
			}
			pairs++
			seen[p.B]++
			for j := range bt[p.A] {
				want := new(big.Rat).Set(bt[p.A][j])
				if p.Odd[j] {
					want.Neg(want)
				}
				if want.Cmp(bt[p.B][j]) != 0 {
					t.Errorf("%v: rows %d, %d column %d", f, p.A, p.B, j)
				}
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Errorf("%v: row %d in %d pairs", f, i, n)
			}
		}
		// Symmetric points pair up: 0, ±1, ±2 (α = 6) and 0, ±1, ±2, ±1/2 (α = 8).
		if a := f.Alpha(); (a == 6 || a == 8) && pairs != (a-2)/2 {
			t.Errorf("%v: %d pairs, want %d", f, pairs, (a-2)/2)
		}
	}
}

func TestInvalid(t *testing.T) {
	if (Form{9, 5}).Valid() || (Form{0, 3}).Valid() || !(Form{4, 5}).Valid() {
		t.Error("Valid")
	}
	defer func() {
		if recover() == nil {
			t.Error("BT of an invalid form did not panic")
		}
	}()
	Form{9, 5}.BT()
}

func intMatrix(rows, cols, seed int) Matrix {
	m := newMatrix(rows, cols)
	for i := range rows {
		for j := range cols {
			m[i][j].SetInt64(int64((seed+3*i+5*j+i*j)%11 - 5))
		}
	}
	return m
}

func mul(a, b Matrix) Matrix {
	out := newMatrix(len(a), len(b[0]))
	for i := range a {
		for j := range b[0] {
			for k := range b {
				out[i][j].Add(out[i][j], new(big.Rat).Mul(a[i][k], b[k][j]))
			}
		}
	}
	return out
}
