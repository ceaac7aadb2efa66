package pth

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// The unpickler is a small pickle virtual machine that knows only what
// torch.save writes for a state_dict (protocol 2, and the protocol 4
// opcodes torch.save(..., pickle_protocol=4) adds). It never imports or
// calls anything: the few globals a state_dict refers to are recognised by
// name and turned into Go values, and every other global is an error.

// Python values, as the unpickler represents them.
type (
	pyNone  struct{}
	pyLong  struct{ v *big.Int } // an integer too large for int64 (LONG1)
	pyTuple []any
	pyList  struct{ items []any }
	// pyDict is a dict or an OrderedDict, in insertion order.
	pyDict struct {
		keys, vals []any
		ordered    bool
	}
	pyGlobal struct{ module, name string }
	// storage is a persistent reference to a tensor storage: the data is
	// in the zip entry data/<key> (or, in the legacy format, after the
	// pickles).
	storage struct {
		key   string
		dtype dtype
		numel int64
	}
	// tensorRef is a tensor: a strided view of a storage.
	tensorRef struct {
		st     *storage
		offset int64
		size   []int64
		stride []int64
	}
	mark struct{}
)

// dtype is a storage's element type.
type dtype struct {
	name string // as PyTorch names it: float32, ...
	size int
}

// storageTypes are the storage classes a state_dict may refer to.
var storageTypes = map[string]dtype{
	"FloatStorage":    {"float32", 4},
	"DoubleStorage":   {"float64", 8},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"LongStorage":     {"int64", 8},
}

// Limits on what the unpickler accepts.
const (
	maxRank    = 8       // tensor dimensions
	maxPickle  = 1 << 26 // bytes of one pickle
	maxElems   = 1 << 31 // elements of one tensor
	maxStorage = 1 << 34 // bytes of one storage
)

// unpickler runs one pickle.
type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int
	memo  map[uint64]any
	// legacy is set for the pre-1.6 format, whose persistent IDs have a
	// sixth element (view metadata).
	legacy bool
	// storages collects the storages referred to, by key.
	storages map[string]*storage
}

type pickleError struct {
	pos int
	msg string
}

func (e *pickleError) Error() string { return fmt.Sprintf("pickle offset %d: %s", e.pos, e.msg) }

func (u *unpickler) errorf(format string, args ...any) error {
	return &pickleError{u.pos, fmt.Sprintf(format, args...)}
}

func (u *unpickler) read(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, u.errorf("truncated: want %d more bytes, have %d", n, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) byte1() (byte, error) {
	b, err := u.read(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (u *unpickler) uint(n int) (uint64, error) {
	b, err := u.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, u.errorf("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, u.errorf("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops everything down to the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errorf("no MARK")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

// load runs the pickle from u.pos to its STOP and returns its value.
func (u *unpickler) load() (any, error) {
	u.stack, u.marks = nil, nil
	u.memo = map[uint64]any{}
	start := u.pos
	for {
		if u.pos-start > maxPickle {
			return nil, u.errorf("pickle is larger than %d bytes", maxPickle)
		}
		op, err := u.byte1()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x80: // PROTO
			v, err := u.byte1()
			if err != nil {
				return nil, err
			}
			if v < 2 || v > 5 {
				return nil, u.errorf("pickle protocol %d; torch.save writes 2 (or 4)", v)
			}
		case 0x95: // FRAME
			if _, err := u.uint(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if len(u.stack) != 0 || len(u.marks) != 0 {
				return nil, u.errorf("STOP with %d values left on the stack", len(u.stack))
			}
			return v, nil
		case '(': // MARK
			u.marks = append(u.marks, len(u.stack))
		case '}': // EMPTY_DICT
			u.push(&pyDict{})
		case ']': // EMPTY_LIST
			u.push(&pyList{})
		case ')': // EMPTY_TUPLE
			u.push(pyTuple{})
		case 't': // TUPLE
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(pyTuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op - 0x84)
			t := make(pyTuple, n)
			for i := n - 1; i >= 0; i-- {
				if t[i], err = u.pop(); err != nil {
					return nil, err
				}
			}
			u.push(t)
		case 'X', 0x8c: // BINUNICODE, SHORT_BINUNICODE
			size := 4
			if op == 0x8c {
				size = 1
			}
			n, err := u.uint(size)
			if err != nil {
				return nil, err
			}
			if n > uint64(len(u.data)) {
				return nil, u.errorf("string of %d bytes in %d", n, len(u.data))
			}
			b, err := u.read(int(n))
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(b) {
				return nil, u.errorf("string is not valid UTF-8")
			}
			u.push(string(b))
		case 'K', 'M', 'J': // BININT1, BININT2, BININT
			size := map[byte]int{'K': 1, 'M': 2, 'J': 4}[op]
			v, err := u.uint(size)
			if err != nil {
				return nil, err
			}
			if op == 'J' {
				u.push(int64(int32(uint32(v))))
			} else {
				u.push(int64(v))
			}
		case 0x8a: // LONG1
			n, err := u.byte1()
			if err != nil {
				return nil, err
			}
			b, err := u.read(int(n))
			if err != nil {
				return nil, err
			}
			u.push(long(b))
		case 'G': // BINFLOAT
			b, err := u.read(8)
			if err != nil {
				return nil, err
			}
			u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'N': // NONE
			u.push(pyNone{})
		case 0x88, 0x89: // NEWTRUE, NEWFALSE
			u.push(op == 0x88)
		case 'c': // GLOBAL
			mod, err := u.line()
			if err != nil {
				return nil, err
			}
			name, err := u.line()
			if err != nil {
				return nil, err
			}
			g, err := u.global(mod, name)
			if err != nil {
				return nil, err
			}
			u.push(g)
		case 0x93: // STACK_GLOBAL
			name, err1 := u.pop()
			mod, err2 := u.pop()
			if err1 != nil || err2 != nil {
				return nil, u.errorf("stack underflow")
			}
			ms, ok1 := mod.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return nil, u.errorf("STACK_GLOBAL of non-strings")
			}
			g, err := u.global(ms, ns)
			if err != nil {
				return nil, err
			}
			u.push(g)
		case 'q', 'r', 0x94: // BINPUT, LONG_BINPUT, MEMOIZE
			var k uint64
			switch op {
			case 'q':
				k, err = u.uint(1)
			case 'r':
				k, err = u.uint(4)
			default:
				k = uint64(len(u.memo))
			}
			if err != nil {
				return nil, err
			}
			v, err := u.top()
			if err != nil {
				return nil, err
			}
			u.memo[k] = v
		case 'h', 'j': // BINGET, LONG_BINGET
			size := 1
			if op == 'j' {
				size = 4
			}
			k, err := u.uint(size)
			if err != nil {
				return nil, err
			}
			v, ok := u.memo[k]
			if !ok {
				return nil, u.errorf("memo key %d is not defined", k)
			}
			u.push(v)
		case 'Q': // BINPERSID
			pid, err := u.pop()
			if err != nil {
				return nil, err
			}
			st, err := u.persistent(pid)
			if err != nil {
				return nil, err
			}
			u.push(st)
		case 'R': // REDUCE
			args, err1 := u.pop()
			fn, err2 := u.pop()
			if err1 != nil || err2 != nil {
				return nil, u.errorf("stack underflow")
			}
			v, err := u.reduce(fn, args)
			if err != nil {
				return nil, err
			}
			u.push(v)
		case 's': // SETITEM
			v, err1 := u.pop()
			k, err2 := u.pop()
			if err1 != nil || err2 != nil {
				return nil, u.errorf("stack underflow")
			}
			if err := u.setItems([]any{k, v}); err != nil {
				return nil, err
			}
		case 'u': // SETITEMS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, u.errorf("SETITEMS with an odd number of values")
			}
			if err := u.setItems(items); err != nil {
				return nil, err
			}
		case 'a', 'e': // APPEND, APPENDS
			var items []any
			if op == 'a' {
				v, err := u.pop()
				if err != nil {
					return nil, err
				}
				items = []any{v}
			} else if items, err = u.popMark(); err != nil {
				return nil, err
			}
			t, err := u.top()
			if err != nil {
				return nil, err
			}
			l, ok := t.(*pyList)
			if !ok {
				return nil, u.errorf("APPEND to a %s", typeName(t))
			}
			l.items = append(l.items, items...)
		case 'b': // BUILD
			state, err := u.pop()
			if err != nil {
				return nil, err
			}
			t, err := u.top()
			if err != nil {
				return nil, err
			}
			// torch.save pickles a state_dict's _metadata attribute this way.
			if _, ok := t.(*pyDict); !ok {
				return nil, u.errorf("BUILD of a %s", typeName(t))
			}
			if _, ok := state.(*pyDict); !ok {
				if _, ok := state.(pyNone); !ok {
					return nil, u.errorf("BUILD with a %s", typeName(state))
				}
			}
		default:
			return nil, u.errorf("opcode 0x%02x is not one torch.save writes for a state_dict", op)
		}
	}
}

// line reads a newline-terminated ASCII line (GLOBAL's operands).
func (u *unpickler) line() (string, error) {
	for i := u.pos; i < len(u.data) && i-u.pos < 256; i++ {
		if u.data[i] == '\n' {
			s := string(u.data[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", u.errorf("unterminated GLOBAL operand")
}

func long(b []byte) any {
	// Little-endian two's complement.
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if len(b) > 0 && b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return pyLong{v}
}

// global resolves a GLOBAL: only the names a state_dict uses.
func (u *unpickler) global(mod, name string) (any, error) {
	switch {
	case mod == "collections" && name == "OrderedDict",
		mod == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_parameter"):
		return pyGlobal{mod, name}, nil
	case mod == "torch":
		if _, ok := storageTypes[name]; ok {
			return pyGlobal{mod, name}, nil
		}
	}
	return nil, u.errorf("the pickle refers to %s.%s, which is not part of a state_dict that torch.save writes (only tensors of float32, float64, float16, bfloat16 and int64 in an OrderedDict are read)", mod, name)
}

// persistent resolves a persistent ID: ('storage', storage class, key,
// location, numel), and in the legacy format a sixth element, the view
// metadata, which must be None.
func (u *unpickler) persistent(pid any) (*storage, error) {
	t, ok := pid.(pyTuple)
	want := 5
	if u.legacy {
		want = 6
	}
	if !ok || len(t) != want {
		return nil, u.errorf("persistent ID is a %s; want a %d-tuple ('storage', type, key, location, size)", typeName(pid), want)
	}
	if s, _ := t[0].(string); s != "storage" {
		return nil, u.errorf("persistent ID of kind %s; want 'storage'", short(t[0]))
	}
	g, ok := t[1].(pyGlobal)
	dt, known := storageTypes[g.name]
	if !ok || g.module != "torch" || !known {
		return nil, u.errorf("storage type %s is not supported", short(t[1]))
	}
	key, ok1 := t[2].(string)
	_, ok2 := t[3].(string)
	numel, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 || numel < 0 || numel > maxStorage/int64(dt.size) {
		return nil, u.errorf("malformed storage reference (%s, %s, %s, %s)", short(t[1]), short(t[2]), short(t[3]), short(t[4]))
	}
	if u.legacy {
		if _, none := t[5].(pyNone); !none {
			return nil, u.errorf("storage %q is a view of another storage (pre-1.0 format), which is not supported", key)
		}
	}
	if st, ok := u.storages[key]; ok {
		if st.dtype != dt || st.numel != numel {
			return nil, u.errorf("storage %q is referred to as %s[%d] and as %s[%d]", key, st.dtype.name, st.numel, dt.name, numel)
		}
		return st, nil
	}
	st := &storage{key: key, dtype: dt, numel: numel}
	u.storages[key] = st
	return st, nil
}

// reduce applies one of the known callables.
func (u *unpickler) reduce(fn, args any) (any, error) {
	g, ok := fn.(pyGlobal)
	a, ok2 := args.(pyTuple)
	if !ok || !ok2 {
		return nil, u.errorf("REDUCE of %s with %s", typeName(fn), typeName(args))
	}
	switch g.name {
	case "OrderedDict":
		if len(a) != 0 {
			return nil, u.errorf("OrderedDict with %d arguments", len(a))
		}
		return &pyDict{ordered: true}, nil
	case "_rebuild_tensor_v2":
		// (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
		if len(a) != 6 && len(a) != 7 {
			return nil, u.errorf("_rebuild_tensor_v2 with %d arguments", len(a))
		}
		st, ok := a[0].(*storage)
		off, ok1 := a[1].(int64)
		size, ok2 := intTuple(a[2])
		stride, ok3 := intTuple(a[3])
		_, ok4 := a[4].(bool)
		if !ok || !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, u.errorf("malformed _rebuild_tensor_v2 arguments")
		}
		if h, ok := a[5].(*pyDict); !ok || len(h.keys) != 0 {
			return nil, u.errorf("a tensor with backward hooks")
		}
		if len(a) == 7 {
			if _, none := a[6].(pyNone); !none {
				if d, ok := a[6].(*pyDict); !ok || len(d.keys) != 0 {
					return nil, u.errorf("a tensor with metadata")
				}
			}
		}
		if len(size) != len(stride) || len(size) > maxRank {
			return nil, u.errorf("tensor with size %v and stride %v", size, stride)
		}
		return &tensorRef{st: st, offset: off, size: size, stride: stride}, nil
	case "_rebuild_parameter":
		// (data, requires_grad, backward_hooks)
		if len(a) != 3 {
			return nil, u.errorf("_rebuild_parameter with %d arguments", len(a))
		}
		t, ok := a[0].(*tensorRef)
		if !ok {
			return nil, u.errorf("_rebuild_parameter of a %s", typeName(a[0]))
		}
		return t, nil
	}
	return nil, u.errorf("%s.%s cannot be called", g.module, g.name)
}

func intTuple(v any) ([]int64, bool) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, false
	}
	out := make([]int64, len(t))
	for i, x := range t {
		if out[i], ok = x.(int64); !ok {
			return nil, false
		}
	}
	return out, true
}

func (u *unpickler) setItems(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	d, ok := t.(*pyDict)
	if !ok {
		return u.errorf("SETITEM on a %s", typeName(t))
	}
	for i := 0; i < len(items); i += 2 {
		d.keys = append(d.keys, items[i])
		d.vals = append(d.vals, items[i+1])
	}
	return nil
}

// typeName names a value's Python type for messages (never its contents,
// which may be large or cyclic).
func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case pyNone:
		return "None"
	case bool:
		return "bool"
	case int64, pyLong:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		if v.ordered {
			return "OrderedDict"
		}
		return "dict"
	case pyGlobal:
		return v.module + "." + v.name
	case *storage:
		return "storage"
	case *tensorRef:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}

// short describes a value for messages: scalars by value (strings cut
// short), anything else by type, so that a hostile pickle's large or
// cyclic structures are never printed.
func short(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("%q", v)
	case int64, bool, float64:
		return fmt.Sprint(v)
	}
	return typeName(v)
}
