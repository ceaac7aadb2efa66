package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cnnc/cnnc/compiler"
	"github.com/cnnc/cnnc/compiler/graphviz"
	"github.com/cnnc/cnnc/compiler/ir"
	"github.com/cnnc/cnnc/compiler/passes"
)

// dotTimeout bounds one run of Graphviz's dot.
var dotTimeout = 60 * time.Second

// graphFormats maps -o's extension to dot's -T format; "" is DOT itself.
var graphFormats = map[string]string{".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "", ".gv": ""}

func init() {
	commands = append(commands, &command{
		name:  "graph",
		args:  "spec.yaml [-o net.svg|net.png|net.pdf|net.dot]",
		short: "draw the network (Graphviz)",
		long: `
Graph draws the network after cnnc's passes (or, with -passes=false, as
written): one box per layer with its fused ops (conv 11x11/4, 96 + relu;
lrn 5 (...) + maxpool 3x3/2; batchnorm folded), its parameters and
multiply-adds, the tensor shape on every edge, grouped convolutions with a
double border, and the totals in a caption.

-o's extension picks the format: .svg, .png and .pdf are rendered by
Graphviz's dot, which must be on PATH; .dot or .gv writes the DOT source,
and without -o the DOT source goes to standard output. When dot is not on
PATH, graph writes the DOT source next to the requested file (net.svg ->
net.dot), prints how to install Graphviz and render it, and exits with
status 0: the drawing is complete, only the rendering is left to do.`,
		nargs: [2]int{1, 1},
		setup: func(fs *flagSet, e *env) func([]string) error {
			out := outputFlag(fs, "file", false)
			optimised := fs.Bool("passes", true, "draw the graph after the optimisation passes (false: as written)")
			return func(args []string) error {
				format := ""
				if *out != "" {
					var ok bool
					format, ok = graphFormats[strings.ToLower(filepath.Ext(*out))]
					if !ok {
						return usagef("-o %s: unknown format %q (want .svg, .png, .pdf, .dot or .gv)", *out, filepath.Ext(*out))
					}
				}
				if err := checkNotInput("-o", *out, args[0]); err != nil {
					return err
				}
				var g *ir.Graph
				var err error
				if *optimised {
					g, err = compiler.Compile(args[0], passes.Options{})
				} else {
					g, err = compiler.Load(args[0])
				}
				if err != nil {
					return err
				}
				printWarnings(e, g)
				src := graphviz.DOT(g)
				switch {
				case *out == "":
					_, err := e.stdout.Write(src)
					return err
				case format == "":
					return writeGraphFile(*out, src)
				}
				dot, err := exec.LookPath("dot")
				if err != nil {
					dotPath := strings.TrimSuffix(*out, filepath.Ext(*out)) + ".dot"
					if err := checkNotInput("-o", dotPath, args[0]); err != nil {
						return err
					}
					if err := writeGraphFile(dotPath, src); err != nil {
						return err
					}
					e.warnf("Graphviz's dot is not on PATH, so %s was not rendered; wrote the DOT source to %s.\n"+
						"Install Graphviz (apt install graphviz, brew install graphviz) and run:\n\tdot -T%s %s -o %s",
						*out, dotPath, format, dotPath, *out)
					return nil
				}
				img, err := renderDOT(dot, format, src, dotTimeout)
				if err != nil {
					return err
				}
				return writeGraphFile(*out, img)
			}
		},
	})
}

// renderDOT runs dot -Tformat on src and returns its output.
func renderDOT(dot, format string, src []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dot, "-T"+format)
	cmd.Stdin = bytes.NewReader(src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // do not wait on pipes held by dot's children
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s -T%s: gave no result in %v", dot, format, timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return nil, fmt.Errorf("%s -T%s failed: %s", dot, format, msg)
		}
		return nil, fmt.Errorf("%s -T%s: %v", dot, format, err)
	}
	if stdout.Len() == 0 {
		return nil, fmt.Errorf("%s -T%s wrote nothing", dot, format)
	}
	return stdout.Bytes(), nil
}

func writeGraphFile(path string, data []byte) error {
	return writeOutput(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
