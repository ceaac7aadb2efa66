module example.com/hello

go 1.26.0

require golang.org/x/sys v0.50.0

require (
	github.com/cnnc/cnnc v0.0.0 // indirect
	github.com/dave/jennifer v1.7.1 // indirect
	github.com/mmcloughlin/avo v0.5.0 // indirect
	golang.org/x/mod v0.6.0 // indirect
	golang.org/x/tools v0.2.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

// cnnc is a tool of this module: go generate runs it, and go.sum keeps its
// dependencies.
tool github.com/cnnc/cnnc/cmd/cnnc

// The example uses the cnnc of this repository; a user's module would
// require a released version instead.
replace github.com/cnnc/cnnc => ../..
