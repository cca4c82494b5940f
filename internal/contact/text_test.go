package contact

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBadTextIsRefused sends text that cannot be stored faithfully through
// the decode and normalise steps every contact write takes: each is
// refused naming its field, never rewritten to U+FFFD.
func TestBadTextIsRefused(t *testing.T) {
	t.Parallel()
	rules := Rules{Fields: map[string]CustomFieldDef{"note": {Key: "note", Label: "Note", Type: FieldText}}}
	tests := []struct {
		name, body, field, reason string
	}{
		{"NUL escape in a name", `{"name":"Ann\u0000"}`, "name", "NUL"},
		{"NUL escape in a member ID", `{"member_id":"M1\u0000"}`, "member_id", "NUL"},
		{"lone high surrogate", `{"name":"\ud800"}`, "name", `\ud800`},
		{"lone low surrogate", `{"name":"x\udc00y"}`, "name", `\udc00`},
		{"high surrogate then a letter", `{"name":"\ud83dA"}`, "name", "surrogate"},
		{"invalid UTF-8 bytes", "{\"name\":\"Ann\xff\"}", "name", "UTF-8"},
		{"truncated UTF-8", "{\"email\":\"a\xe4\xb8@x.test\"}", "email", "UTF-8"},
		{"in a tag", `{"tags":["ok","b\u0000d"]}`, "tags[1]", "NUL"},
		{"in a social identity", `{"social_identities":[{"channel_type":"line","channel_id":"C1","user_id":"U\u0000"}]}`, "social_identities[0].user_id", "NUL"},
		{"in a custom field", `{"custom_fields":{"note":"\udfff"}}`, "custom_fields.note", "surrogate"},
		{"in a key", `{"custom_fields":{"no\u0000te":"x"}}`, "custom_fields.no", "key must not contain a NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := DecodeInput([]byte(tt.body))
			if err == nil {
				_, err = rules.Normalize(in)
			}
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("got %v, want a field error", err)
			}
			if !strings.HasPrefix(fe[0].Field, tt.field) || !strings.Contains(fe[0].Reason, tt.reason) {
				t.Errorf("got %s: %s, want %s: …%s…", fe[0].Field, fe[0].Reason, tt.field, tt.reason)
			}
		})
	}
}

// TestGoodTextPasses: escapes of valid text, surrogate pairs and
// non-ASCII text are accepted unchanged.
func TestGoodTextPasses(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"name":"王小明"}`, `{"name":"\u738b\u5c0f\u660e"}`, `{"name":"smile \ud83d\ude00"}`, `{"name":"a\\u0000b"}`,
		`{"name":"tab\there \"quoted\" \\ slash\/"}`, `{"tags":["a","b"],"social_identities":[]}`,
	} {
		in, err := DecodeInput([]byte(body))
		if err == nil {
			_, err = Rules{}.Normalize(in)
		}
		if err != nil {
			t.Errorf("%s: got %v, want it accepted", body, err)
		}
	}
	in, _ := DecodeInput([]byte(`{"name":"smile \ud83d\ude00"}`))
	if in.Name.Value != "smile 😀" {
		t.Errorf("got %q, want the surrogate pair decoded", in.Name.Value)
	}
}

// TestTextProblemForDecodedStrings covers text that arrives without JSON
// (forms, the CLI): Normalize checks each string itself.
func TestTextProblemForDecodedStrings(t *testing.T) {
	t.Parallel()
	in := Input{Name: Some("a\x00b"), MemberID: Some("M\xff")}
	_, err := Rules{}.Normalize(in)
	var fe FieldErrors
	if !errors.As(err, &fe) || len(fe) != 2 {
		t.Fatalf("got %v, want two field errors", err)
	}
	got := fe[0].Field + "," + fe[1].Field
	if got != "member_id,name" {
		t.Errorf("got fields %s, want member_id,name", got)
	}
}

// TestCheckJSONTextShortcut: the shortcut for documents without escapes,
// NUL bytes or broken UTF-8 finds what the full scan finds, over random
// documents made of JSON punctuation, escapes and odd bytes.
func TestCheckJSONTextShortcut(t *testing.T) {
	t.Parallel()
	parts := []string{`{`, `}`, `[`, `]`, `"`, `:`, `,`, `a`, `é`, "\x00", "\xff", `\u0000`, `\ud800`, `\udc00`, `\ud83d\ude00`, `\"`, `\\`, `\n`, " "}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50_000 {
		var b strings.Builder
		for range rng.IntN(16) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		data := []byte(b.String())
		got, want := CheckJSONText(data), checkJSONText(data)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("CheckJSONText(%q) = %v; the full scan: %v", data, got, want)
		}
	}
}
