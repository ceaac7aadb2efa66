//go:build !amd64 || purego

package kernels

// haveAsm reports whether the kernels are the assembly ones.
const haveAsm = false
