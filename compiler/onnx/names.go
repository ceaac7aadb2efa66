package onnx

import (
	"fmt"
	"go/token"
	"strings"

	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
	"github.com/cnnc/cnnc/compiler/spec"
)

// nodeNames derives two candidate layer names from an ONNX node's name, as
// identifiers. full keeps the whole name; short leaves out a last segment
// that is just the operator, which is how torch.onnx.export names nodes
// inside modules: "/features/features.0/Conv" gives short "features_0" and
// full "features_0_Conv". Segments that the next segment repeats as its
// prefix ("features" before "features.0") are dropped from both. short is
// empty when nothing is left. A node without a name is named by its
// operator.
func nodeNames(n *pb.NodeProto) (short, full string) {
	op := n.GetOpType()
	raw := strings.Trim(n.GetName(), "/")
	if raw == "" {
		return "", ident(op, op)
	}
	segs := strings.Split(raw, "/")
	var keep []string
	for i, s := range segs {
		if i+1 < len(segs) && strings.HasPrefix(segs[i+1], s+".") {
			continue
		}
		keep = append(keep, s)
	}
	full = ident(strings.Join(keep, "_"), op)
	if last := keep[len(keep)-1]; len(keep) > 1 && (last == op || strings.HasPrefix(last, op+"_")) {
		short = ident(strings.Join(keep[:len(keep)-1], "_"), op)
	}
	return short, full
}

// ident turns s into a layer name: every run of characters other than
// letters, digits and underscores becomes one underscore, and a name that
// would start with a digit gets the operator in front.
func ident(s, op string) string {
	var b strings.Builder
	under := false
	for _, r := range s {
		ok := r < 128 && (r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		if !ok {
			under = true
			continue
		}
		if under && b.Len() > 0 {
			b.WriteByte('_')
		}
		under = false
		b.WriteRune(r)
	}
	out := strings.Trim(b.String(), "_")
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = ident(op, "x") + "_" + out
	}
	return out
}

// layerNameFor picks a unique layer name for a node's layer: its short name
// if no other live node would take the same one, else its full name, with
// a suffix _2, _3, ... if that is taken too. suffix, if not empty, is
// appended first (for a second layer made from the same node).
func (im *importer) layerNameFor(n *pb.NodeProto, suffix string) string {
	short, full := nodeNames(n)
	base := full
	if short != "" && im.short[short] == 1 && !im.used[nameKey(short+suffix)] {
		base = short
	}
	if base == "" {
		base = "layer"
	}
	base += suffix
	name := base
	for k := 2; im.used[nameKey(name)] || token.IsKeyword(name); k++ {
		name = fmt.Sprintf("%s_%d", base, k)
	}
	im.used[nameKey(name)] = true
	return name
}

// nameKey is the key under which layer names must be unique: the name
// with its first letter in upper case, because a compiled package exports
// each layer's shape as constants named that way (conv1 and Conv1 would
// both export Conv1C). "Input" and "Output" are reserved: the network
// input, and the package's InputC and OutputC.
func nameKey(name string) string {
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// reservedNames are taken before any layer is named.
var reservedNames = []string{spec.InputName, "Output"}

// specName makes the spec's name from a file's base name: an identifier
// that can name a Go package (not a keyword, not main).
func specName(s string) string {
	name := ident(s, "model")
	if spec.CheckPackageName(name) != nil {
		name = "model_" + name
	}
	return strings.TrimSuffix(name, "_")
}

// NameFrom makes a spec name from a file path: its base name without the
// extension, as an identifier that is not a Go keyword.
func NameFrom(path string) string { return specName(baseName(path)) }
