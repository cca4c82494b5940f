package store

import (
	"database/sql"
	"slices"
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
