package sfemu

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/soql"
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

// TestModstampPrefilter checks that the SystemModstamp column agrees with
// a plain scan, after API writes, human edits and backdating.
func TestModstampPrefilter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ids, err := e.org.SeedContacts(3000, 8)
	if err != nil {
		t.Fatal(err)
	}
	cut := e.srv.Now().Add(-30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+ids[0], map[string]any{"Title": "moved"}), 204)
	if err := e.org.SetTimestamps(ids[1], time.Time{}, e.srv.Now().Add(-400*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.org.ModifyAsHuman(ids[2], map[string]any{"Title": "human"}); err != nil {
		t.Fatal(err)
	}
	count := func(where string) int {
		var p struct {
			TotalSize int `json:"totalSize"`
		}
		r := e.do("GET", "query?q="+url.QueryEscape("SELECT COUNT() FROM Contact WHERE "+where), nil)
		wantStatus(t, r, 200)
		r.json(t, &p)
		return p.TotalSize
	}
	for _, op := range []string{">", ">="} {
		fast := count("SystemModstamp " + op + " " + cut + " AND LastName != null")
		slow := count("(SystemModstamp " + op + " " + cut + " OR LastName = 'never-a-name') AND LastName != null")
		if fast != slow || fast == 0 {
			t.Errorf("SystemModstamp %s: indexed count %d, scanned count %d", op, fast, slow)
		}
	}
	ids2 := map[string]bool{}
	var page struct {
		Records []map[string]any `json:"records"`
	}
	e.do("GET", "query?q="+url.QueryEscape("SELECT Id FROM Contact WHERE SystemModstamp >= "+cut), nil).json(t, &page)
	for _, r := range page.Records {
		ids2[r["Id"].(string)] = true
	}
	if !ids2[ids[0]] || ids2[ids[1]] || !ids2[ids[2]] {
		t.Errorf("edited rows: got in=%v backdated in=%v human in=%v, want true false true", ids2[ids[0]], ids2[ids[1]], ids2[ids[2]])
	}
}
