package sfemu

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfemu/soql"
)

// TestSortKeyedMatchesPlanCompare checks the column sort of large results
// against the SOQL engine's own comparator.
func TestSortKeyedMatchesPlanCompare(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.org.SeedContacts(6000, 5); err != nil {
		t.Fatal(err)
	}
	obj := e.org.tables["contact"].obj
	for _, order := range []string{
		"SystemModstamp, Id", "Birthdate DESC NULLS LAST, Id", "Birthdate NULLS LAST", "Birthdate DESC",
		"LastName, Birthdate DESC", "IsDeleted, CreatedDate DESC", "Customer_Since__c DESC NULLS FIRST, OwnerId",
	} {
		q, err := soql.Parse("SELECT Id FROM Contact ORDER BY " + order)
		if err != nil {
			t.Fatal(err)
		}
		schema := &soqlSchema{obj: obj, objects: e.org.objects}
		plan, err := soql.Compile(q, schema, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		recs := slices.Clone(e.org.tables["contact"].recs)
		want := slices.Clone(recs)
		slices.SortFunc(want, func(a, b *record) int {
			if c := plan.Compare(a, b); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		got := sortKeyed(recs, plan, schema)
		if !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("ORDER BY %s: row %d: got %s, want %s", order, i, got[i].id, want[i].id)
					break
				}
			}
		}
	}
}
