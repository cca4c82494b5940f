package syncer

import (
	"encoding/json"
	"reflect"
	"testing"
)

// canonByJSON and jsonableByJSON are canon and jsonable as they were,
// through encoding/json for every value: the fast paths must give what
// they give.
func canonByJSON(v any) string {
	if isBlank(v) {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "!" + err.Error()
	}
	return string(b)
}

func jsonableByJSON(v any) any {
	if isBlank(v) {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

var valueSamples = []any{
	"Johnson", "+819031541493", "M00000001", "U5471bf05dfda8096dfbef6dbbeff8c46", "a@b.co", "2024-02-29",
	" ", "", "  x ", "王小明", "tab\there", "quote\"d", `back\slash`, "<b>&amp;</b>", "\u2028line", "bad\xffutf8", "\x00",
	"~", "\x7f", true, false, nil, 1.5, float64(3), int64(7), []any{"a", 1.0}, map[string]any{"k": "v"}, []string{"x"},
}

func TestCanonAndJSONableFastPathsMatchJSON(t *testing.T) {
	for _, v := range valueSamples {
		if got, want := canon(v), canonByJSON(v); got != want {
			t.Errorf("canon(%#v) = %q, want %q", v, got, want)
		}
		if got, want := jsonable(v), jsonableByJSON(v); !reflect.DeepEqual(got, want) {
			t.Errorf("jsonable(%#v) = %#v, want %#v", v, got, want)
		}
	}
}

func FuzzCanonAndJSONableStrings(f *testing.F) {
	for _, v := range valueSamples {
		if s, ok := v.(string); ok {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := canon(s), canonByJSON(s); got != want {
			t.Errorf("canon(%q) = %q, want %q", s, got, want)
		}
		if got, want := jsonable(s), jsonableByJSON(s); !reflect.DeepEqual(got, want) {
			t.Errorf("jsonable(%q) = %#v, want %#v", s, got, want)
		}
	})
}
