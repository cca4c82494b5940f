package contact

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text that cannot be stored faithfully is refused, never rewritten:
// encoding/json turns bytes that are not UTF-8 and escaped lone UTF-16
// surrogates ("\ud800") into U+FFFD without a word, and a NUL character
// makes look-alike identities ("M1" and "M1\u0000") that get around
// uniqueness and are cut short by C libraries downstream.

// TextErrors are FieldErrors about text that cannot be stored (a NUL
// character, bytes that are not UTF-8, a lone surrogate). The API answers
// them 422; errors.As still finds the FieldErrors inside.
type TextErrors FieldErrors

func (te TextErrors) Error() string { return FieldErrors(te).Error() }

// Unwrap gives the plain FieldErrors.
func (te TextErrors) Unwrap() error { return FieldErrors(te) }

// TextProblem says why s cannot be stored as text: it holds a NUL
// character or is not valid UTF-8. It returns "" for good text.
func TextProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return reasonNUL
	}
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return fmt.Sprintf(reasonUTF8, s[i], i)
			}
			i += size
		}
	}
	return ""
}

const (
	reasonNUL       = "must not contain a NUL character (U+0000)"
	reasonUTF8      = "must be valid UTF-8 text (byte 0x%02X at offset %d is not)"
	reasonSurrogate = `must be valid Unicode text: %s is a lone UTF-16 surrogate`
)

// CheckJSONText finds every string in the JSON document data (keys
// included) that holds a NUL character, bytes that are not UTF-8, or an
// escaped lone surrogate, and returns FieldErrors naming each by its path
// ("name", "social_identities[0].user_id", "custom_fields.tier") as
// TextErrors; nil when there is none. It reads the raw bytes, before encoding/json would
// rewrite them; malformed JSON is left for the decoder to report.
func CheckJSONText(data []byte) error {
	// A problem needs an escape, a NUL byte or bytes that are not UTF-8;
	// most documents have none, and these scans are fast where the one
	// below reads every string byte by byte (a third of decoding a bulk
	// item) (issue 14).
	if bytes.IndexByte(data, '\\') < 0 && bytes.IndexByte(data, 0) < 0 && utf8.Valid(data) {
		return nil
	}
	return checkJSONText(data)
}

// checkJSONText is CheckJSONText without the shortcut.
func checkJSONText(data []byte) error {
	var errs FieldErrors
	var stack []jsonFrame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		if b.Len() == 0 {
			return "(body)"
		}
		return b.String()
	}
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case '{', '[':
			stack = append(stack, jsonFrame{object: c == '{', expectKey: c == '{'})
			i++
		case '}', ']':
			if len(stack) == 0 {
				return errsOrNil(errs)
			}
			stack = stack[:len(stack)-1]
			i++
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].object {
					stack[n-1].expectKey = true
				} else {
					stack[n-1].index++
				}
			}
			i++
		case ':':
			if n := len(stack); n > 0 {
				stack[n-1].expectKey = false
			}
			i++
		case '"':
			end, value, problem := scanJSONString(data, i)
			if end < 0 {
				return errsOrNil(errs) // unterminated: the decoder says so
			}
			n := len(stack)
			if n > 0 && stack[n-1].object && stack[n-1].expectKey {
				stack[n-1].key = value
				if problem != "" {
					errs = append(errs, FieldError{Field: path(), Reason: "this key " + problem})
				}
			} else if problem != "" {
				errs = append(errs, FieldError{Field: path(), Reason: problem})
			}
			i = end
		default:
			i++
		}
	}
	return errsOrNil(errs)
}

type jsonFrame struct {
	object    bool
	expectKey bool
	key       string
	index     int
}

func errsOrNil(errs FieldErrors) error {
	if len(errs) == 0 {
		return nil
	}
	return TextErrors(errs)
}

// scanJSONString reads the JSON string whose opening quote is at
// data[start]. It returns the offset after the closing quote (-1 if there
// is none), the string's text as far as it can be shown (for naming keys),
// and the first problem with it ("" for none).
func scanJSONString(data []byte, start int) (end int, value, problem string) {
	var b strings.Builder
	setProblem := func(p string) {
		if problem == "" {
			problem = p
		}
	}
	for i := start + 1; i < len(data); {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, b.String(), problem
		case c == '\\':
			if i+1 >= len(data) {
				return -1, "", ""
			}
			if data[i+1] != 'u' {
				b.WriteByte(unescape(data[i+1]))
				i += 2
				continue
			}
			r, ok := hex4(data, i+2)
			if !ok {
				return -1, "", "" // malformed escape: the decoder says so
			}
			i += 6
			switch {
			case r == 0:
				setProblem(reasonNUL)
			case r >= 0xD800 && r <= 0xDBFF:
				low, ok := rune(0), false
				if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
					low, ok = hex4(data, i+2)
				}
				if ok && low >= 0xDC00 && low <= 0xDFFF {
					b.WriteRune(0x10000 + (r-0xD800)<<10 + (low - 0xDC00))
					i += 6
					continue
				}
				setProblem(fmt.Sprintf(reasonSurrogate, `\u`+strings.ToLower(strconv.FormatInt(int64(r), 16))))
			case r >= 0xDC00 && r <= 0xDFFF:
				setProblem(fmt.Sprintf(reasonSurrogate, `\u`+strings.ToLower(strconv.FormatInt(int64(r), 16))))
			default:
				b.WriteRune(r)
			}
		case c == 0:
			setProblem(reasonNUL)
			i++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				setProblem(fmt.Sprintf(reasonUTF8, c, i-start-1))
			} else {
				b.WriteRune(r)
			}
			i += size
		}
	}
	return -1, "", ""
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	}
	return c // " \ /
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(data[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
