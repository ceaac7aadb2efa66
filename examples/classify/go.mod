module example.com/classify

go 1.26.0

// The example uses the cnnc of this repository; a user's module would
// require a released version instead.
replace github.com/cnnc/cnnc => ../..

require (
	github.com/cnnc/cnnc v0.0.0
	golang.org/x/image v0.47.0
)

require golang.org/x/sys v0.50.0 // indirect
