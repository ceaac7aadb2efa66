package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
	"github.com/cnnc/cnnc/compiler/tensor"
)

// maxRank bounds the rank of every tensor the importer handles; CNN tensors
// have at most 5 dimensions and shape arithmetic on more is refused.
const maxRank = 8

// maxElems bounds the elements of any tensor the importer builds, constant
// or activation (per image): cnnc's own limit.
const maxElems = 1 << 31

// constant is a tensor whose value is known at import time: an initializer,
// a Constant node's value, or the result of shape arithmetic. Float tensors
// are kept as float32 (what cnnc's weights are), integer tensors as int64.
type constant struct {
	dims  []int
	isInt bool
	f     []float32
	i     []int64
	// batch marks the elements of an integer tensor that stand for the
	// batch size: Shape of an activation yields one, and the importer
	// follows it through Gather, Unsqueeze, Concat and the like so that a
	// Reshape to [batch, -1] can be recognised as a flatten.
	batch []bool
}

func (c *constant) len() int {
	if c.isInt {
		return len(c.i)
	}
	return len(c.f)
}

func (c *constant) kind() string {
	if c.isInt {
		return "integer"
	}
	return "float"
}

// numElems returns the product of dims, or false if a dimension is negative
// or the product exceeds maxElems.
func numElems(dims []int64) (int, bool) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 || d > maxElems {
			return 0, false
		}
		n *= d
		if n > maxElems {
			return 0, false
		}
	}
	return int(n), true
}

// dataTypeName names an ONNX TensorProto data type for messages.
func dataTypeName(t int32) string {
	if s, ok := pb.TensorProto_DataType_name[t]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", t)
}

// decodeTensor converts a TensorProto into a constant. Float types (FLOAT,
// DOUBLE, FLOAT16, BFLOAT16) become float32, integer types (INT64, INT32,
// and the narrower ones) int64. External and segmented data are refused.
// Every length is checked against the dimensions before anything is
// allocated beyond the data already in memory.
func decodeTensor(t *pb.TensorProto) (*constant, error) {
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return nil, fmt.Errorf("tensor %q keeps its data in an external file, which cnnc import does not read; save the model with the data inside (onnx.save_model(m, path, save_as_external_data=False))", t.GetName())
	}
	if t.Segment != nil {
		return nil, fmt.Errorf("tensor %q is segmented, which cnnc import does not support", t.GetName())
	}
	if len(t.Dims) > maxRank {
		return nil, fmt.Errorf("tensor %q has %d dimensions, more than %d", t.GetName(), len(t.Dims), maxRank)
	}
	n, ok := numElems(t.Dims)
	if !ok {
		return nil, fmt.Errorf("tensor %q has dimensions %v: negative or more than %d elements", t.GetName(), t.Dims, maxElems)
	}
	c := &constant{dims: make([]int, len(t.Dims))}
	for i, d := range t.Dims {
		c.dims[i] = int(d)
	}
	dt := t.GetDataType()
	raw := t.RawData
	size := 0
	switch pb.TensorProto_DataType(dt) {
	case pb.TensorProto_FLOAT, pb.TensorProto_INT32, pb.TensorProto_UINT32:
		size = 4
	case pb.TensorProto_DOUBLE, pb.TensorProto_INT64, pb.TensorProto_UINT64:
		size = 8
	case pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16, pb.TensorProto_INT16, pb.TensorProto_UINT16:
		size = 2
	case pb.TensorProto_INT8, pb.TensorProto_UINT8, pb.TensorProto_BOOL:
		size = 1
	default:
		return nil, fmt.Errorf("tensor %q has type %s, which cnnc import does not read", t.GetName(), dataTypeName(dt))
	}
	// The number of values present, from whichever field holds them.
	var have int
	useRaw := raw != nil
	if useRaw {
		if len(raw)%size != 0 {
			return nil, fmt.Errorf("tensor %q: raw data of %d bytes is not a whole number of %d-byte %s values", t.GetName(), len(raw), size, dataTypeName(dt))
		}
		have = len(raw) / size
	} else {
		switch pb.TensorProto_DataType(dt) {
		case pb.TensorProto_FLOAT:
			have = len(t.FloatData)
		case pb.TensorProto_DOUBLE:
			have = len(t.DoubleData)
		case pb.TensorProto_INT64:
			have = len(t.Int64Data)
		case pb.TensorProto_UINT32, pb.TensorProto_UINT64:
			have = len(t.Uint64Data)
		default: // INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16, BFLOAT16
			have = len(t.Int32Data)
		}
	}
	if have != n {
		return nil, fmt.Errorf("tensor %q has %d values; its dimensions %v call for %d", t.GetName(), have, t.Dims, n)
	}
	le := binary.LittleEndian
	switch pb.TensorProto_DataType(dt) {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		c.f = make([]float32, n)
		for k := range n {
			switch pb.TensorProto_DataType(dt) {
			case pb.TensorProto_FLOAT:
				if useRaw {
					c.f[k] = math.Float32frombits(le.Uint32(raw[4*k:]))
				} else {
					c.f[k] = t.FloatData[k]
				}
			case pb.TensorProto_DOUBLE:
				if useRaw {
					c.f[k] = float32(math.Float64frombits(le.Uint64(raw[8*k:])))
				} else {
					c.f[k] = float32(t.DoubleData[k])
				}
			case pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
				var h uint16
				if useRaw {
					h = le.Uint16(raw[2*k:])
				} else {
					h = uint16(t.Int32Data[k])
				}
				if pb.TensorProto_DataType(dt) == pb.TensorProto_FLOAT16 {
					c.f[k] = tensor.Float16ToFloat32(h)
				} else {
					c.f[k] = tensor.BFloat16ToFloat32(h)
				}
			}
		}
	default:
		c.isInt = true
		c.i = make([]int64, n)
		c.batch = make([]bool, n)
		for k := range n {
			var v int64
			switch {
			case useRaw && size == 8:
				v = int64(le.Uint64(raw[8*k:]))
			case useRaw && size == 4 && pb.TensorProto_DataType(dt) == pb.TensorProto_UINT32:
				v = int64(le.Uint32(raw[4*k:]))
			case useRaw && size == 4:
				v = int64(int32(le.Uint32(raw[4*k:])))
			case useRaw && size == 2 && pb.TensorProto_DataType(dt) == pb.TensorProto_UINT16:
				v = int64(le.Uint16(raw[2*k:]))
			case useRaw && size == 2:
				v = int64(int16(le.Uint16(raw[2*k:])))
			case useRaw && pb.TensorProto_DataType(dt) == pb.TensorProto_INT8:
				v = int64(int8(raw[k]))
			case useRaw:
				v = int64(raw[k])
			case pb.TensorProto_DataType(dt) == pb.TensorProto_INT64:
				v = t.Int64Data[k]
			case pb.TensorProto_DataType(dt) == pb.TensorProto_UINT32, pb.TensorProto_DataType(dt) == pb.TensorProto_UINT64:
				v = int64(t.Uint64Data[k])
			default:
				v = int64(t.Int32Data[k])
			}
			c.i[k] = v
		}
	}
	return c, nil
}

// scalarFloat returns the value of a one-element constant.
func (c *constant) scalarFloat() (float64, bool) {
	if c == nil || c.len() != 1 {
		return 0, false
	}
	if c.isInt {
		if c.batch[0] {
			return 0, false
		}
		return float64(c.i[0]), true
	}
	return float64(c.f[0]), true
}
