package tensor

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// MaxSafetensorsHeaderSize is the largest safetensors header, in bytes, that
// ReadSafetensors accepts and WriteSafetensors produces. It is the limit the
// reference implementation uses.
const MaxSafetensorsHeaderSize = 100_000_000

// MaxRank is the largest number of dimensions a tensor may have, in both
// formats. It is NumPy's limit (NPY_MAXDIMS); CNN tensors have at most 5.
// Bounding it keeps a hostile header from turning a few bytes per dimension
// into many bytes of shape slices.
const MaxRank = 64

// metadataKey is the reserved header key holding the file's string metadata.
const metadataKey = "__metadata__"

// Tensor is a named float32 tensor in row-major (C) order.
// len(Data) equals the product of Shape (1 for an empty shape).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File is the parsed content of a safetensors file.
type File struct {
	// Tensors maps each tensor name to its tensor, converted to float32.
	Tensors map[string]*Tensor
	// Metadata holds the header's "__metadata__" entries; it is empty, not
	// nil, when the file has none.
	Metadata map[string]string
	// Order lists the tensor names sorted by data offset (ties, which only
	// zero-sized tensors can produce, broken by name).
	Order []string
	// DTypes maps each tensor name to its dtype as written in the file
	// ("F32", "F16" or "BF16").
	DTypes map[string]string
}

// stEntry is one tensor entry of a safetensors header, as parsed.
type stEntry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int // offsets into the data area, validated
}

// ReadSafetensors parses a whole safetensors file held in memory. It
// validates the header completely before converting any data: the header
// length, the JSON syntax and structure, every tensor's dtype, shape and
// offsets, and that the tensors tile the data area exactly (no overlaps, gaps
// or trailing bytes), as the reference implementation requires. It never
// panics, and the memory it allocates is bounded by a small multiple of
// len(data). Errors about a tensor name the tensor.
func ReadSafetensors(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, too short to hold the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxSafetensorsHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, MaxSafetensorsHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d bytes that follow it", n, len(data)-8)
	}
	header := data[8 : 8+n]
	body := data[8+n:]

	entries, meta, err := parseSafetensorsHeader(header, len(body))
	if err != nil {
		return nil, err
	}
	if err := checkTiling(entries, len(body)); err != nil {
		return nil, err
	}

	f := &File{
		Tensors:  make(map[string]*Tensor, len(entries)),
		Metadata: meta,
		Order:    make([]string, len(entries)),
		DTypes:   make(map[string]string, len(entries)),
	}
	for i, e := range entries {
		f.Order[i] = e.name
		f.DTypes[e.name] = e.dtype.String()
		t := &Tensor{Name: e.name, Shape: e.shape}
		// Tensors of other dtypes (PyTorch's int64 num_batches_tracked,
		// say) are listed with nil Data; a reader that needs one reports it.
		if e.dtype.Readable() {
			t.Data = decodeFloats(body[e.begin:e.end], e.dtype)
		}
		f.Tensors[e.name] = t
	}
	return f, nil
}

// LoadSafetensors reads the safetensors file at path and parses it with
// ReadSafetensors. Every error message starts with the path.
func LoadSafetensors(path string) (*File, error) {
	data, err := readWholeFile(path, 8)
	if err != nil {
		return nil, err
	}
	f, err := ReadSafetensors(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// readWholeFile reads a regular file of at least minSize bytes. It allocates
// exactly the size reported by Stat and fails if the file then turns out to
// be shorter or longer. Errors start with the path.
func readWholeFile(path string, minSize int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, pathError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	size := fi.Size()
	if size < minSize {
		return nil, fmt.Errorf("%s: file is %d bytes, too short to be a safetensors file", path, size)
	}
	if uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("%s: file is %d bytes, too large to read into memory", path, size)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(fh, data); err != nil {
		return nil, fmt.Errorf("%s: file shrank while being read: %w", path, err)
	}
	var one [1]byte
	if k, _ := fh.Read(one[:]); k != 0 {
		return nil, fmt.Errorf("%s: file grew while being read", path)
	}
	return data, nil
}

// pathError formats err, typically an *fs.PathError naming path, as
// "path: op: reason" without repeating the path, keeping it unwrappable.
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s: %w", path, pe.Op, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// nativeLE reports whether the machine stores numbers little-endian, as
// safetensors files do.
var nativeLE = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// decodeFloats converts little-endian elements of type dt to float32.
// len(b) is a multiple of dt.Size(), already validated.
func decodeFloats(b []byte, dt DType) []float32 {
	switch dt {
	case F32:
		out := make([]float32, len(b)/4)
		if nativeLE && len(out) > 0 {
			// The file's byte order is the machine's: one copy (AlexNet's
			// 244 MB took 95 ms per load as the loop below, 25 ms so).
			copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), 4*len(out)), b)
			return out
		}
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out
	case F16:
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = Float16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out
	case BF16:
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = BFloat16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out
	}
	return nil // unreachable: dtypes are validated first
}

// parseSafetensorsHeader parses and validates the JSON header. dataLen is the
// size of the data area that follows the header. Each entry is checked on its
// own (dtype, shape, offsets within the data area, size agreeing with the
// shape); the entries are returned sorted by offset.
func parseSafetensorsHeader(header []byte, dataLen int) ([]stEntry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("safetensors: header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, errors.New("safetensors: header does not start with '{'")
	}
	var (
		p       = &jsonScanner{s: header}
		entries []stEntry
		meta    map[string]string
		seen    = make(map[string]bool)
	)
	err := p.object("header", func(key string) error {
		if seen[key] {
			if key == metadataKey {
				return errors.New("safetensors: header has a duplicate __metadata__ key")
			}
			return fmt.Errorf("safetensors: tensor %q: duplicate entry in the header", key)
		}
		seen[key] = true
		if key == metadataKey {
			var err error
			meta, err = parseMetadata(p)
			return err
		}
		e, err := parseEntry(p, key, dataLen)
		entries = append(entries, e)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, nil, fmt.Errorf("safetensors: unexpected data after the header's JSON object, at byte %d", p.pos)
	}
	if meta == nil {
		meta = make(map[string]string)
	}
	slices.SortFunc(entries, func(a, b stEntry) int {
		return cmp.Or(
			cmp.Compare(a.begin, b.begin),
			cmp.Compare(a.end, b.end),
			strings.Compare(a.name, b.name))
	})
	return entries, meta, nil
}

// checkTiling checks that the entries, sorted by offset, cover the data area
// exactly: the first starts at 0, each starts where the previous one ends,
// and the last ends at the end of the data area.
func checkTiling(entries []stEntry, dataLen int) error {
	pos := 0
	for i, e := range entries {
		switch {
		case e.begin < pos:
			prev := entries[i-1]
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] overlap tensor %q at [%d, %d]",
				e.name, e.begin, e.end, prev.name, prev.begin, prev.end)
		case e.begin > pos && i == 0:
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] leave the first %d bytes of the data area unused",
				e.name, e.begin, e.end, e.begin)
		case e.begin > pos:
			prev := entries[i-1]
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] leave a gap of %d bytes after tensor %q at [%d, %d]",
				e.name, e.begin, e.end, e.begin-pos, prev.name, prev.begin, prev.end)
		}
		pos = e.end
	}
	if pos != dataLen {
		if len(entries) == 0 {
			return fmt.Errorf("safetensors: header declares no tensors, but the data area holds %d bytes", dataLen)
		}
		last := entries[len(entries)-1]
		return fmt.Errorf("safetensors: %d bytes after tensor %q (the last, ending at %d) belong to no tensor",
			dataLen-pos, last.name, last.end)
	}
	return nil
}

// parseMetadata parses the value of "__metadata__": null or an object
// mapping strings to strings.
func parseMetadata(p *jsonScanner) (map[string]string, error) {
	const where = "__metadata__"
	meta := make(map[string]string)
	switch p.next() {
	case jsonNull:
		// Accepted, as the reference implementation accepts it.
		return meta, p.literal(where, "null")
	case jsonObject:
	default:
		return nil, fmt.Errorf("safetensors: __metadata__ must be an object of strings, found %s", p.describe())
	}
	err := p.object(where, func(k string) error {
		if _, dup := meta[k]; dup {
			return fmt.Errorf("safetensors: __metadata__ has a duplicate key %q", k)
		}
		if p.next() != jsonString {
			return fmt.Errorf("safetensors: __metadata__ key %q: value must be a string, found %s", k, p.describe())
		}
		v, err := p.str(where)
		meta[k] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return meta, nil
}

// parseEntry parses and validates the entry of the tensor called name.
func parseEntry(p *jsonScanner, name string, dataLen int) (stEntry, error) {
	where := fmt.Sprintf("tensor %q", name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: %s: %s", where, fmt.Sprintf(format, args...))
	}
	if p.next() != jsonObject {
		return stEntry{}, fail("entry must be an object with dtype, shape and data_offsets, found %s", p.describe())
	}
	var (
		dtypeName                      string
		shape, offsets                 []uint64
		hasDType, hasShape, hasOffsets bool
	)
	err := p.object(where, func(field string) error {
		var err error
		switch field {
		case "dtype":
			if hasDType {
				return fail("duplicate field %q", field)
			}
			hasDType = true
			if p.next() != jsonString {
				return fail("dtype must be a string, found %s", p.describe())
			}
			dtypeName, err = p.str(where)
		case "shape":
			if hasShape {
				return fail("duplicate field %q", field)
			}
			hasShape = true
			shape, err = parseUints(p, where, field, MaxRank)
		case "data_offsets":
			if hasOffsets {
				return fail("duplicate field %q", field)
			}
			hasOffsets = true
			offsets, err = parseUints(p, where, field, 2)
		default:
			return fail("unknown field %q (want only dtype, shape and data_offsets)", field)
		}
		return err
	})
	if err != nil {
		return stEntry{}, err
	}
	switch {
	case !hasDType:
		return stEntry{}, fail("missing field \"dtype\"")
	case !hasShape:
		return stEntry{}, fail("missing field \"shape\"")
	case !hasOffsets:
		return stEntry{}, fail("missing field \"data_offsets\"")
	}

	dt, known := ParseDType(dtypeName)
	if !known {
		return stEntry{}, fail("unknown dtype %q", dtypeName)
	}
	dims := make([]int, len(shape))
	for i, d := range shape {
		if d > math.MaxInt {
			return stEntry{}, fail("shape %v: dimension %d is too large", shape, i)
		}
		dims[i] = int(d)
	}
	elems, ok := numElements(dims)
	if !ok {
		return stEntry{}, fail("shape %v has too many elements", dims)
	}
	hi, need := bits.Mul64(uint64(elems), uint64(dt.Size()))
	if hi != 0 || need > math.MaxInt {
		return stEntry{}, fail("shape %v of %s is too large", dims, dt)
	}
	if len(offsets) != 2 {
		return stEntry{}, fail("data_offsets must hold exactly 2 numbers, found %d", len(offsets))
	}
	begin, end := offsets[0], offsets[1]
	if begin > end {
		return stEntry{}, fail("data_offsets [%d, %d] end before they begin", begin, end)
	}
	if end > uint64(dataLen) {
		return stEntry{}, fail("data_offsets [%d, %d] extend past the end of the %d-byte data area", begin, end, dataLen)
	}
	if end-begin != need {
		return stEntry{}, fail("data_offsets [%d, %d] hold %d bytes, but shape %v of %s needs %d",
			begin, end, end-begin, dims, dt, need)
	}
	return stEntry{name: name, dtype: dt, shape: dims, begin: int(begin), end: int(end)}, nil
}

// parseUints parses an array of at most limit non-negative integers, the
// value of field.
func parseUints(p *jsonScanner, where, field string, limit int) ([]uint64, error) {
	if p.next() != jsonArray {
		return nil, fmt.Errorf("safetensors: %s: %s must be an array of integers, found %s", where, field, p.describe())
	}
	out := []uint64{}
	err := p.array(where, func() error {
		if len(out) == limit {
			return fmt.Errorf("safetensors: %s: %s has more than %d elements", where, field, limit)
		}
		if p.next() != jsonNumber {
			return fmt.Errorf("safetensors: %s: %s must be an array of integers, found %s", where, field, p.describe())
		}
		lit, err := p.number(where)
		if err != nil {
			return err
		}
		v, err := parseJSONUint(lit)
		if err != nil {
			return fmt.Errorf("safetensors: %s: %s: %v", where, field, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// parseJSONUint parses a JSON number that must be a non-negative integer
// written without fraction or exponent.
func parseJSONUint(s string) (uint64, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative value %s", s)
	}
	if strings.ContainsAny(s, ".eE") {
		return 0, fmt.Errorf("%s is not an integer", s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	return v, nil
}

// numElements returns the product of dims, or false if a dimension is
// negative or the product of the non-zero dimensions overflows int. The
// product of an empty shape is 1. Shapes whose non-zero dimensions overflow
// are rejected even if another dimension is zero, so that code using the
// shape later cannot overflow either.
func numElements(dims []int) (int, bool) {
	n, zero := 1, false
	for _, d := range dims {
		switch {
		case d < 0:
			return 0, false
		case d == 0:
			zero = true
			continue
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = int(lo)
	}
	if zero {
		return 0, true
	}
	return n, true
}

// WriteSafetensors writes tensors as an F32 safetensors file, with metadata
// (which may be nil) as the header's "__metadata__" entry when non-empty.
//
// The output is deterministic and matches what the reference implementation
// writes for F32 tensors: tensors sorted by name with contiguous offsets; a
// compact JSON header with "__metadata__" first (its keys sorted), then the
// tensors in order, each as {"dtype":"F32","shape":[...],"data_offsets":[b,e]};
// the header padded with spaces to a multiple of 8 bytes.
//
// Every tensor must have a valid UTF-8 name other than "__metadata__", unique
// among the tensors, at most MaxRank non-negative dimensions, and exactly as
// many elements as its shape implies. Nothing is written if validation fails.
func WriteSafetensors(w io.Writer, tensors []*Tensor, metadata map[string]string) error {
	sorted := make([]*Tensor, len(tensors))
	for i, t := range tensors {
		if t == nil {
			return fmt.Errorf("safetensors: tensor %d of %d is nil", i, len(tensors))
		}
		if t.Name == metadataKey {
			return fmt.Errorf("safetensors: tensor %q: the name is reserved for metadata", t.Name)
		}
		if !utf8.ValidString(t.Name) {
			return fmt.Errorf("safetensors: tensor %q: name is not valid UTF-8", t.Name)
		}
		if len(t.Shape) > MaxRank {
			return fmt.Errorf("safetensors: tensor %q: shape has %d dimensions, more than the limit of %d", t.Name, len(t.Shape), MaxRank)
		}
		n, ok := numElements(t.Shape)
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: invalid shape %v", t.Name, t.Shape)
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v needs %d elements, but data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		sorted[i] = t
	}
	slices.SortFunc(sorted, func(a, b *Tensor) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Name == sorted[i-1].Name {
			return fmt.Errorf("safetensors: tensor %q: duplicate name", sorted[i].Name)
		}
	}
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: __metadata__ key %q: key and value must be valid UTF-8", k)
		}
	}

	var h []byte
	h = append(h, '{')
	if len(metadata) > 0 {
		h = appendJSONString(h, metadataKey)
		h = append(h, ':', '{')
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, metadata[k])
		}
		h = append(h, '}')
	}
	var offset uint64
	for i, t := range sorted {
		if i > 0 || len(metadata) > 0 {
			h = append(h, ',')
		}
		size := uint64(len(t.Data)) * 4 // cannot overflow: len(Data) <= MaxInt
		h = appendJSONString(h, t.Name)
		h = append(h, `:{"dtype":"F32","shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendUint(h, offset, 10)
		h = append(h, ',')
		if offset+size < offset {
			return errors.New("safetensors: total data size overflows")
		}
		offset += size
		h = strconv.AppendUint(h, offset, 10)
		h = append(h, ']', '}')
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > MaxSafetensorsHeaderSize {
		return fmt.Errorf("safetensors: header would be %d bytes, over the limit of %d", len(h), MaxSafetensorsHeaderSize)
	}

	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(h)))
	if _, err := w.Write(prefix[:]); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if _, err := w.Write(h); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	buf := make([]byte, 0, writeChunk)
	for _, t := range sorted {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return fmt.Errorf("safetensors: %w", err)
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("safetensors: %w", err)
		}
	}
	return nil
}

// writeChunk is the size of the buffer the writers encode data into; a
// multiple of every element size.
const writeChunk = 64 << 10

// appendJSONString appends s as a JSON string, escaped the way serde_json
// (and so the reference implementation) escapes: only '"', '\\' and control
// characters, using \b \f \n \r \t where they exist and \u00xx otherwise.
// s must be valid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
