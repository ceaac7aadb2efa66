//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner returns what is wrong with fi for a file cnnc executes or a
// directory on the way to one: an owner other than the user, or write
// permission for group or others. It returns "" if nothing is.
func checkOwner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "has no owner cnnc can read"
	}
	if uid := os.Getuid(); int64(st.Uid) != int64(uid) {
		return fmt.Sprintf("belongs to user %d, not to you (user %d)", st.Uid, uid)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Sprintf("can be written by its group or others (mode %04o)", perm)
	}
	return ""
}
