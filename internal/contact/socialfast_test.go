package contact

import (
	"encoding/json"
	"reflect"
	"testing"
)

var socialListCases = []struct {
	in   string
	fast bool // plainSocialList takes it
}{
	{`[]`, true},
	{` [ ] `, true},
	{`[{}]`, true},
	{`[{"channel_type":"line","channel_id":"@oa","user_id":"U1"}]`, true},
	{`[ { "user_id" : "U1" , "channel_type":"line" } , {"channel_id":"P","channel_type":"facebook","user_id":"9"} ]`, true},
	{`[{"channel_type":""}]`, true},
	{`[{"Channel_Type":"line"}]`, false},                    // Unmarshal matches names in any case
	{`[{"channel_type":"line","channel_type":"x"}]`, false}, // last wins in Unmarshal
	{`[{"channel_type":"li\"ne"}]`, false},
	{`[{"channel_type":"lïne"}]`, true},         // valid UTF-8 decodes to its own bytes
	{"[{\"channel_type\":\"l\xffne\"}]", false}, // Unmarshal would write U+FFFD
	{`[{"channel_type":null}]`, false},
	{`[{"channel_type":1}]`, false},
	{`[{"other":"x"}]`, false},
	{`[null]`, false},
	{`[{"channel_type":"line"},]`, false},
	{`[{"channel_type":"line"}`, false},
	{`[{"channel_type":"line"}] x`, false},
	{`{"channel_type":"line"}`, false},
	{`"x"`, false},
}

// TestPlainSocialList: where the shortcut decodes a list, json.Unmarshal
// decodes it to the same; what it declines goes to Unmarshal.
func TestPlainSocialList(t *testing.T) {
	t.Parallel()
	for _, c := range socialListCases {
		got, ok := plainSocialList([]byte(c.in))
		if ok != c.fast {
			t.Errorf("%s: taken %v, want %v", c.in, ok, c.fast)
		}
		if !ok {
			continue
		}
		var want []SocialIdentity
		if err := json.Unmarshal([]byte(c.in), &want); err != nil {
			t.Errorf("%s: taken, but Unmarshal fails: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", c.in, got, want)
		}
	}
}

// FuzzPlainSocialList checks the same on any input.
func FuzzPlainSocialList(f *testing.F) {
	for _, c := range socialListCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := plainSocialList([]byte(in))
		if !ok {
			return
		}
		var want []SocialIdentity
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%q: taken, but Unmarshal fails: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", in, got, want)
		}
	})
}
