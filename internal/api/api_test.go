package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncer"
)

// env is one tenant with an API key in front of a real HTTP server.
type env struct {
	t       *testing.T
	store   *store.Store
	handler http.Handler
	srv     *httptest.Server
	logs    *syncBuffer
	tenant  string
	key     string
}

// setup opens a migrated store of dialect d, makes a tenant with an API
// key, and serves the API over HTTP.
func setup(t *testing.T, d store.Dialect) *env {
	t.Helper()
	s := storetest.Open(t, d)
	logs := &syncBuffer{}
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	kr, _ := secret.NewKeyring(key)
	// The Salesforce routes run the real engine and connection service;
	// no org is connected here (the emulator-backed test connects one).
	conn := &sfconn.Service{Store: s, Keyring: kr, ClientID: "test-client", ClientSecret: "test-secret",
		RedirectURL: "http://127.0.0.1:9/oauth/salesforce/callback", DefaultLoginURL: "https://login.salesforce.com"}
	eng := &syncer.Engine{Store: s, Conn: conn, Logger: slog.New(slog.DiscardHandler)}
	h := NewWithSync(s, slog.New(slog.NewTextHandler(logs, nil)), Sync{Engine: eng, Conn: conn, Alerts: &alert.Service{Store: s, Keyring: kr}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, store: s, handler: h, srv: srv, logs: logs}
	e.tenant, e.key = newTenantKey(t, s, "Acme")
	return e
}

func newTenantKey(t testing.TB, s *store.Store, name string) (tenantID, key string) {
	t.Helper()
	tn := storetest.NewTenant(t, s, name)
	_, secret, err := s.CreateAPIKey(context.Background(), tn.ID, "test")
	if err != nil {
		t.Fatalf("create API key: %v", err)
	}
	return tn.ID, secret
}

// forDialects runs fn as a parallel subtest against each store dialect.
func forDialects(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, d))
		})
	}
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string {
	return http.StatusText(r.status) + " " + string(r.body)
}

// problem decodes a problem+json body, failing the test if it is not one.
func (r response) problem(t *testing.T) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (body %s)", ct, r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.body, err)
	}
	if p.Status != r.status {
		t.Errorf("problem status = %d, want the response status %d", p.Status, r.status)
	}
	return p
}

func (r response) contact(t *testing.T) contactView {
	t.Helper()
	var c contactView
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatalf("decode contact %s: %v", r.body, err)
	}
	return c
}

// do sends a request with the tenant's key. body may be "" for none.
func (e *env) do(method, path, body string) response {
	e.t.Helper()
	return e.doKey(e.key, method, path, body, "application/json")
}

func (e *env) doKey(key, method, path, body, contentType string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// serve calls the handler directly, for bodies too large to send over a
// connection the server is allowed to close early.
func (e *env) serve(method, path string, body io.Reader, contentType string) response {
	e.t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// mustCreate creates a contact through the API and returns it.
func (e *env) mustCreate(body string) contactView {
	e.t.Helper()
	r := e.do("POST", "/api/v1/contacts", body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create %s: got %s, want 201", body, r)
	}
	return r.contact(e.t)
}

func (e *env) mustCustomField(body string) {
	e.t.Helper()
	if r := e.do("POST", "/api/v1/custom-fields", body); r.status != http.StatusCreated {
		e.t.Fatalf("create custom field %s: got %s, want 201", body, r)
	}
}

func (e *env) outbox() []store.OutboxEntry {
	e.t.Helper()
	entries, err := e.store.ListOutbox(context.Background(), e.tenant, 0, 100_000)
	if err != nil {
		e.t.Fatalf("list outbox: %v", err)
	}
	return entries
}

func str(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
