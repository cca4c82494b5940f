package soql

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF      tokKind = iota
	tIdent            // SELECT, LastName, TODAY ...
	tString           // '...'
	tNumber           // 12, 1.5
	tDate             // 2024-01-31
	tDateTime         // 2024-01-31T10:00:00Z
	tPunct            // ( ) , . : ; * + -
	tOp               // = != < <= > >= <>
	tError            // a lexical error; the parser reports it when it reaches it
)

type token struct {
	kind tokKind
	off  int    // byte offset of the first byte
	text string // source text of the token ("" for EOF)
}

// lexer splits SOQL into tokens. It works on bytes: every syntactic
// character is ASCII, and string bodies are copied byte for byte so that
// any byte sequence survives a QuoteString round trip.
type lexer struct {
	src string
	off int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// next returns the next token, or a lexical *Error.
func (l *lexer) next() (token, *Error) {
	for l.off < len(l.src) && isSpace(l.src[l.off]) {
		l.off++
	}
	start := l.off
	if start >= len(l.src) {
		return token{kind: tEOF, off: start}, nil
	}
	c := l.src[start]
	switch {
	case isLetter(c) || c == '_':
		i := start + 1
		for i < len(l.src) && (isLetter(l.src[i]) || isDigit(l.src[i]) || l.src[i] == '_') {
			i++
		}
		l.off = i
		return token{kind: tIdent, off: start, text: l.src[start:i]}, nil
	case isDigit(c):
		return l.number()
	case c == '\'':
		return l.str()
	case c == '=':
		l.off++
		return token{kind: tOp, off: start, text: "="}, nil
	case c == '!':
		if start+1 < len(l.src) && l.src[start+1] == '=' {
			l.off += 2
			return token{kind: tOp, off: start, text: "!="}, nil
		}
	case c == '<':
		if start+1 < len(l.src) && (l.src[start+1] == '=' || l.src[start+1] == '>') {
			l.off += 2
			return token{kind: tOp, off: start, text: l.src[start : start+2]}, nil
		}
		l.off++
		return token{kind: tOp, off: start, text: "<"}, nil
	case c == '>':
		if start+1 < len(l.src) && l.src[start+1] == '=' {
			l.off += 2
			return token{kind: tOp, off: start, text: ">="}, nil
		}
		l.off++
		return token{kind: tOp, off: start, text: ">"}, nil
	case strings.IndexByte("(),.:;*+-", c) >= 0:
		l.off++
		return token{kind: tPunct, off: start, text: l.src[start : start+1]}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	if r == utf8.RuneError {
		r = rune(c)
	}
	return token{}, lexError(l.src, start, "no viable alternative at character '"+string(r)+"'")
}

// number lexes an unsigned number, or a date / dateTime literal when the
// digits are followed by '-' as in 2024-01-31.
func (l *lexer) number() (token, *Error) {
	start := l.off
	i := start
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	if i-start == 4 && i+1 < len(l.src) && l.src[i] == '-' && isDigit(l.src[i+1]) {
		// A date-like run: digits, '-', ':', '.', '+', 'T', 'Z'.
		j := i
		for j < len(l.src) {
			ch := l.src[j]
			if isDigit(ch) || ch == '-' || ch == ':' || ch == '.' || ch == '+' || ch == 'T' || ch == 'Z' {
				j++
				continue
			}
			break
		}
		text := l.src[start:j]
		l.off = j
		if _, ok := parseDate(text); ok {
			return token{kind: tDate, off: start, text: text}, nil
		}
		if _, ok := parseDateTime(text); ok {
			return token{kind: tDateTime, off: start, text: text}, nil
		}
		return token{}, posError(l.src, start, CodeMalformedQuery, "unexpected token: '"+text+"'")
	}
	if i < len(l.src) && l.src[i] == '.' && i+1 < len(l.src) && isDigit(l.src[i+1]) {
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
	}
	l.off = i
	return token{kind: tNumber, off: start, text: l.src[start:i]}, nil
}

// parseDate parses a date literal, YYYY-MM-DD, as midnight UTC.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// parseDateTime parses Salesforce's dateTime literal forms:
// YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm|±hhmm).
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[10] != 'T' {
		return time.Time{}, false
	}
	// Fractional seconds are optional; the zone is required.
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// str lexes a single-quoted string; the token text includes the quotes.
// Escapes are validated later, when the parser knows whether the string is
// a LIKE pattern.
func (l *lexer) str() (token, *Error) {
	start := l.off
	i := start + 1
	for i < len(l.src) {
		switch l.src[i] {
		case '\\':
			i += 2
			continue
		case '\'':
			l.off = i + 1
			return token{kind: tString, off: start, text: l.src[start : i+1]}, nil
		}
		i++
	}
	return token{}, lexError(l.src, len(l.src), "mismatched character '<EOF>' expecting '''")
}

// position computes the 1-based row and column (UTF-16 units) of a byte
// offset, and returns the text of that row.
func position(src string, off int) (row, col int, line string) {
	if off > len(src) {
		off = len(src)
	}
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	row = strings.Count(src[:lineStart], "\n") + 1
	col = 1
	for _, r := range src[lineStart:off] {
		col += utf16.RuneLen(r) // 1 or 2: range yields only valid runes and U+FFFD
	}
	lineEnd := strings.IndexByte(src[lineStart:], '\n')
	if lineEnd < 0 {
		line = src[lineStart:]
	} else {
		line = src[lineStart : lineStart+lineEnd]
	}
	line = strings.TrimSuffix(line, "\r")
	return row, col, line
}

// posError builds an error with Salesforce's position prefix.
func posError(src string, off int, code, text string) *Error {
	row, col, line := position(src, off)
	return &Error{
		Code:    code,
		Message: "\n" + line + "\n" + strings.Repeat(" ", col-1) + "^\nERROR at Row:" + strconv.Itoa(row) + ":Column:" + strconv.Itoa(col) + "\n" + text,
		Row:     row,
		Column:  col,
		Text:    text,
	}
}

// lexError builds a lexical error in the form of Salesforce's lexer:
// "line <row>:<0-based column> <text>", without the caret prefix.
func lexError(src string, off int, text string) *Error {
	row, col, _ := position(src, off)
	text = "line " + strconv.Itoa(row) + ":" + strconv.Itoa(col-1) + " " + text
	return &Error{Code: CodeMalformedQuery, Message: text, Row: row, Column: col, Text: text}
}

// plainError builds an error that Salesforce sends without a position prefix.
func plainError(code, text string) *Error {
	return &Error{Code: code, Message: text, Text: text}
}
