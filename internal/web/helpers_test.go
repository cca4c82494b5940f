package web

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
)

// testDescribe is a small describe of Contact with one field of each kind
// the wizard treats differently.
func testDescribe() *salesforce.SObjectDescribe {
	f := func(name, label, typ string, mods ...func(*salesforce.Field)) salesforce.Field {
		fl := salesforce.Field{Name: name, Label: label, Type: typ, Length: 80, Nillable: true, Createable: true, Updateable: true, Filterable: true}
		for _, m := range mods {
			m(&fl)
		}
		return fl
	}
	readOnly := func(fl *salesforce.Field) { fl.Createable, fl.Updateable = false, false }
	return &salesforce.SObjectDescribe{Name: "Contact", Label: "Contact", Createable: true, Updateable: true, Queryable: true, Fields: []salesforce.Field{
		f("Id", "Contact ID", "id", readOnly, func(fl *salesforce.Field) { fl.Nillable = false }),
		f("LastName", "Last Name", "string", func(fl *salesforce.Field) { fl.Nillable = false }),
		f("FirstName", "First Name", "string"),
		f("Email", "Email", "email"),
		f("MobilePhone", "Mobile Phone", "phone"),
		f("Birthdate", "Birthdate", "date"),
		f("LeadSource", "Lead Source", "picklist", func(fl *salesforce.Field) {
			fl.PicklistValues = []salesforce.PicklistValue{{Active: true, Label: "Web", Value: "Web"}, {Active: true, Label: "Phone Inquiry", Value: "Phone Inquiry"}}
		}),
		f("HasOptedOutOfEmail", "Email Opt Out", "boolean", func(fl *salesforce.Field) { fl.Nillable = false; fl.DefaultedOnCreate = true }),
		f("Member_Number__c", "Member Number", "string", func(fl *salesforce.Field) { fl.Custom = true }),
		f("LINE_UID__c", "LINE UID", "string", func(fl *salesforce.Field) { fl.Custom = true }),
		f("Orders__c", "Orders", "double", func(fl *salesforce.Field) { fl.Custom = true }),
		f("CreatedDate", "Created Date", "datetime", readOnly, func(fl *salesforce.Field) { fl.Nillable = false; fl.DefaultedOnCreate = true }),
	}}
}

// fakeEngine is an in-memory Engine. Its data is kept per tenant, and
// every lookup is by tenant, like the real engine's.
type fakeEngine struct {
	mu           sync.Mutex
	outageSince  time.Time // what Outage answers (zero: none shown)
	env          syncconf.Env
	cdp          map[string]bool
	configs      map[string][]syncconf.Config
	runs         map[string][]syncer.Run
	records      map[int64][]syncer.RunRecord
	initial      map[string]int64
	calls        []string
	nextID       int64
	dryRun       syncconf.DryRunReport
	envErr       error
	startPercent int64
	// resyncAdvised is what ResyncAdvised answers, per tenant.
	resyncAdvised map[string]bool
	// reviews are each tenant's review items, newest first.
	reviews map[string][]store.ReviewItem
	// usage and retryCheck are what History and CheckRetry answer (health_fake_test.go).
	usage      map[string][]store.APIUsageHour
	retryCheck map[string]syncer.RetryCheck
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{
		env:     syncconf.Env{Describe: testDescribe(), CustomFields: []contact.CustomFieldDef{{Key: "vip_level", Label: "VIP level", Type: contact.FieldSelect, Options: []string{"gold", "silver"}}}},
		cdp:     map[string]bool{},
		configs: map[string][]syncconf.Config{},
		runs:    map[string][]syncer.Run{},
		records: map[int64][]syncer.RunRecord{},
		initial: map[string]int64{},
		nextID:  100,
		dryRun: syncconf.DryRunReport{Matching: 3, Scanned: 3, Pulls: true, APICalls: 2,
			Create:   syncconf.DryRunOutcome{Count: 1, Samples: []syncconf.DryRunRow{{SalesforceID: "003000000000001AAA", IdentityValue: "a@example.com", Changes: []syncconf.FieldChange{{PlatformField: "name", To: "Ada"}}}}},
			Update:   syncconf.DryRunOutcome{Count: 1},
			Rejected: syncconf.DryRunOutcome{Count: 1, Samples: []syncconf.DryRunRow{{SalesforceID: "003000000000003AAA", IdentityValue: "0912345678", Reason: "invalid_phone", Message: map[string]string{"en": "bad phone 0912345678", "zh-TW": "電話 0912345678 格式不正確"}}}}},
	}
}

func (e *fakeEngine) call(name, tenantID string) {
	e.mu.Lock()
	e.calls = append(e.calls, name+":"+tenantID)
	e.mu.Unlock()
}

func (e *fakeEngine) called(name, tenantID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.calls, name+":"+tenantID)
}

func (e *fakeEngine) EnvFor(ctx context.Context, tenantID string, object syncconf.ObjectChoice) (syncconf.Env, error) {
	env, err := e.Env(ctx, tenantID)
	if err == nil && env.Describe != nil && object.SObject() != env.Describe.Name {
		return syncconf.Env{}, fmt.Errorf("fake engine: no describe of %s", object.SObject())
	}
	return env, err
}

func (e *fakeEngine) Env(ctx context.Context, tenantID string) (syncconf.Env, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.envErr != nil {
		return syncconf.Env{}, e.envErr
	}
	env := e.env
	if e.cdp[tenantID] {
		env.Entitlements = []string{syncconf.EntitlementSocialCDP}
	}
	return env, nil
}

func (e *fakeEngine) ValidateConfig(ctx context.Context, tenantID string, cfg syncconf.Config) error {
	env, err := e.Env(ctx, tenantID)
	if err != nil {
		return err
	}
	return cfg.Validate(env)
}

func (e *fakeEngine) SaveConfig(ctx context.Context, tenantID, adminID string, cfg syncconf.Config) (store.SyncConfigVersion, error) {
	if err := e.ValidateConfig(ctx, tenantID, cfg); err != nil {
		return store.SyncConfigVersion{}, err
	}
	e.call("SaveConfig", tenantID)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.configs[tenantID] = append(e.configs[tenantID], cfg)
	return store.SyncConfigVersion{TenantID: tenantID, Version: int64(len(e.configs[tenantID])), SavedBy: adminID}, nil
}

func (e *fakeEngine) CurrentConfig(ctx context.Context, tenantID string) (syncconf.Config, int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cs := e.configs[tenantID]
	if len(cs) == 0 {
		return syncconf.Config{}, 0, store.ErrNotFound
	}
	return cs[len(cs)-1], int64(len(cs)), nil
}

func (e *fakeEngine) DryRun(ctx context.Context, tenantID string, cfg syncconf.Config) (syncconf.DryRunReport, error) {
	e.call("DryRun", tenantID)
	return e.dryRun, nil
}

func (e *fakeEngine) addRun(tenantID string, r syncer.Run) syncer.Run {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextID++
	r.ID, r.TenantID = e.nextID, tenantID
	if r.StartedAt.IsZero() {
		r.StartedAt = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	}
	e.runs[tenantID] = append([]syncer.Run{r}, e.runs[tenantID]...)
	return r
}

func (e *fakeEngine) setRun(tenantID string, r syncer.Run) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.runs[tenantID] {
		if x.ID == r.ID {
			e.runs[tenantID][i] = r
		}
	}
}

func (e *fakeEngine) StartInitialSync(ctx context.Context, tenantID string) (syncer.Run, error) {
	e.call("StartInitialSync", tenantID)
	r := e.addRun(tenantID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerInitial, Status: syncer.StatusRunning, Total: 200, Processed: e.startPercent * 2})
	e.mu.Lock()
	e.initial[tenantID] = r.ID
	e.mu.Unlock()
	return r, nil
}

func (e *fakeEngine) manual(name, tenantID string, trigger syncer.Trigger) (syncer.Run, error) {
	e.call(name, tenantID)
	if _, _, err := e.CurrentConfig(context.Background(), tenantID); err != nil {
		return syncer.Run{}, syncer.ErrNotConfigured
	}
	return e.addRun(tenantID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: trigger, Status: syncer.StatusRunning}), nil
}

func (e *fakeEngine) SyncNow(ctx context.Context, tenantID string) (syncer.Run, error) {
	return e.manual("SyncNow", tenantID, syncer.TriggerManual)
}

func (e *fakeEngine) FullResync(ctx context.Context, tenantID string) (syncer.Run, error) {
	return e.manual("FullResync", tenantID, syncer.TriggerFull)
}

func (e *fakeEngine) RetryFailed(ctx context.Context, tenantID string, runID int64, reasonCode string) (syncer.Run, error) {
	if runID != 0 {
		if _, err := e.GetRun(ctx, tenantID, runID); err != nil {
			return syncer.Run{}, err
		}
	}
	return e.manual(fmt.Sprintf("RetryFailed(%d)", runID), tenantID, syncer.TriggerRetry)
}

func (e *fakeEngine) ResyncAdvised(ctx context.Context, tenantID string) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resyncAdvised[tenantID], nil
}

func (e *fakeEngine) InitialRun(ctx context.Context, tenantID string) (syncer.Run, bool, error) {
	e.mu.Lock()
	id, ok := e.initial[tenantID]
	e.mu.Unlock()
	if !ok {
		return syncer.Run{}, false, nil
	}
	r, err := e.GetRun(ctx, tenantID, id)
	return r, err == nil, err
}

func (e *fakeEngine) ListRuns(ctx context.Context, tenantID string, f syncer.RunFilter) ([]syncer.Run, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []syncer.Run
	for _, r := range e.runs[tenantID] {
		if (f.Direction == "" || r.Direction == f.Direction) && (f.BeforeID == 0 || r.ID < f.BeforeID) {
			out = append(out, r)
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func (e *fakeEngine) GetRun(ctx context.Context, tenantID string, runID int64) (syncer.Run, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.runs[tenantID] {
		if r.ID == runID {
			return r, nil
		}
	}
	return syncer.Run{}, store.ErrNotFound
}

func (e *fakeEngine) RunRecords(ctx context.Context, tenantID string, runID int64, kind syncer.RecordKind, reasonCode string, limit int) ([]syncer.RunRecord, error) {
	if _, err := e.GetRun(ctx, tenantID, runID); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []syncer.RunRecord
	for _, rec := range e.records[runID] {
		if (kind == "" || rec.Kind == kind) && (reasonCode == "" || rec.ReasonCode == reasonCode) && len(out) < limit {
			out = append(out, rec)
		}
	}
	return out, nil
}

func (e *fakeEngine) ReasonGroups(ctx context.Context, tenantID string, runID int64) ([]syncer.ReasonGroup, error) {
	recs, err := e.RunRecords(ctx, tenantID, runID, "", "", 1<<30)
	if err != nil {
		return nil, err
	}
	var out []syncer.ReasonGroup
	for _, rec := range recs {
		i := slices.IndexFunc(out, func(g syncer.ReasonGroup) bool { return g.Kind == rec.Kind && g.ReasonCode == rec.ReasonCode })
		if i < 0 {
			out = append(out, syncer.ReasonGroup{Kind: rec.Kind, ReasonCode: rec.ReasonCode, Example: rec.Reason})
			i = len(out) - 1
		}
		out[i].Count++
	}
	return out, nil
}

func (e *fakeEngine) WriteRunCSV(ctx context.Context, tenantID string, runID int64, kind syncer.RecordKind, reasonCode string, w io.Writer) error {
	recs, err := e.RunRecords(ctx, tenantID, runID, kind, reasonCode, 1<<30)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"kind", "salesforce_id", "reason_code", "reason"}); err != nil {
		return err
	}
	for _, r := range recs {
		if err := cw.Write([]string{string(r.Kind), r.SalesforceID, r.ReasonCode, r.Reason}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (e *fakeEngine) Usage(ctx context.Context, tenantID string) (int, int, float64, error) {
	return 1234, 15000, 0.5, nil
}

func (e *fakeEngine) Disconnect(ctx context.Context, tenantID string) error {
	e.call("Disconnect", tenantID)
	return nil
}

// addReview adds an open review item for a tenant.
func (e *fakeEngine) addReview(tenantID string, it store.ReviewItem) store.ReviewItem {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reviews == nil {
		e.reviews = map[string][]store.ReviewItem{}
	}
	e.nextID++
	it.ID, it.TenantID, it.Status = e.nextID, tenantID, store.ReviewOpen
	if it.Created.IsZero() {
		it.Created = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	}
	it.Updated = it.Created
	e.reviews[tenantID] = append([]store.ReviewItem{it}, e.reviews[tenantID]...)
	return it
}

func (e *fakeEngine) ListReview(ctx context.Context, tenantID string, f store.ReviewFilter) ([]store.ReviewItem, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []store.ReviewItem
	for _, it := range e.reviews[tenantID] {
		if (f.Status == "" || it.Status == f.Status) && (f.BeforeID == 0 || it.ID < f.BeforeID) {
			out = append(out, it)
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func (e *fakeEngine) GetReview(ctx context.Context, tenantID string, id int64) (store.ReviewItem, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, it := range e.reviews[tenantID] {
		if it.ID == id {
			return it, nil
		}
	}
	return store.ReviewItem{}, store.ErrNotFound
}

func (e *fakeEngine) CountOpenReview(ctx context.Context, tenantID string) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, it := range e.reviews[tenantID] {
		if it.Status == store.ReviewOpen {
			n++
		}
	}
	return n, nil
}

// ResolveReview follows the store's rules: a resolved item is a
// conflict, a link names one of the candidates.
func (e *fakeEngine) ResolveReview(ctx context.Context, tenantID string, id int64, res store.ReviewResolution, sfID, adminID string) (store.ReviewItem, error) {
	e.call(fmt.Sprintf("ResolveReview(%d,%s,%s)", id, res, sfID), tenantID)
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, it := range e.reviews[tenantID] {
		if it.ID != id {
			continue
		}
		if it.Status != store.ReviewOpen {
			return store.ReviewItem{}, store.ErrConflict
		}
		if _, ok := it.Candidate(sfID); res == store.ResolutionLinked && !ok {
			return store.ReviewItem{}, store.ErrNotCandidate
		}
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		it.Status, it.Resolution, it.LinkedSalesforceID, it.ResolvedBy, it.Resolved, it.Updated = store.ReviewResolved, res, sfID, adminID, &now, now
		e.reviews[tenantID][i] = it
		return it, nil
	}
	return store.ReviewItem{}, store.ErrNotFound
}

// testEnv is a running admin UI with two tenants, A and B, each with one
// admin.
type testEnv struct {
	t       *testing.T
	srv     *httptest.Server
	store   *store.Store
	eng     *fakeEngine
	conn    *sfconn.Service
	clock   *testClock
	tenantA tenant.Tenant
	tenantB tenant.Tenant
}

const testPassword = "correct horse battery"

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type setupOpts struct {
	secure   bool
	trustXFF bool
	// conn adjusts the Salesforce connection service (its RedirectURL is
	// already the test server's callback).
	conn       func(*sfconn.Service)
	tenantLang string
	loginLimit int
	// platform is Options.PlatformName ("" = 平台 / Platform).
	platform string
	// contactURL is Options.ContactURL.
	contactURL string
	// engine replaces the fake engine (which it may wrap) behind the server.
	engine func(*store.Store, *sfconn.Service, *fakeEngine) Engine
	// alerts, when set, is given the store and keyring and becomes
	// Options.Alerts.
	alerts func(*store.Store, *secret.Keyring) *alert.Service
}

func setup(t *testing.T, o setupOpts) *testEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	if o.tenantLang == "" {
		o.tenantLang = "zh-TW"
	}
	a, err := st.CreateTenant(ctx, tenant.Tenant{Name: "Shop A", Language: o.tenantLang, Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateTenant(ctx, tenant.Tenant{Name: "Shop B", Language: o.tenantLang, Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct{ id, email string }{{a.ID, "a@shop.test"}, {b.ID, "b@shop.test"}} {
		if _, err := st.CreateAdmin(ctx, x.id, x.email, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	key := make([]byte, 32)
	rand.Read(key)
	kr, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	conn := &sfconn.Service{Store: st, Keyring: kr, ClientID: "test-client", ClientSecret: "s", RedirectURL: srv.URL + CallbackPath,
		DefaultLoginURL: "http://127.0.0.1:1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if o.conn != nil {
		o.conn(conn)
	}
	clock := &testClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	eng := newFakeEngine()
	var engine Engine = eng
	if o.engine != nil {
		engine = o.engine(st, conn, eng)
	}
	var alerts *alert.Service
	if o.alerts != nil {
		alerts = o.alerts(st, kr)
	}
	handler = New(Options{Store: st, Conn: conn, Engine: engine, SecureCookies: o.secure, TrustForwardedFor: o.trustXFF, Now: clock.Now, LoginLimit: o.loginLimit,
		ProgressInterval: 10 * time.Millisecond, BaseURL: srv.URL, PlatformName: o.platform, ContactURL: o.contactURL, Alerts: alerts})
	return &testEnv{t: t, srv: srv, store: st, eng: eng, conn: conn, clock: clock, tenantA: a, tenantB: b}
}

// connect stores a live connection for a tenant, as a finished OAuth flow would.
func (e *testEnv) connect(tenantID, status string) {
	e.t.Helper()
	err := e.store.SaveConnection(context.Background(), store.SalesforceConnection{TenantID: tenantID, Status: status, LoginURL: "https://login.salesforce.com",
		InstanceURL: "https://acme.my.salesforce.com", OrgID: "00D000000000001AAA", UserID: "005000000000001AAA", Username: "admin@acme.test",
		OrgName: "Acme Org", Edition: "Enterprise Edition", RefreshTokenEnc: "x", APIBudget: 0.5, BrokenReason: map[bool]string{true: "refresh token revoked"}[status == store.ConnBroken],
		ConnectedAt: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), UpdatedAt: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
}

// client is a browser: a cookie jar that does not follow redirects.
type client struct {
	e    *testEnv
	hc   *http.Client
	csrf string
	xff  string
}

func (e *testEnv) client() *client {
	jar, _ := cookiejar.New(nil)
	c := &client{e: e, hc: &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{}, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	e.t.Cleanup(c.hc.CloseIdleConnections)
	return c
}

type page struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(req *http.Request) page {
	c.e.t.Helper()
	if c.xff != "" {
		req.Header.Set("X-Forwarded-For", c.xff)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func (c *client) get(path string) page {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form, adding the session's CSRF token unless the form
// already has a "csrf" entry.
func (c *client) post(path string, form url.Values) page {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(body string) string {
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (c *client) tryLogin(email, password string) page {
	c.e.t.Helper()
	lp := c.get("/login")
	return c.post("/login", url.Values{"email": {email}, "password": {password}, "csrf": {csrfOf(lp.body)}})
}

// login signs in and remembers the session's CSRF token.
func (c *client) login(email string) *client {
	c.e.t.Helper()
	p := c.tryLogin(email, testPassword)
	if p.status != http.StatusSeeOther {
		c.e.t.Fatalf("login %s: got status %d, want 303; body: %.300s", email, p.status, p.body)
	}
	ip := c.get("/admin/integrations")
	c.csrf = csrfOf(ip.body)
	if c.csrf == "" {
		c.e.t.Fatalf("no CSRF token on the integrations page: %.300s", ip.body)
	}
	return c
}

func mustContain(t *testing.T, p page, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (status %d) does not contain %q; got body:\n%.2000s", p.status, w, p.body)
		}
	}
}

func mustNotContain(t *testing.T, p page, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(p.body, b) {
			t.Errorf("page (status %d) contains %q, want it absent", p.status, b)
		}
	}
}

// validConfig is a configuration the test describe accepts: e-mail
// identity, both directions.
func validConfig() syncconf.Config {
	return syncconf.Config{Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
		ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields:     []syncconf.FieldMapping{{SalesforceField: "FirstName", PlatformField: "name", Direction: syncconf.DirBoth}},
		Conditions: []syncconf.Condition{{SalesforceField: "LeadSource", Operator: syncconf.OpEquals, Value: "Web"}}}
}

func regexpMust(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func (e *fakeEngine) DriftCheck(ctx context.Context, tenantID string) (syncer.Run, error) {
	return e.manual("DriftCheck", tenantID, syncer.TriggerDrift)
}

func (e *fakeEngine) DriftReport(ctx context.Context, tenantID string, runID int64) (store.DriftReport, error) {
	run, err := e.GetRun(ctx, tenantID, runID)
	if err != nil || run.Trigger != syncer.TriggerDrift {
		return store.DriftReport{}, store.ErrNotFound
	}
	return store.DriftReport{RunID: runID, Method: "bulk", RangesChecked: 500, RangesDrifted: 3, RangesRepaired: 2,
		RecordsChecked: 1000000, RecordsDrifted: 7, RecordsRepaired: 6}, nil
}

func (e *fakeEngine) Outage(ctx context.Context, tenantID string) (time.Time, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outageSince, !e.outageSince.IsZero(), nil
}
