package codegen

import "strings"

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
