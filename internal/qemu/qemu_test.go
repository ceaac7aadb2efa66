package qemu

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	log := `IN: p.f.abi0
0x00001000:  f94007e0  ldr      x0, [sp, #8]
0x00001004:  4f9b1300  fmla     v0.4s, v24.4s, v27.s[0]
0x00001008:  54ffffe1  b.ne     #0x1000

IN: p.g
0x00002000:  1e200800  fmul     s0, s0, s0

Trace 0: 0x7f00 [00000000/0000000000001000/00000001/00080200] p.f.abi0
Trace 0: 0x7f00 [00000000/0000000000002000/00000001/00080200] p.g
Trace 0: 0x7f00 [00000000/0000000000001000/00000001/00080200] p.f.abi0
IN: p.f.abi0
0x00001004:  4f9b1300  fmla     v0.4s, v24.4s, v27.s[0]

Trace 0: 0x7f00 [00000000/0000000000001004/00000001/00080200] p.f.abi0
`
	got, err := parse(strings.NewReader(log), func(s string) string {
		if strings.HasPrefix(s, "p.f") {
			return "f"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{"f": {Instructions: 7, FMA: 3}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}
