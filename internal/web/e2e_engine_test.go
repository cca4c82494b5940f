package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// directQueue runs the engine's pulls in goroutines, standing in for the
// job queue, and waits for them when the test ends.
type directQueue struct {
	eng    *syncer.Engine
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

func (q *directQueue) EnqueuePull(ctx context.Context, tenantID string, mode syncer.PullMode, trigger syncer.Trigger, runID int64, at time.Time) error {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		for range 1000 {
			err := q.eng.RunPull(q.ctx, tenantID, mode, trigger, runID)
			if errors.Is(err, syncer.ErrContinue) {
				continue
			}
			if err != nil && q.ctx.Err() == nil {
				q.mu.Lock()
				q.errs = append(q.errs, err)
				q.mu.Unlock()
			}
			return
		}
	}()
	return nil
}

func (q *directQueue) EnqueuePush(ctx context.Context, tenantID string) error { return nil }

// TestEndToEndWithTheEngine drives the real sync engine against the
// emulator from the browser, once per object the admin may choose
// (Contact, Lead, Person Account; issue 16): connect, choose the object
// in step 2, set up, the dry run of the saved configuration, Start sync,
// the live percentage up to the end, the sync log and the run's details.
func TestEndToEndWithTheEngine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		object   syncconf.ObjectChoice
		identity string // the e-mail field of the object
		seed     func(o *sfemu.Org) error
	}{
		{syncconf.ObjectContact, "Email", func(o *sfemu.Org) error { _, err := o.SeedContacts(300, 7); return err }},
		{syncconf.ObjectLead, "Email", func(o *sfemu.Org) error { _, err := o.SeedLeads(300, 7); return err }},
		{syncconf.ObjectPersonAccount, "PersonEmail", func(o *sfemu.Org) error {
			o.EnablePersonAccounts()
			_, err := o.SeedPersonAccounts(300, 7)
			return err
		}},
	} {
		t.Run(string(tc.object), func(t *testing.T) {
			t.Parallel()
			endToEndWithTheEngine(t, tc.object, tc.identity, tc.seed)
		})
	}
}

func endToEndWithTheEngine(t *testing.T, object syncconf.ObjectChoice, identity string, seed func(o *sfemu.Org) error) {
	const lang = langZH
	emu := startEmulator(t)
	if err := seed(emu.org); err != nil {
		t.Fatal(err)
	}
	q := &directQueue{}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	var eng *syncer.Engine
	e := setup(t, setupOpts{tenantLang: lang, conn: emu.wire(true), engine: func(st *store.Store, c *sfconn.Service, _ *fakeEngine) Engine {
		eng = &syncer.Engine{Store: st, Conn: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Queue: q}
		q.eng = eng
		return eng
	}})
	t.Cleanup(func() {
		q.cancel()
		q.wg.Wait()
	})
	// The browser starts last, so it closes first.
	ctx := browserOrSkip(t)

	dir := filepath.Join("testdata", "artifacts", "engine-"+lang)
	if object != syncconf.ObjectContact {
		dir += "-" + string(object)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	s := &shooter{t: t, ctx: ctx, dir: dir}
	b := &e2e{t: t, ctx: ctx, url: e.srv.URL}

	b.do("sign in", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "a@shop.test"), chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.submit("sign in", "login-submit")
	b.submit("connect", "connect")
	b.submit("go to authorize", "authorize")
	b.do("Salesforce login", chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), emuAdmin), chromedp.SendKeys(chromedp.ID("password"), emuPassword))
	b.submit("Salesforce login", "Login")
	b.wantText("#sf-org", "Acme Corp")
	b.submit("start setup", "start-setup")
	if object != syncconf.ObjectContact {
		// Choosing the object re-renders step 2 with its fields.
		b.waitFor(`!!document.getElementById("f-object")`)
		choose := fmt.Sprintf(`(function () { var s = document.getElementById("f-object"); if (!s) return false;
			s.value = %q; return s.dispatchEvent(new Event("change", {bubbles: true})); })()`, string(object))
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Evaluate[bool](choose))); err != nil {
			t.Fatalf("choose %s: %v", object, err)
		}
		b.waitFor(fmt.Sprintf(`(document.getElementById("f-object") || {}).value === %q`, string(object)))
		s.shot("object")
	}
	b.do("identity", chromedp.Click(chromedp.ID("pi-email")), chromedp.SetValue(chromedp.ID("f-identity-salesforce_field"), identity))
	b.submit("next", "next")
	b.submit("next", "next")
	b.submit("add field", "add-row")
	b.do("map LastName → name",
		chromedp.SetValue(chromedp.ID("f-field_mappings-0-salesforce_field"), "LastName"),
		chromedp.SetValue(chromedp.ID("f-field_mappings-0-platform_field"), "name"),
		chromedp.SetValue(chromedp.ID("f-field_mappings-0-direction"), "to_platform"))
	b.submit("next", "next")
	s.shot("conditions")
	b.submit("save", "save")
	if !strings.Contains(b.location(), "/admin/salesforce/start") {
		t.Fatalf("after save: at %s, want /admin/salesforce/start; page: %s", b.location(), b.text("main"))
	}
	// The real dry run against the emulator's seeded contacts (X8).
	b.wantText(".dryrun", "Salesforce API")
	s.shot("start-dry-run")

	b.submit("start sync", "start-sync")
	b.waitForWithin(`!!document.getElementById('sync-done')`, 90*time.Second)
	s.shot("sync-done")
	created, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".counts > div:first-child dd")))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(created)); n < 100 {
		t.Errorf("first sync created %q contacts, want most of the 300 seeded", created)
	}
	run, ok, err := eng.InitialRun(context.Background(), e.tenantA.ID)
	if err != nil || !ok || run.Percent() != 100 {
		t.Errorf("initial run: got %+v (found %v, %v), want it finished at 100%%", run, ok, err)
	}
	if cfg, _, err := eng.CurrentConfig(context.Background(), e.tenantA.ID); err != nil || cfg.Choice() != object || cfg.Identity.SalesforceField != identity {
		t.Errorf("saved configuration: object %s, identity %s (%v); want %s, %s", cfg.Choice(), cfg.Identity.SalesforceField, err, object, identity)
	}
	b.do("info", chromedp.Navigate(e.srv.URL+"/admin/salesforce/info"))
	b.wantText(fmt.Sprintf(`tr[data-run="%d"]`, run.ID), "首次同步")
	s.shot("sync-info")
	b.do("run", chromedp.Navigate(fmt.Sprintf("%s/admin/salesforce/runs/%d", e.srv.URL, run.ID)))
	s.shot("run-details")
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, err := range q.errs {
		t.Errorf("pull job: %v", err)
	}
}
