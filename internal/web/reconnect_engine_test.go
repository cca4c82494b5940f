package web

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// TestReconnectAfterDisconnectStartsAFreshFirstSync: with the real engine,
// a first sync runs, the admin disconnects and connects again; the start
// page must offer 開始同步 (Start sync) for the new connection, not show
// the old connection's result as if it were new (issue 17).
func TestReconnectAfterDisconnectStartsAFreshFirstSync(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t)
	if _, err := emu.org.SeedContacts(20, 3); err != nil {
		t.Fatal(err)
	}
	q := &directQueue{}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	var eng *syncer.Engine
	e := setup(t, setupOpts{tenantLang: "en", conn: emu.wire(true), engine: func(st *store.Store, c *sfconn.Service, _ *fakeEngine) Engine {
		eng = &syncer.Engine{Store: st, Conn: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Queue: q}
		q.eng = eng
		return eng
	}})
	t.Cleanup(func() {
		q.cancel()
		q.wg.Wait()
	})
	ctx := context.Background()
	a := e.client().login("a@shop.test")
	mustContain(t, authorizeAs(t, a, emu.url, emuAdmin), `id="start-setup"`)
	cfg := syncconf.Config{SchemaVersion: syncconf.CurrentSchemaVersion, Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: "email",
		ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirToPlatform}}}
	if _, err := eng.SaveConfig(ctx, e.tenantA.ID, "", cfg); err != nil {
		t.Fatal(err)
	}
	mustContain(t, a.get("/admin/salesforce/start"), `id="start-sync"`)
	a.post("/admin/salesforce/start", url.Values{})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if run, ok, err := eng.InitialRun(ctx, e.tenantA.ID); err != nil {
			t.Fatal(err)
		} else if ok && runDone(run) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first sync did not finish in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustContain(t, a.get("/admin/salesforce/start"), `id="sync-done"`)

	a.post("/admin/salesforce/disconnect", url.Values{})
	mustContain(t, a.get("/admin/integrations"), `data-state="available"`)
	mustContain(t, authorizeAs(t, a, emu.url, emuAdmin), `id="start-setup"`)
	// Setting up again leads to the start page with its Start sync button,
	// and the card asks for the first sync.
	p := a.get("/admin/salesforce/start")
	mustNotContain(t, p, `id="sync-done"`)
	mustContain(t, p, `id="start-sync"`)
	mustContain(t, a.get("/admin/integrations"), `id="go-start"`)
	// Start sync runs a new first sync for the new connection.
	old, _, _ := eng.InitialRun(ctx, e.tenantA.ID)
	a.post("/admin/salesforce/start", url.Values{})
	if run, ok, err := eng.InitialRun(ctx, e.tenantA.ID); err != nil || !ok || run.ID == old.ID {
		t.Errorf("after Start sync on the new connection: initial run %+v (found %v, %v), want a new one", run, ok, err)
	}
}
