package arm64

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuilder(t *testing.T) {
	var b Builder
	b.Text("f", 16)
	b.Comment("f adds.", "", "\tx = y")
	b.Op("VLD1.P", "48(R1)", V(24).List(3, "S4"))
	b.Op("ADD", Reg(4), Reg(2), Reg(2))
	b.Label("loop")
	b.Word(FADD(V(0), V(1), V(31)))
	b.Op("VDUP", V(3).S(2), V(4).S4())
	b.Op("RET")
	want := "TEXT ·f(SB), NOSPLIT|NOFRAME, $0-16\n" +
		"\t// f adds.\n\t//\n\t//\tx = y\n" +
		"\tVLD1.P\t48(R1), [V24.S4, V25.S4, V26.S4]\n" +
		"\tADD\tR4, R2, R2\n" +
		"loop:\n" +
		"\tWORD\t$0x4e3fd420 // fadd v0.4s, v1.4s, v31.4s\n" +
		"\tVDUP\tV3.S[2], V4.S4\n" +
		"\tRET\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}
