package store

import (
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSharedValues(t *testing.T) {
	t.Parallel()
	null := sql.NullString{}
	tests := []struct {
		name     string
		width    int
		args     []any
		wantSQL  string
		wantArgs []any
	}{
		{"one row", 3, []any{"t", "a", int64(1)}, "(?, ?, ?)", []any{"t", "a", int64(1)}},
		{"shared and own columns", 3, []any{"t", "a", int64(1), "t", "b", int64(1), "t", "c", int64(1)},
			"(?, ?, ?), (?1, ?, ?3), (?1, ?, ?3)", []any{"t", "a", int64(1), "b", "c"}},
		{"a column differing in one row only", 2, []any{"t", null, "t", null, "t", "x"},
			"(?, ?), (?1, ?), (?1, ?)", []any{"t", null, null, "x"}},
		{"types that are never shared", 2, []any{[]byte("b"), 1.5, []byte("b"), 1.5},
			"(?, ?), (?, ?)", []any{[]byte("b"), 1.5, []byte("b"), 1.5}},
		{"equal text of another type", 1, []any{"1", int64(1)}, "(?), (?)", []any{"1", int64(1)}},
		{"nil", 2, []any{nil, "a", nil, "b"}, "(?, ?), (?1, ?)", []any{nil, "a", "b"}},
	}
	for _, tt := range tests {
		gotSQL, gotArgs := sharedValues(tt.width, tt.args)
		if gotSQL != tt.wantSQL || !slices.EqualFunc(gotArgs, tt.wantArgs, func(a, b any) bool {
			if x, ok := a.([]byte); ok {
				y, ok := b.([]byte)
				return ok && string(x) == string(y)
			}
			return a == b
		}) {
			t.Errorf("%s: sharedValues = %q, %v; want %q, %v", tt.name, gotSQL, gotArgs, tt.wantSQL, tt.wantArgs)
		}
	}
}

// TestMustJSONShortcuts: the lists and maps mustJSON writes without the
// encoder come out as the encoder writes them.
func TestMustJSONShortcuts(t *testing.T) {
	t.Parallel()
	for _, v := range []any{[]string{}, []string(nil), []string{"member_id", "custom_fields.tier", "a-b"}, []string{"a<b"}, []string{"é"},
		[]string{`q"`}, []string{""}, map[string]any{}, map[string]any(nil), map[string]any{"k": 1}} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if got, want := mustJSON(v), strings.TrimSuffix(b.String(), "\n"); got != want {
			t.Errorf("mustJSON(%#v) = %s, want %s", v, got, want)
		}
	}
}
