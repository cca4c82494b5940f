package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestServeHTTPEndsLongRequests: a request that lasts until its context
// ends (the admin UI's progress stream) does not hold the shutdown for
// the full timeout nor make it fail; requests are told to end a few
// seconds after the signal.
func TestServeHTTPEndsLongRequests(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, ended := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		close(started)
		<-r.Context().Done()
		close(ended)
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serveHTTP(ctx, ln, h, slog.New(slog.DiscardHandler)) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-started
	stop := time.Now()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("serveHTTP returned %v, want nil", err)
		}
	case <-time.After(9 * time.Second):
		t.Fatal("serveHTTP still running 9 s after the signal, want it done after about 5 s")
	}
	select {
	case <-ended:
	default:
		t.Error("the long request was not told to end")
	}
	if d := time.Since(stop); d > 8*time.Second {
		t.Errorf("shutdown took %v, want about 5 s", d)
	}
}

// TestServeTellsSetup: on a database without any admin, serve prints the
// commands that create a tenant and an admin.
func TestServeTellsSetup(t *testing.T) {
	t.Parallel()
	cfg, _, err := config.Parse("serve", []string{"--data-dir", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var out strings.Builder
	tellSetup(context.Background(), a, cfg, &out)
	for _, want := range []string{"No admin exists yet", "sfsync tenant create --name", "sfsync admin create --tenant TENANT_ID", cfg.BaseURL + "/login"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve's setup message lacks %q; got:\n%s", want, out.String())
		}
	}
	tn, err := a.Store.CreateTenant(context.Background(), tenant.Tenant{Name: "Shop", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.CreateAdmin(context.Background(), tn.ID, "a@shop.test", "a-long-password-1"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	tellSetup(context.Background(), a, cfg, &out)
	if out.Len() != 0 {
		t.Errorf("with an admin, serve printed %q, want nothing", out.String())
	}
}

// TestServeDebugProfiles: SFSYNC_DEBUG_ADDR serves Go's profiles, but not
// the command line, which may carry a secret key given as a flag.
func TestServeDebugProfiles(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := serveDebug(ctx, addr, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "serveDebug") {
		t.Errorf("goroutine profile: %d %.200s", code, body)
	}
	if code, body := get("/debug/pprof/cmdline"); code == http.StatusOK || strings.Contains(body, os.Args[0]) {
		t.Errorf("the command line is served: %d %.200s", code, body)
	}
}
