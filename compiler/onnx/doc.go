// Package onnx is cnnc's second front end: it translates an ONNX model into
// the spec language (the YAML that compiler/spec reads) and a safetensors
// weights file named the way the spec expects (`<layer>.weight`,
// `<layer>.bias`, `<layer>.running_mean`, ...). `cnnc import` is its
// command; docs/import.md is its user documentation.
//
//	model.onnx ──Import──▶ spec YAML + weights ──compiler/spec──▶ … (the usual pipeline)
//
// The importer does not interpret the model; it maps each ONNX node onto a
// spec layer whose documented meaning (docs/spec.md) is the same, and
// refuses, with a message naming the node, every attribute whose meaning the
// spec cannot express; all the refused nodes of a model are reported in one
// error, grouped by operator. It recognises the patterns torch.onnx.export
// writes: Pad nodes folded into the convolution or pooling that follows,
// ReduceMean over H and W as global average pooling, Reshape to [batch, -1]
// computed from Shape, Gather, Unsqueeze and Concat, MatMul followed by Add
// as a dense layer, a per-channel constant Add, Sub, Mul or Div folded into
// the layer before it (arith.go), channels-last views and channel splits
// and shuffles (channels.go), and GELU, layer norm, SiLU and hardswish
// written out as several nodes (fuse.go, arith.go).
//
// Import checks its own output: the YAML is parsed and compiled by cnnc,
// every layer's inferred shape is compared with the shape ONNX's rules give,
// and the weights are bound to the graph. Models come from users and are
// not trusted: every size is checked before anything is allocated, and
// FuzzImport runs the importer on arbitrary bytes.
package onnx
