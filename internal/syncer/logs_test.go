package syncer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/logctx"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns the lines written so far and forgets them.
func (b *lockedBuffer) take() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []map[string]any
	sc := bufio.NewScanner(&b.buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err == nil {
			lines = append(lines, m)
		}
	}
	b.buf.Reset()
	return lines
}

// TestRunLogLinesNameTenantAndRun logs at debug level, as an operator
// chasing a problem would, through the production handler stack (JSON
// wrapped in logctx.Handler), and runs a first sync, a scheduled poll (a
// job that does not know its run ID before the run starts) and a push
// with a context that carries nothing. Every line written during each run
// — the engine's, and the Salesforce client's per-request lines — must
// carry the tenant ID and that run's ID (issue 18). Before the engine put
// the run in the context, the client's lines had neither.
func TestRunLogLinesNameTenantAndRun(t *testing.T) {
	t.Parallel()
	out := &lockedBuffer{}
	logger := slog.New(logctx.NewHandler(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	env := testenv.New(t, testenv.Options{Dialect: store.SQLite, Logger: logger})
	env.Connect(t)
	f := &fixture{Env: env, eng: &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: logger, PageSize: 200}, ctx: context.Background()}
	f.save(t, memberConfig())
	f.sfMembers(t, 4)
	ann := f.sfCreate(t, map[string]any{"LastName": "Ann", "Member_Number__c": "M9000"})

	check := func(what string, wantRun int64) {
		t.Helper()
		lines := out.take()
		requests := 0
		for _, l := range lines {
			if l["msg"] == "salesforce request" {
				requests++
			}
			tenantID, _ := l["tenant_id"].(string)
			runID, _ := l["run_id"].(float64)
			if tenantID != f.Tenant.ID || (wantRun != 0 && int64(runID) != wantRun) || runID == 0 {
				t.Errorf("%s: log line %q has tenant_id %q and run_id %v; want %s and run %d (0: any run)", what, l["msg"], tenantID, l["run_id"], f.Tenant.ID, wantRun)
			}
		}
		if requests == 0 {
			t.Errorf("%s: %d lines, none of them a Salesforce request; want the client's lines checked too", what, len(lines))
		}
	}

	out.take() // the connection and the saved configuration are not runs
	first, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.pull(t, first, syncer.ModeFull)
	check("first sync", first.ID)

	if err := f.Org.ModifyAsHuman(ann, map[string]any{"LastName": "Changed"}); err != nil {
		t.Fatal(err)
	}
	// A scheduled poll: the job names no run; the engine opens one.
	if err := f.eng.RunPull(context.Background(), f.Tenant.ID, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatalf("RunPull: %v", err)
	}
	check("scheduled poll", 0)

	amy := f.platform(t, "M0002")
	if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Name: contact.Some("Amy Lin")}, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	out.take() // the platform's write is not a run
	if err := f.eng.RunPush(context.Background(), f.Tenant.ID); err != nil {
		t.Fatalf("RunPush: %v", err)
	}
	check("push", 0)
}
