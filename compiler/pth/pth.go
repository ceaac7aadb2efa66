// Package pth reads PyTorch state_dict files, the .pth files torch.save
// writes (torchvision's alexnet-owt-7be5be79.pth, for instance), and maps
// their tensors onto the parameters of a cnnc spec. It is what
// `cnnc weights import` runs; docs/import.md documents both.
//
// Two formats are read: the zip archive torch.save has written since
// PyTorch 1.6 (<name>/data.pkl, a pickle, and <name>/data/<key>, one raw
// little-endian storage per entry), and the older "legacy" stream (a
// sequence of pickles followed by the storages). The pickle is run by a
// small unpickler that understands only what a state_dict contains: an
// OrderedDict of tensors rebuilt by torch._utils._rebuild_tensor_v2 from
// storages of float32, float64, float16, bfloat16 or int64. It calls
// nothing and imports nothing; any other global is an error. Every size
// and offset is checked before anything is allocated, and FuzzRead runs
// the reader on arbitrary bytes.
package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strings"

	"github.com/cnnc/cnnc/compiler/tensor"
)

// Tensor is one entry of a state_dict.
type Tensor struct {
	Name  string
	Shape []int
	DType string    // float32, float64, float16, bfloat16 or int64
	Data  []float32 // floating-point tensors, converted to float32 (float64 rounded to nearest)
	Ints  []int64   // int64 tensors
}

// IsFloat reports whether t is a floating-point tensor.
func (t *Tensor) IsFloat() bool { return t.DType != "int64" }

// StateDict is a state_dict's tensors in the file's order.
type StateDict struct {
	Format  string // "zip" or "legacy"
	Tensors []*Tensor
}

// Load reads the state_dict file at path.
func Load(path string) (*StateDict, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sd, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sd, nil
}

// legacyMagic is the first pickle of the legacy format.
var legacyMagic, _ = new(big.Int).SetString("119547037146038801333356", 10)

// Read parses a state_dict file's contents.
func Read(data []byte) (*StateDict, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return readZip(data)
	case bytes.HasPrefix(data, []byte{0x80, 0x02, 0x8a, 0x0a}):
		return readLegacy(data)
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}) || len(data) > 262 && string(data[257:262]) == "ustar":
		return nil, errors.New("this is a compressed or tar file; PyTorch before 0.4 wrote those, and they are not supported")
	}
	return nil, errors.New("not a PyTorch file: torch.save writes a zip archive (PyTorch 1.6 and later) or a pickle stream")
}

// readZip reads the zip format: every entry under one directory,
// <dir>/data.pkl and <dir>/data/<key> for each storage.
func readZip(data []byte) (*StateDict, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	files := map[string]*zip.File{}
	prefix := ""
	for _, f := range zr.File {
		dir, _, ok := strings.Cut(f.Name, "/")
		if !ok || (prefix != "" && dir != prefix) {
			return nil, fmt.Errorf("zip entry %q is not in the archive's one top-level directory", f.Name)
		}
		prefix = dir
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("zip entry %q appears twice", f.Name)
		}
		files[f.Name] = f
	}
	read := func(name string, max int64) ([]byte, error) {
		f := files[prefix+"/"+name]
		if f == nil {
			return nil, fmt.Errorf("the archive has no %s", name)
		}
		if f.Method != zip.Store {
			return nil, fmt.Errorf("%s is compressed (method %d); torch.save stores entries uncompressed", name, f.Method)
		}
		if f.UncompressedSize64 > uint64(max) {
			return nil, fmt.Errorf("%s has %d bytes, more than %d", name, f.UncompressedSize64, max)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, max+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if int64(len(b)) > max {
			return nil, fmt.Errorf("%s is larger than %d bytes", name, max)
		}
		return b, nil
	}
	if f := files[prefix+"/byteorder"]; f != nil {
		b, err := read("byteorder", 16)
		if err != nil {
			return nil, err
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("the storages are %q-endian; only little-endian files are read", b)
		}
	}
	pkl, err := read("data.pkl", maxPickle)
	if err != nil {
		return nil, err
	}
	u := &unpickler{data: pkl, storages: map[string]*storage{}}
	root, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	raw := map[*storage][]byte{}
	for key, st := range u.storages {
		want := st.numel * int64(st.dtype.size)
		f := files[prefix+"/data/"+key]
		if f == nil {
			return nil, fmt.Errorf("the archive has no data/%s for storage %s", key, key)
		}
		if f.UncompressedSize64 != uint64(want) {
			return nil, fmt.Errorf("data/%s has %d bytes; storage %s of %d %s values needs %d", key, f.UncompressedSize64, key, st.numel, st.dtype.name, want)
		}
		b, err := read("data/"+key, want)
		if err != nil {
			return nil, err
		}
		if int64(len(b)) != want {
			return nil, fmt.Errorf("data/%s has %d bytes; want %d", key, len(b), want)
		}
		raw[st] = b
	}
	return build(root, raw, "zip")
}

// readLegacy reads the pre-1.6 format: pickles of the magic number, the
// protocol version, system information and the state_dict, then a pickle
// of the storage keys, then each storage as a little-endian int64 element
// count followed by its data.
func readLegacy(data []byte) (*StateDict, error) {
	u := &unpickler{data: data, legacy: true, storages: map[string]*storage{}}
	magic, err := u.load()
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(pyLong); !ok || m.v.Cmp(legacyMagic) != 0 {
		return nil, errors.New("not a PyTorch file: wrong magic number")
	}
	if v, err := u.load(); err != nil {
		return nil, err
	} else if v != int64(1001) {
		return nil, fmt.Errorf("legacy format protocol %s; want 1001", short(v))
	}
	info, err := u.load()
	if err != nil {
		return nil, err
	}
	d, ok := info.(*pyDict)
	if !ok {
		return nil, errors.New("malformed system information")
	}
	for i, k := range d.keys {
		if k == "little_endian" && d.vals[i] != true {
			return nil, errors.New("the file was written on a big-endian machine; only little-endian files are read")
		}
	}
	root, err := u.load()
	if err != nil {
		return nil, err
	}
	keysV, err := u.load()
	if err != nil {
		return nil, err
	}
	keys, ok := keysV.(*pyList)
	if !ok {
		return nil, fmt.Errorf("the storage keys are a %s, not a list", typeName(keysV))
	}
	raw := map[*storage][]byte{}
	pos := u.pos
	for _, kv := range keys.items {
		key, ok := kv.(string)
		st := u.storages[key]
		if !ok || st == nil {
			return nil, fmt.Errorf("storage key %s is not referred to by the state_dict", short(kv))
		}
		if raw[st] != nil {
			return nil, fmt.Errorf("storage %s is stored twice", key)
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("truncated before storage %s", key)
		}
		n := int64(binary.LittleEndian.Uint64(data[pos:]))
		pos += 8
		if n != st.numel {
			return nil, fmt.Errorf("storage %s has %d elements; the state_dict refers to %d", key, n, st.numel)
		}
		size := n * int64(st.dtype.size)
		if size > int64(len(data)-pos) {
			return nil, fmt.Errorf("truncated in storage %s", key)
		}
		raw[st] = data[pos : pos+int(size)]
		pos += int(size)
	}
	if len(raw) != len(u.storages) {
		return nil, fmt.Errorf("%d storages are referred to, %d stored", len(u.storages), len(raw))
	}
	if pos != len(data) {
		return nil, fmt.Errorf("%d bytes after the last storage", len(data)-pos)
	}
	return build(root, raw, "legacy")
}

// build turns the unpickled root object into tensors.
func build(root any, raw map[*storage][]byte, format string) (*StateDict, error) {
	d, ok := root.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("the file holds a %s, not a state_dict (an OrderedDict of tensors); save model.state_dict()", typeName(root))
	}
	sd := &StateDict{Format: format}
	seen := map[string]bool{}
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("key %d is a %s, not a string", i, typeName(k))
		}
		if seen[name] {
			return nil, fmt.Errorf("key %q appears twice", name)
		}
		seen[name] = true
		tr, ok := d.vals[i].(*tensorRef)
		if !ok {
			return nil, fmt.Errorf("%q is a %s, not a tensor: the file is not a plain state_dict (a training checkpoint? save model.state_dict() itself)", name, typeName(d.vals[i]))
		}
		t, err := materialize(name, tr, raw[tr.st])
		if err != nil {
			return nil, err
		}
		sd.Tensors = append(sd.Tensors, t)
	}
	return sd, nil
}

// materialize copies a tensor's elements out of its storage in row-major
// order, checking that the view lies inside the storage.
func materialize(name string, tr *tensorRef, b []byte) (*Tensor, error) {
	st := tr.st
	if int64(len(b)) != st.numel*int64(st.dtype.size) {
		return nil, fmt.Errorf("tensor %q: storage %s is missing", name, st.key)
	}
	shape := make([]int, len(tr.size))
	count := int64(1)
	last := tr.offset // the largest element index the view reads
	for i, s := range tr.size {
		if s < 0 || s > maxElems || tr.stride[i] < 0 || tr.stride[i] > maxElems {
			return nil, fmt.Errorf("tensor %q: size %v, stride %v", name, tr.size, tr.stride)
		}
		count *= s
		if count > maxElems {
			return nil, fmt.Errorf("tensor %q: more than %d elements", name, maxElems)
		}
		if s > 0 {
			last += (s - 1) * tr.stride[i]
		}
		shape[i] = int(s)
	}
	if count > 0 && (tr.offset < 0 || last >= st.numel) {
		return nil, fmt.Errorf("tensor %q (size %v, stride %v, offset %d) reaches past its storage of %d elements", name, tr.size, tr.stride, tr.offset, st.numel)
	}
	if count > st.numel {
		return nil, fmt.Errorf("tensor %q has %d elements in a storage of %d (an expanded view), which a state_dict does not hold", name, count, st.numel)
	}
	t := &Tensor{Name: name, Shape: shape, DType: st.dtype.name}
	n := int(count)
	idx := make([]int64, len(shape)) // the current multi-index
	at := tr.offset
	size := int64(st.dtype.size)
	if t.IsFloat() {
		t.Data = make([]float32, n)
	} else {
		t.Ints = make([]int64, n)
	}
	for j := 0; j < n; j++ {
		e := b[at*size : (at+1)*size]
		switch st.dtype.name {
		case "float32":
			t.Data[j] = math.Float32frombits(binary.LittleEndian.Uint32(e))
		case "float64":
			t.Data[j] = float32(math.Float64frombits(binary.LittleEndian.Uint64(e)))
		case "float16":
			t.Data[j] = tensor.Float16ToFloat32(binary.LittleEndian.Uint16(e))
		case "bfloat16":
			t.Data[j] = tensor.BFloat16ToFloat32(binary.LittleEndian.Uint16(e))
		case "int64":
			t.Ints[j] = int64(binary.LittleEndian.Uint64(e))
		}
		// Advance the multi-index, last dimension fastest.
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			at += tr.stride[k]
			if idx[k] < tr.size[k] {
				break
			}
			at -= idx[k] * tr.stride[k]
			idx[k] = 0
		}
	}
	return t, nil
}
