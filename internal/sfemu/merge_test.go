package sfemu

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMergeContactsSideDoor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	master := e.create(map[string]any{"LastName": "Wilson", "Email": "w@example.com"})
	l1 := e.create(map[string]any{"LastName": "Wilson", "FirstName": "Ann", "Email": "w@example.com"})
	l2 := e.create(map[string]any{"LastName": "周", "Email": "w@example.com"})
	keep := e.create(map[string]any{"LastName": "Other"})
	before, _ := e.org.Record(master)
	start := e.srv.Now()
	e.advance(time.Hour)
	nHist := len(e.org.History(""))

	r := e.doToken("", "POST", "/__emulator__/orgs/default/merge", map[string]any{
		"master": master, "losers": []string{l1, l2}, "fields": map[string]any{"FirstName": "Ann"}})
	wantStatus(t, r, 200)

	// The master stays, advanced, with the superseding field value.
	after, _ := e.org.Record(master)
	if after["IsDeleted"] != false || after["FirstName"] != "Ann" || after["MasterRecordId"] != nil {
		t.Errorf("master after merge: got %v, want live, FirstName Ann, no MasterRecordId", after)
	}
	for _, f := range []string{"SystemModstamp", "LastModifiedDate"} {
		if !after[f].(time.Time).After(before[f].(time.Time)) {
			t.Errorf("master %s: got %v, want after %v", f, after[f], before[f])
		}
	}

	// query hides the losers; queryAll shows them deleted with MasterRecordId.
	var page struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	e.do("GET", "query?q="+url.QueryEscape("SELECT Id FROM Contact ORDER BY Id"), nil).json(t, &page)
	if page.TotalSize != 2 || page.Records[0]["Id"] != master || page.Records[1]["Id"] != keep {
		t.Errorf("query after merge: got %+v, want %s and %s", page.Records, master, keep)
	}
	q := "SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE IsDeleted = true AND MasterRecordId != null ORDER BY Id"
	e.do("GET", "queryAll?q="+url.QueryEscape(q), nil).json(t, &page)
	if page.TotalSize != 2 {
		t.Fatalf("queryAll merged: got %d rows (%+v), want 2", page.TotalSize, page.Records)
	}
	for i, id := range []string{l1, l2} {
		got := page.Records[i]
		if got["Id"] != id || got["IsDeleted"] != true || got["MasterRecordId"] != master {
			t.Errorf("queryAll merged row %d: got %v, want Id %s IsDeleted true MasterRecordId %s", i, got, id, master)
		}
	}

	// getDeleted lists both losers.
	f := func(ts time.Time) string { return url.QueryEscape(ts.Format(time.RFC3339)) }
	var del struct {
		Deleted []struct {
			ID string `json:"id"`
		} `json:"deletedRecords"`
	}
	e.advance(time.Minute)
	e.do("GET", "sobjects/Contact/deleted/?start="+f(start)+"&end="+f(e.srv.Now()), nil).json(t, &del)
	var ids []string
	for _, d := range del.Deleted {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	if want := []string{l1, l2}; !slices.Equal(ids, want) {
		t.Errorf("getDeleted: got %v, want %v", ids, want)
	}

	// getUpdated lists the master (its SystemModstamp moved), not the losers.
	var upd struct {
		IDs []string `json:"ids"`
	}
	e.do("GET", "sobjects/Contact/updated/?start="+f(start.Add(30*time.Minute))+"&end="+f(e.srv.Now()), nil).json(t, &upd)
	if !slices.Equal(upd.IDs, []string{master}) {
		t.Errorf("getUpdated: got %v, want [%s]", upd.IDs, master)
	}

	// The change history has the losers' deletes and the master's update.
	var kinds []string
	for _, c := range e.org.History("")[nHist:] {
		kinds = append(kinds, c.Type+" "+c.RecordID)
	}
	if want := []string{"DELETE " + l1, "DELETE " + l2, "UPDATE " + master}; !slices.Equal(kinds, want) {
		t.Errorf("history: got %v, want %v", kinds, want)
	}

	// A merged record is still visible on the side door, with its master.
	r = e.doToken("", "GET", "/__emulator__/orgs/default/records/"+l1, nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"MasterRecordId":"`+master+`"`) {
		t.Errorf("side-door record: got %s, want MasterRecordId %s", r.body, master)
	}
}

func TestMergeContactsRefusesAndWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.create(map[string]any{"LastName": "A"})
	b := e.create(map[string]any{"LastName": "B"})
	c := e.create(map[string]any{"LastName": "C"})
	d := e.create(map[string]any{"LastName": "D"})
	gone := e.create(map[string]any{"LastName": "Gone"})
	if err := e.org.DeleteAsHuman(gone); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		master string
		losers []string
		fields map[string]any
		want   string
	}{
		{"no losers", a, nil, nil, "INVALID_OPERATION"},
		{"three losers", a, []string{b, c, d}, nil, "INVALID_OPERATION"},
		{"master among losers", a, []string{a}, nil, "INVALID_ID_FIELD"},
		{"loser twice", a, []string{b, b}, nil, "INVALID_ID_FIELD"},
		{"deleted loser", a, []string{b, gone}, nil, "ENTITY_IS_DELETED"},
		{"deleted master", gone, []string{b}, nil, "ENTITY_IS_DELETED"},
		{"unknown loser", a, []string{"003000000000000AAA"}, nil, "NOT_FOUND"},
		{"master field invalid", a, []string{b}, map[string]any{"LastName": nil}, "REQUIRED_FIELD_MISSING"},
	}
	for _, tt := range tests {
		nHist := len(e.org.History(""))
		err := e.org.MergeContactsAs(e.org.humanID, tt.master, tt.fields, tt.losers...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want %s", tt.name, err, tt.want)
		}
		if n := len(e.org.History("")); n != nHist {
			t.Errorf("%s: history grew from %d to %d entries, want nothing written", tt.name, nHist, n)
		}
		for _, id := range []string{a, b, c, d} {
			if rec, _ := e.org.Record(id); rec["IsDeleted"] != false || rec["MasterRecordId"] != nil {
				t.Errorf("%s: record %s after refused merge: got %v, want untouched", tt.name, id, rec)
			}
		}
	}
	// The side door answers 400 with the reason.
	r := e.doToken("", "POST", "/__emulator__/orgs/default/merge", map[string]any{"master": a, "losers": []string{}})
	wantStatus(t, r, 400)
}

func TestMergeContactsMasterRecordIdNotWritable(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.create(map[string]any{"LastName": "A"})
	wantStatus(t, e.do("POST", "sobjects/Contact", map[string]any{"LastName": "B", "MasterRecordId": a}), 400)
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+a, map[string]any{"MasterRecordId": a}), 400)

	var d struct {
		Fields []map[string]any `json:"fields"`
	}
	e.do("GET", "sobjects/Contact/describe", nil).json(t, &d)
	for _, f := range d.Fields {
		if f["name"] != "MasterRecordId" {
			continue
		}
		ref, _ := f["referenceTo"].([]any)
		if f["type"] != "reference" || f["createable"] != false || f["updateable"] != false || f["nillable"] != true || len(ref) != 1 || ref[0] != "Contact" {
			t.Errorf("MasterRecordId describe: got %v, want reference to Contact, not createable or updateable, nillable", f)
		}
		return
	}
	t.Error("describe: no MasterRecordId field")
}
