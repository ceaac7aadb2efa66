package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"
)

// pickler writes pickles opcode by opcode, for handcrafted state_dicts.
type pickler struct{ b []byte }

func (p *pickler) op(b ...byte) *pickler { p.b = append(p.b, b...); return p }

func (p *pickler) str(s string) *pickler {
	p.op('X')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	return p.op([]byte(s)...)
}

func (p *pickler) int(v int32) *pickler {
	p.op('J')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(v))
	return p
}

func (p *pickler) global(mod, name string) *pickler {
	return p.op('c').op([]byte(mod + "\n" + name + "\n")...)
}

// fakeTensor is one tensor of a handcrafted state_dict.
type fakeTensor struct {
	name, storageType, key string
	numel, offset          int32
	size, stride           []int32
}

// pickleStateDict writes what torch.save pickles for a state_dict.
func pickleStateDict(ts []fakeTensor) []byte {
	p := (&pickler{}).op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', '(')
	for _, t := range ts {
		p.str(t.name).global("torch._utils", "_rebuild_tensor_v2").op('(')
		p.op('(').str("storage").global("torch", t.storageType).str(t.key).str("cpu").int(t.numel).op('t', 'Q')
		p.int(t.offset).op('(')
		for _, s := range t.size {
			p.int(s)
		}
		p.op('t', '(')
		for _, s := range t.stride {
			p.int(s)
		}
		p.op('t', 0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
	}
	return p.op('u', '.').b
}

// zipStateDict makes a torch.save zip archive from a pickle and storages.
func zipStateDict(t testing.TB, pkl []byte, storages map[string][]byte, method uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte, m uint16) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	add("data.pkl", pkl, zip.Store)
	for k, v := range storages {
		add("data/"+k, v, method)
	}
	add("version", []byte("3\n"), zip.Store)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func floats(n int) []byte {
	var b []byte
	for i := range n {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)))
	}
	return b
}

func TestHandcrafted(t *testing.T) {
	good := []fakeTensor{{"w", "FloatStorage", "0", 6, 0, []int32{2, 3}, []int32{3, 1}}}
	sd, err := Read(zipStateDict(t, pickleStateDict(good), map[string][]byte{"0": floats(6)}, zip.Store))
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Tensors) != 1 || sd.Tensors[0].Data[5] != 5 {
		t.Fatalf("%+v", sd.Tensors)
	}
	transposed := []fakeTensor{{"w", "FloatStorage", "0", 6, 0, []int32{3, 2}, []int32{1, 3}}}
	sd, err = Read(zipStateDict(t, pickleStateDict(transposed), map[string][]byte{"0": floats(6)}, zip.Store))
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Tensors[0].Data; got[1] != 3 || got[2] != 1 {
		t.Errorf("transposed view read as %v", got)
	}

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not_pth", []byte("hello"), "not a PyTorch file"},
		{"os_system", zipStateDict(t, (&pickler{}).op(0x80, 2).global("os", "system").str("echo hi").op(0x85, 'R', '.').b, nil, zip.Store),
			"refers to os.system"},
		{"inst_opcode", zipStateDict(t, (&pickler{}).op(0x80, 2, 'i').b, nil, zip.Store), "opcode 0x69 is not one torch.save writes"},
		{"truncated", zipStateDict(t, pickleStateDict(good)[:30], map[string][]byte{"0": floats(6)}, zip.Store), "truncated"},
		{"past_storage", zipStateDict(t, pickleStateDict([]fakeTensor{{"w", "FloatStorage", "0", 6, 2, []int32{2, 3}, []int32{3, 1}}}), map[string][]byte{"0": floats(6)}, zip.Store),
			"reaches past its storage of 6 elements"},
		{"expanded", zipStateDict(t, pickleStateDict([]fakeTensor{{"w", "FloatStorage", "0", 1, 0, []int32{1000}, []int32{0}}}), map[string][]byte{"0": floats(1)}, zip.Store),
			"an expanded view"},
		{"missing_storage", zipStateDict(t, pickleStateDict(good), nil, zip.Store), "the archive has no data/0"},
		{"short_storage", zipStateDict(t, pickleStateDict(good), map[string][]byte{"0": floats(5)}, zip.Store), "data/0 has 20 bytes; storage 0 of 6 float32 values needs 24"},
		{"compressed", zipStateDict(t, pickleStateDict(good), map[string][]byte{"0": floats(6)}, zip.Deflate), "is compressed"},
		{"int_storage", zipStateDict(t, pickleStateDict([]fakeTensor{{"w", "IntStorage", "0", 6, 0, []int32{6}, []int32{1}}}), map[string][]byte{"0": floats(6)}, zip.Store),
			"refers to torch.IntStorage"},
		{"checkpoint", zipStateDict(t, (&pickler{}).op(0x80, 2, '}').str("epoch").int(3).op('s', '.').b, nil, zip.Store),
			`"epoch" is a int, not a tensor`},
		{"not_a_dict", zipStateDict(t, (&pickler{}).op(0x80, 2).int(3).op('.').b, nil, zip.Store), "the file holds a int, not a state_dict"},
		{"underflow", zipStateDict(t, (&pickler{}).op(0x80, 2, '(', 's', '.').b, nil, zip.Store), "stack underflow"},
		{"protocol", zipStateDict(t, (&pickler{}).op(0x80, 9).b, nil, zip.Store), "pickle protocol 9"},
	}
	for _, c := range cases {
		_, err := Read(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant an error with %q", c.name, err, c.want)
		}
	}
}

// FuzzRead runs the state_dict reader on arbitrary bytes: errors, never
// panics or huge allocations, and consistent tensors.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"testdata/dtypes.pth", "testdata/dtypes_legacy.pth"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	good := []fakeTensor{{"w", "FloatStorage", "0", 6, 0, []int32{2, 3}, []int32{3, 1}}, {"b", "DoubleStorage", "1", 2, 1, []int32{1}, []int32{1}}}
	f.Add(zipStateDict(f, pickleStateDict(good), map[string][]byte{"0": floats(6), "1": floats(4)}, zip.Store))
	f.Add(pickleStateDict(good))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Read(data)
		if err != nil {
			return
		}
		for _, x := range sd.Tensors {
			n := 1
			for _, d := range x.Shape {
				n *= d
			}
			if (x.IsFloat() && len(x.Data) != n) || (!x.IsFloat() && len(x.Ints) != n) {
				t.Fatalf("%s: shape %v, %d/%d values", x.Name, x.Shape, len(x.Data), len(x.Ints))
			}
		}
	})
}
