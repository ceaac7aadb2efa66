package tensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stFile assembles a safetensors file from a header and a data area.
func stFile(header string, data []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// f32le encodes float32 values little-endian.
func f32le(vals ...float32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// u16le encodes 16-bit values little-endian.
func u16le(vals ...uint16) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// bitsEqual compares float32 slices bit for bit, so that NaNs compare equal
// to themselves and -0 differs from +0.
var bitsEqual = cmp.Comparer(func(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b)
})

// allocatedBytes returns how many bytes fn allocates on the heap.
func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestWriteSafetensorsGolden(t *testing.T) {
	tensors := []*Tensor{
		{Name: "b", Shape: []int{2}, Data: []float32{1, -2}},
		{Name: "a", Shape: []int{}, Data: []float32{0.5}},
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	// 138 bytes of JSON, padded with 6 spaces to 144 = 0x90.
	want := []byte{0x90, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, `{"__metadata__":{"format":"pt"},`+
		`"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},`+
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`+
		`      `...)
	want = append(want,
		0x00, 0x00, 0x00, 0x3f, // a: 0.5
		0x00, 0x00, 0x80, 0x3f, // b: 1
		0x00, 0x00, 0x00, 0xc0, // b: -2
	)
	if diff := cmp.Diff(want, buf.Bytes()); diff != "" {
		t.Errorf("WriteSafetensors bytes mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteSafetensorsEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := append([]byte{8, 0, 0, 0, 0, 0, 0, 0}, "{}      "...)
	if diff := cmp.Diff(want, buf.Bytes()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	f, err := ReadSafetensors(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 0 || len(f.Order) != 0 || f.Metadata == nil || len(f.Metadata) != 0 {
		t.Errorf("read back %+v, want an empty file with empty non-nil metadata", f)
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	nan := math.Float32frombits(0x7fc01234)
	negZero := float32(math.Copysign(0, -1))
	tensors := []*Tensor{
		{Name: "conv1.weight", Shape: []int{2, 1, 2, 2}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8}},
		{Name: "conv1.bias", Shape: []int{2}, Data: []float32{nan, negZero}},
		{Name: "scalar", Shape: []int{}, Data: []float32{float32(math.Inf(-1))}},
		{Name: "empty", Shape: []int{0, 3}, Data: []float32{}},
		{Name: "also-empty", Shape: []int{4, 0}, Data: nil},
		{Name: "fc.weight", Shape: []int{3, 1}, Data: []float32{math.MaxFloat32, math.SmallestNonzeroFloat32, -1e-20}},
		{Name: "odd \"name\"\n\\ \x01 <&> é 日本", Shape: []int{1}, Data: []float32{42}},
	}
	meta := map[string]string{
		"format":  "pt",
		"quote\"": "back\\slash\ttab\x7f\x00",
		"utf8 ✓":  "<html>&amp;",
		"":        "",
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, tensors, meta); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()

	// The header is valid JSON that encoding/json agrees with.
	n := binary.LittleEndian.Uint64(file)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	var generic map[string]json.RawMessage
	if err := json.Unmarshal(file[8:8+n], &generic); err != nil {
		t.Fatalf("header is not valid JSON: %v", err)
	}
	var gotMeta map[string]string
	if err := json.Unmarshal(generic["__metadata__"], &gotMeta); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(meta, gotMeta); diff != "" {
		t.Errorf("metadata as decoded by encoding/json (-want +got):\n%s", diff)
	}

	f, err := ReadSafetensors(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(meta, f.Metadata); diff != "" {
		t.Errorf("metadata mismatch (-want +got):\n%s", diff)
	}
	if len(f.Tensors) != len(tensors) {
		t.Fatalf("read %d tensors, want %d", len(f.Tensors), len(tensors))
	}
	for _, want := range tensors {
		got := f.Tensors[want.Name]
		if got == nil {
			t.Errorf("tensor %q missing", want.Name)
			continue
		}
		wantT := &Tensor{Name: want.Name, Shape: want.Shape, Data: want.Data}
		if wantT.Data == nil {
			wantT.Data = []float32{}
		}
		if diff := cmp.Diff(wantT, got, bitsEqual); diff != "" {
			t.Errorf("tensor %q mismatch (-want +got):\n%s", want.Name, diff)
		}
		if f.DTypes[want.Name] != "F32" {
			t.Errorf("DTypes[%q] = %q, want F32", want.Name, f.DTypes[want.Name])
		}
	}
	// Names sort byte-wise; offsets follow that order, zero-sized tensors
	// included.
	wantOrder := []string{"also-empty", "conv1.bias", "conv1.weight", "empty", "fc.weight", "odd \"name\"\n\\ \x01 <&> é 日本", "scalar"}
	if diff := cmp.Diff(wantOrder, f.Order); diff != "" {
		t.Errorf("Order mismatch (-want +got):\n%s", diff)
	}

	// Deterministic: the input order does not matter, and writing what was
	// read reproduces the file exactly.
	reversed := make([]*Tensor, len(tensors))
	for i, tt := range tensors {
		reversed[len(tensors)-1-i] = tt
	}
	var buf2 bytes.Buffer
	if err := WriteSafetensors(&buf2, reversed, meta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, buf2.Bytes()) {
		t.Error("output depends on the order of the tensors")
	}
	var buf3 bytes.Buffer
	if err := WriteSafetensors(&buf3, orderedTensors(f), f.Metadata); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, buf3.Bytes()) {
		t.Error("rewriting the file read back changed it")
	}
}

// orderedTensors returns f's tensors in f.Order.
func orderedTensors(f *File) []*Tensor {
	out := make([]*Tensor, len(f.Order))
	for i, name := range f.Order {
		out[i] = f.Tensors[name]
	}
	return out
}

func TestReadSafetensorsHalfPrecision(t *testing.T) {
	header := `{"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]},` +
		`"f":{"dtype":"F32","shape":[1],"data_offsets":[14,18]}}`
	data := u16le(0x3c00, 0x0001, 0xfc00, 0xc500) // 1, 2^-24, -Inf, -5
	data = append(data, u16le(0x3f80, 0xc040, 0x0001)...)
	data = append(data, f32le(7)...)
	f, err := ReadSafetensors(stFile(header, data))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*Tensor{
		"h": {Name: "h", Shape: []int{2, 2}, Data: []float32{1, 0x1p-24, float32(math.Inf(-1)), -5}},
		"b": {Name: "b", Shape: []int{3}, Data: []float32{1, -3, 0x1p-133}},
		"f": {Name: "f", Shape: []int{1}, Data: []float32{7}},
	}
	if diff := cmp.Diff(want, f.Tensors, bitsEqual); diff != "" {
		t.Errorf("tensors mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"h": "F16", "b": "BF16", "f": "F32"}, f.DTypes); diff != "" {
		t.Errorf("DTypes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"h", "b", "f"}, f.Order); diff != "" {
		t.Errorf("Order mismatch (-want +got):\n%s", diff)
	}
}

func TestReadSafetensorsOrderAndWhitespace(t *testing.T) {
	// Entries in arbitrary order, whitespace everywhere, null metadata,
	// zero-sized tensors sharing an offset, trailing padding.
	header := " {\n \"z\" : {\"data_offsets\":[ 0 , 4 ],\"shape\":[1],\"dtype\":\"F32\"},\n" +
		"\t\"y\": {\"shape\": [0], \"dtype\": \"F32\", \"data_offsets\": [4, 4]},\n" +
		"\"__metadata__\": null,\n" +
		"\"x\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [4, 8]},\n" +
		"\"w\": {\"dtype\": \"F32\", \"shape\": [2, 0], \"data_offsets\": [4, 4]} }   \n\t "
	header = header[1:] // must start with '{'
	f, err := ReadSafetensors(stFile(header, f32le(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"z", "w", "y", "x"}, f.Order); diff != "" {
		t.Errorf("Order mismatch (-want +got):\n%s", diff)
	}
	if f.Metadata == nil || len(f.Metadata) != 0 {
		t.Errorf("Metadata = %#v, want empty", f.Metadata)
	}
	if got := f.Tensors["x"].Data; len(got) != 1 || got[0] != 2 {
		t.Errorf("x = %v, want [2]", got)
	}
}

func TestReadSafetensorsErrors(t *testing.T) {
	const w = `"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`
	four := f32le(1)
	tests := []struct {
		name string
		file []byte
		want []string // substrings of the error message
	}{
		{"empty file", nil, []string{"0 bytes, too short"}},
		{"7 bytes", []byte{1, 2, 3, 4, 5, 6, 7}, []string{"7 bytes, too short"}},
		{"absurd header length", binary.LittleEndian.AppendUint64(nil, 1<<62), []string{"header length 4611686018427387904 exceeds the limit"}},
		{"max uint64 header length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), []string{"exceeds the limit"}},
		{"header longer than file", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), []string{"header length 100 exceeds the 2 bytes"}},
		{"empty header", stFile("", nil), []string{"does not start with '{'"}},
		{"not utf-8", stFile("{\"\xff\":1}", nil), []string{"not valid UTF-8"}},
		{"array header", stFile("[]", nil), []string{"does not start with '{'"}},
		{"leading space", stFile(" {}", nil), []string{"does not start with '{'"}},
		{"unterminated", stFile(`{"w":`, nil), []string{`tensor "w": entry must be an object`, "found the end of the header"}},
		{"unterminated entry", stFile(`{"w":{"dtype":"F32"`, nil), []string{`tensor "w": invalid JSON at byte 19 of the header: expected ',' or '}', found the end of the header`}},
		{"unterminated object", stFile(`{`+w, four), []string{`header: invalid JSON at byte 53 of the header: expected ',' or '}', found the end`}},
		{"unterminated array", stFile(`{"w":{"dtype":"F32","shape":[1`, nil), []string{`tensor "w": invalid JSON`, "expected ',' or ']', found the end"}},
		{"bad json", stFile(`{"w":{"dtype":F32}}`, nil), []string{`tensor "w": dtype must be a string, found invalid JSON 'F'`}},
		{"trailing comma", stFile(`{`+w+`,}`, four), []string{"header: invalid JSON at byte 54 of the header: expected a string key, found '}'"}},
		{"trailing comma in array", stFile(`{"w":{"dtype":"F32","shape":[1,],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape must be an array of integers, found invalid JSON ']'`}},
		{"single quotes", stFile(`{'w':1}`, nil), []string{`expected a string key, found '\''`}},
		{"missing colon", stFile(`{"w" {}}`, nil), []string{`expected ':' after key "w", found '{'`}},
		{"missing comma", stFile(`{"w":{"dtype":"F32" "shape":[1]}}`, nil), []string{`tensor "w": invalid JSON at byte 20`, `expected ',' or '}', found '"'`}},
		{"unterminated string", stFile(`{"w`, nil), []string{"unterminated string"}},
		{"unterminated escape", stFile(`{"w\`, nil), []string{"unterminated string"}},
		{"control character", stFile("{\"w\x01\":1}", nil), []string{"control character 0x01 in a string"}},
		{"raw newline", stFile("{\"w\":{\"dtype\":\"F\n32\"}}", nil), []string{`tensor "w": invalid JSON at byte 16`, "control character 0x0a"}},
		{"bad escape", stFile(`{"w\x":1}`, nil), []string{`invalid escape sequence \x`}},
		{"bad unicode escape", stFile(`{"w\u12G4":1}`, nil), []string{`invalid \u escape`}},
		{"short unicode escape", stFile(`{"w\u12`, nil), []string{`invalid \u escape`}},
		{"lone high surrogate", stFile(`{"w\ud800":1}`, nil), []string{"lone UTF-16 surrogate"}},
		{"lone low surrogate", stFile(`{"w\udc00\udc00":1}`, nil), []string{"lone UTF-16 surrogate"}},
		{"two high surrogates", stFile(`{"w\ud800\ud800":1}`, nil), []string{"lone UTF-16 surrogate"}},
		{"leading zero", stFile(`{"w":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}`, four), []string{`tensor "w": invalid JSON`, "expected ',' or ']', found '1'"}},
		{"bare minus", stFile(`{"w":{"dtype":"F32","shape":[-],"data_offsets":[0,4]}}`, four), []string{`tensor "w": invalid JSON`, "invalid number"}},
		{"bare point", stFile(`{"w":{"dtype":"F32","shape":[1.],"data_offsets":[0,4]}}`, four), []string{`tensor "w": invalid JSON`, "invalid number"}},
		{"bare exponent", stFile(`{"w":{"dtype":"F32","shape":[1e+],"data_offsets":[0,4]}}`, four), []string{`tensor "w": invalid JSON`, "invalid number"}},
		{"bad literal", stFile(`{"__metadata__":nul}`, nil), []string{"__metadata__: invalid JSON", "invalid literal, expected null"}},
		{"true entry", stFile(`{"w":true}`, nil), []string{`tensor "w": entry must be an object`, "found true"}},
		{"false dtype", stFile(`{"w":{"dtype":false}}`, nil), []string{`tensor "w": dtype must be a string, found false`}},
		{"bad literal dtype", stFile(`{"w":{"dtype":nope}}`, nil), []string{`tensor "w": dtype must be a string, found invalid JSON 'n'`}},
		{"two objects", stFile(`{}{}`, nil), []string{"unexpected data after the header's JSON object, at byte 2"}},
		{"trailing garbage", stFile(`{} x`, nil), []string{"unexpected data after"}},
		{"non-object entry", stFile(`{"w":[1]}`, nil), []string{`tensor "w": entry must be an object`}},
		{"string entry", stFile(`{"w":"F32"}`, nil), []string{`tensor "w": entry must be an object`, `the string "F32"`}},
		{"unknown field", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}`, four),
			[]string{`tensor "w": unknown field "extra"`}},
		{"duplicate field", stFile(`{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four),
			[]string{`tensor "w": duplicate field "dtype"`}},
		{"duplicate shape", stFile(`{"w":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}`, four),
			[]string{`tensor "w": duplicate field "shape"`}},
		{"duplicate offsets", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"data_offsets":[0,4]}}`, four),
			[]string{`tensor "w": duplicate field "data_offsets"`}},
		{"missing dtype", stFile(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, four), []string{`tensor "w": missing field "dtype"`}},
		{"missing shape", stFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, four), []string{`tensor "w": missing field "shape"`}},
		{"missing offsets", stFile(`{"w":{"dtype":"F32","shape":[1]}}`, four), []string{`tensor "w": missing field "data_offsets"`}},
		{"duplicate tensor", stFile(`{`+w+`,`+w+`}`, four), []string{`tensor "w": duplicate entry`}},
		{"duplicate metadata", stFile(`{"__metadata__":{},"__metadata__":{}}`, nil), []string{"duplicate __metadata__"}},
		{"dtype not string", stFile(`{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, four), []string{`tensor "w": dtype must be a string`}},
		{"unknown dtype", stFile(`{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, four), []string{`tensor "w": unknown dtype "F33"`}},
		{"lowercase dtype", stFile(`{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, four), []string{`tensor "w": unknown dtype "f32"`}},
		{"shape not array", stFile(`{"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape must be an array of integers`}},
		{"shape of strings", stFile(`{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape must be an array of integers`}},
		{"nested shape", stFile(`{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape must be an array of integers, found an array`}},
		{"negative dim", stFile(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape: negative value -1`}},
		{"fractional dim", stFile(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape: 1.5 is not an integer`}},
		{"exponent dim", stFile(`{"w":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape: 1e0 is not an integer`}},
		{"huge dim", stFile(`{"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape: 18446744073709551616 is out of range`}},
		{"dim over MaxInt", stFile(`{"w":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape [9223372036854775808]: dimension 0 is too large`}},
		{"element count overflow", stFile(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape [4294967296 4294967296] has too many elements`}},
		{"overflow beside zero", stFile(`{"w":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}`, nil), []string{`tensor "w": shape [0 4294967296 4294967296] has too many elements`}},
		{"byte count overflow", stFile(`{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}}`, four), []string{`tensor "w": shape [4611686018427387904] of F32 is too large`}},
		{"offsets not array", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":{}}}`, four), []string{`tensor "w": data_offsets must be an array of integers, found an object`}},
		{"one offset", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, four), []string{`tensor "w": data_offsets must hold exactly 2 numbers, found 1`}},
		{"three offsets", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, four), []string{`tensor "w": data_offsets has more than 2 elements`}},
		{"rank 64", stFile(`{"w":{"dtype":"F32","shape":[`+strings.Repeat("1,", 63)+`1],"data_offsets":[0,8]}}`, f32le(1, 2)),
			[]string{`tensor "w": data_offsets [0, 8] hold 8 bytes, but shape [1 1 1`}},
		{"rank 65", stFile(`{"w":{"dtype":"F32","shape":[`+strings.Repeat("1,", 64)+`1],"data_offsets":[0,4]}}`, f32le(1)),
			[]string{`tensor "w": shape has more than 64 elements`}},
		{"negative offset", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, four), []string{`tensor "w": data_offsets: negative value -4`}},
		{"reversed offsets", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, four), []string{`tensor "w": data_offsets [4, 0] end before they begin`}},
		{"offsets past end", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, four), []string{`tensor "w": data_offsets [4, 8] extend past the end of the 4-byte data area`}},
		{"huge offsets", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551611,18446744073709551615]}}`, four), []string{`tensor "w": data_offsets [18446744073709551611, 18446744073709551615] extend past the end`}},
		{"size mismatch", stFile(`{"conv1.weight":{"dtype":"F32","shape":[96,3,11,11],"data_offsets":[0,100]}}`, make([]byte, 100)),
			[]string{`safetensors: tensor "conv1.weight": data_offsets [0, 100] hold 100 bytes, but shape [96 3 11 11] of F32 needs 139392`}},
		{"F16 size mismatch", stFile(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,4]}}`, four), []string{`tensor "h": data_offsets [0, 4] hold 4 bytes, but shape [1] of F16 needs 2`}},
		{"scalar size mismatch", stFile(`{"s":{"dtype":"F32","shape":[],"data_offsets":[0,0]}}`, nil), []string{`tensor "s": data_offsets [0, 0] hold 0 bytes, but shape [] of F32 needs 4`}},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32le(1, 2, 3)),
			[]string{`tensor "b": data_offsets [4, 12] overlap tensor "a" at [0, 8]`}},
		{"identical offsets", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four),
			[]string{`tensor "b": data_offsets [0, 4] overlap tensor "a" at [0, 4]`}},
		{"leading gap", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32le(1, 2)),
			[]string{`tensor "w": data_offsets [4, 8] leave the first 4 bytes of the data area unused`}},
		{"gap", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32le(1, 2, 3)),
			[]string{`tensor "b": data_offsets [8, 12] leave a gap of 4 bytes after tensor "a" at [0, 4]`}},
		{"trailing data", stFile(`{`+w+`}`, f32le(1, 2)), []string{`4 bytes after tensor "w" (the last, ending at 4) belong to no tensor`}},
		{"data but no tensors", stFile(`{}`, four), []string{"header declares no tensors, but the data area holds 4 bytes"}},
		{"metadata not object", stFile(`{"__metadata__":[]}`, nil), []string{"__metadata__ must be an object of strings, found an array"}},
		{"metadata number value", stFile(`{"__metadata__":{"k":1}}`, nil), []string{`__metadata__ key "k": value must be a string, found the number 1`}},
		{"metadata null value", stFile(`{"__metadata__":{"k":null}}`, nil), []string{`__metadata__ key "k": value must be a string, found null`}},
		{"metadata object value", stFile(`{"__metadata__":{"k":{}}}`, nil), []string{`__metadata__ key "k": value must be a string, found an object`}},
		{"metadata duplicate key", stFile(`{"__metadata__":{"k":"a","k":"b"}}`, nil), []string{`__metadata__ has a duplicate key "k"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ReadSafetensors(tc.file)
			if err == nil {
				t.Fatalf("ReadSafetensors succeeded with %d tensors, want an error", len(f.Tensors))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: ") {
				t.Errorf("error %q lacks the safetensors: prefix", msg)
			}
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestReadSafetensorsTruncated(t *testing.T) {
	var buf bytes.Buffer
	tensors := []*Tensor{
		{Name: "a", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "b", Shape: []int{3}, Data: []float32{5, 6, 7}},
	}
	if err := WriteSafetensors(&buf, tensors, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	for n := 0; n < len(file); n++ {
		if _, err := ReadSafetensors(file[:n]); err == nil {
			t.Errorf("ReadSafetensors of the first %d of %d bytes succeeded", n, len(file))
		}
	}
	if _, err := ReadSafetensors(append(file[:len(file):len(file)], 0)); err == nil {
		t.Error("ReadSafetensors with a trailing byte succeeded")
	}
	if _, err := ReadSafetensors(file); err != nil {
		t.Errorf("the whole file: %v", err)
	}
}

func TestReadSafetensorsNoBigAllocation(t *testing.T) {
	cases := map[string][]byte{
		"header length 1<<62":                            binary.LittleEndian.AppendUint64(nil, 1<<62),
		"header length just under the limit, short file": append(binary.LittleEndian.AppendUint64(nil, MaxSafetensorsHeaderSize), "{}"...),
		"huge shape, tiny data":                          stFile(`{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`, f32le(1)),
		"huge shape, matching offsets":                   stFile(`{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4]}}`, f32le(1)),
		"many dims":                                      stFile(`{"w":{"dtype":"F32","shape":[`+strings.Repeat("1,", 1000)+`1],"data_offsets":[0,4]}}`, f32le(1, 2)),
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			start := time.Now()
			n := allocatedBytes(func() { _, err = ReadSafetensors(file) })
			if err == nil {
				t.Fatal("ReadSafetensors succeeded, want an error")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if n > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", n, len(file))
			}
		})
	}
}

func TestWriteSafetensorsErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []*Tensor
		meta    map[string]string
		want    string
	}{
		{"nil tensor", []*Tensor{nil}, nil, "tensor 0 of 1 is nil"},
		{"reserved name", []*Tensor{{Name: "__metadata__", Shape: []int{}, Data: []float32{1}}}, nil, `tensor "__metadata__": the name is reserved`},
		{"bad utf-8", []*Tensor{{Name: "a\xff", Shape: []int{}, Data: []float32{1}}}, nil, `tensor "a\xff": name is not valid UTF-8`},
		{"negative dim", []*Tensor{{Name: "w", Shape: []int{-1}, Data: nil}}, nil, `tensor "w": invalid shape [-1]`},
		{"overflow", []*Tensor{{Name: "w", Shape: []int{math.MaxInt, 2}}}, nil, `tensor "w": invalid shape`},
		{"too few elements", []*Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}}, nil, `tensor "w": shape [2 3] needs 6 elements, but data has 5`},
		{"rank 65", []*Tensor{{Name: "w", Shape: make([]int, 65)}}, nil, `tensor "w": shape has 65 dimensions, more than the limit of 64`},
		{"scalar without data", []*Tensor{{Name: "s", Shape: nil}}, nil, `tensor "s": shape [] needs 1 elements, but data has 0`},
		{"duplicate", []*Tensor{{Name: "w", Data: []float32{1}}, {Name: "v", Data: []float32{1}}, {Name: "w", Data: []float32{2}}}, nil, `tensor "w": duplicate name`},
		{"bad metadata", nil, map[string]string{"k": "\xff"}, `__metadata__ key "k": key and value must be valid UTF-8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteSafetensors(&buf, tc.tensors, tc.meta)
			if err == nil {
				t.Fatal("WriteSafetensors succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing validation", buf.Len())
			}
		})
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteSafetensorsWriteError(t *testing.T) {
	tensors := []*Tensor{{Name: "w", Shape: []int{100000}, Data: make([]float32, 100000)}}
	for _, n := range []int{0, 8, 100, 70000} {
		err := WriteSafetensors(&failWriter{n: n}, tensors, nil)
		if !errors.Is(err, errDiskFull) {
			t.Errorf("failing after %d bytes: got %v, want disk full", n, err)
		}
	}
}

func TestLoadSafetensors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, []*Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := LoadSafetensors(good)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float32{1, 2}, f.Tensors["w"].Data); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, stFile(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.safetensors")
	if err := os.WriteFile(short, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	for path, want := range map[string]string{
		bad:     `: safetensors: tensor "w": data_offsets`,
		short:   ": file is 3 bytes, too short",
		missing: ": open: ",
		dir:     ": not a regular file",
	} {
		_, err := LoadSafetensors(path)
		if err == nil {
			t.Errorf("LoadSafetensors(%q) succeeded", path)
			continue
		}
		if !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadSafetensors(%q) error %q, want it to start with the path and contain %q", path, err, want)
		}
	}
	if _, err := LoadSafetensors(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v does not wrap fs.ErrNotExist", err)
	}
}

// TestWriteSafetensorsMatchesReference checks the writer against byte
// sequences the reference (Rust) implementation's own tests expect.
func TestWriteSafetensorsMatchesReference(t *testing.T) {
	data := []float32{0, 1, 2, 3, 4, 5}
	dataBytes := []byte{0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64}
	tests := []struct {
		name    string
		tensors []*Tensor
		meta    map[string]string
		want    []byte
	}{
		{"no padding needed", []*Tensor{{Name: "attn.0", Shape: []int{1, 2, 3}, Data: data}}, nil,
			concat([]byte{64, 0, 0, 0, 0, 0, 0, 0},
				[]byte(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`), dataBytes)},
		{"forced alignment", []*Tensor{{Name: "attn0", Shape: []int{1, 1, 2, 3}, Data: data}}, nil,
			concat([]byte{72, 0, 0, 0, 0, 0, 0, 0},
				[]byte(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `), dataBytes)},
		{"metadata only", nil, map[string]string{"framework": "pt"},
			concat([]byte{40, 0, 0, 0, 0, 0, 0, 0}, []byte(`{"__metadata__":{"framework":"pt"}}     `))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSafetensors(&buf, tc.tensors, tc.meta); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, buf.Bytes()); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if _, err := ReadSafetensors(tc.want); err != nil {
				t.Errorf("reading the reference bytes: %v", err)
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"":                             `""`,
		"conv1.weight":                 `"conv1.weight"`,
		"q\"b\\s/":                     `"q\"b\\s/"`,
		"\b\f\n\r\t":                   `"\b\f\n\r\t"`,
		"\x00\x01\x1f \x7f":            `"\u0000\u0001\u001f ` + "\x7f" + `"`,
		"<a&b> é 日本 \u2028 \U0001F600": "\"<a&b> é 日本 \u2028 \U0001F600\"",
	} {
		got := string(appendJSONString(nil, in))
		if got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != in {
			t.Errorf("encoding/json decodes %s as %q, %v; want %q", got, back, err, in)
		}
	}
}

func TestReadSafetensorsEscapedNames(t *testing.T) {
	header := `{"a\u0062\ud83d\ude00\/\"\\\b\f\n\r\t \u00e9 é":{"dtype":"F32","shape":[],"data_offsets":[0,4]},` +
		`"__metadata__":{"k\u0000":"v\u2028"}}`
	f, err := ReadSafetensors(stFile(header, f32le(1)))
	if err != nil {
		t.Fatal(err)
	}
	want := "ab\U0001F600/\"\\\b\f\n\r\t é é"
	if diff := cmp.Diff([]string{want}, f.Order); diff != "" {
		t.Errorf("names mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"k\x00": "v\u2028"}, f.Metadata); diff != "" {
		t.Errorf("metadata mismatch (-want +got):\n%s", diff)
	}
}

// TestUnreadableDTypes checks that tensors of dtypes cnnc does not convert
// (PyTorch's int64 num_batches_tracked, say) are listed with nil Data
// instead of failing the whole file: only a reader that needs one fails.
func TestUnreadableDTypes(t *testing.T) {
	four := []byte{1, 2, 3, 4}
	for _, dt := range []string{"F64", "I8", "I32", "I64", "U8", "BOOL", "F8_E4M3"} {
		size := map[string]int{"F64": 8, "I64": 8, "I32": 4}[dt]
		if size == 0 {
			size = 1
		}
		n := 4 / size
		data := four
		if size == 8 {
			n, data = 1, append(four, four...)
		}
		f, err := ReadSafetensors(stFile(fmt.Sprintf(`{"w":{"dtype":%q,"shape":[%d],"data_offsets":[0,%d]}}`, dt, n, len(data)), data))
		if err != nil {
			t.Errorf("%s: %v", dt, err)
			continue
		}
		if w := f.Tensors["w"]; w == nil || w.Data != nil || f.DTypes["w"] != dt {
			t.Errorf("%s: got %+v, dtype %q; want the tensor listed with nil Data", dt, w, f.DTypes["w"])
		}
	}
}
