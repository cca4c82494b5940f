package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/tenant"
)

// lockedBuffer is written by the emulator goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestEmulator_pairsWithServe starts `sfsync emulator` with no --callback
// and checks that the callback `sfsync serve` sends with the same
// environment is accepted: the authorize page answers with the login form,
// not redirect_uri_mismatch (issue 12: the emulator registered
// /oauth/callback, which sfsync never uses).
func TestEmulator_pairsWithServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string // callbacks the emulator must print
	}{
		{"defaults", nil, []string{"http://127.0.0.1:8080/oauth/salesforce/callback", "http://localhost:8080/oauth/salesforce/callback"}},
		{"SFSYNC_ADDR", map[string]string{"SFSYNC_ADDR": "127.0.0.1:9191"}, []string{"http://127.0.0.1:9191/oauth/salesforce/callback"}},
		{"SFSYNC_BASE_URL", map[string]string{"SFSYNC_BASE_URL": "https://sync.example.com/"}, []string{"https://sync.example.com/oauth/salesforce/callback"}},
		{"bad setting falls back to defaults", map[string]string{"SFSYNC_WORKERS": "lots"}, []string{"http://127.0.0.1:8080/oauth/salesforce/callback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			info := startEmulator(t, getenv)
			base := regexp.MustCompile(`instance URL:\s+(\S+)`).FindStringSubmatch(info)[1]
			clientID := regexp.MustCompile(`client id:\s+(\S+)`).FindStringSubmatch(info)[1]
			for _, cb := range tt.want {
				if !strings.Contains(info, "callback URL:   "+cb+"\n") {
					t.Errorf("got no callback line for %s:\n%s", cb, info)
				}
			}
			cfg, _, err := config.Parse("serve", nil, getenv)
			if err != nil {
				cfg, _, err = config.Parse("serve", nil, func(string) string { return "" })
				if err != nil {
					t.Fatal(err)
				}
			}
			q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {app.CallbackURL(cfg)},
				"scope": {"api refresh_token"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
			res, err := http.Get(base + "/services/oauth2/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(page), `id="login_form"`) {
				t.Errorf("authorize with serve's callback %s: got %d %s, want the login form", app.CallbackURL(cfg), res.StatusCode, page)
			}
		})
	}
}

// startEmulator runs `sfsync emulator` in-process until the test ends and
// returns what it printed once it is listening.
func startEmulator(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, args...), &out, getenv) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulator: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// The sf CLI line is the last one printed.
		if s := out.String(); strings.Contains(s, "sf org login access-token") {
			return s
		}
	}
	t.Fatalf("the emulator printed no credentials: %s", out.String())
	return ""
}

// TestEmulator_serveConnects pairs a standalone emulator with sfsync
// serve's own wiring (app.Open with the settings the emulator printed):
// a tenant connects through the emulator's login page and the callback
// serve uses, as the README shows.
func TestEmulator_serveConnects(t *testing.T) {
	t.Parallel()
	info := startEmulator(t, func(string) string { return "" }, "--contacts", "3")
	env := map[string]string{"SFSYNC_DATA_DIR": t.TempDir()}
	for _, m := range regexp.MustCompile(`(?m)^export (SFSYNC_\w+)=(\S+)$`).FindAllStringSubmatch(info, -1) {
		env[m[1]] = strings.Trim(m[2], "'")
	}
	if len(env) != 4 {
		t.Fatalf("got settings %v, want the login URL, client id and secret:\n%s", env, info)
	}
	admin := regexp.MustCompile(`admin username:\s+(\S+)`).FindStringSubmatch(info)[1]
	password := regexp.MustCompile(`admin password:\s+(\S+)`).FindStringSubmatch(info)[1]

	ctx := context.Background()
	cfg, _, err := config.Parse("serve", nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	tn, err := a.Store.CreateTenant(ctx, tenant.Tenant{Name: "Shop", Language: "en", Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := a.Conn.Start(ctx, tn.ID, "session:pair", "")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}

	// A browser: log in, allow, and stop at serve's callback.
	callback := app.CallbackURL(cfg)
	jar, _ := cookiejar.New(nil)
	var back *url.URL
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), callback) {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	hidden := regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	res, err := c.Get(authURL)
	for step := 0; err == nil && back == nil && step < 3; step++ {
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		form := url.Values{"action": {"allow"}}
		if strings.Contains(string(page), `id="login_form"`) {
			form = url.Values{"action": {"login"}, "username": {admin}, "password": {password}}
		} else if !strings.Contains(string(page), "Allow Access?") {
			t.Fatalf("step %d: got %d %s, want the login or consent page", step, res.StatusCode, page)
		}
		for _, m := range hidden.FindAllStringSubmatch(string(page), -1) {
			form.Set(m[1], strings.ReplaceAll(m[2], "&amp;", "&"))
		}
		res, err = c.PostForm(env["SFSYNC_SALESFORCE_LOGIN_URL"]+"/services/oauth2/authorize", form)
	}
	if err != nil {
		t.Fatal(err)
	}
	if back == nil {
		t.Fatalf("never redirected to serve's callback %s", callback)
	}
	conn, err := a.Conn.Finish(ctx, tn.ID, "session:pair", sfconn.CallbackParams{State: back.Query().Get("state"), Code: back.Query().Get("code"), Error: back.Query().Get("error")})
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if conn.Status != store.ConnConnected || conn.InstanceURL != env["SFSYNC_SALESFORCE_LOGIN_URL"] || conn.Username != admin {
		t.Errorf("connection: got %+v, want connected to %s as %s", conn, env["SFSYNC_SALESFORCE_LOGIN_URL"], admin)
	}
}
