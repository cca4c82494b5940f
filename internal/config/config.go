// Package config reads sfsync's settings from flags and SFSYNC_*
// environment variables (flags win), validates them once at start, and
// names the bad setting when one is wrong.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sfsync/sfsync/internal/logctx"
	"github.com/sfsync/sfsync/internal/secret"
)

// Config is every setting of the service.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	// SecretKeys is the comma-separated AES key list (primary first). When
	// empty, a key is generated and kept in DataDir/secret.key (0600).
	SecretKeys string
	// BaseURL is the public URL of this service, used for the OAuth callback.
	BaseURL   string
	LogLevel  slog.Level
	LogFormat string

	SalesforceClientID     string
	SalesforceClientSecret string
	SalesforceLoginURL     string

	PollInterval time.Duration
	Workers      int
	// BulkWorkers is the number of concurrent full passes (first syncs,
	// full resyncs) per process, on their own queue beside Workers.
	BulkWorkers int
	// SQLitePageTime bounds how long a full pass's page holds SQLite's one
	// writing connection (syncer.Engine.PageTime); 0: pages of 2,000
	// records whatever they take.
	SQLitePageTime time.Duration

	// ShutdownGrace is how long running jobs may finish after SIGTERM
	// before they are cancelled (to resume elsewhere from their checkpoint).
	ShutdownGrace time.Duration
	// MetricsAddr, when set, makes `sfsync worker` serve /healthz, /readyz
	// and /metrics there (serve has them on Addr).
	MetricsAddr string
	// DebugAddr, when set, serves Go's runtime profiles (net/http/pprof,
	// without the command line) on a loopback host:port, for an operator
	// who must see where a process's CPU or memory goes.
	DebugAddr string
	// PlatformName is the chat platform's product name the admin UI uses
	// where it names the platform (e.g. "Omnichat"); empty for the generic
	// 平台 / Platform.
	PlatformName string
	// PlatformContactURL links a platform contact from the admin UI's sync
	// log: an http(s) URL with "{id}" for the contact's ID; empty: no link.
	PlatformContactURL string

	// FieldHistoryDays is how long field history (Y3) is kept (90).
	FieldHistoryDays int
	// SMTPURL is the SMTP server alerts are e-mailed through
	// (smtp://user:pass@host:port, STARTTLS when offered, or smtps://);
	// empty: no e-mail. SMTPFrom is the sender address.
	SMTPURL  string
	SMTPFrom string
	// PubSubEndpoint is Salesforce's Pub/Sub API (host:port), where the
	// workers subscribe to Change Data Capture (issue 15); empty turns
	// real-time pulls off (polling only).
	PubSubEndpoint string
	// PubSubCA names a PEM file of certificates trusted for the Pub/Sub
	// endpoint besides the system's (the emulator's generated one).
	PubSubCA string
	// AlertWebhooksPrivate lets alert webhooks reach private and internal
	// addresses (off: a tenant's admin could otherwise make the server post
	// into its own network).
	AlertWebhooksPrivate bool
}

// setting describes one configurable value.
type setting struct {
	flag, env, usage, def string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"addr", "SFSYNC_ADDR", "listen address host:port", "127.0.0.1:8080", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return err
		}
		c.Addr = v
		return nil
	}},
	{"data-dir", "SFSYNC_DATA_DIR", "directory for the embedded SQLite database and the generated secret key", "./sfsync-data", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{"database-url", "SFSYNC_DATABASE_URL", "postgres://… for PostgreSQL; empty for SQLite in the data directory", "", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") && !strings.HasPrefix(v, "sqlite:") {
			return errors.New("must be a postgres:// or postgresql:// URL, or sqlite:PATH")
		}
		c.DatabaseURL = v
		return nil
	}},
	{"secret-key", "SFSYNC_SECRET_KEY", "base64 AES-256 key(s) encrypting tokens at rest, comma-separated, newest first", "", func(c *Config, v string) error {
		if v != "" {
			if _, err := secret.ParseKeys(v); err != nil {
				return err
			}
		}
		c.SecretKeys = v
		return nil
	}},
	{"base-url", "SFSYNC_BASE_URL", "public URL of this service (default http://ADDR)", "", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an absolute http(s) URL")
			}
		}
		if v != "" {
			// The scheme in lower case: code that asks "is this https?"
			// need not know that schemes are case-insensitive.
			scheme, rest, _ := strings.Cut(v, ":")
			v = strings.ToLower(scheme) + ":" + rest
		}
		c.BaseURL = strings.TrimSuffix(v, "/")
		return nil
	}},
	{"log-level", "SFSYNC_LOG_LEVEL", "debug, info, warn or error", "info", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"log-format", "SFSYNC_LOG_FORMAT", "text or json", "text", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{"salesforce-client-id", "SFSYNC_SALESFORCE_CLIENT_ID", "Connected App consumer key", "", func(c *Config, v string) error {
		c.SalesforceClientID = v
		return nil
	}},
	{"salesforce-client-secret", "SFSYNC_SALESFORCE_CLIENT_SECRET", "Connected App consumer secret", "", func(c *Config, v string) error {
		c.SalesforceClientSecret = v
		return nil
	}},
	{"salesforce-login-url", "SFSYNC_SALESFORCE_LOGIN_URL", "default login host: https://login.salesforce.com, https://test.salesforce.com or a My Domain URL", "https://login.salesforce.com", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return errors.New("must be a bare https URL such as https://login.salesforce.com")
		}
		c.SalesforceLoginURL = strings.TrimSuffix(v, "/")
		return nil
	}},
	{"poll-interval", "SFSYNC_POLL_INTERVAL", "how often Salesforce changes are pulled", "15m", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		if d < time.Minute {
			return errors.New("must be at least 1m")
		}
		c.PollInterval = d
		return nil
	}},
	{"workers", "SFSYNC_WORKERS", "concurrent polls, and pushes, per process", "4", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			return errors.New("must be a whole number from 1 to 256")
		}
		c.Workers = n
		return nil
	}},
	{"bulk-workers", "SFSYNC_BULK_WORKERS", "concurrent first syncs and full resyncs per process, beside the workers", "2", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			return errors.New("must be a whole number from 1 to 256")
		}
		c.BulkWorkers = n
		return nil
	}},
	{"sqlite-page-time", "SFSYNC_SQLITE_PAGE_TIME", "SQLite: how long a first sync's or full resync's page may hold the one writing connection, so that API writes wait no longer (0s: pages of 2,000 records whatever they take)", "60ms", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		if d < 0 || d > time.Minute {
			return errors.New("must be from 0s to 1m")
		}
		c.SQLitePageTime = d
		return nil
	}},
	{"shutdown-grace", "SFSYNC_SHUTDOWN_GRACE", "on SIGTERM, how long running jobs may finish before they are cancelled and resume from their checkpoint elsewhere (0s to 20s)", "10s", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		// The process must be gone within 30 s of SIGTERM (Kubernetes'
		// default grace; deploy/ sets it for Compose and systemd): the
		// grace, the cancelled jobs' last writes and closing the database
		// fit in it.
		if d < 0 || d > 20*time.Second {
			return errors.New("must be from 0s to 20s")
		}
		c.ShutdownGrace = d
		return nil
	}},
	{"metrics-addr", "SFSYNC_METRICS_ADDR", "sfsync worker: serve /healthz, /readyz and /metrics on this host:port (off when empty)", "", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return err
			}
		}
		c.MetricsAddr = v
		return nil
	}},
	{"debug-addr", "SFSYNC_DEBUG_ADDR", "serve and worker: serve Go's profiles (/debug/pprof/) on this loopback host:port, e.g. 127.0.0.1:6060 (off when empty)", "", func(c *Config, v string) error {
		if v == "" {
			c.DebugAddr = ""
			return nil
		}
		host, _, err := net.SplitHostPort(v)
		if err != nil {
			return err
		}
		// Profiles name the code's functions and the process's memory
		// use; they are for the machine's operator, never the network.
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return errors.New("must be a loopback address such as 127.0.0.1:6060: profiles are not for the network")
		}
		c.DebugAddr = v
		return nil
	}},
	{"platform-name", "SFSYNC_PLATFORM_NAME", "the chat platform's product name shown in the admin UI, e.g. Omnichat (empty: 平台 / Platform)", "", func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if utf8.RuneCountInString(v) > 40 || strings.ContainsFunc(v, unicode.IsControl) || !utf8.ValidString(v) {
			return errors.New("must be at most 40 printable characters")
		}
		c.PlatformName = v
		return nil
	}},
	{"platform-contact-url", "SFSYNC_PLATFORM_CONTACT_URL", "the chat platform's contact page, with {id} for the contact's ID, linked from failed records (empty: no link)", "", func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if v == "" {
			c.PlatformContactURL = ""
			return nil
		}
		u, err := url.Parse(strings.ReplaceAll(v, "{id}", "x"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.Contains(v, "{id}") {
			return errors.New("must be an http(s) URL containing {id}")
		}
		c.PlatformContactURL = v
		return nil
	}},
	{"field-history-days", "SFSYNC_FIELD_HISTORY_DAYS", "how many days the per-contact field history is kept", "90", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return errors.New("must be a whole number of days from 1 to 3650")
		}
		c.FieldHistoryDays = n
		return nil
	}},
	{"smtp-url", "SFSYNC_SMTP_URL", "SMTP server for alert e-mail: smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://… (empty: no e-mail)", "", func(c *Config, v string) error {
		if v != "" {
			if _, err := url.Parse(v); err != nil || !(strings.HasPrefix(v, "smtp://") || strings.HasPrefix(v, "smtps://")) {
				return errors.New("must be smtp://[user:password@]host[:port] or smtps://…")
			}
		}
		c.SMTPURL = v
		return nil
	}},
	{"smtp-from", "SFSYNC_SMTP_FROM", "sender address of alert e-mail", "", func(c *Config, v string) error {
		if v != "" {
			if a, err := mail.ParseAddress(v); err != nil || a.Address == "" {
				return errors.New("must be an e-mail address")
			}
		}
		c.SMTPFrom = v
		return nil
	}},
	{"pubsub-endpoint", "SFSYNC_PUBSUB_ENDPOINT", "Salesforce's Pub/Sub API host:port, where workers subscribe to Change Data Capture for real-time pulls (\"off\": polling only)", "api.pubsub.salesforce.com:7443", func(c *Config, v string) error {
		if v == "off" || v == "" {
			c.PubSubEndpoint = ""
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return err
		}
		c.PubSubEndpoint = v
		return nil
	}},
	{"alert-webhooks-private", "SFSYNC_ALERT_WEBHOOKS_PRIVATE", "let alert webhooks reach private, loopback and link-local addresses (true/false; off, so a tenant's admin cannot make the server post into its own network)", "false", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.AlertWebhooksPrivate = b
		return nil
	}},
	{"pubsub-ca", "SFSYNC_PUBSUB_CA", "PEM file of certificates to trust for the Pub/Sub endpoint besides the system's (e.g. the emulator's)", "", func(c *Config, v string) error {
		if v != "" {
			if _, err := os.Stat(v); err != nil {
				return err
			}
		}
		c.PubSubCA = v
		return nil
	}},
}

// Usage returns a table of every setting, for --help and the README.
func Usage() string {
	var b strings.Builder
	for _, s := range settings {
		fmt.Fprintf(&b, "  --%-26s %-32s %s (default %q)\n", s.flag, s.env, s.usage, s.def)
	}
	return b.String()
}

// Parse reads settings from the environment and then args (flags win) and
// validates them. Arguments left after the flags are returned.
func Parse(name string, args []string, getenv func(string) string) (*Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	vals := make([]*string, len(settings))
	for i, s := range settings {
		vals[i] = fs.String(s.flag, s.def, s.usage+" ["+s.env+"]")
	}
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: sfsync %s [flags]\n\nSettings (flag, environment variable):\n%s", name, Usage())
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	c := &Config{}
	for i, s := range settings {
		v, source := *vals[i], "--"+s.flag
		if !given[s.flag] {
			if ev, ok := lookup(getenv, s.env); ok {
				v, source = ev, s.env
			}
		}
		if err := s.set(c, v); err != nil {
			shown := strconv.Quote(v)
			if s.flag == "smtp-url" || strings.Contains(s.flag, "secret") {
				shown = "(hidden: it may hold a password)"
			}
			return nil, nil, fmt.Errorf("config: %s=%s: %w", source, shown, err)
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	if c.SMTPURL != "" && c.SMTPFrom == "" {
		return nil, nil, errors.New("config: --smtp-url needs --smtp-from (SFSYNC_SMTP_FROM), the alerts' sender address")
	}
	return c, fs.Args(), nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// DatabaseDSN is the store DSN: the PostgreSQL URL, or the SQLite file in
// the data directory.
func (c *Config) DatabaseDSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "sfsync.db")
}

// Keyring returns the token-encryption keyring: SFSYNC_SECRET_KEY, or the
// key file in the data directory (created on first use).
func (c *Config) Keyring() (*secret.Keyring, error) {
	keys := c.SecretKeys
	if keys == "" {
		if c.DatabaseURL != "" {
			return nil, errors.New("config: SFSYNC_SECRET_KEY is required with PostgreSQL, so that every process shares the key")
		}
		k, err := secret.LoadOrCreateKeyFile(filepath.Join(c.DataDir, "secret.key"))
		if err != nil {
			return nil, fmt.Errorf("config: secret key file: %w", err)
		}
		keys = k
	}
	return secret.ParseKeys(keys)
}

// Logger builds the process logger. Lines logged with a context carry the
// context's attributes (logctx): a job's tenant, job and run IDs.
func (c *Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(logctx.NewHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(logctx.NewHandler(slog.NewTextHandler(os.Stderr, opts)))
}
