package syncconf

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
)

type transformCase struct {
	sf, platform string
	in           any
	want         any
	wantReason   string // a RecordError's Reason; empty when the value converts
	wantLimit    int
}

func checkTransform(t *testing.T, name string, b Binding, tt transformCase, got any, err error) {
	t.Helper()
	if tt.wantReason == "" {
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s(%s ↔ %s, %#v) = %#v, %v; want %#v", name, tt.sf, tt.platform, tt.in, got, err, tt.want)
		}
		return
	}
	var re *RecordError
	if !errors.As(err, &re) {
		t.Errorf("%s(%s ↔ %s, %#v) = %#v, %v; want a RecordError %s", name, tt.sf, tt.platform, tt.in, got, err, tt.wantReason)
		return
	}
	if re.Reason != tt.wantReason || re.Field != b.Salesforce.Name || re.Limit != tt.wantLimit {
		t.Errorf("%s(%s ↔ %s, %#v): got RecordError{Field: %q, Reason: %q, Limit: %d}, want {Field: %q, Reason: %q, Limit: %d}",
			name, tt.sf, tt.platform, tt.in, re.Field, re.Reason, re.Limit, b.Salesforce.Name, tt.wantReason, tt.wantLimit)
	}
	checkMessages(t, re.Reason, re.Message)
	if !strings.Contains(re.Message[LangEN], b.Salesforce.Name) || !strings.Contains(re.Message[LangZHTW], b.Salesforce.Name) {
		t.Errorf("%s: got messages %q, want them to name the field %s", name, re.Message, b.Salesforce.Name)
	}
}

func TestToPlatform(t *testing.T) {
	t.Parallel()
	tests := []transformCase{
		// Phone (S12): only valid international numbers; a country is never guessed.
		{sf: "MobilePhone", platform: "phone", in: "886912345678", want: "+886912345678"},
		{sf: "MobilePhone", platform: "phone", in: "+886 912-345-678", want: "+886912345678"},
		{sf: "MobilePhone", platform: "phone", in: "+1 (650) 253-0000", want: "+16502530000"},
		{sf: "MobilePhone", platform: "phone", in: "0912345678", wantReason: "invalid_phone"},
		{sf: "MobilePhone", platform: "phone", in: "4155551212", wantReason: "invalid_phone"},
		{sf: "MobilePhone", platform: "phone", in: "call me", wantReason: "invalid_phone"},
		{sf: "MobilePhone", platform: "phone", in: nil, want: nil},
		{sf: "MobilePhone", platform: "phone", in: "  ", want: nil},
		{sf: "Title", platform: "phone", in: "886912345678", want: "+886912345678"},
		// E-mail.
		{sf: "Title", platform: "email", in: " Amy@Example.COM ", want: "amy@example.com"},
		{sf: "Title", platform: "email", in: "amy@", wantReason: "invalid_email"},
		// Dates and datetimes.
		{sf: "Birthdate", platform: "birthday", in: "2010-01-01", want: "2010-01-01"},
		{sf: "Birthdate", platform: "birthday", in: "2010-13-01", wantReason: "invalid_date"},
		{sf: "Birthdate", platform: "birthday", in: 20100101.0, wantReason: "invalid_date"},
		{sf: "Last_Purchase__c", platform: "custom.last_purchase", in: "2013-05-20T20:49:32.000+0000", want: "2013-05-20"},
		{sf: "Last_Purchase__c", platform: "custom.last_purchase", in: "2013-05-20T23:30:00.000-0200", want: "2013-05-21"},
		{sf: "Last_Purchase__c", platform: "custom.note", in: "2013-05-20T20:49:32.000+0000", want: "2013-05-20T20:49:32Z"},
		{sf: "Last_Purchase__c", platform: "custom.note", in: "20 May 2013", wantReason: "invalid_date"},
		{sf: "Birthdate", platform: "custom.note", in: "2010-01-01", want: "2010-01-01"},
		// Numbers.
		{sf: "Points__c", platform: "custom.points", in: 12.5, want: 12.5},
		{sf: "Points__c", platform: "custom.points", in: json.Number("7"), want: 7.0},
		{sf: "Points__c", platform: "custom.points", in: "abc", wantReason: "invalid_number"},
		{sf: "Age__c", platform: "custom.points", in: 42, want: 42.0},
		// Booleans.
		{sf: "Opt_In__c", platform: "custom.opt_in", in: true, want: true},
		{sf: "Opt_In__c", platform: "custom.opt_in", in: "false", want: false},
		{sf: "Opt_In__c", platform: "custom.opt_in", in: 1.0, wantReason: "invalid_boolean"},
		// Picklists to select fields.
		{sf: "VIP_Level__c", platform: "custom.vip", in: "gold", want: "Gold"},
		{sf: "VIP_Level__c", platform: "custom.vip", in: "Bronze", wantReason: "not_an_option"},
		{sf: "Gender__c", platform: "gender", in: "Female", want: "female"},
		// Tags.
		{sf: "Interests__c", platform: "tags", in: "Music;Travel", want: []string{"Music", "Travel"}},
		{sf: "Tags_Text__c", platform: "tags", in: " a ; b ;; ", want: []string{"a", "b"}},
		{sf: "Tags_Text__c", platform: "tags", in: " ; ", want: nil},
		// Text.
		{sf: "Title", platform: "custom.note", in: "Dr.", want: "Dr."},
		{sf: "AccountId", platform: "custom.note", in: "001000000000001AAA", want: "001000000000001AAA"},
		{sf: "Title", platform: "custom.note", in: []int{1}, wantReason: "unsupported_type"},
	}
	for _, tt := range tests {
		b := binding(t, tt.sf, tt.platform, DirToPlatform)
		got, err := ToPlatform(b, tt.in)
		checkTransform(t, "ToPlatform", b, tt, got, err)
	}
}

func TestToSalesforce(t *testing.T) {
	t.Parallel()
	tests := []transformCase{
		// Phone (S12).
		{sf: "MobilePhone", platform: "phone", in: "+886912345678", want: "+886912345678"},
		{sf: "MobilePhone", platform: "phone", in: "0912345678", wantReason: "invalid_phone"},
		{sf: "MobilePhone", platform: "phone", in: nil, want: nil},
		{sf: "Title", platform: "phone", in: "+1 650 253 0000", want: "+16502530000"},
		// Text length: never let Salesforce answer STRING_TOO_LONG.
		{sf: "Nickname__c", platform: "custom.note", in: "0123456789", want: "0123456789"},
		{sf: "Nickname__c", platform: "custom.note", in: "01234567890", wantReason: "too_long", wantLimit: 10},
		{sf: "Nickname__c", platform: "custom.note", in: "台北台北台北台北台北", want: "台北台北台北台北台北"},
		{sf: "Nickname__c", platform: "custom.note", in: "😀😀😀😀😀x", wantReason: "too_long", wantLimit: 10},
		{sf: "Nickname__c", platform: "name", in: "  ", want: nil},
		// E-mail.
		{sf: "Email", platform: "email", in: " Amy@Example.COM", want: "amy@example.com"},
		{sf: "Email", platform: "custom.note", in: "amy at example", wantReason: "invalid_email"},
		// Dates and datetimes.
		{sf: "Birthdate", platform: "birthday", in: "2010-01-01", want: "2010-01-01"},
		{sf: "Birthdate", platform: "birthday", in: "01/02/2010", wantReason: "invalid_date"},
		{sf: "Last_Purchase__c", platform: "custom.note", in: "2024-01-31T09:00:00+08:00", want: "2024-01-31T01:00:00.000+0000"},
		{sf: "Last_Purchase__c", platform: "custom.note", in: "yesterday", wantReason: "invalid_date"},
		// Numbers.
		{sf: "Points__c", platform: "custom.points", in: 12.5, want: 12.5},
		{sf: "Points__c", platform: "custom.points", in: json.Number("3"), want: 3.0},
		{sf: "Age__c", platform: "custom.points", in: 3.5, wantReason: "not_an_integer"},
		{sf: "Age__c", platform: "custom.points", in: 123456789.0, want: 123456789.0},
		{sf: "Age__c", platform: "custom.points", in: 1e10, wantReason: "number_out_of_range", wantLimit: 9},
		{sf: "Score__c", platform: "custom.points", in: -12345678.99, want: -12345678.99},
		{sf: "Score__c", platform: "custom.points", in: 123456789.0, wantReason: "number_out_of_range", wantLimit: 8},
		{sf: "Points__c", platform: "custom.points", in: "many", wantReason: "invalid_number"},
		// Booleans: Salesforce booleans are never null.
		{sf: "Opt_In__c", platform: "custom.opt_in", in: true, want: true},
		{sf: "Opt_In__c", platform: "custom.opt_in", in: nil, want: false},
		{sf: "Opt_In__c", platform: "custom.opt_in", in: "maybe", wantReason: "invalid_boolean"},
		// Picklists: the value must exist in the describe.
		{sf: "VIP_Level__c", platform: "custom.vip", in: "silver", want: "Silver"},
		{sf: "VIP_Level__c", platform: "custom.tier", in: "Platinum", wantReason: "not_an_option"},
		{sf: "Gender__c", platform: "gender", in: contact.GenderFemale, want: "Female"},
		{sf: "Interests__c", platform: "tags", in: []string{"music", "Travel"}, want: "Music;Travel"},
		{sf: "Interests__c", platform: "tags", in: []any{"Sports"}, want: "Sports"},
		{sf: "Interests__c", platform: "tags", in: []string{"Chess"}, wantReason: "not_an_option"},
		{sf: "Interests__c", platform: "tags", in: []string{}, want: nil},
		{sf: "Tags_Text__c", platform: "tags", in: []string{"a", "b"}, want: "a;b"},
		{sf: "Tags_Text__c", platform: "tags", in: []string{"a;b"}, wantReason: "invalid_text"},
		{sf: "Tags_Text__c", platform: "tags", in: []any{1}, wantReason: "unsupported_type"},
		// Required fields cannot be cleared.
		{sf: "LastName", platform: "name", in: "", wantReason: "required_value"},
		{sf: "LastName", platform: "name", in: "王", want: "王"},
	}
	for _, tt := range tests {
		b := binding(t, tt.sf, tt.platform, DirToSalesforce)
		got, err := ToSalesforce(b, tt.in)
		checkTransform(t, "ToSalesforce", b, tt, got, err)
	}
}

func TestRecordErrorNamesFieldAndValue(t *testing.T) {
	t.Parallel()
	b := binding(t, "MobilePhone", "phone", DirToPlatform)
	_, err := ToPlatform(b, "0912345678")
	var re *RecordError
	if !errors.As(err, &re) {
		t.Fatalf("ToPlatform = %v, want a RecordError", err)
	}
	if re.Value != "0912345678" || !errors.Is(err, contact.ErrPhoneNoCountry) {
		t.Errorf("got Value %#v, cause %v; want the value and contact.ErrPhoneNoCountry", re.Value, re.Err)
	}
	for _, lang := range []string{LangEN, LangZHTW} {
		if m := re.Message[lang]; !strings.Contains(m, "MobilePhone") || !strings.Contains(m, "0912345678") {
			t.Errorf("got %s message %q, want it to name MobilePhone and 0912345678", lang, m)
		}
	}
}

// FuzzPhoneTransforms checks the phone transforms on any input: a value
// is either refused with a RecordError naming the field and the value, or
// becomes an E.164 number that both directions keep unchanged. A number
// without a country code ("0…") is never accepted.
func FuzzPhoneTransforms(f *testing.F) {
	for _, s := range []string{"886912345678", "+886 912-345-678", "0912345678", "4155551212", "+1 650 253 0000", "+", "", "++886", "(02) 2345-6789", "８８６９１２３４５６７８"} {
		f.Add(s)
	}
	pull := binding(f, "MobilePhone", "phone", DirBoth)
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ToPlatform(pull, raw)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || re.Field != "MobilePhone" || re.Value != raw || re.Reason != "invalid_phone" {
				t.Fatalf("ToPlatform(%q) error = %#v, want a RecordError invalid_phone naming MobilePhone and the value", raw, err)
			}
			return
		}
		if got == nil {
			if strings.TrimSpace(raw) != "" {
				t.Fatalf("ToPlatform(%q) = nil, want a number or an error", raw)
			}
			return
		}
		e164, ok := got.(string)
		if !ok || !strings.HasPrefix(e164, "+") || strings.ContainsFunc(e164[1:], func(r rune) bool { return r < '0' || r > '9' }) {
			t.Fatalf("ToPlatform(%q) = %#v, want an E.164 string", raw, got)
		}
		if s := strings.TrimLeft(raw, " \t-.()"); strings.HasPrefix(s, "0") {
			t.Fatalf("ToPlatform(%q) = %q, want an error: the number has no country code", raw, e164)
		}
		back, err := ToSalesforce(pull, e164)
		if err != nil || back != e164 {
			t.Fatalf("ToSalesforce(%q) = %#v, %v; want it unchanged", e164, back, err)
		}
		again, err := ToPlatform(pull, back)
		if err != nil || again != e164 {
			t.Fatalf("ToPlatform(%q) = %#v, %v; want it unchanged", back, again, err)
		}
	})
}
