package salesforce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Login hosts (SPEC S4). A My Domain URL (https://acme.my.salesforce.com, or
// https://acme--uat.sandbox.my.salesforce.com for a sandbox) works too.
const (
	LoginProduction = "https://login.salesforce.com"
	LoginSandbox    = "https://test.salesforce.com"
)

// DefaultScopes are requested when OAuthConfig.Scopes is empty: REST access
// and a refresh token.
var DefaultScopes = []string{"api", "refresh_token"}

// OAuthConfig configures the OAuth 2.0 web server flow against one login
// host for one connected app.
type OAuthConfig struct {
	// LoginURL is LoginProduction, LoginSandbox or a My Domain URL (scheme
	// and host). http is accepted for loopback hosts only (the emulator).
	LoginURL     string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Scopes       []string
	// HTTPClient defaults to a client with a 30-second timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MaxAttempts and BackoffBase govern retries of transient token
	// endpoint failures (5xx, dropped connections): defaults 3 and 500ms.
	MaxAttempts int
	BackoffBase time.Duration
	// CallClient is sent as Sforce-Call-Options (default "sfsync").
	CallClient string
}

// OAuth runs the OAuth 2.0 flows against one login host. It is safe for
// concurrent use.
type OAuth struct {
	cfg         oauth2.Config
	login       *url.URL
	hc          *http.Client
	log         *slog.Logger
	maxAttempts int
	backoffBase time.Duration
}

// NewOAuth validates c and returns an OAuth for it.
func NewOAuth(c OAuthConfig) (*OAuth, error) {
	login, err := parseBaseURL(c.LoginURL)
	if err != nil {
		return nil, fmt.Errorf("salesforce: login url: %w", err)
	}
	if c.ClientID == "" || c.RedirectURL == "" {
		return nil, errors.New("salesforce: oauth client id and redirect url are required")
	}
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	base := c.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	hc := *base
	hc.Transport = headerTransport{next: base.Transport, callOptions: "client=" + cmpOr(c.CallClient, DefaultCallClient)}
	o := &OAuth{
		cfg: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			RedirectURL:  c.RedirectURL,
			Scopes:       scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:  login.String() + "/services/oauth2/authorize",
				TokenURL: login.String() + "/services/oauth2/token",
				// client_secret_post; auto-detection would send the secret
				// twice on a failure.
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		login:       login,
		hc:          &hc,
		log:         c.Logger,
		maxAttempts: c.MaxAttempts,
		backoffBase: c.BackoffBase,
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.maxAttempts <= 0 {
		o.maxAttempts = 3
	}
	if o.backoffBase <= 0 {
		o.backoffBase = 500 * time.Millisecond
	}
	return o, nil
}

// LoginURL returns the login host's base URL.
func (o *OAuth) LoginURL() string { return o.login.String() }

// NewVerifier returns a fresh PKCE code verifier (32 random bytes,
// base64url). Keep it with the state until the callback.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL returns the login host's authorize URL for the web server
// flow: response_type=code, the configured scopes, state, and the PKCE S256
// challenge of verifier.
func (o *OAuth) AuthCodeURL(state, verifier string) string {
	return o.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Token is what Salesforce's token endpoint returns. It redacts itself when
// printed or logged; store it with encoding/json.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// InstanceURL is the org's base URL for REST calls.
	InstanceURL string `json:"instance_url"`
	// IdentityURL is the "id" field: https://login…/id/{orgId}/{userId}.
	IdentityURL string    `json:"id"`
	IssuedAt    time.Time `json:"issued_at"`
	Scope       string    `json:"scope,omitempty"`
	TokenType   string    `json:"token_type,omitempty"`
}

// OrgID returns the 18-character org ID from the identity URL.
func (t Token) OrgID() string { return identityPart(t.IdentityURL, 2) }

// UserID returns the 18-character user ID from the identity URL.
func (t Token) UserID() string { return identityPart(t.IdentityURL, 1) }

func identityPart(idURL string, fromEnd int) string {
	u, err := url.Parse(idURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return ""
	}
	return parts[len(parts)-fromEnd]
}

// String describes the token without its secrets.
func (t Token) String() string {
	return fmt.Sprintf("salesforce.Token{instance=%s id=%s issued=%s scope=%q access=%s refresh=%s}",
		t.InstanceURL, t.IdentityURL, t.IssuedAt.UTC().Format(time.RFC3339), t.Scope,
		redacted(t.AccessToken), redacted(t.RefreshToken))
}

// GoString is String, so %#v does not print secrets either.
func (t Token) GoString() string { return t.String() }

// LogValue keeps secrets out of slog output.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("instance_url", t.InstanceURL),
		slog.String("id", t.IdentityURL),
		slog.Time("issued_at", t.IssuedAt),
		slog.String("scope", t.Scope),
		slog.String("access_token", redacted(t.AccessToken)),
		slog.String("refresh_token", redacted(t.RefreshToken)),
	)
}

func redacted(s string) string {
	if s == "" {
		return "none"
	}
	return "[redacted]"
}

func tokenFromOAuth2(t *oauth2.Token) Token {
	out := Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType}
	str := func(k string) string { s, _ := t.Extra(k).(string); return s }
	out.InstanceURL = str("instance_url")
	out.IdentityURL = str("id")
	out.Scope = str("scope")
	if ms, err := strconv.ParseInt(str("issued_at"), 10, 64); err == nil {
		out.IssuedAt = time.UnixMilli(ms).UTC()
	}
	return out
}

// Exchange trades the authorization code from the callback for tokens,
// sending the PKCE verifier. A bad, used or expired code, or a wrong
// verifier, gives an *APIError with ErrorCode "invalid_grant".
func (o *OAuth) Exchange(ctx context.Context, code, verifier string) (Token, error) {
	var tok Token
	err := o.retry(ctx, "exchange", func(ctx context.Context) error {
		t, err := o.cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			return oauthError(err)
		}
		tok = tokenFromOAuth2(t)
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	if tok.InstanceURL == "" {
		return Token{}, errors.New("salesforce: token response has no instance_url")
	}
	o.log.InfoContext(ctx, "salesforce authorization code exchanged", "instance_url", tok.InstanceURL, "id", tok.IdentityURL)
	return tok, nil
}

// Refresh obtains a new access token with a refresh token. The result keeps
// refreshToken unless Salesforce rotated it (then the new one is in
// RefreshToken and must be stored). invalid_grant (revoked or expired
// refresh token, inactive user) gives an error matching ErrRefreshRevoked.
func (o *OAuth) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	if refreshToken == "" {
		return Token{}, fmt.Errorf("%w: no refresh token", ErrRefreshRevoked)
	}
	var tok Token
	err := o.retry(ctx, "refresh", func(ctx context.Context) error {
		// An oauth2.Token with no access token is invalid, so the
		// library's refresher always asks the token endpoint.
		t, err := o.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
		if err != nil {
			return oauthError(err)
		}
		tok = tokenFromOAuth2(t)
		return nil
	})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.ErrorCode == "invalid_grant" {
			return Token{}, fmt.Errorf("%w: %w", ErrRefreshRevoked, err)
		}
		return Token{}, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

// Revoke revokes a refresh token (and every access token issued from it) or
// a single access token.
func (o *OAuth) Revoke(ctx context.Context, token string) error {
	return o.retry(ctx, "revoke", func(ctx context.Context) error {
		form := url.Values{"token": {token}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.login.String()+"/services/oauth2/revoke",
			strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := o.hc.Do(req)
		if err != nil {
			return fmt.Errorf("salesforce: revoke: %s", redactURLError(err))
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		ae := decodeError(resp.StatusCode, body)
		ae.Method, ae.Path = http.MethodPost, "/services/oauth2/revoke"
		return ae
	})
}

// retry runs fn until it succeeds, fails permanently, or runs out of
// attempts or time.
func (o *OAuth) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.hc)
	var err error
	for attempt := 1; attempt <= o.maxAttempts; attempt++ {
		if attempt > 1 {
			d := backoffDelay(o.backoffBase, 10*time.Second, attempt-1)
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(d):
			}
		}
		err = fn(ctx)
		if err == nil || ctx.Err() != nil || !Retryable(err) {
			return err
		}
		o.log.DebugContext(ctx, "salesforce oauth retry", "op", what, "attempt", attempt, "error", err)
	}
	return err
}

// oauthError maps x/oauth2 errors to *APIError where Salesforce answered.
func oauthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		ae := &APIError{StatusCode: status, ErrorCode: re.ErrorCode, Message: re.ErrorDescription,
			Method: http.MethodPost, Path: "/services/oauth2/token"}
		if ae.ErrorCode == "" {
			ae = decodeError(status, re.Body)
			ae.Method, ae.Path = http.MethodPost, "/services/oauth2/token"
		}
		return ae
	}
	// Transport errors: keep the type for Retryable but drop URL queries.
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("salesforce: token endpoint: %w", ue.Err)
	}
	return fmt.Errorf("salesforce: token endpoint: %w", err)
}

// RefreshingTokenSource holds one connection's tokens and refreshes the
// access token when the Client reports a 401. Salesforce sends no
// expires_in, so the token is used until Salesforce rejects it.
type RefreshingTokenSource struct {
	o           *OAuth
	onRefreshed func(context.Context, Token)

	mu     sync.Mutex
	tok    Token
	hookMu sync.Mutex
}

// TokenSource returns a TokenSource starting from tok (a stored token; the
// access token may be empty, then the first use refreshes). onRefreshed, if
// not nil, is called with every refreshed token, one call at a time and in
// refresh order (it may call Token, but not Refresh): persist the new access
// token, and the refresh token, which Salesforce may rotate.
func (o *OAuth) TokenSource(tok Token, onRefreshed func(ctx context.Context, tok Token)) *RefreshingTokenSource {
	return &RefreshingTokenSource{o: o, tok: tok, onRefreshed: onRefreshed}
}

// AccessToken returns the current access token, refreshing first if there
// is none.
func (s *RefreshingTokenSource) AccessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	tok := s.tok.AccessToken
	s.mu.Unlock()
	if tok != "" {
		return tok, nil
	}
	return s.Refresh(ctx, "")
}

// Refresh replaces stale with a new access token. Concurrent callers that
// saw the same stale token share one refresh.
func (s *RefreshingTokenSource) Refresh(ctx context.Context, stale string) (string, error) {
	s.mu.Lock()
	if s.tok.AccessToken != "" && s.tok.AccessToken != stale {
		defer s.mu.Unlock()
		return s.tok.AccessToken, nil
	}
	nt, err := s.o.Refresh(ctx, s.tok.RefreshToken)
	if err != nil {
		s.o.log.WarnContext(ctx, "salesforce token refresh failed", "instance_url", s.tok.InstanceURL,
			"revoked", errors.Is(err, ErrRefreshRevoked), "error", err)
		s.mu.Unlock()
		return "", err
	}
	if nt.InstanceURL == "" {
		nt.InstanceURL = s.tok.InstanceURL
	}
	if nt.IdentityURL == "" {
		nt.IdentityURL = s.tok.IdentityURL
	}
	rotated := nt.RefreshToken != s.tok.RefreshToken
	s.tok = nt
	s.o.log.InfoContext(ctx, "salesforce access token refreshed", "instance_url", nt.InstanceURL, "refresh_token_rotated", rotated)
	// The hook runs outside mu (so it may call Token) but under hookMu,
	// taken before mu is released, so hooks run in refresh order.
	s.hookMu.Lock()
	s.mu.Unlock()
	defer s.hookMu.Unlock()
	if s.onRefreshed != nil {
		s.onRefreshed(ctx, nt)
	}
	return nt.AccessToken, nil
}

// Token returns the current tokens.
func (s *RefreshingTokenSource) Token() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}

// headerTransport adds Sforce-Call-Options to the OAuth requests.
type headerTransport struct {
	next        http.RoundTripper
	callOptions string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Sforce-Call-Options", t.callOptions)
	return next.RoundTrip(r2)
}
