package tensor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// npyMagic starts every .npy file; the format version bytes follow it.
const npyMagic = "\x93NUMPY"

// MaxNpyHeaderSize is the largest .npy header, in bytes, that ReadNpy
// accepts. Real headers for float arrays are a few hundred bytes at most.
const MaxNpyHeaderSize = 1 << 20

const (
	npyAlign        = 64 // numpy aligns the data to this many bytes
	npyGrowthDigits = 21 // numpy's GROWTH_AXIS_MAX_DIGITS
)

// ReadNpy reads a NumPy .npy file of format version 1.0, 2.0 or 3.0 holding a
// C-order little-endian float32 ('<f4') or float16 ('<f2', converted to
// float32) array. Every other array is rejected with an error saying why:
// Fortran order, big-endian data, other dtypes, object and structured arrays.
//
// The header must be exactly the dict literal numpy writes, with the keys
// 'descr', 'fortran_order' and 'shape' in any order, single or double quotes,
// an optional trailing comma and any whitespace. The data must be exactly as
// long as the shape implies; bytes after it are an error. The data is read
// incrementally, so a header claiming a huge shape costs no more memory than
// the bytes r actually delivers. The shape of a 0-d array is an empty,
// non-nil slice.
func ReadNpy(r io.Reader) (shape []int, data []float32, err error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, npyReadError(err, "magic string and version")
	}
	if string(pre[:6]) != npyMagic {
		return nil, nil, fmt.Errorf("npy: not a .npy file (bad magic string %q)", pre[:6])
	}
	major, minor := pre[6], pre[7]
	var hlen uint64
	switch {
	case major == 1 && minor == 0:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, npyReadError(err, "header length")
		}
		hlen = uint64(binary.LittleEndian.Uint16(b[:]))
	case (major == 2 || major == 3) && minor == 0:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, npyReadError(err, "header length")
		}
		hlen = uint64(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, nil, fmt.Errorf("npy: unsupported format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	if hlen > MaxNpyHeaderSize {
		return nil, nil, fmt.Errorf("npy: header length %d exceeds the limit of %d bytes", hlen, MaxNpyHeaderSize)
	}
	// io.ReadAll grows its buffer as bytes arrive, so a header length claim
	// alone allocates nothing.
	hdr, err := io.ReadAll(io.LimitReader(r, int64(hlen)))
	if err != nil {
		return nil, nil, fmt.Errorf("npy: reading header: %w", err)
	}
	if uint64(len(hdr)) != hlen {
		return nil, nil, fmt.Errorf("npy: truncated header: %d of %d bytes", len(hdr), hlen)
	}
	h, err := parseNpyHeader(string(hdr))
	if err != nil {
		return nil, nil, err
	}

	elems, ok := numElements(h.shape)
	if !ok {
		return nil, nil, fmt.Errorf("npy: shape %v has too many elements", h.shape)
	}
	item := h.dtype.Size()
	hi, lo := bits.Mul64(uint64(elems), uint64(item))
	if hi != 0 || lo > math.MaxInt64 {
		return nil, nil, fmt.Errorf("npy: shape %v of %s is too large", h.shape, h.descr)
	}
	need := int64(lo)

	// Read and convert in chunks. data grows only as bytes arrive, unless r
	// tells how many bytes it still holds (as bytes.Reader and LoadNpy's
	// reader do) and they cover the claim.
	buf := make([]byte, min(need, writeChunk))
	capacity := min(int64(elems), writeChunk)
	if l, ok := r.(interface{ Len() int }); ok && int64(l.Len()) >= need {
		capacity = int64(elems)
	}
	data = make([]float32, 0, capacity)
	var got int64
	for got < need {
		k, err := io.ReadFull(r, buf[:min(need-got, int64(len(buf)))])
		got += int64(k)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, fmt.Errorf("npy: truncated data: shape %v of %s needs %d bytes, file has %d", h.shape, h.descr, need, got)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("npy: reading data: %w", err)
		}
		data = appendFloats(data, buf[:k], h.dtype)
	}
	var one [1]byte
	switch _, err := io.ReadFull(r, one[:]); err {
	case io.EOF:
	case nil:
		return nil, nil, fmt.Errorf("npy: unexpected bytes after the %d bytes of data that shape %v of %s needs", need, h.shape, h.descr)
	default:
		return nil, nil, fmt.Errorf("npy: reading data: %w", err)
	}
	return h.shape, data, nil
}

// LoadNpy reads the .npy file at path with ReadNpy. Every error message
// starts with the path.
func LoadNpy(path string) (shape []int, data []float32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, pathError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, pathError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file", path)
	}
	shape, data, err = ReadNpy(&sizedReader{r: bufio.NewReaderSize(f, 1<<20), n: fi.Size()})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return shape, data, nil
}

// sizedReader is a reader that knows how many bytes remain in it, a hint
// ReadNpy uses to allocate the data slice once.
type sizedReader struct {
	r io.Reader
	n int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	k, err := s.r.Read(p)
	s.n -= int64(k)
	return k, err
}

// Len returns the number of bytes left in the file, as far as Stat knew.
func (s *sizedReader) Len() int { return int(max(0, min(s.n, math.MaxInt))) }

// npyReadError describes a failure to read the named fixed-size field.
func npyReadError(err error, field string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("npy: file too short: truncated %s", field)
	}
	return fmt.Errorf("npy: reading %s: %w", field, err)
}

// appendFloats decodes little-endian elements of type dt from b.
func appendFloats(dst []float32, b []byte, dt DType) []float32 {
	switch dt {
	case F32:
		for i := 0; i+4 <= len(b); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
		}
	case F16:
		for i := 0; i+2 <= len(b); i += 2 {
			dst = append(dst, Float16ToFloat32(binary.LittleEndian.Uint16(b[i:])))
		}
	}
	return dst
}

// npyHeader is the content of a .npy header dict.
type npyHeader struct {
	descr string
	dtype DType
	shape []int
}

// parseNpyHeader parses the header dict literal, checking the keys, the
// value types, and that the array is one ReadNpy supports.
func parseNpyHeader(s string) (npyHeader, error) {
	p := &dictParser{s: s}
	var (
		h                              npyHeader
		fortran                        bool
		hasDescr, hasFortran, hasShape bool
	)
	p.space()
	if !p.consume('{') {
		return h, p.errorf("header must be a dict literal starting with '{'")
	}
fields:
	for {
		p.space()
		if p.consume('}') {
			break // empty dict or trailing comma
		}
		key, err := p.str()
		if err != nil {
			return h, p.errorf("expected a quoted key: %v", err)
		}
		p.space()
		if !p.consume(':') {
			return h, p.errorf("expected ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if hasDescr {
				return h, p.errorf("duplicate key 'descr'")
			}
			hasDescr = true
			if p.peek() != '\'' && p.peek() != '"' {
				return h, p.errorf("'descr' must be a string (structured dtypes are not supported)")
			}
			if h.descr, err = p.str(); err != nil {
				return h, p.errorf("'descr': %v", err)
			}
		case "fortran_order":
			if hasFortran {
				return h, p.errorf("duplicate key 'fortran_order'")
			}
			hasFortran = true
			switch {
			case p.word("True"):
				fortran = true
			case p.word("False"):
				fortran = false
			default:
				return h, p.errorf("'fortran_order' must be True or False")
			}
		case "shape":
			if hasShape {
				return h, p.errorf("duplicate key 'shape'")
			}
			hasShape = true
			if h.shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, p.errorf("unexpected key %q (want only 'descr', 'fortran_order' and 'shape')", key)
		}
		p.space()
		switch {
		case p.consume(','):
		case p.consume('}'):
			break fields
		default:
			return h, p.errorf("expected ',' or '}' after the value of %q", key)
		}
	}
	p.space()
	if p.pos != len(p.s) {
		return h, p.errorf("unexpected text after the header dict")
	}
	switch {
	case !hasDescr:
		return h, errors.New("npy: header lacks the key 'descr'")
	case !hasFortran:
		return h, errors.New("npy: header lacks the key 'fortran_order'")
	case !hasShape:
		return h, errors.New("npy: header lacks the key 'shape'")
	}

	switch d := h.descr; {
	case d == "<f4":
		h.dtype = F32
	case d == "<f2":
		h.dtype = F16
	case strings.HasPrefix(d, ">"):
		return h, fmt.Errorf("npy: big-endian data (descr %q) is not supported; want '<f4' (float32) or '<f2' (float16)", d)
	case strings.Contains(d, "O"):
		return h, fmt.Errorf("npy: object arrays (descr %q) are not supported; want '<f4' (float32) or '<f2' (float16)", d)
	default:
		return h, fmt.Errorf("npy: dtype %q is not supported; want '<f4' (float32) or '<f2' (float16)", d)
	}
	if fortran {
		return h, fmt.Errorf("npy: Fortran-order arrays (fortran_order True) are not supported; save a C-order array")
	}
	return h, nil
}

// dictParser scans the Python dict literal of a .npy header.
type dictParser struct {
	s   string
	pos int
}

func (p *dictParser) errorf(format string, args ...any) error {
	return fmt.Errorf("npy: invalid header at byte %d: %s (header %q)", p.pos, fmt.Sprintf(format, args...), truncate(p.s, 200))
}

func (p *dictParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// space skips Python whitespace (newlines are allowed inside brackets).
func (p *dictParser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *dictParser) consume(c byte) bool {
	if p.peek() == c {
		p.pos++
		return true
	}
	return false
}

// word consumes the identifier w if it is next and not followed by more
// identifier characters.
func (p *dictParser) word(w string) bool {
	if !strings.HasPrefix(p.s[p.pos:], w) {
		return false
	}
	end := p.pos + len(w)
	if end < len(p.s) && isIdentByte(p.s[end]) {
		return false
	}
	p.pos = end
	return true
}

func isIdentByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// str scans a single- or double-quoted string without escapes.
func (p *dictParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", errors.New("not a quoted string")
	}
	start := p.pos + 1
	for i := start; i < len(p.s); i++ {
		switch p.s[i] {
		case q:
			p.pos = i + 1
			return p.s[start:i], nil
		case '\\':
			return "", errors.New("escape sequences are not supported")
		case '\n', '\r':
			return "", errors.New("unterminated string")
		}
	}
	return "", errors.New("unterminated string")
}

// tuple scans a Python tuple of non-negative decimal integers: "()", "(3,)",
// "(2, 3)" or "(2, 3,)". "(3)" is an int in Python, not a tuple, and is
// rejected.
func (p *dictParser) tuple() ([]int, error) {
	if !p.consume('(') {
		return nil, p.errorf("'shape' must be a tuple of integers")
	}
	dims := []int{}
	for {
		p.space()
		if p.consume(')') {
			return dims, nil // "()" or a trailing comma
		}
		d, err := p.dim()
		if err != nil {
			return nil, err
		}
		if len(dims) == MaxRank {
			return nil, p.errorf("'shape' has more than %d dimensions", MaxRank)
		}
		dims = append(dims, d)
		p.space()
		if p.consume(',') {
			continue
		}
		if !p.consume(')') {
			return nil, p.errorf("expected ',' or ')' in 'shape'")
		}
		if len(dims) == 1 {
			return nil, p.errorf("'shape' (%d) is an integer, not a tuple; a 1-d shape is written (%d,)", d, d)
		}
		return dims, nil
	}
}

// dim scans one dimension: a decimal integer without sign, underscores or
// leading zeros, as Python's repr writes it.
func (p *dictParser) dim() (int, error) {
	start := p.pos
	for p.pos < len(p.s) && '0' <= p.s[p.pos] && p.s[p.pos] <= '9' {
		p.pos++
	}
	lit := p.s[start:p.pos]
	switch {
	case lit == "" && p.peek() == '-':
		return 0, p.errorf("'shape' has a negative dimension")
	case lit == "":
		return 0, p.errorf("'shape' must hold only non-negative integers")
	case len(lit) > 1 && lit[0] == '0':
		return 0, p.errorf("'shape' dimension %s has a leading zero", lit)
	case p.pos < len(p.s) && isIdentByte(p.s[p.pos]) || p.peek() == '.':
		return 0, p.errorf("'shape' must hold only non-negative integers")
	}
	v, err := strconv.ParseInt(lit, 10, 0)
	if err != nil {
		return 0, p.errorf("'shape' dimension %s is too large", truncate(lit, 30))
	}
	return int(v), nil
}

// WriteNpy writes data, shaped as shape (C order), as a .npy file holding a
// '<f4' array, byte-for-byte as numpy.save would: format version 1.0, the
// header dict with keys sorted, the shape as Python's repr writes it, numpy's
// spare space for in-place growth, and padding with spaces and a final '\n'
// so that the data starts at a multiple of 64 bytes. The shape may have at
// most MaxRank dimensions.
func WriteNpy(w io.Writer, shape []int, data []float32) error {
	if len(shape) > MaxRank {
		return fmt.Errorf("npy: shape has %d dimensions, more than the limit of %d", len(shape), MaxRank)
	}
	n, ok := numElements(shape)
	if !ok {
		return fmt.Errorf("npy: invalid shape %v", shape)
	}
	if n != len(data) {
		return fmt.Errorf("npy: shape %v needs %d elements, but data has %d", shape, n, len(data))
	}
	if _, err := w.Write(npyHeaderBytes(shape)); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	buf := make([]byte, 0, min(4*len(data), writeChunk))
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("npy: %w", err)
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("npy: %w", err)
		}
	}
	return nil
}

// npyHeaderBytes returns the magic string, version, header length and padded
// header dict of a '<f4' C-order array of the given shape, as numpy writes
// them.
func npyHeaderBytes(shape []int) []byte {
	var d []byte
	d = append(d, "{'descr': '<f4', 'fortran_order': False, 'shape': ("...)
	for i, n := range shape {
		if i > 0 {
			d = append(d, ", "...)
		}
		d = strconv.AppendInt(d, int64(n), 10)
	}
	if len(shape) == 1 {
		d = append(d, ',')
	}
	d = append(d, "), }"...)
	if len(shape) > 0 {
		pad := npyGrowthDigits - len(strconv.Itoa(shape[0]))
		for range max(pad, 0) {
			d = append(d, ' ')
		}
	}

	// numpy: hlen = len(header) + 1 (the '\n');
	// padlen = ALIGN - (magic+version + length field + hlen) % ALIGN, so 1..64.
	// With at most MaxRank dimensions hlen+padlen stays far below 65535, so
	// version 1.0 always suffices.
	hlen := len(d) + 1
	padlen := npyAlign - (10+hlen)%npyAlign
	out := make([]byte, 0, 10+hlen+padlen)
	out = append(out, npyMagic...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(hlen+padlen))
	out = append(out, d...)
	for range padlen {
		out = append(out, ' ')
	}
	return append(out, '\n')
}
