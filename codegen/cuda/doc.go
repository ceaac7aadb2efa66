// Package cuda is cnnc's CUDA back end (placeholder doc, rewritten below).
package cuda
