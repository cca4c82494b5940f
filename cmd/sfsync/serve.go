package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
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
	if err := a.StartWorkers(ctx); err != nil {
		return fmt.Errorf("start sync workers: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (SFSYNC_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("sfsync serving", "version", app.Version, "addr", "http://"+ln.Addr().String(), "database", a.Store.Dialect)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

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
	if a.Store.Dialect != "postgres" {
		logger.Warn("sfsync worker with SQLite: run it as the only process on this database (sfsync serve already runs workers)")
	}
	if err := a.StartWorkers(ctx); err != nil {
		return fmt.Errorf("start sync workers: %w", err)
	}
	logger.Info("sfsync worker running", "version", app.Version, "database", a.Store.Dialect, "workers", cfg.Workers)
	<-ctx.Done()
	logger.Info("worker stopping")
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
