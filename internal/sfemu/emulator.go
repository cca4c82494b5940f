// Package sfemu is a local emulator of the Salesforce APIs sfsync uses:
// OAuth 2.0 (web server flow with PKCE, refresh, password, client
// credentials, revoke, userinfo, identity URL, OpenID id_token), REST
// (describe, sObject rows, upsert, collections, composite, query/queryAll
// paging, getUpdated/getDeleted, limits) and Bulk API 2.0 query and
// ingest jobs. It is an http.Handler, so tests run it in httptest and
// `sfsync emulator` serves it on a port (Launch: HTTP or HTTPS, seeding,
// persistence; the public package sfemutest wraps Launch for other
// projects' Go tests). The wire format follows
// /work/shared/research/salesforce-api.md; what is covered, endpoint by
// endpoint, is in docs/EMULATOR.md.
//
// In a test:
//
//	srv := sfemu.New(sfemu.Options{Now: clock.Now})
//	ts := httptest.NewServer(srv)
//	srv.SetBaseURL(ts.URL)                      // instance_url and login host
//	org, _ := srv.CreateOrg(sfemu.OrgOptions{Edition: sfemu.Enterprise})
//	app, _ := srv.RegisterConnectedApp(sfemu.ConnectedAppOptions{CallbackURLs: []string{cb}})
//	tok, _ := srv.IssueToken(org, org.Admin().Username) // or run the OAuth flow
//	org.SeedContacts(1000, 1)                   // realistic, deterministic data
//	org.EnablePersonAccounts()                  // Account gets person accounts (for good)
//	org.SeedLeads(1000, 1)                      // leads; SeedPersonAccounts for person accounts
//	org.ConvertLead(sfemu.LeadConversion{LeadID: id}) // as the UI converts a lead
//	org.ModifyAsHuman(id, map[string]any{"Title": "x"}) // a UI edit: no client id
//	srv.Advance(3 * time.Hour)                  // tokens expire, windows move
//	srv.SetFaults(sfemu.Faults{Seed: 1, UnavailableRate: 0.2})
//
// Test helpers that no real org has are Go methods on Server and Org and
// JSON routes under /__emulator__/ (listed in admin.go); they are never
// faulted or counted against API usage.
package sfemu

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// Edition is a Salesforce edition; it decides API access and the default
// daily API allocation.
type Edition string

// Editions the emulator models.
const (
	Developer         Edition = "Developer"
	ProfessionalNoAPI Edition = "ProfessionalNoAPI" // Professional without the API add-on: REST answers API_DISABLED_FOR_ORG
	Professional      Edition = "Professional"      // Professional with the API add-on
	Enterprise        Edition = "Enterprise"
	Unlimited         Edition = "Unlimited"
)

// ParseEdition accepts an edition name case-insensitively.
func ParseEdition(s string) (Edition, error) {
	for _, e := range []Edition{Developer, ProfessionalNoAPI, Professional, Enterprise, Unlimited} {
		if strings.EqualFold(string(e), s) {
			return e, nil
		}
	}
	return "", fmt.Errorf("unknown edition %q (want Developer, ProfessionalNoAPI, Professional, Enterprise or Unlimited)", s)
}

// APIEnabled reports whether orgs of this edition may call the REST API.
func (e Edition) APIEnabled() bool { return e != ProfessionalNoAPI }

// CDCAvailable reports whether Change Data Capture exists in the edition
// (Enterprise, Performance, Unlimited and Developer; not Professional).
func (e Edition) CDCAvailable() bool { return e == Developer || e == Enterprise || e == Unlimited }

// DefaultAPIAllocation is the rolling-24-hour API request allocation of an
// org of this edition with the given number of Salesforce user licenses
// (§7): Developer 15,000; Enterprise and Professional with API 100,000 +
// 1,000 per license; Unlimited 100,000 + 5,000 per license.
func (e Edition) DefaultAPIAllocation(licenses int) int {
	switch e {
	case Developer:
		return 15000
	case Professional, Enterprise:
		return 100000 + 1000*licenses
	case Unlimited:
		return 100000 + 5000*licenses
	default:
		return 0
	}
}

// OrganizationType is the value of Organization.OrganizationType.
func (e Edition) OrganizationType() string {
	switch e {
	case Developer:
		return "Developer Edition"
	case Professional, ProfessionalNoAPI:
		return "Professional Edition"
	case Unlimited:
		return "Unlimited Edition"
	default:
		return "Enterprise Edition"
	}
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// Now is the clock; time.Now when nil. Server.Advance adds an offset.
	Now func() time.Time
	// BaseURL is the origin the emulator is reached at (it plays both the
	// login host and instance_url). Set it later with SetBaseURL when it is
	// only known after httptest starts; when empty, it is taken from each
	// request's Host.
	BaseURL string
	// TokenLifetime is the access-token lifetime (the org session timeout);
	// 2h when zero.
	TokenLifetime time.Duration
	// RotateRefreshTokens makes every refresh_token grant return a new
	// refresh token and invalidate the old one.
	RotateRefreshTokens bool
	// QueryLocatorLifetime is how long an unused query locator stays
	// valid; 15 minutes when zero.
	QueryLocatorLifetime time.Duration
	// BulkPollsToComplete is how many status reads a Bulk 2.0 query job
	// takes to reach JobComplete (UploadComplete → InProgress → JobComplete);
	// 2 when zero, negative for "complete at once". An ingest job also
	// waits for its records to be written, in the background.
	BulkPollsToComplete int
	// BulkIngestMaxUpload is the Bulk API 2.0 ingest job data limit in
	// bytes once base64-encoded; DefaultBulkIngestMaxUpload (150 MB) when
	// zero.
	BulkIngestMaxUpload int
	// BulkIngestChunkDelay is added after each transaction of 200 ingest
	// records: a busy org, whose jobs stay InProgress long enough for a
	// test to crash a client in the middle of one.
	BulkIngestChunkDelay time.Duration
	// Faults are injected into answers outside /__emulator__/.
	Faults Faults
	// Logger receives one line per request at debug level and errors; a
	// discarding logger when nil.
	Logger *slog.Logger
}

// Profile names.
const (
	ProfileSystemAdministrator = "System Administrator"
	ProfileStandardUser        = "Standard User"
)

// UserOptions describe a user to create in an org.
type UserOptions struct {
	Username  string // unique across the server, like real Salesforce usernames
	Password  string
	FirstName string
	LastName  string
	Email     string
	Profile   string // ProfileSystemAdministrator or ProfileStandardUser (default)
	// PermissionSets are assigned to the user by name; see Org.CreatePermissionSet.
	PermissionSets []string
	// APIDisabled removes the "API Enabled" permission: REST calls answer
	// API_CURRENTLY_DISABLED.
	APIDisabled bool
	Inactive    bool
}

// User is a user of an org.
type User struct {
	ID        string // 18-char, 005 prefix
	OrgID     string
	Username  string
	Password  string
	FirstName string
	LastName  string
	Email     string
	Profile   string
	// PermissionSets are the names of assigned (non-profile) permission sets.
	PermissionSets []string
	Active         bool
	APIEnabled     bool
}

// Name is the user's full name.
func (u User) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// PermissionSet is a named set of permissions. Each profile owns one
// (IsOwnedByProfile) and others can be assigned to users.
type PermissionSet struct {
	ID                   string
	Name                 string
	ModifyAllData        bool
	CustomizeApplication bool
	ViewSetup            bool
	APIEnabled           bool
	ProfileName          string // non-empty for a profile's own permission set
}

// ConnectedAppOptions register an OAuth client (Connected App).
type ConnectedAppOptions struct {
	Name         string
	ClientID     string   // generated when empty
	ClientSecret string   // generated when empty
	CallbackURLs []string // redirect_uri must equal one of these
	// Scopes the app may grant; api, id, refresh_token, offline_access,
	// openid, web, full when empty.
	Scopes []string
	// AllowPublicPKCE lets the web-server flow exchange a PKCE-protected
	// code without client_secret ("Require Secret for Web Server Flow" off).
	AllowPublicPKCE bool
	// PreAuthorized skips the Allow/Deny page (admin-approved users).
	// Otherwise the page is shown the first time a user authorizes the app
	// and whenever prompt=consent is sent.
	PreAuthorized bool
	// RunAsUsername is the client-credentials flow's run-as user.
	RunAsUsername string
}

// ConnectedApp is a registered OAuth client. Apps are server-wide: like a
// packaged Connected App, any org's users can authorize it.
type ConnectedApp struct {
	Name            string
	ClientID        string
	ClientSecret    string
	CallbackURLs    []string
	Scopes          []string
	AllowPublicPKCE bool
	PreAuthorized   bool
	RunAsUsername   string
}

// Token is an issued access token (and refresh token when granted).
type Token struct {
	AccessToken  string
	RefreshToken string
	InstanceURL  string
	ID           string // identity URL, {base}/id/{org18}/{user18}
	OrgID        string
	UserID       string
	IssuedAt     time.Time
	ExpiresAt    time.Time
	Scope        string
}

// Server is the emulator: an http.Handler serving OAuth, REST, Bulk 2.0
// and the /__emulator__/ side door, holding any number of orgs.
type Server struct {
	opts   Options
	logger *slog.Logger

	clockMu sync.Mutex
	offset  time.Duration

	mu        sync.Mutex // guards the fields below (not org data)
	baseURL   string
	orgs      []*Org
	orgByID   map[string]*Org // key: 15-char id
	usernames map[string]*Org // lower-cased username → org
	apps      map[string]*ConnectedApp
	appOrder  []string
	tokens    map[string]*token
	codes     map[string]*authCode
	sessions  map[string]loginSession
	approvals map[string]bool // clientID+"/"+userID
	orgSeq    int
	idSeq     int64 // server-wide sequence for ids that are not per-org (locators, jobs)
	faults    *faultState
	dataFile  string
	idKey     signingKey
	certPEM   []byte // the served TLS certificate, for GET /__emulator__/cert.pem
}

// New returns an emulator with no orgs. Use CreateOrg and
// RegisterConnectedApp (or Main) to set it up.
func New(opts Options) *Server {
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 2 * time.Hour
	}
	if opts.QueryLocatorLifetime <= 0 {
		opts.QueryLocatorLifetime = 15 * time.Minute
	}
	if opts.BulkPollsToComplete == 0 {
		opts.BulkPollsToComplete = 2
	}
	if opts.BulkIngestMaxUpload <= 0 {
		opts.BulkIngestMaxUpload = DefaultBulkIngestMaxUpload
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		opts:      opts,
		logger:    logger,
		baseURL:   strings.TrimRight(opts.BaseURL, "/"),
		orgByID:   map[string]*Org{},
		usernames: map[string]*Org{},
		apps:      map[string]*ConnectedApp{},
		tokens:    map[string]*token{},
		codes:     map[string]*authCode{},
		sessions:  map[string]loginSession{},
		approvals: map[string]bool{},
	}
	s.faults = newFaultState(opts.Faults)
	return s
}

// SetBaseURL sets the origin used in instance_url, identity URLs and
// absolute links, e.g. the URL of an httptest.Server.
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	s.baseURL = strings.TrimRight(u, "/")
	s.mu.Unlock()
}

// BaseURL returns the configured origin ("" until set).
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

func (s *Server) base(r *http.Request) string {
	if b := s.BaseURL(); b != "" {
		return b
	}
	if r == nil {
		return "http://localhost"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Now is the emulator clock: Options.Now plus every Advance so far.
func (s *Server) Now() time.Time {
	s.clockMu.Lock()
	off := s.offset
	s.clockMu.Unlock()
	now := time.Now
	if s.opts.Now != nil {
		now = s.opts.Now
	}
	return now().Add(off).UTC()
}

// Advance moves the emulator clock forward by d (token expiry, locator
// expiry, replication windows and the rolling API usage window follow it).
func (s *Server) Advance(d time.Duration) {
	s.clockMu.Lock()
	s.offset += d
	s.clockMu.Unlock()
}

// CreateOrg creates an org with an admin user (System Administrator), a
// standard "human" user used by the human-edit side door, and the Contact
// and Lead objects with opts.CustomFields (DefaultCustomFields when nil),
// and Account (with person accounts when opts.PersonAccounts).
func (s *Server) CreateOrg(opts OrgOptions) (*Org, error) {
	if opts.Edition == "" {
		opts.Edition = Developer
	}
	if _, err := ParseEdition(string(opts.Edition)); err != nil {
		return nil, err
	}
	if opts.Licenses <= 0 {
		opts.Licenses = 10
	}
	if opts.CustomFields == nil {
		opts.CustomFields = DefaultCustomFields()
	}
	s.mu.Lock()
	s.orgSeq++
	seq := s.orgSeq
	s.mu.Unlock()
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("Emulated Org %d", seq)
	}
	o, err := newOrg(s, seq, opts)
	if err != nil {
		return nil, err
	}
	if opts.AdminUsername == "" {
		opts.AdminUsername = fmt.Sprintf("admin@org%d.example.com", seq)
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = "emulator-" + randomToken(6)
	}
	admin, err := o.CreateUser(UserOptions{
		Username: opts.AdminUsername, Password: opts.AdminPassword,
		FirstName: "Ada", LastName: "Admin", Email: opts.AdminUsername,
		Profile: ProfileSystemAdministrator,
	})
	if err != nil {
		return nil, fmt.Errorf("create org: %w", err)
	}
	o.adminID = admin.ID
	human, err := o.CreateUser(UserOptions{
		Username: fmt.Sprintf("hannah.human@org%d.example.com", seq), Password: "emulator-" + randomToken(6),
		FirstName: "Hannah", LastName: "Human", Email: fmt.Sprintf("hannah.human@org%d.example.com", seq),
		Profile: ProfileStandardUser,
	})
	if err != nil {
		s.mu.Lock()
		for k, v := range s.usernames {
			if v == o {
				delete(s.usernames, k)
			}
		}
		s.mu.Unlock()
		return nil, fmt.Errorf("create org: %w", err)
	}
	o.humanID = human.ID
	if opts.PersonAccounts {
		o.EnablePersonAccounts()
	}
	s.mu.Lock()
	s.orgs = append(s.orgs, o)
	s.orgByID[o.id[:15]] = o
	s.mu.Unlock()
	return o, nil
}

// Org returns the org with the given 15- or 18-character id.
func (s *Server) Org(id string) (*Org, bool) {
	if len(id) == 18 {
		id = id[:15]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgByID[id]
	return o, ok
}

// Orgs returns every org in creation order.
func (s *Server) Orgs() []*Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Org(nil), s.orgs...)
}

// RegisterConnectedApp registers an OAuth client and returns it with its
// generated credentials.
func (s *Server) RegisterConnectedApp(opts ConnectedAppOptions) (ConnectedApp, error) {
	app := ConnectedApp{
		Name: opts.Name, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
		CallbackURLs: append([]string(nil), opts.CallbackURLs...), Scopes: append([]string(nil), opts.Scopes...),
		AllowPublicPKCE: opts.AllowPublicPKCE, PreAuthorized: opts.PreAuthorized, RunAsUsername: opts.RunAsUsername,
	}
	if app.Name == "" {
		app.Name = "sfsync"
	}
	if app.ClientID == "" {
		app.ClientID = "3MVG9" + randomToken(60)
	}
	if app.ClientSecret == "" {
		app.ClientSecret = randomDigits(64)
	}
	if len(app.Scopes) == 0 {
		app.Scopes = []string{"api", "id", "refresh_token", "offline_access", "openid", "web", "full"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.apps[app.ClientID]; dup {
		return ConnectedApp{}, fmt.Errorf("connected app %q already registered", app.ClientID)
	}
	s.apps[app.ClientID] = &app
	s.appOrder = append(s.appOrder, app.ClientID)
	return app, nil
}

// ConnectedApps returns the registered apps in registration order.
func (s *Server) ConnectedApps() []ConnectedApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnectedApp, 0, len(s.appOrder))
	for _, id := range s.appOrder {
		out = append(out, *s.apps[id])
	}
	return out
}

// IssueToken issues an access token (with a refresh token) for username in
// org directly, as if the OAuth web-server flow had run with scope
// "api refresh_token id". The token belongs to the first registered
// Connected App, or to no app when none is registered.
func (s *Server) IssueToken(org *Org, username string) (Token, error) {
	u, ok := org.userByUsername(username)
	if !ok {
		return Token{}, fmt.Errorf("no user %q in org %s", username, org.ID())
	}
	var app *ConnectedApp
	s.mu.Lock()
	if len(s.appOrder) > 0 {
		app = s.apps[s.appOrder[0]]
	}
	s.mu.Unlock()
	access, refresh := s.issue(org, u, app, "api refresh_token id", true)
	return s.tokenView(access, refresh), nil
}

// RevokeToken revokes an access or refresh token as /services/oauth2/revoke
// does (a refresh token takes its access tokens with it). It reports
// whether the token was live.
func (s *Server) RevokeToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if !ok || t.revoked {
		return false
	}
	s.revokeLocked(t)
	return true
}

// ExpireTokens makes every access token of the org (all orgs when org is
// nil) expire now; refresh tokens stay valid, so clients can refresh.
func (s *Server) ExpireTokens(org *Org) int {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tokens {
		if t.refresh || t.revoked || (org != nil && t.org != org) {
			continue
		}
		if t.expires.After(now) {
			t.expires = now
			n++
		}
	}
	return n
}

// ExpireRefreshTokens revokes every refresh token of the org (and their
// access tokens), so the next refresh answers invalid_grant.
func (s *Server) ExpireRefreshTokens(org *Org) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tokens {
		if t.refresh && !t.revoked && (org == nil || t.org == org) {
			s.revokeLocked(t)
			n++
		}
	}
	return n
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// CurrentFaults returns the injected faults.
func (s *Server) CurrentFaults() Faults { return s.faults.get() }

func (s *Server) nextSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idSeq++
	return s.idSeq
}

// token is an access or refresh token.
type token struct {
	value   string
	refresh bool
	org     *Org
	userID  string
	app     *ConnectedApp // nil for IssueToken without apps
	scope   string
	issued  time.Time
	expires time.Time // access tokens only
	parent  *token    // the refresh token an access token came from
	revoked bool
}

func (s *Server) issue(org *Org, u User, app *ConnectedApp, scope string, withRefresh bool) (access, refresh *token) {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if withRefresh {
		refresh = &token{value: "5Aep861" + randomToken(80), refresh: true, org: org, userID: u.ID, app: app, scope: scope, issued: now}
		s.tokens[refresh.value] = refresh
	}
	access = s.newAccessLocked(org, u.ID, app, scope, now, refresh)
	return access, refresh
}

func (s *Server) newAccessLocked(org *Org, userID string, app *ConnectedApp, scope string, now time.Time, parent *token) *token {
	t := &token{
		value: org.id[:15] + "!" + "AQ" + randomToken(6) + "." + randomToken(100),
		org:   org, userID: userID, app: app, scope: scope, issued: now,
		expires: now.Add(s.opts.TokenLifetime), parent: parent,
	}
	s.tokens[t.value] = t
	return t
}

func (s *Server) revokeLocked(t *token) {
	t.revoked = true
	if t.refresh {
		for _, a := range s.tokens {
			if a.parent == t {
				a.revoked = true
			}
		}
	}
}

func (s *Server) tokenView(access, refresh *token) Token {
	base := s.BaseURL()
	t := Token{
		AccessToken: access.value, InstanceURL: base, OrgID: access.org.ID(), UserID: access.userID,
		ID: base + "/id/" + access.org.ID() + "/" + access.userID, IssuedAt: access.issued, ExpiresAt: access.expires,
		Scope: access.scope,
	}
	if refresh != nil {
		t.RefreshToken = refresh.value
	}
	return t
}

var errNoSuchRecord = errors.New("sfemu: no such record")

// randomToken returns n random URL-safe characters.
func randomToken(n int) string {
	b := make([]byte, (n*6+7)/8+1)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	s := base64.RawURLEncoding.EncodeToString(b)
	s = strings.NewReplacer("-", "x", "_", "y").Replace(s)
	return s[:n]
}

func randomDigits(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// id18 makes an 18-character id from a 3-char key prefix, a 2-char org
// code and a sequence number. Ids of one prefix and org sort by creation.
func makeID(prefix string, orgSeq int, seq int64) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [15]byte
	copy(b[:3], prefix)
	b[3] = alphabet[(orgSeq/62)%62]
	b[4] = alphabet[orgSeq%62]
	for i := 14; i >= 5; i-- {
		b[i] = alphabet[seq%62]
		seq /= 62
	}
	id, err := sfapi.ID18(string(b[:]))
	if err != nil {
		panic(err) // the characters above are always valid
	}
	return id
}
