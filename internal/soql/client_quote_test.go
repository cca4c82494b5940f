package soql_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/soql"
)

// The Go client builds SOQL with its own quoting helpers; the emulator
// parses it with this package. These tests keep the two in agreement.

func parseLiteral(t *testing.T, where string) soql.Value {
	t.Helper()
	q, err := soql.Parse("SELECT Id FROM Contact WHERE " + where)
	if err != nil {
		t.Fatalf("Parse(WHERE %s): %v", where, err)
	}
	c, ok := q.Where.(*soql.Comparison)
	if !ok {
		t.Fatalf("WHERE %s: got %T, want a comparison", where, q.Where)
	}
	return c.Value
}

func TestClientQuotingRoundTrips(t *testing.T) {
	t.Parallel()
	alphabet := []rune("aZ09 '\"\\%_\n\r\t\b\f\x00\x1f\x7fé日😀")
	rng := rand.New(rand.NewPCG(5, 8))
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		for n := rng.IntN(10); n > 0; n-- {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		if v := parseLiteral(t, "LastName = "+salesforce.QuoteString(s)); v.Kind != soql.KindString || v.Str != s {
			t.Fatalf("salesforce.QuoteString(%q) parsed back as %q", s, v.Str)
		}
		if got, want := salesforce.QuoteString(s), soql.QuoteString(s); !strings.ContainsAny(s, "\x00\x1f\x7f") && got != want {
			t.Fatalf("QuoteString(%q): client %s, soql %s", s, got, want)
		}
		// A LIKE pattern built by the client matches s with any prefix and
		// suffix, and nothing without s.
		pattern := salesforce.QuoteLikePattern("%", s, "%")
		q, err := soql.Parse("SELECT LastName FROM Contact WHERE LastName LIKE " + pattern)
		if err != nil {
			t.Fatalf("LIKE %s: %v", pattern, err)
		}
		plan, err := soql.Compile(q, lastNameSchema{}, time.Now())
		if err != nil {
			t.Fatalf("LIKE %s: %v", pattern, err)
		}
		if !plan.Match(row{"Q" + s + "Q"}) {
			t.Fatalf("LIKE %s: got no match for %q", pattern, "Q"+s+"Q")
		}
		if s != "" && plan.Match(row{"QQ"}) {
			t.Fatalf("LIKE %s: got match for %q", pattern, "QQ")
		}
	}
}

// lastNameSchema is a Contact with only LastName, at index 0.
type lastNameSchema struct{}

func (lastNameSchema) Object() string { return "Contact" }

func (lastNameSchema) Field(name string) (soql.FieldInfo, bool) {
	if !strings.EqualFold(name, "LastName") {
		return soql.FieldInfo{}, false
	}
	return soql.FieldInfo{Name: "LastName", Type: "string", Index: 0, Filterable: true, Sortable: true}, true
}

type row []any

func (r row) Value(i int) any { return r[i] }

func TestClientDateTimeLiterals(t *testing.T) {
	t.Parallel()
	tm := time.Date(2024, 3, 5, 9, 12, 44, 999_000_000, time.FixedZone("x", 3600))
	v := parseLiteral(t, "SystemModstamp > "+salesforce.FormatDateTime(tm))
	if v.Kind != soql.KindDateTime || !v.Time.Equal(tm.Truncate(time.Second)) {
		t.Errorf("FormatDateTime: got %v %v, want %v", v.Kind, v.Time, tm.Truncate(time.Second))
	}
	v = parseLiteral(t, "Birthdate = "+salesforce.FormatDate(tm))
	if v.Kind != soql.KindDate || v.Time.Format(time.DateOnly) != "2024-03-05" {
		t.Errorf("FormatDate: got %v %v, want 2024-03-05", v.Kind, v.Time)
	}
}
