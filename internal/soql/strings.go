package soql

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// EscapeString escapes s for use inside a single-quoted SOQL string
// literal, following Salesforce's escape sequences ("Quoted String Escape
// Sequences"): backslash, both quotes, newline, carriage return, tab,
// backspace and form feed get their backslash escapes; any other control
// character (U+0000–U+001F, U+007F) is written \uXXXX. Everything else,
// including % and _, is copied unchanged, so the result is for =, !=, IN
// and the like; use EscapeLike for LIKE patterns.
func EscapeString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 || c == 0x7f {
				const hex = "0123456789ABCDEF"
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			} else {
				b.WriteByte(c) // bytes ≥ 0x80 are copied, so UTF-8 passes through
			}
		}
	}
	return b.String()
}

// QuoteString returns s as a single-quoted SOQL string literal, for
// comparisons other than LIKE: QuoteString("O'Brien") == `'O\'Brien'`.
// Parsing `Field = ` + QuoteString(s) yields a literal equal to s.
func QuoteString(s string) string {
	return "'" + EscapeString(s) + "'"
}

// EscapeLike escapes s for use inside a LIKE pattern so that it matches
// itself only: it applies EscapeString and also escapes the wildcards %
// and _. Add unescaped % or _ around the result for prefix, suffix or
// substring matches, e.g. "'" + EscapeLike(prefix) + "%'".
func EscapeLike(s string) string {
	e := EscapeString(s)
	if !strings.ContainsAny(e, "%_") {
		return e
	}
	var b strings.Builder
	b.Grow(len(e) + 4)
	for i := 0; i < len(e); i++ {
		if e[i] == '%' || e[i] == '_' {
			b.WriteByte('\\')
		}
		b.WriteByte(e[i])
	}
	return b.String()
}

// Pattern elements besides folded runes.
const (
	likeAnyOne  = -1 // _
	likeAnyMany = -2 // %
)

// likePattern is a compiled LIKE pattern: case-folded runes and wildcards.
type likePattern struct {
	elems []rune
	// Fast paths: exact (no wildcards) and prefix ("abc%").
	exact, prefix bool
	lit           string // the literal part for the fast paths
}

// decodeString decodes the body of a string token (without its quotes).
// With like set, \% and \_ are literal characters and unescaped % and _
// are wildcards; the pattern is returned too. On an invalid escape it
// returns the offending sequence.
func decodeString(body string, like bool) (s string, pat *likePattern, bad string) {
	var b strings.Builder
	var elems []rune
	wild := false
	lit := func(r rune) {
		b.WriteRune(r)
		if like {
			elems = append(elems, foldRune(r))
		}
	}
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			if like && (c == '%' || c == '_') {
				b.WriteByte(c)
				wild = true
				if c == '%' {
					elems = append(elems, likeAnyMany)
				} else {
					elems = append(elems, likeAnyOne)
				}
				i++
				continue
			}
			if c < utf8.RuneSelf {
				lit(rune(c))
				i++
				continue
			}
			r, w := utf8.DecodeRuneInString(body[i:])
			if r == utf8.RuneError && w == 1 {
				// Keep invalid bytes as they are; they match only themselves.
				b.WriteByte(c)
				if like {
					elems = append(elems, 0x110000+rune(c))
				}
			} else {
				lit(r)
			}
			i += w
			continue
		}
		if i+1 >= len(body) {
			return "", nil, `\`
		}
		e := body[i+1]
		switch e {
		case 'n', 'N':
			lit('\n')
		case 'r', 'R':
			lit('\r')
		case 't', 'T':
			lit('\t')
		case 'b', 'B':
			lit('\b')
		case 'f', 'F':
			lit('\f')
		case '"', '\'', '\\':
			lit(rune(e))
		case '%', '_':
			if !like {
				return "", nil, body[i : i+2]
			}
			lit(rune(e))
		case 'u':
			r, n, ok := decodeU(body[i:])
			if !ok {
				end := min(i+6, len(body))
				return "", nil, body[i:end]
			}
			lit(r)
			i += n
			continue
		default:
			_, w := utf8.DecodeRuneInString(body[i+1:])
			return "", nil, body[i : i+1+w]
		}
		i += 2
	}
	s = b.String()
	if like {
		pat = &likePattern{elems: elems}
		switch {
		case !wild:
			pat.exact, pat.lit = true, s
		case len(elems) > 0 && elems[len(elems)-1] == likeAnyMany && !containsWild(elems[:len(elems)-1]):
			pat.prefix = true
			pat.lit = literalPrefix(body)
		}
	}
	return s, pat, ""
}

// decodeU decodes \uXXXX at the start of s (and a following \uXXXX low
// surrogate, as Java would combine them). It returns the rune and the
// bytes consumed.
func decodeU(s string) (rune, int, bool) {
	r, ok := hex4(s)
	if !ok {
		return 0, 0, false
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(s[6:]); ok && r < 0xdc00 {
			if c := utf16.DecodeRune(r, r2); c != unicode.ReplacementChar {
				return c, 12, true
			}
		}
		return unicode.ReplacementChar, 6, true
	}
	return r, 6, true
}

func hex4(s string) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[2:6]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func containsWild(elems []rune) bool {
	for _, e := range elems {
		if e == likeAnyOne || e == likeAnyMany {
			return true
		}
	}
	return false
}

// literalPrefix decodes a pattern body that is a literal followed by one
// trailing %, returning the literal.
func literalPrefix(body string) string {
	s, _, _ := decodeString(body[:len(body)-1], true)
	return s
}

// foldRune maps r to a canonical member of its simple case-folding orbit,
// so that two runes are equal ignoring case exactly when strings.EqualFold
// says so.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	if m >= 'A' && m <= 'Z' {
		// The orbit holds an ASCII letter (K and the Kelvin sign, S and
		// the long s): agree with the ASCII fast paths, which lower-case.
		m += 'a' - 'A'
	}
	return m
}

// match reports whether s matches the pattern, ignoring case.
func (p *likePattern) match(s string) bool {
	switch {
	case p.exact:
		return strings.EqualFold(s, p.lit)
	case p.prefix:
		return hasPrefixFold(s, p.lit)
	}
	el := p.elems
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, w := decodeFold(s[si:])
		if pi < len(el) {
			switch e := el[pi]; e {
			case likeAnyMany:
				starP, starS = pi, si
				pi++
				continue
			case likeAnyOne, r:
				pi++
				si += w
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last % swallow one more rune and retry from there.
		_, w0 := decodeFold(s[starS:])
		starS += w0
		pi, si = starP+1, starS
	}
	for pi < len(el) && el[pi] == likeAnyMany {
		pi++
	}
	return pi == len(el)
}

// decodeFold decodes the first rune of s, folded; invalid bytes map to
// values above the Unicode range so they only match themselves.
func decodeFold(s string) (rune, int) {
	c := s[0]
	if c < utf8.RuneSelf {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		return rune(c), 1
	}
	r, w := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && w == 1 {
		return 0x110000 + rune(c), 1
	}
	return foldRune(r), w
}

// hasPrefixFold reports whether s begins with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		if c1, c2 := s[0], prefix[0]; c1|c2 < utf8.RuneSelf { // ASCII fast path
			if c1 != c2 {
				if c1 >= 'A' && c1 <= 'Z' {
					c1 += 'a' - 'A'
				}
				if c2 >= 'A' && c2 <= 'Z' {
					c2 += 'a' - 'A'
				}
				if c1 != c2 {
					return false
				}
			}
			s, prefix = s[1:], prefix[1:]
			continue
		}
		r1, w1 := decodeFold(s)
		r2, w2 := decodeFold(prefix)
		if r1 != r2 {
			return false
		}
		s, prefix = s[w1:], prefix[w2:]
	}
	return true
}

// compareFold compares two strings ignoring case, rune by rune on folded
// runes (a simple stand-in for Salesforce's locale collation).
func compareFold(a, b string) int {
	for a != "" && b != "" {
		// ASCII fast path.
		ca, cb := a[0], b[0]
		if ca < utf8.RuneSelf && cb < utf8.RuneSelf {
			if ca >= 'A' && ca <= 'Z' {
				ca += 'a' - 'A'
			}
			if cb >= 'A' && cb <= 'Z' {
				cb += 'a' - 'A'
			}
			if ca != cb {
				if ca < cb {
					return -1
				}
				return 1
			}
			a, b = a[1:], b[1:]
			continue
		}
		r1, w1 := decodeFold(a)
		r2, w2 := decodeFold(b)
		if r1 != r2 {
			if r1 < r2 {
				return -1
			}
			return 1
		}
		a, b = a[w1:], b[w2:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}
