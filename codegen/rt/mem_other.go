//go:build !linux

package rt

// rtMap maps nothing here: rtAlloc takes its buffers from the Go heap.
func rtMap(size int) []byte { return nil }

// rtUnmap is never called here.
func rtUnmap(b []byte) {}
