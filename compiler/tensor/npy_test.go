package tensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// npyFile assembles a .npy file from a version, a raw header and data,
// without any of the padding WriteNpy adds.
func npyFile(major byte, header string, data []byte) []byte {
	b := append([]byte("\x93NUMPY"), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	b = append(b, header...)
	return append(b, data...)
}

func TestWriteNpyGolden(t *testing.T) {
	tests := []struct {
		name  string
		shape []int
		data  []float32
		want  []byte
	}{
		{
			name:  "2-d",
			shape: []int{2, 3},
			data:  []float32{0, 1, 2, 3, 4, 5},
			// 10 bytes of prefix + 118 of header = 128. The header is the
			// 59-byte dict, 20 spaces of growth room (21 - len("2")), 38
			// spaces of padding and '\n'. 118 is 'v'.
			want: concat(
				[]byte("\x93NUMPY\x01\x00v\x00"),
				[]byte("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
				[]byte(strings.Repeat(" ", 20+38)+"\n"),
				[]byte{
					0x00, 0x00, 0x00, 0x00, // 0
					0x00, 0x00, 0x80, 0x3f, // 1
					0x00, 0x00, 0x00, 0x40, // 2
					0x00, 0x00, 0x40, 0x40, // 3
					0x00, 0x00, 0x80, 0x40, // 4
					0x00, 0x00, 0xa0, 0x40, // 5
				}),
		},
		{
			name:  "1-d",
			shape: []int{3},
			data:  []float32{-1, 0.5, 2},
			// 57-byte dict + 20 growth + 40 padding + '\n' = 118.
			want: concat(
				[]byte("\x93NUMPY\x01\x00v\x00"),
				[]byte("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"),
				[]byte(strings.Repeat(" ", 20+40)+"\n"),
				[]byte{0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x40}),
		},
		{
			name:  "0-d",
			shape: []int{},
			data:  []float32{1},
			// 55-byte dict, no growth room for a 0-d array, 62 padding + '\n'.
			want: concat(
				[]byte("\x93NUMPY\x01\x00v\x00"),
				[]byte("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"),
				[]byte(strings.Repeat(" ", 62)+"\n"),
				[]byte{0x00, 0x00, 0x80, 0x3f}),
		},
		{
			name:  "long first dimension",
			shape: []int{1234567890123, 0},
			data:  nil,
			// 71-byte dict + 8 growth (21 - 13 digits) = 79; 10 + 79 + 1 =
			// 90, padded by 38 to 128: header length 118 again.
			want: concat(
				[]byte("\x93NUMPY\x01\x00v\x00"),
				[]byte("{'descr': '<f4', 'fortran_order': False, 'shape': (1234567890123, 0), }"),
				[]byte(strings.Repeat(" ", 8+38)+"\n")),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteNpy(&buf, tc.shape, tc.data); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("WriteNpy bytes mismatch (-want +got):\n%s", diff)
			}
			hlen := int(binary.LittleEndian.Uint16(got[8:]))
			if (10+hlen)%64 != 0 || got[10+hlen-1] != '\n' {
				t.Errorf("header length %d: data not 64-aligned or header not ending in newline", hlen)
			}
		})
	}
}

// TestWriteNpyPaddingRule checks numpy's padding rule, which always adds
// 1 to 64 spaces, against shapes of every header length modulo 64.
func TestWriteNpyPaddingRule(t *testing.T) {
	seen := make(map[int]bool)
	for ndim := 0; ndim <= MaxRank; ndim++ {
		shape := make([]int, ndim)
		for i := range shape {
			shape[i] = 1
		}
		h := npyHeaderBytes(shape)
		dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + pyTuple(shape) + ", }"
		growth := 0
		if ndim > 0 {
			growth = 20
		}
		hlen := len(dict) + growth + 1
		pad := 64 - (10+hlen)%64
		seen[(10+hlen)%64] = true
		want := concat(
			[]byte("\x93NUMPY\x01\x00"),
			binary.LittleEndian.AppendUint16(nil, uint16(hlen+pad)),
			[]byte(dict+strings.Repeat(" ", growth+pad)+"\n"))
		if diff := cmp.Diff(want, h); diff != "" {
			t.Fatalf("%d dims (-want +got):\n%s", ndim, diff)
		}
	}
	if !seen[0] {
		t.Error("no shape had an exactly aligned header; the test misses the 64-space case")
	}
}

// pyTuple writes shape as Python's repr of a tuple does.
func pyTuple(shape []int) string {
	var parts []string
	for _, d := range shape {
		parts = append(parts, strconv.Itoa(d))
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestNpyMaxRank(t *testing.T) {
	shape := make([]int, MaxRank)
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = math.MaxInt // the longest possible first dimension
	shape[1] = 0
	var buf bytes.Buffer
	if err := WriteNpy(&buf, shape, nil); err != nil {
		t.Fatal(err)
	}
	got, data, err := ReadNpy(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shape, got); diff != "" || len(data) != 0 {
		t.Errorf("read back %d values, shape mismatch (-want +got):\n%s", len(data), diff)
	}

	shape = append(shape, 1)
	buf.Reset()
	if err := WriteNpy(&buf, shape, nil); err == nil || !strings.Contains(err.Error(), "65 dimensions, more than the limit of 64") {
		t.Errorf("WriteNpy with 65 dimensions: error %v", err)
	}
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + strings.Repeat("1, ", 65) + "), }"
	if _, _, err := ReadNpy(bytes.NewReader(npyFile(1, hdr, f32le(1)))); err == nil || !strings.Contains(err.Error(), "'shape' has more than 64 dimensions") {
		t.Errorf("ReadNpy with 65 dimensions: error %v", err)
	}
}

func TestNpyRoundTrip(t *testing.T) {
	nan := math.Float32frombits(0xffc00001)
	tests := []struct {
		shape []int
		data  []float32
	}{
		{[]int{}, []float32{42}},
		{[]int{0}, []float32{}},
		{[]int{3, 0, 2}, []float32{}},
		{[]int{3}, []float32{nan, float32(math.Inf(1)), float32(math.Copysign(0, -1))}},
		{[]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{[]int{1, 2, 3, 4}, make([]float32, 24)},
		{[]int{100000}, make([]float32, 100000)}, // several read chunks
	}
	for i := range tests[len(tests)-1].data {
		tests[len(tests)-1].data[i] = float32(i) * 0.25
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		if err := WriteNpy(&buf, tc.shape, tc.data); err != nil {
			t.Fatal(err)
		}
		// A reader that returns one byte at a time exercises every
		// partial-read path.
		var r io.Reader = bytes.NewReader(buf.Bytes())
		if len(tc.data) < 100 {
			r = iotest.OneByteReader(r)
		}
		shape, data, err := ReadNpy(r)
		if err != nil {
			t.Fatalf("shape %v: %v", tc.shape, err)
		}
		if diff := cmp.Diff(tc.shape, shape); diff != "" {
			t.Errorf("shape mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(tc.data, data, bitsEqual); diff != "" {
			t.Errorf("shape %v: data mismatch (-want +got):\n%s", tc.shape, diff)
		}
		if shape == nil {
			t.Errorf("shape %v read back as nil", tc.shape)
		}
	}
}

func TestReadNpyHeaderVariants(t *testing.T) {
	two := f32le(1.5, -2)
	tests := []struct {
		name   string
		file   []byte
		shape  []int
		values []float32
	}{
		{"version 2.0", npyFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", two), []int{2}, []float32{1.5, -2}},
		{"version 3.0", npyFile(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", two), []int{2}, []float32{1.5, -2}},
		{"double quotes, other order, no trailing comma", npyFile(1, `{"shape": (1, 2), "fortran_order": False, "descr": "<f4"}`, two), []int{1, 2}, []float32{1.5, -2}},
		{"whitespace everywhere", npyFile(1, " {\n 'descr' :'<f4' ,\t'fortran_order':False,'shape':( 2 , ) ,\n}\n\n  ", two), []int{2}, []float32{1.5, -2}},
		{"tuple with trailing comma", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2,), }", two), []int{1, 2}, []float32{1.5, -2}},
		{"empty tuple", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ( ), }", f32le(7)), []int{}, []float32{7}},
		{"float16", npyFile(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", u16le(0x3c00, 0x0001, 0x7c00, 0xc500)),
			[]int{4}, []float32{1, 0x1p-24, float32(math.Inf(1)), -5}},
		{"zero dimension", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", nil), []int{0, 5}, []float32{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shape, data, err := ReadNpy(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.shape, shape); diff != "" {
				t.Errorf("shape mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.values, data, bitsEqual); diff != "" {
				t.Errorf("data mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadNpyErrors(t *testing.T) {
	hdr := func(descr, fortran, shape string) string {
		return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	}
	ok := hdr("'<f4'", "False", "(2,)")
	two := f32le(1, 2)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "file too short: truncated magic string"},
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), "not a .npy file"},
		{"version 4.0", npyFile(1, ok, two)[:6:6], "truncated magic"},
		{"unsupported version", append([]byte("\x93NUMPY\x04\x00"), npyFile(1, ok, two)[8:]...), "unsupported format version 4.0"},
		{"minor version", append([]byte("\x93NUMPY\x01\x01"), npyFile(1, ok, two)[8:]...), "unsupported format version 1.1"},
		{"no header length", []byte("\x93NUMPY\x01\x00\x05"), "truncated header length"},
		{"no v2 header length", []byte("\x93NUMPY\x02\x00\x05\x00\x00"), "truncated header length"},
		{"huge v2 header length", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{}"), "header length 4294967295 exceeds the limit"},
		{"truncated header", npyFile(1, ok, nil)[:20], "truncated header: 10 of"},
		{"f8", npyFile(1, hdr("'<f8'", "False", "(1,)"), f32le(1, 2)), `dtype "<f8" is not supported`},
		{"i4", npyFile(1, hdr("'<i4'", "False", "(2,)"), two), `dtype "<i4" is not supported`},
		{"native f4", npyFile(1, hdr("'=f4'", "False", "(2,)"), two), `dtype "=f4" is not supported`},
		{"big-endian f4", npyFile(1, hdr("'>f4'", "False", "(2,)"), two), `big-endian data (descr ">f4")`},
		{"big-endian f8", npyFile(1, hdr("'>f8'", "False", "(2,)"), two), `big-endian data (descr ">f8")`},
		{"big-endian f2", npyFile(1, hdr("'>f2'", "False", "(2,)"), two), `big-endian data (descr ">f2")`},
		{"object", npyFile(1, hdr("'|O'", "False", "(1,)"), f32le(1, 2)), `object arrays (descr "|O")`},
		{"structured", npyFile(1, hdr("[('a', '<f4')]", "False", "(2,)"), two), "structured dtypes are not supported"},
		{"fortran", npyFile(1, hdr("'<f4'", "True", "(1, 2)"), two), "Fortran-order arrays"},
		{"fortran not bool", npyFile(1, hdr("'<f4'", "0", "(2,)"), two), "'fortran_order' must be True or False"},
		{"fortran prefix", npyFile(1, hdr("'<f4'", "Falsey", "(2,)"), two), "'fortran_order' must be True or False"},
		{"missing descr", npyFile(1, "{'fortran_order': False, 'shape': (2,), }", two), "lacks the key 'descr'"},
		{"missing fortran_order", npyFile(1, "{'descr': '<f4', 'shape': (2,), }", two), "lacks the key 'fortran_order'"},
		{"missing shape", npyFile(1, "{'descr': '<f4', 'fortran_order': False, }", two), "lacks the key 'shape'"},
		{"extra key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two), `unexpected key "x"`},
		{"duplicate key", npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", two), "duplicate key 'descr'"},
		{"duplicate shape", npyFile(1, "{'descr': '<f4', 'shape': (2,), 'fortran_order': False, 'shape': (2,)}", two), "duplicate key 'shape'"},
		{"duplicate fortran_order", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'fortran_order': False, 'shape': (2,)}", two), "duplicate key 'fortran_order'"},
		{"not a dict", npyFile(1, "['descr']", two), "must be a dict literal"},
		{"unquoted key", npyFile(1, "{descr: '<f4'}", two), "expected a quoted key"},
		{"missing colon", npyFile(1, "{'descr' '<f4'}", two), `expected ':' after key "descr"`},
		{"missing comma", npyFile(1, "{'descr': '<f4' 'shape': (2,)}", two), `expected ',' or '}' after the value of "descr"`},
		{"unterminated dict", npyFile(1, "{'descr': '<f4',", two), "expected a quoted key"},
		{"unterminated string", npyFile(1, "{'descr': '<f4", two), "unterminated string"},
		{"escape", npyFile(1, `{'descr': '<f\x34'}`, two), "escape sequences are not supported"},
		{"text after dict", npyFile(1, ok+" x", two), "unexpected text after the header dict"},
		{"two dicts", npyFile(1, ok+ok, two), "unexpected text after the header dict"},
		{"int shape", npyFile(1, hdr("'<f4'", "False", "(2)"), two), "'shape' (2) is an integer, not a tuple"},
		{"list shape", npyFile(1, hdr("'<f4'", "False", "[2]"), two), "'shape' must be a tuple"},
		{"negative dim", npyFile(1, hdr("'<f4'", "False", "(-2,)"), two), "negative dimension"},
		{"leading zero", npyFile(1, hdr("'<f4'", "False", "(02,)"), two), "leading zero"},
		{"float dim", npyFile(1, hdr("'<f4'", "False", "(2.0,)"), two), "only non-negative integers"},
		{"long dim", npyFile(1, hdr("'<f4'", "False", "(2L,)"), two), "only non-negative integers"},
		{"underscore dim", npyFile(1, hdr("'<f4'", "False", "(1_0,)"), two), "only non-negative integers"},
		{"empty dim", npyFile(1, hdr("'<f4'", "False", "(,)"), two), "only non-negative integers"},
		{"double comma", npyFile(1, hdr("'<f4'", "False", "(1,,)"), two), "only non-negative integers"},
		{"missing tuple comma", npyFile(1, hdr("'<f4'", "False", "(1 2)"), two), "expected ',' or ')'"},
		{"unterminated tuple", npyFile(1, "{'shape': (1, 2", two), "expected ',' or ')'"},
		{"dim out of range", npyFile(1, hdr("'<f4'", "False", "(99999999999999999999,)"), two), "dimension 99999999999999999999 is too large"},
		{"too many elements", npyFile(1, hdr("'<f4'", "False", "(4294967296, 4294967296)"), two), "has too many elements"},
		{"too many bytes", npyFile(1, hdr("'<f4'", "False", "(4611686018427387904,)"), two), "of <f4 is too large"},
		{"truncated data", npyFile(1, hdr("'<f4'", "False", "(3,)"), two), "truncated data: shape [3] of <f4 needs 12 bytes, file has 8"},
		{"truncated element", npyFile(1, ok, two[:7]), "truncated data: shape [2] of <f4 needs 8 bytes, file has 7"},
		{"no data", npyFile(1, ok, nil), "needs 8 bytes, file has 0"},
		{"trailing bytes", npyFile(1, ok, append(two, 0)), "unexpected bytes after the 8 bytes of data"},
		{"trailing data for 0-size", npyFile(1, hdr("'<f4'", "False", "(0,)"), two), "unexpected bytes after the 0 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shape, data, err := ReadNpy(bytes.NewReader(tc.file))
			if err == nil {
				t.Fatalf("ReadNpy = %v, %d values; want an error", shape, len(data))
			}
			if !strings.HasPrefix(err.Error(), "npy: ") {
				t.Errorf("error %q lacks the npy: prefix", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestReadNpyTruncated(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteNpy(&buf, []int{2, 2}, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	for n := 0; n < len(file); n++ {
		if _, _, err := ReadNpy(bytes.NewReader(file[:n])); err == nil {
			t.Errorf("ReadNpy of the first %d of %d bytes succeeded", n, len(file))
		}
	}
}

func TestReadNpyReaderError(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteNpy(&buf, []int{1000}, make([]float32, 1000)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, n := range []int64{3, 9, 50, 500, int64(buf.Len())} {
		r := io.MultiReader(io.LimitReader(bytes.NewReader(buf.Bytes()), n), iotest.ErrReader(boom))
		if _, _, err := ReadNpy(r); !errors.Is(err, boom) {
			t.Errorf("reader failing after %d bytes: error %v, want it to wrap boom", n, err)
		}
	}
}

func TestReadNpyNoBigAllocation(t *testing.T) {
	cases := map[string][]byte{
		"huge shape, no data":       npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", f32le(1)),
		"huge 2-d shape, some data": npyFile(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (100000, 100000), }", make([]byte, 1000)),
		"huge header length":        []byte("\x93NUMPY\x03\x00\x00\x00\x10\x00{"),
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			start := time.Now()
			n := allocatedBytes(func() { _, _, err = ReadNpy(bytes.NewReader(file)) })
			if err == nil {
				t.Fatal("ReadNpy succeeded, want an error")
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

func TestWriteNpyErrors(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		data  []float32
		want  string
	}{
		{[]int{-1}, nil, "invalid shape [-1]"},
		{[]int{math.MaxInt, 4}, nil, "invalid shape"},
		{[]int{2, 2}, []float32{1, 2, 3}, "shape [2 2] needs 4 elements, but data has 3"},
		{nil, nil, "shape [] needs 1 elements, but data has 0"},
	} {
		var buf bytes.Buffer
		err := WriteNpy(&buf, tc.shape, tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WriteNpy(%v, %d values) = %v, want an error mentioning %q", tc.shape, len(tc.data), err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("WriteNpy(%v) wrote %d bytes before failing", tc.shape, buf.Len())
		}
	}
	for _, n := range []int{0, 5, 200, 70000} {
		err := WriteNpy(&failWriter{n: n}, []int{100000}, make([]float32, 100000))
		if !errors.Is(err, errDiskFull) {
			t.Errorf("failing after %d bytes: got %v, want disk full", n, err)
		}
	}
}

func TestLoadNpy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	var buf bytes.Buffer
	if err := WriteNpy(&buf, []int{2}, []float32{3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shape, data, err := LoadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{2}, shape); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]float32{3, 4}, data); diff != "" {
		t.Error(diff)
	}
	if err := os.WriteFile(path, buf.Bytes()[:buf.Len()-1], 0o644); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		dir:                            dir + ": not a regular file",
		path:                           path + ": npy: truncated data",
		filepath.Join(dir, "none.npy"): filepath.Join(dir, "none.npy") + ": open: ",
	} {
		if _, _, err := LoadNpy(p); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("LoadNpy(%q) error %v, want it to start with %q", p, err, want)
		}
	}
}

func TestReadNpyAllocatesOnceWhenSizeIsKnown(t *testing.T) {
	file := mustNpy(t, []int{300, 1000}, make([]float32, 300000))
	_, data, err := ReadNpy(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if cap(data) != len(data) {
		t.Errorf("bytes.Reader: cap %d, len %d; want one exact allocation", cap(data), len(data))
	}
	path := filepath.Join(t.TempDir(), "big.npy")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, data, err = LoadNpy(path); err != nil {
		t.Fatal(err)
	}
	if cap(data) != len(data) {
		t.Errorf("LoadNpy: cap %d, len %d; want one exact allocation", cap(data), len(data))
	}
	// A plain reader gives no size hint: the data grows as it arrives.
	_, data, err = ReadNpy(io.MultiReader(bytes.NewReader(file)))
	if err != nil || len(data) != 300000 {
		t.Fatalf("plain reader: %d values, %v", len(data), err)
	}
}
