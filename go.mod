module github.com/cnnc/cnnc

go 1.26.0

require (
	github.com/dave/jennifer v1.7.1
	github.com/google/go-cmp v0.7.0
	github.com/mmcloughlin/avo v0.5.0
	golang.org/x/mod v0.6.0
	golang.org/x/sys v0.50.0
	google.golang.org/protobuf v1.36.12
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/tools v0.2.0 // indirect

tool google.golang.org/protobuf/cmd/protoc-gen-go
