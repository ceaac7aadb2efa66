//go:build protoc

package onnxpb

// The generated code is committed; `go generate ./...` (and so CI) does not
// regenerate it, because protoc's version is written into the output and
// protoc is not pinned by go.mod. To regenerate after replacing onnx.proto,
// with protoc installed (Debian: apt install protobuf-compiler, which is
// libprotoc 3.21.12, the version that made the committed file):
//
//	go generate -tags protoc ./compiler/onnx/onnxpb
//
// protoc-gen-go is the version go.mod pins as a tool. TestGeneratedMatchesProto
// checks that onnx.pb.go describes exactly the messages, fields and enums of
// onnx.proto, so a .proto edited without regenerating fails the tests.

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/cnnc/cnnc/compiler/onnx/onnxpb onnx.proto"
