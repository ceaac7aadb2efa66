// Package qemu runs Go tests built for arm64 under qemu-aarch64-static
// (Debian's qemu-user-static) on machines that are not arm64, and counts
// the instructions they execute, per function.
//
// Debian's static qemu loads no TCG plugins, so Count reads qemu's own
// log instead: -d in_asm prints each translated block's instructions once,
// -d exec,nochain prints every block executed (nochain: no block jumps
// straight to the next without being logged). Summing, per executed block,
// its instructions gives exact counts per function, provided no signal
// interrupts the program (a block logged and then kept from running by a
// pending signal would count once too often): Count runs it with
// GODEBUG=asyncpreemptoff=1.
package qemu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cnnc/cnnc/internal/testenv"
)

// Command is the emulator.
const Command = "qemu-aarch64-static"

// Install is what installs Command.
const Install = "apt-get install qemu-user-static"

// BuildTest builds the tests of the package in directory dir (relative to
// the calling test's package, e.g. ".") for arm64 and returns the path of
// the test binary, in a temporary directory of t. It skips t (fails it
// under CI) when qemu or go is missing.
func BuildTest(t testing.TB, dir string) string {
	t.Helper()
	testenv.LookPath(t, Command, Install)
	goTool := testenv.LookPath(t, "go", "https://go.dev/doc/install")
	bin := filepath.Join(t.TempDir(), "arm64.test")
	build := exec.Command(goTool, "test", "-c", "-o", bin, dir)
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=arm64 go test -c %s: %v\n%s", dir, err, out)
	}
	return bin
}

// Run runs bin with args under qemu, with env added to the environment,
// and returns its combined output; it fails t if the program fails. A run
// that ends in a crash rather than a test failure (see emulatorCrash) is
// logged and tried once more.
func Run(t testing.TB, bin string, env []string, args ...string) []byte {
	t.Helper()
	var out []byte
	retry(t, bin, args, func() (printed []byte, err error) {
		cmd := exec.Command(Command, append([]string{bin}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		dieWithParent(cmd)
		out, err = cmd.CombinedOutput()
		return out, err
	})
	return out
}

// retry calls run, a run of bin with args under qemu that returns what
// the program printed, until it succeeds, fails a test, or has crashed
// tries times (emulatorCrash); each crash but the last is logged. A
// failure fails t, with what the program printed.
func retry(t testing.TB, bin string, args []string, run func() (printed []byte, err error)) {
	t.Helper()
	for try := 1; ; try++ {
		printed, err := run()
		if err == nil {
			return
		}
		if try < tries && emulatorCrash(err, printed) {
			t.Logf("%s %s %v crashed (%v); trying again. Its output ended:\n%s", Command, filepath.Base(bin), args, err, tail(printed))
			continue
		}
		t.Fatalf("%s %s %v: %v\n%s", Command, filepath.Base(bin), args, err, printed)
	}
}

// tries is how many times retry runs a program that crashes.
// Go programs under qemu-user crash now and then, rarely and mostly on a
// loaded machine, in the runtime or in qemu itself (a fatal signal, exit
// status 2 with no test failed): the exhaustive suite's qemu counts met
// one such crash in about thirty CI runs. A kernel that crashes crashes
// every time and still fails the test.
const tries = 2

// emulatorCrash reports whether a program that ended with err and printed
// out crashed rather than failed a test: a Go test binary whose test fails
// exits with status 1 and prints "--- FAIL"; a panicking test prints
// "--- FAIL" too.
func emulatorCrash(err error, out []byte) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) || bytes.Contains(out, []byte("--- FAIL")) {
		return false
	}
	return exit.ExitCode() != 1
}

// tail is the last lines of out, for a log.
func tail(out []byte) []byte {
	const max = 40
	lines := bytes.SplitAfter(out, []byte("\n"))
	if len(lines) > max {
		lines = lines[len(lines)-max:]
	}
	return bytes.Join(lines, nil)
}

// Counts is what one function executed.
type Counts struct {
	Instructions int
	// FMA counts the vector fused multiply-adds (fmla, fmls), by element
	// or not: each is 4 float32 FMAs.
	FMA int
}

// Count runs bin with args under qemu, with env added to the environment,
// and returns the instructions executed per function: name maps a symbol
// (e.g. "github.com/x/p.f.abi0") to the name to count it under, or "" to
// leave it out.
func Count(t testing.TB, bin string, env []string, name func(symbol string) string, args ...string) map[string]Counts {
	t.Helper()
	return CountPhases(t, bin, env, name, "", args...)[0]
}

// CountPhases is Count, split into phases by calls of the function whose
// symbol is marker: phase 0 is what runs before its first call, phase i
// what runs after its i-th. The marker's own instructions are not counted,
// and after its first call only those of the thread that called it last
// are: qemu runs each thread of the program as a thread of its own and
// logs them all, so the caller should run what it measures with
// runtime.LockOSThread, and the other threads (idle workers, sysmon) stay
// out of the counts. A program marks phases with a //go:noinline function
// of its own, e.g. between the layers of a network.
func CountPhases(t testing.TB, bin string, env []string, name func(symbol string) string, marker string, args ...string) []map[string]Counts {
	t.Helper()
	var phases []map[string]Counts
	retry(t, bin, args, func() (printed []byte, err error) {
		phases, printed, err = countPhases(bin, env, name, marker, args...)
		return printed, err
	})
	return phases
}

// countPhases is one run of CountPhases. out is what the program printed:
// its standard output, then the lines of its standard error that are not
// qemu's log (a panic's or a fatal error's trace).
func countPhases(bin string, env []string, name func(symbol string) string, marker string, args ...string) ([]map[string]Counts, []byte, error) {
	cmd := exec.Command(Command, append([]string{"-d", "in_asm,exec,nochain", bin}, args...)...)
	dieWithParent(cmd)
	cmd.Env = append(os.Environ(), append(env, "GODEBUG=asyncpreemptoff=1")...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	log, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	var stderr bytes.Buffer
	counts, err := parse(io.TeeReader(log, &programLines{w: &stderr}), name, marker)
	if err != nil {
		io.Copy(io.Discard, log)
	}
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = werr
	}
	return counts, append(stdout.Bytes(), stderr.Bytes()...), err
}

// programLines passes on to w the lines written to it that are not part of
// qemu's -d in_asm,exec,nochain log, keeping the last 200 KB or so.
type programLines struct {
	w       *bytes.Buffer
	partial []byte
}

func (p *programLines) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(p.partial) < 4096 {
				p.partial = append(p.partial, b...)
			}
			break
		}
		line := append(p.partial, b[:i+1]...)
		p.partial, b = p.partial[:0], b[i+1:]
		if !isLogLine(line) {
			if p.w.Len() > 200<<10 {
				p.w.Next(100 << 10)
			}
			p.w.Write(line)
		}
	}
	return n, nil
}

// isLogLine reports whether line (with its newline) is one of qemu's log:
// a block's header or instruction, an executed block, a separator or a
// blank line.
func isLogLine(line []byte) bool {
	line = bytes.TrimSuffix(line, []byte("\n"))
	for _, p := range []string{"IN: ", "0x", "Trace ", "----", "OBJD"} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return len(bytes.TrimSpace(line)) == 0
}

// parse reads a -d in_asm,exec,nochain log, starting a new phase at each
// entry into marker's blocks (none if marker is "").
func parse(r io.Reader, name func(string) string, marker string) ([]map[string]Counts, error) {
	blocks := map[uint64]Counts{} // the translated block at a guest PC
	phases := []map[string]Counts{{}}
	inMarker, markCPU := false, ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *Counts
	var curPC uint64
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "IN: "):
			// IN: github.com/x/p.f.abi0, then one line per instruction:
			// 0x0031a4b0:  4f9b1300  fmla     v0.4s, v24.4s, v27.s[0]
			cur = nil
			if name(line[4:]) != "" {
				cur, curPC = &Counts{}, 0
			}
		case cur != nil && strings.HasPrefix(line, "0x"):
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			if cur.Instructions == 0 {
				pc, err := strconv.ParseUint(strings.TrimSuffix(f[0], ":"), 0, 64)
				if err != nil {
					return nil, fmt.Errorf("qemu log: %q: %v", line, err)
				}
				curPC = pc
			}
			cur.Instructions++
			if (f[2] == "fmla" || f[2] == "fmls") && strings.Contains(line, ".4s") {
				cur.FMA++
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
			sym := strings.TrimSpace(line[close+1:])
			if marker != "" {
				// Trace CPU: ..., CPU being the thread's.
				cpu, _, _ := strings.Cut(line[len("Trace "):], ":")
				if sym == marker {
					if !inMarker {
						phases = append(phases, map[string]Counts{})
					}
					inMarker, markCPU = true, cpu
					continue
				}
				if markCPU != "" && cpu != markCPU {
					continue
				}
				inMarker = false
			}
			fn := name(sym)
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
			out := phases[len(phases)-1]
			n := out[fn]
			n.Instructions += b.Instructions
			n.FMA += b.FMA
			out[fn] = n
		}
	}
	return phases, sc.Err()
}
