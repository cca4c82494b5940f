package salesforce

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// TestNextIngestPoll: status reads of an ingest job wait for the end its
// progress foretells, not a doubling series.
func TestNextIngestPoll(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, c := range []struct {
		last, elapsed time.Duration
		done, n       int64
		want          time.Duration
	}{
		{200 * ms, 200 * ms, 0, 10000, 400 * ms},                      // no progress: doubled
		{200 * ms, 200 * ms, 5000, 10000, 300 * ms},                   // half done: as long again, +25%, +50 ms
		{200 * ms, 1000 * ms, 90000, 100000, 188888888},               // nearly done
		{200 * ms, 200 * ms, 10000, 10000, 100 * ms},                  // processed: the floor
		{20 * time.Second, 20 * time.Second, 0, 10, 30 * time.Second}, // capped
		{200 * ms, 10 * ms, 9999, 10000, 100 * ms},                    // at least the floor
	} {
		if got := nextIngestPoll(c.last, c.elapsed, c.done, c.n, 100*ms); got != c.want {
			t.Errorf("nextIngestPoll(%s, %s, %d, %d) = %s, want %s", c.last, c.elapsed, c.done, c.n, got, c.want)
		}
	}
}

// TestBulkIngestLeavesAbsentFields: a record without a value for one of
// the job's columns leaves that field as it is (an empty CSV value); nil
// sets it to null. AwaitIngestJob aborts a job whose upload never closed
// and reads a finished one's state.
func TestBulkIngestLeavesAbsentFields(t *testing.T) {
	t.Parallel()
	env := setupEmu(t, sfemu.Enterprise, sfemu.Options{})
	c, _ := env.client(t, env.admin)
	ctx := context.Background()
	res, err := c.BulkIngest(ctx, "Contact", []Record{{"LastName": "A", "Email": "a@example.com", "Member_Number__c": "A1"}, {"LastName": "B", "Email": "b@example.com", "Member_Number__c": "B1"}},
		IngestOptions{Operation: "insert", Fields: []string{"Member_Number__c", "LastName", "Email"}, KeyField: "Member_Number__c"})
	if err != nil || !res[0].Success || !res[1].Success {
		t.Fatalf("insert: %+v, %v", res, err)
	}
	var created string
	up := []Record{{"Id": res[0].ID, "LastName": "A2"}, {"Id": res[1].ID, "Email": nil}}
	if _, err := c.BulkIngest(ctx, "Contact", up, IngestOptions{Operation: "update", Fields: []string{"Id", "LastName", "Email"}, KeyField: "Id",
		Created: func(id string) error { created = id; return nil }}); err != nil {
		t.Fatal(err)
	}
	got := c.Query(ctx, "SELECT Id, LastName, Email FROM Contact ORDER BY Member_Number__c", QueryOptions{})
	var rows []Record
	for got.Next() {
		rows = append(rows, got.Record())
	}
	if err := got.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0]["LastName"] != "A2" || rows[0]["Email"] != "a@example.com" || rows[1]["LastName"] != "B" || rows[1]["Email"] != nil {
		t.Errorf("after the update: %v, want A2 keeping its e-mail and B's e-mail nulled", rows)
	}
	job, err := c.AwaitIngestJob(ctx, created)
	if err != nil || job.State != BulkJobComplete {
		t.Errorf("AwaitIngestJob of the finished job: %+v, %v; want JobComplete", job, err)
	}
	// A job left Open (a crash before its upload closed) is aborted.
	var open BulkJob
	if err := c.do(ctx, request{method: "POST", path: versionPath("jobs", "ingest"), body: []byte(`{"object":"Contact","operation":"insert"}`), unsafe: true},
		decodeInto(&open)); err != nil {
		t.Fatal(err)
	}
	if job, err := c.AwaitIngestJob(ctx, open.ID); err != nil || job.State != BulkAborted {
		t.Errorf("AwaitIngestJob of an Open job: %+v, %v; want Aborted", job, err)
	}
}
