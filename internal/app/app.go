// Package app wires sfsync's pieces into one running service: the store,
// the keyring, the HTTP routes (health, metrics, JSON API, admin UI) and
// the sync workers. cmd/sfsync, the demo and end-to-end tests all build
// the service through it.
package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/web"
)

// CallbackPath is where Salesforce sends the admin back after authorizing;
// the Connected App's callback URL is the service's base URL plus it.
const CallbackPath = web.CallbackPath

// CallbackURL is the OAuth callback this configuration sends to
// Salesforce: BaseURL + CallbackPath. `sfsync emulator` registers it too.
func CallbackURL(cfg *config.Config) string { return cfg.BaseURL + CallbackPath }

// Version is set at build time with -ldflags "-X github.com/sfsync/sfsync/internal/app.Version=…".
var Version = "dev"

// App is the assembled service.
type App struct {
	Config  *config.Config
	Store   *store.Store
	Keyring *secret.Keyring
	Logger  *slog.Logger
	Metrics *prometheus.Registry
	Conn    *sfconn.Service
	Engine  *syncer.Engine
	Alerts  *alert.Service
	runner  *jobs.Runner
	// streamer holds Change Data Capture subscriptions (issue 15);
	// stopStream ends it and waits.
	streamer   *syncer.Streamer
	stopStream func()

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
}

// Open opens and migrates the store (sfsync's tables and River's) and
// loads the keyring.
func Open(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*App, error) {
	kr, err := cfg.Keyring()
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	n, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	// River's job tables too, so that `sfsync migrate` leaves a database
	// every process can start on.
	if err := jobs.Migrate(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	if n > 0 {
		logger.Info("database migrated", "dialect", s.Dialect, "applied", n)
	}
	a := &App{Config: cfg, Store: s, Keyring: kr, Logger: logger, Metrics: prometheus.NewRegistry()}
	a.Conn = &sfconn.Service{Store: s, Keyring: kr, ClientID: cfg.SalesforceClientID, ClientSecret: cfg.SalesforceClientSecret,
		RedirectURL: CallbackURL(cfg), DefaultLoginURL: cfg.SalesforceLoginURL, Logger: logger}
	a.Engine = &syncer.Engine{Store: s, Conn: a.Conn, Logger: logger, PollInterval: cfg.PollInterval, PushCoalesce: syncer.DefaultPushCoalesce,
		HistoryRetention: time.Duration(cfg.FieldHistoryDays) * 24 * time.Hour, PageTime: cfg.SQLitePageTime}
	a.Alerts = &alert.Service{Store: s, Keyring: kr, Webhook: &alert.Webhook{AllowPrivate: cfg.AlertWebhooksPrivate}, Logger: logger}
	if cfg.SMTPURL != "" {
		m, err := alert.ParseSMTPURL(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("config: SFSYNC_SMTP_URL: %w", err) // never the URL: it may hold a password
		}
		a.Alerts.Mailer = m
	}
	a.Engine.Alerts = a.Alerts
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfsync_http_requests_total", Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	a.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sfsync_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	a.Metrics.MustRegister(a.httpRequests, a.httpDuration)
	a.instrumentSalesforce()
	return a, nil
}

// StartWorkers runs the sync workers (River) in this process: pull and
// push jobs, the durable schedule and the outbox dispatcher. Without it the
// process only enqueues work, for workers elsewhere (sfsync worker).
func (a *App) StartWorkers(ctx context.Context) error {
	r, err := a.queue(ctx, false)
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	return a.startStreamer(ctx, r.ClientID())
}

// startStreamer subscribes, in this process, to the Change Data Capture
// events of the tenants whose leases it takes (real-time pulls, issue 15),
// unless the Pub/Sub endpoint is off.
func (a *App) startStreamer(ctx context.Context, owner string) error {
	if a.Config.PubSubEndpoint == "" || a.streamer != nil {
		return nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.Config.PubSubCA != "" {
		pem, err := os.ReadFile(a.Config.PubSubCA)
		if err != nil {
			return fmt.Errorf("read SFSYNC_PUBSUB_CA: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("SFSYNC_PUBSUB_CA %s holds no PEM certificate", a.Config.PubSubCA)
		}
		tc.RootCAs = pool
	}
	a.streamer = &syncer.Streamer{Engine: a.Engine, Owner: owner, Endpoint: a.Config.PubSubEndpoint, TLS: tc,
		Logger: a.Logger.With("component", "realtime")}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.streamer.Run(sctx); err != nil {
			a.Logger.Error("real-time subscriptions stopped", "error", err)
		}
	}()
	a.stopStream = func() { cancel(); <-done }
	return nil
}

// EnableQueue lets this process enqueue sync work without working it.
func (a *App) EnableQueue(ctx context.Context) error {
	_, err := a.queue(ctx, true)
	return err
}

func (a *App) queue(ctx context.Context, insertOnly bool) (*jobs.Runner, error) {
	if a.runner != nil {
		return a.runner, nil
	}
	r, err := jobs.New(ctx, a.Store, a.Engine, jobs.Options{Workers: a.Config.Workers, BulkWorkers: a.Config.BulkWorkers, InsertOnly: insertOnly, Logger: a.Logger,
		SoftStopTimeout: max(a.Config.ShutdownGrace, time.Millisecond)}) // River reads 0 as "wait for ever"
	if err != nil {
		return nil, err
	}
	a.runner = r
	return r, nil
}

// Close stops the workers and releases the store. Workers take no new
// job; running ones get Config.ShutdownGrace to finish, then their
// contexts are cancelled: a pull keeps its last committed page as its
// checkpoint, and River records the job as retryable, so any worker
// resumes it. (Cancelling the context given to StartWorkers begins the
// same stop at once, so on SIGTERM the grace runs alongside the HTTP
// server's shutdown.)
func (a *App) Close() error {
	if a.stopStream != nil {
		a.stopStream() // gives the leases up, so another process subscribes at once
	}
	if a.runner != nil {
		// The grace, then time for cancelled jobs to record how they ended.
		ctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownGrace+5*time.Second)
		if err := a.runner.Stop(ctx); err != nil {
			a.Logger.Warn("sync workers did not stop in time; their jobs are rescued later", "error", err)
		}
		cancel()
	}
	return a.Store.Close()
}

// Handler returns every HTTP route of the service.
func (a *App) Handler() http.Handler {
	mux := a.opsMux()
	a.mountAPI(mux)
	return a.instrument(mux)
}

// OpsHandler returns only the health, readiness and metrics routes, for a
// worker process.
func (a *App) OpsHandler() http.Handler { return a.instrument(a.opsMux()) }

func (a *App) opsMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := a.Store.DB.PingContext(ctx); err != nil {
			a.Logger.Warn("readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database unavailable\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}))
	return mux
}

// instrument counts requests by the pattern that matched, never by raw
// path, so IDs in URLs cannot blow up the metric's cardinality.
func (a *App) instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		_, pattern := mux.Handler(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		a.httpRequests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
		a.httpDuration.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush for server-sent events.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
