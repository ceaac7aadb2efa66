package main

// Every file cnnc writes goes through this file. A command stages each
// output in a temporary beside its destination and renames it into place
// only once the whole command has succeeded, so it leaves all its outputs
// or none: an error, SIGINT or SIGTERM before the commit removes the
// temporaries, and an interrupt during the commit (a few renames) waits for
// it to finish. The process then exits 130 (SIGINT) or 143 (SIGTERM), as
// shells report a process killed by those signals.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/cnnc/cnnc/compiler/tensor"
)

// interrupt is the state the signal handler shares with the commands.
var interrupt struct {
	mu    sync.Mutex      // held while outputs are renamed into place
	temps map[string]bool // files and directories to remove if interrupted
}

// beforeCommit, if set, runs before every commit: the tests' hook for
// interrupting a command at its worst moment (main_test.go's TestMain).
var beforeCommit func()

// trackTemp records a temporary file or directory for removal on interrupt.
func trackTemp(path string) {
	interrupt.mu.Lock()
	defer interrupt.mu.Unlock()
	if interrupt.temps == nil {
		interrupt.temps = map[string]bool{}
	}
	interrupt.temps[path] = true
}

// untrackTemp forgets a temporary that was renamed into place or removed.
func untrackTemp(path string) {
	interrupt.mu.Lock()
	defer interrupt.mu.Unlock()
	delete(interrupt.temps, path)
}

// handleInterrupts makes SIGINT and SIGTERM remove the tracked temporaries
// and exit 130 or 143. main calls it; Main, which the tests call in-process,
// does not.
func handleInterrupts(stderr io.Writer) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		interrupt.mu.Lock() // wait for a commit in progress; never unlocked
		for path := range interrupt.temps {
			os.RemoveAll(path)
		}
		code := 130
		if sig == syscall.SIGTERM {
			code = 143
		}
		fmt.Fprintf(stderr, "cnnc: %v: stopped, temporaries removed\n", sig)
		os.Exit(code)
	}()
}

// outputs is a set of files one command writes: staged one by one, then
// committed together.
type outputs struct {
	staged []*tensor.Staged
}

// add stages the file at path with what write writes. On error nothing is
// left behind, but files already staged stay staged: call discard.
func (o *outputs) add(path string, write func(io.Writer) error) error {
	var temp string
	s, err := tensor.StageFile(path, func(t string) { temp = t; trackTemp(t) }, write)
	if err != nil {
		if temp != "" {
			untrackTemp(temp)
		}
		return err
	}
	o.staged = append(o.staged, s)
	return nil
}

// commit renames every staged file into place, with interrupts held off.
func (o *outputs) commit() error {
	if beforeCommit != nil {
		beforeCommit()
	}
	interrupt.mu.Lock()
	defer interrupt.mu.Unlock()
	var errs []error
	for _, s := range o.staged {
		errs = append(errs, s.Commit())
		delete(interrupt.temps, s.Temp)
	}
	o.staged = nil
	return errors.Join(errs...)
}

// discard removes every staged file.
func (o *outputs) discard() {
	for _, s := range o.staged {
		s.Discard()
		untrackTemp(s.Temp)
	}
	o.staged = nil
}

// writeOutput writes the file at path as a command's one output.
func writeOutput(path string, write func(io.Writer) error) error {
	var o outputs
	if err := o.add(path, write); err != nil {
		return err
	}
	return o.commit()
}

// checkNotInput refuses an output that is one of the command's inputs (the
// same file, by whatever path): replacing it would destroy the input, and
// `weights import x.pth -o x.pth` is more likely a slip than a wish. flag
// names the output in the message; empty inputs are skipped.
func checkNotInput(flag, out string, inputs ...string) error {
	if out == "" {
		return nil
	}
	o, err := os.Stat(out)
	if err != nil {
		return nil // a new file cannot be an input
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		if i, err := os.Stat(in); err == nil && os.SameFile(o, i) {
			return usagef("%s %s is also an input (%s): write the output to another file", flag, out, in)
		}
	}
	return nil
}

// tempDir makes a private temporary directory in parent (the system's if
// ""), for a command's scratch files or a directory it stages, removed by
// the returned func or, if the command is interrupted, by the signal
// handler.
func tempDir(parent, prefix string) (string, func(), error) {
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", nil, err
	}
	trackTemp(dir)
	return dir, func() { os.RemoveAll(dir); untrackTemp(dir) }, nil
}
