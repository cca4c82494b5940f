package syncer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

type fixture struct {
	*testenv.Env
	eng *syncer.Engine
	ctx context.Context
}

func setup(t *testing.T, d store.Dialect) *fixture {
	t.Helper()
	env := testenv.New(t, testenv.Options{Dialect: d})
	env.Connect(t)
	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler), PageSize: 200}
	return &fixture{Env: env, eng: eng, ctx: context.Background()}
}

// memberConfig matches Member_Number__c to the member ID, creates on both
// sides, syncs the LINE UID, e-mail, name, birthday and the tier.
func memberConfig() syncconf.Config {
	return syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Social: []syncconf.SocialMapping{{SalesforceField: "LINE_UID__c", ChannelType: "line", ChannelID: "OA1", Direction: syncconf.DirBoth}},
		Fields: []syncconf.FieldMapping{
			{SalesforceField: "Email", PlatformField: "email", Direction: syncconf.DirBoth},
			{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth},
			{SalesforceField: "Birthdate", PlatformField: "birthday", Direction: syncconf.DirBoth},
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: syncconf.DirToPlatform},
		},
	}
}

func (f *fixture) save(t *testing.T, cfg syncconf.Config) {
	t.Helper()
	if _, err := f.eng.SaveConfig(f.ctx, f.Tenant.ID, "u_test", cfg); err != nil {
		t.Fatalf("SaveConfig: %v", err)
	}
}

// runToEnd runs a pull job slice after job slice, as the queue would,
// until the run ends.
func runToEnd(tb testing.TB, eng *syncer.Engine, tenantID string, run syncer.Run, mode syncer.PullMode) {
	tb.Helper()
	for i := 0; ; i++ {
		err := eng.RunPull(context.Background(), tenantID, mode, run.Trigger, run.ID)
		if err == nil {
			return
		}
		if !errors.Is(err, syncer.ErrContinue) || i > 10000 {
			tb.Fatalf("RunPull: %v", err)
		}
	}
}

// pull runs a pull to the end, job slice after job slice, as the queue would.
func (f *fixture) pull(t *testing.T, run syncer.Run, mode syncer.PullMode) syncer.Run {
	t.Helper()
	runToEnd(t, f.eng, f.Tenant.ID, run, mode)
	got, err := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *fixture) syncNow(t *testing.T) syncer.Run {
	t.Helper()
	run, err := f.eng.SyncNow(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f.pull(t, run, syncer.ModeIncremental)
}

func (f *fixture) sfCreate(t *testing.T, fields map[string]any) string {
	t.Helper()
	id, err := f.Org.CreateAsHuman(fields)
	if err != nil {
		t.Fatalf("create in Salesforce: %v", err)
	}
	return id
}

// sfMembers creates n Salesforce contacts P0000… with member numbers
// M0000….
func (f *fixture) sfMembers(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("P%04d", i), "Member_Number__c": fmt.Sprintf("M%04d", i)})
	}
}

func (f *fixture) platform(t *testing.T, memberID string) contact.Contact {
	t.Helper()
	list, err := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{MemberID: memberID})
	if err != nil || len(list) != 1 {
		t.Fatalf("platform contacts with member ID %s: %d, %v; want 1", memberID, len(list), err)
	}
	return list[0]
}

func (f *fixture) countContacts(t *testing.T) int {
	t.Helper()
	n, after := 0, ""
	for {
		page, err := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		n += len(page)
		if len(page) < 500 {
			return n
		}
		after = page[len(page)-1].ID
	}
}

func eachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

func TestFirstSyncThenIncremental(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		for i := range 450 {
			f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("Lin %03d", i), "Member_Number__c": fmt.Sprintf("M%04d", i),
				"Email": fmt.Sprintf("lin%03d@example.com", i), "MobilePhone": "+886 912 345 " + fmt.Sprintf("%03d", i),
				"LINE_UID__c": fmt.Sprintf("U%032d", i), "Birthdate": "1990-01-15"})
		}
		f.sfCreate(t, map[string]any{"LastName": "No member number"}) // out of scope: identity empty
		f.sfCreate(t, map[string]any{"LastName": "Bad phone", "Member_Number__c": "M9999", "MobilePhone": "0912345678"})
		f.save(t, memberConfig())
		run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		run = f.pull(t, run, syncer.ModeFull)
		if run.Status != syncer.StatusPartiallyFailed || run.Total != 451 || run.Counts.Created != 450 || run.Counts.Failed != 1 || run.Percent() != 100 {
			t.Fatalf("first sync = %+v, want 450 created, 1 failed (bad phone) of 451, partially failed, 100%%", run)
		}
		// 451 records in pages of 2,000: COUNT() + the identity census's
		// page + one query page (+ describe).
		if run.APICalls > 5 {
			t.Errorf("first sync used %d API calls, want ≤ 5", run.APICalls)
		}
		fails, _ := f.eng.RunRecords(f.ctx, f.Tenant.ID, run.ID, syncer.KindFailed, "", 10)
		if len(fails) != 1 || fails[0].Field != "MobilePhone" || !strings.Contains(fails[0].Reason, "0912345678") {
			t.Errorf("failure log = %+v, want one naming MobilePhone and the value", fails)
		}
		c := f.platform(t, "M0007")
		if c.Name != "Lin 007" || c.Email != "lin007@example.com" || c.Phone != "+886912345007" || c.Birthday != "1990-01-15" ||
			len(c.Social) != 1 || c.Social[0] != (contact.SocialIdentity{ChannelType: "line", ChannelID: "OA1", UserID: fmt.Sprintf("U%032d", 7)}) {
			t.Errorf("synced contact = %+v", c)
		}
		if n := f.countContacts(t); n != 450 {
			t.Errorf("platform has %d contacts, want 450", n)
		}
		// The sync's own writes leave no outbox row: they need no push
		// (issue 14).
		if entries, _ := f.Store.ListOutbox(f.ctx, f.Tenant.ID, 0, 1); len(entries) != 0 {
			t.Errorf("outbox = %+v after a first sync, want no row", entries)
		}

		// A full resync changes nothing and creates no duplicate.
		again, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		again = f.pull(t, again, syncer.ModeFull)
		if again.Counts.Created != 0 || again.Counts.Updated != 0 || again.Counts.Unchanged != 450 {
			t.Errorf("resync counts = %+v, want 450 unchanged", again.Counts)
		}

		// A change made in Salesforce arrives with the next incremental pull.
		ids := f.Org.ContactIDs(false)
		var target string
		for _, id := range ids {
			if r, _ := f.Org.Record(id); r["Member_Number__c"] == "M0042" {
				target = id
			}
		}
		f.Emu.Advance(20 * time.Minute) // the seeded records fall out of the lookback window
		if err := f.Org.ModifyAsHuman(target, map[string]any{"Email": "new42@example.com"}); err != nil {
			t.Fatal(err)
		}
		inc := f.syncNow(t)
		if inc.Counts.Updated != 1 || f.platform(t, "M0042").Email != "new42@example.com" {
			t.Errorf("incremental = %+v, e-mail %s; want 1 updated to new42@example.com", inc.Counts, f.platform(t, "M0042").Email)
		}
		// With nothing new, a poll re-reads only the lookback window and
		// costs one call.
		idle := f.syncNow(t)
		if idle.APICalls != 1 || idle.Counts.Updated != 0 {
			t.Errorf("idle poll used %d API calls and updated %d, want 1 and 0", idle.APICalls, idle.Counts.Updated)
		}
	})
}

func TestPushAndEchoGuard(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		sfID := f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		amy := f.platform(t, "M1")

		// Platform → Salesforce: an API edit is pushed.
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Name: contact.Some("Amy Lin")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		rec, _ := f.Org.Record(sfID)
		if rec["LastName"] != "Amy Lin" {
			t.Fatalf("Salesforce LastName = %v, want Amy Lin", rec["LastName"])
		}
		if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
			t.Errorf("%d outbox entries left after an acknowledged push, want 0", n)
		}
		// The write comes back on the next pull as a change by the
		// integration user; the echo guard finds nothing to apply.
		inc := f.syncNow(t)
		if inc.Counts.Updated != 0 || inc.Counts.Conflicts != 0 {
			t.Errorf("pull after push = %+v, want no update and no conflict (echo)", inc.Counts)
		}
		if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
			t.Errorf("%d outbox entries after the echo, want 0", n)
		}
		hist := f.Org.History(sfID)
		if len(hist) == 0 || hist[len(hist)-1].Client != "sfsync" {
			t.Errorf("last Salesforce change = %+v, want one made with Sforce-Call-Options client=sfsync", hist)
		}

		// A new platform contact is created in Salesforce once, even when
		// the push runs again (a retry after a crash).
		in, _ := contact.Rules{}.Normalize(contact.Input{MemberID: contact.Some("M2"), Name: contact.Some("Ben"), Email: contact.Some("ben@example.com"),
			Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA1", UserID: "Uben"}})})
		ben, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
				t.Fatal(err)
			}
		}
		var bens []map[string]any
		for _, id := range f.Org.ContactIDs(false) {
			if r, _ := f.Org.Record(id); r["Member_Number__c"] == "M2" {
				bens = append(bens, r)
			}
		}
		if len(bens) != 1 || bens[0]["LINE_UID__c"] != "Uben" || bens[0]["LastName"] != "Ben" {
			t.Fatalf("Salesforce contacts for M2 = %+v, want exactly one with the LINE UID", bens)
		}
		links, _ := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{ben.ID})
		if links[ben.ID].SalesforceID != bens[0]["Id"] {
			t.Errorf("link of Ben = %+v, want %v", links[ben.ID], bens[0]["Id"])
		}
		// Re-creating the link's duplicate check: a push after losing the
		// link (as after a crash between create and commit) finds the
		// Salesforce contact by identity instead of creating another.
		err = f.Store.Tx(f.ctx, func(tx *sqlTx) error {
			return f.Store.DeleteLinksOfContactsTx(f.ctx, tx, f.Tenant.ID, []string{ben.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		f.Store.UpdateContact(f.ctx, f.Tenant.ID, ben.ID, contact.Input{Name: contact.Some("Ben Wu")}, contact.OriginAPI)
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, id := range f.Org.ContactIDs(false) {
			if r, _ := f.Org.Record(id); r["Member_Number__c"] == "M2" {
				n++
				if r["LastName"] != "Ben Wu" {
					t.Errorf("LastName = %v, want Ben Wu", r["LastName"])
				}
			}
		}
		if n != 1 {
			t.Errorf("%d Salesforce contacts for M2 after a lost link, want 1", n)
		}
	})
}

func TestConflictsDeletesScopeAndAmbiguity(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	a := f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com", "Tier__c": "Gold"})
	b := f.sfCreate(t, map[string]any{"LastName": "Bob", "Member_Number__c": "M2", "Tier__c": "Gold"})
	f.sfCreate(t, map[string]any{"LastName": "Cat", "Member_Number__c": "M3", "Tier__c": "Silver"})
	cfg := memberConfig()
	cfg.Conditions = []syncconf.Condition{{SalesforceField: "Tier__c", Operator: syncconf.OpEquals, Value: "Gold"}}
	f.save(t, cfg)
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	run = f.pull(t, run, syncer.ModeFull)
	if run.Counts.Created != 2 {
		t.Fatalf("first sync created %d, want 2 (Silver is outside the conditions)", run.Counts.Created)
	}
	// Both sides change Amy's e-mail; the platform's change is newer.
	f.Org.ModifyAsHuman(a, map[string]any{"Email": "amy.sf@example.com"})
	f.Emu.Advance(time.Minute)
	amy := f.platform(t, "M1")
	f.Store.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Email: contact.Some("amy.pf@example.com")}, contact.OriginAPI)
	f.Store.Now = time.Now
	inc := f.syncNow(t)
	if inc.Counts.Conflicts != 1 || f.platform(t, "M1").Email != "amy.pf@example.com" {
		t.Errorf("conflict: counts %+v, e-mail %s; want 1 conflict won by the newer platform value", inc.Counts, f.platform(t, "M1").Email)
	}
	conf, _ := f.eng.RunRecords(f.ctx, f.Tenant.ID, inc.ID, syncer.KindConflict, "", 5)
	if len(conf) != 1 || !strings.Contains(conf[0].Detail, "amy.sf@example.com") || !strings.Contains(conf[0].Detail, "amy.pf@example.com") {
		t.Errorf("conflict log = %+v, want both values", conf)
	}
	// The winning platform value is pushed.
	f.eng.RunPush(f.ctx, f.Tenant.ID)
	if r, _ := f.Org.Record(a); r["Email"] != "amy.pf@example.com" {
		t.Errorf("Salesforce e-mail = %v, want the platform's winning value", r["Email"])
	}
	// Bob leaves the conditions: stays linked, is logged, no longer updated.
	f.Org.ModifyAsHuman(b, map[string]any{"Tier__c": "Silver", "LastName": "Bobby"})
	inc = f.syncNow(t)
	if inc.Counts.OutOfScope != 1 || f.platform(t, "M2").Name != "Bob" {
		t.Errorf("out of scope: counts %+v, name %s; want 1 out of scope and the name unchanged", inc.Counts, f.platform(t, "M2").Name)
	}
	// Amy is deleted in Salesforce: unlinked; the platform contact stays.
	f.Org.DeleteAsHuman(a)
	inc = f.syncNow(t)
	if inc.Counts.Unlinked != 1 {
		t.Errorf("delete: counts %+v, want 1 unlinked", inc.Counts)
	}
	f.platform(t, "M1")
	if links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{a}); len(links) != 0 {
		t.Errorf("Amy is still linked after her deletion in Salesforce")
	}
}

func TestAmbiguousEmailIsNeverGuessed(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.sfCreate(t, map[string]any{"LastName": "Twin A", "Email": "twin@example.com"})
	f.sfCreate(t, map[string]any{"LastName": "Twin B", "Email": "TWIN@Example.com"})
	f.sfCreate(t, map[string]any{"LastName": "Solo", "Email": "solo@example.com"})
	f.save(t, syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirToPlatform}},
	})
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	run = f.pull(t, run, syncer.ModeFull)
	if run.Counts.Ambiguous != 2 || run.Counts.Created != 1 {
		t.Errorf("counts = %+v, want 2 ambiguous and 1 created", run.Counts)
	}
	amb, _ := f.eng.RunRecords(f.ctx, f.Tenant.ID, run.ID, syncer.KindAmbiguous, "", 5)
	if len(amb) != 2 || !strings.Contains(amb[0].Detail, "candidates") {
		t.Errorf("ambiguity log = %+v, want both candidates", amb)
	}
	if list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Email: "twin@example.com"}); len(list) != 0 {
		t.Errorf("an ambiguous twin was synced")
	}
}

func TestResumeAfterCrashWithoutDuplicates(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.sfMembers(t, 1000)
	f.save(t, memberConfig())
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	// The process dies in the middle of the run: the context is cancelled
	// while a page is being read.
	ctx, cancel := context.WithCancel(f.ctx)
	f.Emu.SetFaults(slowFaults())
	go func() { time.Sleep(150 * time.Millisecond); cancel() }()
	err := f.eng.RunPull(ctx, f.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID)
	if err == nil {
		t.Skip("the run finished before the simulated crash; nothing to resume")
	}
	f.Emu.SetFaults(noFaults())
	mid, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID)
	if mid.Status != syncer.StatusRunning {
		t.Fatalf("after the crash the run is %s, want still running", mid.Status)
	}
	done := f.pull(t, run, syncer.ModeFull)
	if done.Status != syncer.StatusSucceeded || f.countContacts(t) != 1000 {
		t.Errorf("after resuming: %s with %d platform contacts, want succeeded with exactly 1000", done.Status, f.countContacts(t))
	}
	if n, _ := f.Store.CountLinks(f.ctx, f.Tenant.ID); n != 1000 {
		t.Errorf("%d links, want 1000", n)
	}
}

func TestBudgetPausesAndResumes(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	for i := range 50 {
		f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("P%02d", i), "Member_Number__c": fmt.Sprintf("M%02d", i)})
	}
	f.save(t, memberConfig())
	used, max := f.Org.APIUsage()
	f.Org.SetAPIUsage(max/2 + 1) // sfsync may use half; it is spent
	_ = used
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err := f.eng.RunPull(f.ctx, f.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	paused, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID)
	if paused.Status != syncer.StatusPaused || !strings.Contains(paused.Message, "budget") {
		t.Fatalf("run = %s %q, want paused with a budget message", paused.Status, paused.Message)
	}
	f.Org.SetAPIUsage(0)
	done := f.pull(t, run, syncer.ModeFull)
	if done.Status != syncer.StatusSucceeded || done.Counts.Created != 50 {
		t.Errorf("resumed run = %s with %d created, want succeeded with 50", done.Status, done.Counts.Created)
	}
}

func TestDisconnectStopsSyncKeepsContacts(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1"})
	f.save(t, memberConfig())
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	f.pull(t, run, syncer.ModeFull)
	if err := f.eng.Disconnect(f.ctx, f.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Store.GetSyncState(f.ctx, f.Tenant.ID)
	due, _ := f.Store.DueForPull(f.ctx, time.Now().Add(time.Hour))
	if st.PullEnabled || st.PushEnabled || slices.Contains(due, f.Tenant.ID) {
		t.Errorf("after disconnect state = %+v, due %v; want nothing scheduled", st, due)
	}
	f.platform(t, "M1")
	if _, err := f.eng.SyncNow(f.ctx, f.Tenant.ID); err == nil {
		t.Error("SyncNow after disconnect succeeded, want an error")
	}
}

type sqlTx = sql.Tx

// slowFaults make every answer take a while, so a crash lands mid-run.
func slowFaults() sfemu.Faults { return sfemu.Faults{Latency: 40 * time.Millisecond} }

func noFaults() sfemu.Faults { return sfemu.Faults{} }

func TestResyncAdvisedWhenIdentityOrConditionsChange(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
	cfg := memberConfig()
	f.save(t, cfg)
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	f.pull(t, run, syncer.ModeFull)
	if adv, err := f.eng.ResyncAdvised(f.ctx, f.Tenant.ID); err != nil || adv {
		t.Fatalf("ResyncAdvised right after the first sync = %v, %v; want false", adv, err)
	}
	// A changed conflict rule does not call for a full resync…
	cfg.Fields[0].Conflict = syncconf.AlwaysSalesforce
	f.save(t, cfg)
	if adv, _ := f.eng.ResyncAdvised(f.ctx, f.Tenant.ID); adv {
		t.Error("ResyncAdvised after a conflict-rule change = true, want false")
	}
	// …new conditions do.
	cfg.Conditions = []syncconf.Condition{{SalesforceField: "LastName", Operator: syncconf.OpStartsWith, Value: "A"}}
	f.save(t, cfg)
	if adv, _ := f.eng.ResyncAdvised(f.ctx, f.Tenant.ID); !adv {
		t.Error("ResyncAdvised after new conditions = false, want true")
	}
}

// TestSlicedPullAppliesEachPageOnce: the pull reads the next page while one
// is applied, so a job slice that ends after a page leaves a page read but
// not applied. The next job must read it again from the checkpoint: every
// record is applied exactly once, and the run's counts add up.
func TestSlicedPullAppliesEachPageOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.sfMembers(t, 1000)
	f.save(t, memberConfig())
	f.eng.SliceDuration = time.Nanosecond // every page ends its job
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	jobs := 0
	for {
		err := f.eng.RunPull(f.ctx, f.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID)
		jobs++
		if err == nil {
			break
		}
		if !errors.Is(err, syncer.ErrContinue) || jobs > 100 {
			t.Fatalf("job %d: %v", jobs, err)
		}
		mid, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID)
		if want := int64(200 * jobs); mid.Processed != want {
			t.Fatalf("after job %d the run processed %d, want %d (one page a job)", jobs, mid.Processed, want)
		}
	}
	done, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID)
	if done.Status != syncer.StatusSucceeded || done.Processed != 1000 || done.Counts.Created != 1000 || done.Counts.Scanned != 1000 {
		t.Errorf("run = %s, processed %d, scanned %d, created %d; want succeeded with 1000 each", done.Status, done.Processed, done.Counts.Scanned, done.Counts.Created)
	}
	if n := f.countContacts(t); n != 1000 {
		t.Errorf("%d platform contacts, want 1000", n)
	}
	if jobs < 5 {
		t.Errorf("%d jobs, want at least one a page", jobs)
	}
	// Each job reads one page with one call (plus COUNT() and describe
	// once): the reading stops at the slice's end instead of fetching
	// pages that the next job would fetch again.
	if done.APICalls > int64(jobs)+2 {
		t.Errorf("%d API calls in %d jobs, want at most one a job plus COUNT() and describe", done.APICalls, jobs)
	}
}

// TestPullStopsReadingWhenAPageCannotBeWritten: a page that cannot be
// written ends the run with the store's error, at once, and the reading
// goroutine stops instead of reading the rest of the org.
func TestPullStopsReadingWhenAPageCannotBeWritten(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.sfMembers(t, 3000)
	f.save(t, memberConfig())
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if _, err := f.Store.DB.Exec(`ALTER TABLE links RENAME TO links_gone`); err != nil {
		t.Fatal(err)
	}
	calls0, _ := f.Org.APIUsage()
	err := f.eng.RunPull(f.ctx, f.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID)
	calls, _ := f.Org.APIUsage()
	if err != nil {
		t.Fatalf("RunPull = %v, want the run ended as failed", err)
	}
	done, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID)
	if done.Status != syncer.StatusFailed || !strings.Contains(done.Message, "links") {
		t.Errorf("run = %s %q, want failed naming the links table", done.Status, done.Message)
	}
	if n := f.countContacts(t); n != 0 {
		t.Errorf("%d platform contacts written, want none", n)
	}
	// COUNT(), the first page and at most the two read ahead, of 15 pages.
	if used := calls - calls0; used > 5 {
		t.Errorf("%d API calls, want the reading stopped after the first page failed (≤ 5 of 16)", used)
	}
}

// TestPushFillsBatches: with coalescing, full batches of 200 contacts go
// at once and the partial one behind them waits for more changes, at most
// PushCoalesce, so a stream of changes costs two calls per 200 and none
// is held longer.
func TestPushFillsBatches(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.save(t, memberConfig())
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	f.pull(t, run, syncer.ModeFull)
	create := func(from, to int) { // t.Error only: it also runs on another goroutine
		items := make([]contact.Input, 0, to-from)
		for i := from; i < to; i++ {
			in, err := contact.Rules{}.Normalize(contact.Input{MemberID: contact.Some(fmt.Sprintf("M%04d", i)), Name: contact.Some(fmt.Sprintf("P%04d", i))})
			if err != nil {
				t.Error(err)
				return
			}
			items = append(items, in)
		}
		if _, err := f.Store.BulkUpsert(f.ctx, f.Tenant.ID, items, contact.IdentityMemberID, contact.OriginAPI); err != nil {
			t.Error(err)
		}
	}
	const wait = time.Second
	f.eng.PushCoalesce = wait
	create(0, 450)
	// More changes arrive while the first batches are pushed: they join
	// the held partial batch.
	go func() { time.Sleep(wait / 10); create(450, 550) }()
	calls0, _ := f.Org.APIUsage()
	start := time.Now()
	if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	calls, _ := f.Org.APIUsage()
	if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
		t.Fatalf("%d outbox entries left, want every change pushed", n)
	}
	// 550 contacts: batches of 200, 200 and 150, each one SOQL query and
	// one collections call. Without holding the partial batch it would be
	// 200, 200, 50 and then 100: eight calls.
	if used := calls - calls0; used != 6 {
		t.Errorf("%d API calls for 550 changes, want 6 (three batches)", used)
	}
	if elapsed > wait+2*time.Second {
		t.Errorf("the push took %s, want the held batch sent once it waited %s", elapsed, wait)
	}
	if n := f.Org.ContactCount(); n != 550 {
		t.Errorf("Salesforce holds %d contacts, want the 550 pushed", n)
	}
	// Every pass of the one push logs into the same real-time run.
	if runs, _ := f.Store.ListRuns(f.ctx, f.Tenant.ID, syncer.DirToSalesforce, 10, 0); len(runs) != 1 {
		t.Errorf("%d push runs, want 1", len(runs))
	}
}
