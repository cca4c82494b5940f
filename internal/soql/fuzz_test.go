package soql

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"SELECT Id FROM Contact",
	"SELECT Id, Email, Owner.Email FROM Contact WHERE SystemModstamp >= 2024-01-31T10:00:00Z AND Email != null ORDER BY SystemModstamp, Id LIMIT 200",
	"SELECT COUNT() FROM Contact WHERE LastName LIKE 'O\\'Br%' OR (FirstName IN ('a', 'b') AND NOT IsDeleted = true)",
	"SELECT COUNT(Id) n FROM Contact WHERE CreatedDate = LAST_N_DAYS:30",
	"SELECT Email, COUNT(Id) FROM Contact WHERE Email != null GROUP BY Email HAVING COUNT(Id) > 1",
	"SELECT LastName n, COUNT_DISTINCT(Email) d, MIN(Birthdate), MAX(CreatedDate), SUM(NumberOfKids__c), AVG(MailingLatitude) FROM Contact GROUP BY LastName HAVING LastName LIKE 'S%' ORDER BY COUNT(Id) DESC, LastName LIMIT 3 OFFSET 1",
	"SELECT Id FROM Contact WHERE Birthdate < 2024-01-31 AND MailingLatitude > -1.5 ORDER BY LastName DESC NULLS FIRST OFFSET 10",
	"SELECT Id FROM Contact WHERE LastName = '\\u00e9\\n\\t\\\\' AND Id NOT IN ('003000000000001AAA')",
	"SELECT Id FROM Contact WHERE a = 1 AND b = 2 OR c = 3",
	"SELECT Id FROM Contact WHERE Name = \"x\"",
	"SELECT Id FROM Contact WHERE Name = 'unterminated",
	"select id from contact where createddate > 2024-01-31T10:00:00.5+05:30",
}

// FuzzParse checks that no input makes Parse, Compile or the evaluator
// panic, that errors are well formed, and that a parsed query's canonical
// form parses back to itself.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	schema := contactSchema()
	recs := evalRecords()
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse(%q): got %T, want *Error", src, err)
			}
			if e.Code == "" || e.Message == "" || e.Row < 0 || e.Column < 0 {
				t.Fatalf("Parse(%q): malformed error %+v", src, e)
			}
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) canonical %q: %v", src, canon, err)
		}
		if got := q2.String(); got != canon {
			t.Fatalf("canonical form of %q is not stable:\n%q\n%q", src, canon, got)
		}
		p, err := Compile(q, schema, testNow)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q): got %T, want *Error", src, err)
			}
			return
		}
		if p.Grouped {
			g := p.NewAggregator()
			for _, a := range recs {
				if p.Match(a) {
					g.Add(a)
				}
			}
			rows, err := g.Rows()
			if err != nil {
				t.Fatalf("Rows(%q): %v", src, err)
			}
			for _, r := range rows {
				if len(r) != len(p.Columns) {
					t.Fatalf("Rows(%q): got a row of %d values, want %d", src, len(r), len(p.Columns))
				}
			}
		}
		for _, a := range recs {
			p.Match(a)
			if p.Less != nil {
				for _, b := range recs {
					if p.Less(a, b) && p.Less(b, a) {
						t.Fatalf("Less is not antisymmetric for %q", src)
					}
				}
			}
		}
	})
}

// FuzzQuoteString checks that QuoteString round-trips any string through
// the parser, and that EscapeLike patterns match exactly their input.
func FuzzQuoteString(f *testing.F) {
	for _, s := range []string{"", "O'Brien", `a\b`, "100%_x", "l1\nl2\r\t\b\f\x00\x7f", "日本語", "😀", "\xff\xfe", `\u0041`, "'--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkQuoteRoundTrip(t, s)
	})
}

func checkQuoteRoundTrip(t *testing.T, s string) {
	t.Helper()
	src := "SELECT Id FROM Contact WHERE LastName = " + QuoteString(s)
	q, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	c, ok := q.Where.(*Comparison)
	if !ok || c.Value.Kind != KindString || c.Value.Str != s {
		t.Fatalf("QuoteString(%q) parsed back as %#v", s, q.Where)
	}
	if !utf8.ValidString(s) {
		return // LIKE matching folds runes; only valid text is meaningful there
	}
	p, err := Compile(mustParse(t, "SELECT Id FROM Contact WHERE LastName LIKE '"+EscapeLike(s)+"'"), contactSchema(), testNow)
	if err != nil {
		t.Fatalf("LIKE '%s': %v", EscapeLike(s), err)
	}
	if s != "" && !p.Match(contact(map[string]any{"LastName": s})) {
		t.Fatalf("LIKE '%s' does not match %q", EscapeLike(s), s)
	}
	if p.Match(contact(map[string]any{"LastName": s + "x"})) {
		t.Fatalf("LIKE '%s' matches %q", EscapeLike(s), s+"x")
	}
}

// TestQuoteStringProperty runs the round trip over random strings drawn
// from an alphabet rich in quotes, backslashes, wildcards and controls, so
// the property is checked by plain `go test` too.
func TestQuoteStringProperty(t *testing.T) {
	t.Parallel()
	alphabet := []rune("aZ09 '\"\\%_\n\r\t\b\f\x00\x01\x1f\x7fé日😀uN")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for n := rng.IntN(12); n > 0; n-- {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		checkQuoteRoundTrip(t, b.String())
	}
}
