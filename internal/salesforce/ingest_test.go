package salesforce

import (
	"context"
	"fmt"
	"testing"

	"github.com/sfsync/sfsync/internal/sfemu"
)

// TestBulkIngestMapsResultsBack: an insert and an update through Bulk API
// 2.0 ingest jobs against the emulator give one SaveResult per input
// record, in input order, whatever order Salesforce lists them in: IDs of
// the created, the refused with their status codes, in a handful of calls
// however many records.
func TestBulkIngestMapsResultsBack(t *testing.T) {
	t.Parallel()
	env := setupEmu(t, sfemu.Enterprise, sfemu.Options{})
	c, _ := env.client(t, env.admin)
	ctx := context.Background()

	var recs []Record
	for i := range 500 {
		recs = append(recs, Record{"LastName": fmt.Sprintf("Bulk %03d", i), "Member_Number__c": fmt.Sprintf("B%04d", i), "Email": fmt.Sprintf("b%d@example.com", i)})
	}
	recs[7]["Email"] = "not an e-mail"
	calls0 := c.Calls()
	res, err := c.BulkIngest(ctx, "Contact", recs, IngestOptions{Operation: "insert", Fields: []string{"LastName", "Member_Number__c", "Email"}, KeyField: "Member_Number__c"})
	if err != nil {
		t.Fatal(err)
	}
	if calls := c.Calls() - calls0; calls > 8 {
		t.Errorf("%d calls for 500 inserts, want ≤ 8 (create, upload, close, polls, two results)", calls)
	}
	if len(res) != 500 {
		t.Fatalf("%d results, want 500", len(res))
	}
	var ids []string
	for i, r := range res {
		if r.Index != i {
			t.Errorf("result %d has index %d", i, r.Index)
		}
		if i == 7 {
			if r.Success || len(r.Errors) != 1 || r.Errors[0].StatusCode != "INVALID_EMAIL_ADDRESS" {
				t.Errorf("result 7 = %+v, want INVALID_EMAIL_ADDRESS", r)
			}
			continue
		}
		if !r.Success || !r.Created || r.ID == "" {
			t.Errorf("result %d = %+v, want created with an id", i, r)
			continue
		}
		ids = append(ids, r.ID)
	}
	// Each ID is the record of its input row.
	got := c.Query(ctx, "SELECT Id, Member_Number__c FROM Contact", QueryOptions{})
	byID := map[string]string{}
	for got.Next() {
		byID[got.Record()["Id"].(string)], _ = got.Record()["Member_Number__c"].(string)
	}
	if err := got.Err(); err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Success && byID[r.ID] != recs[i]["Member_Number__c"] {
			t.Errorf("result %d names %s, which holds member %q, want %q", i, r.ID, byID[r.ID], recs[i]["Member_Number__c"])
		}
	}

	// Updates, matched back by Id; an unknown Id is refused.
	up := []Record{{"Id": ids[0], "LastName": "Renamed"}, {"Id": "003000000000000AAA", "LastName": "Ghost"}, {"Id": ids[1], "LastName": nil}}
	res, err = c.BulkIngest(ctx, "Contact", up, IngestOptions{Operation: "update", Fields: []string{"Id", "LastName"}, KeyField: "Id"})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Success || res[0].ID != ids[0] || res[0].Created {
		t.Errorf("update 0 = %+v, want updated %s", res[0], ids[0])
	}
	if res[1].Success || len(res[1].Errors) != 1 || res[1].Errors[0].StatusCode == "" {
		t.Errorf("update of an unknown id = %+v, want refused with a status code", res[1])
	}
	if res[2].Success || len(res[2].Errors) != 1 || res[2].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
		t.Errorf("update nulling LastName = %+v, want REQUIRED_FIELD_MISSING", res[2])
	}
}
