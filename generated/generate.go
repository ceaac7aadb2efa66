// Package generated holds packages that cnnc compiled from the specs in
// spec/. They are committed so that users can read what cnnc writes and so
// that CI can check that cnnc still writes exactly the same bytes: CI runs
// `go generate ./...` and fails on any difference.
package generated

//go:generate go run ../cmd/cnnc compile ../spec/alexnet.yaml -o alexnet
