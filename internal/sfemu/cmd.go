package sfemu

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is a standalone emulator: what `sfsync emulator` parses from its
// flags and what Launch starts. The zero value (plus an Addr) is a
// Developer org with no contacts over plain HTTP.
type Config struct {
	// Addr is the listen address, host:port; port 0 picks a free one.
	Addr string
	// BaseURL is the URL clients reach the emulator at (instance_url and
	// login host). When empty it is http(s)://Addr, with localhost for a
	// wildcard host (0.0.0.0, ::) and the chosen port for port 0.
	BaseURL string
	// Edition of a new org (Developer when empty).
	Edition Edition
	// Contacts generated into a new org, from ContactsSeed.
	Contacts     int
	ContactsSeed uint64
	// SeedCSV is a CSV file of Contacts loaded into a new org (see
	// Org.LoadContactsCSV).
	SeedCSV string
	// Leads and PersonAccounts are generated into a new org, from
	// ContactsSeed (issue 16); PersonAccounts > 0 turns Person Accounts on.
	Leads, PersonAccounts int
	// EnablePersonAccounts turns Person Accounts on in a new org.
	EnablePersonAccounts bool
	// DuplicateRules is the action of the standard duplicate rules in a new
	// org ("alert" or "block" on Contact, Lead and person and business
	// accounts; "" leaves them off).
	DuplicateRules string
	// SalesUsers adds this many standard users (sales reps who own the
	// generated leads and accounts) to a new org.
	SalesUsers int
	// DataFile is the JSON file loaded at start and saved on exit; when it
	// names a directory, the file emulator.json inside it.
	DataFile string
	// TokenLifetime of access tokens; 2h when zero.
	TokenLifetime       time.Duration
	RotateRefreshTokens bool
	// Callbacks are the Connected App's accepted redirect URIs.
	Callbacks []string
	// ClientID and ClientSecret of the Connected App; generated when empty.
	ClientID, ClientSecret string
	Faults                 Faults
	// TLS serves HTTPS. With TLSCertFile and TLSKeyFile the given
	// certificate is served; otherwise one is generated (GenerateCertificate)
	// for localhost, 127.0.0.1, ::1 and the hosts of BaseURL and Addr, and
	// written to CertOut (a file in the temporary directory when empty).
	TLS                     bool
	TLSCertFile, TLSKeyFile string
	CertOut                 string
	// Logger receives request logs; discarded when nil.
	Logger *slog.Logger
	// PubSubAddr, when set, is where the Pub/Sub API (Change Data Capture)
	// listens, over TLS; Main starts it with the PubSub function it is
	// given (package sfemu/pubsub, which this package cannot import).
	PubSubAddr string
	// CDCEntities are the objects selected for Change Data Capture in a
	// new org (as Setup → Change Data Capture; none by default).
	CDCEntities []string
}

// PubSub serves inst's Pub/Sub API at cfg.PubSubAddr until ctx ends,
// telling listening where it listens and which certificate file clients
// trust.
type PubSub func(ctx context.Context, inst *Instance, cfg Config, listening func(addr, certFile string)) error

// Instance is a running standalone emulator, from Launch.
type Instance struct {
	Server *Server
	Org    *Org
	App    ConnectedApp
	// Token is a live access token (with a refresh token) of the org's admin.
	Token Token
	// URL is the base URL: instance URL and login host.
	URL string
	// CertPEM, CertFile and Fingerprint describe the served certificate
	// when TLS is on: its PEM (the chain for a given certificate), the file
	// it was written to (a generated one only) and the SHA-256 fingerprint
	// of the leaf.
	CertPEM     []byte
	CertFile    string
	Fingerprint string
	// DataFile is where the orgs are saved ("" when not persisted).
	DataFile string

	http     *http.Server
	errc     chan error
	tempCert bool // CertFile is ours in the temporary directory: Close removes it
}

// Launch sets up the emulator cfg describes (loading DataFile when it
// exists, otherwise creating an org and a Connected App and seeding it),
// starts serving it in the background and returns at once. Close stops it.
func Launch(cfg Config) (*Instance, error) {
	if cfg.Edition == "" {
		cfg.Edition = Developer
	}
	ed, err := ParseEdition(string(cfg.Edition))
	if err != nil {
		return nil, err
	}
	dataFile, err := dataFilePath(cfg.DataFile)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen: %w", err)
	}
	inst, err := launch(cfg, ed, dataFile, ln)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return inst, nil
}

func launch(cfg Config, ed Edition, dataFile string, ln net.Listener) (*Instance, error) {
	scheme := "http"
	if cfg.TLS {
		scheme = "https"
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = scheme + "://" + reachableAddr(ln.Addr())
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(Options{BaseURL: base, TokenLifetime: cfg.TokenLifetime, RotateRefreshTokens: cfg.RotateRefreshTokens,
		Logger: logger, Faults: cfg.Faults})
	inst := &Instance{Server: s, URL: base, DataFile: dataFile, errc: make(chan error, 1)}
	if err := inst.setUp(cfg, ed); err != nil {
		return nil, err
	}
	// Handshake failures (a client that does not trust the certificate)
	// go to the logger, not to stderr.
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	if cfg.TLS {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		cert, certPEM, err := loadTLS(cfg.TLSCertFile, cfg.TLSKeyFile, []string{hostOf(base), host}, time.Now())
		if err != nil {
			return nil, err
		}
		inst.CertPEM = certPEM
		inst.Fingerprint = CertificateFingerprint(cert.Certificate[0])
		s.setCertificatePEM(certPEM)
		if cfg.TLSCertFile == "" {
			out := cfg.CertOut
			if out == "" {
				_, port, _ := net.SplitHostPort(ln.Addr().String())
				out = filepath.Join(os.TempDir(), "sfsync-emulator-"+port+".pem")
				inst.tempCert = true
			}
			if err := os.WriteFile(out, certPEM, 0o644); err != nil {
				return nil, fmt.Errorf("emulator: write the certificate: %w", err)
			}
			inst.CertFile = out
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	inst.http = srv
	go func() { inst.errc <- srv.Serve(ln) }()
	return inst, nil
}

// setUp loads the data file, or creates the org and the Connected App.
func (inst *Instance) setUp(cfg Config, ed Edition) error {
	s := inst.Server
	if inst.DataFile != "" {
		s.SetDataFile(inst.DataFile)
		switch err := s.Load(inst.DataFile); {
		case err == nil:
			inst.Org = s.Orgs()[0]
			apps := s.ConnectedApps()
			if len(apps) == 0 {
				return errors.New("emulator: the data file has no connected app")
			}
			inst.App = apps[0]
		case errors.Is(err, fs.ErrNotExist):
		default:
			return err
		}
	}
	if inst.Org == nil {
		d := cfg.DuplicateRules
		org, err := s.CreateOrg(OrgOptions{Edition: ed, PersonAccounts: cfg.EnablePersonAccounts || cfg.PersonAccounts > 0,
			DuplicateRules: DuplicateRules{Contact: d, Lead: d, PersonAccount: d, Account: d}})
		if err != nil {
			return err
		}
		if err := org.AddSalesUsers(cfg.SalesUsers); err != nil {
			return err
		}
		app, err := s.RegisterConnectedApp(ConnectedAppOptions{Name: "sfsync", ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			CallbackURLs: cfg.Callbacks, RunAsUsername: org.Admin().Username})
		if err != nil {
			return err
		}
		inst.Org, inst.App = org, app
		if cfg.Contacts > 0 {
			if _, err := org.SeedContacts(cfg.Contacts, cfg.ContactsSeed); err != nil {
				return err
			}
		}
		if cfg.Leads > 0 {
			if _, err := org.SeedLeads(cfg.Leads, cfg.ContactsSeed); err != nil {
				return err
			}
		}
		if cfg.PersonAccounts > 0 {
			if _, err := org.SeedPersonAccounts(cfg.PersonAccounts, cfg.ContactsSeed); err != nil {
				return err
			}
		}
		if cfg.SeedCSV != "" {
			f, err := os.Open(cfg.SeedCSV)
			if err != nil {
				return fmt.Errorf("emulator: --seed: %w", err)
			}
			_, err = org.LoadContactsCSV(f, cfg.SeedCSV)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	tok, err := s.IssueToken(inst.Org, inst.Org.Admin().Username)
	if err != nil {
		return err
	}
	inst.Token = tok
	return nil
}

// reachableAddr is a listen address as a client dials it: a wildcard
// host becomes localhost.
func reachableAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// dataFilePath resolves --data: a directory holds emulator.json.
func dataFilePath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	st, err := os.Stat(p)
	switch {
	case err == nil && st.IsDir():
		return filepath.Join(p, "emulator.json"), nil
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return p, nil
	}
	return "", fmt.Errorf("emulator: --data: %w", err)
}

// Err returns a channel that receives the serving error if the emulator
// stops on its own (the listener failed).
func (inst *Instance) Err() <-chan error { return inst.errc }

// Close stops serving (waiting up to ctx for requests in flight), removes
// a generated certificate written to the default temporary file, and saves
// the data file when there is one.
func (inst *Instance) Close(ctx context.Context) error {
	err := inst.http.Shutdown(ctx)
	if inst.tempCert {
		// A new certificate is made at every start; a stale one would
		// only mislead.
		_ = os.Remove(inst.CertFile)
	}
	if inst.DataFile != "" {
		if serr := inst.Server.Save(); serr != nil {
			return serr
		}
	}
	return err
}

// WriteInfo prints what a client needs: a summary, then shell lines
// (export KEY='value') for the instance URL, token, Connected App and
// users, the settings that pair `sfsync serve` with this emulator, and a
// ready `sf org login access-token` command.
func (inst *Instance) WriteInfo(w io.Writer) {
	org, app, admin, human := inst.Org, inst.App, inst.Org.Admin(), inst.Org.Human()
	fmt.Fprintf(w, "Salesforce emulator listening\n")
	fmt.Fprintf(w, "  instance URL:   %s\n", inst.URL)
	fmt.Fprintf(w, "  login URL:      %s/services/oauth2/authorize\n", inst.URL)
	fmt.Fprintf(w, "  org:            %s (%s, %d contacts)\n", org.ID(), org.Edition(), org.ContactCount())
	if leads, accts := len(org.RecordIDs(ObjLead, false)), len(org.RecordIDs(ObjAccount, false)); leads > 0 || accts > 0 || org.PersonAccountsEnabled() {
		pa := "off"
		if org.PersonAccountsEnabled() {
			pa = "on"
		}
		fmt.Fprintf(w, "  objects:        %d leads, %d accounts (Person Accounts %s)\n", leads, accts, pa)
	}
	fmt.Fprintf(w, "  client id:      %s\n", app.ClientID)
	fmt.Fprintf(w, "  client secret:  %s\n", app.ClientSecret)
	for _, cb := range app.CallbackURLs {
		fmt.Fprintf(w, "  callback URL:   %s\n", cb)
	}
	fmt.Fprintf(w, "  admin username: %s\n", admin.Username)
	fmt.Fprintf(w, "  admin password: %s\n", admin.Password)
	fmt.Fprintf(w, "  user username:  %s (Standard User, not an admin)\n", human.Username)
	fmt.Fprintf(w, "  user password:  %s\n", human.Password)
	fmt.Fprintf(w, "  access token:   %s\n", inst.Token.AccessToken)
	if inst.Fingerprint != "" {
		fmt.Fprintf(w, "  TLS SHA-256:    %s\n", inst.Fingerprint)
		if inst.CertFile != "" {
			fmt.Fprintf(w, "  certificate:    %s (also at %s/__emulator__/cert.pem)\n", inst.CertFile, inst.URL)
		}
	}
	if inst.DataFile != "" {
		fmt.Fprintf(w, "  data file:      %s\n", inst.DataFile)
	}
	fmt.Fprintf(w, "  side door:      %s/__emulator__/\n", inst.URL)
	fmt.Fprintf(w, "\n# Environment for clients:\n")
	env := [][2]string{
		{"SFEMU_INSTANCE_URL", inst.URL}, {"SFEMU_ACCESS_TOKEN", inst.Token.AccessToken}, {"SFEMU_REFRESH_TOKEN", inst.Token.RefreshToken},
		{"SFEMU_CLIENT_ID", app.ClientID}, {"SFEMU_CLIENT_SECRET", app.ClientSecret},
		{"SFEMU_USERNAME", admin.Username}, {"SFEMU_PASSWORD", admin.Password},
		{"SFEMU_USER_USERNAME", human.Username}, {"SFEMU_USER_PASSWORD", human.Password},
	}
	if inst.CertFile != "" {
		env = append(env, [2]string{"SFEMU_CA_CERT", inst.CertFile})
	}
	for _, kv := range env {
		fmt.Fprintf(w, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	fmt.Fprintf(w, "\n# sfsync serve, paired with this emulator:\n")
	for _, kv := range [][2]string{{"SFSYNC_SALESFORCE_LOGIN_URL", inst.URL}, {"SFSYNC_SALESFORCE_CLIENT_ID", app.ClientID},
		{"SFSYNC_SALESFORCE_CLIENT_SECRET", app.ClientSecret}} {
		fmt.Fprintf(w, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	if inst.CertFile != "" {
		// On Unix, Go reads SSL_CERT_FILE instead of its default CA bundle.
		fmt.Fprintf(w, "export SSL_CERT_FILE=%s  # Go programs such as sfsync trust the emulator (instead of the default CA bundle)\n", shellQuote(inst.CertFile))
	}
	fmt.Fprintf(w, "\n# Salesforce CLI:\n")
	prefix := ""
	if inst.CertFile != "" {
		prefix = "NODE_EXTRA_CA_CERTS=" + shellQuote(inst.CertFile) + " "
	}
	fmt.Fprintf(w, "%sSF_ACCESS_TOKEN=%s sf org login access-token --instance-url %s --no-prompt --alias sfemu\n",
		prefix, shellQuote(inst.Token.AccessToken), shellQuote(inst.URL))
}

// shellQuote quotes s for a POSIX shell; single quotes also keep an
// access token's "!" from bash history expansion.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Main runs `sfsync emulator`: it serves an emulator until ctx is
// cancelled, after printing what a client needs (WriteInfo).
// defaultCallbacks are the Connected App's callback URLs when no
// --callback is given (sfsync passes the callback `sfsync serve` uses).
//
// pubsub starts the Pub/Sub API when --pubsub-addr is given (nil: the
// flag is refused).
func Main(ctx context.Context, args []string, stdout io.Writer, defaultCallbacks []string, pubsub PubSub) error {
	cfg, err := parseFlags(args, stdout, defaultCallbacks)
	if err != nil {
		return err
	}
	if cfg.PubSubAddr != "" && pubsub == nil {
		return errors.New("emulator: --pubsub-addr: this build has no Pub/Sub API")
	}
	inst, err := Launch(cfg)
	if err != nil {
		return err
	}
	if len(cfg.CDCEntities) > 0 {
		if err := inst.Org.SetCDCSettings(CDCSettings{Entities: cfg.CDCEntities}); err != nil {
			inst.Close(context.Background())
			return fmt.Errorf("emulator: --cdc: %w", err)
		}
	}
	psErr := make(chan error, 1)
	if cfg.PubSubAddr != "" {
		up := make(chan struct{})
		go func() {
			psErr <- pubsub(ctx, inst, cfg, func(addr, certFile string) {
				fmt.Fprintf(stdout, "pub/sub API:    %s (TLS; trust %s)\nexport SFEMU_PUBSUB_ENDPOINT=%s\nexport SFEMU_PUBSUB_CERT=%s\n", addr, certFile, addr, certFile)
				// sfsync's own settings, so `sfsync serve` subscribes here
				// (real-time pulls) when it takes the SFSYNC_ lines.
				fmt.Fprintf(stdout, "export SFSYNC_PUBSUB_ENDPOINT=%s\nexport SFSYNC_PUBSUB_CA=%s\n", addr, certFile)
				if len(inst.Org.CDCSettings().Entities) == 0 {
					fmt.Fprintln(stdout, "note: no object is selected for Change Data Capture; start with --cdc Contact, or PUT /__emulator__/orgs/default/cdc")
				}
				close(up)
			})
		}()
		select {
		case <-up:
		case err := <-psErr:
			inst.Close(context.Background())
			return fmt.Errorf("emulator: pub/sub API: %w", err)
		}
	}
	inst.WriteInfo(stdout)
	var tick <-chan time.Time
	if inst.DataFile != "" {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		tick = t.C
	}
	saved := inst.Server.fingerprint()
	for {
		select {
		case <-tick:
			if fp := inst.Server.fingerprint(); fp != saved {
				if err := inst.Server.Save(); err != nil {
					fmt.Fprintf(stdout, "emulator: %v\n", err)
				} else {
					saved = fp
				}
			}
		case err := <-inst.Err():
			return fmt.Errorf("emulator: serve: %w", err)
		case err := <-psErr:
			if ctx.Err() == nil {
				return fmt.Errorf("emulator: pub/sub API: %w", err)
			}
		case <-ctx.Done():
			shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return inst.Close(shutCtx)
		}
	}
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

const usageHead = `usage: sfsync emulator [flags]

Runs a local Salesforce (OAuth, REST, SOQL, Bulk API 2.0) with one org and
one Connected App, and prints the URL, credentials and a ready sf CLI login.
See docs/EMULATOR.md.

Flags (every one shows its default):
`

func parseFlags(args []string, out io.Writer, defaultCallbacks []string) (Config, error) {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(out)
	var cfg Config
	var edition string
	var callbacks stringList
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8383", "listen `host:port` (0.0.0.0:8383 in a container; port 0 picks a free one)")
	fs.StringVar(&cfg.BaseURL, "base-url", "", "URL clients reach the emulator at, e.g. behind a port mapping (http(s)://ADDR when empty)")
	fs.IntVar(&cfg.Contacts, "contacts", 0, "generate this many realistic contacts into a new org")
	fs.Uint64Var(&cfg.ContactsSeed, "contacts-seed", 1, "seed of the generated contacts (same seed, same contacts)")
	fs.IntVar(&cfg.Leads, "leads", 0, "generate this many realistic leads into a new org (seed: --contacts-seed)")
	fs.IntVar(&cfg.PersonAccounts, "person-accounts", 0, "turn Person Accounts on in a new org and generate this many person accounts (seed: --contacts-seed)")
	fs.BoolVar(&cfg.EnablePersonAccounts, "enable-person-accounts", false, "turn Person Accounts on in a new org (also done by --person-accounts N)")
	fs.StringVar(&cfg.DuplicateRules, "duplicate-rules", "", "turn the standard duplicate rules on in a new org: alert or block (empty: off)")
	fs.IntVar(&cfg.SalesUsers, "sales-users", 0, "add this many sales users (Standard User) to a new org")
	fs.StringVar(&cfg.SeedCSV, "seed", "", "load Contacts into a new org from this `FILE.csv` (header: API field names)")
	fs.StringVar(&edition, "edition", string(Developer), "edition of a new org: Developer, ProfessionalNoAPI, Professional, Enterprise, Unlimited")
	fs.StringVar(&cfg.DataFile, "data", "", "persist the orgs in this JSON `file` (or DIR/emulator.json): loaded at start, saved on exit and every 30s when changed; empty: nothing is kept")
	fs.DurationVar(&cfg.TokenLifetime, "token-ttl", 2*time.Hour, "access token lifetime")
	fs.StringVar(&cfg.ClientID, "client-id", "", "Connected App client id (generated when empty)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "Connected App client secret (generated when empty)")
	fs.BoolVar(&cfg.RotateRefreshTokens, "rotate-refresh-tokens", false, "return a new refresh token on every refresh")
	fs.Var(&callbacks, "callback", "accepted OAuth callback `URL`; repeat for several")
	fs.BoolVar(&cfg.TLS, "tls", false, "serve HTTPS (with a generated certificate unless --tls-cert and --tls-key are given)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate (chain) to serve with --tls; empty: generate one")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&cfg.CertOut, "tls-cert-out", "", "where --tls writes the generated certificate (empty: TMPDIR/sfsync-emulator-PORT.pem)")
	fs.Uint64Var(&cfg.Faults.Seed, "fault-seed", 1, "seed for injected faults")
	fs.DurationVar(&cfg.Faults.Latency, "fault-latency", 0, "latency added to every /services answer")
	fs.Float64Var(&cfg.Faults.ServerErrorRate, "fault-500-rate", 0, "share of /services requests answered 500 UNKNOWN_EXCEPTION")
	fs.Float64Var(&cfg.Faults.UnavailableRate, "fault-503-rate", 0, "share of /services requests answered 503 SERVER_UNAVAILABLE")
	fs.Float64Var(&cfg.Faults.DropRate, "fault-drop-rate", 0, "share of /services requests whose connection is dropped")
	fs.Float64Var(&cfg.Faults.SlowBodyRate, "fault-slow-rate", 0, "share of /services answers sent slowly")
	fs.StringVar(&cfg.PubSubAddr, "pubsub-addr", "", "serve the Pub/Sub API (Change Data Capture) over TLS at `host:port` (Salesforce's is 7443); empty: off")
	var cdc stringList
	fs.Var(&cdc, "cdc", "select this `object` for Change Data Capture in a new org (Contact, Lead, Account); repeat for several")
	fs.Usage = func() {
		fmt.Fprint(out, usageHead)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			def := f.DefValue
			switch {
			case f.Name == "callback":
				def = strings.Join(defaultCallbacks, " ")
			case def == "":
				def = `""`
			}
			if name != "" {
				name = " " + name
			}
			fmt.Fprintf(out, "  --%s%s\n        %s (default %s)\n", f.Name, name, usage, def)
		})
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("emulator: unexpected argument %q", fs.Arg(0))
	}
	ed, err := ParseEdition(edition)
	if err != nil {
		return Config{}, fmt.Errorf("emulator: --edition: %w", err)
	}
	cfg.Edition = ed
	if err := (DuplicateRules{Contact: cfg.DuplicateRules}).validate(); err != nil {
		return Config{}, fmt.Errorf("emulator: --duplicate-rules: %w", err)
	}
	if cfg.Leads < 0 || cfg.PersonAccounts < 0 || cfg.SalesUsers < 0 || cfg.Contacts < 0 {
		return Config{}, errors.New("emulator: --contacts, --leads, --person-accounts and --sales-users take a count of zero or more")
	}
	if _, err := strconv.ParseUint(cfg.SeedCSV, 10, 64); err == nil {
		// --seed used to be the generator's seed; say so rather than
		// failing to open a file named "7".
		return Config{}, fmt.Errorf("emulator: --seed takes a CSV file of Contacts; the generated contacts' seed is --contacts-seed %s", cfg.SeedCSV)
	}
	cfg.Callbacks = callbacks
	cfg.CDCEntities = cdc
	if len(cfg.Callbacks) == 0 {
		cfg.Callbacks = append([]string(nil), defaultCallbacks...)
	}
	return cfg, nil
}
