package soql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// aggregate runs an aggregate query over records and renders its rows as
// "Name=value ..." lines, null as <nil>.
func aggregate(t *testing.T, src string, recs []rec) ([]string, error) {
	t.Helper()
	p := mustCompile(t, src)
	if !p.Grouped {
		t.Fatalf("Compile(%q): got a plan that is not Grouped", src)
	}
	g := p.NewAggregator()
	for _, r := range recs {
		if p.Match(r) {
			g.Add(r)
		}
	}
	rows, err := g.Rows()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rows {
		var parts []string
		for i, col := range p.Columns {
			v := r[i]
			switch x := v.(type) {
			case time.Time:
				v = x.Format(time.RFC3339)
			case float64:
				v = strconv.FormatFloat(x, 'f', -1, 64)
			}
			parts = append(parts, fmt.Sprintf("%s=%v", col.Name, v))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out, nil
}

// sortedRecords is evalRecords in the order of their names, so that the
// first-seen spelling of a case-insensitive group is predictable.
func sortedRecords() []rec {
	m := evalRecords()
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []rec
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}

func TestAggregateRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want []string
	}{
		// Without GROUP BY: one row; unaliased aggregates are expr0, expr1...
		// in select order, skipping aliased ones; COUNT(field) counts
		// non-null values (the empty string is null).
		{"SELECT COUNT(Id), COUNT(Email) mails, COUNT(FirstName) FROM Contact",
			[]string{"expr0=5 mails=3 expr1=2"}},
		// COUNT_DISTINCT compares strings ignoring case, as = does.
		{"SELECT COUNT_DISTINCT(Email) FROM Contact", []string{"expr0=2"}},
		{"SELECT MIN(Birthdate), MAX(Birthdate), SUM(NumberOfKids__c), AVG(NumberOfKids__c), MIN(LastName), MAX(LastName) FROM Contact",
			[]string{"expr0=1985-12-31T00:00:00Z expr1=2024-05-15T00:00:00Z expr2=12 expr3=4 expr4=100%_Real expr5=Smith"}},
		{"SELECT MIN(CreatedDate) first, MAX(Id) FROM Contact WHERE IsDeleted = false",
			[]string{"first=2023-12-31T23:00:00Z expr0=003000000000004AAA"}},
		// Over no records: one row, counts 0, the others null.
		{"SELECT COUNT(Id), SUM(NumberOfKids__c), MAX(LastName) FROM Contact WHERE LastName = 'nobody'",
			[]string{"expr0=0 expr1=<nil> expr2=<nil>"}},
		// GROUP BY: one row per group, null a group of its own; strings
		// group ignoring case, answering the first spelling met; without
		// ORDER BY, groups come by their values ascending, nulls first.
		{"SELECT LastName, COUNT(Id) FROM Contact GROUP BY LastName",
			[]string{"LastName=<nil> expr0=1", "LastName=100%_Real expr0=1", "LastName=O'Brien expr0=1", "LastName=Smith expr0=2"}},
		{"SELECT LastName, COUNT(Id) FROM Contact WHERE LastName = 'nobody' GROUP BY LastName", nil},
		// The sync engine's duplicate-identity query.
		{"SELECT Email, COUNT(Id) FROM Contact WHERE Email != null GROUP BY Email HAVING COUNT(Id) > 1",
			[]string{"Email=anna@example.com expr0=2"}},
		// A grouped field need not be selected, nor an aggregate of HAVING.
		// (The null group holds O'Brien, whose Email is '', and nulls.)
		{"SELECT COUNT(Id) n, COUNT(FirstName) FROM Contact GROUP BY Email HAVING COUNT(FirstName) = 1", []string{"n=2 expr0=1", "n=2 expr0=1"}},
		{"SELECT COUNT(Id) n FROM Contact GROUP BY Email HAVING COUNT(FirstName) = 0", []string{"n=1"}},
		// Aliases on grouped fields; ORDER BY an aggregate, ties by the next key.
		{"SELECT LastName name, COUNT(Id) c FROM Contact GROUP BY LastName ORDER BY COUNT(Id) DESC, LastName LIMIT 2",
			[]string{"name=Smith c=2", "name=<nil> c=1"}},
		{"SELECT LastName FROM Contact GROUP BY LastName ORDER BY LastName DESC OFFSET 1",
			[]string{"LastName=O'Brien", "LastName=100%_Real", "LastName=<nil>"}},
		{"SELECT LastName FROM Contact GROUP BY LastName HAVING LastName LIKE 's%' OR LastName IN ('o\\'brien')",
			[]string{"LastName=O'Brien", "LastName=Smith"}},
		{"SELECT LastName FROM Contact GROUP BY LastName HAVING NOT LastName = null AND MAX(Birthdate) < 2000-01-01",
			[]string{"LastName=Smith"}},
		{"SELECT IsDeleted, COUNT(Id) FROM Contact GROUP BY IsDeleted",
			[]string{"IsDeleted=<nil> expr0=1", "IsDeleted=false expr0=3", "IsDeleted=true expr0=1"}},
		// Several keys; a relationship field answers its own name.
		{"SELECT LastName, IsDeleted, COUNT(Id) FROM Contact GROUP BY LastName, IsDeleted HAVING LastName = 'SMITH'",
			[]string{"LastName=Smith IsDeleted=false expr0=1", "LastName=smith IsDeleted=true expr0=1"}},
		{"SELECT Owner.Email, COUNT(Id) FROM Contact GROUP BY Owner.Email",
			[]string{"Email=<nil> expr0=4", "Email=Owner@Example.com expr0=1"}},
		{"SELECT AccountId, COUNT(Id) FROM Contact GROUP BY AccountId HAVING AccountId = '001000000000001'",
			[]string{"AccountId=001000000000001AAA expr0=1"}},
		{"SELECT Birthdate, SUM(MailingLatitude) FROM Contact WHERE Birthdate != null GROUP BY Birthdate ORDER BY SUM(MailingLatitude) NULLS LAST",
			[]string{"Birthdate=1985-12-31T00:00:00Z expr0=-3.5", "Birthdate=1990-04-01T00:00:00Z expr0=48.85", "Birthdate=2024-05-15T00:00:00Z expr0=<nil>"}},
		// HAVING without GROUP BY filters the one row.
		{"SELECT COUNT(Id) FROM Contact HAVING COUNT(Id) > 10", nil},
	}
	for _, tt := range tests {
		got, err := aggregate(t, tt.src, sortedRecords())
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tt.src, got, tt.want)
		}
	}
}

func TestAggregateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src      string
		code     string
		row, col int // 0 when the message has no position prefix
		text     string
	}{
		{"SELECT Id, COUNT(Email) FROM Contact", CodeMalformedQuery, 1, 8, "Field must be grouped or aggregated: Id"},
		{"SELECT LastName, FirstName FROM Contact GROUP BY LastName", CodeMalformedQuery, 1, 18, "Field must be grouped or aggregated: FirstName"},
		{"SELECT COUNT(Id) FROM Contact ORDER BY Email", CodeMalformedQuery, 1, 40, "Ordered field must be grouped or aggregated: Email"},
		{"SELECT Id FROM Contact ORDER BY COUNT(Id)", CodeMalformedQuery, 1, 8, "Field must be grouped or aggregated: Id"},
		{"SELECT LastName FROM Contact GROUP BY LastName HAVING FirstName = 'a'", CodeMalformedQuery, 1, 55, "Field must be grouped or aggregated: FirstName"},
		{"SELECT COUNT(Id) FROM Contact GROUP BY CreatedDate", CodeInvalidField, 1, 40, "field 'CreatedDate' can not be grouped in a query call"},
		{"SELECT COUNT(Id) FROM Contact GROUP BY Description", CodeInvalidField, 1, 40, "field 'Description' can not be grouped in a query call"},
		{"SELECT SUM(LastName) FROM Contact", CodeMalformedQuery, 1, 8, "field LastName does not support aggregate operator SUM"},
		{"SELECT AVG(Birthdate) FROM Contact", CodeMalformedQuery, 1, 8, "field Birthdate does not support aggregate operator AVG"},
		{"SELECT COUNT(IsDeleted) FROM Contact", CodeMalformedQuery, 1, 8, "field IsDeleted does not support aggregate operator COUNT"},
		{"SELECT LastName FROM Contact GROUP BY LastName HAVING MAX(IsDeleted) = true", CodeMalformedQuery, 1, 55, "field IsDeleted does not support aggregate operator MAX"},
		{"SELECT COUNT(Nope) FROM Contact", CodeInvalidField, 1, 14, "No such column 'Nope' on entity 'Contact'" + noSuchColumnTail},
		{"SELECT COUNT(Id) FROM Contact GROUP BY Nope", CodeInvalidField, 1, 40, "No such column 'Nope' on entity 'Contact'" + noSuchColumnTail},
		{"SELECT COUNT() FROM Contact GROUP BY LastName", CodeMalformedQuery, 1, 29, "unexpected token: 'GROUP'"},
		{"SELECT LastName n FROM Contact", CodeMalformedQuery, 1, 17, "unexpected token: 'n'"},
		{"SELECT COUNT(Id) a, COUNT(Email) A FROM Contact", CodeInvalidField, 0, 0, "duplicate alias: A"},
		{"SELECT COUNT(Id) expr1, COUNT(Email), COUNT(Phone) FROM Contact", CodeInvalidField, 0, 0, "duplicate alias: expr1"},
		{"SELECT LastName, lastname FROM Contact GROUP BY LastName", CodeInvalidField, 0, 0, "duplicate field selected: LastName"},
		{"SELECT LastName FROM Contact GROUP BY LastName HAVING COUNT(Id) > 'x'", CodeInvalidField, 1, 67,
			"value of filter criterion for field 'COUNT(Id)' must be of type int and should not be enclosed in quotes"},
	}
	for _, tt := range tests {
		_, err := Compile(mustParse(t, tt.src), contactSchema(), testNow)
		if err == nil {
			t.Errorf("Compile(%q): got no error, want %s", tt.src, tt.text)
			continue
		}
		e := asError(t, err)
		if e.Code != tt.code || e.Row != tt.row || e.Column != tt.col || e.Text != tt.text {
			t.Errorf("Compile(%q):\n got %s Row:%d Column:%d %q\nwant %s Row:%d Column:%d %q",
				tt.src, e.Code, e.Row, e.Column, e.Text, tt.code, tt.row, tt.col, tt.text)
		}
	}
}

// TestAggregateRowLimit pins Salesforce's rule that an aggregate query
// answers at most 2,000 rows and cannot be paged: past that it is refused,
// unless LIMIT (or HAVING) brings it down.
func TestAggregateRowLimit(t *testing.T) {
	t.Parallel()
	var recs []rec
	for i := 0; i < 2001; i++ {
		recs = append(recs, contact(map[string]any{"Id": fmt.Sprintf("003%012dAAA", i), "LastName": fmt.Sprintf("n%05d", i)}))
	}
	_, err := aggregate(t, "SELECT LastName, COUNT(Id) FROM Contact GROUP BY LastName", recs)
	if e := asError(t, err); e == nil || e.Code != CodeMalformedQuery || e.Message != aggregateQueryTooLarge {
		t.Errorf("2,001 groups: got %v, want MALFORMED_QUERY %q", err, aggregateQueryTooLarge)
	}
	_, err = aggregate(t, "SELECT LastName, COUNT(Id) FROM Contact GROUP BY LastName OFFSET 1", recs)
	if err != nil {
		t.Errorf("2,001 groups OFFSET 1: %v, want 2,000 rows", err)
	}
	for _, src := range []string{
		"SELECT LastName, COUNT(Id) FROM Contact GROUP BY LastName ORDER BY LastName DESC LIMIT 2000",
		"SELECT LastName, COUNT(Id) FROM Contact GROUP BY LastName HAVING LastName != 'n00000'",
	} {
		rows, err := aggregate(t, src, recs)
		if err != nil || len(rows) != 2000 {
			t.Errorf("%s: got %d rows, %v; want 2000", src, len(rows), err)
		}
		if strings.Contains(src, "DESC") && rows[0] != "LastName=n02000 expr0=1" {
			t.Errorf("%s: first row %q, want LastName=n02000 expr0=1", src, rows[0])
		}
	}
}

// TestAggregateOnePass checks the duplicate-identity query over many
// records with few duplicates: every record is read once (Add is called
// per record and keeps one group per distinct value).
func TestAggregateOnePass(t *testing.T) {
	t.Parallel()
	const n = 50000
	recs := make([]rec, n)
	for i := range recs {
		email := fmt.Sprintf("user%d@example.com", i)
		if i%10000 == 0 {
			email = "SHARED@example.com" // five records share one, in mixed case below
		}
		if i == 20000 {
			email = "shared@EXAMPLE.com"
		}
		recs[i] = contact(map[string]any{"Id": fmt.Sprintf("003%012dAAA", i), "Email": email})
	}
	p := mustCompile(t, "SELECT Email, COUNT(Id) FROM Contact WHERE Email != null GROUP BY Email HAVING COUNT(Id) > 1")
	g := p.NewAggregator()
	for _, r := range recs {
		g.Add(r)
	}
	if got, want := g.n, n-4; got != want {
		t.Errorf("groups: got %d, want %d", got, want)
	}
	rows, err := g.Rows()
	if err != nil || len(rows) != 1 || rows[0][0] != "SHARED@example.com" || rows[0][1] != 5.0 {
		t.Errorf("got %v, %v; want one row SHARED@example.com, 5", rows, err)
	}
}

// TestAggregateCallInWhere checks that an aggregate call in a hand-built
// WHERE is refused rather than read as its argument.
func TestAggregateCallInWhere(t *testing.T) {
	t.Parallel()
	q := mustParse(t, "SELECT Id FROM Contact WHERE LastName = 'x'")
	q.Where.(*Comparison).Func = "COUNT"
	if _, err := Compile(q, contactSchema(), testNow); err == nil {
		t.Errorf("Compile of WHERE COUNT(LastName) = 'x': got no error, want MALFORMED_QUERY")
	}
}
