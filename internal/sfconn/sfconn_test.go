package sfconn_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
	"github.com/sfsync/sfsync/internal/testenv"
)

const callback = testenv.Callback

type env struct {
	emu      *sfemu.Server
	emuURL   string
	org      *sfemu.Org
	svc      *sfconn.Service
	store    *store.Store
	tenantID string
	logs     *syncBuffer
	tokens   *tokenRecorder
	dbPath   string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// tokenRecorder remembers every token the emulator hands out, so a test
// can check they never reach logs or the database, and use them directly.
type tokenRecorder struct {
	mu     sync.Mutex
	tokens []string
	next   http.RoundTripper
}

var tokenRE = regexp.MustCompile(`"(access_token|refresh_token)"\s*:\s*"([^"]+)"`)

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/services/oauth2/token") {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	for _, m := range tokenRE.FindAllStringSubmatch(string(body), -1) {
		r.tokens = append(r.tokens, m[2])
	}
	r.mu.Unlock()
	return resp, nil
}

func (r *tokenRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

func setup(t *testing.T, edition sfemu.Edition, plan tenant.Plan) *env {
	t.Helper()
	emu := sfemu.New(sfemu.Options{TokenLifetime: time.Hour})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	emu.SetBaseURL(srv.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{Name: "Acme", Edition: edition, AdminUsername: "admin@acme.test", AdminPassword: "admin-pass-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org.CreateUser(sfemu.UserOptions{Username: "clerk@acme.test", Password: "clerk-pass-1", LastName: "Clerk", Profile: sfemu.ProfileStandardUser}); err != nil {
		t.Fatal(err)
	}
	app, err := emu.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "sfsync", CallbackURLs: []string{callback}})
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.Open(t, store.SQLite)
	tn, err := s.CreateTenant(context.Background(), tenant.Tenant{Name: "Shop", Language: "en", Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	kr, _ := secret.NewKeyring(key)
	logs := &syncBuffer{}
	rec := &tokenRecorder{next: http.DefaultTransport}
	hc := &http.Client{Transport: rec, Timeout: 30 * time.Second}
	svc := &sfconn.Service{Store: s, Keyring: kr, ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: callback,
		DefaultLoginURL: srv.URL, HTTPClient: hc, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ClientOptions: salesforce.Options{BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond}}
	var dbPath string
	if err := s.DB.QueryRow(`PRAGMA database_list`).Scan(new(int), new(string), &dbPath); err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, emuURL: srv.URL, org: org, svc: svc, store: s, tenantID: tn.ID, logs: logs, tokens: rec, dbPath: dbPath}
}

func authorize(t *testing.T, authURL, username, password, choice string) url.Values {
	return testenv.BrowserAuthorize(t, authURL, username, password, choice)
}

func params(q url.Values) sfconn.CallbackParams {
	return sfconn.CallbackParams{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description")}
}

func (e *env) connect(t *testing.T, username, password string) (sfconn.Connection, error) {
	t.Helper()
	ctx := context.Background()
	u, err := e.svc.Start(ctx, e.tenantID, "session:1", "")
	if err != nil {
		t.Fatal(err)
	}
	return e.svc.Finish(ctx, e.tenantID, "session:1", params(authorize(t, u, username, password, "allow")))
}

// wantRefusal fails the test unless err is a refusal with code.
func wantRefusal(t *testing.T, err error, code string) {
	t.Helper()
	_ = refusal(t, err, code)
}

func refusal(t *testing.T, err error, code string) *sfconn.Refusal {
	t.Helper()
	var r *sfconn.Refusal
	if !errors.As(err, &r) || r.Code != code {
		t.Fatalf("error = %v, want a refusal %s", err, code)
	}
	return r
}

var salesforcePlan = tenant.Plan{SalesforceAddon: true}

func TestConnectFlow(t *testing.T) {
	t.Parallel()
	e := setup(t, sfemu.Enterprise, salesforcePlan)
	ctx := context.Background()
	authURL, err := e.svc.Start(ctx, e.tenantID, "session:1", "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "refresh_token") {
		t.Errorf("authorize URL %s lacks PKCE S256, state or the refresh_token scope", authURL)
	}
	conn, err := e.svc.Finish(ctx, e.tenantID, "session:1", params(authorize(t, authURL, "admin@acme.test", "admin-pass-1", "allow")))
	if err != nil {
		t.Fatal(err)
	}
	if conn.Status != store.ConnConnected || conn.Username != "admin@acme.test" || conn.OrgID != e.org.ID() || conn.Edition != "Enterprise Edition" {
		t.Errorf("connection = %+v, want connected as admin@acme.test to org %s, Enterprise Edition", conn, e.org.ID())
	}
	st, _ := e.svc.Status(ctx, e.tenantID)
	if st.Status != store.ConnConnected || st.InstanceURL != e.emuURL {
		t.Errorf("status = %+v, want connected at %s", st, e.emuURL)
	}
	// The stored client works.
	c, err := e.svc.Client(ctx, e.tenantID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Limits(ctx); err != nil {
		t.Errorf("Limits through the stored connection: %v", err)
	}
	// Tokens never appear in plaintext in the logs or the database files.
	toks := e.tokens.all()
	if len(toks) < 2 {
		t.Fatalf("recorded %d tokens, want an access and a refresh token", len(toks))
	}
	if _, err := e.store.DB.Exec(`PRAGMA wal_checkpoint(FULL)`); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(e.dbPath + "*")
	for _, tok := range toks {
		if strings.Contains(e.logs.String(), tok) {
			t.Errorf("a token appears in the logs")
		}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("a token appears in plaintext in %s", filepath.Base(f))
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("plan missing", func(t *testing.T) {
		t.Parallel()
		e := setup(t, sfemu.Enterprise, tenant.Plan{})
		_, err := e.svc.Start(ctx, e.tenantID, "session:1", "")
		r := refusal(t, err, sfconn.CodePlanMissing)
		if !strings.Contains(r.MessageZH, "Salesforce 會員資料整合") {
			t.Errorf("zh-TW message %q does not name the add-on", r.MessageZH)
		}
	})
	t.Run("professional without API", func(t *testing.T) {
		t.Parallel()
		e := setup(t, sfemu.ProfessionalNoAPI, salesforcePlan)
		_, err := e.connect(t, "admin@acme.test", "admin-pass-1")
		r := refusal(t, err, sfconn.CodeAPIDisabled)
		if !strings.Contains(r.MessageEN, "Web Services API add-on") || !strings.Contains(r.MessageEN, "Professional") {
			t.Errorf("message %q does not name Professional's Web Services API add-on (S2)", r.MessageEN)
		}
		if st, _ := e.svc.Status(ctx, e.tenantID); st.Status != store.ConnNotConnected {
			t.Errorf("status after refusal = %s, want not_connected", st.Status)
		}
	})
	t.Run("non-admin user, tokens revoked", func(t *testing.T) {
		t.Parallel()
		e := setup(t, sfemu.Enterprise, salesforcePlan)
		_, err := e.connect(t, "clerk@acme.test", "clerk-pass-1")
		r := refusal(t, err, sfconn.CodeNotAdmin)
		if !strings.Contains(r.MessageEN, "clerk@acme.test") {
			t.Errorf("message %q does not name the user", r.MessageEN)
		}
		for _, tok := range e.tokens.all() {
			if e.emu.RevokeToken(tok) {
				t.Errorf("a token issued to the refused non-admin is still live")
			}
		}
	})
	t.Run("denied on Salesforce's page", func(t *testing.T) {
		t.Parallel()
		e := setup(t, sfemu.Enterprise, salesforcePlan)
		u, _ := e.svc.Start(ctx, e.tenantID, "session:1", "")
		_, err := e.svc.Finish(ctx, e.tenantID, "session:1", params(authorize(t, u, "admin@acme.test", "admin-pass-1", "deny")))
		wantRefusal(t, err, sfconn.CodeDenied)
	})
	t.Run("replayed, foreign and session-bound state", func(t *testing.T) {
		t.Parallel()
		e := setup(t, sfemu.Enterprise, salesforcePlan)
		u, _ := e.svc.Start(ctx, e.tenantID, "session:1", "")
		q := authorize(t, u, "admin@acme.test", "admin-pass-1", "allow")
		// Another session of the same tenant cannot finish it…
		_, err := e.svc.Finish(ctx, e.tenantID, "session:2", params(q))
		wantRefusal(t, err, sfconn.CodeBadState)
		// …and that attempt used the state up, so a replay fails too.
		_, err = e.svc.Finish(ctx, e.tenantID, "session:1", params(q))
		wantRefusal(t, err, sfconn.CodeBadState)
		// Another tenant's state.
		other, _ := e.store.CreateTenant(ctx, tenant.Tenant{Name: "Other", Language: "en", Plan: salesforcePlan})
		u2, _ := e.svc.Start(ctx, other.ID, "session:1", "")
		q2 := authorize(t, u2, "admin@acme.test", "admin-pass-1", "allow")
		_, err = e.svc.Finish(ctx, e.tenantID, "session:1", params(q2))
		wantRefusal(t, err, sfconn.CodeBadState)
	})
	t.Run("PKCE mismatch", func(t *testing.T) {
		t.Parallel()
		e := setup(t, sfemu.Enterprise, salesforcePlan)
		u1, _ := e.svc.Start(ctx, e.tenantID, "session:1", "")
		u2, _ := e.svc.Start(ctx, e.tenantID, "session:1", "")
		q1 := authorize(t, u1, "admin@acme.test", "admin-pass-1", "allow")
		q2, _ := url.Parse(u2)
		// The code of flow 1 with the state (and so the verifier) of flow 2.
		_, err := e.svc.Finish(ctx, e.tenantID, "session:1", sfconn.CallbackParams{State: q2.Query().Get("state"), Code: q1.Get("code")})
		r := refusal(t, err, sfconn.CodeDenied)
		if !strings.Contains(r.Error(), "invalid_grant") {
			t.Errorf("PKCE mismatch error = %v, want invalid_grant from the token endpoint", r)
		}
	})
	t.Run("login host outside Salesforce", func(t *testing.T) {
		t.Parallel()
		e := setup(t, sfemu.Enterprise, salesforcePlan)
		for _, bad := range []string{"https://evil.example.com", "http://login.salesforce.com", "https://login.salesforce.com.evil.test", "https://x.my.salesforce.com/path"} {
			_, err := e.svc.Start(ctx, e.tenantID, "session:1", bad)
			wantRefusal(t, err, sfconn.CodeBadLoginURL)
		}
		for _, good := range []string{"https://login.salesforce.com", "https://test.salesforce.com", "https://acme.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com"} {
			if _, err := e.svc.CheckLoginURL(good); err != nil {
				t.Errorf("CheckLoginURL(%s) = %v, want accepted", good, err)
			}
		}
	})
}

func TestTokenExpiresMidQuery(t *testing.T) {
	t.Parallel()
	e := setup(t, sfemu.Enterprise, salesforcePlan)
	ctx := context.Background()
	for i := range 450 {
		if _, err := e.org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("Lin %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.connect(t, "admin@acme.test", "admin-pass-1"); err != nil {
		t.Fatal(err)
	}
	before, _ := e.store.GetConnection(ctx, e.tenantID)
	c, err := e.svc.Client(ctx, e.tenantID)
	if err != nil {
		t.Fatal(err)
	}
	it := c.Query(ctx, "SELECT Id, LastName FROM Contact", salesforce.QueryOptions{BatchSize: 200})
	n := 0
	for it.Next() {
		n++
		if n == 150 {
			e.emu.ExpireTokens(nil) // the session times out between pages
		}
	}
	if err := it.Err(); err != nil || n != 450 {
		t.Fatalf("query read %d records, err %v; want 450 and no error", n, err)
	}
	after, _ := e.store.GetConnection(ctx, e.tenantID)
	if after.AccessTokenEnc == before.AccessTokenEnc || after.Status != store.ConnConnected {
		t.Errorf("the refreshed access token was not stored (status %s)", after.Status)
	}
}

func TestRevokedRefreshTokenBreaksConnection(t *testing.T) {
	t.Parallel()
	e := setup(t, sfemu.Enterprise, salesforcePlan)
	ctx := context.Background()
	if _, err := e.connect(t, "admin@acme.test", "admin-pass-1"); err != nil {
		t.Fatal(err)
	}
	e.emu.ExpireRefreshTokens(nil)
	c, err := e.svc.Client(ctx, e.tenantID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Limits(ctx); !errors.Is(err, salesforce.ErrRefreshRevoked) {
		t.Fatalf("call with a revoked refresh token: %v, want ErrRefreshRevoked", err)
	}
	st, _ := e.svc.Status(ctx, e.tenantID)
	if st.Status != store.ConnBroken || st.BrokenReason == "" {
		t.Errorf("status = %+v, want broken with a reason", st)
	}
	_, err = e.svc.Client(ctx, e.tenantID)
	wantRefusal(t, err, sfconn.CodeBroken)
	// Reconnecting repairs it.
	if _, err := e.connect(t, "admin@acme.test", "admin-pass-1"); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.svc.Status(ctx, e.tenantID); st.Status != store.ConnConnected {
		t.Errorf("after reconnect status = %s, want connected", st.Status)
	}
}

func TestDisconnectRevokesAndForgets(t *testing.T) {
	t.Parallel()
	e := setup(t, sfemu.Enterprise, salesforcePlan)
	ctx := context.Background()
	if _, err := e.connect(t, "admin@acme.test", "admin-pass-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Disconnect(ctx, e.tenantID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range e.tokens.all() {
		if e.emu.RevokeToken(tok) {
			t.Error("a token is still live at Salesforce after disconnect")
		}
	}
	if st, _ := e.svc.Status(ctx, e.tenantID); st.Status != store.ConnNotConnected {
		t.Errorf("status after disconnect = %s, want not_connected", st.Status)
	}
}

func TestRotateKeys(t *testing.T) {
	t.Parallel()
	e := setup(t, sfemu.Enterprise, salesforcePlan)
	ctx := context.Background()
	if _, err := e.connect(t, "admin@acme.test", "admin-pass-1"); err != nil {
		t.Fatal(err)
	}
	old := e.svc.Keyring
	newKey := make([]byte, 32)
	rand.Read(newKey)
	rotated, err := old.WithPrimary(newKey)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Keyring = rotated
	n, err := e.svc.RotateKeys(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RotateKeys = %d, %v; want 1 connection re-encrypted", n, err)
	}
	only, _ := secret.NewKeyring(newKey)
	e.svc.Keyring = only
	c, err := e.svc.Client(ctx, e.tenantID)
	if err != nil {
		t.Fatalf("client with only the new key: %v", err)
	}
	if _, err := c.Limits(ctx); err != nil {
		t.Errorf("call after rotation: %v", err)
	}
}

// TestStartLoginAsksForTheLoginPage: reconnecting, or trying again after a
// refusal, must let the admin sign in as someone else, so the authorize
// URL carries prompt=login; a plain Start does not.
func TestStartLoginAsksForTheLoginPage(t *testing.T) {
	t.Parallel()
	e := setup(t, sfemu.Enterprise, salesforcePlan)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		start  func(ctx context.Context, tenantID, binding, loginURL string) (string, error)
		prompt string
	}{
		{"Start", e.svc.Start, ""},
		{"StartLogin", e.svc.StartLogin, "login"},
	} {
		authURL, err := tc.start(ctx, e.tenantID, "session:1", "")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(authURL)
		q := u.Query()
		if got := q.Get("prompt"); got != tc.prompt {
			t.Errorf("%s: got prompt=%q, want %q (%s)", tc.name, got, tc.prompt, authURL)
		}
		if q.Get("state") == "" || q.Get("code_challenge") == "" {
			t.Errorf("%s: authorize URL %s lost its state or PKCE challenge", tc.name, authURL)
		}
	}
}
