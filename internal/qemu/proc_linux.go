package qemu

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill cmd's process when the test binary
// that started it exits: a test binary that panics or is killed by go
// test's timeout must not leave an emulated test behind, writing to a
// pipe no one reads (one such orphan once spun for half an hour).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
