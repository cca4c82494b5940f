package salesforce

// Integration tests: the real client over real HTTP against the emulator
// (internal/sfemu), which was written independently from the same research.

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfemu"
)

const emuCallback = "https://app.example.com/callback"

type emuEnv struct {
	emu   *sfemu.Server
	srv   *httptest.Server
	org   *sfemu.Org
	app   sfemu.ConnectedApp
	admin string // admin username
	pass  string
}

func setupEmu(t testing.TB, edition sfemu.Edition, opts sfemu.Options) *emuEnv {
	t.Helper()
	emu := sfemu.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	emu.SetBaseURL(srv.URL)
	env := &emuEnv{emu: emu, srv: srv, admin: "ada@acme.example.com", pass: "s3cret-pass"}
	org, err := emu.CreateOrg(sfemu.OrgOptions{Edition: edition, AdminUsername: env.admin, AdminPassword: env.pass})
	if err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	env.org = org
	env.app, err = emu.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "sfsync", CallbackURLs: []string{emuCallback}})
	if err != nil {
		t.Fatalf("RegisterConnectedApp: %v", err)
	}
	return env
}

func (e *emuEnv) oauth(t testing.TB, logger *slog.Logger) *OAuth {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o, err := NewOAuth(OAuthConfig{LoginURL: e.srv.URL, ClientID: e.app.ClientID, ClientSecret: e.app.ClientSecret,
		RedirectURL: emuCallback, HTTPClient: e.srv.Client(), Logger: logger, BackoffBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// client builds a Client from a directly issued token, refreshing through
// the emulator's token endpoint.
func (e *emuEnv) client(t testing.TB, username string, mod ...func(*Options)) (*Client, *RefreshingTokenSource) {
	t.Helper()
	et, err := e.emu.IssueToken(e.org, username)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	tok := Token{AccessToken: et.AccessToken, RefreshToken: et.RefreshToken, InstanceURL: et.InstanceURL, IdentityURL: et.ID}
	ts := e.oauth(t, nil).TokenSource(tok, nil)
	opts := Options{InstanceURL: tok.InstanceURL, Tokens: ts, HTTPClient: e.srv.Client(), Logger: slog.New(slog.DiscardHandler),
		BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond, BulkPollInterval: time.Millisecond}
	for _, m := range mod {
		m(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, ts
}

func (e *emuEnv) seedContacts(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		if _, err := e.org.CreateAsHuman(map[string]any{"FirstName": "F", "LastName": fmt.Sprintf("Seed %06d", i),
			"Email": fmt.Sprintf("seed%d@example.com", i)}); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
}

var (
	formRE   = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// browserLogin plays the admin's browser: it opens the authorize URL,
// submits the login form (and the consent form if shown) with a cookie jar,
// and returns the callback URL Salesforce redirects to.
func browserLogin(t *testing.T, e *emuEnv, authURL, username, password string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, Transport: e.srv.Client().Transport, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), emuCallback) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	resp, err := br.Get(authURL)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	for step := 0; step < 4; step++ {
		if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusFound && strings.HasPrefix(loc, emuCallback) {
			resp.Body.Close()
			u, _ := url.Parse(loc)
			return u
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("authorize step %d: got status %d, want 200 page:\n%s", step, resp.StatusCode, page)
		}
		m := formRE.FindSubmatch(page)
		if m == nil {
			t.Fatalf("authorize step %d: no form in page:\n%s", step, page)
		}
		action, _ := url.Parse(html.UnescapeString(string(m[1])))
		form := url.Values{}
		for _, h := range hiddenRE.FindAllSubmatch(page, -1) {
			form.Set(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
		}
		if strings.Contains(string(page), `name="password"`) {
			form.Set("username", username)
			form.Set("password", password)
			form.Set("action", "login")
		} else {
			form.Set("action", "allow")
		}
		resp, err = br.PostForm(e.srv.URL+action.Path, form)
		if err != nil {
			t.Fatalf("POST authorize step %d: %v", step, err)
		}
	}
	t.Fatalf("authorize: no redirect to the callback after 4 steps")
	return nil
}

func TestEmuWebServerFlow(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Enterprise, sfemu.Options{})
	var logBuf strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logBuf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := e.oauth(t, logger)
	ctx := t.Context()
	verifier := NewVerifier()
	cb := browserLogin(t, e, o.AuthCodeURL("state-42", verifier), e.admin, e.pass)
	if got := cb.Query().Get("state"); got != "state-42" {
		t.Errorf("state: got %q, want state-42", got)
	}
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("callback %s has no code", cb)
	}
	tok, err := o.Exchange(ctx, code, verifier)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.InstanceURL != e.srv.URL || tok.RefreshToken == "" || tok.IssuedAt.IsZero() || !strings.Contains(tok.Scope, "api") {
		t.Errorf("token: got %v, want instance %s with refresh token, issued_at and api scope", tok, e.srv.URL)
	}
	if tok.OrgID() != e.org.ID() || tok.UserID() != e.org.Admin().ID {
		t.Errorf("ids: got org %s user %s, want %s %s", tok.OrgID(), tok.UserID(), e.org.ID(), e.org.Admin().ID)
	}
	if _, err := o.Exchange(ctx, code, verifier); err == nil {
		t.Errorf("second Exchange of the same code: got nil error, want invalid_grant")
	}

	var persisted []Token
	ts := o.TokenSource(tok, func(_ context.Context, nt Token) { persisted = append(persisted, nt) })
	c, err := New(Options{InstanceURL: tok.InstanceURL, Tokens: ts, HTTPClient: e.srv.Client(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckAPIAccess(ctx); err != nil {
		t.Fatalf("CheckAPIAccess: %v", err)
	}
	admin, err := c.IsAdmin(ctx)
	if err != nil || !admin {
		t.Errorf("IsAdmin: got %v, %v, want true", admin, err)
	}
	id, err := c.Identity(ctx, tok.IdentityURL)
	if err != nil || id.Username != e.admin || id.UserID != e.org.Admin().ID {
		t.Errorf("Identity: got %+v, %v, want username %s", id, err, e.admin)
	}
	ui, err := c.UserInfo(ctx)
	if err != nil || ui.PreferredUsername != e.admin {
		t.Errorf("UserInfo: got %+v, %v, want preferred_username %s", ui, err, e.admin)
	}
	e.emu.ExpireTokens(e.org)
	if _, err := c.Limits(ctx); err != nil {
		t.Fatalf("Limits after the session expired: got %v, want a silent refresh", err)
	}
	if len(persisted) != 1 {
		t.Errorf("OnTokenRefreshed calls: got %d, want 1", len(persisted))
	}
	if err := o.Revoke(ctx, ts.Token().RefreshToken); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := c.Limits(ctx); !errors.Is(err, ErrRefreshRevoked) {
		t.Errorf("Limits after revoking: got %v, want ErrRefreshRevoked", err)
	}
	logMu.Lock()
	logs := logBuf.String()
	logMu.Unlock()
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, ts.Token().AccessToken, e.app.ClientSecret, code, verifier} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("log contains a secret (%d chars)", len(secret))
		}
	}
	if !strings.Contains(logs, "salesforce request") {
		t.Errorf("log has no request lines; the leak check saw nothing")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestEmuPKCEMismatchRefused(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Developer, sfemu.Options{})
	o := e.oauth(t, nil)
	cb := browserLogin(t, e, o.AuthCodeURL("s", NewVerifier()), e.admin, e.pass)
	_, err := o.Exchange(t.Context(), cb.Query().Get("code"), NewVerifier())
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != "invalid_grant" {
		t.Fatalf("Exchange with another verifier: got %v, want invalid_grant", err)
	}
}

func TestEmuNonAdminAndAPIDisabled(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Enterprise, sfemu.Options{})
	u, err := e.org.CreateUser(sfemu.UserOptions{Username: "sam@acme.example.com", Password: "pw-123456", LastName: "Sam", Profile: sfemu.ProfileStandardUser})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.client(t, u.Username)
	if admin, err := c.IsAdmin(t.Context()); err != nil || admin {
		t.Errorf("IsAdmin(standard user): got %v, %v, want false", admin, err)
	}
	if _, err := e.org.CreatePermissionSet("Sync Admin", true, false); err != nil {
		t.Fatal(err)
	}
	if err := e.org.AssignPermissionSet(u.ID, "Sync Admin"); err != nil {
		t.Fatal(err)
	}
	if admin, err := c.IsAdmin(t.Context()); err != nil || !admin {
		t.Errorf("IsAdmin(with a Modify All Data permission set): got %v, %v, want true", admin, err)
	}

	nu, err := e.org.CreateUser(sfemu.UserOptions{Username: "noapi@acme.example.com", Password: "pw-123456", LastName: "NoAPI", APIDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := e.client(t, nu.Username)
	err = nc.CheckAPIAccess(t.Context())
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != CodeAPICurrentlyDisabled || errors.Is(err, ErrAPIDisabled) {
		t.Errorf("CheckAPIAccess for a user without API Enabled: got %v, want API_CURRENTLY_DISABLED (not the org-level error)", err)
	}

	pe := setupEmu(t, sfemu.ProfessionalNoAPI, sfemu.Options{})
	pc, _ := pe.client(t, pe.admin)
	err = pc.CheckAPIAccess(t.Context())
	if !errors.Is(err, ErrAPIDisabled) {
		t.Fatalf("CheckAPIAccess on Professional without API: got %v, want ErrAPIDisabled", err)
	}
}

func TestEmuTokenExpiresMidQuery(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Developer, sfemu.Options{})
	e.seedContacts(t, 1000)
	refreshed := 0
	c, ts := e.client(t, e.admin)
	ts.onRefreshed = func(context.Context, Token) { refreshed++ }
	it := c.Query(t.Context(), "SELECT Id, LastName FROM Contact ORDER BY LastName", QueryOptions{BatchSize: 200})
	n := 0
	for it.Next() {
		if want := fmt.Sprintf("Seed %06d", n); it.Record()["LastName"] != want {
			t.Fatalf("record %d: got %v, want %s", n, it.Record()["LastName"], want)
		}
		n++
		if n == 450 {
			e.emu.ExpireTokens(e.org)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatalf("query: %v", err)
	}
	if n != 1000 || it.TotalSize() != 1000 || refreshed != 1 {
		t.Errorf("got %d records (totalSize %d) and %d refreshes, want 1000, 1000, 1", n, it.TotalSize(), refreshed)
	}
}

func TestEmuRevokedRefreshToken(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Developer, sfemu.Options{})
	c, _ := e.client(t, e.admin)
	e.emu.ExpireRefreshTokens(e.org)
	e.emu.ExpireTokens(e.org)
	_, err := c.Limits(t.Context())
	if !errors.Is(err, ErrRefreshRevoked) {
		t.Fatalf("got %v, want ErrRefreshRevoked", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != "invalid_grant" {
		t.Errorf("got %v, want the invalid_grant APIError inside", err)
	}
}

func TestEmuFaultsRetried(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Developer, sfemu.Options{})
	e.seedContacts(t, 600)
	c, _ := e.client(t, e.admin, func(o *Options) { o.MaxAttempts = 10 })
	e.emu.SetFaults(sfemu.Faults{Seed: 7, UnavailableRate: 0.25, ServerErrorRate: 0.1, DropRate: 0.2})
	it := c.Query(t.Context(), "SELECT Id FROM Contact", QueryOptions{BatchSize: 200})
	n := 0
	for it.Next() {
		n++
	}
	if err := it.Err(); err != nil || n != 600 {
		t.Fatalf("query under faults: got %d records, %v, want 600", n, err)
	}
	if c.Calls() <= int64(it.Pages()) {
		t.Errorf("calls %d for %d pages: want retries to show in Calls", c.Calls(), it.Pages())
	}
	// An injected one-shot UNABLE_TO_LOCK_ROW on a write is retried too.
	e.emu.SetFaults(sfemu.Faults{Errors: []sfemu.InjectedError{{Method: "PATCH", PathPrefix: "/composite/sobjects", Status: 400,
		ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record", Times: 2}}})
	res, err := c.UpsertRecords(t.Context(), "Contact", "Member_Number__c", []Record{{"Member_Number__c": "M-1", "LastName": "Locked"}})
	if err != nil || len(res) != 1 || !res[0].Success || !res[0].Created {
		t.Errorf("upsert after lock errors: got %+v, %v, want one created", res, err)
	}
}

func TestEmuRequestLimitAndBudget(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Developer, sfemu.Options{})
	c, _ := e.client(t, e.admin, func(o *Options) { o.Budget = 1 })
	_, max := e.org.APIUsage()
	e.org.SetAPIUsage(max)
	_, err := c.Limits(t.Context())
	var le *LimitError
	if !errors.As(err, &le) || le.ErrorCode != CodeRequestLimitExceeded {
		t.Fatalf("at the cap: got %v, want *LimitError", err)
	}
	if calls := c.Calls(); calls != 1 {
		t.Errorf("calls: got %d, want 1 (no retry)", calls)
	}

	b := setupEmu(t, sfemu.Developer, sfemu.Options{})
	bc, _ := b.client(t, b.admin) // default budget 50%
	b.org.SetAPIAllocation(100)
	b.org.SetAPIUsage(48)
	for i := range 2 {
		if _, err := bc.Limits(t.Context()); err != nil {
			t.Fatalf("call %d under budget: %v", i, err)
		}
	}
	before := bc.Calls()
	err = bc.CheckAPIAccess(t.Context())
	var be *BudgetError
	if !errors.As(err, &be) || be.Used != 50 || be.Max != 100 || be.Until.IsZero() {
		t.Fatalf("over budget: got %v, want *BudgetError 50/100 with Until", err)
	}
	if used, _ := b.org.APIUsage(); used != 50 || bc.Calls() != before {
		t.Errorf("emulator usage %d, calls %d→%d: want 50 and no call made", used, before, bc.Calls())
	}
}

func TestEmuRecordsRoundTrip(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Developer, sfemu.Options{})
	c, _ := e.client(t, e.admin)
	ctx := t.Context()
	start := e.emu.Now().Add(-time.Minute)
	d, err := c.DescribeSObject(ctx, "Contact")
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if f, ok := d.Field("member_number__c"); !ok || !f.ExternalID {
		t.Errorf("describe Member_Number__c: got %+v, %v, want an external id", f, ok)
	}
	in := make([]Record, 250)
	for i := range in {
		in[i] = Record{"Member_Number__c": fmt.Sprintf("M-%03d", i), "LastName": fmt.Sprintf("Upsert %03d", i), "Email": fmt.Sprintf("u%d@example.com", i)}
	}
	in[7]["Email"] = "not an email"
	res, err := c.UpsertRecords(ctx, "Contact", "Member_Number__c", in)
	if err != nil || len(res) != 250 {
		t.Fatalf("upsert: got %d results, %v", len(res), err)
	}
	for i, r := range res {
		if i == 7 {
			if r.Success || len(r.Errors) == 0 || r.Errors[0].StatusCode != "INVALID_EMAIL_ADDRESS" {
				t.Errorf("record 7: got %+v, want INVALID_EMAIL_ADDRESS", r)
			}
			continue
		}
		if r.Index != i || !r.Success || !r.Created || r.ID == "" {
			t.Errorf("record %d: got %+v, want created", i, r)
		}
	}
	n, err := c.Count(ctx, "SELECT COUNT() FROM Contact WHERE Member_Number__c != null")
	if err != nil || n != 249 {
		t.Errorf("Count: got %d, %v, want 249", n, err)
	}
	up := []Record{{"Id": res[0].ID, "LastName": "Changed"}}
	if r, err := c.UpdateRecords(ctx, "Contact", up); err != nil || !r[0].Success {
		t.Fatalf("update: %+v, %v", r, err)
	}
	rec, err := c.GetRecord(ctx, "Contact", res[0].ID, "Id", "LastName", "Member_Number__c")
	if err != nil || rec["LastName"] != "Changed" || rec["Member_Number__c"] != "M-000" {
		t.Errorf("GetRecord: got %v, %v, want LastName Changed", rec, err)
	}
	if _, err := c.GetRecord(ctx, "Contact", "003000000000000AAA"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRecord of a missing id: got %v, want ErrNotFound", err)
	}
	bad := c.Query(ctx, "SELECT Id, Foo__c FROM Contact", QueryOptions{})
	var ae *APIError
	if bad.Next() || !errors.As(bad.Err(), &ae) || ae.StatusCode != 400 || ae.ErrorCode != "INVALID_FIELD" || !strings.Contains(ae.Message, "Foo__c") {
		t.Errorf("query of an unknown field: got %v, want 400 INVALID_FIELD naming Foo__c", bad.Err())
	}
	created, err := c.CreateRecords(ctx, "Contact", []Record{{"LastName": "Plain"}})
	if err != nil || !created[0].Success {
		t.Errorf("create: %+v, %v", created, err)
	}
	e.emu.Advance(2 * time.Minute)
	updated, err := c.GetUpdated(ctx, "Contact", start, e.emu.Now())
	if err != nil || len(updated.IDs) != 250 {
		t.Errorf("GetUpdated: got %d ids, %v, want 250", len(updated.IDs), err)
	}
	if err := e.org.DeleteAsHuman(res[1].ID); err != nil {
		t.Fatal(err)
	}
	e.emu.Advance(2 * time.Minute)
	del, err := c.GetDeleted(ctx, "Contact", start, e.emu.Now())
	if err != nil || len(del.Records) != 1 || del.Records[0].ID != res[1].ID {
		t.Errorf("GetDeleted: got %+v, %v, want %s", del, err, res[1].ID)
	}
	all := c.QueryAll(ctx, "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", QueryOptions{})
	deleted := 0
	for all.Next() {
		deleted++
	}
	if all.Err() != nil || deleted != 1 {
		t.Errorf("QueryAll deleted: got %d, %v, want 1", deleted, all.Err())
	}
	if vs, err := c.Versions(ctx); err != nil || len(vs) == 0 {
		t.Errorf("Versions: got %v, %v", vs, err)
	}
	if u := c.Usage(); u.Max == 0 || u.Used == 0 {
		t.Errorf("Usage: got %+v, want a reading from Sforce-Limit-Info", u)
	}
}

func TestEmuBulkQuery(t *testing.T) {
	t.Parallel()
	e := setupEmu(t, sfemu.Developer, sfemu.Options{})
	e.seedContacts(t, 1200)
	c, _ := e.client(t, e.admin)
	rows, err := c.BulkQuery(t.Context(), "SELECT Id, LastName, Email FROM Contact", BulkQueryOptions{MaxRecords: 500})
	if err != nil {
		t.Fatalf("BulkQuery: %v", err)
	}
	seen := map[string]bool{}
	for rec, err := range rows.All() {
		if err != nil {
			t.Fatalf("rows: %v", err)
		}
		seen[rec["LastName"].(string)] = true
	}
	if len(seen) != 1200 || rows.Pages() != 3 {
		t.Errorf("got %d distinct rows in %d pages, want 1200 in 3", len(seen), rows.Pages())
	}
	if fmt.Sprint(rows.Columns()) != "[Id LastName Email]" {
		t.Errorf("columns: got %v, want [Id LastName Email]", rows.Columns())
	}

	// Again with 503s and dropped connections on every kind of bulk call.
	fc, _ := e.client(t, e.admin, func(o *Options) { o.MaxAttempts = 10 })
	e.emu.SetFaults(sfemu.Faults{Seed: 11, UnavailableRate: 0.25, DropRate: 0.25})
	rows, err = fc.BulkQuery(t.Context(), "SELECT Id FROM Contact", BulkQueryOptions{MaxRecords: 500})
	if err != nil {
		t.Fatalf("BulkQuery under faults: %v", err)
	}
	n := 0
	for _, err := range rows.All() {
		if err != nil {
			t.Fatalf("rows under faults: %v", err)
		}
		n++
	}
	if n != 1200 {
		t.Errorf("rows under faults: got %d, want 1200", n)
	}
	// Without faults: create, two status polls, three pages.
	t.Logf("calls under faults: %d", fc.Calls())
	if fc.Calls() <= 6 {
		t.Errorf("calls under faults: got %d, want more than 6 (retries)", fc.Calls())
	}
}

// TestEmuLargeQueryFlatMemory streams 100,000 contacts from the emulator
// through REST paging and a Bulk API 2.0 job, sampling the live heap. Not
// parallel, so that other tests' allocations stay out of the figures.
func TestEmuLargeQueryFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100k contacts")
	}
	const total = 100_000
	e := setupEmu(t, sfemu.Enterprise, sfemu.Options{})
	e.seedContacts(t, total)
	c, _ := e.client(t, e.admin)
	base := liveHeap() // the emulator's own data is in here, and stays
	var samples []uint64
	for _, mode := range []string{"REST", "Bulk2"} {
		n := 0
		if mode == "REST" {
			it := c.Query(t.Context(), "SELECT Id, FirstName, LastName, Email FROM Contact", QueryOptions{BatchSize: 2000})
			for it.Next() {
				n++
				if n%20_000 == 1000 { // mid-page
					samples = append(samples, liveHeap())
				}
			}
			if err := it.Err(); err != nil || it.TotalSize() != total {
				t.Fatalf("REST: %v, totalSize %d, want %d", err, it.TotalSize(), total)
			}
		} else {
			rows, err := c.BulkQuery(t.Context(), "SELECT Id, FirstName, LastName, Email FROM Contact", BulkQueryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				n++
				if n%20_000 == 1000 { // mid-page
					samples = append(samples, liveHeap())
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
		}
		if n != total {
			t.Fatalf("%s: got %d records, want %d", mode, n, total)
		}
	}
	// The emulator's query cursor or result file may hold the whole result
	// server-side; the client must add no more than a page or so.
	const slack = 24 << 20
	// Measure from the lowest point seen: data an earlier test left live
	// may be freed during this one.
	ref := base
	for _, s := range samples {
		ref = min(ref, s)
	}
	for i, s := range samples {
		if s > ref+slack {
			t.Errorf("sample %d: live heap %d KiB above the lowest point, want under %d KiB", i, (s-ref)>>10, slack>>10)
		}
	}
	t.Logf("live heap at start %d MiB, samples (KiB) %v", base>>20, kib(samples))
}

// BenchmarkStream1M streams 1,000,000 contacts from the emulator over real
// HTTP, REST query paging (2,000 a page) against Bulk API 2.0 CSV. The
// emulator runs in the same process, so base-heap and peak-heap include
// its 1M records and its answers; live-growth is what streaming keeps
// alive beyond the starting point (see runStreamBench).
func BenchmarkStream1M(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 1M contacts")
	}
	const total = 1_000_000
	e := setupEmu(b, sfemu.Unlimited, sfemu.Options{})
	e.seedContacts(b, total)
	c, _ := e.client(b, e.admin, func(o *Options) { o.Budget = 1 })
	for _, mode := range []string{"REST", "Bulk2"} {
		b.Run(mode, func(b *testing.B) { runStreamBench(b, c, mode, total) })
	}
}
