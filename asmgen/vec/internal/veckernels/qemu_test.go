//go:build !arm64

package veckernels

import (
	"testing"

	"github.com/cnnc/cnnc/internal/qemu"
)

// TestQemu builds this package's tests for arm64 and runs them under
// qemu-aarch64-static: every NEON routine against the formulas, as the
// tests above run the AVX ones here.
func TestQemu(t *testing.T) {
	bin := qemu.BuildTest(t, ".")
	t.Logf("%s", qemu.Run(t, bin, nil, "-test.run", "^Test", "-test.skip", "^TestGenerated$"))
}
