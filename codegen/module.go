package codegen

import (
	"strings"

	"golang.org/x/mod/module"
)

// The golang.org/x/sys the generated code needs, with its go.sum lines, so
// that a package compiled outside any module can become one that builds
// offline (see ModuleFiles). TestModuleMatchesGoSum keeps these in step with
// cnnc's own go.mod and go.sum.
const (
	SysVersion = "v0.50.0"
	sysSum     = "golang.org/x/sys v0.50.0 h1:dkKZEFTEKaLr1sjhs0WiKqoi8Jj5nHbS3Njmx1UoMJs=\n" +
		"golang.org/x/sys v0.50.0/go.mod h1:hNLxWAXmnKAxqDtdwIYC4bM9oQPEecfsnNMuSxOs3og=\n"
	// goVersion is the go line: x/sys v0.50.0 declares go 1.26.0.
	goVersion = "1.26.0"
)

// ModuleFiles returns a go.mod and go.sum that make a generated package
// directory a module of its own, named module.
func ModuleFiles(module string) []File {
	mod := "module " + module + "\n\ngo " + goVersion + "\n\nrequire golang.org/x/sys " + SysVersion + "\n"
	return []File{{Name: "go.mod", Data: []byte(mod)}, {Name: "go.sum", Data: []byte(sysSum)}}
}

func sysSumLines() []string { return strings.Split(strings.TrimSpace(sysSum), "\n") }

// ModulePath returns the module path to give a generated package written
// to a directory named base outside any module: base itself where it is a
// valid import path of one element (what `go mod init` would accept, so
// that the directory's name stays the import path users see), and otherwise
// pkg, the package name, which always is one. A directory named "my net"
// or "v1.0 (old)" thus gets "module <pkg>", with which `cd dir && go build`
// works.
func ModulePath(base, pkg string) string {
	if !strings.Contains(base, "/") && module.CheckImportPath(base) == nil {
		return base
	}
	return pkg
}
