package qemu

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	log := `IN: p.f.abi0
0x00001000:  f94007e0  ldr      x0, [sp, #8]
0x00001004:  4f9b1300  fmla     v0.4s, v24.4s, v27.s[0]
0x00001008:  54ffffe1  b.ne     #0x1000

IN: p.g
0x00002000:  1e200800  fmul     s0, s0, s0

Trace 0: 0x7f00 [00000000/0000000000001000/00000001/00080200] p.f.abi0
Trace 0: 0x7f00 [00000000/0000000000002000/00000001/00080200] p.g
Trace 0: 0x7f00 [00000000/0000000000001000/00000001/00080200] p.f.abi0
IN: p.f.abi0
0x00001004:  4f9b1300  fmla     v0.4s, v24.4s, v27.s[0]

Trace 0: 0x7f00 [00000000/0000000000001004/00000001/00080200] p.f.abi0
`
	got, err := parse(strings.NewReader(log), func(s string) string {
		if strings.HasPrefix(s, "p.f") {
			return "f"
		}
		return ""
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]Counts{{"f": {Instructions: 7, FMA: 3}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}

	// p.g marks phases: f before it and f after it, on its thread only.
	log += `Trace 1: 0x7f00 [00000000/0000000000001000/00000001/00080200] p.f.abi0
`
	got, err = parse(strings.NewReader(log), func(s string) string { return s[:3] }, "p.g")
	if err != nil {
		t.Fatal(err)
	}
	want = []map[string]Counts{{"p.f": {Instructions: 3, FMA: 1}}, {"p.f": {Instructions: 4, FMA: 2}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("phases: mismatch (-want +got):\n%s", d)
	}
}

// TestProgramLines checks that what a crashing program prints to standard
// error survives qemu's log around it, split across writes anywhere.
func TestProgramLines(t *testing.T) {
	log := "IN: p.f.abi0\n0x00001000:  f94007e0  ldr      x0, [sp, #8]\n\n" +
		"Trace 0: 0x7f00 [00000000/0000000000001000/00000001/00080200] p.f.abi0\n" +
		"----------------\nfatal error: unexpected signal\n" +
		"Trace 0: 0x7f00 [00000000/0000000000001000/00000001/00080200] p.f.abi0\n" +
		"goroutine 1 [running]:\n"
	want := "fatal error: unexpected signal\ngoroutine 1 [running]:\n"
	for size := 1; size <= len(log); size++ {
		var b bytes.Buffer
		p := &programLines{w: &b}
		for s := log; len(s) > 0; {
			n := min(size, len(s))
			p.Write([]byte(s[:n]))
			s = s[n:]
		}
		if b.String() != want {
			t.Fatalf("writes of %d bytes: got %q, want %q", size, b.String(), want)
		}
	}
}

// TestEmulatorCrash runs programs that fail in each way Run tells apart.
func TestEmulatorCrash(t *testing.T) {
	for _, c := range []struct {
		script string
		crash  bool
	}{
		{"echo '--- FAIL: TestX'; exit 1", false},
		{"echo 'panic: x'; echo '--- FAIL: TestX'; exit 2", false},
		{"echo FAIL; exit 1", false},
		{"echo 'fatal error: unexpected signal'; exit 2", true},
		{"kill -SEGV $$", true},
	} {
		out, err := exec.Command("sh", "-c", c.script).CombinedOutput()
		if err == nil {
			t.Fatalf("%q did not fail", c.script)
		}
		if got := emulatorCrash(err, out); got != c.crash {
			t.Errorf("%q: emulatorCrash = %v, want %v", c.script, got, c.crash)
		}
	}
	if emulatorCrash(errors.New("no such file"), nil) {
		t.Error("an error that is not an exit counts as a crash")
	}
}
