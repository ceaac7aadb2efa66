//go:build !arm64

package neonkernels

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cnnc/cnnc/internal/testenv"
)

// TestQemu builds this package's tests for arm64 and runs them under
// qemu-aarch64-static: every kernel against gemm.Reference
// (TestKernels, TestActivationRange). They take about a second under
// emulation, so the quick suite runs them all; the exhaustive suite
// (CNNC_LONG=1) also runs each benchmark kernel once at K=1152.
func TestQemu(t *testing.T) {
	qemu := testenv.LookPath(t, "qemu-aarch64-static", "apt-get install qemu-user-static")
	goTool := testenv.LookPath(t, "go", "https://go.dev/doc/install")
	bin := filepath.Join(t.TempDir(), "neonkernels.test")
	build := exec.Command(goTool, "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=arm64 go test -c: %v\n%s", err, out)
	}
	t.Logf("built the arm64 test binary in %v", time.Since(start).Round(time.Millisecond))
	args := []string{bin, "-test.run", "^(TestKernels|TestActivationRange)$"}
	if testenv.Long() {
		args = append(args, "-test.bench", ".", "-test.benchtime", "1x")
	}
	start = time.Now()
	out, err := exec.Command(qemu, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-aarch64-static %v: %v\n%s", args[1:], err, out)
	}
	t.Logf("ran under qemu in %v:\n%s", time.Since(start).Round(time.Millisecond), out)
}
