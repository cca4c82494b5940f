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
		[]string{`q"`}, []string{""}, []string{"a\u2028b", "王"}, []string{"\xff"}, []string{"a\nb"}, map[string]any{}, map[string]any(nil), map[string]any{"k": 1}} {
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

// TestStmtChunks: the chunks cover the slice in order, and every chunk is
// max long or a power of two below it, so a statement of any number of
// rows is one of a few texts.
func TestStmtChunks(t *testing.T) {
	t.Parallel()
	for _, max := range []int{1, 256, 300, 400} {
		sizes := map[int]bool{}
		for n := range 1500 {
			s := make([]int, n)
			for i := range s {
				s[i] = i
			}
			var got []int
			for c := range stmtChunks(s, max) {
				k := len(c)
				if k != max && (k > max || k&(k-1) != 0) {
					t.Fatalf("max %d, n %d: chunk of %d", max, n, k)
				}
				sizes[k] = true
				got = append(got, c...)
			}
			if !slices.Equal(got, s) {
				t.Fatalf("max %d, n %d: chunks joined are %v", max, n, got)
			}
		}
		if limit := bitsLen(max) + 1; len(sizes) > limit {
			t.Errorf("max %d: %d chunk sizes, want at most %d", max, len(sizes), limit)
		}
	}
}

func bitsLen(n int) int {
	k := 0
	for ; n > 0; n >>= 1 {
		k++
	}
	return k
}

// TestPadIn: an IN list grows to a power of two by repeating its last
// value; what comes before it and the set of values stay.
func TestPadIn(t *testing.T) {
	t.Parallel()
	for n := range 70 {
		args := []any{"tenant", "type"}
		for i := range n {
			args = append(args, i)
		}
		got := padIn(slices.Clone(args), 3)
		list := got[2:]
		if !slices.Equal(got[:len(args)], args) {
			t.Fatalf("n %d: %v does not begin with %v", n, got, args)
		}
		if k := len(list); n > 0 && k&(k-1) != 0 || k < n || (n > 0 && k >= 2*n) {
			t.Fatalf("n %d: padded to %d values", n, k)
		}
		for _, v := range list[n:] {
			if v != n-1 {
				t.Fatalf("n %d: padded with %v, want the last value %d", n, v, n-1)
			}
		}
	}
}
