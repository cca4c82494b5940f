// Package demo starts the whole product on one machine: an emulated
// Salesforce (an Enterprise org seeded with realistic contacts, a
// Professional org without API access, an admin and a non-admin user, the
// Connected App) and sfsync itself with its workers, a demo tenant with the
// add-on and one without, and their admin logins. `sfsync demo` and the
// end-to-end browser test both use it.
package demo

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
	"github.com/sfsync/sfsync/internal/tenant"
)

// Options configure a demo.
type Options struct {
	// Addr is sfsync's listen address (127.0.0.1:8080); the emulator
	// listens on the next port, or on EmulatorAddr.
	Addr         string
	EmulatorAddr string
	// Contacts is how many Salesforce contacts the org is seeded with (5,000).
	Contacts int
	// DataDir holds the demo's SQLite database; a fresh temporary
	// directory (removed by Close) when empty.
	DataDir string
	// Seed makes the seeded contacts reproducible.
	Seed   uint64
	Logger *slog.Logger
	// PollInterval overrides the 15-minute incremental pull (tests).
	PollInterval time.Duration
}

// Login is a username and password.
type Login struct{ Username, Password string }

// Demo is a running demo.
type Demo struct {
	URL         string // sfsync
	EmulatorURL string // Salesforce
	Admin       Login  // sfsync admin of the tenant with the add-on
	NoPlanAdmin Login  // sfsync admin of a tenant without it (S1)
	SFAdmin     Login  // Salesforce System Administrator
	SFUser      Login  // Salesforce Standard User (refused, S5)
	SFNoAPI     Login  // admin of a Professional org without API access (refused, S2)
	TenantID    string
	App         *app.App
	Emulator    *sfemu.Server
	Org         *sfemu.Org

	servers    []*http.Server
	stopPubSub func()
	tmpDir     string
}

func password() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "demo-" + hex.EncodeToString(b)
}

// Start builds and serves the demo until ctx ends or Close.
func Start(ctx context.Context, o Options) (*Demo, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Contacts == 0 {
		o.Contacts = 5000
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := &Demo{}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen on %s: %w", o.Addr, err)
	}
	emuAddr := o.EmulatorAddr
	if emuAddr == "" {
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		p, _ := strconv.Atoi(port)
		emuAddr = net.JoinHostPort(host, strconv.Itoa(p+1))
	}
	eln, err := net.Listen("tcp", emuAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("demo: listen on %s for the emulator: %w", emuAddr, err)
	}
	d.URL = "http://" + ln.Addr().String()
	d.EmulatorURL = "http://" + eln.Addr().String()

	// The emulated Salesforce.
	emu := sfemu.New(sfemu.Options{BaseURL: d.EmulatorURL, Logger: o.Logger.With("component", "emulator")})
	d.Emulator = emu
	d.SFAdmin = Login{"admin@acme.demo", password()}
	org, err := emu.CreateOrg(sfemu.OrgOptions{Name: "Acme Taiwan", Edition: sfemu.Enterprise, AdminUsername: d.SFAdmin.Username, AdminPassword: d.SFAdmin.Password})
	if err != nil {
		return nil, err
	}
	d.Org = org
	d.SFUser = Login{"clerk@acme.demo", password()}
	if _, err := org.CreateUser(sfemu.UserOptions{Username: d.SFUser.Username, Password: d.SFUser.Password, FirstName: "Casey", LastName: "Clerk",
		Email: d.SFUser.Username, Profile: sfemu.ProfileStandardUser}); err != nil {
		return nil, err
	}
	if _, err := org.SeedContacts(o.Contacts, o.Seed); err != nil {
		return nil, err
	}
	d.SFNoAPI = Login{"admin@pro-noapi.demo", password()}
	if _, err := emu.CreateOrg(sfemu.OrgOptions{Name: "Small Shop (Professional, no API)", Edition: sfemu.ProfessionalNoAPI,
		AdminUsername: d.SFNoAPI.Username, AdminPassword: d.SFNoAPI.Password}); err != nil {
		return nil, err
	}
	connected, err := emu.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "sfsync demo", CallbackURLs: []string{d.URL + app.CallbackPath}})
	if err != nil {
		return nil, err
	}

	// sfsync, configured for the emulated Salesforce.
	dataDir := o.DataDir
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "sfsync-demo-"); err != nil {
			return nil, err
		}
		d.tmpDir = dataDir
	}
	// The emulated org publishes Contact changes over the Pub/Sub API (as
	// after Setup → Change Data Capture), so the demo shows them arrive in
	// real time; sfsync trusts the certificate the emulator generated.
	if err := org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}}); err != nil {
		return nil, err
	}
	cert, certPEM, err := pubsub.SelfSignedCert("127.0.0.1")
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dataDir, "emulator-pubsub.pem")
	if err := os.WriteFile(caFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen for the emulator's Pub/Sub API: %w", err)
	}
	pctx, stopPubSub := context.WithCancel(context.WithoutCancel(ctx))
	pdone := make(chan struct{})
	go func() {
		defer close(pdone)
		if err := pubsub.Serve(pctx, pln, pubsub.New(emu, pubsub.Options{Logger: o.Logger.With("component", "emulator-pubsub")}),
			&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}); err != nil {
			o.Logger.Error("the emulator's Pub/Sub API stopped", "error", err)
		}
	}()
	d.stopPubSub = func() { stopPubSub(); <-pdone }
	started := false
	defer func() {
		if !started {
			d.stopPubSub()
		}
	}()
	args := []string{"--addr", ln.Addr().String(), "--data-dir", dataDir, "--base-url", d.URL,
		"--salesforce-client-id", connected.ClientID, "--salesforce-client-secret", connected.ClientSecret,
		"--salesforce-login-url", d.EmulatorURL,
		// The seed's platform, so the demo reads as the seed does.
		"--platform-name", "Omnichat",
		"--pubsub-endpoint", pln.Addr().String(), "--pubsub-ca", caFile}
	if o.PollInterval > 0 {
		args = append(args, "--poll-interval", o.PollInterval.String())
	}
	cfg, _, err := config.Parse("demo", args, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	a, err := app.Open(ctx, cfg, o.Logger)
	if err != nil {
		return nil, err
	}
	d.App = a
	if err := a.StartWorkers(ctx); err != nil {
		a.Close()
		return nil, err
	}
	t, err := a.Store.CreateTenant(ctx, tenant.Tenant{Name: "Demo Shop 示範商店", Language: "zh-TW", Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		return nil, err
	}
	d.TenantID = t.ID
	d.Admin = Login{"admin@demo.shop", password()}
	if _, err := a.Store.CreateAdmin(ctx, t.ID, d.Admin.Username, d.Admin.Password); err != nil {
		return nil, err
	}
	noPlan, err := a.Store.CreateTenant(ctx, tenant.Tenant{Name: "Basic Shop (no add-on)", Language: "en"})
	if err != nil {
		return nil, err
	}
	d.NoPlanAdmin = Login{"admin@basic.shop", password()}
	if _, err := a.Store.CreateAdmin(ctx, noPlan.ID, d.NoPlanAdmin.Username, d.NoPlanAdmin.Password); err != nil {
		return nil, err
	}

	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	esrv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	d.servers = []*http.Server{srv, esrv}
	for _, s := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{srv, ln}, {esrv, eln}} {
		go func() {
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.Logger.Error("demo server stopped", "addr", s.ln.Addr().String(), "error", err)
			}
		}()
	}
	started = true
	return d, nil
}

// Close stops the servers and the workers and removes a temporary data
// directory.
func (d *Demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range d.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	if d.App != nil {
		errs = append(errs, d.App.Close())
	}
	if d.stopPubSub != nil {
		d.stopPubSub()
	}
	if d.tmpDir != "" {
		errs = append(errs, os.RemoveAll(d.tmpDir))
	}
	return errors.Join(errs...)
}

// Banner is what `sfsync demo` prints.
func (d *Demo) Banner(contacts int) string {
	return fmt.Sprintf(`
sfsync demo is running.

  Open             %s
  Log in as        %s / %s   (tenant "Demo Shop 示範商店", Salesforce add-on)
  or               %s / %s   (a tenant without the add-on: see the plan message)

  Salesforce (emulated, %d contacts): %s
  On its login page use
    %s / %s   System Administrator: connects
    %s / %s   Standard User: refused, not an admin
    %s / %s   Professional edition without API: refused (API_DISABLED_FOR_ORG)

Data lives in a temporary directory and is gone when you stop the demo (Ctrl-C).
`, d.URL, d.Admin.Username, d.Admin.Password, d.NoPlanAdmin.Username, d.NoPlanAdmin.Password,
		contacts, d.EmulatorURL, d.SFAdmin.Username, d.SFAdmin.Password, d.SFUser.Username, d.SFUser.Password,
		d.SFNoAPI.Username, d.SFNoAPI.Password)
}
