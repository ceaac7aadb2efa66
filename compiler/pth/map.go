package pth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cnnc/cnnc/compiler/params"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// Row is one line of the mapping from a state_dict to a spec's tensors.
type Row struct {
	Source string // the state_dict's name
	Shape  []int
	DType  string
	Target string // the spec's tensor name; "" if not used
	Note   string // why a tensor is not used, or how it was matched
	// Warning, for a tensor that is used, says that it holds NaN or ±Inf,
	// how many and where the first is: weights that can only give NaN or
	// infinite outputs, which cnnc run and the compiled packages refuse.
	Warning string
}

// MapFile is an explicit mapping, one `SOURCE TARGET` pair a line:
// SOURCE is a state_dict tensor name or a module prefix (features.0 maps
// features.0.weight, features.0.bias, ...), TARGET a spec tensor or layer
// name, or "-" to leave the source out. # starts a comment.
type MapFile struct {
	Name    string
	Entries []MapEntry
}

// MapEntry is one line of a MapFile.
type MapEntry struct {
	Source, Target string
	Line           int
}

// ParseMap parses a map file; name is used in messages.
func ParseMap(name string, src []byte) (*MapFile, error) {
	m := &MapFile{Name: name}
	var errs []string
	seen := map[string]int{}
	for i, line := range strings.Split(string(src), "\n") {
		if k := strings.IndexByte(line, '#'); k >= 0 {
			line = line[:k]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			errs = append(errs, fmt.Sprintf("%s:%d: want `SOURCE TARGET`, got %d fields", name, i+1, len(f)))
			continue
		}
		if prev, dup := seen[f[0]]; dup {
			errs = append(errs, fmt.Sprintf("%s:%d: %s is already mapped on line %d", name, i+1, f[0], prev))
			continue
		}
		seen[f[0]] = i + 1
		m.Entries = append(m.Entries, MapEntry{Source: f[0], Target: f[1], Line: i + 1})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return m, nil
}

// isCounter reports whether an int64 tensor is one of the counters PyTorch
// keeps in state_dicts (BatchNorm's num_batches_tracked), which are not
// parameters.
func isCounter(t *Tensor) bool {
	return !t.IsFloat() && (t.Name == "num_batches_tracked" || strings.HasSuffix(t.Name, ".num_batches_tracked"))
}

// Map assigns the state_dict's tensors to the spec's tensors (wants, as
// params.Wants lists them for the spec as written). Without a map file it
// matches them by order and shape: the i-th module of the state_dict (the
// tensors sharing a prefix, features.0) goes to the i-th layer with
// parameters, and within them the names after the prefix (weight, bias,
// running_mean, running_var) must be the same, with the same shapes. It
// returns the spec's tensors in wants' order and the table of the mapping;
// any tensor left over, missing or of the wrong shape is an error.
func Map(sd *StateDict, wants []params.Want, m *MapFile) ([]*tensor.Tensor, []Row, error) {
	var rows []Row
	var errs []string
	var used []*Tensor // the tensors to map
	for _, t := range sd.Tensors {
		switch {
		case isCounter(t):
			rows = append(rows, Row{Source: t.Name, Shape: t.Shape, DType: t.DType, Note: "ignored: a counter, not a parameter"})
		case !t.IsFloat() && m == nil:
			errs = append(errs, fmt.Sprintf("tensor %s is %s; cnnc's parameters are floating point (leave it out with a map file line `%s -`)", t.Name, t.DType, t.Name))
		default:
			used = append(used, t)
		}
	}
	var assign map[string]*Tensor
	var err error
	if m == nil {
		assign, err = byOrder(used, wants)
	} else {
		assign, err = byMap(used, wants, m, &rows)
	}
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	target := map[*Tensor]string{}
	var out []*tensor.Tensor
	for _, w := range wants {
		t := assign[w.Name]
		target[t] = w.Name
		out = append(out, &tensor.Tensor{Name: w.Name, Shape: slices.Clone(w.Shape), Data: t.Data})
	}
	for _, t := range used {
		if name, ok := target[t]; ok {
			rows = append(rows, Row{Source: t.Name, Shape: t.Shape, DType: t.DType, Target: name, Warning: finiteWarning(t)})
		}
	}
	// The table in the state_dict's order.
	order := map[string]int{}
	for i, t := range sd.Tensors {
		order[t.Name] = i
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return order[a.Source] - order[b.Source] })
	return out, rows, nil
}

// finiteWarning is Row.Warning for t: "" if t holds no NaN or ±Inf.
func finiteWarning(t *Tensor) string {
	err := tensor.CheckFinite(fmt.Sprintf("tensor %s", t.Name), t.Shape, t.Data)
	if err == nil {
		return ""
	}
	msg := err.Error()
	if t.DType == "float64" {
		msg += " (float64 values beyond float32's range become ±Inf)"
	}
	return msg
}

// module splits a tensor name into its module prefix and the rest.
func module(name string) (prefix, rest string) {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

type group struct {
	prefix string
	names  []string // the names after the prefix, in order
	shapes [][]int
	ts     []*Tensor // state_dict side
	wants  []string  // spec side: full tensor names
}

func (g *group) String() string {
	parts := make([]string, len(g.names))
	for i, n := range g.names {
		parts[i] = fmt.Sprintf("%s %v", n, g.shapes[i])
	}
	p := g.prefix
	if p == "" {
		p = "(top level)"
	}
	return p + " (" + strings.Join(parts, ", ") + ")"
}

func byOrder(used []*Tensor, wants []params.Want) (map[string]*Tensor, error) {
	var sg, wg []*group
	index := map[string]*group{}
	for _, t := range used {
		p, rest := module(t.Name)
		g := index[p]
		if g == nil {
			g = &group{prefix: p}
			index[p] = g
			sg = append(sg, g)
		}
		g.names = append(g.names, rest)
		g.shapes = append(g.shapes, t.Shape)
		g.ts = append(g.ts, t)
	}
	for _, w := range wants {
		layer := w.Node.Name
		if i := strings.LastIndexByte(w.Name, '.'); i >= 0 {
			layer = w.Name[:i]
		}
		if len(wg) == 0 || wg[len(wg)-1].prefix != layer {
			wg = append(wg, &group{prefix: layer})
		}
		g := wg[len(wg)-1]
		g.names = append(g.names, strings.TrimPrefix(w.Name, layer+"."))
		g.shapes = append(g.shapes, w.Shape)
		g.wants = append(g.wants, w.Name)
	}
	list := func(gs []*group) string {
		s := make([]string, len(gs))
		for i, g := range gs {
			s[i] = "  " + g.String()
		}
		return strings.Join(s, "\n")
	}
	if len(sg) != len(wg) {
		return nil, fmt.Errorf("the state_dict has %d modules with parameters and the spec %d layers with parameters, so they cannot be matched by order; write a map file (-map).\nstate_dict:\n%s\nspec:\n%s",
			len(sg), len(wg), list(sg), list(wg))
	}
	assign := map[string]*Tensor{}
	for i := range sg {
		s, w := sg[i], wg[i]
		ok := len(s.names) == len(w.names)
		for k := 0; ok && k < len(w.names); k++ {
			j := slices.Index(s.names, w.names[k])
			if j < 0 || !slices.Equal(s.shapes[j], w.shapes[k]) {
				ok = false
				break
			}
			assign[w.wants[k]] = s.ts[j]
		}
		if !ok {
			return nil, fmt.Errorf("module %d of the state_dict does not match layer %d of the spec by name and shape:\n  state_dict: %s\n  spec:       %s\nwrite a map file (-map) if the order differs", i+1, i+1, s, w)
		}
	}
	return assign, nil
}

func byMap(used []*Tensor, wants []params.Want, m *MapFile, rows *[]Row) (map[string]*Tensor, error) {
	want := map[string]params.Want{}
	for _, w := range wants {
		want[w.Name] = w
	}
	assign := map[string]*Tensor{}
	lineUsed := map[int]bool{}
	var errs []string
	for _, t := range used {
		var best *MapEntry
		for i := range m.Entries {
			e := &m.Entries[i]
			if (t.Name == e.Source || strings.HasPrefix(t.Name, e.Source+".")) && (best == nil || len(e.Source) > len(best.Source)) {
				best = e
			}
		}
		if best == nil {
			errs = append(errs, fmt.Sprintf("%s: no line maps %s %v", m.Name, t.Name, t.Shape))
			continue
		}
		lineUsed[best.Line] = true
		at := fmt.Sprintf("%s:%d", m.Name, best.Line)
		if best.Target == "-" {
			*rows = append(*rows, Row{Source: t.Name, Shape: t.Shape, DType: t.DType, Note: "left out by " + at})
			continue
		}
		target := best.Target + t.Name[len(best.Source):]
		w, ok := want[target]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("%s: %s maps to %s, which the spec does not have", at, t.Name, target))
		case !t.IsFloat():
			errs = append(errs, fmt.Sprintf("%s: %s is %s; cnnc's parameters are floating point", at, t.Name, t.DType))
		case assign[target] != nil:
			errs = append(errs, fmt.Sprintf("%s: %s and %s both map to %s", at, assign[target].Name, t.Name, target))
		case !slices.Equal(t.Shape, w.Shape):
			errs = append(errs, fmt.Sprintf("%s: %s has shape %v; %s needs %v", at, t.Name, t.Shape, target, w.Shape))
		default:
			assign[target] = t
		}
	}
	for _, e := range m.Entries {
		if !lineUsed[e.Line] {
			errs = append(errs, fmt.Sprintf("%s:%d: %s matches no tensor of the state_dict", m.Name, e.Line, e.Source))
		}
	}
	for _, w := range wants {
		if assign[w.Name] == nil && len(errs) == 0 {
			errs = append(errs, fmt.Sprintf("nothing maps to %s %v (layer %s)", w.Name, w.Shape, w.Node.Name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return assign, nil
}

// Table formats the mapping rows for printing, each row's warning on a line
// of its own after it.
func Table(rows []Row) string {
	var b strings.Builder
	w := 0
	for _, r := range rows {
		w = max(w, len(r.Source)+len(fmt.Sprint(r.Shape))+1)
	}
	for _, r := range rows {
		src := fmt.Sprintf("%s %v", r.Source, r.Shape)
		dst := r.Target
		if dst == "" {
			dst = "(" + r.Note + ")"
		} else {
			dst = "-> " + dst
		}
		fmt.Fprintf(&b, "%-*s  %s\n", w, src, dst)
		if r.Warning != "" {
			fmt.Fprintf(&b, "  warning: %s\n", r.Warning)
		}
	}
	return b.String()
}
