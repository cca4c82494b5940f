package sfemu

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// Main runs `sfsync emulator`: it serves an emulator on --addr until ctx
// is cancelled, after printing the instance URL, the Connected App's
// credentials and callback URLs, the admin login and a ready access token.
//
//	sfsync emulator --addr 127.0.0.1:8383 [--contacts N] [--edition E] [--data FILE]
//	                [--token-ttl D] [--callback URL]... [--seed N] [--client-id ID --client-secret S]
//	                [--fault-seed N --fault-latency D --fault-500-rate R --fault-503-rate R --fault-drop-rate R --fault-slow-rate R]
func Main(ctx context.Context, args []string, stdout io.Writer) error {
	fsFlags := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fsFlags.SetOutput(stdout)
	addr := fsFlags.String("addr", "127.0.0.1:8383", "listen address")
	contacts := fsFlags.Int("contacts", 0, "seed this many contacts into a new org")
	edition := fsFlags.String("edition", string(Developer), "edition of a new org: Developer, ProfessionalNoAPI, Professional, Enterprise, Unlimited")
	dataFile := fsFlags.String("data", "", "JSON file the emulator loads at start and saves on exit (and every 30s when changed)")
	tokenTTL := fsFlags.Duration("token-ttl", 2*time.Hour, "access token lifetime")
	seed := fsFlags.Uint64("seed", 1, "seed for generated contacts")
	clientID := fsFlags.String("client-id", "", "Connected App client id (generated when empty)")
	clientSecret := fsFlags.String("client-secret", "", "Connected App client secret (generated when empty)")
	rotate := fsFlags.Bool("rotate-refresh-tokens", false, "return a new refresh token on every refresh")
	faultSeed := fsFlags.Uint64("fault-seed", 1, "seed for injected faults")
	faultLatency := fsFlags.Duration("fault-latency", 0, "latency added to every /services answer")
	fault500 := fsFlags.Float64("fault-500-rate", 0, "share of /services requests answered 500 UNKNOWN_EXCEPTION")
	fault503 := fsFlags.Float64("fault-503-rate", 0, "share of /services requests answered 503 SERVER_UNAVAILABLE")
	faultDrop := fsFlags.Float64("fault-drop-rate", 0, "share of /services requests whose connection is dropped")
	faultSlow := fsFlags.Float64("fault-slow-rate", 0, "share of /services answers sent slowly")
	var callbacks stringList
	fsFlags.Var(&callbacks, "callback", "accepted OAuth callback URL (repeatable)")
	if err := fsFlags.Parse(args); err != nil {
		return err
	}
	ed, err := ParseEdition(*edition)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(Options{BaseURL: base, TokenLifetime: *tokenTTL, RotateRefreshTokens: *rotate, Logger: logger,
		Faults: Faults{Seed: *faultSeed, Latency: *faultLatency, ServerErrorRate: *fault500, UnavailableRate: *fault503,
			DropRate: *faultDrop, SlowBodyRate: *faultSlow}})
	loaded := false
	if *dataFile != "" {
		s.SetDataFile(*dataFile)
		err := s.Load(*dataFile)
		switch {
		case err == nil:
			loaded = true
		case errors.Is(err, fs.ErrNotExist):
		default:
			ln.Close()
			return err
		}
	}
	if len(callbacks) == 0 {
		callbacks = stringList{"http://localhost:8080/oauth/callback", "http://127.0.0.1:8080/oauth/callback"}
	}
	var org *Org
	var app ConnectedApp
	if loaded {
		org = s.Orgs()[0]
		apps := s.ConnectedApps()
		if len(apps) == 0 {
			ln.Close()
			return errors.New("emulator: the data file has no connected app")
		}
		app = apps[0]
	} else {
		org, err = s.CreateOrg(OrgOptions{Edition: ed})
		if err != nil {
			ln.Close()
			return err
		}
		app, err = s.RegisterConnectedApp(ConnectedAppOptions{Name: "sfsync", ClientID: *clientID, ClientSecret: *clientSecret,
			CallbackURLs: callbacks, RunAsUsername: org.Admin().Username})
		if err != nil {
			ln.Close()
			return err
		}
		if *contacts > 0 {
			if _, err := org.SeedContacts(*contacts, *seed); err != nil {
				ln.Close()
				return err
			}
		}
	}
	tok, err := s.IssueToken(org, org.Admin().Username)
	if err != nil {
		ln.Close()
		return err
	}
	admin := org.Admin()
	fmt.Fprintf(stdout, "Salesforce emulator listening\n")
	fmt.Fprintf(stdout, "  instance URL:   %s\n", base)
	fmt.Fprintf(stdout, "  login URL:      %s/services/oauth2/authorize\n", base)
	fmt.Fprintf(stdout, "  org:            %s (%s, %d contacts)\n", org.ID(), org.Edition(), org.ContactCount())
	fmt.Fprintf(stdout, "  client id:      %s\n", app.ClientID)
	fmt.Fprintf(stdout, "  client secret:  %s\n", app.ClientSecret)
	for _, cb := range app.CallbackURLs {
		fmt.Fprintf(stdout, "  callback URL:   %s\n", cb)
	}
	fmt.Fprintf(stdout, "  admin username: %s\n", admin.Username)
	fmt.Fprintf(stdout, "  admin password: %s\n", admin.Password)
	fmt.Fprintf(stdout, "  access token:   %s\n", tok.AccessToken)
	fmt.Fprintf(stdout, "  side door:      %s/__emulator__/\n", base)

	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var tick <-chan time.Time
	if *dataFile != "" {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		tick = t.C
	}
	saved := s.fingerprint()
	for {
		select {
		case <-tick:
			if fp := s.fingerprint(); fp != saved {
				if err := s.Save(); err != nil {
					fmt.Fprintf(stdout, "emulator: %v\n", err)
				} else {
					saved = fp
				}
			}
		case err := <-errc:
			return fmt.Errorf("emulator: serve: %w", err)
		case <-ctx.Done():
			shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutCtx)
			if *dataFile != "" {
				if err := s.Save(); err != nil {
					return err
				}
			}
			return nil
		}
	}
}
