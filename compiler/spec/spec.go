// Package spec is cnnc's front end: it decodes a network description written
// in YAML into a Spec, checking every field and keeping every position so
// that later stages can report errors as "file:line:col: layer: message".
//
// The language is documented in docs/spec.md. A spec is a DAG: a layer reads
// the previous layer's output unless it names `input: <layer>`, and add and
// concat name theirs with `inputs: [a, b, ...]`.
package spec

import (
	"errors"
	"fmt"
	"go/token"
	"regexp"

	"github.com/cnnc/cnnc/compiler/diag"
)

// Spec is a decoded network description. Defaults are already applied.
type Spec struct {
	File        string
	Name        string // model name: a Go identifier, used as the package name
	Description string
	Input       [3]int      // C, H, W
	Preprocess  *Preprocess // how pixels become the input; nil if not given
	Layers      []*Layer
	Pos         diag.Pos            // the document
	Fields      map[string]diag.Pos // top-level keys
}

// Pair is a [height, width] pair; a scalar in YAML sets both.
type Pair [2]int

// Layer is one layer as written, with defaults applied.
type Layer struct {
	Name   string
	Op     string
	Pos    diag.Pos            // the layer's mapping
	Fields map[string]diag.Pos // every key given, by name
	Inputs []string            // `input` or `inputs`; nil means the previous layer

	Filters  int  // conv
	Units    int  // dense
	Kernel   Pair // conv, pools
	Stride   Pair // conv, pools
	Dilation Pair // conv
	Padding  Pair // conv, pools
	PadMode  string
	Groups   int  // conv
	Bias     bool // conv, dense
	Ceil     bool // pools
	CountPad bool // avgpool
	Size     int  // lrn
	Alpha    float64
	Beta     float64
	K        float64
	Slope    float64  // leaky_relu
	Min, Max *float64 // clip's bounds; nil is unbounded
	Shared   bool     // prelu: one slope for all channels
	Start    int      // slice
	End      int      // slice
	// Approximate is gelu's form: GELUExact (the default) or GELUTanh.
	Approximate string
	Rate        float64 // dropout
	Eps         float64 // batchnorm
}

// gelu's forms, PyTorch's approximate argument.
const (
	GELUExact = "none"
	GELUTanh  = "tanh"
)

// Padding modes for conv.
const (
	PadExplicit = ""
	PadValid    = "valid"
	PadSame     = "same"
)

// Limits that keep hostile specs from exhausting memory or overflowing.
const (
	MaxFileBytes = 8 << 20 // a spec file
	MaxLayers    = 10000
	MaxDim       = 1 << 20 // any single size: channels, height, kernel, ...
	maxNodes     = 1 << 20 // YAML nodes visited, aliases expanded
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// IsIdent reports whether s is a valid layer or model name: letters, digits
// and underscores, not starting with a digit.
func IsIdent(s string) bool { return identRE.MatchString(s) }

// InputName is the name by which layers refer to the network input.
const InputName = "input"

func checkModelName(l *diag.List, pos diag.Pos, name string) {
	if err := CheckPackageName(name); err != nil {
		l.Add(pos, "", "name: %v", err)
	}
}

// CheckPackageName reports why name cannot name a generated Go package, or
// nil if it can. The model name is the package name of `cnnc compile` (and
// the C prefix of its CUDA target), so it must be an ASCII Go identifier
// (go/token.IsIdentifier, restricted to ASCII for C and file systems), not
// the blank identifier, and not main, which would ask for a command's func
// main. The generated files have fixed names, so a name that Go's file-name
// rules would read (net_test, net_windows, layers) is fine. Every stage that
// takes a package name, the spec decoder, codegen and codegen/cuda, calls
// this one check.
func CheckPackageName(name string) error {
	switch {
	case name == "":
		return errors.New("must not be empty")
	case !token.IsIdentifier(name) || !IsIdent(name):
		if token.IsKeyword(name) {
			return fmt.Errorf("%q is a Go keyword and cannot name a package", name)
		}
		return fmt.Errorf("%q is not a valid identifier (letters, digits, underscore; not starting with a digit)", name)
	case name == "_":
		return errors.New(`"_" is the blank identifier and cannot name a package`)
	case name == "main":
		return errors.New(`"main" would make the generated package a command, which needs a func main; choose another name`)
	}
	return nil
}
