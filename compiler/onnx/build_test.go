package onnx

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/cnnc/cnnc/compiler/onnx/onnxpb"
)

// graphBuilder makes small ONNX models by hand, with the generated types,
// for the tests of mappings and refusals.
type graphBuilder struct {
	m *pb.ModelProto
	g *pb.GraphProto
}

// newGraph starts a model (ai.onnx opset) whose input x is [N, c, h, w]
// with a symbolic batch.
func newGraph(opset int64, c, h, w int64) *graphBuilder {
	g := &pb.GraphProto{Name: proto.String("test")}
	g.Input = append(g.Input, valueInfo("x", -1, c, h, w))
	m := &pb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("cnnc test"),
		OpsetImport:  []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph:        g,
	}
	return &graphBuilder{m: m, g: g}
}

// valueInfo describes a FLOAT tensor; a dimension -1 is symbolic ("N").
func valueInfo(name string, dims ...int64) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		if d < 0 {
			shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}})
		} else {
			shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
	}
	return &pb.ValueInfoProto{
		Name: proto.String(name),
		Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(pb.TensorProto_FLOAT)),
			Shape:    shape,
		}}},
	}
}

// node adds a node; ins and outs are tensor names.
func (b *graphBuilder) node(op, name string, ins, outs []string, attrs ...*pb.AttributeProto) *graphBuilder {
	b.g.Node = append(b.g.Node, &pb.NodeProto{
		OpType: proto.String(op), Name: proto.String(name), Input: ins, Output: outs, Attribute: attrs,
	})
	return b
}

// weight adds a FLOAT initializer filled with a simple deterministic ramp.
func (b *graphBuilder) weight(name string, dims ...int64) *graphBuilder {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(i%7-3) * 0.25
	}
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{
		Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), FloatData: data,
	})
	return b
}

// floats adds a FLOAT initializer with the given values; dims nil is a
// scalar.
func (b *graphBuilder) floats(name string, dims []int64, v ...float32) *graphBuilder {
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{
		Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), FloatData: v,
	})
	return b
}

// ints adds an INT64 initializer.
func (b *graphBuilder) ints(name string, dims []int64, v ...int64) *graphBuilder {
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{
		Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(pb.TensorProto_INT64)), Int64Data: v,
	})
	return b
}

// output names the graph output.
func (b *graphBuilder) output(name string) *graphBuilder {
	b.g.Output = append(b.g.Output, &pb.ValueInfoProto{Name: proto.String(name)})
	return b
}

func (b *graphBuilder) bytes(t testing.TB) []byte {
	t.Helper()
	data, err := proto.Marshal(b.m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func aInt(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func aInts(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: v}
}

func aFloat(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func aStr(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

type pbAttr = pb.AttributeProto

func scalarFloat(name string, v float32) *pb.TensorProto {
	return &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), FloatData: []float32{v}}
}

func negInf() float64 { return math.Inf(-1) }

func pbExternal() *pb.TensorProto_DataLocation { return pb.TensorProto_EXTERNAL.Enum() }

func strPtr(s string) *string { return &s }
