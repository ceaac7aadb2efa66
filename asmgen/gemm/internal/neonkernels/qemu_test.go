//go:build !arm64

package neonkernels

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// TestInstructionCounts counts the instructions each kernel executes under
// qemu (exhaustive suite only): qemu-aarch64-static logs every translated
// block's instructions (-d in_asm) and every block it executes (-d
// exec,nochain), TestCallOnce calls each kernel once, and the blocks of
// each kernel's symbol are summed. It reports, per kernel, the
// instructions executed, the FMAs (vector FMLA, the epilogue's included)
// among them, and the FLOPs of the stored StoreM x StoreN corner per
// instruction.
func TestInstructionCounts(t *testing.T) {
	testenv.SkipUnlessLong(t, "instruction counts under qemu")
	qemu := testenv.LookPath(t, "qemu-aarch64-static", "apt-get install qemu-user-static")
	goTool := testenv.LookPath(t, "go", "https://go.dev/doc/install")
	bin := filepath.Join(t.TempDir(), "neonkernels.test")
	build := exec.Command(goTool, "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=arm64 go test -c: %v\n%s", err, out)
	}
	cmd := exec.Command(qemu, "-d", "in_asm,exec,nochain", bin, "-test.run", "^TestCallOnce$")
	// No preemption signals: qemu logs a block that a pending signal then
	// keeps from running, which would count it once too often.
	cmd.Env = append(os.Environ(), callOnceEnv+"=1", "GODEBUG=asyncpreemptoff=1")
	log, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	counts, err := countBlocks(log, "neonkernels.")
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-44s %5s %9s %9s %7s %9s\n", "kernel", "K", "executed", "FMLA", "FMA %", "FLOP/inst")
	for _, cfg := range configs {
		cnt := counts[cfg.Name]
		if cnt.total == 0 {
			t.Errorf("%s: no instructions counted", cfg.Name)
			continue
		}
		k, _ := countArgs(cfg)
		m, n := cfg.StoreM, cfg.StoreN
		if m == 0 {
			m = cfg.MR
		}
		if n == 0 {
			n = cfg.NR
		}
		flops := 2 * float64(k) * float64(m*n)
		fmt.Fprintf(&b, "%-44s %5d %9d %9d %6.1f%% %9.2f\n", cfg.Name, k, cnt.total, cnt.fmla,
			100*float64(cnt.fmla)/float64(cnt.total), flops/float64(cnt.total))
	}
	t.Logf("instructions executed per call under qemu-aarch64-static:\n%s", b.String())
}

// blockCount is what one kernel executed.
type blockCount struct{ total, fmla int }

// countBlocks reads qemu's -d in_asm,exec,nochain log and returns, per
// function whose symbol contains pkg (named without the package path and
// ABI suffix), the instructions executed and the FMLAs among them.
func countBlocks(r io.Reader, pkg string) (map[string]blockCount, error) {
	blocks := map[uint64]blockCount{} // translated block at a guest PC
	out := map[string]blockCount{}
	name := func(sym string) string {
		i := strings.Index(sym, pkg)
		if i < 0 {
			return ""
		}
		return strings.TrimSuffix(sym[i+len(pkg):], ".abi0")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *blockCount
	var curPC uint64
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "IN: "):
			cur = nil
			if name(line[4:]) != "" {
				cur, curPC = &blockCount{}, 0
			}
		case cur != nil && strings.HasPrefix(line, "0x"):
			// 0x0031a4b0:  4f9b1300  fmla     v0.4s, v24.4s, v27.s[0]
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			if cur.total == 0 {
				pc, err := strconv.ParseUint(strings.TrimSuffix(f[0], ":"), 0, 64)
				if err != nil {
					return nil, fmt.Errorf("qemu log: %q: %v", line, err)
				}
				curPC = pc
			}
			cur.total++
			if f[2] == "fmla" {
				cur.fmla++
			}
		case line == "":
			if cur != nil {
				blocks[curPC] = *cur
				cur = nil
			}
		case strings.HasPrefix(line, "Trace "):
			// Trace 0: 0x7fb6585ba880 [00000000/000000000031a4b0/00000001/00080200] sym
			open, close := strings.IndexByte(line, '['), strings.IndexByte(line, ']')
			if open < 0 || close < open {
				continue
			}
			fn := name(line[close+1:])
			if fn == "" {
				continue
			}
			f := strings.Split(line[open+1:close], "/")
			if len(f) < 2 {
				continue
			}
			pc, err := strconv.ParseUint(f[1], 16, 64)
			if err != nil {
				return nil, fmt.Errorf("qemu log: %q: %v", line, err)
			}
			b, ok := blocks[pc]
			if !ok {
				return nil, fmt.Errorf("qemu log: block %#x of %s executed but not translated", pc, fn)
			}
			n := out[fn]
			n.total += b.total
			n.fmla += b.fmla
			out[fn] = n
		}
	}
	return out, sc.Err()
}
