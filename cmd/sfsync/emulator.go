package main

import (
	"net"
	"os"

	"context"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
	"io"
	"net/url"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/sfemu"
)

func emulator(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	return sfemu.Main(ctx, args, stdout, serveCallbacks(getenv), servePubSub)
}

// servePubSub serves the emulator's Pub/Sub API (Change Data Capture) for
// --pubsub-addr, with --tls-cert/--tls-key when given, else a generated
// certificate written to the temporary directory for clients to trust.
func servePubSub(ctx context.Context, inst *sfemu.Instance, cfg sfemu.Config, listening func(addr, certFile string)) error {
	sc := pubsub.ServerConfig{Addr: cfg.PubSubAddr, CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile}
	certFile := cfg.TLSCertFile
	if certFile == "" {
		host, _, _ := net.SplitHostPort(cfg.PubSubAddr)
		sc.Hosts = []string{"127.0.0.1", "localhost", "::1"}
		if host != "" && host != "0.0.0.0" && host != "::" {
			sc.Hosts = append(sc.Hosts, host)
		}
		f, err := os.CreateTemp("", "sfsync-emulator-pubsub-*.pem")
		if err != nil {
			return err
		}
		f.Close()
		certFile = f.Name()
		defer os.Remove(certFile)
		sc.WriteCert = certFile
	}
	sc.Listening = func(a net.Addr) { listening(a.String(), certFile) }
	return pubsub.ListenAndServe(ctx, inst.Server, sc, pubsub.Options{})
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
