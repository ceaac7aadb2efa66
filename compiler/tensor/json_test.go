package tensor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzJSONScanner checks the hand-written JSON scanner against
// encoding/json: strings must decode to the same value, and the number
// grammar must agree. The only intended difference is that lone UTF-16
// surrogates, which encoding/json replaces with U+FFFD, are errors.
func FuzzJSONScanner(f *testing.F) {
	for _, s := range []string{
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\udc00"`,
		`"\ud800\u0041"`, `"unterminated`, `"ctl` + "\x01" + `"`, `"é日本"`, `"\x"`, `"\u12"`,
		`0`, `-0`, `12`, `01`, `-`, `1.5`, `1.`, `1e5`, `1E+5`, `1e-`, `-12.5e-3`, `.5`, `1 `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) || len(b) == 0 {
			return
		}
		switch {
		case b[0] == '"':
			p := &jsonScanner{s: b}
			got, err := p.str("test")
			if err != nil {
				if strings.Contains(err.Error(), "lone UTF-16 surrogate") {
					return
				}
				// encoding/json must reject the string too.
				if tok, jerr := json.NewDecoder(bytes.NewReader(b)).Token(); jerr == nil {
					t.Fatalf("scanner rejected %q (%v), encoding/json read %q", b, err, tok)
				}
				return
			}
			var want string
			if err := json.Unmarshal(b[:p.pos], &want); err != nil {
				t.Fatalf("scanner read %q from %q, encoding/json fails: %v", got, b[:p.pos], err)
			}
			if got != want {
				t.Fatalf("scanner read %q from %q, encoding/json %q", got, b[:p.pos], want)
			}
		case b[0] == '-' || '0' <= b[0] && b[0] <= '9':
			p := &jsonScanner{s: b}
			lit, err := p.number("test")
			p.skipSpace()
			ours := err == nil && p.pos == len(b)
			if theirs := json.Valid(b); ours != theirs {
				t.Fatalf("number %q: scanner accepts %v (read %q, %v), encoding/json %v", b, ours, lit, err, theirs)
			}
		}
	})
}
