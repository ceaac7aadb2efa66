//go:build !linux

package qemu

import "os/exec"

// dieWithParent does nothing: only Linux can tie a child's life to its
// parent's (Pdeathsig).
func dieWithParent(cmd *exec.Cmd) {}
