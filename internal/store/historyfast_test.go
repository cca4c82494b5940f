package store

import (
	"bytes"
	"encoding/json"
	"testing"
)

// encodeByJSON is encodeChanges's encoder alone, the reference
// appendChanges must agree with.
func encodeByJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

var changesCases = []struct {
	v    any
	fast bool
}{
	{[]FieldChange{}, true},
	{[]FieldChange(nil), true},
	{[]FieldChange{{Key: "field:Email>email", Side: "salesforce", Value: "a@b.tw", Old: "c@d.tw", Rule: "conflict_newest_wins"}}, true},
	{[]FieldChange{{Key: "field:X>x", SFField: "Y", Value: nil, Old: "", Created: true}, {Key: "k", Value: true, Old: false}}, true},
	{sharedChanges{Side: "salesforce", Created: true, Changes: []FieldChange{{Key: "identity:Member_Number__c>member_id", Value: "M00000001"}, {Key: "field:Email>email", Value: nil}}}, true},
	{sharedChanges{Side: "platform", Changes: []FieldChange{{Key: "field:LastName>name", Value: "王小明"}}}, true},
	{sharedChanges{Side: "platform"}, true},
	{[]FieldChange{{Key: "k", Value: "a\"b"}}, false},
	{[]FieldChange{{Key: "k", Value: "a\\b"}}, false},
	{[]FieldChange{{Key: "k", Value: "a\nb"}}, false},
	{[]FieldChange{{Key: "k", Value: "a\u2028b"}}, false},
	{[]FieldChange{{Key: "Ɨ\"", Value: "0"}}, false}, // a quote after non-ASCII (the fuzz test found it)
	{[]FieldChange{{Key: "k", Value: "\xff"}}, false},
	{[]FieldChange{{Key: "k", Value: 1.5}}, false},
	{[]FieldChange{{Key: "k", Value: []any{"x"}}}, false},
	{[]FieldChange{{Key: "k", Value: "x", Old: map[string]any{"a": 1}}}, false},
	{[]FieldChange{{Key: "k<>&", Value: "<b>&"}}, true},
}

// TestAppendChanges: where the shortcut writes changes, the encoder
// writes the same bytes; what it declines goes to the encoder.
func TestAppendChanges(t *testing.T) {
	t.Parallel()
	for _, c := range changesCases {
		got, ok := appendChanges(nil, c.v)
		if ok != c.fast {
			t.Errorf("%#v: taken %v, want %v", c.v, ok, c.fast)
		}
		if want := encodeByJSON(c.v); ok && !bytes.Equal(got, want) {
			t.Errorf("%#v:\n got %s\nwant %s", c.v, got, want)
		}
	}
}

// FuzzAppendChanges checks the same on any strings and values.
func FuzzAppendChanges(f *testing.F) {
	f.Add("field:Email>email", "Email", "salesforce", "a@b.tw", "", "", true, false, uint8(0))
	f.Add("k", "", "", "王\u2028", "x", "r", false, true, uint8(3))
	f.Fuzz(func(t *testing.T, key, sfField, side, value, old, rule string, created, shared bool, kinds uint8) {
		val := func(s string, k uint8) any {
			switch k % 4 {
			case 0:
				return s
			case 1:
				return nil
			case 2:
				return len(s)%2 == 0
			}
			return float64(len(s))
		}
		cs := []FieldChange{{Key: key, SFField: sfField, Side: side, Value: val(value, kinds), Old: val(old, kinds>>2), Rule: rule, Created: created},
			{Key: old, Value: val(key, kinds>>4)}}
		var v any = cs
		if shared {
			v = sharedChanges{Side: side, Created: created, Changes: cs}
		}
		if got, ok := appendChanges(nil, v); ok {
			if want := encodeByJSON(v); !bytes.Equal(got, want) {
				t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
			}
		}
	})
}
