// Package salesforce is sfsync's thin client for Salesforce's REST API: OAuth
// (web server flow with PKCE, refresh, revoke), query paging as a streaming
// iterator, describe, sObject Collections, the replication API, limits,
// Bulk API 2.0 queries, error classification with retries, and enforcement of
// the API budget (SPEC X4).
//
// One Client serves one connection (one org, one integration user). It is
// safe for concurrent use. Every call takes a context and retries transient
// failures with exponential backoff and full jitter, within the context's
// deadline. A 401 INVALID_SESSION_ID triggers exactly one token refresh and
// one retry. REQUEST_LIMIT_EXCEEDED is returned as *LimitError, the local
// budget as *BudgetError, and everything else as *APIError.
//
// Tokens never reach logs: requests are logged by method and path only, and
// Token redacts itself when formatted or logged.
package salesforce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// DefaultCallClient is sent as Sforce-Call-Options: client=<it> on every
// request, so that Salesforce's event logs and CDC changeOrigin name sfsync.
const DefaultCallClient = "sfsync"

// TokenSource supplies a Client's access tokens. *RefreshingTokenSource
// (from OAuth.TokenSource) and StaticToken implement it.
type TokenSource interface {
	// AccessToken returns the current access token.
	AccessToken(ctx context.Context) (string, error)
	// Refresh obtains a new access token after Salesforce rejected stale
	// with 401 INVALID_SESSION_ID. If the current token is no longer stale
	// (another caller refreshed already), it is returned without a refresh.
	Refresh(ctx context.Context, stale string) (string, error)
}

// StaticToken is a TokenSource with a fixed access token that cannot be
// refreshed (for tools and tests).
type StaticToken string

// AccessToken returns the token.
func (s StaticToken) AccessToken(context.Context) (string, error) { return string(s), nil }

// Refresh fails: a static token cannot be refreshed.
func (s StaticToken) Refresh(context.Context, string) (string, error) {
	return "", errors.New("salesforce: static access token cannot be refreshed")
}

// Options configure a Client. InstanceURL and Tokens are required.
type Options struct {
	// InstanceURL is the org's base URL from the token response
	// (instance_url), e.g. https://acme.my.salesforce.com.
	InstanceURL string
	Tokens      TokenSource
	// HTTPClient defaults to one that waits up to 10 minutes for response
	// headers (Salesforce's own request timeout) but sets no overall
	// timeout, since a Bulk API results page is read while the caller
	// processes its rows; bound calls with the context instead. A custom
	// client should not set Timeout either, for the same reason.
	HTTPClient *http.Client
	// Logger defaults to slog.Default(). Requests are logged at debug level
	// by method, path, status and duration only.
	Logger *slog.Logger
	// Budget is the share (0 < Budget <= 1) of the org's daily API
	// allocation that sfsync may use; default 0.5 (SPEC X4).
	Budget float64
	// MaxAttempts bounds the attempts per call for retryable failures
	// (default 5). The one retry after a token refresh is not counted.
	MaxAttempts int
	// BackoffBase is the first retry's maximum delay (default 500ms); each
	// further retry doubles it, up to BackoffMax (default 30s). The delay
	// is drawn uniformly from [0, that bound) ("full jitter").
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// BulkPollInterval is the first delay between Bulk API 2.0 job status
	// polls (default 100ms); it doubles each poll, up to 30s, so a job
	// that is ready in half a second is read then, and a long one costs
	// about as many polls as a slower start would.
	BulkPollInterval time.Duration
	// CallClient is the Sforce-Call-Options client name (default "sfsync").
	CallClient string
	// Now defaults to time.Now; it drives the budget's Until estimate.
	Now func() time.Time
}

// Client talks to one org's REST API as one user.
type Client struct {
	base        *url.URL
	tokens      TokenSource
	hc          *http.Client
	log         *slog.Logger
	budget      float64
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	bulkPoll    time.Duration
	callOptions string
	now         func() time.Time

	calls atomic.Int64
	usage usageTracker

	describeMu sync.Mutex
	describes  map[string]*SObjectDescribe
}

// New returns a Client for opts.InstanceURL.
func New(opts Options) (*Client, error) {
	if opts.Tokens == nil {
		return nil, errors.New("salesforce: Options.Tokens is required")
	}
	base, err := parseBaseURL(opts.InstanceURL)
	if err != nil {
		return nil, fmt.Errorf("salesforce: instance url: %w", err)
	}
	if opts.Budget == 0 {
		opts.Budget = 0.5
	}
	if opts.Budget < 0 || opts.Budget > 1 {
		return nil, fmt.Errorf("salesforce: budget %v out of range (0, 1]", opts.Budget)
	}
	c := &Client{
		base:        base,
		tokens:      opts.Tokens,
		hc:          opts.HTTPClient,
		log:         opts.Logger,
		budget:      opts.Budget,
		maxAttempts: opts.MaxAttempts,
		backoffBase: opts.BackoffBase,
		backoffMax:  opts.BackoffMax,
		bulkPoll:    opts.BulkPollInterval,
		callOptions: "client=" + cmpOr(opts.CallClient, DefaultCallClient),
		now:         opts.Now,
		describes:   map[string]*SObjectDescribe{},
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 5
	}
	if c.backoffBase <= 0 {
		c.backoffBase = 500 * time.Millisecond
	}
	if c.backoffMax <= 0 {
		c.backoffMax = 30 * time.Second
	}
	if c.bulkPoll <= 0 {
		c.bulkPoll = 100 * time.Millisecond
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// InstanceURL returns the org's base URL.
func (c *Client) InstanceURL() string { return c.base.String() }

// Tokens returns the Client's token source: the Pub/Sub API (package
// salesforce/cdc) sends the same access token as gRPC metadata.
func (c *Client) Tokens() TokenSource { return c.tokens }

// Calls returns the number of HTTP requests this Client has sent to
// Salesforce, retries included (the engine reports it per run).
func (c *Client) Calls() int64 { return c.calls.Load() }

// defaultHTTPClient is the HTTP client of every Client given none: one
// transport for the process, so a worker holding a thousand tenants'
// clients (a real-time subscription each, issue 15) keeps one pool of
// idle connections (at most 256, 8 a host) rather than a transport and
// idle connections per tenant.
var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 10 * time.Minute
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: t}
})

func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, fmt.Errorf("%q: want https (http only for loopback hosts)", s)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%q: want scheme and host only", s)
	}
	u.Path = ""
	return u, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// request describes one logical call; do may send it several times, so the
// body is a byte slice that can be replayed.
type request struct {
	method      string
	path        string // "/services/..." (joined to the instance URL) or an absolute URL on a trusted host
	query       url.Values
	body        []byte
	contentType string
	accept      string
	header      map[string]string
	// unsafe marks non-idempotent requests (creates): a transport error
	// after the request may have reached Salesforce is not retried, since
	// Salesforce may have acted on it.
	unsafe bool
	// noAuth sends no Authorization header (GET /services/data/).
	noAuth bool
	// recheck goes through a spent budget: the one call that reads the
	// org's usage again (Limits).
	recheck bool
}

// do sends r, retrying as the package doc describes, and calls handle with
// every 2xx response. handle must consume what it needs of the body; do
// closes it. If handle fails with a transport error (the connection dropped
// mid-body) and r is idempotent, the whole request is retried, so handle
// must tolerate being called again.
func (c *Client) do(ctx context.Context, r request, handle func(*http.Response) error) error {
	u, err := c.resolve(r.path)
	if err != nil {
		return err
	}
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var (
		lastErr    error
		refreshed  bool
		token      string
		retryAfter time.Duration // from the last answer's Retry-After
	)
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		if attempt > 1 {
			if err := c.backoff(ctx, attempt-1, retryAfter); err != nil {
				return fmt.Errorf("%w (giving up retries: %v)", lastErr, err)
			}
			retryAfter = 0
		}
		if err := c.usage.check(c.now(), c.budget); err != nil && !r.recheck {
			return err
		}
		if !r.noAuth {
			if token, err = c.tokens.AccessToken(ctx); err != nil {
				return fmt.Errorf("salesforce: access token: %w", err)
			}
		}
		resp, err := c.send(ctx, r, u, token, attempt)
		if err != nil {
			if ctx.Err() != nil {
				return c.ctxError(r, u, ctx.Err(), lastErr)
			}
			lastErr = fmt.Errorf("salesforce: %s %s: %w", r.method, u.Path, err)
			if !retryableTransport(err) || (r.unsafe && !errors.Is(err, errNotSent)) {
				return lastErr
			}
			continue
		}
		c.usage.record(resp.Header.Get("Sforce-Limit-Info"), c.now())
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			err := handle(resp)
			resp.Body.Close()
			if err == nil {
				return nil
			}
			if ctx.Err() != nil {
				return c.ctxError(r, u, ctx.Err(), lastErr)
			}
			lastErr = fmt.Errorf("salesforce: %s %s: reading response: %w", r.method, u.Path, err)
			if r.unsafe || !retryableTransport(err) {
				return lastErr
			}
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		ae := decodeError(resp.StatusCode, body)
		ae.Method, ae.Path = r.method, u.Path
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !r.noAuth && !refreshed:
			refreshed = true
			if _, err := c.tokens.Refresh(ctx, token); err != nil {
				return fmt.Errorf("salesforce: refreshing access token after %s: %w", cmpOr(ae.ErrorCode, "401"), err)
			}
			attempt-- // the retry after a refresh is not a backoff attempt
			lastErr = ae
			continue
		case ae.ErrorCode == CodeRequestLimitExceeded:
			u := c.usage.snapshot()
			return &LimitError{APIError: ae, Used: u.Used, Max: u.Max}
		case retryableAPIError(ae):
			lastErr = ae
			retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.backoffMax)
			continue
		default:
			return ae
		}
	}
	return lastErr
}

// ctxError reports the caller's context ending, with the error of the
// previous attempt, if any, so that both errors.Is(err,
// context.DeadlineExceeded) and errors.As(err, &apiErr) work.
func (c *Client) ctxError(r request, u *url.URL, ctxErr, lastErr error) error {
	if lastErr != nil {
		return fmt.Errorf("salesforce: %s %s: %w (previous attempt: %w)", r.method, u.Path, ctxErr, lastErr)
	}
	return fmt.Errorf("salesforce: %s %s: %w", r.method, u.Path, ctxErr)
}

// errNotSent marks transport errors where the request cannot have reached
// the server (the connection was refused), so even unsafe requests retry.
var errNotSent = errors.New("request not sent")

func (c *Client) send(ctx context.Context, r request, u *url.URL, token string, attempt int) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(r.body)), nil }
	}
	if !r.noAuth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Sforce-Call-Options", c.callOptions)
	req.Header.Set("Accept", cmpOr(r.accept, "application/json"))
	if r.body != nil {
		req.Header.Set("Content-Type", cmpOr(r.contentType, "application/json"))
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	c.calls.Add(1)
	c.usage.spend()
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "salesforce request failed", "method", r.method, "path", u.Path,
			"attempt", attempt, "duration", time.Since(start), "error", redactURLError(err))
		if isConnRefused(err) {
			return nil, fmt.Errorf("%w: %w", errNotSent, err)
		}
		return nil, err
	}
	c.log.DebugContext(ctx, "salesforce request", "method", r.method, "path", u.Path,
		"status", resp.StatusCode, "attempt", attempt, "duration", time.Since(start))
	return resp, nil
}

// resolve turns a request path into a URL. Absolute URLs (identity URLs,
// which live on the login host) must be https on a Salesforce domain, or on
// the instance's own host, so that the bearer token is never sent elsewhere.
func (c *Client) resolve(p string) (*url.URL, error) {
	if strings.HasPrefix(p, "/") {
		u := *c.base
		ref, err := url.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("salesforce: bad path %q: %w", p, err)
		}
		u.Path, u.RawPath, u.RawQuery = ref.Path, ref.RawPath, ref.RawQuery
		return &u, nil
	}
	u, err := url.Parse(p)
	if err != nil {
		return nil, fmt.Errorf("salesforce: bad url: %w", err)
	}
	if !c.trustedHost(u) {
		return nil, fmt.Errorf("salesforce: refusing to send credentials to %s://%s", u.Scheme, u.Host)
	}
	return u, nil
}

func (c *Client) trustedHost(u *url.URL) bool {
	if u.Scheme == c.base.Scheme && strings.EqualFold(u.Host, c.base.Host) {
		return true
	}
	if u.Scheme != "https" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, suffix := range []string{".salesforce.com", ".force.com", ".salesforce-setup.com", ".cloudforce.com"} {
		if strings.HasSuffix(h, suffix) {
			return true
		}
	}
	return false
}

// backoff sleeps before retry number n (1-based): a uniform random delay in
// [0, min(BackoffMax, BackoffBase·2^(n-1))), but at least atLeast (the
// server's Retry-After). If the context's deadline comes before the delay
// ends, it returns at once with an error: the call will not succeed in
// time, so its last error is more useful than a wait.
func (c *Client) backoff(ctx context.Context, n int, atLeast time.Duration) error {
	d := max(backoffDelay(c.backoffBase, c.backoffMax, n), atLeast)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return errors.New("context deadline is before the next retry")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header in seconds, capped at limit.
func parseRetryAfter(h string, limit time.Duration) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || secs <= 0 {
		return 0
	}
	return min(time.Duration(secs)*time.Second, limit)
}

func backoffDelay(base, limit time.Duration, n int) time.Duration {
	ceiling := base
	for i := 1; i < n && ceiling < limit; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, limit)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// redactURLError drops the URL's query string from *url.Error messages
// (SOQL in q= may carry personal data).
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return fmt.Sprintf("%s %q: %v", ue.Op, u.String(), ue.Err)
		}
	}
	return err.Error()
}

func isConnRefused(err error) bool {
	return strings.Contains(err.Error(), "connection refused")
}

// versionPath joins parts under /services/data/vXX.X.
func versionPath(parts ...string) string {
	var b strings.Builder
	b.WriteString(sfapi.VersionPath)
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}
