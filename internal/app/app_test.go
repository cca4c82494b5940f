package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/tenant"
)

func setup(t *testing.T) (*App, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	cfg, _, err := config.Parse("serve", []string{"--data-dir", dir}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

func get(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServiceRoutes(t *testing.T) {
	t.Parallel()
	a, srv := setup(t)
	if code, body := get(t, srv.URL+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	if code, _ := get(t, srv.URL+"/readyz", ""); code != 200 {
		t.Errorf("/readyz = %d, want 200", code)
	}
	// The JSON API is mounted and scoped by key.
	tn, _ := a.Store.CreateTenant(context.Background(), tenant.Tenant{Name: "Acme", Language: "en"})
	_, key, _ := a.Store.CreateAPIKey(context.Background(), tn.ID, "t")
	if code, body := get(t, srv.URL+"/api/v1/contacts", key); code != 200 || !strings.Contains(body, `"data"`) {
		t.Errorf("/api/v1/contacts = %d %s, want 200 with data", code, body)
	}
	if code, _ := get(t, srv.URL+"/api/v1/contacts", ""); code != 401 {
		t.Errorf("/api/v1/contacts without a key = %d, want 401", code)
	}
	// Metrics count by route pattern, never by raw path.
	get(t, srv.URL+"/api/v1/contacts/c_secret123", key)
	code, body := get(t, srv.URL+"/metrics", "")
	if code != 200 || !strings.Contains(body, `sfsync_http_requests_total{code="200",route="GET /healthz"} 1`) {
		t.Errorf("/metrics = %d, want the /healthz request counted", code)
	}
	if strings.Contains(body, "c_secret123") {
		t.Error("/metrics holds a raw request path")
	}
}

func TestDataDirDefaultsToSQLiteWithKeyFile(t *testing.T) {
	t.Parallel()
	a, _ := setup(t)
	if a.Store.Dialect != "sqlite" || a.Keyring == nil {
		t.Errorf("dialect %s keyring %v, want SQLite and a generated key", a.Store.Dialect, a.Keyring)
	}
}
