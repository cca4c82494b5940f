package syncer_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A Salesforce outage longer than a minute logs one warning — in the
// service's log and on the run it holds up — the card's "unreachable
// since" shows after five minutes, and recovery is logged once (issue 13
// item 6: a one-minute outage left no warning at all). The clock is the
// engine's; the emulator answers 503 to everything.
func TestOutageWarnsOnceAndRecoveryIsLoggedOnce(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		var logs syncBuffer
		f.eng.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		t0 := time.Now().UTC()
		now := t0
		var mu sync.Mutex
		f.eng.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		at := func(d time.Duration) { mu.Lock(); now = t0.Add(d); mu.Unlock() }
		f.sfMembers(t, 5)
		f.save(t, memberConfig())
		first, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, first, syncer.ModeFull)

		f.Emu.SetFaults(sfemu.Faults{UnavailableRate: 1})
		run, err := f.eng.SyncNow(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		attempt := func(d time.Duration) {
			t.Helper()
			at(d)
			if err := f.eng.RunPull(context.Background(), f.Tenant.ID, syncer.ModeIncremental, run.Trigger, run.ID); err == nil {
				t.Fatalf("a pull at +%v succeeded against a Salesforce answering 503", d)
			}
		}
		warnings := func() int { return strings.Count(logs.String(), `msg="Salesforce unreachable"`) }
		attempt(0)
		attempt(30 * time.Second)
		if n := warnings(); n != 0 {
			t.Errorf("%d warnings after 30 s of outage, want none yet", n)
		}
		attempt(70 * time.Second)
		attempt(90 * time.Second)
		attempt(4 * time.Minute)
		if n := warnings(); n != 1 {
			t.Errorf("%d warnings after 4 minutes of outage, want exactly 1", n)
		}
		if r, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID); !strings.Contains(r.Message, "Salesforce unreachable since") {
			t.Errorf("run message %q, want the outage named where the admin sees it", r.Message)
		}
		if _, shown, err := f.eng.Outage(f.ctx, f.Tenant.ID); err != nil || shown {
			t.Errorf("outage shown on the card after 4 minutes (%v), want it only from 5", err)
		}
		at(6 * time.Minute)
		if since, shown, err := f.eng.Outage(f.ctx, f.Tenant.ID); err != nil || !shown || !since.Equal(t0.Truncate(time.Microsecond)) {
			t.Errorf("card after 6 minutes: since %v shown %v (%v), want since %v", since, shown, err, t0)
		}

		f.Emu.SetFaults(sfemu.Faults{})
		at(7 * time.Minute)
		if err := f.eng.RunPull(context.Background(), f.Tenant.ID, syncer.ModeIncremental, run.Trigger, run.ID); err != nil {
			t.Fatalf("pull after the outage: %v", err)
		}
		f.syncNow(t)
		if n := strings.Count(logs.String(), `msg="Salesforce is reachable again"`); n != 1 {
			t.Errorf("recovery logged %d times, want once", n)
		}
		if _, shown, _ := f.eng.Outage(f.ctx, f.Tenant.ID); shown {
			t.Error("the card still shows the outage after Salesforce answered")
		}
		if n := warnings(); n != 1 {
			t.Errorf("%d warnings in all, want 1", n)
		}
	})
}
