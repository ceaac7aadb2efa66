package onnxpb

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestGeneratedMatchesProto guards onnx.pb.go, which `go generate ./...`
// does not regenerate (see gen.go): every message, field (name, number,
// label, type) and enum value that onnx.proto declares must be in the
// generated code's descriptor, and nothing else. A .proto replaced without
// regenerating fails here.
func TestGeneratedMatchesProto(t *testing.T) {
	src, err := os.ReadFile("onnx.proto")
	if err != nil {
		t.Fatal(err)
	}
	fromProto := parseProto(t, string(src))
	var fromGo []string
	var walk func(protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			fromGo = append(fromGo, "message "+string(m.FullName()))
			for j := range m.Fields().Len() {
				f := m.Fields().Get(j)
				typ := f.Kind().String()
				switch f.Kind() {
				case protoreflect.MessageKind, protoreflect.GroupKind:
					typ = string(f.Message().Name())
				case protoreflect.EnumKind:
					typ = string(f.Enum().Name())
				}
				fromGo = append(fromGo, strings.Join([]string{"field", string(m.FullName()), string(f.Name()), itoa(int(f.Number())), f.Cardinality().String(), typ}, " "))
			}
			enums(m.Enums(), &fromGo)
			walk(m.Messages())
		}
	}
	fd := File_onnx_proto
	if fd.Package() != "onnx" || fd.Syntax() != protoreflect.Proto2 {
		t.Errorf("package %s, syntax %v", fd.Package(), fd.Syntax())
	}
	walk(fd.Messages())
	enums(fd.Enums(), &fromGo)
	slices.Sort(fromProto)
	slices.Sort(fromGo)
	if !slices.Equal(fromProto, fromGo) {
		for _, s := range fromProto {
			if !slices.Contains(fromGo, s) {
				t.Errorf("onnx.proto has, onnx.pb.go lacks: %s", s)
			}
		}
		for _, s := range fromGo {
			if !slices.Contains(fromProto, s) {
				t.Errorf("onnx.pb.go has, onnx.proto lacks: %s", s)
			}
		}
		t.Log("regenerate onnx.pb.go: go generate -tags protoc ./compiler/onnx/onnxpb")
	}
	if len(fromGo) < 150 {
		t.Errorf("only %d declarations compared", len(fromGo))
	}
}

func enums(es protoreflect.EnumDescriptors, out *[]string) {
	for i := range es.Len() {
		e := es.Get(i)
		*out = append(*out, "enum "+string(e.FullName()))
		for j := range e.Values().Len() {
			v := e.Values().Get(j)
			*out = append(*out, "value "+string(e.FullName())+" "+string(v.Name())+" "+itoa(int(v.Number())))
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

var (
	comment   = regexp.MustCompile(`//.*`)
	openRE    = regexp.MustCompile(`^(message|enum|oneof)\s+(\w+)\s*\{$`)
	fieldRE   = regexp.MustCompile(`^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\b.*;$`)
	oneofRE   = regexp.MustCompile(`^([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;$`)
	enumValRE = regexp.MustCompile(`^(\w+)\s*=\s*(-?(?:0x[0-9a-fA-F]+|\d+))\s*;$`)
	skipRE    = regexp.MustCompile(`^(syntax|package|option|reserved)\b`)
)

// parseProto lists the declarations of a proto2 file written in the style
// of onnx.proto (one declaration a line), in the same form as the test
// builds from the descriptor.
func parseProto(t *testing.T, src string) []string {
	t.Helper()
	type scope struct{ kind, name string }
	var stack []scope
	var out []string
	full := func() string {
		parts := []string{"onnx"}
		for _, s := range stack {
			if s.kind != "oneof" {
				parts = append(parts, s.name)
			}
		}
		return strings.Join(parts, ".")
	}
	for n, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(comment.ReplaceAllString(line, ""))
		switch {
		case line == "" || skipRE.MatchString(line):
		case line == "}" || line == "};":
			if len(stack) == 0 {
				t.Fatalf("onnx.proto:%d: unbalanced }", n+1)
			}
			stack = stack[:len(stack)-1]
		case openRE.MatchString(line):
			m := openRE.FindStringSubmatch(line)
			stack = append(stack, scope{m[1], m[2]})
			if m[1] != "oneof" {
				out = append(out, m[1]+" "+full())
			}
		case len(stack) > 0 && stack[len(stack)-1].kind == "enum" && enumValRE.MatchString(line):
			m := enumValRE.FindStringSubmatch(line)
			v, err := strconv.ParseInt(m[2], 0, 32)
			if err != nil {
				t.Fatalf("onnx.proto:%d: %v", n+1, err)
			}
			out = append(out, "value "+full()+" "+m[1]+" "+itoa(int(v)))
		case len(stack) > 0 && stack[len(stack)-1].kind == "oneof" && oneofRE.MatchString(line):
			m := oneofRE.FindStringSubmatch(line)
			out = append(out, fieldLine(full(), "optional", m[1], m[2], m[3]))
		case fieldRE.MatchString(line):
			m := fieldRE.FindStringSubmatch(line)
			out = append(out, fieldLine(full(), m[1], m[2], m[3], m[4]))
		default:
			t.Fatalf("onnx.proto:%d: cannot parse %q", n+1, line)
		}
	}
	return out
}

func fieldLine(msg, label, typ, name, num string) string {
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		typ = typ[i+1:]
	}
	return strings.Join([]string{"field", msg, name, num, label, typ}, " ")
}
