package main

import (
	"context"
	"io"
	"net/url"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/sfemu"
)

func emulator(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	return sfemu.Main(ctx, args, stdout, serveCallbacks(getenv))
}

// serveCallbacks is the OAuth callback `sfsync serve` sends with the same
// environment (app.CallbackURL), so a standalone
// emulator pairs with it out of the box. For the default base URL
// http://127.0.0.1:8080 the localhost spelling is accepted too, since a
// browser may open either.
func serveCallbacks(getenv func(string) string) []string {
	cfg, _, err := config.Parse("serve", nil, getenv)
	if err != nil {
		// A bad SFSYNC_* setting stops serve with its own message; the
		// emulator falls back to serve's defaults.
		cfg, _, err = config.Parse("serve", nil, func(string) string { return "" })
		if err != nil {
			return nil
		}
	}
	cbs := []string{app.CallbackURL(cfg)}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() == "127.0.0.1" {
		port := u.Port()
		u.Host = "localhost"
		if port != "" {
			u.Host += ":" + port
		}
		cbs = append(cbs, u.String()+app.CallbackPath)
	}
	return cbs
}
