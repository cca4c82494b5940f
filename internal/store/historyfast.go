package store

import (
	"strings"
	"unicode/utf8"
)

// appendChanges appends v (a []FieldChange or a sharedChanges) as
// encodeChanges's encoder writes it, when every string in it is plain
// (printable ASCII but for '"' and '\', or UTF-8 without U+2028 and
// U+2029, which the encoder escapes) and every value is a string, a
// boolean or nil; otherwise it reports false and the encoder writes it.
// The encoder's reflection was 5 µs an entry, serial in the write
// transaction of every page (issue 14).
func appendChanges(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case []FieldChange:
		return appendChangeList(b, x)
	case sharedChanges:
		b = append(b, `{"s":`...)
		var ok bool
		if b, ok = appendPlainString(b, x.Side); !ok {
			return nil, false
		}
		if x.Created {
			b = append(b, `,"c":true`...)
		}
		b = append(b, `,"ch":`...)
		if b, ok = appendChangeList(b, x.Changes); !ok {
			return nil, false
		}
		return append(b, '}'), true
	}
	return nil, false
}

func appendChangeList(b []byte, cs []FieldChange) ([]byte, bool) {
	var ok bool
	if cs == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"k":`...)
		b, ok = appendPlainString(b, c.Key)
		if ok && c.SFField != "" {
			b = append(b, `,"f":`...)
			b, ok = appendPlainString(b, c.SFField)
		}
		if ok && c.Side != "" {
			b = append(b, `,"s":`...)
			b, ok = appendPlainString(b, c.Side)
		}
		if ok {
			b = append(b, `,"v":`...)
			b, ok = appendPlainValue(b, c.Value)
		}
		if ok && c.Old != nil {
			b = append(b, `,"o":`...)
			b, ok = appendPlainValue(b, c.Old)
		}
		if ok && c.Rule != "" {
			b = append(b, `,"r":`...)
			b, ok = appendPlainString(b, c.Rule)
		}
		if !ok {
			return nil, false
		}
		if c.Created {
			b = append(b, `,"c":true`...)
		}
		b = append(b, '}')
	}
	return append(b, ']'), true
}

func appendPlainValue(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendPlainString(b, x)
	case bool:
		if x {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	}
	return nil, false
}

// appendPlainString appends s quoted when the encoder (without HTML
// escaping) would write it unchanged between quotes.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\':
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	if !ascii && (!utf8.ValidString(s) || strings.ContainsRune(s, '\u2028') || strings.ContainsRune(s, '\u2029')) {
		return nil, false
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
