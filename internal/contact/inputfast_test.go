package contact

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var plainInputCases = []struct {
	in   string
	fast bool // plainInput takes it
}{
	{`{}`, true},
	{` { } `, true},
	{`{"member_id":"M0000001","name":"Contact 1","phone":"+886912345678","email":"a@b.tw","social_identities":[{"channel_type":"line","channel_id":"@oa","user_id":"U1"}]}`, true},
	{`{"name":"王小明","gender":"female","birthday":"1990-01-02","tags":["vip","新客"]}`, true},
	{"{\n\t\"name\" : \"x\" ,\r\n \"tags\" : [ ] }\n", true},
	{`{"name":null,"phone":null,"tags":null,"social_identities":null}`, true},
	{`{"social_identities":[]}`, true},
	{`{"name":""}`, true},
	{`{"name":"a]b","social_identities":[{"user_id":"]}"}]}`, true},
	{`{"Name":"x"}`, false},            // encoding/json matches names in any case
	{`{"name":"x","name":"y"}`, false}, // and decodes a member twice
	{`{"name":"a\"b"}`, false},         // escapes
	{`{"name":"a\u0041"}`, false},      //
	{"{\"name\":\"a\x01\"}", false},    // control characters: an error
	{"{\"name\":\"\xff\"}", false},     // not UTF-8: U+FFFD
	{`{"name":1}`, false},              // the decoder's error
	{`{"tags":"vip"}`, false},          //
	{`{"tags":[1]}`, false},            //
	{`{"tags":[null]}`, false},         //
	{`{"custom_fields":{"tier":"gold"}}`, false},
	{`{"other":"x"}`, false},
	{`{"social_identities":[{"channel_type":null}]}`, false},
	{`{"social_identities":{"channel_type":"line"}}`, false},
	{`{"name":"x",}`, false},
	{`{"name":"x"`, false},
	{`{"name":"x"} {}`, false},
	{`{"name":"x"}x`, false},
	{`{"name" "x"}`, false},
	{`{"name":nul}`, false},
	{`{"name":nullx}`, false},
	{`null`, false},
	{`[]`, false},
	{``, false},
}

// slowInput is DecodeInput's decoder alone, the reference plainInput
// must agree with.
func slowInput(data []byte) (Input, bool) {
	var in Input
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		return Input{}, false
	}
	return in, true
}

// TestPlainInput: where the shortcut decodes a document, the decoder
// decodes it to the same; what it declines goes to the decoder.
func TestPlainInput(t *testing.T) {
	t.Parallel()
	for _, c := range plainInputCases {
		got, ok := plainInput([]byte(c.in))
		if ok != c.fast {
			t.Errorf("%s: taken %v, want %v", c.in, ok, c.fast)
		}
		if !ok {
			continue
		}
		want, ok := slowInput([]byte(c.in))
		if !ok {
			t.Errorf("%s: taken, but the decoder refuses it", c.in)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", c.in, got, want)
		}
	}
	// Through DecodeInput, the cases the decoder refuses still fail
	// with its errors.
	if _, err := DecodeInput([]byte(`{"name":1}`)); err == nil || err.Error() != "invalid contact: name: must be a string, not number" {
		t.Errorf(`{"name":1}: %v`, err)
	}
}

// FuzzPlainInput checks the same on any input.
func FuzzPlainInput(f *testing.F) {
	for _, c := range plainInputCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := plainInput([]byte(in))
		if !ok {
			return
		}
		want, ok := slowInput([]byte(in))
		if !ok {
			t.Fatalf("%q: taken, but the decoder refuses it", in)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", in, got, want)
		}
	})
}

// FuzzPlainJSONString: where the string shortcut Opt[string] uses takes
// a value, json.Unmarshal into a string gives the same (FuzzPlainInput's
// reference decodes Opt through the shortcut itself, so this checks it
// against the decoder alone).
func FuzzPlainJSONString(f *testing.F) {
	for _, s := range []string{`"x"`, `"王小明"`, `"a\"b"`, "\"\xff\"", `"a` + "\u2028" + `b"`, `""`, `"x" `, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := plainJSONString([]byte(in))
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%q: taken, but Unmarshal fails: %v", in, err)
		}
		if got != want {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
	})
}
