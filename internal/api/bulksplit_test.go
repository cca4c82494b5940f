package api

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSplitValidArrayMatchesDecoder compares the one-pass split with
// splitJSONArray over generated bodies: valid arrays of contacts with
// brackets, quotes and escapes inside strings, nesting and odd white
// space, and the same bodies broken (cut short, a comma or a bracket
// dropped or doubled, content after the array). Where the split accepts a
// body it must give splitJSONArray's elements; it must accept exactly the
// bodies splitJSONArray accepts.
func TestSplitValidArrayMatchesDecoder(t *testing.T) {
	t.Parallel()
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 3))
	ws := func() string { return []string{"", " ", "\n", "\t", "\r\n  "}[rng.IntN(5)] }
	strs := []string{`"a"`, `"]"`, `"["`, `"}{"`, `"\""`, `"\\"`, `"a\\\"]"`, `"\u005d"`, `"é"`, `","`, `""`}
	var value func(depth int) string
	value = func(depth int) string {
		switch k := rng.IntN(8); {
		case k < 3 || depth > 3:
			return strs[rng.IntN(len(strs))]
		case k == 3:
			return []string{"1", "-2.5e3", "true", "false", "null"}[rng.IntN(5)]
		case k == 4:
			var b bytes.Buffer
			b.WriteString("[" + ws())
			for i := range rng.IntN(3) {
				if i > 0 {
					b.WriteString(ws() + "," + ws())
				}
				b.WriteString(value(depth + 1))
			}
			b.WriteString(ws() + "]")
			return b.String()
		default:
			var b bytes.Buffer
			b.WriteString("{" + ws())
			for i := range rng.IntN(4) {
				if i > 0 {
					b.WriteString(ws() + "," + ws())
				}
				b.WriteString(strs[rng.IntN(len(strs))] + ws() + ":" + ws() + value(depth+1))
			}
			b.WriteString(ws() + "}")
			return b.String()
		}
	}
	old := func(body []byte) ([][]byte, error) {
		var items [][]byte
		err := splitJSONArray(body, func(raw []byte) error { items = append(items, raw); return nil })
		return items, err
	}
	accepted, refused := 0, 0
	for n := range 20000 {
		var b bytes.Buffer
		b.WriteString(ws() + "[" + ws())
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteString(ws() + "," + ws())
			}
			if n%2 == 0 {
				fmt.Fprintf(&b, `{"member_id":%s,"name":%s,"social_identities":[{"channel_type":"line","user_id":%s}]}`,
					strs[rng.IntN(len(strs))], strs[rng.IntN(len(strs))], strs[rng.IntN(len(strs))])
			} else {
				b.WriteString(value(0))
			}
		}
		b.WriteString(ws() + "]" + ws())
		body := b.Bytes()
		if n%3 == 0 && len(body) > 0 { // break it
			i := rng.IntN(len(body))
			switch rng.IntN(4) {
			case 0:
				body = body[:i]
			case 1:
				body = slices.Delete(slices.Clone(body), i, i+1)
			case 2:
				body = slices.Insert(slices.Clone(body), i, "],{\"["[rng.IntN(5)])
			default:
				body = append(slices.Clone(body), []string{"[]", "x", ",", "{}"}[rng.IntN(4)]...)
			}
		}
		want, wantErr := old(body)
		got, ok := splitValidArray(body)
		if !ok {
			if wantErr == nil {
				t.Fatalf("splitValidArray refused %q, a valid array (seed %d)", body, seed)
			}
			refused++
			continue
		}
		accepted++
		if wantErr != nil {
			t.Fatalf("splitValidArray accepted %q, which splitJSONArray refuses: %v (seed %d)", body, wantErr, seed)
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("splitValidArray(%q) = %q, splitJSONArray: %q (seed %d)", body, got, want, seed)
		}
	}
	t.Logf("%d bodies accepted, %d refused (seed %d)", accepted, refused, seed)
}
