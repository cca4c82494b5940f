// Command scale is the scale-out test behind `make scale` (issue 18): many
// tenants, each connected to its own emulated Salesforce org, on one
// PostgreSQL with `sfsync serve` and several `sfsync worker` processes of
// the built binary, and a trickle of changes on both sides. It measures
// poll lag (due → start), push latency, CPU and memory per process,
// database connections, the River job table over time, what happens when
// a worker is killed, and what one tenant's large first sync does to the
// others' polls; then it prints a Markdown report.
//
// The emulator runs inside this program (one process hosting every org),
// which also plays the chat platform's callers: it changes Salesforce
// contacts through the emulator's side door (as a human user would) and
// platform contacts through serve's JSON API with each tenant's API key.
//
// Tenants are connected without a browser: the emulator's Authorize side
// door approves the authorize request as the org's admin (the login form
// and Allow button skipped), and the connection service then exchanges
// the code at the emulator's real token endpoint and checks the user and
// org as it does for every connection (sfconn.Service.Finish).
//
// Run it through `make scale`; `go run ./internal/tools/scale -h` lists
// the flags.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
)

// options are the test's flags.
type options struct {
	bin          string
	pgURL        string
	tenants      int
	contacts     int
	workers      int
	duration     time.Duration
	pollInterval time.Duration
	changes      float64
	active       float64
	big          int
	killAt       float64
	bigAt        float64
	out          string
	keep         bool
	warmup       time.Duration
	workerSlots  int
	bulkSlots    int
	// setupParallel is how many tenants are set up at once; setupOnly
	// stops after the first syncs.
	setupParallel int
	setupOnly     bool
	spread        bool
	idleWindow    time.Duration
	endBy         string // "HH:MM" UTC
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "bin/sfsync", "the sfsync binary to run (make scale builds it)")
	fs.StringVar(&o.pgURL, "postgres", os.Getenv("SFSYNC_TEST_POSTGRES_URL"), "PostgreSQL server URL; a fresh schema is made in it [SFSYNC_TEST_POSTGRES_URL]")
	fs.IntVar(&o.tenants, "tenants", 10000, "tenants, each with its own emulated org")
	fs.IntVar(&o.contacts, "contacts", 300, "Salesforce contacts per org (synced to the platform by each tenant's first sync)")
	fs.IntVar(&o.workers, "workers", 3, "sfsync worker processes (beside one sfsync serve, which works jobs too)")
	fs.DurationVar(&o.duration, "duration", 30*time.Minute, "how long the measured phase runs, after every first sync has finished")
	fs.DurationVar(&o.pollInterval, "poll-interval", 15*time.Minute, "SFSYNC_POLL_INTERVAL of the processes (at least 1m); the change rate follows it")
	fs.Float64Var(&o.changes, "changes", 2, "changes per active tenant per poll interval on each side (Salesforce edits by a human, platform edits through the JSON API)")
	fs.Float64Var(&o.active, "active", 0.5, "share of the tenants that get the changes; the others stay idle, so that idle polls are measured too")
	fs.IntVar(&o.big, "big", 1_000_000, "contacts of the one tenant whose first sync starts mid-run (0: none)")
	fs.Float64Var(&o.killAt, "kill-at", 0.33, "when to kill -9 one worker, as a share of -duration (0: never)")
	fs.Float64Var(&o.bigAt, "big-at", 0.5, "when the big tenant's first sync starts, as a share of -duration")
	fs.StringVar(&o.out, "out", "scale-report.md", "where the Markdown report is written (also printed)")
	fs.BoolVar(&o.keep, "keep", false, "keep the PostgreSQL schema and the processes' logs")
	fs.DurationVar(&o.warmup, "warmup-timeout", 2*time.Hour, "give up when the first syncs have not all finished by then")
	fs.IntVar(&o.workerSlots, "worker-slots", 4, "SFSYNC_WORKERS of each process")
	fs.IntVar(&o.bulkSlots, "bulk-slots", 2, "SFSYNC_BULK_WORKERS of each process")
	fs.IntVar(&o.setupParallel, "setup-parallel", 16, "tenants set up at once (database round trips and OAuth exchanges, mostly waiting)")
	fs.BoolVar(&o.setupOnly, "setup-only", false, "stop after the set-up and the first syncs, with the phase times and the memory per org (to time the set-up before a full run)")
	fs.BoolVar(&o.spread, "spread", true, "before measuring, spread the tenants' next polls evenly over one poll interval, as at steady state (false: keep them as the first syncs left them, bunched into the warm-up's length)")
	fs.DurationVar(&o.idleWindow, "idle-window", 3*time.Minute, "before the measured phase, this long with no changes, to measure the CPU per idle poll (0: none)")
	fs.StringVar(&o.endBy, "end-by", "", "a UTC time HH:MM by which the run must end: the measured phase is shortened to fit (said loudly in the log and the report), for a time-boxed run")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.pgURL == "":
		return o, errors.New("set SFSYNC_TEST_POSTGRES_URL (or -postgres) to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	case o.tenants < 1 || o.contacts < 1 || o.workers < 1 || o.setupParallel < 1:
		return o, errors.New("-tenants, -contacts, -workers and -setup-parallel must be at least 1")
	case o.pollInterval < time.Minute:
		return o, errors.New("-poll-interval must be at least 1m (sfsync's minimum)")
	case o.active <= 0 || o.active > 1:
		return o, errors.New("-active must be above 0 and at most 1")
	case o.killAt < 0 || o.killAt >= 1 || o.bigAt < 0 || o.bigAt >= 1:
		return o, errors.New("-kill-at and -big-at must be from 0 to below 1")
	case o.endBy != "":
		if _, err := time.Parse("15:04", o.endBy); err != nil {
			return o, fmt.Errorf("-end-by: want HH:MM (UTC): %w", err)
		}
	}
	return o, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err == nil {
		err = run(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// orgTenant is one tenant and its org.
type orgTenant struct {
	id     string
	org    *sfemu.Org
	apiKey string
	admin  string
	// pairs are linked (Salesforce ID, platform contact ID) pairs the
	// trickle changes: even ones on the Salesforce side, odd ones on the
	// platform side, so the two never edit one record at once.
	pairs [][2]string
}

// rig is everything the test runs.
type rig struct {
	o        options
	log      func(format string, args ...any)
	emu      *sfemu.Server
	emuURL   string
	app      sfemu.ConnectedApp
	st       *store.Store
	dsn      string
	key      string
	conn     *sfconn.Service
	eng      *syncer.Engine
	tenants  []*orgTenant
	active   int // the first active tenants get the changes
	big      *orgTenant
	serveURL string
	procs    []*proc
	logDir   string
	// phases are the run's timed steps; heapPerOrg is the emulator's heap
	// per org of -contacts contacts.
	phMu       sync.Mutex
	phases     []phase
	heapPerOrg int64
	// heapAfterTenants (without a big org) and heapAfterWarmUp are this
	// program's live heap after those phases.
	heapAfterTenants, heapAfterWarmUp int64
	// spreadFrom is when the first poll falls due after spreadPolls.
	spreadFrom time.Time
	// endBy is -end-by as a time (zero without it); planned is -duration
	// as asked, when -end-by shortened it.
	endBy   time.Time
	planned time.Duration
	// warmRun is a first sync's mean job time.
	warmRun time.Duration
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	r := &rig{o: o, log: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[%s UTC +%s] %s\n", time.Now().UTC().Format("15:04:05"), time.Since(start).Round(time.Second), fmt.Sprintf(format, args...))
	}}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the sfsync binary: %w (run make build, or make scale which builds it)", err)
	}
	r.o.bin = bin
	if o.endBy != "" {
		hm, _ := time.Parse("15:04", o.endBy)
		now := time.Now().UTC()
		r.endBy = time.Date(now.Year(), now.Month(), now.Day(), hm.Hour(), hm.Minute(), 0, 0, time.UTC)
		if r.endBy.Before(now) {
			r.endBy = r.endBy.Add(24 * time.Hour)
		}
		r.log("the run must end by %s UTC (-end-by); the measured phase is shortened if need be", r.endBy.Format("15:04"))
	}
	if r.logDir, err = os.MkdirTemp("", "sfsync-scale-"); err != nil {
		return err
	}
	dropSchema, err := r.openDatabase(ctx)
	if err != nil {
		return err
	}
	defer func() {
		r.stopProcs()
		if r.st != nil {
			r.st.Close()
		}
		if o.keep {
			r.log("kept the schema (%s) and the logs in %s", r.dsn, r.logDir)
			return
		}
		dropSchema()
		os.RemoveAll(r.logDir)
	}()
	r.addPhase("fresh schema and sfsync migrate", start, time.Now(), phaseCPU{})
	if err := r.startEmulator(ctx); err != nil {
		return err
	}
	if err := r.setUp(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	if err := r.startProcs(ctx); err != nil {
		return err
	}
	r.addPhase("start serve and the workers", t0, time.Now(), phaseCPU{})
	warm, err := r.warmUp(ctx)
	if err != nil {
		return err
	}
	if o.setupOnly {
		r.log("-setup-only: stopping after the first syncs\n%s", r.phaseTable(time.Since(start)))
		return nil
	}
	m, err := r.measure(ctx)
	if err != nil {
		return err
	}
	m.warmup = warm
	m.setup = time.Since(start) - warm - m.elapsed
	report := r.report(m)
	fmt.Print(report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return err
		}
		r.log("report written to %s", o.out)
	}
	return nil
}

// openDatabase makes a fresh schema and runs `sfsync migrate` in it.
func (r *rig) openDatabase(ctx context.Context) (drop func(), err error) {
	conn, err := pgx.Connect(ctx, r.o.pgURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	schema := "sfsync_scale_" + hex.EncodeToString(b)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("create schema: %w", err)
	}
	drop = func() {
		c, err := pgx.Connect(context.Background(), r.o.pgURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			r.log("drop schema %s: %v", schema, err)
		}
	}
	u, err := url.Parse(r.o.pgURL)
	if err != nil {
		return drop, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	r.dsn = u.String()
	raw := make([]byte, 32)
	rand.Read(raw)
	r.key = base64.StdEncoding.EncodeToString(raw)
	r.log("schema %s; running sfsync migrate", schema)
	cmd := command(r.o.bin, r.procEnv("migrate"), "migrate")
	if out, err := cmd.CombinedOutput(); err != nil {
		return drop, fmt.Errorf("sfsync migrate: %w\n%s", err, out)
	}
	// The driver's pool: one connection per set-up goroutine and a few for
	// the samplers (the store's default is 8).
	dsn := withAppName(r.dsn, "scale-driver")
	if u, err := url.Parse(dsn); err == nil {
		q := u.Query()
		q.Set("pool_max_conns", fmt.Sprint(r.o.setupParallel+4))
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return drop, err
	}
	r.st = st
	return drop, nil
}

// withAppName sets the PostgreSQL application_name, by which the report
// counts each process's connections.
func withAppName(dsn, name string) string {
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func (r *rig) startEmulator(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.emu = sfemu.New(sfemu.Options{})
	r.emuURL = "http://" + ln.Addr().String()
	r.emu.SetBaseURL(r.emuURL)
	srv := &http.Server{Handler: r.emu, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log("the emulator stopped serving: %v", err)
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	r.serveURL = "http://" + addr
	r.app, err = r.emu.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "sfsync", CallbackURLs: []string{r.serveURL + app.CallbackPath}})
	return err
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// syncConfig matches on the member number, creates on both sides and
// syncs the last name both ways (what the trickle edits).
func syncConfig() syncconf.Config {
	return syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{
			{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth},
			{SalesforceField: "Email", PlatformField: "email", Direction: syncconf.DirToPlatform},
		},
	}
}

// setUp creates the orgs, tenants and connections, saves each tenant's
// configuration and queues its first sync. The orgs are made first, on
// one goroutine per CPU (the emulator is in this process, so that is CPU
// work with no waiting); the tenants then, on -setup-parallel goroutines
// (each one is database round trips and HTTP calls to the emulator's
// token and REST endpoints, mostly waiting). The big org is seeded on a
// goroutine of its own beside the tenants, which leave the CPU free.
func (r *rig) setUp(ctx context.Context) error {
	kr, err := secret.ParseKeys(r.key)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.DiscardHandler)
	r.conn = &sfconn.Service{Store: r.st, Keyring: kr, ClientID: r.app.ClientID, ClientSecret: r.app.ClientSecret,
		RedirectURL: r.serveURL + app.CallbackPath, DefaultLoginURL: r.emuURL, Logger: quiet,
		HTTPClient: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * r.o.setupParallel}}}
	r.eng = &syncer.Engine{Store: r.st, Conn: r.conn, Logger: quiet}
	if _, err := jobs.New(ctx, r.st, r.eng, jobs.Options{InsertOnly: true, Logger: quiet}); err != nil {
		return err
	}

	heap0 := heapInUse()
	r.tenants = make([]*orgTenant, r.o.tenants)
	orgs := r.newProgress(fmt.Sprintf("orgs of %d contacts", r.o.contacts), r.o.tenants)
	if err := parallel(ctx, r.o.tenants, runtime.NumCPU(), func(i int) error {
		org, err := r.newOrg(fmt.Sprintf("t%05d", i), r.o.contacts, uint64(i))
		r.tenants[i] = &orgTenant{org: org, admin: adminOf(fmt.Sprintf("t%05d", i))}
		orgs.add(1)
		return err
	}); err != nil {
		return err
	}
	orgs.finish()
	r.heapPerOrg = (heapInUse() - heap0) / int64(r.o.tenants)
	r.log("the emulator's orgs take %s of heap, %.0f KiB per org of %d contacts", mib(r.heapPerOrg*int64(r.o.tenants)), float64(r.heapPerOrg)/1024, r.o.contacts)

	var bigOrg *sfemu.Org
	bigDone := make(chan error, 1)
	if r.o.big > 0 {
		go func() {
			t0 := time.Now()
			r.log("seeding the big org with %d contacts (beside the tenants)", r.o.big)
			var err error
			bigOrg, err = r.newOrg("big", r.o.big, 1<<40)
			if err == nil {
				r.log("the big org is seeded (%d contacts in %s)", r.o.big, time.Since(t0).Round(time.Second))
				r.addPhase(fmt.Sprintf("seeding the big org (%d contacts; beside the tenants)", r.o.big), t0, time.Now(), phaseCPU{})
			}
			bigDone <- err
		}()
	} else {
		bigDone <- nil
	}

	ten := r.newProgress("tenants (tenant, API key, OAuth exchange, configuration, first sync queued)", r.o.tenants)
	if err := parallel(ctx, r.o.tenants, r.o.setupParallel, func(i int) error {
		err := r.newTenant(ctx, fmt.Sprintf("t%05d", i), r.tenants[i], ten)
		if err == nil {
			defer ten.step("queue first sync")()
			_, err = r.eng.StartInitialSync(ctx, r.tenants[i].id)
		}
		ten.add(1)
		return err
	}); err != nil {
		return err
	}
	ten.finish()
	if r.o.big == 0 {
		r.heapAfterTenants = heapInUse()
		r.log("this program's live heap with the tenants connected: %s (%.0f KiB per tenant, org included)", mib(r.heapAfterTenants), float64(r.heapAfterTenants)/1024/float64(r.o.tenants))
	}
	if err := <-bigDone; err != nil {
		return err
	}
	if r.o.big > 0 {
		r.big = &orgTenant{org: bigOrg, admin: adminOf("big")}
		if err := r.newTenant(ctx, "big", r.big, nil); err != nil {
			return err
		}
	}
	return nil
}

func adminOf(name string) string { return "admin@" + name + ".scale.test" }

// newOrg creates an org with n contacts.
func (r *rig) newOrg(name string, n int, seed uint64) (*sfemu.Org, error) {
	org, err := r.emu.CreateOrg(sfemu.OrgOptions{Name: "Org " + name, Edition: sfemu.Enterprise, AdminUsername: adminOf(name), AdminPassword: "scale-pass-1"})
	if err != nil {
		return nil, err
	}
	if _, err := org.SeedContacts(n, seed); err != nil {
		return nil, err
	}
	return org, nil
}

// newTenant creates the tenant of t's org, connected to it, with a saved
// configuration and an API key; p (when not nil) sums each step's time.
func (r *rig) newTenant(ctx context.Context, name string, t *orgTenant, p *progress) error {
	step := func(string) func() { return func() {} }
	if p != nil {
		step = p.step
	}
	done := step("create tenant and API key")
	tn, err := r.st.CreateTenant(ctx, tenant.Tenant{Name: "Shop " + name, Language: "en", Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		return err
	}
	_, key, err := r.st.CreateAPIKey(ctx, tn.ID, "scale")
	if err != nil {
		return err
	}
	done()
	t.id, t.apiKey = tn.ID, key
	done = step("connect (OAuth)")
	if err := r.connect(ctx, t); err != nil {
		return fmt.Errorf("connect %s: %w", name, err)
	}
	done()
	defer step("save configuration")()
	_, err = r.eng.SaveConfig(ctx, t.id, "scale", syncConfig())
	return err
}

// connect runs the OAuth web-server flow with the emulator's Authorize
// side door in place of the browser's login and consent.
func (r *rig) connect(ctx context.Context, t *orgTenant) error {
	const binding = "scale"
	authURL, err := r.conn.Start(ctx, t.id, binding, "")
	if err != nil {
		return err
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	q := u.Query()
	redirect, err := r.emu.Authorize(sfemu.AuthorizeRequest{ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
		Username: t.admin, Scope: q.Get("scope"), State: q.Get("state"),
		CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method")})
	if err != nil {
		return err
	}
	ru, err := url.Parse(redirect)
	if err != nil {
		return err
	}
	back := ru.Query()
	_, err = r.conn.Finish(ctx, t.id, binding, sfconn.CallbackParams{State: back.Get("state"), Code: back.Get("code")})
	return err
}

// parallel runs f(0..n-1) on k goroutines and returns the first error.
func parallel(ctx context.Context, n, k int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil || i >= n || ctx.Err() != nil
				mu.Unlock()
				if stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// procEnv is the environment of one sfsync process.
func (r *rig) procEnv(name string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"SFSYNC_DATABASE_URL=" + withAppName(r.dsn, "sfsync-"+name),
		"SFSYNC_SECRET_KEY=" + r.key,
		"SFSYNC_DATA_DIR=" + filepath.Join(r.logDir, "data-"+name),
		"SFSYNC_SALESFORCE_CLIENT_ID=" + r.app.ClientID,
		"SFSYNC_SALESFORCE_CLIENT_SECRET=" + r.app.ClientSecret,
		"SFSYNC_SALESFORCE_LOGIN_URL=" + r.emuURL,
		"SFSYNC_POLL_INTERVAL=" + r.o.pollInterval.String(),
		"SFSYNC_WORKERS=" + fmt.Sprint(r.o.workerSlots),
		"SFSYNC_BULK_WORKERS=" + fmt.Sprint(r.o.bulkSlots),
		"SFSYNC_LOG_FORMAT=json",
	}
}

func (r *rig) startProcs(ctx context.Context) error {
	addr := strings.TrimPrefix(r.serveURL, "http://")
	serve, err := r.startProc("serve", []string{"SFSYNC_ADDR=" + addr, "SFSYNC_BASE_URL=" + r.serveURL}, "serve")
	if err != nil {
		return err
	}
	if err := waitFor(ctx, "serve's /readyz", 2*time.Minute, func() bool {
		resp, err := http.Get(r.serveURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}); err != nil {
		return fmt.Errorf("%w\n%s", err, serve.tail())
	}
	for i := range r.o.workers {
		name := fmt.Sprintf("worker-%d", i+1)
		p, err := r.startProc(name, nil, "worker")
		if err != nil {
			return err
		}
		if err := waitFor(ctx, name+" to run", 2*time.Minute, func() bool { return strings.Contains(p.tail(), "sfsync worker running") }); err != nil {
			return fmt.Errorf("%w\n%s", err, p.tail())
		}
	}
	r.log("serve and %d workers running (logs in %s)", r.o.workers, r.logDir)
	return nil
}

func waitFor(ctx context.Context, what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// warmUp waits for every first sync to finish, then logs what a first
// sync took: its mean run time, the slots of the bulk queue that run them,
// and the CPU of the sfsync processes and of PostgreSQL per first sync, to
// tell per-job waiting from work.
func (r *rig) warmUp(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(r.o.warmup)
	p := r.newProgress(fmt.Sprintf("first syncs (%d contacts each, through the workers)", r.o.contacts), len(r.tenants))
	// After the first syncs: the baseline, the idle window, the measured
	// phase and a minute for the report and the shutdown.
	p.then = r.o.duration + time.Minute
	if r.o.idleWindow > 0 {
		p.then += baselineFor + r.o.idleWindow
	}
	for {
		var finished, failed, total int
		err := r.st.DB.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE finished_at IS NOT NULL),
			COUNT(*) FILTER (WHERE status = 'failed'), COUNT(*) FROM sync_runs WHERE trigger = 'initial'`).Scan(&finished, &failed, &total)
		if err != nil {
			return 0, err
		}
		if finished >= len(r.tenants) {
			p.set(finished)
			el := p.finish()
			r.heapAfterWarmUp = heapInUse()
			r.log("this program's live heap after the first syncs: %s (%.0f KiB per tenant, the big org included when seeded)", mib(r.heapAfterWarmUp), float64(r.heapAfterWarmUp)/1024/float64(len(r.tenants)))
			r.warmUpCosts(ctx, el)
			if failed > 0 {
				return 0, fmt.Errorf("%d first syncs failed; see the logs in %s (run with -keep)", failed, r.logDir)
			}
			return el, nil
		}
		p.set(finished)
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("first syncs: %d of %d finished after %s", finished, len(r.tenants), r.o.warmup)
		}
		for _, p := range r.procs {
			if p.exited() {
				return 0, fmt.Errorf("%s exited during the first syncs: %v\n%s", p.name, p.err, p.tail())
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// warmUpCosts logs a first sync's mean job time (River's attempted_at to
// finalized_at: the run's own time, not its wait in the queue) against
// the slots of the bulk queue that run them, to tell per-job waiting from
// work.
func (r *rig) warmUpCosts(ctx context.Context, el time.Duration) {
	var n int
	var mean float64
	err := r.st.DB.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(EXTRACT(EPOCH FROM AVG(finalized_at - attempted_at)), 0) FROM river_job
		WHERE kind = 'sfsync.pull' AND state = 'completed' AND args->>'trigger' = 'initial'`).Scan(&n, &mean)
	if err != nil || n == 0 {
		r.log("the first syncs' jobs: %d found (%v)", n, err)
		return
	}
	var size int64
	if err := r.st.DB.QueryRowContext(ctx, schemaBytes).Scan(&size); err == nil {
		r.log("the database schema after the first syncs: %s (%.1f KiB per tenant of %d contacts)", mib(size), float64(size)/1024/float64(len(r.tenants)), r.o.contacts)
	}
	slots := (r.o.workers + 1) * r.o.bulkSlots
	r.warmRun = time.Duration(mean * float64(time.Second))
	r.log("a first sync's job of %d contacts took %s (mean of %d); %d bulk slots (%d processes × -bulk-slots %d) would run them all in %s at that, they took %s",
		r.o.contacts, r.warmRun.Round(time.Millisecond), n, slots, r.o.workers+1, r.o.bulkSlots,
		(r.warmRun * time.Duration(n) / time.Duration(slots)).Round(time.Second), el.Round(time.Second))
}

// loadPairs picks up to 20 linked contacts per tenant for the trickle.
func (r *rig) loadPairs(ctx context.Context) error {
	byID := make(map[string]*orgTenant, len(r.tenants))
	for _, t := range r.tenants {
		byID[t.id] = t
	}
	rows, err := r.st.DB.QueryContext(ctx, `SELECT tenant_id, salesforce_id, contact_id FROM (
		SELECT tenant_id, salesforce_id, contact_id, row_number() OVER (PARTITION BY tenant_id ORDER BY salesforce_id) AS n FROM links) l
		WHERE n <= 20`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var tid, sf, c string
		if err := rows.Scan(&tid, &sf, &c); err != nil {
			return err
		}
		if t := byID[tid]; t != nil {
			t.pairs = append(t.pairs, [2]string{sf, c})
		}
	}
	return rows.Err()
}
