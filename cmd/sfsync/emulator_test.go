package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
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
			ctx, cancel := context.WithCancel(context.Background())
			var out lockedBuffer
			done := make(chan error, 1)
			go func() { done <- run(ctx, []string{"emulator", "--addr", "127.0.0.1:0"}, &out, getenv) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("emulator: %v", err)
				}
			})
			var base, clientID string
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && clientID == ""; time.Sleep(20 * time.Millisecond) {
				s := out.String()
				if !strings.Contains(s, "side door:") {
					continue
				}
				base = regexp.MustCompile(`instance URL:\s+(\S+)`).FindStringSubmatch(s)[1]
				clientID = regexp.MustCompile(`client id:\s+(\S+)`).FindStringSubmatch(s)[1]
			}
			if clientID == "" {
				t.Fatalf("the emulator printed no credentials: %s", out.String())
			}
			for _, cb := range tt.want {
				if !strings.Contains(out.String(), "callback URL:   "+cb+"\n") {
					t.Errorf("got no callback line for %s:\n%s", cb, out.String())
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
