//go:build cuda

package gort

/*
#include <stdlib.h>
#include "cnnc_go.h"
*/
import "C"

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// The Go API of a network compiled for CUDA: Model and its methods, New,
// Load and Error are the same for every network. They call the network's C
// API (<pkg>.h) through the fixed names cnnc_go.h gives it (cnnc_model,
// cnnc_create, ...). What they read of the network is generated beside them
// (network.go stands in for it here): the shape constants, GPUs and pkgName.

// Error is an error the CUDA library reported: one of the CNNC_ERR codes
// of the network's C header, and its message.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return pkgName + ": " + e.Msg }

// call runs f on a locked OS thread, so that the thread-local error
// message read after a failure is f's.
func call(f func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := f(); rc != C.CNNC_OK {
		return &Error{Code: int(rc), Msg: C.GoString(C.cnnc_last_error())}
	}
	return nil
}

// handle owns the C model; Close or the Model's cleanup frees it.
type handle struct{ p *C.cnnc_model }

func (h *handle) free() {
	if h.p != nil {
		C.cnnc_destroy(h.p)
		h.p = nil
	}
}

// Model is the network with its weights on the GPU(s). Infer may be
// called from several goroutines; calls on one Model run one at a time.
type Model struct {
	mu sync.Mutex
	h  *handle
}

func newModel(p *C.cnnc_model) *Model {
	m := &Model{h: &handle{p: p}}
	runtime.AddCleanup(m, func(h *handle) { h.free() }, m.h)
	return m
}

// New reads a safetensors weights file from r (tensors named as a PyTorch
// state_dict names them) and puts the weights on the GPU(s).
func New(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	var cm *C.cnnc_model
	if err := call(func() C.int { return C.cnnc_create_from_memory(&cm, p, C.size_t(len(data))) }); err != nil {
		return nil, err
	}
	return newModel(cm), nil
}

// Load reads the weights file at path; see New.
func Load(path string) (*Model, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cm *C.cnnc_model
	if err := call(func() C.int { return C.cnnc_create(&cm, cpath) }); err != nil {
		return nil, err
	}
	return newModel(cm), nil
}

// Infer runs the network on src, Batch images of InputC x InputH x InputW,
// and writes the output of the last layer, Batch times OutputSize values,
// to dst.
func (m *Model) Infer(dst *[OutputLen]float32, src *[InputLen]float32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h.p == nil {
		return errors.New(pkgName + ": Infer on a closed Model")
	}
	return call(func() C.int {
		return C.cnnc_infer(m.h.p, (*C.float)(unsafe.Pointer(&src[0])), (*C.float)(unsafe.Pointer(&dst[0])))
	})
}

// Devices returns the physical GPU each logical GPU runs on.
func (m *Model) Devices() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int, GPUs)
	for i := range out {
		out[i] = int(C.cnnc_device(m.h.p, C.int(i)))
	}
	return out
}

// Close frees the Model's GPU memory. The Model must not be used afterwards.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.h.free()
	return nil
}
