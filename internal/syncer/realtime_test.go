package syncer_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce/cdc"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// rtFixture is a fixture whose emulator also serves the Pub/Sub API over
// TLS, with a first sync behind the tenant (so it streams).
type rtFixture struct {
	*fixture
	svc      *pubsub.Service
	endpoint string
	tls      *tls.Config
}

func setupRealtime(t *testing.T, d store.Dialect, edition sfemu.Edition) *rtFixture {
	t.Helper()
	return setupRealtimeN(t, d, edition, 3)
}

// setupRealtimeN is setupRealtime with n linked members.
func setupRealtimeN(t *testing.T, d store.Dialect, edition sfemu.Edition, n int) *rtFixture {
	t.Helper()
	env := testenv.New(t, testenv.Options{Dialect: d, Edition: edition})
	env.Connect(t)
	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler), PageSize: 200}
	f := &rtFixture{fixture: &fixture{Env: env, eng: eng, ctx: context.Background()}}
	cert, certPEM, err := pubsub.SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.svc = pubsub.New(env.Emu, pubsub.Options{KeepAlive: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pubsub.Serve(ctx, lis, f.svc, &tls.Config{Certificates: []tls.Certificate{cert}}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Logf("pub/sub server: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	f.endpoint, f.tls = lis.Addr().String(), &tls.Config{RootCAs: pool}

	f.sfMembers(t, n)
	f.save(t, memberConfig())
	run, err := eng.StartInitialSync(f.ctx, env.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.pull(t, run, syncer.ModeFull); got.Counts.Created != int64(n) {
		t.Fatalf("first sync created %d, want %d", got.Counts.Created, n)
	}
	return f
}

func (f *rtFixture) selectContact(t *testing.T, gaps bool) {
	t.Helper()
	if err := f.Org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}, GapEvents: gaps}); err != nil {
		t.Fatal(err)
	}
}

// streamer runs a Streamer named owner on eng until the test ends or the
// returned stop is called (which waits for it).
func (f *rtFixture) streamer(t *testing.T, owner string, eng *syncer.Engine) (*syncer.Streamer, func()) {
	t.Helper()
	s := &syncer.Streamer{Engine: eng, Owner: owner, Endpoint: f.endpoint, TLS: f.tls,
		LeaseTTL: time.Second, ScanEvery: 50 * time.Millisecond, CatchUpDelay: 20 * time.Millisecond,
		RecheckNoCDC: 100 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			t.Errorf("Streamer.Run: %v", err)
		}
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return s, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *rtFixture) stream(t *testing.T) store.RealtimeStream {
	t.Helper()
	rs, err := f.Store.GetRealtimeStream(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// runsOf returns the tenant's Salesforce → platform runs of a trigger.
func (f *rtFixture) runsOf(t *testing.T, trigger syncer.Trigger) []syncer.Run {
	t.Helper()
	runs, err := f.Store.ListRuns(f.ctx, f.Tenant.ID, syncer.DirToPlatform, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(runs, func(r syncer.Run) bool { return r.Trigger != trigger })
}

func (f *rtFixture) platformName(memberID string) string {
	list, err := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{MemberID: memberID})
	if err != nil || len(list) != 1 {
		return ""
	}
	return list[0].Name
}

// waitCaughtUp waits until the stream is up and owes no catch-up.
func (f *rtFixture) waitCaughtUp(t *testing.T) {
	t.Helper()
	waitFor(t, "the stream to be up and caught up", func() bool {
		rs := f.stream(t)
		return rs.Mode == store.StreamRealtime && !rs.CatchUp
	})
}

func TestRealtime_ChangesArriveAndResumeFromReplayID(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		f.selectContact(t, false)
		_, stop := f.streamer(t, "p1", f.eng)
		f.waitCaughtUp(t)
		// The first subscription starts at the newest event: one pull
		// catches up on what came since the cursor.
		if n := len(f.runsOf(t, syncer.TriggerCatchUp)); n != 1 {
			t.Fatalf("catch-up pulls after the first subscription: got %d, want 1", n)
		}

		id := f.sfCreate(t, map[string]any{"LastName": "Realtime", "Member_Number__c": "M9001"})
		waitFor(t, "the new Salesforce contact on the platform", func() bool { return f.platformName("M9001") == "Realtime" })
		rt := f.runsOf(t, syncer.TriggerRealtime)
		if len(rt) != 1 || rt[0].Counts.Created != 1 || rt[0].Status != syncer.StatusRunning || rt[0].APICalls == 0 {
			t.Fatalf("real-time runs: got %+v, want one running run with 1 created and its API calls counted", rt)
		}
		// An edit of a field the configuration does not read is not read.
		if err := f.Org.ModifyAsHuman(id, map[string]any{"Title": "Manager"}); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "Realtime 2"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the edit on the platform", func() bool { return f.platformName("M9001") == "Realtime 2" })
		rt = f.runsOf(t, syncer.TriggerRealtime)
		if got := rt[0].Counts.Scanned; got != 2 {
			t.Errorf("records read by the real-time run: got %d, want 2 (the Title-only edit is not read)", got)
		}
		stop()
		replay := f.stream(t).ReplayID
		if replay == nil {
			t.Fatal("no replay ID stored after applied batches")
		}

		// Changes made while no process subscribes arrive after a restart,
		// replayed from the stored replay ID — not by a catch-up pull.
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "While down"}); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.DeleteAsHuman(f.platformSF(t, "M0001")); err != nil {
			t.Fatal(err)
		}
		f.streamer(t, "p2", f.eng)
		waitFor(t, "the change made while down", func() bool { return f.platformName("M9001") == "While down" })
		waitFor(t, "the deletion made while down", func() bool {
			l, err := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{f.platformSF(t, "M0001")})
			return err == nil && len(l) == 0
		})
		if n := len(f.runsOf(t, syncer.TriggerCatchUp)); n != 1 {
			t.Errorf("catch-up pulls after resuming from a replay ID: got %d, want still 1", n)
		}
		if slices.Equal(f.stream(t).ReplayID, replay) {
			t.Error("the replay ID did not move after the resumed batches")
		}
	})
}

// platformSF returns the Salesforce Id of the record with a member number.
func (f *rtFixture) platformSF(t *testing.T, memberID string) string {
	t.Helper()
	for _, id := range f.Org.ContactIDs(true) {
		if rec, ok := f.Org.Record(id); ok && rec["Member_Number__c"] == memberID {
			return id
		}
	}
	t.Fatalf("no Salesforce contact with member number %s", memberID)
	return ""
}

func TestRealtime_GapOverflowAndExpiredReplayFallBackToAPull(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		f.selectContact(t, false)
		_, stop := f.streamer(t, "p1", f.eng)
		f.waitCaughtUp(t)
		catchUps := func() int { return len(f.runsOf(t, syncer.TriggerCatchUp)) }
		base := catchUps()
		id := f.platformSF(t, "M0002")

		// A gap event carries no detail: an incremental pull reads the change.
		f.selectContact(t, true)
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "Through a gap"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the gapped change on the platform", func() bool { return f.platformName("M0002") == "Through a gap" })
		if got := catchUps(); got != base+1 {
			t.Fatalf("catch-up pulls after a gap event: got %d, want %d", got, base+1)
		}
		f.selectContact(t, false)
		f.waitCaughtUp(t)

		// An overflow event: the same fallback, then streaming resumes.
		if err := f.Org.PublishGapOverflow("Contact"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a catch-up pull after the overflow", func() bool { return catchUps() == base+2 })
		f.waitCaughtUp(t)
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "Streamed again"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a streamed change after the overflow", func() bool { return f.platformName("M0002") == "Streamed again" })

		// A replay ID past retention: subscribe from the newest event and
		// catch up by polling.
		stop()
		if err := f.Store.SaveReplayID(f.ctx, f.Tenant.ID, pubsub.EncodeReplayID(1), false); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "Past retention"}); err != nil {
			t.Fatal(err)
		}
		f.streamer(t, "p2", f.eng)
		waitFor(t, "the change read by the catch-up", func() bool { return f.platformName("M0002") == "Past retention" })
		f.waitCaughtUp(t)
		if got := catchUps(); got != base+3 {
			t.Errorf("catch-up pulls after an expired replay ID: got %d, want %d", got, base+3)
		}

		// A broken stream (Salesforce restarts a server) resubscribes.
		f.svc.DropStreams()
		waitFor(t, "resubscribed after a dropped stream", func() bool { return catchUps() == base+4 })
		f.waitCaughtUp(t)
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "After a break"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a streamed change after a break", func() bool { return f.platformName("M0002") == "After a break" })
	})
}

func TestRealtime_EchoesAreDroppedUnlessValuesDiffer(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		id := f.platformSF(t, "M0001")
		feed := f.eng.NewFeed(f.Tenant.ID)
		echo := func(fields map[string]any, changed ...string) cdc.Batch {
			return cdc.Batch{LatestReplayID: []byte{0, 0, 0, 0, 0, 0, 0, 9}, Events: []cdc.Event{{
				Entity: "Contact", Type: cdc.Update, RecordIDs: []string{id}, ChangedFields: changed, Fields: fields,
				ChangeOrigin: "com/salesforce/api/rest/62.0;client=sfsync"}}}
		}
		// sfsync's own write of the value the link holds: dropped unread.
		res, err := feed.Apply(f.ctx, echo(map[string]any{"LastName": "P0001"}, "LastName"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Dropped != 1 || res.Fetched != 0 {
			t.Fatalf("echo of the linked value: got %+v, want dropped without a read", res)
		}
		// A trigger changed the value inside sfsync's own transaction: it
		// differs from what the link wrote, so the record is read and the
		// platform gets Salesforce's value.
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "Set by a trigger"}); err != nil {
			t.Fatal(err)
		}
		res, err = feed.Apply(f.ctx, echo(map[string]any{"LastName": "Set by a trigger"}, "LastName"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Fetched != 1 || f.platformName("M0001") != "Set by a trigger" {
			t.Fatalf("echo with a trigger's value: got %+v and platform name %q, want the record read and applied", res, f.platformName("M0001"))
		}
		if got := f.stream(t).ReplayID; !slices.Equal(got, []byte{0, 0, 0, 0, 0, 0, 0, 9}) {
			t.Errorf("stored replay ID: got %x, want the batch's", got)
		}

		// End to end: the push's own write comes back as an event and is
		// dropped; the platform contact is not touched again.
		f.selectContact(t, false)
		_, _ = f.streamer(t, "p1", f.eng)
		f.waitCaughtUp(t)
		c := f.platform(t, "M0002")
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, c.ID, contact.Input{Name: contact.Some("Pushed name")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		before := f.stream(t).ReplayID
		scanned := func() (n int64) {
			for _, r := range f.runsOf(t, syncer.TriggerRealtime) {
				n += r.Counts.Scanned
			}
			return n
		}
		read := scanned()
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		if rec, _ := f.Org.Record(f.platformSF(t, "M0002")); rec["LastName"] != "Pushed name" {
			t.Fatalf("pushed LastName: got %v", rec["LastName"])
		}
		pushed := f.platformUpdated(t, c.ID)
		waitFor(t, "the push's echo to be consumed", func() bool { return !slices.Equal(f.stream(t).ReplayID, before) })
		if got := scanned(); got != read {
			t.Errorf("records read by real-time runs: got %d, want still %d (the echo is dropped)", got, read)
		}
		if got := f.platformUpdated(t, c.ID); !got.Equal(pushed) {
			t.Errorf("the platform contact changed after the echo: updated %v, want %v", got, pushed)
		}
	})
}

func (f *rtFixture) platformUpdated(t *testing.T, id string) time.Time {
	t.Helper()
	m, err := f.Store.GetContacts(f.ctx, f.Tenant.ID, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	return m[id].Updated
}

func TestRealtime_LeaseTakenOverWhenTheHolderDies(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		f.selectContact(t, false)
		// Process A has its own database handle: closing it is A dying
		// without giving its lease up.
		storeA, err := store.Open(f.ctx, f.DSN)
		if err != nil {
			t.Fatal(err)
		}
		connA := *f.Conn
		connA.Store = storeA
		engA := &syncer.Engine{Store: storeA, Conn: &connA, Logger: slog.New(slog.DiscardHandler), PageSize: 200}
		a, stopA := f.streamer(t, "process-a", engA)
		waitFor(t, "A to hold the subscription", func() bool { return len(a.Held()) == 1 })
		b, _ := f.streamer(t, "process-b", f.eng)
		f.waitCaughtUp(t)
		time.Sleep(300 * time.Millisecond) // several scans of both
		if len(b.Held()) != 0 || len(a.Held()) != 1 {
			t.Fatalf("holders: A %v, B %v; want A alone", a.Held(), b.Held())
		}
		if err := storeA.Close(); err != nil {
			t.Fatal(err)
		}
		died := time.Now()
		stopA()
		waitFor(t, "B to take the subscription over", func() bool { return len(b.Held()) == 1 })
		// LeaseTTL is 1 s here (20 s in production, so 25 s with the scan).
		if took := time.Since(died); took > 3*time.Second {
			t.Errorf("takeover took %v, want within the lease TTL and a scan", took)
		}
		if rs := f.stream(t); rs.LeaseOwner != "process-b" {
			t.Errorf("lease owner: got %q, want process-b", rs.LeaseOwner)
		}
		id := f.platformSF(t, "M0001")
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "After takeover"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a change through B", func() bool { return f.platformName("M0001") == "After takeover" })
	})
}

func TestRealtime_WithoutCDCKeepsPolling(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		edition sfemu.Edition
		selectC bool
	}{{"contact not selected", sfemu.Enterprise, false}, {"professional edition", sfemu.Professional, true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachDialect(t, func(t *testing.T, d store.Dialect) {
				f := setupRealtime(t, d, c.edition)
				if c.selectC {
					f.selectContact(t, false)
				}
				s, _ := f.streamer(t, "p1", f.eng)
				waitFor(t, "the polling mode", func() bool {
					rs := f.stream(t)
					return rs.Mode == store.StreamPolling && rs.Reason == syncer.ReasonNoCDC
				})
				if len(s.Held()) != 1 {
					t.Errorf("held: %v, want the tenant (its org is asked again later)", s.Held())
				}
				// No run failed, and the poll still brings changes.
				runs, err := f.Store.ListRuns(f.ctx, f.Tenant.ID, "", 100, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range runs {
					if r.Status == syncer.StatusFailed {
						t.Errorf("run %d (%s) failed: %s", r.ID, r.Trigger, r.Message)
					}
				}
				if err := f.Org.ModifyAsHuman(f.platformSF(t, "M0001"), map[string]any{"LastName": "Polled"}); err != nil {
					t.Fatal(err)
				}
				f.syncNow(t)
				if got := f.platformName("M0001"); got != "Polled" {
					t.Errorf("after a poll: got %q, want Polled", got)
				}
			})
		})
	}
}

func TestRealtime_DisconnectEndsTheStream(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		f.selectContact(t, false)
		s, _ := f.streamer(t, "p1", f.eng)
		f.waitCaughtUp(t)
		if err := f.Org.ModifyAsHuman(f.platformSF(t, "M0001"), map[string]any{"LastName": "Streamed"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a streamed change", func() bool { return f.platformName("M0001") == "Streamed" })
		if err := f.eng.Disconnect(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the subscription to be dropped", func() bool { return len(s.Held()) == 0 })
		// The replay ID belonged to that connection's org: forgotten.
		if rs := f.stream(t); rs.ReplayID != nil || rs.Mode != "" || rs.RunID != 0 {
			t.Errorf("stream after a disconnect: %+v, want none", rs)
		}
		for _, r := range f.runsOf(t, syncer.TriggerRealtime) {
			if r.Status == syncer.StatusRunning {
				t.Errorf("real-time run %d still open after the disconnect", r.ID)
			}
		}
	})
}

// A pause of Salesforce → platform holds real-time arrivals too: while
// paused a Salesforce edit does not reach the platform, and the first
// poll after the resume brings it (the stream never moves the pull's
// cursor). Before, the stream applied changes during a pause.
func TestRealtime_PauseHoldsArrivals(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		f.selectContact(t, false)
		f.streamer(t, "p1", f.eng)
		f.waitCaughtUp(t)
		id := f.platformSF(t, "M0002")
		before := f.platformName("M0002")
		if err := f.Store.SetSyncPause(f.ctx, f.Tenant.ID, store.SyncPause{ToPlatform: true}); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "Paused edit"}); err != nil {
			t.Fatal(err)
		}
		// The stream took the event (its replay ID moved) and applied nothing.
		replay := f.stream(t).ReplayID
		waitFor(t, "the paused event to be taken", func() bool { return !bytes.Equal(f.stream(t).ReplayID, replay) })
		if got := f.platformName("M0002"); got != before {
			t.Fatalf("platform name during the pause: got %q, want %q (unchanged)", got, before)
		}
		if err := f.Store.SetSyncPause(f.ctx, f.Tenant.ID, store.SyncPause{}); err != nil {
			t.Fatal(err)
		}
		f.syncNow(t)
		if got := f.platformName("M0002"); got != "Paused edit" {
			t.Errorf("platform name after the resume and a poll: got %q, want %q", got, "Paused edit")
		}
	})
}

// TestRealtime_BatchCostIsBounded holds a batch of change events to a
// bounded number of Salesforce calls and database transactions, whatever
// its size: UPDATE events that carry the fields the configuration reads
// are applied from their own values (no call), the others are read back
// with one query per 200 records, and the batch (with its replay ID) is
// one transaction.
func TestRealtime_BatchCostIsBounded(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		const n = 40
		f := setupRealtimeN(t, d, "", n)
		feed := f.eng.NewFeed(f.Tenant.ID)
		ids := make([]string, n)
		for i := range n {
			ids[i] = f.platformSF(t, fmt.Sprintf("M%04d", i))
		}
		replay := byte(0)
		batch := func(events []cdc.Event) cdc.Batch {
			replay++
			return cdc.Batch{LatestReplayID: []byte{0, 0, 0, 0, 0, 0, 0, replay}, Events: events}
		}
		// change writes LastName (and, with birthdate, Birthdate) in
		// Salesforce as a user would, and returns the event Salesforce
		// sends for it.
		change := func(i int, name string, birthdate bool) cdc.Event {
			vals := map[string]any{"LastName": name}
			ev := cdc.Event{Entity: "Contact", Type: cdc.Update, RecordIDs: []string{ids[i]}, CommitTimestamp: time.Now().UTC().Truncate(time.Millisecond),
				ChangedFields: []string{"LastName", "LastModifiedDate"}, Fields: map[string]any{"LastName": name}}
			if birthdate {
				vals["Birthdate"] = "1990-01-02"
				// An Avro date: days since the epoch, not the REST form.
				ev.ChangedFields = append(ev.ChangedFields, "Birthdate")
				ev.Fields["Birthdate"] = int32(7306)
			}
			if err := f.Org.ModifyAsHuman(ids[i], vals); err != nil {
				t.Fatal(err)
			}
			return ev
		}
		// A first batch opens the real-time run and stores the usage
		// reading: costs paid once per window, not per batch.
		if _, err := feed.Apply(f.ctx, batch([]cdc.Event{change(0, "Warm", false)})); err != nil {
			t.Fatal(err)
		}
		measure := func(events []cdc.Event) (syncer.FeedResult, int, int64) {
			t.Helper()
			calls0, _ := f.Org.APIUsage()
			writes0 := f.Store.Writes()
			res, err := feed.Apply(f.ctx, batch(events))
			if err != nil {
				t.Fatal(err)
			}
			calls, _ := f.Org.APIUsage()
			return res, calls - calls0, f.Store.Writes() - writes0
		}

		var events []cdc.Event
		for i := range n {
			events = append(events, change(i, fmt.Sprintf("Streamed %d", i), false))
		}
		res, calls, writes := measure(events)
		if calls != 0 || writes != 1 || res.FromEvents != n || res.Fetched != 0 {
			t.Errorf("%d UPDATE events carrying their fields: got %d Salesforce calls, %d transactions, %+v; want 0 calls, 1 transaction, %d applied from the events",
				n, calls, writes, res, n)
		}
		for i := range n {
			if got, want := f.platformName(fmt.Sprintf("M%04d", i)), fmt.Sprintf("Streamed %d", i); got != want {
				t.Fatalf("platform name of M%04d: got %q, want %q", i, got, want)
			}
		}
		if got := f.stream(t).ReplayID; !slices.Equal(got, []byte{0, 0, 0, 0, 0, 0, 0, replay}) {
			t.Errorf("stored replay ID: got %x, want the batch's", got)
		}

		// Events whose values are not in the REST form (a date) are read
		// back: all of them with one query.
		events = events[:0]
		for i := range n {
			events = append(events, change(i, fmt.Sprintf("Dated %d", i), true))
		}
		res, calls, writes = measure(events)
		if calls != 1 || writes != 1 || res.Fetched != n {
			t.Errorf("%d events read back: got %d Salesforce calls, %d transactions, %+v; want 1 call, 1 transaction, %d read", n, calls, writes, res, n)
		}
		if got := f.platform(t, "M0007"); got.Name != "Dated 7" || got.Birthday != "1990-01-02" {
			t.Errorf("a read-back record: got name %q birthday %v, want Dated 7 with a birthday", got.Name, got.Birthday)
		}
	})
}

// TestRealtime_StreamedUpdateStampsTheLinkAsAPullWould: an UPDATE applied
// from its own values (no read by Id) leaves the link with Salesforce's
// SystemModstamp to the millisecond, which the drift check compares, and
// with the new value, so the next poll finds nothing to do.
func TestRealtime_StreamedUpdateStampsTheLinkAsAPullWould(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		f.selectContact(t, false)
		_, _ = f.streamer(t, "p1", f.eng)
		f.waitCaughtUp(t)
		id := f.platformSF(t, "M0001")
		calls0, _ := f.Org.APIUsage()
		if err := f.Org.ModifyAsHuman(id, map[string]any{"LastName": "Streamed"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a streamed change", func() bool { return f.platformName("M0001") == "Streamed" })
		if calls, _ := f.Org.APIUsage(); calls != calls0 {
			t.Errorf("Salesforce calls for a streamed UPDATE: got %d, want 0 (applied from the event)", calls-calls0)
		}
		links, err := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := f.Org.Record(id)
		want, _ := rec["SystemModstamp"].(time.Time)
		if got := links[id].SFModstamp; got.UnixMilli() != want.UnixMilli() {
			t.Errorf("link SystemModstamp: got %v, want Salesforce's %v", got, want)
		}
		run := f.syncNow(t)
		if run.Counts.Updated != 0 || run.Counts.Conflicts != 0 {
			t.Errorf("the poll after a streamed change: got %+v, want nothing updated", run.Counts)
		}
	})
}

// TestRealtime_StreamedCreateIsAppliedFromItsEvent: a CREATE carries
// every field, so a contact created in Salesforce reaches the platform
// without a read by Id — unless a field it carries is not in the REST
// form (a date), when it is read. Either way a newcomer costs the one
// query that looks for other records holding its identity value (X3).
func TestRealtime_StreamedCreateIsAppliedFromItsEvent(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setupRealtime(t, d, "")
		f.selectContact(t, false)
		_, _ = f.streamer(t, "p1", f.eng)
		f.waitCaughtUp(t)
		calls0, _ := f.Org.APIUsage()
		f.sfCreate(t, map[string]any{"LastName": "Newcomer", "Member_Number__c": "M0100", "Email": "new@example.com"})
		waitFor(t, "a streamed create", func() bool { return f.platformName("M0100") == "Newcomer" })
		if calls, _ := f.Org.APIUsage(); calls != calls0+1 {
			t.Errorf("Salesforce calls for a streamed CREATE: got %d, want 1 (the identity check; no read by Id)", calls-calls0)
		}
		if got := f.platform(t, "M0100"); got.Email != "new@example.com" {
			t.Errorf("created contact's email: got %q, want new@example.com", got.Email)
		}
		calls0, _ = f.Org.APIUsage()
		f.sfCreate(t, map[string]any{"LastName": "Dated", "Member_Number__c": "M0101", "Birthdate": "1990-01-02"})
		waitFor(t, "a streamed create with a date", func() bool { return f.platformName("M0101") == "Dated" })
		if calls, _ := f.Org.APIUsage(); calls != calls0+2 {
			t.Errorf("Salesforce calls for a streamed CREATE with a date: got %d, want 2 (the identity check, the read by Id)", calls-calls0)
		}
		if got := f.platform(t, "M0101"); got.Birthday != "1990-01-02" {
			t.Errorf("created contact's birthday: got %q, want 1990-01-02", got.Birthday)
		}
		run := f.syncNow(t)
		if run.Counts.Updated != 0 || run.Counts.Created != 0 {
			t.Errorf("the poll after streamed creates: got %+v, want nothing created or updated", run.Counts)
		}
	})
}
