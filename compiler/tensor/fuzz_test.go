package tensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustSafetensors serialises tensors or fails the test.
func mustSafetensors(tb testing.TB, meta map[string]string, tensors ...*Tensor) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, tensors, meta); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// mustNpy serialises an array or fails the test.
func mustNpy(tb testing.TB, shape []int, data []float32) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteNpy(&buf, shape, data); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// checkFile checks the invariants every successfully parsed File satisfies.
func checkFile(t *testing.T, f *File) {
	t.Helper()
	if f.Tensors == nil || f.Metadata == nil || f.DTypes == nil {
		t.Fatalf("nil map in %+v", f)
	}
	if len(f.Order) != len(f.Tensors) || len(f.DTypes) != len(f.Tensors) {
		t.Fatalf("%d names in Order, %d dtypes, %d tensors", len(f.Order), len(f.DTypes), len(f.Tensors))
	}
	for _, name := range f.Order {
		tt := f.Tensors[name]
		if tt == nil || tt.Name != name {
			t.Fatalf("Order names %q, but the tensor is %+v", name, tt)
		}
		d, ok := ParseDType(f.DTypes[name])
		if !ok {
			t.Fatalf("tensor %q: dtype %q", name, f.DTypes[name])
		}
		n, ok := numElements(tt.Shape)
		if !d.Readable() {
			n = 0 // listed, not converted
		}
		if !ok || n != len(tt.Data) {
			t.Fatalf("tensor %q: shape %v, %d values", name, tt.Shape, len(tt.Data))
		}
	}
}

func FuzzReadSafetensors(f *testing.F) {
	f.Add(mustSafetensors(f, nil))
	f.Add(mustSafetensors(f, map[string]string{"format": "pt", "k\"\n": "v\\"},
		&Tensor{Name: "conv1.weight", Shape: []int{2, 1, 2, 2}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8}},
		&Tensor{Name: "conv1.bias", Shape: []int{2}, Data: []float32{float32(math.NaN()), -0.5}},
		&Tensor{Name: "s", Shape: []int{}, Data: []float32{3}},
		&Tensor{Name: "z", Shape: []int{0, 4}, Data: nil},
	))
	f.Add(stFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`,
		u16le(0x3c00, 0x7e00, 0x3f80)))
	f.Add(stFile(`{"__metadata__":null,"y":{"shape":[0],"dtype":"F32","data_offsets":[0,0]}}  `, nil))
	// Malformed seeds.
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Add(stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, f32le(1)))
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32le(1, 2, 3)))
	f.Add(stFile(`{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, f32le(1, 2)))
	f.Add(stFile(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32le(1)))
	f.Add(stFile(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, f32le(1)))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadSafetensors(data)
		if err != nil {
			if file != nil {
				t.Fatal("non-nil File with an error")
			}
			return
		}
		checkFile(t, file)
		if n := binary.LittleEndian.Uint64(data); !json.Valid(data[8 : 8+n]) {
			t.Fatalf("accepted a header encoding/json finds invalid: %q", data[8:8+n])
		}

		// Whatever parses re-serialises (as F32), reads back identical,
		// and serialises again to the same bytes; unconverted dtypes
		// have no float32 values to write.
		for _, name := range file.Order {
			if d, _ := ParseDType(file.DTypes[name]); !d.Readable() {
				return
			}
		}
		var out bytes.Buffer
		if err := WriteSafetensors(&out, orderedTensors(file), file.Metadata); err != nil {
			t.Fatalf("re-serialising: %v", err)
		}
		again, err := ReadSafetensors(out.Bytes())
		if err != nil {
			t.Fatalf("reading the re-serialised file: %v", err)
		}
		checkFile(t, again)
		if diff := cmp.Diff(file.Tensors, again.Tensors, bitsEqual); diff != "" {
			t.Fatalf("tensors changed in the round trip (-first +second):\n%s", diff)
		}
		if diff := cmp.Diff(file.Metadata, again.Metadata); diff != "" {
			t.Fatalf("metadata changed in the round trip (-first +second):\n%s", diff)
		}
		var out2 bytes.Buffer
		if err := WriteSafetensors(&out2, orderedTensors(again), again.Metadata); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatal("serialisation is not deterministic")
		}
	})
}

func FuzzReadNpy(f *testing.F) {
	f.Add(mustNpy(f, []int{}, []float32{1}))
	f.Add(mustNpy(f, []int{0}, nil))
	f.Add(mustNpy(f, []int{3}, []float32{1, float32(math.Inf(-1)), float32(math.NaN())}))
	f.Add(mustNpy(f, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}))
	f.Add(npyFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }\n", f32le(7)))
	f.Add(npyFile(3, `{"shape": (2,), "descr": "<f2", "fortran_order": False}`, u16le(0x3c00, 0x0001)))
	// Malformed seeds.
	f.Add([]byte("\x93NUMPY"))
	f.Add(npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", f32le(1)))
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", f32le(1)))
	f.Add(npyFile(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", f32le(1)))
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", f32le(1)))
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", f32le(1, 2)))
	f.Add(append(mustNpy(f, []int{1}, []float32{1}), 0))

	f.Fuzz(func(t *testing.T, file []byte) {
		shape, data, err := ReadNpy(bytes.NewReader(file))
		if err != nil {
			if shape != nil || data != nil {
				t.Fatal("non-nil results with an error")
			}
			return
		}
		n, ok := numElements(shape)
		if !ok || n != len(data) || shape == nil {
			t.Fatalf("shape %v, %d values", shape, len(data))
		}

		// Whatever parses re-serialises (as '<f4') and reads back identical.
		var out bytes.Buffer
		if err := WriteNpy(&out, shape, data); err != nil {
			t.Fatalf("re-serialising: %v", err)
		}
		shape2, data2, err := ReadNpy(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("reading the re-serialised file: %v", err)
		}
		if diff := cmp.Diff(shape, shape2); diff != "" {
			t.Fatalf("shape changed (-first +second):\n%s", diff)
		}
		if diff := cmp.Diff(data, data2, bitsEqual); diff != "" {
			t.Fatalf("data changed (-first +second):\n%s", diff)
		}
		// A canonical '<f4' file is reproduced byte for byte.
		if bytes.HasPrefix(file, npyHeaderBytes(shape)) && !bytes.Equal(file, out.Bytes()) {
			t.Fatal("a file with a canonical header did not re-serialise to itself")
		}
	})
}
