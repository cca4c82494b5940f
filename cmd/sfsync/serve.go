package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/gctune"
	"github.com/sfsync/sfsync/internal/web"
)

func version() string { return app.Version }

// openApp parses the command's configuration and opens the application
// (store, migrations, keyring, engine); the caller closes it.
func openApp(ctx context.Context, name string, args []string, getenv func(string) string) (*app.App, *config.Config, error) {
	cfg, _, err := config.Parse(name, args, getenv)
	if err != nil {
		return nil, cfg, err
	}
	a, err := app.Open(ctx, cfg, cfg.Logger())
	return a, cfg, err
}

func serve(ctx context.Context, args []string, getenv func(string) string) error {
	a, cfg, err := openApp(ctx, "serve", args, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	logger := a.Logger
	tuneGC(ctx, getenv, logger)
	if err := a.StartWorkers(ctx); err != nil {
		return fmt.Errorf("start sync workers: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (SFSYNC_ADDR): %w", cfg.Addr, err)
	}
	logger.Info("sfsync serving", "version", app.Version, "addr", "http://"+ln.Addr().String(), "database", a.Store.Dialect)
	if err := serveDebug(ctx, cfg.DebugAddr, logger); err != nil {
		return err
	}
	tellSetup(ctx, a, cfg, os.Stderr)
	return serveHTTP(ctx, ln, a.Handler(), logger)
}

// tuneGC lets the collector run less often while the heap is small
// (gctune), unless GOGC or GOMEMLIMIT is set.
func tuneGC(ctx context.Context, getenv func(string) string, logger *slog.Logger) {
	if gctune.Tune(ctx, getenv, gctune.Floor) {
		logger.Debug("collector tuned", "gogc", gctune.GCPercent, "memory_limit_floor_mib", gctune.Floor>>20)
	} else {
		logger.Info("collector left to GOGC / GOMEMLIMIT")
	}
}

// serveHTTP serves h on ln until ctx ends, then shuts the server down:
// no new connections, requests in flight get a few seconds, and
// long-lived ones (the progress stream) are then told to end, so the
// process exits well within 30 s of SIGTERM. Meanwhile the workers stop
// on the same signal (see App.Close).
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
	srv.RegisterOnShutdown(func() { time.AfterFunc(5*time.Second, cancelBase) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: no new requests or jobs", "addr", ln.Addr().String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("HTTP connections still open at shutdown were closed", "error", err)
	}
	return nil
}

// serveDebug serves Go's runtime profiles on addr (SFSYNC_DEBUG_ADDR, a
// loopback address) until ctx ends; nothing when addr is empty. The
// command line is left out: it may carry a secret key given as a flag.
func serveDebug(ctx context.Context, addr string, logger *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (SFSYNC_DEBUG_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	logger.Info("serving Go's profiles", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	go func() {
		if err := serveHTTP(ctx, ln, mux, logger); err != nil {
			logger.Warn("the profiles' server stopped", "error", err)
		}
	}()
	return nil
}

// tellSetup tells the operator of an installation without any admin how
// to create the first tenant and admin: in the log, and as plain text on
// w (the login page shows the same).
func tellSetup(ctx context.Context, a *app.App, cfg *config.Config, w io.Writer) {
	tenants, admins, err := a.Store.SetupState(ctx)
	if err != nil || admins > 0 {
		return
	}
	cmds := web.SetupCommands(tenants)
	a.Logger.Warn("no admin exists yet: create a tenant and an admin with the sfsync commands below (same settings as this server), then sign in",
		"login_url", cfg.BaseURL+"/login", "tenants", tenants, "commands", strings.Split(strings.TrimSpace(cmds), "\n"))
	fmt.Fprintf(w, "\n*** No admin exists yet. With this server's settings (SFSYNC_DATABASE_URL or --data-dir), run:\n\n")
	for line := range strings.SplitSeq(strings.TrimSpace(cmds), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
	fmt.Fprintf(w, "\n    (TENANT_ID is the ID that tenant list prints), then sign in at %s/login\n\n", cfg.BaseURL)
}

// migrate applies the store's and River's migrations (app.Open does), so
// that an upgrade can migrate once before any new process starts.
func migrate(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	a, _, err := openApp(ctx, "migrate", args, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(stdout, "database (%s) is up to date\n", a.Store.Dialect)
	return nil
}

// worker runs the sync workers without the web server; several worker
// processes on one PostgreSQL database share the jobs.
func worker(ctx context.Context, args []string, getenv func(string) string) error {
	a, cfg, err := openApp(ctx, "worker", args, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	logger := a.Logger
	tuneGC(ctx, getenv, logger)
	if a.Store.Dialect != "postgres" {
		logger.Warn("sfsync worker with SQLite: run it as the only process on this database (sfsync serve already runs workers)")
	}
	if err := a.StartWorkers(ctx); err != nil {
		return fmt.Errorf("start sync workers: %w", err)
	}
	logger.Info("sfsync worker running", "version", app.Version, "database", a.Store.Dialect, "workers", cfg.Workers)
	if err := serveDebug(ctx, cfg.DebugAddr, logger); err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		// Health and metrics only: a worker serves no UI or API.
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (SFSYNC_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
		logger.Info("serving /healthz, /readyz and /metrics", "addr", "http://"+ln.Addr().String())
		if err := serveHTTP(ctx, ln, a.OpsHandler(), logger); err != nil {
			return err
		}
	}
	<-ctx.Done()
	logger.Info("worker stopping: no new jobs; running ones get the shutdown grace", "grace", cfg.ShutdownGrace)
	return nil
}

func rotateKey(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	a, _, err := openApp(ctx, "rotate-key", args, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.Conn.RotateKeys(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d connection(s) re-encrypted with key %s\n", n, a.Keyring.PrimaryID())
	return nil
}
