package salesforce

import (
	"strings"
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

// unquoteSOQL decodes a SOQL string literal by the escape rules of the
// SOQL reference (§4.4), independently of QuoteString. It fails on an
// unescaped quote inside, an unknown escape, or a missing closing quote.
func unquoteSOQL(lit string, like bool) (string, bool) {
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", false
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		ch := body[i]
		if ch == '\'' {
			return "", false
		}
		if ch != '\\' {
			b.WriteByte(ch)
			continue
		}
		i++
		if i == len(body) {
			return "", false
		}
		switch body[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		case 'r', 'R':
			b.WriteByte('\r')
		case 't', 'T':
			b.WriteByte('\t')
		case 'b', 'B':
			b.WriteByte('\b')
		case 'f', 'F':
			b.WriteByte('\f')
		case '"', '\'', '\\':
			b.WriteByte(body[i])
		case '%', '_':
			if !like {
				return "", false
			}
			b.WriteByte(body[i])
		default:
			return "", false
		}
	}
	return b.String(), true
}

func FuzzQuoteString(f *testing.F) {
	for _, s := range []string{"", "O'Brien", `a\b`, "\n\r\t\b\f", `\'`, "50%_off", "陳", "'; DELETE", `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var valid strings.Builder // invalid UTF-8 bytes become U+FFFD, one each
		for _, r := range in {
			valid.WriteRune(r)
		}
		s := valid.String()
		got, ok := unquoteSOQL(QuoteString(in), false)
		if !ok || got != s {
			t.Errorf("QuoteString(%q) = %s decodes to %q, %v; want %q", in, QuoteString(in), got, ok, s)
		}
		got, ok = unquoteSOQL(QuoteLike(in), true)
		if !ok || got != s {
			t.Errorf("QuoteLike(%q) = %s decodes to %q, %v; want %q", in, QuoteLike(in), got, ok, s)
		}
		if strings.ContainsAny(s, "%_") && strings.Contains(QuoteLike(s), "%") && !strings.Contains(QuoteLike(s), `\%`) {
			t.Errorf("QuoteLike(%q) = %s leaves a wildcard unescaped", s, QuoteLike(s))
		}
	})
}
