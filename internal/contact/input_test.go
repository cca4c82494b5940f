package contact

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestOptStringMatchesUnmarshal decodes JSON values into Opt[string] and
// compares the result with encoding/json's into a string: plain ASCII
// (the shortcut), escapes, non-ASCII and invalid UTF-8, control bytes,
// null and values of other types.
func TestOptStringMatchesUnmarshal(t *testing.T) {
	t.Parallel()
	values := []string{`""`, `"a"`, `"M0000001"`, `"user1@bench.example.com"`, `"+886 912-345-678"`, `"a\"b"`, `"a\\b"`,
		`"\u0041"`, `"tab\there"`, `"é"`, "\"\xff\"", "\"\x7f\"", `"a/b"`, `null`, `12`, `true`, `[]`, `{}`, `"\ud800"`}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		values = append(values, string(must(json.Marshal(string(b)))), `"`+string(b)+`"`)
	}
	for _, v := range values {
		if !json.Valid([]byte(v)) {
			continue // the outer decoder never hands UnmarshalJSON invalid JSON
		}
		var got Opt[string]
		gotErr := got.UnmarshalJSON([]byte(v))
		var want string
		wantErr := json.Unmarshal([]byte(v), &want)
		if v == "null" {
			if !got.Null || gotErr != nil {
				t.Errorf("null: got %+v, %v", got, gotErr)
			}
			continue
		}
		if got.Value != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("Opt[string] of %q = %q, %v; json.Unmarshal: %q, %v", v, got.Value, gotErr, want, wantErr)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
