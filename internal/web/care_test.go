package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

func TestPace(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		run      syncer.Run
		after    time.Duration
		zh, en   string
		wantRate float64
	}{
		{"too early to tell", syncer.Run{Status: syncer.StatusRunning, StartedAt: start, Processed: 100, Total: 1000}, 2 * time.Second, "", "", 0},
		{"finished", syncer.Run{Status: syncer.StatusSucceeded, StartedAt: start, Processed: 1000, Total: 1000}, time.Minute, "", "", 0},
		{"minutes left", syncer.Run{Status: syncer.StatusRunning, StartedAt: start, Processed: 12000, Total: 100000}, time.Minute,
			"每秒 200 筆 · 預估剩約 8 分鐘", "200 records/s · about 8 min left", 200},
		{"hours left", syncer.Run{Status: syncer.StatusRunning, StartedAt: start, Processed: 6000, Total: 1000000}, time.Minute,
			"每秒 100 筆 · 預估剩約 2 小時 45 分鐘", "100 records/s · about 2 h 45 min left", 100},
		{"seconds left", syncer.Run{Status: syncer.StatusRunning, StartedAt: start, Processed: 99000, Total: 100000}, 10 * time.Second,
			"每秒 9,900 筆 · 預估剩不到 1 分鐘", "9,900 records/s · less than a minute left", 9900},
		{"total unknown", syncer.Run{Status: syncer.StatusRunning, StartedAt: start, Processed: 3000}, 10 * time.Second,
			"每秒 300 筆", "300 records/s", 300},
	} {
		now := start.Add(tc.after)
		rate, _, _ := pace(tc.run, now)
		if rate != tc.wantRate {
			t.Errorf("%s: got rate %v, want %v", tc.name, rate, tc.wantRate)
		}
		if got := paceText(langZH, tc.run, now); got != tc.zh {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.zh)
		}
		if got := paceText(langEN, tc.run, now); got != tc.en {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.en)
		}
	}
}

// TestProgressShowsPace: the running first sync's page and JSON give its
// records per second and the time left.
func TestProgressShowsPace(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	e.eng.configs[e.tenantA.ID] = append(e.eng.configs[e.tenantA.ID], validConfig())
	r := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerInitial, Status: syncer.StatusRunning,
		StartedAt: e.clock.Now().Add(-time.Minute), Processed: 12000, Total: 100000})
	e.eng.initial[e.tenantA.ID] = r.ID
	a := e.client().login("a@shop.test")
	mustContain(t, a.get("/admin/salesforce/start"), `<p class="rate" id="sync-pace">200 records/s · about 8 min left</p>`)
	mustContain(t, a.get("/admin/salesforce/progress"), `"rate":200`, `"eta_seconds":440`, `"pace":"200 records/s · about 8 min left"`)
}

// TestWizardDetails: the stepper is numbered as the seed's steps (1 is the
// authorization, done), field mappings are a table with a header per
// input, and condition rows are joined by AND / 且.
func TestWizardDetails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, and, connect string }{{"en", "AND", "Connect and authorize"}, {"zh-TW", "且", "開始串接與授權"}} {
		e := setup(t, setupOpts{tenantLang: tc.lang})
		e.connect(e.tenantA.ID, store.ConnConnected)
		cfg := validConfig()
		e.eng.configs[e.tenantA.ID] = append(e.eng.configs[e.tenantA.ID], cfg)
		a := e.client().login("a@shop.test")
		p := a.get("/admin/salesforce/setup/fields")
		mustContain(t, p, `<span class="num">1</span> `+tc.connect, `id="goto-identity"`, `<span class="num">2</span>`, `<span class="num">6</span>`,
			`<table class="stacked mappings" id="field-table">`, `<tr id="f-field_mappings-0">`, `id="f-field_mappings-0-salesforce_field"`)
		if strings.Index(p.body, `<span class="num">1</span>`) > strings.Index(p.body, `<span class="num">2</span>`) {
			t.Errorf("%s: step 1 comes after step 2", tc.lang)
		}
		p = a.post("/admin/salesforce/setup/conditions", url.Values{"draft": {mustJSON(t, cfg)}, "condition_count": {"2"},
			"conditions[0].salesforce_field": {"LastName"}, "conditions[0].operator": {"eq"}, "conditions[0].value": {"A"},
			"conditions[1].salesforce_field": {"LastName"}, "conditions[1].operator": {"eq"}, "conditions[1].value": {"B"}, "action": {"refresh"}})
		mustContain(t, p, `<p class="and" id="and-1"><span>`+tc.and+`</span></p>`)
		mustNotContain(t, p, `id="and-0"`)
		// Slow actions carry a busy label.
		mustContain(t, p, `id="dryrun" data-busy=`, `id="save" data-busy=`)
	}
}

func mustJSON(t *testing.T, cfg interface{ CanonicalJSON() ([]byte, error) }) string {
	t.Helper()
	b, err := cfg.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunPageShowsSpeed: a finished run's page gives its records per
// second over its duration.
func TestRunPageShowsSpeed(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "zh-TW"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	start := e.clock.Now().Add(-time.Hour)
	end := start.Add(100 * time.Second)
	r := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerFull, Status: syncer.StatusSucceeded,
		StartedAt: start, FinishedAt: &end, Processed: 250000, Total: 250000})
	a := e.client().login("a@shop.test")
	mustContain(t, a.get(fmt.Sprintf("/admin/salesforce/runs/%d", r.ID)), `<dd id="run-rate">每秒 2,500 筆</dd>`)
}

// TestPlatformNameEverywhere: with the deployment's product name set, no
// page says 平台 / Platform where the name belongs.
func TestPlatformNameEverywhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, generic string }{{"zh-TW", "平台"}, {"en", "Platform"}} {
		e := setup(t, setupOpts{tenantLang: tc.lang, platform: "Omnichat"})
		e.connect(e.tenantA.ID, store.ConnConnected)
		e.eng.configs[e.tenantA.ID] = append(e.eng.configs[e.tenantA.ID], validConfig())
		e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToSalesforce, Trigger: syncer.TriggerRealtime, Status: syncer.StatusSucceeded})
		a := e.client().login("a@shop.test")
		for _, path := range []string{"/admin/integrations?done=disconnected", "/admin/salesforce/info", "/admin/salesforce/setup/identity",
			"/admin/salesforce/setup/fields", "/admin/salesforce/setup/conditions", "/admin/salesforce/start", "/admin/salesforce/runs/101", "/admin/salesforce/disconnect"} {
			p := a.get(path)
			body := htmlUnescape(regexpMust(`<[^>]*>`).ReplaceAllString(p.body, " "))
			if !strings.Contains(body, "Omnichat") {
				t.Errorf("%s %s: got no Omnichat", tc.lang, path)
			}
			if i := strings.Index(body, tc.generic); i >= 0 {
				t.Errorf("%s %s: got %q in %q, want Omnichat", tc.lang, path, tc.generic, body[max(0, i-40):min(len(body), i+40)])
			}
		}
	}
}

// TestRealtimeRunStatus: an open real-time window is not shown as a sync
// in progress; a closed one shows its end.
func TestRealtimeRunStatus(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	e.eng.configs[e.tenantA.ID] = append(e.eng.configs[e.tenantA.ID], validConfig())
	start := e.clock.Now().Add(-30 * time.Minute)
	end := start.Add(15 * time.Minute)
	open := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToSalesforce, Trigger: syncer.TriggerRealtime, Status: syncer.StatusRunning, StartedAt: end})
	closed := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToSalesforce, Trigger: syncer.TriggerRealtime, Status: syncer.StatusSucceeded, StartedAt: start, FinishedAt: &end})
	a := e.client().login("a@shop.test")
	info := a.get("/admin/salesforce/info")
	mustContain(t, info, "Real time (window still open)")
	if n := strings.Count(info.body, ">Running<"); n != 0 {
		t.Errorf("got %d runs shown Running, want none", n)
	}
	mustContain(t, a.get(fmt.Sprintf("/admin/salesforce/runs/%d", open.ID)), "Real time (window still open)")
	p := a.get(fmt.Sprintf("/admin/salesforce/runs/%d", closed.ID))
	mustContain(t, p, "Succeeded")
	if !strings.Contains(htmlUnescape(p.body), "2026-11-25 11:45:00 UTC") {
		t.Errorf("closed real-time run: got no end time 2026-11-25 11:45:00 UTC")
	}
}
