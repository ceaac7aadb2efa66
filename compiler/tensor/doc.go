// Package tensor reads and writes the two tensor file formats cnnc deals
// with: safetensors files (model weights) and NumPy .npy files (inputs and
// reference outputs), and writes every output file atomically
// (WriteFileAtomic).
//
// The readers are strict and hardened: they validate every field of the
// header, name the offending tensor in every error about one, never panic on
// any input, and never allocate on the strength of an unchecked size claim.
// The writers are byte-for-byte deterministic and match the reference
// implementations: WriteSafetensors writes what the Rust safetensors crate
// writes for F32 tensors, and WriteNpy what numpy.save writes for a C-order
// float32 array.
//
// Only the standard library is used. The safetensors reader (safetensors.go,
// json.go, dtype.go) and the check for NaN and ±Inf (finite.go) need nothing
// else from cnnc, so codegen/rt/mkst.go copies them into the generated
// inference packages.
package tensor
