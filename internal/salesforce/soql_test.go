package salesforce

import (
	"testing"
	"time"
)

func TestQuoteString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `''`},
		{"Chen", `'Chen'`},
		{"O'Brien", `'O\'Brien'`},
		{`a\b`, `'a\\b'`},
		{`say "hi"`, `'say \"hi\"'`},
		{"l1\nl2\r\t\b\f", `'l1\nl2\r\t\b\f'`},
		{"' OR Name != '", `'\' OR Name != \''`},
		{`\' OR 1=1`, `'\\\' OR 1=1'`},
		{"50%_off", `'50%_off'`},
		{"陳 ü", `'陳 ü'`},
	}
	for _, tt := range tests {
		if got := QuoteString(tt.in); got != tt.want {
			t.Errorf("QuoteString(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestQuoteLike(t *testing.T) {
	t.Parallel()
	if got, want := QuoteLike("50%_off"), `'50\%\_off'`; got != want {
		t.Errorf("QuoteLike: got %s, want %s", got, want)
	}
	if got, want := QuoteLikePattern("%", "a_b'c", "%"), `'%a\_b\'c%'`; got != want {
		t.Errorf("QuoteLikePattern: got %s, want %s", got, want)
	}
}

func TestFormatLiterals(t *testing.T) {
	t.Parallel()
	tm := time.Date(2024, 3, 5, 17, 12, 44, 999, time.FixedZone("CST", 8*3600))
	if got := FormatDateTime(tm); got != "2024-03-05T09:12:44Z" {
		t.Errorf("FormatDateTime: got %s, want 2024-03-05T09:12:44Z", got)
	}
	if got := FormatDate(tm); got != "2024-03-05" {
		t.Errorf("FormatDate: got %s, want 2024-03-05", got)
	}
	for _, s := range []string{"2024-03-05T09:12:44.000+0000", "2024-03-05T17:12:44.000+0800", "2024-03-05T09:12:44.000Z"} {
		got, err := ParseDateTime(s)
		if err != nil || !got.Equal(time.Date(2024, 3, 5, 9, 12, 44, 0, time.UTC)) {
			t.Errorf("ParseDateTime(%s): got %v, %v, want 2024-03-05T09:12:44Z", s, got, err)
		}
	}
}

func TestValidFieldName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"Email", true},
		{"Member_Id__c", true},
		{"ns__Member_Id__c", true},
		{"Account.Name", true},
		{"Owner.Profile.Name", true},
		{"Custom__r.Name", true},
		{"MailingAddress", true},
		{"", false},
		{"1Email", false},
		{"_Email", false},
		{"Email_", false},
		{"Email__", false},
		{"Em___ail", false},
		{"a__b__c__d", false},
		{"Email, Phone", false},
		{"Email FROM Contact", false},
		{"Name)", false},
		{"Account..Name", false},
		{".Name", false},
		{"Na-me", false},
		{"Émail", false},
	}
	for _, tt := range tests {
		if got := ValidFieldName(tt.in); got != tt.want {
			t.Errorf("ValidFieldName(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
	if ValidObjectName("Account.Name") {
		t.Errorf("ValidObjectName(Account.Name): got true, want false")
	}
	if !ValidObjectName("Member__c") {
		t.Errorf("ValidObjectName(Member__c): got false, want true")
	}
}
