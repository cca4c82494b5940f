// Package sfconn is the lifecycle of a tenant's Salesforce connection
// (SPEC S1–S5, S22, X5): the plan gate, the OAuth web server flow with PKCE
// and a state bound to the admin's session, the API-access and admin checks,
// tokens encrypted at rest, silent refresh, the broken state, and
// disconnect.
package sfconn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/store"
)

// Refusal is why a connection could not be made, in words an admin can act
// on, in both UI languages.
type Refusal struct {
	Code      string // plan_missing, api_disabled, not_admin, denied, bad_state, bad_login_url, not_configured
	MessageEN string
	MessageZH string
	Err       error
}

func (r *Refusal) Error() string {
	if r.Err != nil {
		return r.Code + ": " + r.MessageEN + ": " + r.Err.Error()
	}
	return r.Code + ": " + r.MessageEN
}

func (r *Refusal) Unwrap() error { return r.Err }

// Message returns the refusal in lang ("zh-TW" or "en").
func (r *Refusal) Message(lang string) string {
	if lang == "zh-TW" {
		return r.MessageZH
	}
	return r.MessageEN
}

// Refusal codes.
const (
	CodePlanMissing   = "plan_missing"
	CodeAPIDisabled   = "api_disabled"
	CodeNotAdmin      = "not_admin"
	CodeDenied        = "denied"
	CodeBadState      = "bad_state"
	CodeBadLoginURL   = "bad_login_url"
	CodeNotConfigured = "not_configured"
	CodeNotConnected  = "not_connected"
	CodeBroken        = "broken"
)

func refusePlan() *Refusal {
	return &Refusal{Code: CodePlanMissing,
		MessageEN: "Your plan does not include the Salesforce member data integration add-on. Purchase the add-on to connect Salesforce.",
		MessageZH: "您的方案未包含「Salesforce 會員資料整合」加購項目，需加購後才可串接 Salesforce。"}
}

func refuseAPIDisabled(err error) *Refusal {
	return &Refusal{Code: CodeAPIDisabled, Err: err,
		MessageEN: "Your Salesforce org has no API access (Salesforce answered API_DISABLED_FOR_ORG). Enterprise edition and above include the Web Services API; Professional edition needs the Web Services API add-on. Add it to your Salesforce org, then connect again.",
		MessageZH: "您的 Salesforce 組織沒有 API 存取權限（Salesforce 回應 API_DISABLED_FOR_ORG）。Enterprise 以上版本內含 Web Services API 服務；Professional 版本須加購 Web Services API 服務。加購後請重新串接。"}
}

func refuseNotAdmin(username string) *Refusal {
	return &Refusal{Code: CodeNotAdmin,
		MessageEN: fmt.Sprintf("The Salesforce user %s is not an administrator (it has neither Modify All Data nor Customize Application). Sign in with a Salesforce account that has System Administrator rights.", username),
		MessageZH: fmt.Sprintf("Salesforce 使用者 %s 不具管理員權限（沒有「修改所有資料」或「自訂應用程式」權限）。請使用具備 Salesforce Admin 權限的帳號進行串接。", username)}
}

func refuseDenied(code, desc string) *Refusal {
	return &Refusal{Code: CodeDenied, Err: fmt.Errorf("%s: %s", code, desc),
		MessageEN: "Salesforce did not authorize the connection (" + code + "). Try again and choose Allow on Salesforce's page.",
		MessageZH: "Salesforce 未授權此串接（" + code + "）。請重新串接，並在 Salesforce 頁面上選擇「允許」。"}
}

func refuseState() *Refusal {
	return &Refusal{Code: CodeBadState,
		MessageEN: "This authorization link is unknown, expired or was already used, or it was started in another session. Start the connection again.",
		MessageZH: "此授權連結無效、已過期、已使用過，或是在其他登入工作階段中開始的。請重新開始串接。"}
}

// Connection is what admins and the engine see of a tenant's connection.
type Connection struct {
	Status      string  `json:"status"`
	OrgID       string  `json:"org_id,omitempty"`
	OrgName     string  `json:"org_name,omitempty"`
	Edition     string  `json:"edition,omitempty"`
	InstanceURL string  `json:"instance_url,omitempty"`
	UserID      string  `json:"user_id,omitempty"`
	Username    string  `json:"username,omitempty"`
	LoginURL    string  `json:"login_url,omitempty"`
	APIBudget   float64 `json:"api_budget,omitempty"`
	// APIUsed and APIMax are the last reading of the org's API usage
	// (calls in its rolling 24 hours, and its allocation), at APIReadAt.
	APIUsed      int64     `json:"api_used,omitempty"`
	APIMax       int64     `json:"api_max,omitempty"`
	APIReadAt    time.Time `json:"api_read_at,omitzero"`
	BrokenReason string    `json:"broken_reason,omitempty"`
	ConnectedAt  time.Time `json:"connected_at,omitzero"`
}

// Service runs connections for all tenants.
type Service struct {
	Store   *store.Store
	Keyring *secret.Keyring
	// ClientID, ClientSecret and RedirectURL are the Connected App's.
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// DefaultLoginURL is used when Start is given none; it is also always
	// an accepted login host (so an emulator can stand in for Salesforce).
	DefaultLoginURL string
	HTTPClient      *http.Client
	Logger          *slog.Logger
	Now             func() time.Time
	// StateTTL bounds how long an authorization may take (default 10 minutes).
	StateTTL time.Duration
	// ClientOptions tune the REST clients the service builds (retries,
	// backoff); InstanceURL, Tokens, Budget and Logger are set per tenant.
	ClientOptions salesforce.Options
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// CheckLoginURL accepts Salesforce's login hosts only: production,
// sandbox, My Domain (…my.salesforce.com) and the configured default. The
// Connected App's secret is sent to this host, so it is never free-form.
func (s *Service) CheckLoginURL(raw string) (string, error) {
	if raw == "" {
		raw = s.DefaultLoginURL
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	bad := &Refusal{Code: CodeBadLoginURL,
		MessageEN: "The login URL must be https://login.salesforce.com, https://test.salesforce.com or your My Domain (https://NAME.my.salesforce.com).",
		MessageZH: "登入網址必須是 https://login.salesforce.com、https://test.salesforce.com，或您的 My Domain（https://NAME.my.salesforce.com）。"}
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", bad
	}
	norm := u.Scheme + "://" + strings.ToLower(u.Host)
	if def, err := url.Parse(strings.TrimSuffix(s.DefaultLoginURL, "/")); err == nil && def.Host != "" && norm == def.Scheme+"://"+strings.ToLower(def.Host) {
		return norm, nil
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme != "https" || u.Port() != "" {
		return "", bad
	}
	switch {
	case host == "login.salesforce.com", host == "test.salesforce.com",
		strings.HasSuffix(host, ".my.salesforce.com") && net.ParseIP(host) == nil:
		return norm, nil
	}
	return "", bad
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

func (s *Service) oauth(loginURL string) (*salesforce.OAuth, error) {
	if s.ClientID == "" || s.RedirectURL == "" {
		return nil, &Refusal{Code: CodeNotConfigured,
			MessageEN: "Salesforce is not configured on this server: set SFSYNC_SALESFORCE_CLIENT_ID and SFSYNC_SALESFORCE_CLIENT_SECRET.",
			MessageZH: "此伺服器尚未設定 Salesforce：請設定 SFSYNC_SALESFORCE_CLIENT_ID 與 SFSYNC_SALESFORCE_CLIENT_SECRET。"}
	}
	return salesforce.NewOAuth(salesforce.OAuthConfig{LoginURL: loginURL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		RedirectURL: s.RedirectURL, HTTPClient: s.HTTPClient, Logger: s.log()})
}

// Start begins an authorization for a tenant: it checks the plan (S1),
// stores a single-use, expiring state bound to binding (the admin's session
// or API key) and a PKCE verifier, and returns the URL to send the admin to.
func (s *Service) Start(ctx context.Context, tenantID, binding, loginURL string) (string, error) {
	return s.start(ctx, tenantID, binding, loginURL, false)
}

// StartLogin is Start with prompt=login: Salesforce shows its login page
// even to a browser already signed in there. Reconnecting, or trying again
// after a refusal (e.g. a user who is not an admin), needs it: otherwise
// Salesforce silently reuses the session of the refused user and the admin
// cannot switch accounts.
func (s *Service) StartLogin(ctx context.Context, tenantID, binding, loginURL string) (string, error) {
	return s.start(ctx, tenantID, binding, loginURL, true)
}

func (s *Service) start(ctx context.Context, tenantID, binding, loginURL string, forceLogin bool) (string, error) {
	t, err := s.Store.GetTenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if !t.Plan.SalesforceAddon {
		return "", refusePlan()
	}
	login, err := s.CheckLoginURL(loginURL)
	if err != nil {
		return "", err
	}
	o, err := s.oauth(login)
	if err != nil {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	state := base64.RawURLEncoding.EncodeToString(raw)
	verifier := salesforce.NewVerifier()
	venc, err := s.Keyring.Encrypt(verifier, "oauth-state:"+hashState(state))
	if err != nil {
		return "", err
	}
	ttl := s.StateTTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	if err := s.Store.SaveOAuthState(ctx, store.OAuthState{StateHash: hashState(state), TenantID: tenantID, Binding: binding,
		VerifierEnc: venc, LoginURL: login, ExpiresAt: s.now().Add(ttl)}); err != nil {
		return "", err
	}
	target := o.AuthCodeURL(state, verifier)
	if forceLogin {
		u, err := url.Parse(target)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("prompt", "login")
		u.RawQuery = q.Encode()
		target = u.String()
	}
	return target, nil
}

// CallbackParams are the query parameters Salesforce redirects back with.
type CallbackParams struct {
	State, Code, Error, ErrorDescription string
}

// Finish completes an authorization: the state must exist, be unused,
// unexpired, and belong to this tenant and binding. It exchanges the code,
// verifies API access (S2) and admin rights (S5) — revoking the tokens when
// either fails — and stores the connection with encrypted tokens.
func (s *Service) Finish(ctx context.Context, tenantID, binding string, p CallbackParams) (Connection, error) {
	if p.State == "" {
		return Connection{}, refuseState()
	}
	st, err := s.Store.ConsumeOAuthState(ctx, hashState(p.State))
	if errors.Is(err, store.ErrNotFound) {
		return Connection{}, refuseState()
	}
	if err != nil {
		return Connection{}, err
	}
	if st.TenantID != tenantID || st.Binding != binding || s.now().After(st.ExpiresAt) {
		return Connection{}, refuseState()
	}
	if p.Error != "" {
		return Connection{}, refuseDenied(p.Error, p.ErrorDescription)
	}
	if p.Code == "" {
		return Connection{}, refuseState()
	}
	verifier, err := s.Keyring.Decrypt(st.VerifierEnc, "oauth-state:"+st.StateHash)
	if err != nil {
		return Connection{}, err
	}
	o, err := s.oauth(st.LoginURL)
	if err != nil {
		return Connection{}, err
	}
	tok, err := o.Exchange(ctx, p.Code, verifier)
	if err != nil {
		var ae *salesforce.APIError
		if errors.As(err, &ae) && ae.ErrorCode == "invalid_grant" {
			return Connection{}, &Refusal{Code: CodeDenied, Err: err,
				MessageEN: "Salesforce refused the authorization code (" + ae.Message + "). Start the connection again.",
				MessageZH: "Salesforce 拒絕了授權碼（" + ae.Message + "）。請重新開始串接。"}
		}
		return Connection{}, fmt.Errorf("exchange authorization code: %w", err)
	}
	// Tokens of a connection that is not saved are revoked, whatever
	// stopped it (a refusal, an error, a failed save).
	saved := false
	defer func() {
		if saved {
			return
		}
		// Revoking the refresh token ends its access tokens too.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		t := tok.RefreshToken
		if t == "" {
			t = tok.AccessToken
		}
		if err := o.Revoke(rctx, t); err != nil {
			s.log().WarnContext(ctx, "revoking refused tokens failed", "tenant_id", tenantID, "error", err)
		}
	}()
	if tok.RefreshToken == "" {
		return Connection{}, &Refusal{Code: CodeDenied,
			MessageEN: "Salesforce issued no refresh token. In the Connected App, add the OAuth scope \"Perform requests at any time (refresh_token, offline_access)\" and connect again.",
			MessageZH: "Salesforce 未發出 refresh token。請在 Connected App 的 OAuth 範圍加入「Perform requests at any time (refresh_token, offline_access)」後重新串接。"}
	}
	c, err := s.client(tok, 0.5, nil)
	if err != nil {
		return Connection{}, err
	}
	if err := c.CheckAPIAccess(ctx); err != nil {
		if errors.Is(err, salesforce.ErrAPIDisabled) {
			return Connection{}, refuseAPIDisabled(err)
		}
		return Connection{}, fmt.Errorf("check API access: %w", err)
	}
	ident, err := c.Identity(ctx, tok.IdentityURL)
	if err != nil {
		return Connection{}, fmt.Errorf("read identity: %w", err)
	}
	admin, err := c.IsAdmin(ctx)
	if err != nil {
		return Connection{}, fmt.Errorf("check admin rights: %w", err)
	}
	if !admin {
		return Connection{}, refuseNotAdmin(ident.Username)
	}
	orgName, edition := s.organization(ctx, c)
	accessEnc, refreshEnc, err := s.encryptTokens(tenantID, tok)
	if err != nil {
		return Connection{}, err
	}
	budget := 0.5
	if old, err := s.Store.GetConnection(ctx, tenantID); err == nil && old.APIBudget > 0 {
		budget = old.APIBudget // a reconnect keeps the tenant's budget setting
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	sc := store.SalesforceConnection{TenantID: tenantID, Status: store.ConnConnected, LoginURL: st.LoginURL, InstanceURL: tok.InstanceURL,
		OrgID: tok.OrgID(), UserID: tok.UserID(), Username: ident.Username, OrgName: orgName, Edition: edition, IdentityURL: tok.IdentityURL,
		AccessTokenEnc: accessEnc, RefreshTokenEnc: refreshEnc, APIBudget: budget, ConnectedAt: now, UpdatedAt: now}
	if err := s.Store.SaveConnection(ctx, sc); err != nil {
		return Connection{}, err
	}
	saved = true
	s.log().InfoContext(ctx, "salesforce connected", "tenant_id", tenantID, "org_id", sc.OrgID, "username", sc.Username, "edition", edition)
	return view(sc), nil
}

// organization reads the org's name and edition; failures only cost the label.
func (s *Service) organization(ctx context.Context, c *salesforce.Client) (name, edition string) {
	it := c.Query(ctx, "SELECT Name, OrganizationType FROM Organization", salesforce.QueryOptions{})
	for it.Next() {
		r := it.Record()
		name, _ = r["Name"].(string)
		edition, _ = r["OrganizationType"].(string)
	}
	if err := it.Err(); err != nil {
		s.log().WarnContext(ctx, "reading the organization's edition failed", "error", err)
	}
	return name, edition
}

// Tokens are encrypted bound to their tenant and kind, so a ciphertext
// copied to another row or column does not decrypt.
func accessLabel(tenantID string) string  { return "sf-access:" + tenantID }
func refreshLabel(tenantID string) string { return "sf-refresh:" + tenantID }

func (s *Service) encryptTokens(tenantID string, tok salesforce.Token) (accessEnc, refreshEnc string, err error) {
	if tok.AccessToken != "" {
		if accessEnc, err = s.Keyring.Encrypt(tok.AccessToken, accessLabel(tenantID)); err != nil {
			return "", "", err
		}
	}
	refreshEnc, err = s.Keyring.Encrypt(tok.RefreshToken, refreshLabel(tenantID))
	return accessEnc, refreshEnc, err
}

// decryptTokens is encryptTokens undone (an empty access token stays empty).
func (s *Service) decryptTokens(c store.SalesforceConnection) (tok salesforce.Token, err error) {
	if c.AccessTokenEnc != "" {
		if tok.AccessToken, err = s.Keyring.Decrypt(c.AccessTokenEnc, accessLabel(c.TenantID)); err != nil {
			return tok, fmt.Errorf("decrypt access token: %w", err)
		}
	}
	if tok.RefreshToken, err = s.Keyring.Decrypt(c.RefreshTokenEnc, refreshLabel(c.TenantID)); err != nil {
		return tok, fmt.Errorf("decrypt refresh token: %w", err)
	}
	return tok, nil
}

func view(c store.SalesforceConnection) Connection {
	return Connection{Status: c.Status, OrgID: c.OrgID, OrgName: c.OrgName, Edition: c.Edition, InstanceURL: c.InstanceURL,
		UserID: c.UserID, Username: c.Username, LoginURL: c.LoginURL, APIBudget: c.APIBudget, BrokenReason: c.BrokenReason, ConnectedAt: c.ConnectedAt,
		APIUsed: c.APIUsed, APIMax: c.APIMax, APIReadAt: c.APIReadAt}
}

// ErrBadBudget refuses a budget share outside (0, 1].
var ErrBadBudget = errors.New("the API budget share must be more than 0 and at most 1 (1 = the whole daily allocation)")

// SetBudget sets the share of the org's daily API allocation sfsync may
// use (X4; 0.5 by default), for the tenant's next Salesforce client.
func (s *Service) SetBudget(ctx context.Context, tenantID string, share float64) (Connection, error) {
	if !(share > 0 && share <= 1) {
		return Connection{}, ErrBadBudget
	}
	if err := s.Store.SetConnectionBudget(ctx, tenantID, share); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Connection{}, &Refusal{Code: CodeNotConnected, MessageEN: "Salesforce is not connected.", MessageZH: "尚未串接 Salesforce。"}
		}
		return Connection{}, err
	}
	return s.Status(ctx, tenantID)
}

// Status returns a tenant's connection, with Status not_connected when
// there is none.
func (s *Service) Status(ctx context.Context, tenantID string) (Connection, error) {
	c, err := s.Store.GetConnection(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return Connection{Status: store.ConnNotConnected}, nil
	}
	if err != nil {
		return Connection{}, err
	}
	return view(c), nil
}

func (s *Service) client(tok salesforce.Token, budget float64, ts salesforce.TokenSource) (*salesforce.Client, error) {
	opts := s.ClientOptions
	opts.InstanceURL = tok.InstanceURL
	opts.Tokens = ts
	if ts == nil {
		opts.Tokens = salesforce.StaticToken(tok.AccessToken)
	}
	opts.Budget = budget
	if opts.HTTPClient == nil {
		opts.HTTPClient = s.HTTPClient
	}
	if opts.Logger == nil {
		opts.Logger = s.log()
	}
	return salesforce.New(opts)
}

// Client returns a REST client for a connected tenant. Its tokens refresh
// silently; refreshed tokens are stored encrypted; a refresh that
// Salesforce refuses (invalid_grant) marks the connection broken (X5).
func (s *Service) Client(ctx context.Context, tenantID string) (*salesforce.Client, error) {
	sc, err := s.Store.GetConnection(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Refusal{Code: CodeNotConnected, MessageEN: "Salesforce is not connected.", MessageZH: "尚未串接 Salesforce。"}
	}
	if err != nil {
		return nil, err
	}
	if sc.Status == store.ConnBroken {
		return nil, &Refusal{Code: CodeBroken, Err: errors.New(sc.BrokenReason),
			MessageEN: "The Salesforce connection is broken (" + sc.BrokenReason + "). Reconnect to resume syncing.",
			MessageZH: "Salesforce 串接已中斷（" + sc.BrokenReason + "）。請重新串接以繼續同步。"}
	}
	tok, err := s.decryptTokens(sc)
	if err != nil {
		return nil, err
	}
	tok.InstanceURL, tok.IdentityURL = sc.InstanceURL, sc.IdentityURL
	o, err := s.oauth(sc.LoginURL)
	if err != nil {
		return nil, err
	}
	inner := o.TokenSource(tok, func(ctx context.Context, nt salesforce.Token) {
		a, r, err := s.encryptTokens(tenantID, nt)
		if err == nil {
			err = s.Store.UpdateConnectionTokens(context.WithoutCancel(ctx), tenantID, a, r)
		}
		if err != nil {
			s.log().ErrorContext(ctx, "storing refreshed salesforce tokens failed", "tenant_id", tenantID, "error", err)
		}
	})
	ts := &breakOnRevoke{inner: inner, mark: func(ctx context.Context, err error) {
		if merr := s.Store.MarkConnectionBroken(context.WithoutCancel(ctx), tenantID, "Salesforce refused the refresh token (revoked or expired)"); merr != nil {
			s.log().ErrorContext(ctx, "marking connection broken failed", "tenant_id", tenantID, "error", merr)
		}
		s.log().WarnContext(ctx, "salesforce connection broken", "tenant_id", tenantID, "error", err)
	}}
	c, err := s.client(tok, sc.APIBudget, ts)
	if err == nil && sc.APIMax > 0 {
		// The last reading, so that the budget holds from this client's
		// first call, not only from its first answer (X4).
		c.SetUsage(salesforce.Usage{Used: int(sc.APIUsed), Max: int(sc.APIMax), ObservedAt: sc.APIReadAt})
	}
	return c, err
}

// breakOnRevoke marks the connection broken when a refresh is refused.
type breakOnRevoke struct {
	inner salesforce.TokenSource
	mark  func(context.Context, error)
}

func (b *breakOnRevoke) AccessToken(ctx context.Context) (string, error) {
	t, err := b.inner.AccessToken(ctx)
	if errors.Is(err, salesforce.ErrRefreshRevoked) {
		b.mark(ctx, err)
	}
	return t, err
}

func (b *breakOnRevoke) Refresh(ctx context.Context, stale string) (string, error) {
	t, err := b.inner.Refresh(ctx, stale)
	if errors.Is(err, salesforce.ErrRefreshRevoked) {
		b.mark(ctx, err)
	}
	return t, err
}

// Disconnect revokes the tenant's refresh token at Salesforce (best
// effort: a broken or unreachable org must not keep the admin connected)
// and deletes the connection and its tokens locally (S22).
func (s *Service) Disconnect(ctx context.Context, tenantID string) error {
	sc, err := s.Store.GetConnection(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if refresh, err := s.Keyring.Decrypt(sc.RefreshTokenEnc, refreshLabel(tenantID)); err == nil && refresh != "" {
		if o, err := s.oauth(sc.LoginURL); err == nil {
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			if err := o.Revoke(rctx, refresh); err != nil {
				s.log().WarnContext(ctx, "revoking the refresh token at disconnect failed", "tenant_id", tenantID, "error", err)
			}
			cancel()
		}
	}
	if err := s.Store.DeleteConnection(ctx, tenantID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.log().InfoContext(ctx, "salesforce disconnected", "tenant_id", tenantID)
	return nil
}

// RotateKeys re-encrypts every stored token with the keyring's primary
// key, so older keys can then be removed from SFSYNC_SECRET_KEY.
func (s *Service) RotateKeys(ctx context.Context) (rotated int, err error) {
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range conns {
		if !s.Keyring.NeedsRotation(c.RefreshTokenEnc) && (c.AccessTokenEnc == "" || !s.Keyring.NeedsRotation(c.AccessTokenEnc)) {
			continue
		}
		tok, err := s.decryptTokens(c)
		if err != nil {
			return rotated, fmt.Errorf("tenant %s: %w", c.TenantID, err)
		}
		a, r, err := s.encryptTokens(c.TenantID, tok)
		if err != nil {
			return rotated, err
		}
		if err := s.Store.UpdateConnectionTokens(ctx, c.TenantID, a, r); err != nil {
			return rotated, err
		}
		rotated++
	}
	return rotated, nil
}
