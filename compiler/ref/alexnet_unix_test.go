//go:build unix

package ref

import (
	"github.com/cnnc/cnnc/internal/testenv"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// TestAlexNetTime runs AlexNet at batch 2 (about 2.9 GFLOP) and checks it
// finishes well inside the budget the reference engine is meant to meet. It
// measures the process's CPU time (user + system, all threads), not wall
// time, so that a loaded machine does not make it flaky.
func TestAlexNetTime(t *testing.T) {
	testenv.SkipUnlessLong(t, "the reference engine on AlexNet")
	r := rand.New(rand.NewPCG(9, 9))
	g, p := alexNet(r)
	x := randSlice(r, 2*3*227*227)
	wall, cpu0 := time.Now(), cpuTime(t)
	res := mustRun(t, g, p, x, 2)
	d := cpuTime(t) - cpu0
	t.Logf("AlexNet, batch 2: %v CPU, %v wall", d, time.Since(wall))
	if d > 30*time.Second {
		t.Errorf("AlexNet at batch 2 took %v of CPU time, want well under 30 s", d)
	}
	if len(res.Output(g)) != 2000 {
		t.Errorf("output has %d values", len(res.Output(g)))
	}
}

// cpuTime returns the CPU time the process has used so far.
func cpuTime(t *testing.T) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
