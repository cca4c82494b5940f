package syncer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// importContacts creates n platform contacts B00000… through the bulk
// import path (POST /api/v1/contacts/bulk calls BulkUpsert), each with an
// outbox entry; name(i) overrides the name of some.
func (f *fixture) importContacts(t *testing.T, n int, name func(i int) string) {
	t.Helper()
	for from := 0; from < n; from += 5000 {
		var items []contact.Input
		for i := from; i < min(from+5000, n); i++ {
			nm := fmt.Sprintf("Import %05d", i)
			if name != nil && name(i) != "" {
				nm = name(i)
			}
			in, err := contact.Rules{}.Normalize(contact.Input{MemberID: contact.Some(fmt.Sprintf("B%05d", i)), Name: contact.Some(nm),
				Email: contact.Some(fmt.Sprintf("b%05d@example.com", i))})
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, in)
		}
		if _, err := f.Store.BulkUpsert(f.ctx, f.Tenant.ID, items, contact.IdentityMemberID, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
	}
}

// pushAll runs push jobs until the outbox holds only entries waiting for
// a retry (at most a few rounds).
func (f *fixture) pushAll(t *testing.T) {
	t.Helper()
	for range 5 {
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		due, err := f.Store.DueOutbox(f.ctx, f.Tenant.ID, time.Now(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) == 0 {
			return
		}
	}
	t.Fatal("the outbox still holds due entries after five push jobs")
}

func (f *fixture) countLinks(t *testing.T) int64 {
	t.Helper()
	n, err := f.Store.CountLinks(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPushBacklogThroughBulkIngest: a bulk import of 10,000 platform
// contacts is pushed through one Bulk API 2.0 query (the targets) and one
// ingest job (the creates), where sObject Collections take two calls per
// 200 (100). Every contact ends linked to the record created for it. With
// PushBulkThreshold -1 (the collections path, as before issue 14's bulk
// pushes) the call bound fails.
//
// The calls are counted in two parts (issue 14's "≤ 10 calls for 100k"
// is both together: 10 on a quiet machine). The work: the query job's
// creation and its results, the ingest job's creation, upload, close and
// results, six calls whatever the machine. The jobs' status reads: the
// emulator runs a job in the background, and a loaded machine that
// finishes it later costs a read more (a bound on the sum, 10, failed
// once at 11 on a loaded machine). The reads back off (the ingest job's
// by its progress, the query job's by doubling): four on a quiet machine,
// a few more cover any delay a test meets, where polling without
// back-off would take dozens.
func TestPushBacklogThroughBulkIngest(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		const n = 10000
		f.importContacts(t, n, nil)
		cc := f.countCalls(t)
		calls0, _ := f.Org.APIUsage()
		start := time.Now()
		f.pushAll(t)
		calls, _ := f.Org.APIUsage()
		api, status, byKind := cc.split()
		t.Logf("%d contacts pushed in %s, %d API calls (%d of them job status reads): %v", n, time.Since(start).Round(time.Millisecond), calls-calls0, status, byKind)
		if api != calls-calls0 {
			t.Errorf("the engine sent %d API calls, the org counted %d: the split below misses some", api, calls-calls0)
		}
		if work := api - status; work > 6 {
			t.Errorf("%d API calls other than job status reads to push %d contacts, want ≤ 6 (a Bulk API 2.0 query and an ingest job)", work, n)
		}
		if status > 7 {
			t.Errorf("%d job status reads, want ≤ 7 (4 on a quiet machine)", status)
		}
		if got := f.Org.ContactCount(); got != n {
			t.Errorf("Salesforce holds %d contacts, want %d", got, n)
		}
		if got := f.countLinks(t); got != n {
			t.Errorf("%d links, want %d", got, n)
		}
		// Each link names the record holding its contact's member number.
		c := f.platform(t, "B04321")
		links, err := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{c.ID})
		if err != nil {
			t.Fatal(err)
		}
		rec, ok := f.Org.Record(links[c.ID].SalesforceID)
		if !ok || rec["Member_Number__c"] != "B04321" || rec["LastName"] != "Import 04321" {
			t.Errorf("B04321's link names %s = %v, want its record", links[c.ID].SalesforceID, rec)
		}
		if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
			t.Errorf("%d outbox entries left, want 0", n)
		}
	})
}

// TestPushBulkMapsResultsBack: in a bulk pass, decisions and results are
// those of the collections path: a record a validation rule refuses fails
// alone, its reason logged and its entry kept for a retry; an import whose
// member number Salesforce already holds (unlinked) is matched and linked,
// not created again; linked contacts edited on the platform are updated
// through an ingest job that changes only their changed fields.
func TestPushBulkMapsResultsBack(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.sfMembers(t, 300) // M0000… linked by the first sync
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		// Held in Salesforce, not yet pulled: matched by the push.
		var held []string
		for i := range 10 {
			held = append(held, f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("Import %05d", i*100), "Member_Number__c": fmt.Sprintf("B%05d", i*100)}))
		}
		if err := f.Org.AddValidationRule(sfemu.ValidationRule{Name: "no_bang", Field: "LastName", Pattern: `^[^!]*$`}); err != nil {
			t.Fatal(err)
		}
		const n = 3000
		f.importContacts(t, n, func(i int) string {
			if i == 1234 {
				return "Bad!"
			}
			return ""
		})
		for i := range 300 {
			c := f.platform(t, fmt.Sprintf("M%04d", i))
			if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, c.ID, contact.Input{Name: contact.Some(fmt.Sprintf("Renamed %04d", i))}, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
		}
		before := f.Org.ContactCount()
		calls0, _ := f.Org.APIUsage()
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		calls, _ := f.Org.APIUsage()
		// A query job, an update job and an insert job (whose failure
		// is downloaded), and the one-record create of the held values'
		// duplicates, if any: well under the 34 of collections.
		if used := calls - calls0; used > 20 {
			t.Errorf("%d API calls, want ≤ 20", used)
		}
		if got, want := f.Org.ContactCount(), before+n-10-1; got != want {
			t.Errorf("Salesforce holds %d contacts, want %d (%d before, %d imports, 10 matched, 1 refused)", got, want, before, n)
		}
		if got, want := f.countLinks(t), int64(300+n-1); got != want {
			t.Errorf("%d links, want %d", got, want)
		}
		for i, id := range held {
			c := f.platform(t, fmt.Sprintf("B%05d", i*100))
			links, _ := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{c.ID})
			if links[c.ID].SalesforceID != id {
				t.Errorf("B%05d is linked to %q, want the record Salesforce held, %s", i*100, links[c.ID].SalesforceID, id)
			}
		}
		m7 := f.platform(t, "M0007")
		links, _ := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{m7.ID})
		if rec, _ := f.Org.Record(links[m7.ID].SalesforceID); rec["LastName"] != "Renamed 0007" || rec["Member_Number__c"] != "M0007" {
			t.Errorf("M0007 in Salesforce after the update job: %v, want LastName Renamed 0007 and its member number kept", rec)
		}
		// The refused record: failed alone, with Salesforce's reason.
		bad := f.platform(t, "B01234")
		st, _ := f.Store.GetSyncState(f.ctx, f.Tenant.ID)
		recs, err := f.Store.RunRecords(f.ctx, f.Tenant.ID, st.PushRunID, store.RecordKind(syncer.KindFailed), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].ContactID != bad.ID || recs[0].ReasonCode != "FIELD_CUSTOM_VALIDATION_EXCEPTION" || recs[0].Reason == "" {
			t.Errorf("failed records: %+v, want one, B01234's, FIELD_CUSTOM_VALIDATION_EXCEPTION with its message", recs)
		}
		left, err := f.Store.ListOutbox(f.ctx, f.Tenant.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0].ContactID != bad.ID || !strings.Contains(left[0].LastError, "FIELD_CUSTOM_VALIDATION_EXCEPTION") {
			t.Errorf("outbox: %+v, want only B01234's entry, with its error", left)
		}
		r, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, st.PushRunID)
		if r.Counts.Created != n-10-1 || r.Counts.Failed != 1 || r.Counts.Updated < 300 {
			t.Errorf("run counts %+v, want %d created, 1 failed, ≥ 300 updated", r.Counts, n-11)
		}
	})
}

// TestPushBulkCrashAfterJobCreated: a push dies after its ingest job was
// created and closed, before it read the results (here the status reads
// fail; a kill -9 leaves the same state: the job ID stored, the outbox
// entries not acknowledged), while Salesforce is still writing the job's
// records. The next push waits for that job before it pushes anything,
// finds the records it created by their member numbers and links them:
// no contact is created twice. Without the stored job ID (settleIngestJobs
// skipped) the next push reads the targets while the job is half done and
// creates the rest a second time.
func TestPushBulkCrashAfterJobCreated(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		env := testenv.New(t, testenv.Options{Dialect: d, Emulator: sfemu.Options{BulkIngestChunkDelay: 100 * time.Millisecond}})
		env.Connect(t)
		f := &fixture{Env: env, eng: setup(t, d).eng, ctx: t.Context()}
		f.eng.Store, f.eng.Conn = env.Store, env.Conn
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		const n = 4000
		f.importContacts(t, n, nil)
		f.Emu.SetFaults(sfemu.Faults{Errors: []sfemu.InjectedError{{Method: "GET", PathPrefix: "/jobs/ingest/", Status: 500, ErrorCode: "UNKNOWN_EXCEPTION", Message: "injected", Times: 1000}}})
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err == nil {
			t.Fatal("the push whose job status reads fail succeeded")
		}
		jobs, err := f.Store.PushIngestJobs(f.ctx, f.Tenant.ID)
		if err != nil || len(jobs) != 1 || jobs[0].Records != n {
			t.Fatalf("stored ingest jobs after the crash: %+v, %v; want the one of %d records", jobs, err, n)
		}
		if got := f.Org.ContactCount(); got >= n {
			t.Fatalf("the job wrote all %d records before the crash was over: the test tells nothing", got)
		}
		f.Emu.SetFaults(sfemu.Faults{})
		f.pushAll(t)
		if got := f.Org.ContactCount(); got != n {
			t.Errorf("Salesforce holds %d contacts after the push resumed, want %d (none created twice)", got, n)
		}
		if got := f.countLinks(t); got != n {
			t.Errorf("%d links, want %d", got, n)
		}
		if jobs, _ := f.Store.PushIngestJobs(f.ctx, f.Tenant.ID); len(jobs) != 0 {
			t.Errorf("ingest jobs still stored: %+v", jobs)
		}
		if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
			t.Errorf("%d outbox entries left, want 0", n)
		}
	})
}

// TestPushBulkImportInRequestsIsOnePass: an import sent as four requests
// of 2,500 contacts, 300 ms apart, is pushed in one bulk pass (≤ 12
// calls), not one per request (30 or more): with the service's coalescing
// on, a backlog for Bulk API 2.0 waits while it still grows.
func TestPushBulkImportInRequestsIsOnePass(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		f.eng.PushCoalesce = syncer.DefaultPushCoalesce
		const n, per = 10000, 2500
		calls0, _ := f.Org.APIUsage()
		imported := make(chan error, 1)
		go func() {
			for from := 0; from < n; from += per {
				if from > 0 {
					time.Sleep(300 * time.Millisecond)
				}
				var items []contact.Input
				for i := from; i < from+per; i++ {
					in, err := contact.Rules{}.Normalize(contact.Input{MemberID: contact.Some(fmt.Sprintf("R%05d", i)), Name: contact.Some(fmt.Sprintf("Request %05d", i))})
					if err != nil {
						imported <- err
						return
					}
					items = append(items, in)
				}
				if _, err := f.Store.BulkUpsert(f.ctx, f.Tenant.ID, items, contact.IdentityMemberID, contact.OriginAPI); err != nil {
					imported <- err
					return
				}
			}
			imported <- nil
		}()
		// The dispatcher starts a push job once the first request's
		// changes are in the outbox.
		for {
			if c, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); c >= per {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for f.Org.ContactCount() < n {
			if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := <-imported; err != nil {
			t.Fatal(err)
		}
		calls, _ := f.Org.APIUsage()
		// One pass is about ten calls (a status read more on a loaded
		// machine); a pass per request would be 30 or more.
		if used := calls - calls0; used > 12 {
			t.Errorf("%d API calls to push an import of %d in requests of %d, want ≤ 12 (one bulk pass)", used, n, per)
		}
		if got := f.countLinks(t); got != n {
			t.Errorf("%d links, want %d", got, n)
		}
	})
}
