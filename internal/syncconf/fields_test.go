package syncconf

import (
	"slices"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
)

func TestPlatformFields(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.CustomFields = append(env.CustomFields, contact.CustomFieldDef{Key: "weird", Type: "json"})
	var names []string
	for _, f := range env.PlatformFields() {
		names = append(names, f.Name+":"+string(f.Kind))
	}
	want := []string{"member_id:text", "name:text", "phone:phone", "email:email", "birthday:date", "gender:select", "tags:tags",
		"custom.vip:select", "custom.tier:select", "custom.points:number", "custom.opt_in:boolean", "custom.last_purchase:date", "custom.note:text"}
	if !slices.Equal(names, want) {
		t.Errorf("PlatformFields() = %v, want %v", names, want)
	}
	if _, ok := env.PlatformField("custom.weird"); ok {
		t.Errorf("PlatformField(custom.weird) found a field of unknown type, want none")
	}
	if _, ok := env.PlatformField("vip"); ok {
		t.Errorf("PlatformField(vip) found a field without the custom. prefix, want none")
	}
}

func TestPlatformValue(t *testing.T) {
	t.Parallel()
	c := contact.Contact{MemberID: "M1", Name: "王", Phone: "+886912345678", Email: "a@x.com", Birthday: "2000-01-02",
		Gender: contact.GenderFemale, Tags: []string{"vip"}, Custom: map[string]any{"points": 3.0}, Updated: time.Now()}
	tests := []struct {
		field string
		want  any
	}{
		{"member_id", "M1"}, {"name", "王"}, {"phone", "+886912345678"}, {"email", "a@x.com"},
		{"birthday", "2000-01-02"}, {"gender", "female"}, {"tags", []string{"vip"}},
		{"custom.points", 3.0}, {"custom.note", nil}, {"fax", nil},
	}
	for _, tt := range tests {
		got := PlatformValue(c, tt.field)
		if !slices.Equal(toStrings(got), toStrings(tt.want)) {
			t.Errorf("PlatformValue(%s) = %#v, want %#v", tt.field, got, tt.want)
		}
	}
	if got := PlatformValue(contact.Contact{}, "tags"); got != nil {
		t.Errorf("PlatformValue(no tags) = %#v, want nil", got)
	}
	if got := PlatformValue(contact.Contact{}, "email"); got != nil {
		t.Errorf("PlatformValue(no e-mail) = %#v, want nil", got)
	}
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case nil:
		return []string{"<nil>"}
	}
	s, _ := textOf("", v)
	return []string{s}
}

func TestOperatorsFor(t *testing.T) {
	t.Parallel()
	if got := OperatorsFor("boolean"); !slices.Equal(got, []Operator{OpEquals, OpNotEquals}) {
		t.Errorf("OperatorsFor(boolean) = %v, want [equals not_equals]", got)
	}
	if got := OperatorsFor("date"); slices.Contains(got, OpContains) || !slices.Contains(got, OpGTE) {
		t.Errorf("OperatorsFor(date) = %v, want gte and no contains", got)
	}
	if got := OperatorsFor("address"); len(got) != 0 {
		t.Errorf("OperatorsFor(address) = %v, want none", got)
	}
	got := OperatorsFor("string")
	got[0] = "mutated"
	if OperatorsFor("string")[0] != OpEquals {
		t.Errorf("OperatorsFor returned the shared table, want a copy")
	}
}

func TestSetPlatformValue(t *testing.T) {
	t.Parallel()
	values := map[string]any{
		"member_id": "M1", "name": "王小明", "phone": "+886912345678", "email": "a@x.com", "birthday": "2000-01-02",
		"gender": "other", "tags": []string{"a", "b"}, "custom.points": 3.0, "custom.vip": "Gold", "custom.opt_in": true,
	}
	var c contact.Contact
	for field, v := range values {
		if err := SetPlatformValue(&c, field, v); err != nil {
			t.Fatalf("SetPlatformValue(%s, %#v) error: %v", field, v, err)
		}
	}
	for field, v := range values {
		if got := PlatformValue(c, field); !slices.Equal(toStrings(got), toStrings(v)) {
			t.Errorf("after SetPlatformValue(%s, %#v): PlatformValue = %#v", field, v, got)
		}
	}
	for field := range values {
		if err := SetPlatformValue(&c, field, nil); err != nil {
			t.Fatalf("SetPlatformValue(%s, nil) error: %v", field, err)
		}
		if got := PlatformValue(c, field); got != nil {
			t.Errorf("after clearing %s: PlatformValue = %#v, want nil", field, got)
		}
	}
	bad := []struct {
		field string
		v     any
	}{{"gender", "robot"}, {"tags", "a;b"}, {"name", 3.0}, {"fax", "1"}}
	for _, b := range bad {
		if err := SetPlatformValue(&c, b.field, b.v); err == nil {
			t.Errorf("SetPlatformValue(%s, %#v) error = nil, want an error", b.field, b.v)
		}
	}
}
