package soql

import (
	"testing"
	"time"
)

func TestParseCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"SELECT Id FROM Contact", "SELECT Id FROM Contact"},
		{"select id, email from contact", "SELECT id, email FROM contact"},
		{"SeLeCt Id,Email,Owner.Email FROM Contact", "SELECT Id, Email, Owner.Email FROM Contact"},
		{"SELECT COUNT() FROM Contact", "SELECT COUNT() FROM Contact"},
		{"select count ( ) from Contact where Email != null", "SELECT COUNT() FROM Contact WHERE Email != null"},
		{"SELECT COUNT(Id) FROM Contact", "SELECT COUNT(Id) FROM Contact"},
		{"SELECT COUNT(Id) n, count(Email) FROM Contact", "SELECT COUNT(Id) n, COUNT(Email) FROM Contact"},
		{"select email, count(id) from contact where email != null group by email having count(id) > 1",
			"SELECT email, COUNT(id) FROM contact WHERE email != null GROUP BY email HAVING COUNT(id) > 1"},
		{"SELECT LastName n, count_distinct(Email), Min(Birthdate) lo, MAX(Birthdate), sum(x), avg(x) a FROM Contact GROUP BY LastName, Owner.Email",
			"SELECT LastName n, COUNT_DISTINCT(Email), MIN(Birthdate) lo, MAX(Birthdate), SUM(x), AVG(x) a FROM Contact GROUP BY LastName, Owner.Email"},
		{"SELECT a, b x FROM Contact GROUP BY a, b HAVING (COUNT(Id) > 1 OR a = 'x') AND NOT SUM(n) IN (1, 2) ORDER BY count(Id) desc, a LIMIT 5 OFFSET 1",
			"SELECT a, b x FROM Contact GROUP BY a, b HAVING (COUNT(Id) > 1 OR a = 'x') AND (NOT SUM(n) IN (1, 2)) ORDER BY COUNT(Id) DESC NULLS LAST, a ASC NULLS FIRST LIMIT 5 OFFSET 1"},
		{"SELECT Count, Max FROM Contact GROUP BY Count, Max", "SELECT Count, Max FROM Contact GROUP BY Count, Max"},
		{"SELECT Id FROM Contact WHERE LastName = 'Smith'", "SELECT Id FROM Contact WHERE LastName = 'Smith'"},
		{"SELECT Id FROM Contact WHERE a = 1 AND b != 2 AND c < 3", "SELECT Id FROM Contact WHERE a = 1 AND b != 2 AND c < 3"},
		{"SELECT Id FROM Contact WHERE a <= 1 or b >= 2 OR c > 3", "SELECT Id FROM Contact WHERE a <= 1 OR b >= 2 OR c > 3"},
		{"SELECT Id FROM Contact WHERE (a = 1 AND b = 2) OR c = 3", "SELECT Id FROM Contact WHERE (a = 1 AND b = 2) OR c = 3"},
		{"SELECT Id FROM Contact WHERE a = 1 AND (b = 2 OR c = 3)", "SELECT Id FROM Contact WHERE a = 1 AND (b = 2 OR c = 3)"},
		{"SELECT Id FROM Contact WHERE ((a = 1))", "SELECT Id FROM Contact WHERE a = 1"},
		{"SELECT Id FROM Contact WHERE NOT a = 1", "SELECT Id FROM Contact WHERE NOT a = 1"},
		{"SELECT Id FROM Contact WHERE NOT a = 1 AND b = 2", "SELECT Id FROM Contact WHERE (NOT a = 1) AND b = 2"},
		{"SELECT Id FROM Contact WHERE NOT (a = 1 OR b = 2)", "SELECT Id FROM Contact WHERE NOT (a = 1 OR b = 2)"},
		{"SELECT Id FROM Contact WHERE Name LIKE 'Ter\\%%'", "SELECT Id FROM Contact WHERE Name LIKE 'Ter\\%%'"},
		{"SELECT Id FROM Contact WHERE NOT Name LIKE 'a%'", "SELECT Id FROM Contact WHERE NOT Name LIKE 'a%'"},
		{"SELECT Id FROM Contact WHERE Id IN ('a','b' , 'c')", "SELECT Id FROM Contact WHERE Id IN ('a', 'b', 'c')"},
		{"SELECT Id FROM Contact WHERE Id NOT IN ('a')", "SELECT Id FROM Contact WHERE Id NOT IN ('a')"},
		{"SELECT Id FROM Contact WHERE n IN (1, -2.5, +3)", "SELECT Id FROM Contact WHERE n IN (1, -2.5, 3)"},
		{"SELECT Id FROM Contact WHERE b = TRUE AND c = false AND d = NULL", "SELECT Id FROM Contact WHERE b = true AND c = false AND d = null"},
		{"SELECT Id FROM Contact WHERE Birthdate = 2024-01-31", "SELECT Id FROM Contact WHERE Birthdate = 2024-01-31"},
		{"SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T10:00:00Z", "SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T10:00:00Z"},
		{"SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T10:00:00+02:00", "SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T08:00:00Z"},
		{"SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T10:00:00.123-0130", "SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T11:30:00.123Z"},
		{"SELECT Id FROM Contact WHERE CreatedDate > 0000-01-01T00:00:00+01:00", "SELECT Id FROM Contact WHERE CreatedDate > 0000-01-01T00:00:00+01:00"},
		{"SELECT Id FROM Contact WHERE CreatedDate < 9999-12-31T23:30:00-01:00", "SELECT Id FROM Contact WHERE CreatedDate < 9999-12-31T23:30:00-01:00"},
		{"SELECT Id FROM Contact WHERE CreatedDate = today", "SELECT Id FROM Contact WHERE CreatedDate = TODAY"},
		{"SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:30", "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:30"},
		{"SELECT Id FROM Contact WHERE CreatedDate > n_days_ago : 3", "SELECT Id FROM Contact WHERE CreatedDate > N_DAYS_AGO:3"},
		{"SELECT Id FROM Contact ORDER BY LastName", "SELECT Id FROM Contact ORDER BY LastName ASC NULLS FIRST"},
		{"SELECT Id FROM Contact ORDER BY LastName DESC, Id", "SELECT Id FROM Contact ORDER BY LastName DESC NULLS LAST, Id ASC NULLS FIRST"},
		{"SELECT Id FROM Contact ORDER BY LastName desc nulls first, Email asc nulls last", "SELECT Id FROM Contact ORDER BY LastName DESC NULLS FIRST, Email ASC NULLS LAST"},
		{"SELECT Id FROM Contact LIMIT 10", "SELECT Id FROM Contact LIMIT 10"},
		{"SELECT Id FROM Order ORDER BY Id", "SELECT Id FROM Order ORDER BY Id ASC NULLS FIRST"},
		{"SELECT Id FROM group", "SELECT Id FROM group"},
		{"SELECT Id FROM Contact LIMIT 0", "SELECT Id FROM Contact LIMIT 0"},
		{"SELECT Id FROM Contact LIMIT 10 OFFSET 2000", "SELECT Id FROM Contact LIMIT 10 OFFSET 2000"},
		{"SELECT Id FROM Contact OFFSET 5", "SELECT Id FROM Contact OFFSET 5"},
		{"SELECT Id\nFROM Contact\n\tWHERE Email != null\r\nORDER BY Id", "SELECT Id FROM Contact WHERE Email != null ORDER BY Id ASC NULLS FIRST"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("Parse(%q).String():\n got %q\nwant %q", tt.in, got, tt.want)
		}
		// The canonical form parses back to itself.
		q2, err := Parse(q.String())
		if err != nil {
			t.Errorf("Parse(%q) (canonical form): %v", q.String(), err)
			continue
		}
		if got := q2.String(); got != tt.want {
			t.Errorf("round trip of %q: got %q", tt.want, got)
		}
	}
}

func TestParseStructure(t *testing.T) {
	t.Parallel()
	q := mustParse(t, "SELECT Id, Owner.Email FROM Contact WHERE Email != null AND SystemModstamp > 2024-01-31T10:00:00Z ORDER BY SystemModstamp, Id LIMIT 200")
	if q.Object != "Contact" || q.ObjectPos != (Pos{Offset: 28, Row: 1, Column: 29}) {
		t.Errorf("got object %q at %+v, want Contact at column 29", q.Object, q.ObjectPos)
	}
	if len(q.Select) != 2 || q.Select[1].Path != "Owner.Email" || q.Select[1].Pos.Column != 12 {
		t.Errorf("got select %+v, want Id and Owner.Email at column 12", q.Select)
	}
	l, ok := q.Where.(*Logic)
	if !ok || l.Or || len(l.Terms) != 2 {
		t.Fatalf("got where %#v, want an AND of two terms", q.Where)
	}
	c := l.Terms[1].(*Comparison)
	if c.Field != "SystemModstamp" || c.Op != OpGt || c.Value.Kind != KindDateTime || !c.Value.Time.Equal(ts("2024-01-31T10:00:00Z")) {
		t.Errorf("got %+v, want SystemModstamp > 2024-01-31T10:00:00Z", c)
	}
	if c.Value.Time.Location() != time.UTC {
		t.Errorf("got location %v, want UTC", c.Value.Time.Location())
	}
	if q.Limit != 200 || q.Offset != 0 || len(q.OrderBy) != 2 {
		t.Errorf("got limit %d offset %d order %v", q.Limit, q.Offset, q.OrderBy)
	}
	if q := mustParse(t, "SELECT Id FROM Contact"); q.Limit != -1 || q.Where != nil {
		t.Errorf("got limit %d where %v, want -1 and nil", q.Limit, q.Where)
	}
}

func TestParseStringLiterals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lit  string
		want string
	}{
		{`'plain'`, "plain"},
		{`''`, ""},
		{`'O\'Brien'`, "O'Brien"},
		{`'say \"hi\"'`, `say "hi"`},
		{`'back\\slash'`, `back\slash`},
		{`'a\nb\rc\td\be\ff'`, "a\nb\rc\td\be\ff"},
		{`'A\NB\RC\TD\BE\FF'`, "A\nB\rC\tD\bE\fF"},
		{`'caf\u00e9'`, "café"},
		{`'\u00C9t\u00E9'`, "Été"},
		{`'\uD83D\uDE00'`, "😀"},
		{`'100% _ok_'`, "100% _ok_"},
		{"'raw\nnewline'", "raw\nnewline"},
		{`'日本語'`, "日本語"},
	}
	for _, tt := range tests {
		src := "SELECT Id FROM Contact WHERE LastName = " + tt.lit
		q, err := Parse(src)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		c := q.Where.(*Comparison)
		if c.Value.Kind != KindString || c.Value.Str != tt.want {
			t.Errorf("literal %s: got %q, want %q", tt.lit, c.Value.Str, tt.want)
		}
	}
}

func TestParseLikeEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		str     string // decoded text
		match   []string
		noMatch []string
	}{
		{`'Ter%'`, "Ter%", []string{"Ter", "terrible", "TERRA"}, []string{"Te", "aTer"}},
		{`'Ter\%'`, "Ter%", []string{"Ter%", "ter%"}, []string{"Ter", "Terx"}},
		{`'Ter\%%'`, "Ter%%", []string{"Ter%", "Ter%abc"}, []string{"Ter", "Terabc"}},
		{`'a\_c'`, "a_c", []string{"a_c", "A_C"}, []string{"abc"}},
		{`'a_c'`, "a_c", []string{"abc", "a_c", "AXC", "aéc"}, []string{"ac", "abbc"}},
		{`'%son'`, "%son", []string{"Johnson", "son", "SON"}, []string{"sons"}},
		{`'%o%n%'`, "%o%n%", []string{"on", "Johnson", "xoxnx"}, []string{"no", "xxx"}},
		{`'%'`, "%", []string{"a", "anything"}, nil},
		{`'_'`, "_", []string{"a", "é"}, []string{"ab"}},
		{`'100\\%'`, `100\%`, []string{`100\`, `100\ and more`}, []string{"100"}},
		{`'%\'%'`, "%'%", []string{"O'Brien"}, []string{"OBrien"}},
		{`'straße'`, "straße", []string{"Straße", "STRAßE"}, []string{"strasse"}},
		{`'%a%a%a%b'`, "%a%a%a%b", []string{"aaab", "xaxaxaxb"}, []string{"aaaa", "aab"}},
	}
	for _, tt := range tests {
		src := "SELECT Id FROM Contact WHERE LastName LIKE " + tt.pattern
		q, err := Parse(src)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		v := q.Where.(*Comparison).Value
		if v.Str != tt.str {
			t.Errorf("pattern %s: got text %q, want %q", tt.pattern, v.Str, tt.str)
		}
		for _, s := range tt.match {
			if !v.like.match(s) {
				t.Errorf("pattern %s: %q got no match, want match", tt.pattern, s)
			}
		}
		for _, s := range tt.noMatch {
			if v.like.match(s) {
				t.Errorf("pattern %s: %q got match, want none", tt.pattern, s)
			}
		}
	}
}
