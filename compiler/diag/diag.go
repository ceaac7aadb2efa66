// Package diag holds source positions and the error list every stage of
// cnnc reports through, in the style of go/scanner: each error prints as
// "file:line:col: message", the list is sorted by position, and a long list
// is summarised as "(and N more errors)".
package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a source file. Line and Col are 1-based; zero means unknown.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	s := p.File
	if s == "" {
		s = "<input>"
	}
	if p.Line > 0 {
		s += fmt.Sprintf(":%d", p.Line)
		if p.Col > 0 {
			s += fmt.Sprintf(":%d", p.Col)
		}
	}
	return s
}

// Error is one problem at one position. Layer, when set, names the layer the
// problem belongs to and is printed after the position.
type Error struct {
	Pos   Pos
	Layer string
	Msg   string
}

func (e *Error) Error() string {
	if e.Layer != "" {
		return fmt.Sprintf("%s: %s: %s", e.Pos, e.Layer, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
}

// List collects errors. Its zero value is ready to use.
type List []*Error

// Add appends an error.
func (l *List) Add(pos Pos, layer, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Layer: layer, Msg: fmt.Sprintf(format, args...)})
}

// Len reports the number of errors.
func (l List) Len() int { return len(l) }

// Sort orders the list by file, line, column, then message, and drops exact duplicates.
func (l *List) Sort() {
	slices.SortStableFunc(*l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Layer, b.Layer),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	*l = slices.CompactFunc(*l, func(a, b *Error) bool { return *a == *b })
}

// maxShown bounds how many errors Error() spells out.
const maxShown = 10

// Error prints every error on its own line, up to a limit.
func (l List) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i == maxShown {
			fmt.Fprintf(&b, "(and %d more errors)", len(l)-maxShown)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return strings.TrimRight(b.String(), "\n")
}

// Err returns the sorted list as an error, or nil if it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}
