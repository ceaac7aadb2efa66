// Package fashion is a real trained network compiled by cnnc: a
// LeNet-5-style classifier for Fashion-MNIST (fashionnet.yaml), trained
// by train.py with PyTorch, compiled into ./fashionnet with the weights
// embedded. Its test classifies the whole test set with the generated code,
// from the raw idx bytes through the spec's preprocessing, and requires
// PyTorch's prediction for every image. See README.md.
package fashion

//go:generate go run ../../cmd/cnnc compile fashionnet.yaml -o fashionnet -embed fashionnet.safetensors
