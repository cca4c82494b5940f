package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// setup starts handler on a test server and returns a Client for it with
// fast backoff. Options can be adjusted by mod before the Client is built.
func setup(t testing.TB, handler http.Handler, mod ...func(*Options)) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	opts := Options{
		InstanceURL:      srv.URL,
		Tokens:           StaticToken("tok-static"),
		HTTPClient:       srv.Client(),
		Logger:           slog.New(slog.DiscardHandler),
		BackoffBase:      time.Millisecond,
		BackoffMax:       5 * time.Millisecond,
		BulkPollInterval: time.Millisecond,
	}
	for _, m := range mod {
		m(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client under test reports a short body
}

func sfError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []map[string]any{{"errorCode": code, "message": msg}})
}

// dropConnection closes the client's connection without an HTTP answer.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Errorf("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantMsg    string
		wantFields []string
	}{
		{"rest array", 400, `[ { "message" : "Email: invalid email address: x", "errorCode" : "INVALID_EMAIL_ADDRESS", "fields" : [ "Email" ] } ]`,
			"INVALID_EMAIL_ADDRESS", "Email: invalid email address: x", []string{"Email"}},
		{"array without fields", 404, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`,
			"NOT_FOUND", "The requested resource does not exist", nil},
		{"single object", 401, `{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}`,
			"INVALID_SESSION_ID", "Session expired or invalid", nil},
		{"oauth body", 400, `{"error":"invalid_grant","error_description":"expired access/refresh token"}`,
			"invalid_grant", "expired access/refresh token", nil},
		{"html page", 502, "<html>\n<body>Bad   Gateway</body></html>", "", "<html> <body>Bad Gateway</body></html>", nil},
		{"empty", 503, "", "", "Service Unavailable", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := decodeError(tt.status, []byte(tt.body))
			if e.StatusCode != tt.status || e.ErrorCode != tt.wantCode || e.Message != tt.wantMsg {
				t.Errorf("got (%d, %q, %q), want (%d, %q, %q)", e.StatusCode, e.ErrorCode, e.Message, tt.status, tt.wantCode, tt.wantMsg)
			}
			if fmt.Sprint(e.Fields) != fmt.Sprint(tt.wantFields) {
				t.Errorf("fields: got %v, want %v", e.Fields, tt.wantFields)
			}
		})
	}
}

func TestRetryableClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&APIError{StatusCode: 503, ErrorCode: "SERVER_UNAVAILABLE"}, true},
		{&APIError{StatusCode: 500, ErrorCode: "UNKNOWN_EXCEPTION"}, true},
		{&APIError{StatusCode: 400, ErrorCode: "UNABLE_TO_LOCK_ROW"}, true},
		{&APIError{StatusCode: 429}, true},
		{&APIError{StatusCode: 400, ErrorCode: "INVALID_FIELD"}, false},
		{&APIError{StatusCode: 404, ErrorCode: "NOT_FOUND"}, false},
		{&LimitError{APIError: &APIError{StatusCode: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED"}}, false},
		{&BudgetError{}, false},
		{fmt.Errorf("wrapped: %w", io.ErrUnexpectedEOF), true},
		{context.Canceled, false},
		{errors.New("something else"), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestEveryRequestSendsCallOptionsAndBearer(t *testing.T) {
	t.Parallel()
	var bad atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Sforce-Call-Options"); got != "client=sfsync" {
			bad.Add(1)
			t.Errorf("%s: Sforce-Call-Options: got %q, want %q", r.URL.Path, got, "client=sfsync")
		}
		if r.URL.Path != "/services/data/" {
			if got := r.Header.Get("Authorization"); got != "Bearer tok-static" {
				t.Errorf("%s: Authorization: got %q, want %q", r.URL.Path, got, "Bearer tok-static")
			}
		}
		switch r.URL.Path {
		case "/services/data/":
			writeJSON(w, 200, []APIVersion{{Label: "Winter '25", URL: sfapi.VersionPath, Version: sfapi.Version}})
		default:
			writeJSON(w, 200, map[string]any{"DailyApiRequests": map[string]any{"Max": 15000, "Remaining": 14000, "Workbench": map[string]any{"Max": 0, "Remaining": 0}}})
		}
	}))
	ctx := t.Context()
	vs, err := c.Versions(ctx)
	if err != nil || len(vs) != 1 || vs[0].Version != sfapi.Version {
		t.Fatalf("Versions: got %v, %v, want one %s", vs, err, sfapi.Version)
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		t.Fatalf("Limits: %v", err)
	}
	if got := lim["DailyApiRequests"]; got != (Limit{Max: 15000, Remaining: 14000}) {
		t.Errorf("DailyApiRequests: got %+v, want {15000 14000}", got)
	}
	if got := c.Calls(); got != 2 {
		t.Errorf("Calls: got %d, want 2", got)
	}
}

func TestRetries503ThenSucceeds(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			sfError(w, 503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
			return
		}
		writeJSON(w, 200, map[string]any{})
	}))
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("Limits: got %v, want success after retries", err)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("requests: got %d, want 3", got)
	}
	if got := c.Calls(); got != 3 {
		t.Errorf("Calls: got %d, want 3 (retries count)", got)
	}
}

func TestRetriesDroppedConnection(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			dropConnection(t, w)
		case 2:
			// Headers sent, then the body is cut short.
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			io.WriteString(w, `{"DailyApiRequests":`)
			w.(http.Flusher).Flush()
			dropConnection(t, w)
		default:
			writeJSON(w, 200, map[string]any{"DailyApiRequests": map[string]int{"Max": 5, "Remaining": 4}})
		}
	}))
	lim, err := c.Limits(t.Context())
	if err != nil {
		t.Fatalf("Limits: got %v, want success after two drops", err)
	}
	if lim["DailyApiRequests"].Max != 5 {
		t.Errorf("Max: got %d, want 5", lim["DailyApiRequests"].Max)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("requests: got %d, want 3", got)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		sfError(w, 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
	}), func(o *Options) { o.MaxAttempts = 4 })
	_, err := c.Limits(t.Context())
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != CodeUnableToLockRow {
		t.Fatalf("got %v, want APIError UNABLE_TO_LOCK_ROW", err)
	}
	if !Retryable(err) {
		t.Errorf("Retryable: got false, want true")
	}
	if got := n.Load(); got != 4 {
		t.Errorf("requests: got %d, want 4", got)
	}
}

func TestPermanentErrorNotRetried(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		sfError(w, 400, "INVALID_FIELD", "No such column 'Foo' on sobject of type Contact")
	}))
	_, err := c.GetRecord(t.Context(), "Contact", "0035e00000XyZabAAF", "Foo")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.ErrorCode != "INVALID_FIELD" {
		t.Fatalf("got %v, want 400 INVALID_FIELD", err)
	}
	if ae.Path != sfapi.VersionPath+"/sobjects/Contact/0035e00000XyZabAAF" || ae.Method != "GET" {
		t.Errorf("request: got %s %s, want GET .../sobjects/Contact/0035e00000XyZabAAF", ae.Method, ae.Path)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("requests: got %d, want 1", got)
	}
}

func TestRetryStopsAtContextDeadline(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		sfError(w, 503, "SERVER_UNAVAILABLE", "down")
	}), func(o *Options) {
		o.MaxAttempts = 100
		o.BackoffBase = 40 * time.Millisecond
		o.BackoffMax = 40 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Limits(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("got %v, want the last 503", err)
	}
	// Stopping early means: before the deadline plus scheduling slack on a
	// loaded machine, instead of after 100 attempts (≥ 2s of backoff).
	if el := time.Since(start); el > 800*time.Millisecond {
		t.Errorf("took %v, want to stop at the 500ms deadline", el)
	}
	if got := n.Load(); got < 2 || got > 50 {
		t.Errorf("requests: got %d, want a few", got)
	}
}

func TestBackoffDelayFullJitter(t *testing.T) {
	t.Parallel()
	base, limit := 100*time.Millisecond, time.Second
	for n, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 9: time.Second} {
		var maxSeen time.Duration
		for range 2000 {
			d := backoffDelay(base, limit, n)
			if d < 0 || d >= ceiling {
				t.Fatalf("retry %d: got %v, want in [0, %v)", n, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < ceiling/2 {
			t.Errorf("retry %d: largest of 2000 delays %v, want above %v (jitter spans the range)", n, maxSeen, ceiling/2)
		}
	}
}

// countingTokens is a TokenSource whose refresh hands out tok-1, tok-2, …
type countingTokens struct {
	mu        sync.Mutex
	cur       string
	refreshes int
	failWith  error
}

func (s *countingTokens) AccessToken(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, nil
}

func (s *countingTokens) Refresh(_ context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return "", s.failWith
	}
	if s.cur != stale {
		return s.cur, nil
	}
	s.refreshes++
	s.cur = fmt.Sprintf("tok-%d", s.refreshes)
	return s.cur, nil
}

func TestRefreshOn401ReplaysBody(t *testing.T) {
	t.Parallel()
	tokens := &countingTokens{cur: "tok-0"}
	var bodies []string
	var mu sync.Mutex
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			sfError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		writeJSON(w, 200, []map[string]any{{"id": "0035e00000XyZabAAF", "success": true, "errors": []any{}}})
	}), func(o *Options) { o.Tokens = tokens })
	res, err := c.UpdateRecords(t.Context(), "Contact", []Record{{"Id": "0035e00000XyZabAAF", "LastName": "Chen"}})
	if err != nil {
		t.Fatalf("UpdateRecords: %v", err)
	}
	if len(res) != 1 || !res[0].Success {
		t.Errorf("results: got %+v, want one success", res)
	}
	if tokens.refreshes != 1 {
		t.Errorf("refreshes: got %d, want 1", tokens.refreshes)
	}
	if len(bodies) != 2 || bodies[0] != bodies[1] || !strings.Contains(bodies[1], `"LastName":"Chen"`) {
		t.Errorf("bodies: got %q, want the same body twice", bodies)
	}
}

func TestSecond401IsNotRefreshedAgain(t *testing.T) {
	t.Parallel()
	tokens := &countingTokens{cur: "tok-0"}
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		sfError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
	}), func(o *Options) { o.Tokens = tokens })
	_, err := c.Limits(t.Context())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.ErrorCode != CodeInvalidSession {
		t.Fatalf("got %v, want 401 INVALID_SESSION_ID", err)
	}
	if tokens.refreshes != 1 || n.Load() != 2 {
		t.Errorf("got %d refreshes and %d requests, want 1 and 2", tokens.refreshes, n.Load())
	}
}

func TestRefreshFailureSurfaces(t *testing.T) {
	t.Parallel()
	revoked := fmt.Errorf("%w: %w", ErrRefreshRevoked, &APIError{StatusCode: 400, ErrorCode: "invalid_grant"})
	tokens := &countingTokens{cur: "tok-0", failWith: revoked}
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sfError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
	}), func(o *Options) { o.Tokens = tokens })
	_, err := c.Limits(t.Context())
	if !errors.Is(err, ErrRefreshRevoked) {
		t.Fatalf("got %v, want ErrRefreshRevoked", err)
	}
	if Retryable(err) {
		t.Errorf("Retryable: got true, want false")
	}
}

func TestLimitExceededIsTypedAndNotRetried(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Sforce-Limit-Info", "api-usage=15001/15000")
		sfError(w, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	}), func(o *Options) { o.Budget = 1 })
	_, err := c.Limits(t.Context())
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("got %T %v, want *LimitError", err, err)
	}
	if le.Used != 15001 || le.Max != 15000 || le.StatusCode != 403 {
		t.Errorf("got used %d max %d status %d, want 15001 15000 403", le.Used, le.Max, le.StatusCode)
	}
	if n.Load() != 1 {
		t.Errorf("requests: got %d, want 1", n.Load())
	}
}

func TestAPIDisabledSentinel(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != sfapi.VersionPath+"/" {
			t.Errorf("path: got %s, want %s/", r.URL.Path, sfapi.VersionPath)
		}
		sfError(w, 403, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.")
	}))
	err := c.CheckAPIAccess(t.Context())
	if !errors.Is(err, ErrAPIDisabled) {
		t.Fatalf("got %v, want ErrAPIDisabled", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 {
		t.Errorf("got %v, want a 403 *APIError", err)
	}
}

func TestNotFoundSentinel(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sfError(w, 404, "NOT_FOUND", "The requested resource does not exist")
	}))
	_, err := c.GetRecord(t.Context(), "Contact", "0035e00000XyZabAAF")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{
		{InstanceURL: "https://acme.my.salesforce.com"},
		{InstanceURL: "http://acme.my.salesforce.com", Tokens: StaticToken("x")},
		{InstanceURL: "https://acme.my.salesforce.com/path", Tokens: StaticToken("x")},
		{InstanceURL: "https://acme.my.salesforce.com", Tokens: StaticToken("x"), Budget: 1.5},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v): got nil error, want one", o)
		}
	}
	c, err := New(Options{InstanceURL: "https://acme.my.salesforce.com/", Tokens: StaticToken("x")})
	if err != nil || c.InstanceURL() != "https://acme.my.salesforce.com" || c.Budget() != 0.5 {
		t.Errorf("New: got %v, %v, want instance without slash and budget 0.5", c, err)
	}
}

func TestIdentityURLHostMustBeTrusted(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, srv := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if got := r.URL.Query().Get("version"); got != sfapi.Version {
			t.Errorf("version: got %q, want %q", got, sfapi.Version)
		}
		writeJSON(w, 200, map[string]any{"id": "x", "user_id": "005000000000001AAA", "organization_id": "00D000000000001AAA",
			"username": "ada@acme.com", "urls": map[string]string{"rest": "https://acme/services/data/v62.0/"}})
	}))
	if _, err := c.Identity(t.Context(), "https://evil.example.com/id/00D/005"); err == nil {
		t.Errorf("Identity on a foreign host: got nil error, want refusal")
	}
	if _, err := c.Identity(t.Context(), "http://login.salesforce.com/id/00D/005"); err == nil {
		t.Errorf("Identity over http: got nil error, want refusal")
	}
	if n.Load() != 0 {
		t.Fatalf("requests: got %d, want 0", n.Load())
	}
	id, err := c.Identity(t.Context(), srv.URL+"/id/00D000000000001AAA/005000000000001AAA")
	if err != nil || id.Username != "ada@acme.com" || id.URLs["rest"] == "" {
		t.Errorf("Identity: got %+v, %v, want ada@acme.com with urls", id, err)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			sfError(w, 429, "", "slow down")
			return
		}
		writeJSON(w, 200, map[string]any{})
	}), func(o *Options) { o.BackoffMax = 2 * time.Second })
	start := time.Now()
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("Limits: %v", err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %v, want at least the 1s Retry-After", el)
	}
}
