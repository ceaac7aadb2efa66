package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The cache of `cnnc run` and `cnnc bench`: drivers built from generated
// packages, one directory per hash of the generated code,
//
//	<os.UserCacheDir()>/cnnc/run/<hash>/driver
//
// cnnc executes what it finds there, so the cache must be the user's own:
// cnnc creates its directories 0700, and before it runs a driver it checks
// the directory cnnc, run, <hash> and the driver itself with checkPrivate:
// owned by the user, not writable by group or others, and no symbolic
// links. Anything else is refused with a message naming the path.
//
// A build directory appears whole or not at all: it is built in a unique
// temporary directory beside it and renamed into place. Of concurrent
// builds of one hash, the first rename wins and the others use its driver.
//
// Where there is no user cache directory (HOME and XDG_CACHE_HOME unset,
// as under cron or systemd), nothing is cached: the driver is built in a
// private temporary directory, removed when the command is done, never in
// a shared path such as /tmp/cnnc.

// cacheRoot returns <os.UserCacheDir()>/cnnc/run, creating it 0700 if need
// be and checking it and its parent cnnc with checkPrivate. It reports
// errNoCache, wrapped, when the user has no cache directory.
func cacheRoot() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoCache, err)
	}
	top := filepath.Join(base, "cnnc")
	root := filepath.Join(top, "run")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	// top itself may be a symbolic link the user made: it is followed,
	// and what it leads to is checked. Below it there are none.
	fi, err := os.Stat(top)
	if err != nil {
		return "", err
	}
	if err := checkPrivate(top, fi, true); err != nil {
		return "", err
	}
	if err := checkPath(root, true); err != nil {
		return "", err
	}
	return root, nil
}

// errNoCache says that the user has no cache directory.
var errNoCache = errors.New("no user cache directory")

// checkPath checks path, which must not be a symbolic link, with
// checkPrivate.
func checkPath(path string, dir bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	return checkPrivate(path, fi, dir)
}

// checkPrivate checks that fi, path's information, is a directory (dir) or
// a regular file, and that no one but the user can change it
// (checkOwner). Its error says what to do about it.
func checkPrivate(path string, fi fs.FileInfo, dir bool) error {
	var problem string
	switch {
	case dir && !fi.IsDir():
		problem = fmt.Sprintf("is not a directory (%v)", fi.Mode().Type())
	case !dir && !fi.Mode().IsRegular():
		problem = fmt.Sprintf("is not a regular file (%v)", fi.Mode().Type())
	default:
		problem = checkOwner(fi)
	}
	if problem == "" {
		return nil
	}
	return fmt.Errorf("refusing to use cnnc's build cache: %s %s, so another user could have put a program there for cnnc to run; remove it (rm -rf %s) and run again", path, problem, path)
}
