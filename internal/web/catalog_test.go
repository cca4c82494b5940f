package web

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
)

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{{langZH, langEN}, {langEN, langZH}} {
		for k := range catalogs[pair[0]] {
			if _, ok := catalogs[pair[1]][k]; !ok {
				t.Errorf("key %q is in %s but not in %s", k, pair[0], pair[1])
			}
		}
	}
	for lang, cat := range catalogs {
		for k, v := range cat {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s %q: empty text", lang, k)
			}
		}
	}
}

var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

func verbs(s string) []string {
	var out []string
	for _, m := range verbRE.FindAllString(s, -1) {
		if m != "%%" {
			out = append(out, m)
		}
	}
	return out
}

func TestCatalogueFormatVerbsMatch(t *testing.T) {
	t.Parallel()
	for k, zh := range catalogs[langZH] {
		got, want := verbs(zh), verbs(catalogs[langEN][k])
		if !slices.Equal(got, want) {
			t.Errorf("key %q: zh-TW verbs %v, en verbs %v; want the same arguments", k, got, want)
		}
	}
}

func TestMissingKeyIsAnError(t *testing.T) {
	t.Parallel()
	v := &view{Lang: langEN, Platform: "Platform"}
	if _, err := v.T("no.such.key"); err == nil {
		t.Error("T of an unknown key: got no error, want one")
	}
	if got, err := v.T("dir.to_platform"); err != nil || got != "Salesforce → Platform" {
		t.Errorf("T(dir.to_platform): got %q, %v; want %q", got, err, "Salesforce → Platform")
	}
	// A template that uses an unknown key does not render.
	p := mustParsePages()
	tpl, err := p.byName["error"].Clone()
	if err != nil {
		t.Fatal(err)
	}
	template := `{{define "content"}}{{.T "surely.missing"}}{{end}}`
	if _, err := tpl.Parse(template); err != nil {
		t.Fatal(err)
	}
	if err := tpl.ExecuteTemplate(&strings.Builder{}, "layout", v); err == nil || !strings.Contains(err.Error(), "surely.missing") {
		t.Errorf("rendering with a missing key: got %v, want an error naming the key", err)
	}
}

// dynamicKeys are the keys templates build with print: every value the
// engine, sfconn and syncconf can produce must have one.
func dynamicKeys() []string {
	var keys []string
	add := func(prefix string, vals ...string) {
		for _, v := range vals {
			keys = append(keys, prefix+v)
		}
	}
	strs := func(vals ...any) []string {
		var out []string
		for _, v := range vals {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	add("status.", strs(syncer.StatusRunning, syncer.StatusSucceeded, syncer.StatusPartiallyFailed, syncer.StatusFailed, syncer.StatusPaused)...)
	add("trigger.", strs(syncer.TriggerInitial, syncer.TriggerScheduled, syncer.TriggerManual, syncer.TriggerRealtime, syncer.TriggerRetry, syncer.TriggerFull, syncer.TriggerCatchUp)...)
	add("arrival.", store.StreamRealtime, store.StreamPolling)
	add("arrival.reason.", syncer.ReasonNoCDC, syncer.ReasonStreamBroken, syncer.ReasonConnection)
	add("dir.", strs(syncer.DirToPlatform, syncer.DirToSalesforce, "both")...)
	add("kind.", strs(syncer.KindFailed, syncer.KindAmbiguous, syncer.KindConflict, syncer.KindOutOfScope, syncer.KindSkipped, syncer.KindUnlinked, syncer.KindMerged)...)
	add("card.state.", cardPlanMissing, cardAvailable, cardConnected, cardBroken, cardSyncing)
	add("conflict.", string(syncconf.NewestWins), string(syncconf.PreferSalesforceUnlessBlank), string(syncconf.AlwaysSalesforce), string(syncconf.AlwaysPlatform))
	for _, st := range steps {
		add("step.", st.ID)
		add("step.heading.", st.ID)
	}
	add("pf.", "member_id", "name", "phone", "email", "birthday", "gender", "tags", "custom")
	for _, pf := range (syncconf.Env{}).PlatformFields() {
		add("pf.", pf.Name)
	}
	types := []string{"string", "textarea", "url", "combobox", "email", "phone", "picklist", "multipicklist", "boolean", "date", "datetime", "id", "reference", "double", "currency", "percent", "int", "long"}
	for _, ty := range types {
		for _, op := range syncconf.OperatorsFor(ty) {
			add("op.", string(op))
		}
	}
	add("refusal.", sfconn.CodePlanMissing, sfconn.CodeAPIDisabled, sfconn.CodeNotAdmin, sfconn.CodeDenied, sfconn.CodeBadState,
		sfconn.CodeBadLoginURL, sfconn.CodeNotConfigured, sfconn.CodeNotConnected, sfconn.CodeBroken, "other")
	for f := range flashes {
		add("flash.", f)
	}
	add("review.kind_", string(store.ReviewIdentity), string(store.ReviewMerge), string(store.ReviewDuplicate))
	add("review.resolution_", string(store.ResolutionLinked), string(store.ResolutionApart), string(store.ResolutionIgnored), string(store.ResolutionReleased))
	return keys
}

var literalKeyRE = regexp.MustCompile(`(?:\.T|\.P) "([^"]+)"`)
var goKeyRE = regexp.MustCompile(`"((?:login|error|setup|start|info|card|connect|refusal|flash|dryrun|run|review)\.[a-z_]+)"`)

func TestEveryKeyInUseExists(t *testing.T) {
	t.Parallel()
	used := map[string]string{}
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := fs.ReadFile(templateFS, e)
		for _, m := range literalKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = e
		}
	}
	goFiles, _ := fs.Glob(os.DirFS("."), "*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") || f == "catalog.go" {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range goKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = f
		}
	}
	for _, k := range dynamicKeys() {
		used[k] = "dynamic"
	}
	if len(used) < 200 {
		t.Fatalf("found %d keys in use; the scan is broken", len(used))
	}
	var missing []string
	for k, where := range used {
		for lang, cat := range catalogs {
			if _, ok := cat[k]; !ok {
				missing = append(missing, fmt.Sprintf("%s %q (used in %s)", lang, k, where))
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("missing catalogue key: %s", m)
	}
}

// TestEveryPageRendersInBothLanguages renders every page in every state
// it has, in both languages. A missing key fails the rendering (500).
func TestEveryPageRendersInBothLanguages(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{loginLimit: 1000})
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	e.connect(e.tenantB.ID, store.ConnConnected)
	cfg := validConfig()
	cfg.Social = []syncconf.SocialMapping{{SalesforceField: "LINE_UID__c", ChannelType: "line", ChannelID: "@shop", Direction: syncconf.DirBoth}}
	cfg.Fields = append(cfg.Fields, syncconf.FieldMapping{SalesforceField: "Orders__c", PlatformField: "name", Direction: syncconf.DirToSalesforce})
	cfg.Conditions = []syncconf.Condition{
		{SalesforceField: "LeadSource", Operator: syncconf.OpIn, Values: []string{"Web", "Nope"}},
		{SalesforceField: "HasOptedOutOfEmail", Operator: syncconf.OpEquals, Value: "false"},
		{SalesforceField: "Birthdate", Operator: syncconf.OpIsNotEmpty},
		{SalesforceField: "Orders__c", Operator: syncconf.OpGT, Value: "x"},
		{SalesforceField: "CreatedDate", Operator: syncconf.OpGT, Value: "2024-01-01T00:00:00Z"},
	}
	e.eng.mu.Lock()
	e.eng.configs[e.tenantA.ID] = []syncconf.Config{cfg} // stored as is: also an invalid one must render
	e.eng.mu.Unlock()
	var runIDs []int64
	for _, st := range []syncer.RunStatus{syncer.StatusRunning, syncer.StatusSucceeded, syncer.StatusPartiallyFailed, syncer.StatusFailed, syncer.StatusPaused} {
		for _, tr := range []syncer.Trigger{syncer.TriggerInitial, syncer.TriggerScheduled, syncer.TriggerManual, syncer.TriggerRealtime, syncer.TriggerRetry, syncer.TriggerFull} {
			for _, dir := range []syncer.Direction{syncer.DirToPlatform, syncer.DirToSalesforce} {
				r := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: dir, Trigger: tr, Status: st, Total: 10, Processed: 5, Message: "m",
					Counts: syncer.Counts{Failed: 1, Ambiguous: 1, Conflicts: 1, OutOfScope: 1, Unlinked: 1}})
				runIDs = append(runIDs, r.ID)
			}
		}
	}
	for _, k := range []syncer.RecordKind{syncer.KindFailed, syncer.KindAmbiguous, syncer.KindConflict, syncer.KindOutOfScope, syncer.KindSkipped, syncer.KindUnlinked, syncer.KindMerged} {
		e.eng.records[runIDs[0]] = append(e.eng.records[runIDs[0]], syncer.RunRecord{Kind: k, ReasonCode: "r_" + string(k), Reason: "reason " + string(k), SalesforceID: "003X"})
	}
	push := syncconf.Config{Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: "email", ToPlatformNoMatch: syncconf.NoMatchUpdateOnly, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirToSalesforce}}}
	if _, err := e.eng.SaveConfig(ctx, e.tenantB.ID, "u", push); err != nil {
		t.Fatal(err)
	}
	// The review queue: an open item of each kind and a resolved one of each resolution.
	for _, kind := range []store.ReviewKind{store.ReviewIdentity, store.ReviewMerge, store.ReviewDuplicate} {
		e.eng.addReview(e.tenantA.ID, store.ReviewItem{Kind: kind, IdentityField: "Email", IdentityKey: "ada@example.com", ContactID: "c_1", RunID: runIDs[0],
			ContactValues: map[string]any{"Email": "ada@example.com", "LastName": "Lovelace"},
			Candidates: []store.ReviewCandidate{{SalesforceID: "003A", Values: map[string]any{"Email": "ada@example.com", "LastName": "Lovelace"}},
				{SalesforceID: "003B", ContactID: "c_2", Values: map[string]any{"Email": "ada@example.com", "LastName": "Byron"}}}})
	}
	for _, res := range []store.ReviewResolution{store.ResolutionLinked, store.ResolutionApart, store.ResolutionIgnored, store.ResolutionReleased} {
		it := e.eng.addReview(e.tenantA.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "x@example.com",
			Candidates: []store.ReviewCandidate{{SalesforceID: "003C"}, {SalesforceID: "003D"}}})
		sfID := ""
		if res == store.ResolutionLinked {
			sfID = "003C"
		}
		if _, err := e.eng.ResolveReview(ctx, e.tenantA.ID, it.ID, res, sfID, "u"); err != nil {
			t.Fatal(err)
		}
	}

	pagesA := []string{
		"/admin/integrations", "/admin/salesforce/connect", "/admin/salesforce/connected",
		"/admin/salesforce/setup/identity", "/admin/salesforce/setup/social", "/admin/salesforce/setup/fields", "/admin/salesforce/setup/conditions",
		"/admin/salesforce/start", "/admin/salesforce/info", "/admin/salesforce/info?direction=to_platform", "/admin/salesforce/info?direction=to_salesforce",
		fmt.Sprintf("/admin/salesforce/runs/%d", runIDs[0]), fmt.Sprintf("/admin/salesforce/runs/%d?kind=failed&reason=r_failed", runIDs[0]),
		"/admin/salesforce/disconnect", "/admin/integrations?done=disconnected",
		"/admin/salesforce/review", "/admin/salesforce/review?status=resolved",
	}
	for f := range flashes {
		pagesA = append(pagesA, "/admin/salesforce/info?done="+f)
	}
	for _, id := range runIDs[1:] {
		pagesA = append(pagesA, fmt.Sprintf("/admin/salesforce/runs/%d", id))
	}
	for _, lang := range []string{langZH, langEN} {
		t.Run(lang, func(t *testing.T) {
			for _, email := range []string{"a@shop.test", "b@shop.test"} {
				if err := e.store.SetAdminLanguage(ctx, mustAdminID(t, e, email), lang); err != nil {
					t.Fatal(err)
				}
			}
			a := e.client().login("a@shop.test")
			b := e.client().login("b@shop.test")
			check := func(who string, c *client, path string, want int) {
				t.Helper()
				p := c.get(path)
				if p.status != want {
					t.Errorf("%s GET %s in %s: got %d, want %d: %.300s", who, path, lang, p.status, want, p.body)
					return
				}
				checkText(t, lang, path, p)
			}
			for _, path := range pagesA {
				check("A", a, path, http.StatusOK)
			}
			for _, path := range []string{"/admin/salesforce/start", "/admin/salesforce/info", "/admin/salesforce/setup/identity", "/admin/salesforce/review", "/admin/salesforce/review?status=resolved"} {
				check("B", b, path, http.StatusOK)
			}
			check("A", a, "/admin/nowhere", http.StatusNotFound)
			check("A", a, "/admin/salesforce/setup/nope", http.StatusNotFound)
			// Wizard re-renders: an invalid save shows every step's errors.
			draft, _ := cfg.CanonicalJSON()
			for _, st := range steps {
				p := a.post("/admin/salesforce/setup/"+st.ID, map[string][]string{"draft": {string(draft)}, "action": {"save"},
					"condition_count": {"5"}, "field_count": {"2"}, "social_count": {"2"}})
				if p.status != http.StatusUnprocessableEntity && p.status != http.StatusOK {
					t.Errorf("save from %s in %s: got %d, want 422 or 200", st.ID, lang, p.status)
				}
				checkText(t, lang, "save from "+st.ID, p)
			}
			p := a.post("/admin/salesforce/setup/conditions", map[string][]string{"draft": {string(draft)}, "action": {"dryrun"}})
			checkText(t, lang, "dry run", p)
			p = a.post("/admin/salesforce/setup/social", map[string][]string{"draft": {string(draft)}, "action": {"add"}, "social_count": {"1"}})
			checkText(t, lang, "social add", p)
			anon := e.client()
			anon.get("/login?lang=" + lang)
			checkText(t, lang, "/login", anon.get("/login"))
			checkText(t, lang, "/login (bad password)", anon.tryLogin("a@shop.test", "wrong password"))
			// A freshly connected tenant without a config, a broken one, one without the add-on.
			for _, state := range []string{"none", store.ConnBroken, "plan"} {
				ctx := context.Background()
				tn, _ := e.store.CreateTenant(ctx, tenant.Tenant{Name: "T " + state, Language: lang, Plan: tenant.Plan{SalesforceAddon: state != "plan"}})
				email := fmt.Sprintf("%s-%s@shop.test", strings.ToLower(lang), state)
				if _, err := e.store.CreateAdmin(ctx, tn.ID, email, testPassword); err != nil {
					t.Fatal(err)
				}
				if state == store.ConnBroken {
					e.connect(tn.ID, store.ConnBroken)
				}
				c := e.client().login(email)
				for _, path := range []string{"/admin/integrations", "/admin/salesforce/info", "/admin/salesforce/connect"} {
					p := c.get(path)
					if p.status >= 500 {
						t.Errorf("%s GET %s in %s: got %d", state, path, lang, p.status)
					}
					checkText(t, lang, state+" "+path, p)
				}
			}
		})
	}
}

// TestRefusalPagesRender renders the connect failure page for every code.
func TestRefusalPagesRender(t *testing.T) {
	t.Parallel()
	s := New(Options{BaseURL: "https://sync.example/"}).(*server)
	for _, lang := range []string{langZH, langEN} {
		for _, code := range []string{sfconn.CodePlanMissing, sfconn.CodeAPIDisabled, sfconn.CodeNotAdmin, sfconn.CodeDenied, sfconn.CodeBadState,
			sfconn.CodeBadLoginURL, sfconn.CodeNotConfigured, sfconn.CodeNotConnected, sfconn.CodeBroken, "something_new"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/oauth/salesforce/callback", nil)
			rc := &reqCtx{Lang: lang, Tenant: tenant.Tenant{Name: "T"}, Admin: tenant.Admin{Email: "a@x"}}
			s.renderPage(rec, req, rc, http.StatusOK, "refusal", s.refusalView(&sfconn.Refusal{Code: code, MessageEN: "EN " + code, MessageZH: "ZH " + code}, lang))
			p := page{status: rec.Code, body: rec.Body.String(), header: rec.Header()}
			if p.status != http.StatusOK {
				t.Errorf("refusal %s in %s: got %d, want 200: %s", code, lang, p.status, p.body)
				continue
			}
			checkText(t, lang, "refusal "+code, p)
			wantMsg := map[string]string{langZH: "ZH ", langEN: "EN "}[lang] + code
			mustContain(t, p, wantMsg, `data-code="`+code+`"`)
			if got := strings.Contains(p.body, `<code id="callback-url">https://sync.example/oauth/salesforce/callback</code>`); got != (code == sfconn.CodeNotConfigured) {
				t.Errorf("refusal %s: callback URL shown %v, want %v", code, got, code == sfconn.CodeNotConfigured)
			}
		}
	}
}

func checkText(t *testing.T, lang, what string, p page) {
	t.Helper()
	if !strings.Contains(p.body, `<html lang="`+lang+`">`) {
		t.Errorf("%s: no <html lang=%q>", what, lang)
	}
	for _, bad := range []string{"%!", "{platform}", "<no value>", "MISSING"} {
		if strings.Contains(p.body, bad) {
			i := strings.Index(p.body, bad)
			t.Errorf("%s in %s: page contains %q near %q", what, lang, bad, p.body[max(0, i-80):min(len(p.body), i+80)])
		}
	}
	// English pages carry no Chinese, except the language switch's own
	// name and data from the org.
	if lang == langEN {
		body := strings.ReplaceAll(p.body, "繁體中文", "")
		if m := regexp.MustCompile(`[\p{Han}]+`).FindString(body); m != "" {
			t.Errorf("%s in en: Chinese text %q on an English page", what, m)
		}
	}
}

func TestWithPlatform(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ msg, name, want string }{
		{"Salesforce 同步到 {platform} 時，若在 {platform} 查無", "平台", "Salesforce 同步到平台時，若在平台查無"},
		{"Salesforce 同步到 {platform} 時，若在 {platform} 查無", "Omnichat", "Salesforce 同步到 Omnichat 時，若在 Omnichat 查無"},
		{"{platform} 欄位", "平台", "平台欄位"},
		{"Salesforce → {platform}", "平台", "Salesforce → 平台"},
		{"{platform} → Salesforce", "平台", "平台 → Salesforce"},
		{"Sync Salesforce → {platform} now", "Platform", "Sync Salesforce → Platform now"},
		{"no placeholder", "平台", "no placeholder"},
	} {
		if got := withPlatform(tc.msg, tc.name); got != tc.want {
			t.Errorf("withPlatform(%q, %q): got %q, want %q", tc.msg, tc.name, got, tc.want)
		}
	}
}
