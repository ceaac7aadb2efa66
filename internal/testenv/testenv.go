// Package testenv is what cnnc's tests share about where they run: whether
// the exhaustive suites are on, and what a test does when an outside tool
// it needs is missing.
//
// `go test ./...` runs the quick suite: every generated-code path on a
// representative set of networks, in a few minutes on two cores. The
// exhaustive suites (the whole end-to-end zoo at every batch size, both
// AlexNets end to end, the full CUDA emulation, the reference engine on the
// large networks) run when the environment variable CNNC_LONG is 1:
//
//	CNNC_LONG=1 go test -timeout 60m ./...
//
// .ci/run sets it, and also runs the race detector over the runtime and
// the generated packages.
//
// A test that needs a tool cnnc does not ship (clang, Graphviz's dot,
// Debian's PyTorch, a data set) skips without it and names the command
// that installs it, except under CI (the environment variable CI set, as
// .ci/run runs), where a missing tool is a failure: CI installs them all.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// LongEnv is the environment variable that turns the exhaustive suites on.
const LongEnv = "CNNC_LONG"

// Long reports whether the exhaustive suites run: CNNC_LONG=1.
func Long() bool { return os.Getenv(LongEnv) == "1" }

// SkipUnlessLong skips t in the quick suite, saying what it leaves out.
func SkipUnlessLong(t testing.TB, what string) {
	t.Helper()
	if !Long() {
		t.Skipf("%s: exhaustive suite only; set %s=1 to run it (.ci/run does)", what, LongEnv)
	}
}

// CI reports whether the tests run under CI, which installs every tool.
func CI() bool { return os.Getenv("CI") != "" }

// Missing skips t because what is missing, naming install, the command
// that installs it; under CI it fails t instead.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	msg := what + " is missing; install it with: " + install
	if CI() {
		t.Fatal(msg + " (CI must install it: .ci/run)")
	}
	t.Skip(msg)
}

// LookPath returns the path of the program name, or calls Missing.
func LookPath(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" (on PATH)", install)
	}
	return path
}

// Python is the interpreter the PyTorch tests run: Debian's, whose
// python3-torch they need (a python3 earlier on PATH may be another).
const Python = "/usr/bin/python3"

// PythonInstall installs what the Python tests import.
const PythonInstall = "apt-get install python3-torch python3-torchvision python3-onnx python3-numpy libopenblas0-pthread"

// NeedPython calls Missing unless Python imports every module.
func NeedPython(t testing.TB, modules ...string) {
	t.Helper()
	cmd := exec.Command(Python, "-c", "import "+strings.Join(modules, ", "))
	if out, err := cmd.CombinedOutput(); err != nil {
		Missing(t, Python+" with "+strings.Join(modules, ", ")+" ("+lastLine(out)+")", PythonInstall)
	}
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
