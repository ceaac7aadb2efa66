package tensor

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner reads the JSON of a safetensors header in place. It is a
// strict RFC 8259 reader for exactly what a header needs: the caller drives
// it value by value, so duplicate keys, unknown fields and values of the
// wrong type are all caught where they occur, nothing is decoded that the
// caller does not ask for, and nothing recurses. Lone UTF-16 surrogates in
// \u escapes are rejected, as serde_json (and so the reference
// implementation) rejects them. The input must already be valid UTF-8.
type jsonScanner struct {
	s   []byte
	pos int
}

// jsonKind is the kind of JSON value that starts at a position.
type jsonKind int

const (
	jsonEnd jsonKind = iota // end of input
	jsonObject
	jsonArray
	jsonString
	jsonNumber
	jsonTrue
	jsonFalse
	jsonNull
	jsonInvalid
)

// skipSpace skips JSON whitespace.
func (p *jsonScanner) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// next skips whitespace and returns the kind of the value that starts there,
// judged by its first byte.
func (p *jsonScanner) next() jsonKind {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return jsonEnd
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return jsonObject
	case c == '[':
		return jsonArray
	case c == '"':
		return jsonString
	case c == '-' || '0' <= c && c <= '9':
		return jsonNumber
	case c == 't':
		return jsonTrue
	case c == 'f':
		return jsonFalse
	case c == 'n':
		return jsonNull
	}
	return jsonInvalid
}

// consume skips whitespace and then c, reporting whether c was there.
func (p *jsonScanner) consume(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// syntaxError reports malformed JSON at the current position. where names
// the part of the header being read, such as `tensor "conv1.weight"`.
func (p *jsonScanner) syntaxError(where, format string, args ...any) error {
	return fmt.Errorf("safetensors: %s: invalid JSON at byte %d of the header: %s", where, p.pos, fmt.Sprintf(format, args...))
}

// found describes the byte at the current position for error messages.
func (p *jsonScanner) found() string {
	if p.pos >= len(p.s) {
		return "the end of the header"
	}
	r, _ := utf8.DecodeRune(p.s[p.pos:])
	return fmt.Sprintf("%q", r)
}

// object reads an object, calling member once per key with the scanner
// positioned at the key's value, which member must consume.
func (p *jsonScanner) object(where string, member func(key string) error) error {
	if !p.consume('{') {
		return p.syntaxError(where, "expected '{', found %s", p.found())
	}
	if p.consume('}') {
		return nil
	}
	for {
		if p.next() != jsonString {
			return p.syntaxError(where, "expected a string key, found %s", p.found())
		}
		key, err := p.str(where)
		if err != nil {
			return err
		}
		if !p.consume(':') {
			return p.syntaxError(where, "expected ':' after key %q, found %s", truncate(key, 40), p.found())
		}
		if err := member(key); err != nil {
			return err
		}
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			return nil
		}
		return p.syntaxError(where, "expected ',' or '}', found %s", p.found())
	}
}

// array reads an array, calling elem with the scanner positioned at each
// element, which elem must consume.
func (p *jsonScanner) array(where string, elem func() error) error {
	if !p.consume('[') {
		return p.syntaxError(where, "expected '[', found %s", p.found())
	}
	if p.consume(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if p.consume(',') {
			continue
		}
		if p.consume(']') {
			return nil
		}
		return p.syntaxError(where, "expected ',' or ']', found %s", p.found())
	}
}

// str reads a string; the scanner must be at its opening quote.
func (p *jsonScanner) str(where string) (string, error) {
	s := p.s
	start := p.pos + 1
	i := start
	// Fast path: no escapes.
	for i < len(s) && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 {
		i++
	}
	if i < len(s) && s[i] == '"' {
		p.pos = i + 1
		return string(s[start:i]), nil
	}
	buf := append([]byte(nil), s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(buf), nil
		case c < 0x20:
			p.pos = i
			return "", p.syntaxError(where, "control character %#02x in a string", c)
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(s[i+2:])
			if !ok {
				p.pos = i
				return "", p.syntaxError(where, "invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				var r2 rune
				if r < 0xdc00 && i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
					r2, _ = hex4(s[i+8:])
				}
				if r2 < 0xdc00 || r2 > 0xdfff {
					p.pos = i
					return "", p.syntaxError(where, "lone UTF-16 surrogate in a \\u escape")
				}
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			buf = utf8.AppendRune(buf, r)
			i += 6
			continue
		default:
			p.pos = i
			return "", p.syntaxError(where, "invalid escape sequence \\%c", rune(e))
		}
		i += 2
	}
	p.pos = len(s)
	return "", p.syntaxError(where, "unterminated string")
}

// hex4 decodes four hexadecimal digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number, checking the JSON grammar, and returns its text.
func (p *jsonScanner) number(where string) (string, error) {
	s := p.s
	start := p.pos
	i := start
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		p.pos = i
		return "", p.syntaxError(where, "invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			p.pos = i
			return "", p.syntaxError(where, "invalid number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			p.pos = i
			return "", p.syntaxError(where, "invalid number")
		}
	}
	p.pos = i
	return string(s[start:i]), nil
}

// literal reads the literal word (true, false or null).
func (p *jsonScanner) literal(where, word string) error {
	if len(p.s)-p.pos < len(word) || string(p.s[p.pos:p.pos+len(word)]) != word {
		return p.syntaxError(where, "invalid literal, expected %s", word)
	}
	p.pos += len(word)
	return nil
}

// describe describes the value at the current position for an error
// message, consuming it if it is a scalar.
func (p *jsonScanner) describe() string {
	switch p.next() {
	case jsonEnd:
		return "the end of the header"
	case jsonObject:
		return "an object"
	case jsonArray:
		return "an array"
	case jsonString:
		if s, err := p.str(""); err == nil {
			return fmt.Sprintf("the string %q", truncate(s, 40))
		}
		return "an invalid string"
	case jsonNumber:
		if lit, err := p.number(""); err == nil {
			return "the number " + truncate(lit, 40)
		}
		return "an invalid number"
	case jsonTrue:
		if p.literal("", "true") == nil {
			return "true"
		}
	case jsonFalse:
		if p.literal("", "false") == nil {
			return "false"
		}
	case jsonNull:
		if p.literal("", "null") == nil {
			return "null"
		}
	}
	return "invalid JSON " + p.found()
}

// truncate shortens s to at most n bytes (on a rune boundary) for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
