// Package onnxpb holds the Go types that protoc-gen-go generates from
// onnx.proto: ONNX's model format (ModelProto, GraphProto, NodeProto,
// TensorProto, ...). onnx.proto is the file Debian's python3-onnx 1.12.0
// installs (/usr/lib/python3/dist-packages/onnx/onnx.proto), unmodified.
// See gen.go for how onnx.pb.go is regenerated and why `go generate ./...`
// does not do it.
package onnxpb
