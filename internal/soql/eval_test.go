package soql

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// evalRecords is a small data set; records are named by their LastName
// except "nulls", whose LastName is null.
func evalRecords() map[string]rec {
	return map[string]rec{
		"Smith": contact(map[string]any{
			"Id": "003000000000001AAA", "LastName": "Smith", "FirstName": "Anna", "Email": "anna@example.com",
			"Birthdate": day("1990-04-01"), "SystemModstamp": ts("2024-05-15T09:00:00Z"), "CreatedDate": ts("2024-05-15T00:00:00Z"),
			"IsDeleted": false, "MailingLatitude": 48.85, "NumberOfKids__c": 2.0, "AccountId": "001000000000001AAA",
			"Salutation": "Ms.", "Owner.Email": "Owner@Example.com",
		}),
		"smith": contact(map[string]any{
			"Id": "003000000000002AAA", "LastName": "smith", "Email": "ANNA@EXAMPLE.COM",
			"Birthdate": day("1985-12-31"), "SystemModstamp": ts("2024-05-14T23:59:59.999Z"), "CreatedDate": ts("2024-05-14T12:00:00Z"),
			"IsDeleted": true, "MailingLatitude": -3.5, "NumberOfKids__c": 0.0,
		}),
		"O'Brien": contact(map[string]any{
			"Id": "003000000000003AAA", "LastName": "O'Brien", "FirstName": "Seán", "Email": "",
			"SystemModstamp": ts("2024-01-01T00:00:00Z"), "CreatedDate": ts("2023-12-31T23:00:00Z"),
			"IsDeleted": false, "Phone": "+1 (415) 555-1212",
		}),
		"100%_Real": contact(map[string]any{
			"Id": "003000000000004AAA", "LastName": "100%_Real", "Email": "real@example.org",
			"Birthdate": day("2024-05-15"), "SystemModstamp": ts("2024-05-16T00:00:00Z"), "CreatedDate": ts("2024-05-12T08:00:00Z"),
			"IsDeleted": false, "NumberOfKids__c": 10.0,
		}),
		"nulls": contact(map[string]any{"Id": "003000000000005AAA"}),
	}
}

func matching(t *testing.T, where string) []string {
	t.Helper()
	p := mustCompile(t, "SELECT Id FROM Contact WHERE "+where)
	var got []string
	for name, r := range evalRecords() {
		if p.Match(r) {
			got = append(got, name)
		}
	}
	sort.Strings(got)
	return got
}

func TestMatchSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		where string
		want  string // space-separated record names, sorted
	}{
		// Null semantics: = null / != null, and != matching nulls.
		{"Email = null", "O'Brien nulls"}, // the empty string is null
		{"Email != null", "100%_Real Smith smith"},
		{"Email = ''", "O'Brien nulls"},
		{"Email != ''", "100%_Real Smith smith"},
		{"FirstName = 'Anna'", "Smith"},
		{"FirstName != 'Anna'", "100%_Real O'Brien nulls smith"},
		{"NOT FirstName = 'Anna'", "100%_Real O'Brien nulls smith"},
		{"LastName < 'z'", "100%_Real O'Brien Smith smith"},
		{"LastName > null", ""},
		// Case-insensitive strings: =, !=, IN, LIKE, ordering.
		{"LastName = 'SMITH'", "Smith smith"},
		{"Email = 'anna@example.com'", "Smith smith"},
		{"LastName != 'smith'", "100%_Real O'Brien nulls"},
		{"LastName IN ('sMiTh', 'x')", "Smith smith"},
		{"LastName IN ('a','b','c','d','e','f','g','h','i','SMITH','o\\'brien')", "O'Brien Smith smith"},
		{"LastName NOT IN ('SMITH')", "100%_Real O'Brien nulls"},
		{"LastName NOT IN ('SMITH', null)", "100%_Real O'Brien"},
		{"LastName IN ('SMITH', null)", "Smith nulls smith"},
		{"LastName >= 'S'", "Smith smith"},
		{"LastName < 'p'", "100%_Real O'Brien"},
		{"FirstName = 'SEÁN'", "O'Brien"},
		{"Owner.Email = 'owner@example.com'", "Smith"},
		// LIKE: % and _, escapes, case, nulls.
		{"LastName LIKE 'sm%'", "Smith smith"},
		{"LastName LIKE 'S_ITH'", "Smith smith"},
		{"LastName LIKE '%\\'%'", "O'Brien"},
		{"LastName LIKE '100\\%\\_%'", "100%_Real"},
		{"LastName LIKE '100\\%x%'", ""},
		{"LastName LIKE '%'", "100%_Real O'Brien Smith smith"},
		{"NOT LastName LIKE 's%'", "100%_Real O'Brien nulls"},
		{"Phone LIKE '%555%'", "O'Brien"},
		{"Salutation = 'ms.'", "Smith"},
		// Ids: 15- and 18-character forms, case from the checksum suffix.
		{"Id = '003000000000001'", "Smith"},
		{"Id = '003000000000001AAA'", "Smith"},
		{"Id = '003000000000001aaa'", "Smith"},
		{"Id IN ('003000000000001', '003000000000002AAA')", "Smith smith"},
		{"Id != '003000000000001AAA'", "100%_Real O'Brien nulls smith"},
		{"Id > '003000000000003'", "100%_Real nulls"},
		{"AccountId = null", "100%_Real O'Brien nulls smith"},
		{"AccountId != '001000000000001'", "100%_Real O'Brien nulls smith"},
		// Numbers.
		{"MailingLatitude > 0", "Smith"},
		{"MailingLatitude < 0", "smith"},
		{"MailingLatitude >= -3.5", "Smith smith"},
		{"MailingLatitude != 48.85", "100%_Real O'Brien nulls smith"},
		{"NumberOfKids__c IN (0, 10)", "100%_Real smith"},
		{"NumberOfKids__c NOT IN (0, 10)", "O'Brien Smith nulls"},
		{"NumberOfKids__c <= 2", "Smith smith"},
		// Booleans.
		{"IsDeleted = true", "smith"},
		{"IsDeleted = FALSE", "100%_Real O'Brien Smith"},
		{"IsDeleted != true", "100%_Real O'Brien Smith nulls"},
		{"IsDeleted IN (true)", "smith"},
		// Dates and dateTimes with fixed literals.
		{"Birthdate = 1990-04-01", "Smith"},
		{"Birthdate < 1990-04-01", "smith"},
		{"Birthdate <= 1990-04-01", "Smith smith"},
		{"Birthdate != 1990-04-01", "100%_Real O'Brien nulls smith"},
		{"Birthdate IN (1990-04-01, 1985-12-31)", "Smith smith"},
		{"SystemModstamp >= 2024-05-15T09:00:00Z", "100%_Real Smith"},
		{"SystemModstamp > 2024-05-15T09:00:00Z", "100%_Real"},
		{"SystemModstamp >= 2024-05-15T11:00:00+02:00", "100%_Real Smith"},
		{"SystemModstamp = 2024-05-14T23:59:59.999Z", "smith"},
		{"SystemModstamp < 2024-05-14T23:59:59.999Z", "O'Brien"},
		// Relative date literals; now is Wednesday 2024-05-15 13:45 UTC.
		{"CreatedDate = TODAY", "Smith"},
		{"CreatedDate = YESTERDAY", "smith"},
		{"CreatedDate < TODAY", "100%_Real O'Brien smith"},
		{"CreatedDate <= TODAY", "100%_Real O'Brien Smith smith"},
		{"CreatedDate > YESTERDAY", "Smith"},
		{"CreatedDate >= YESTERDAY", "Smith smith"},
		{"CreatedDate != TODAY", "100%_Real O'Brien nulls smith"},
		{"CreatedDate = THIS_WEEK", "100%_Real Smith smith"}, // Sunday 12 May .. Saturday 18 May
		{"CreatedDate = LAST_N_DAYS:1", "Smith smith"},
		{"CreatedDate = LAST_N_DAYS:3", "100%_Real Smith smith"},
		{"CreatedDate = N_DAYS_AGO:3", "100%_Real"},
		{"CreatedDate = LAST_YEAR", "O'Brien"},
		{"CreatedDate = THIS_MONTH", "100%_Real Smith smith"},
		{"CreatedDate = LAST_MONTH", ""},
		{"CreatedDate IN (TODAY, LAST_YEAR)", "O'Brien Smith"},
		{"Birthdate = TODAY", "100%_Real"},
		{"Birthdate < LAST_N_YEARS:30", "Smith smith"}, // before 1994-01-01
		{"Birthdate = LAST_N_YEARS:40", "Smith smith"},
		// Logic.
		{"LastName = 'smith' AND IsDeleted = false", "Smith"},
		{"LastName = 'smith' AND IsDeleted = false AND Email != null", "Smith"},
		{"IsDeleted = true OR Email = null", "O'Brien nulls smith"},
		{"IsDeleted = true OR Email = null OR LastName LIKE '1%'", "100%_Real O'Brien nulls smith"},
		{"(IsDeleted = true OR Email = null) AND Id != null", "O'Brien nulls smith"},
		{"NOT (IsDeleted = true OR Email = null)", "100%_Real Smith"},
		{"NOT NOT IsDeleted = true", "smith"},
	}
	for _, tt := range tests {
		got := strings.Join(matching(t, tt.where), " ")
		if got != tt.want {
			t.Errorf("WHERE %s:\n got [%s]\nwant [%s]", tt.where, got, tt.want)
		}
	}
}

func TestNoWhereMatchesAll(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "SELECT Id FROM Contact")
	for name, r := range evalRecords() {
		if !p.Match(r) {
			t.Errorf("record %s: got no match, want match without WHERE", name)
		}
	}
}

// TestWrongGoTypeIsNull: a value of a Go type the describe type does not
// predict is evaluated as null rather than panicking.
func TestWrongGoTypeIsNull(t *testing.T) {
	t.Parallel()
	r := contact(map[string]any{"LastName": 42, "Birthdate": "1990-01-01", "IsDeleted": "yes"})
	for _, where := range []string{"LastName = null", "Birthdate = null", "IsDeleted = null", "LastName != 'x'"} {
		if !mustCompile(t, "SELECT Id FROM Contact WHERE "+where).Match(r) {
			t.Errorf("WHERE %s: got no match, want match", where)
		}
	}
	p := mustCompile(t, "SELECT Id FROM Contact ORDER BY LastName, Birthdate, IsDeleted")
	if p.Less(r, r) {
		t.Errorf("Less(r, r) = true, want false")
	}
}

func TestOrderBy(t *testing.T) {
	t.Parallel()
	recs := evalRecords()
	names := func(order string) string {
		p := mustCompile(t, "SELECT Id FROM Contact ORDER BY "+order)
		keys := make([]string, 0, len(recs))
		for k := range recs {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic input for the stable sort
		slices.SortStableFunc(keys, func(a, b string) int {
			switch {
			case p.Less(recs[a], recs[b]):
				return -1
			case p.Less(recs[b], recs[a]):
				return 1
			}
			return 0
		})
		return strings.Join(keys, " ")
	}
	tests := []struct{ order, want string }{
		// Strings sort case-insensitively; ASC puts nulls first, DESC last.
		{"LastName", "nulls 100%_Real O'Brien Smith smith"},
		{"LastName ASC NULLS LAST", "100%_Real O'Brien Smith smith nulls"},
		{"LastName DESC", "Smith smith O'Brien 100%_Real nulls"},
		{"LastName DESC NULLS FIRST", "nulls Smith smith O'Brien 100%_Real"},
		{"LastName DESC, Id DESC", "smith Smith O'Brien 100%_Real nulls"},
		{"LastName, Id DESC", "nulls 100%_Real O'Brien smith Smith"},
		// Email: "" is null; ANNA@ and anna@ tie.
		{"Email, LastName", "nulls O'Brien Smith smith 100%_Real"},
		{"Email NULLS LAST, Id", "Smith smith 100%_Real O'Brien nulls"},
		{"MailingLatitude", "100%_Real O'Brien nulls smith Smith"},
		{"MailingLatitude DESC", "Smith smith 100%_Real O'Brien nulls"},
		{"NumberOfKids__c DESC, LastName", "100%_Real Smith smith nulls O'Brien"},
		{"IsDeleted, Id", "nulls Smith O'Brien 100%_Real smith"},
		{"Birthdate", "O'Brien nulls smith Smith 100%_Real"},
		{"SystemModstamp DESC", "100%_Real Smith smith O'Brien nulls"},
		{"Id DESC", "nulls 100%_Real O'Brien smith Smith"},
	}
	for _, tt := range tests {
		if got := names(tt.order); got != tt.want {
			t.Errorf("ORDER BY %s:\n got %s\nwant %s", tt.order, got, tt.want)
		}
	}
}

func TestDateLiteralRanges(t *testing.T) {
	t.Parallel()
	// now: Wednesday 2024-05-15 13:45 UTC; weeks start on Sunday.
	tests := []struct {
		lit        string
		n          int
		start, end string
	}{
		{"TODAY", 0, "2024-05-15", "2024-05-16"},
		{"YESTERDAY", 0, "2024-05-14", "2024-05-15"},
		{"TOMORROW", 0, "2024-05-16", "2024-05-17"},
		{"THIS_WEEK", 0, "2024-05-12", "2024-05-19"},
		{"LAST_WEEK", 0, "2024-05-05", "2024-05-12"},
		{"NEXT_WEEK", 0, "2024-05-19", "2024-05-26"},
		{"THIS_MONTH", 0, "2024-05-01", "2024-06-01"},
		{"LAST_MONTH", 0, "2024-04-01", "2024-05-01"},
		{"NEXT_MONTH", 0, "2024-06-01", "2024-07-01"},
		{"LAST_90_DAYS", 0, "2024-02-15", "2024-05-16"},
		{"NEXT_90_DAYS", 0, "2024-05-16", "2024-08-14"},
		{"LAST_N_DAYS", 1, "2024-05-14", "2024-05-16"},
		{"LAST_N_DAYS", 30, "2024-04-15", "2024-05-16"},
		{"NEXT_N_DAYS", 7, "2024-05-16", "2024-05-23"},
		{"N_DAYS_AGO", 2, "2024-05-13", "2024-05-14"},
		{"LAST_N_WEEKS", 2, "2024-04-28", "2024-05-12"},
		{"NEXT_N_WEEKS", 1, "2024-05-19", "2024-05-26"},
		{"N_WEEKS_AGO", 1, "2024-05-05", "2024-05-12"},
		{"LAST_N_MONTHS", 2, "2024-03-01", "2024-05-01"},
		{"NEXT_N_MONTHS", 2, "2024-06-01", "2024-08-01"},
		{"N_MONTHS_AGO", 5, "2023-12-01", "2024-01-01"},
		{"THIS_QUARTER", 0, "2024-04-01", "2024-07-01"},
		{"LAST_QUARTER", 0, "2024-01-01", "2024-04-01"},
		{"NEXT_QUARTER", 0, "2024-07-01", "2024-10-01"},
		{"LAST_N_QUARTERS", 2, "2023-10-01", "2024-04-01"},
		{"THIS_YEAR", 0, "2024-01-01", "2025-01-01"},
		{"LAST_YEAR", 0, "2023-01-01", "2024-01-01"},
		{"NEXT_N_YEARS", 2, "2025-01-01", "2027-01-01"},
		{"N_YEARS_AGO", 1, "2023-01-01", "2024-01-01"},
		{"THIS_FISCAL_YEAR", 0, "2024-01-01", "2025-01-01"},
		{"LAST_FISCAL_QUARTER", 0, "2024-01-01", "2024-04-01"},
	}
	for _, tt := range tests {
		s, e := dateRange(tt.lit, tt.n, testNow)
		if !s.Equal(day(tt.start)) || !e.Equal(day(tt.end)) {
			t.Errorf("%s:%d: got [%s, %s), want [%s, %s)", tt.lit, tt.n, s.Format("2006-01-02"), e.Format("2006-01-02"), tt.start, tt.end)
		}
	}
	for name := range dateLiterals {
		q := "SELECT Id FROM Contact WHERE CreatedDate = " + name
		if dateLiterals[name].takesN {
			q += ":3"
		}
		mustCompile(t, q)
	}
}

func TestEscapeHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, quoted, like string }{
		{"plain", `'plain'`, `plain`},
		{"O'Brien", `'O\'Brien'`, `O\'Brien`},
		{`a\b`, `'a\\b'`, `a\\b`},
		{"say \"hi\"", `'say \"hi\"'`, `say \"hi\"`},
		{"l1\nl2\r\tx\b\f", `'l1\nl2\r\tx\b\f'`, `l1\nl2\r\tx\b\f`},
		{"nul\x00esc\x1bdel\x7f", `'nul\u0000esc\u001Bdel\u007F'`, `nul\u0000esc\u001Bdel\u007F`},
		{"100%_done", `'100%_done'`, `100\%\_done`},
		{"日本", `'日本'`, `日本`},
	}
	for _, tt := range tests {
		if got := QuoteString(tt.in); got != tt.quoted {
			t.Errorf("QuoteString(%q) = %s, want %s", tt.in, got, tt.quoted)
		}
		if got := EscapeLike(tt.in); got != tt.like {
			t.Errorf("EscapeLike(%q) = %s, want %s", tt.in, got, tt.like)
		}
		// An escaped LIKE pattern matches exactly the original string,
		// ignoring case, and a prefix pattern matches longer strings.
		p := mustCompile(t, "SELECT Id FROM Contact WHERE LastName LIKE '"+EscapeLike(tt.in)+"'")
		if !p.Match(contact(map[string]any{"LastName": tt.in})) {
			t.Errorf("LIKE '%s': got no match for %q", EscapeLike(tt.in), tt.in)
		}
		if p.Match(contact(map[string]any{"LastName": tt.in + "x"})) {
			t.Errorf("LIKE '%s': got match for %q", EscapeLike(tt.in), tt.in+"x")
		}
		p = mustCompile(t, "SELECT Id FROM Contact WHERE LastName LIKE '"+EscapeLike(tt.in)+"%'")
		if !p.Match(contact(map[string]any{"LastName": tt.in + "xyz"})) {
			t.Errorf("LIKE '%s%%': got no match for %q", EscapeLike(tt.in), tt.in+"xyz")
		}
	}
}
