package codegen

import (
	"os"
	"strings"
	"testing"
)

func TestModuleMatchesGoSum(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "golang.org/x/sys "+SysVersion) {
		t.Errorf("go.mod does not require golang.org/x/sys %s; update codegen/module.go", SysVersion)
	}
	sum, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range sysSumLines() {
		if !strings.Contains(string(sum), line+"\n") {
			t.Errorf("go.sum lacks %q; update codegen/module.go", line)
		}
	}
}
