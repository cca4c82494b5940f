package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestWritePathRoundTrips: on PostgreSQL the inserts of a sync page that
// switch plan_cache_mode around their foreign-key checks (contacts with
// their identities, links, field history, run records, pull retries)
// each reach the server in one round trip with the switch and the switch
// back (a batch), not three; what they wrote is all there, and the
// store's own plan_cache_mode is back afterwards.
func TestWritePathRoundTrips(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	tn, err := s.CreateTenant(ctx, tenant.Tenant{Name: "Trips"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, store.SyncRun{TenantID: tn.ID, Direction: "to_platform", Trigger: "manual", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	ops := make([]store.ContactOp, n)
	for i := range ops {
		ops[i] = store.ContactOp{Input: contact.Input{MemberID: contact.Some(fmt.Sprintf("M%d", i)),
			Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "@oa", UserID: fmt.Sprintf("U%d", i)}})}}
	}
	var mode string
	before := s.RoundTrips()
	var inThen int64
	if _, err := s.ApplyContacts(ctx, tn.ID, ops, contact.OriginSalesforce, func(tx *sql.Tx, res []store.UpsertResult) error {
		links := make([]store.Link, n)
		hist := make([]store.FieldHistoryEntry, n)
		recs := make([]store.SyncRunRecord, n)
		failed := map[string]string{}
		for i, r := range res {
			sfid := fmt.Sprintf("003%015d", i)
			links[i] = store.Link{SalesforceID: sfid, ContactID: r.Contact.ID}
			hist[i] = store.FieldHistoryEntry{ContactID: r.Contact.ID, SalesforceID: sfid, RunID: run.ID, Direction: "to_platform",
				Changes: []store.FieldChange{{Key: "field:Member_Number__c>member_id", Value: fmt.Sprintf("M%d", i), Created: true}}}
			recs[i] = store.SyncRunRecord{RunID: run.ID, Kind: "failed", SalesforceID: sfid, ReasonCode: "invalid", Reason: "invalid"}
			failed[fmt.Sprintf("003%015d", n+i)] = "invalid"
		}
		start := s.RoundTrips()
		if err := s.SaveLinksTx(ctx, tx, tn.ID, links); err != nil {
			return err
		}
		if err := s.AddFieldHistoryTx(ctx, tx, tn.ID, hist); err != nil {
			return err
		}
		if err := s.AddRunRecordsTx(ctx, tx, tn.ID, recs); err != nil {
			return err
		}
		if err := s.SetPullRetriesTx(ctx, tx, tn.ID, failed, func(int) time.Time { return time.Now() }, nil); err != nil {
			return err
		}
		inThen = s.RoundTrips() - start
		return tx.QueryRowContext(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&mode)
	}); err != nil {
		t.Fatal(err)
	}
	total := s.RoundTrips() - before
	if mode != "force_custom_plan" {
		t.Errorf("plan_cache_mode after the inserts = %q, want force_custom_plan", mode)
	}
	// Links 1, field history 1, run records with their two counts 1, pull
	// retries 3 (probe, insert, count). The switch before and after each
	// insert, a statement each, were 8 more here and 10 in all, and each
	// count a round trip of its own.
	if inThen > 6 {
		t.Errorf("round trips of links, history, run records and retries = %d, want ≤ 6", inThen)
	}
	if total > 12 {
		t.Errorf("round trips of the write transaction = %d, want ≤ 12", total)
	}
	t.Logf("round trips: %d in the transaction, %d for links, history, run records and retries", total, inThen)
	groups, err := s.ReasonGroups(ctx, tn.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Count != n {
		t.Errorf("reason groups = %+v, want one of %d", groups, n)
	}
	hours, err := s.FailuresByHour(ctx, tn.ID, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var failed int64
	for _, h := range hours {
		failed += h.Count
	}
	if failed != n {
		t.Errorf("failures by hour = %d, want %d", failed, n)
	}
	for table, want := range map[string]int64{"contacts": n, "social_identities": n, "links": n, "field_history": n, "sync_run_records": n, "pull_retries": n} {
		var got int64
		if err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, tn.ID).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s rows = %d, want %d", table, got, want)
		}
	}
}

// TestBulkUpsertRoundTrips: on PostgreSQL a bulk import's chunk reads the
// contacts its values may match (by member ID, phone, e-mail, social
// identity) in one batch, and writes its contacts, identities and outbox
// rows in another: the begin, the tenant's check and lock, two batches
// and the commit. Each read and each insert was a round trip of its own,
// with the plan_cache_mode switches 13.
func TestBulkUpsertRoundTrips(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	tn, err := s.CreateTenant(ctx, tenant.Tenant{Name: "Bulk trips"})
	if err != nil {
		t.Fatal(err)
	}
	items := func(from, n int) []contact.Input {
		in := make([]contact.Input, n)
		for i := range in {
			k := from + i
			in[i] = contact.Input{MemberID: contact.Some(fmt.Sprintf("M%d", k)), Phone: contact.Some(fmt.Sprintf("+8190%08d", k)),
				Email:  contact.Some(fmt.Sprintf("p%d@example.com", k)),
				Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "@oa", UserID: fmt.Sprintf("U%d", k)}})}
		}
		return in
	}
	if _, err := s.BulkUpsert(ctx, tn.ID, items(0, 50), contact.IdentityMemberID, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	before := s.RoundTrips()
	res, err := s.BulkUpsert(ctx, tn.ID, items(25, 50), contact.IdentityMemberID, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RoundTrips() - before; got > 5 {
		t.Errorf("round trips of a bulk upsert = %d, want ≤ 5", got)
	}
	var created, unchanged int
	for _, r := range res {
		switch r.Outcome {
		case store.OutcomeCreated:
			created++
		case store.OutcomeUnchanged:
			unchanged++
		}
	}
	if created != 25 || unchanged != 25 {
		t.Errorf("created %d, unchanged %d; want 25 and 25 (%+v)", created, unchanged, res[0])
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM social_identities WHERE tenant_id = $1`, tn.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 75 {
		t.Errorf("social identities = %d, want 75", n)
	}
}
