package salesforce

import (
	"strings"
	"time"
)

// QuoteString returns s as a SOQL string literal: wrapped in single quotes,
// with backslash, quotes and control characters escaped as SOQL's
// "Quoted String Escape Sequences" require. Invalid UTF-8 bytes become
// U+FFFD. Never build SOQL from user input any other way.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	writeEscaped(&b, s, false)
	b.WriteByte('\'')
	return b.String()
}

// QuoteLike is QuoteString for the right side of LIKE: it also escapes the
// wildcards % and _, so s matches literally. To match s anywhere in a
// value, use QuoteLikePattern("%", s, "%").
func QuoteLike(s string) string { return QuoteLikePattern("", s, "") }

// QuoteLikePattern returns a LIKE literal matching prefix, then s literally,
// then suffix, where prefix and suffix are raw wildcard text such as "%".
func QuoteLikePattern(prefix, s, suffix string) string {
	var b strings.Builder
	b.WriteByte('\'')
	writeEscaped(&b, prefix, false)
	writeEscaped(&b, s, true)
	writeEscaped(&b, suffix, false)
	b.WriteByte('\'')
	return b.String()
}

func writeEscaped(b *strings.Builder, s string, like bool) {
	for _, r := range s {
		switch r {
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
		case '%', '_':
			if like {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
}

// FormatDateTime returns t as an unquoted SOQL dateTime literal in UTC with
// whole seconds, e.g. 2024-03-05T09:12:44Z.
func FormatDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// FormatDate returns t's calendar date as a SOQL date literal, e.g. 2024-03-05.
func FormatDate(t time.Time) string { return t.Format("2006-01-02") }

// ValidFieldName reports whether name is syntactically a Salesforce field
// API name, optionally a relationship path (Account.Name, Owner.Email):
// each part a letter followed by letters, digits and single underscores,
// with at most a namespace prefix (ns__Field__c) and a __c, __r or other
// double-underscore suffix. It does not check that the field exists: check
// the describe for that.
func ValidFieldName(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for part := range strings.SplitSeq(name, ".") {
		if !validIdent(part) {
			return false
		}
	}
	return true
}

// ValidObjectName reports whether name is syntactically an sObject API name
// (Contact, Member__c, ns__Member__c).
func ValidObjectName(name string) bool { return len(name) <= 255 && validIdent(name) }

// validIdent accepts [A-Za-z][A-Za-z0-9_]* with no trailing underscore, no
// triple underscore, and at most two "__" separators (namespace and suffix).
func validIdent(s string) bool {
	if s == "" || !isLetter(s[0]) || s[len(s)-1] == '_' {
		return false
	}
	doubles := 0
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case isLetter(c) || c >= '0' && c <= '9':
		case c == '_':
			if i+1 < len(s) && s[i+1] == '_' {
				if i+2 < len(s) && s[i+2] == '_' {
					return false
				}
				doubles++
				i++
				if i+1 >= len(s) {
					return false
				}
			}
		default:
			return false
		}
	}
	return doubles <= 2
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
