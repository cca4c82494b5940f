// Package sfemutest starts a local Salesforce emulator for a Go test: an
// org with a System Administrator and a standard user, a Connected App and
// a live access token, on a free port of 127.0.0.1, stopped when the test
// ends. Code under test talks to it over real HTTP (or HTTPS with
// WithTLS) exactly as it talks to Salesforce: REST, SOQL, OAuth, Bulk API
// 2.0. What the emulator covers is listed in docs/EMULATOR.md.
//
//	func TestMyClient(t *testing.T) {
//		emu := sfemutest.Start(t, sfemutest.WithContacts(100))
//		client := myclient.New(emu.URL, emu.AccessToken)
//		…
//	}
//
// It lives outside internal/ so that other modules can import it; it is a
// thin layer over the emulator that `sfsync emulator` runs (sfemu.Launch),
// so a test gets the same server the command line does.
package sfemutest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfemu"
)

// DefaultCallbackURL is the Connected App's callback when no WithCallbacks
// is given: the one the Salesforce CLI's web login listens on.
const DefaultCallbackURL = "http://localhost:1717/OauthRedirect"

// Emulator is a running emulator and what a client needs to reach it.
type Emulator struct {
	// URL is the instance URL and the login host (OAuth endpoints are
	// under URL + "/services/oauth2/").
	URL string
	// AccessToken is a live token of the admin user (scope "api
	// refresh_token id"); RefreshToken renews it at the token endpoint.
	AccessToken  string
	RefreshToken string
	// ClientID and ClientSecret are the Connected App's.
	ClientID     string
	ClientSecret string
	// CallbackURLs are the redirect URIs the Connected App accepts.
	CallbackURLs []string
	// Username and Password log in the org's System Administrator (login
	// form or password grant).
	Username string
	Password string
	// UserUsername and UserPassword log in a Standard User (no admin
	// permissions), for testing what a non-admin may do.
	UserUsername string
	UserPassword string
	// OrgID is the org's 18-character id.
	OrgID string
	// SideDoor is the base of the emulator's test-only JSON routes
	// (URL + "/__emulator__/"): seed, edit as a UI user, faults, clock.
	SideDoor string
	// CertFile is the PEM certificate to trust (WithTLS only).
	CertFile string
	// HTTPClient trusts the emulator's certificate under WithTLS; a plain
	// client otherwise.
	HTTPClient *http.Client
	// Server is the emulator itself, for Go-level control (SetFaults,
	// Advance, Orgs()[0].ModifyAsHuman, …).
	Server *sfemu.Server
}

// Option changes what Start sets up.
type Option func(*sfemu.Config)

// WithContacts generates n realistic contacts (names, phones, e-mails,
// member numbers; deterministic for a given seed).
func WithContacts(n int, seed uint64) Option {
	return func(c *sfemu.Config) { c.Contacts, c.ContactsSeed = n, seed }
}

// WithLeads generates n realistic leads (seed as WithContacts').
func WithLeads(n int) Option { return func(c *sfemu.Config) { c.Leads = n } }

// WithPersonAccounts turns Person Accounts on and generates n person
// accounts (n may be 0: Person Accounts on, no records).
func WithPersonAccounts(n int) Option {
	return func(c *sfemu.Config) { c.EnablePersonAccounts, c.PersonAccounts = true, n }
}

// WithDuplicateRules turns the standard duplicate rules on with action
// "alert" or "block".
func WithDuplicateRules(action string) Option {
	return func(c *sfemu.Config) { c.DuplicateRules = action }
}

// WithSalesUsers adds n sales users (Standard User) to the org.
func WithSalesUsers(n int) Option { return func(c *sfemu.Config) { c.SalesUsers = n } }

// WithSeedCSV loads Contacts from a CSV file whose header names API
// fields; the test fails if a row is refused.
func WithSeedCSV(path string) Option { return func(c *sfemu.Config) { c.SeedCSV = path } }

// WithEdition sets the org's edition: Developer (the default),
// ProfessionalNoAPI, Professional, Enterprise or Unlimited.
func WithEdition(edition string) Option {
	return func(c *sfemu.Config) { c.Edition = sfemu.Edition(edition) }
}

// WithTLS serves HTTPS with a certificate generated for localhost,
// 127.0.0.1 and ::1; Emulator.HTTPClient and Emulator.CertFile trust it.
func WithTLS() Option { return func(c *sfemu.Config) { c.TLS = true } }

// WithCallbacks replaces the Connected App's callback URLs.
func WithCallbacks(urls ...string) Option {
	return func(c *sfemu.Config) { c.Callbacks = append([]string(nil), urls...) }
}

// WithClient fixes the Connected App's client id and secret.
func WithClient(id, secret string) Option {
	return func(c *sfemu.Config) { c.ClientID, c.ClientSecret = id, secret }
}

// WithTokenLifetime sets how long access tokens live (2h by default).
func WithTokenLifetime(d time.Duration) Option {
	return func(c *sfemu.Config) { c.TokenLifetime = d }
}

// Start starts an emulator on a free port of 127.0.0.1 and stops it when
// the test (and its subtests) end. It fails the test if the emulator
// cannot start.
func Start(t testing.TB, opts ...Option) *Emulator {
	t.Helper()
	cfg := sfemu.Config{Addr: "127.0.0.1:0", Callbacks: []string{DefaultCallbackURL}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.TLS {
		cfg.CertOut = filepath.Join(t.TempDir(), "emulator.pem")
	}
	inst, err := sfemu.Launch(cfg)
	if err != nil {
		t.Fatalf("sfemutest: start the emulator: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := inst.Close(ctx); err != nil {
			t.Errorf("sfemutest: stop the emulator: %v", err)
		}
	})
	admin, user := inst.Org.Admin(), inst.Org.Human()
	e := &Emulator{
		URL: inst.URL, AccessToken: inst.Token.AccessToken, RefreshToken: inst.Token.RefreshToken,
		ClientID: inst.App.ClientID, ClientSecret: inst.App.ClientSecret, CallbackURLs: inst.App.CallbackURLs,
		Username: admin.Username, Password: admin.Password, UserUsername: user.Username, UserPassword: user.Password,
		OrgID: inst.Org.ID(), SideDoor: inst.URL + "/__emulator__/", CertFile: inst.CertFile,
		HTTPClient: &http.Client{Timeout: time.Minute}, Server: inst.Server,
	}
	if cfg.TLS {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(inst.CertPEM) {
			t.Fatalf("sfemutest: the emulator's certificate does not parse")
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		e.HTTPClient.Transport = tr
		t.Cleanup(tr.CloseIdleConnections)
	}
	return e
}
