// Package veckernels holds asmgen/vec's kernels generated into a package of
// their own, so that they can be tested directly against the Go formula:
// vec_amd64.s and vec_amd64.go are written by TestGenerated with -update
// (go generate runs it) and checked for freshness by the same test.
package veckernels

//go:generate go test -run TestGenerated -update
