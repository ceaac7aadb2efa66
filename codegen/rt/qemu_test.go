//go:build !arm64

package rt

import (
	"testing"

	"github.com/cnnc/cnnc/internal/qemu"
	"github.com/cnnc/cnnc/internal/testenv"
)

// TestQemu builds this package's tests for arm64 and runs them under
// qemu-aarch64-static, so that the wrappers of *_arm64.go and the NEON
// kernels they call (vec_arm64.s) are tested as the amd64 ones are here:
// every test that runs the implementations available() lists. The quick
// suite leaves out the three that take seconds under emulation and call no
// NEON kernel (TestWinograd's transforms are Go on arm64); the exhaustive
// suite (CNNC_LONG=1) runs them all.
func TestQemu(t *testing.T) {
	bin := qemu.BuildTest(t, ".")
	var args []string
	if !testenv.Long() {
		args = []string{"-test.skip", "^(TestWinograd|TestPackWeights|TestArith)$"}
	}
	t.Logf("%s", qemu.Run(t, bin, nil, args...))
}
