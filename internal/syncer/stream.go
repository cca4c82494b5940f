package syncer

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/salesforce/cdc"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
)

// Streamer holds the Change Data Capture subscriptions (issue 15) of the
// tenants whose leases this process holds. Every tenant that pulls from
// Salesforce and has finished its first sync gets one subscription to
// /data/ContactChangeEvent, held by exactly one process: a lease row in
// the database, renewed every ScanEvery and taken over by another process
// once it has not been renewed for LeaseTTL. Subscriptions share gRPC
// connections (StreamsPerConn streams each).
//
// A subscription resumes from the replay ID stored with the last applied
// batch. Without one (the first subscription, or one past retention), and
// after a gap or overflow event or a broken stream, an incremental pull
// from the last cursor catches up while the stream runs. An org without
// Change Data Capture, or without Contact selected, keeps polling; it is
// asked again every RecheckNoCDC.
type Streamer struct {
	Engine *Engine
	// Owner names this process in the lease rows; unique per process.
	Owner string
	// Endpoint is the Pub/Sub API (cdc.DefaultEndpoint when empty); TLS
	// is the configuration its certificate is checked with (system roots
	// when nil).
	Endpoint string
	TLS      *tls.Config
	Logger   *slog.Logger
	// Now is the clock of the leases (time.Now when nil).
	Now func() time.Time

	LeaseTTL       time.Duration // 20 s: a dead holder's tenants move within LeaseTTL + ScanEvery
	ScanEvery      time.Duration // 5 s: renew the leases, take free ones
	MaxTenants     int           // subscriptions per process (5,000)
	StreamsPerConn int           // subscriptions per gRPC connection (100)
	RecheckNoCDC   time.Duration // 1 hour
	// CatchUpDelay is how long after subscribing the catch-up pull starts,
	// so that the stream is registered before the pull reads (1 s).
	CatchUpDelay time.Duration
	MaxBackoff   time.Duration // 5 minutes

	mu      sync.Mutex
	streams map[string]*tenantStream
	conns   []*sharedConn
}

type tenantStream struct {
	cancel context.CancelFunc
	done   chan struct{}
}

type sharedConn struct {
	c     *cdc.Client
	users int
}

func (s *Streamer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Streamer) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return s.Engine.log()
}

// Held returns the tenants whose subscriptions this process holds now.
func (s *Streamer) Held() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.streams))
	for t := range s.streams {
		out = append(out, t)
	}
	return out
}

// Run holds subscriptions until ctx ends; it then stops them and gives
// the leases up, so another process takes them at once.
func (s *Streamer) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.streams == nil {
		s.streams = map[string]*tenantStream{}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		streams := s.streams
		s.streams = map[string]*tenantStream{}
		s.mu.Unlock()
		var held []string
		for t, ts := range streams {
			ts.cancel()
			<-ts.done // a stream releases its connection under s.mu
			held = append(held, t)
		}
		s.mu.Lock()
		for _, c := range s.conns {
			c.c.Close()
		}
		s.conns = nil
		s.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.Engine.Store.ReleaseLeases(rctx, s.Owner, held...); err != nil {
			s.log().Warn("giving up the real-time leases failed; they expire by themselves", "error", err)
		}
	}()
	tick := time.NewTicker(orDefault(s.ScanEvery, 5*time.Second))
	defer tick.Stop()
	for {
		if err := s.scan(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("real-time leases: scan failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// scan renews this process's leases, stops the subscriptions it lost, and
// takes free leases up to MaxTenants.
func (s *Streamer) scan(ctx context.Context) error {
	now := s.now()
	until := now.Add(orDefault(s.LeaseTTL, 20*time.Second))
	held, err := s.Engine.Store.RenewLeases(ctx, s.Owner, now, until)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, t := range held {
		keep[t] = true
	}
	s.mu.Lock()
	for t, ts := range s.streams {
		if !keep[t] {
			ts.cancel()
			delete(s.streams, t)
		}
	}
	free := orDefault(s.MaxTenants, 5000) - len(s.streams)
	for _, t := range held {
		if _, ok := s.streams[t]; !ok && free > 0 {
			s.start(ctx, t) // held but not running: a stream that ended
			free--
		}
	}
	s.mu.Unlock()
	if free <= 0 {
		return nil
	}
	claimed, err := s.Engine.Store.ClaimStreams(ctx, s.Owner, now, until, free)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range claimed {
		if _, ok := s.streams[t]; !ok {
			s.start(ctx, t)
		}
	}
	return nil
}

// start runs a tenant's subscription; s.mu is held.
func (s *Streamer) start(ctx context.Context, tenantID string) {
	sctx, cancel := context.WithCancel(ctx)
	ts := &tenantStream{cancel: cancel, done: make(chan struct{})}
	s.streams[tenantID] = ts
	go func() {
		defer close(ts.done)
		s.hold(sctx, tenantID)
	}()
}

// conn returns a shared connection with room for one more stream.
func (s *Streamer) conn() (*sharedConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if c.users < orDefault(s.StreamsPerConn, 100) {
			c.users++
			return c, nil
		}
	}
	c, err := cdc.Dial(cdc.Config{Endpoint: s.Endpoint, TLS: s.TLS})
	if err != nil {
		return nil, err
	}
	sc := &sharedConn{c: c, users: 1}
	s.conns = append(s.conns, sc)
	return sc, nil
}

func (s *Streamer) release(c *sharedConn) {
	s.mu.Lock()
	c.users--
	s.mu.Unlock()
}

// errGap ends a subscription after a gap or overflow event: it resumes
// after the event, with a catch-up pull beside it.
var errGap = errors.New("syncer: a gap or overflow event; catching up by polling")

// hold keeps one tenant's subscription up until ctx ends.
func (s *Streamer) hold(ctx context.Context, tenantID string) {
	e := s.Engine
	log := s.log().With("tenant_id", tenantID)
	feed := e.NewFeed(tenantID)
	backoff := time.Second
	refresh := false
	for ctx.Err() == nil {
		healthy, err := s.subscribe(ctx, tenantID, feed, refresh)
		if ctx.Err() != nil {
			return
		}
		refresh = false
		if healthy {
			backoff = time.Second
		}
		var wait time.Duration
		var ref *sfconn.Refusal
		var cerr *cdc.Error
		switch {
		case errors.Is(err, cdc.ErrTopicNotFound) || errors.As(err, &cerr) && cerr.Code == codes.PermissionDenied:
			log.Info("Change Data Capture is not available for Contact in this org; polling", "error", err)
			s.mode(ctx, tenantID, store.StreamPolling, ReasonNoCDC)
			wait = orDefault(s.RecheckNoCDC, time.Hour)
		case errors.Is(err, cdc.ErrReplayIDInvalid):
			// Past retention (or from another org): start at the newest
			// event, and let a pull catch up on what came between.
			log.Warn("the stored replay ID is no longer valid; catching up by polling", "error", err)
			if err := e.Store.SaveReplayID(ctx, tenantID, nil, true); err != nil {
				log.Warn("clearing the replay ID failed", "error", err)
				wait = backoff
			}
		case errors.Is(err, errGap):
			log.Info("gap or overflow event; catching up by polling")
		case errors.Is(err, cdc.ErrUnauthenticated):
			// An expired session: refresh the token and resume from the
			// replay ID (nothing is missed, so no catch-up is owed).
			refresh, wait = true, backoff
			backoff = min(backoff*2, orDefault(s.MaxBackoff, 5*time.Minute))
		case errors.As(err, &ref) || errors.Is(err, salesforce.ErrRefreshRevoked):
			s.mode(ctx, tenantID, store.StreamPolling, ReasonConnection)
			wait = orDefault(s.RecheckNoCDC, time.Hour)
		default:
			log.Warn("the change event stream broke; polling catches up, resubscribing", "error", err, "retry_in", backoff)
			s.mode(ctx, tenantID, store.StreamPolling, ReasonStreamBroken)
			if err := e.Store.SetCatchUp(ctx, tenantID, true); err != nil {
				log.Warn("recording the owed catch-up failed", "error", err)
			}
			wait = backoff
			backoff = min(backoff*2, orDefault(s.MaxBackoff, 5*time.Minute))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

func (s *Streamer) mode(ctx context.Context, tenantID, mode, reason string) {
	if err := s.Engine.Store.SetStreamMode(ctx, tenantID, mode, reason, s.Engine.now()); err != nil && ctx.Err() == nil {
		s.log().Warn("recording the stream mode failed", "tenant_id", tenantID, "error", err)
	}
}

// subscribe runs one subscription until it fails or ctx ends; healthy
// says whether it delivered anything.
func (s *Streamer) subscribe(ctx context.Context, tenantID string, feed *Feed, refresh bool) (healthy bool, err error) {
	e := s.Engine
	client, err := e.Conn.Client(ctx, tenantID)
	if err != nil {
		return false, err
	}
	conn, err := e.Store.GetConnection(ctx, tenantID)
	if err != nil {
		return false, err
	}
	tokens := client.Tokens()
	tok, err := tokens.AccessToken(ctx)
	if err == nil && refresh {
		tok, err = tokens.Refresh(ctx, tok)
	}
	if err != nil {
		return false, err
	}
	creds := cdc.Credentials{AccessToken: tok, InstanceURL: client.InstanceURL(), TenantID: conn.OrgID}
	sc, err := s.conn()
	if err != nil {
		return false, err
	}
	defer s.release(sc)
	cur, _, err := e.CurrentConfig(ctx, tenantID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	topic := cdc.TopicFor(cur.Object()) // the chosen object's channel (issue 16)
	err = sc.c.CheckTopic(ctx, creds, topic)
	if errors.Is(err, cdc.ErrUnauthenticated) && !refresh {
		if tok, err = tokens.Refresh(ctx, tok); err != nil {
			return false, err
		}
		creds.AccessToken = tok
		err = sc.c.CheckTopic(ctx, creds, topic)
	}
	if err != nil {
		return false, err
	}
	rs, err := e.Store.GetRealtimeStream(ctx, tenantID)
	if err != nil {
		return false, err
	}
	if rs.ReplayID == nil && !rs.CatchUp {
		// Owed from now on, durably: a crash before the pull ends runs it
		// again.
		if err := e.Store.SetCatchUp(ctx, tenantID, true); err != nil {
			return false, err
		}
		rs.CatchUp = true
	}
	if err := feed.Warm(ctx); err != nil {
		return false, err
	}
	s.mode(ctx, tenantID, store.StreamRealtime, "")
	s.log().InfoContext(ctx, "subscribed to Contact change events", "tenant_id", tenantID,
		"from", map[bool]string{true: "the stored replay ID", false: "the newest event"}[rs.ReplayID != nil], "catch_up", rs.CatchUp)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The catch-up pull and the batches take turns, so one tenant's
	// records are applied by one of them at a time.
	var mu sync.Mutex
	var wg sync.WaitGroup
	if rs.CatchUp {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(orDefault(s.CatchUpDelay, time.Second))
			defer t.Stop()
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
			mu.Lock()
			defer mu.Unlock()
			if err := e.CatchUp(sctx, tenantID); err != nil && sctx.Err() == nil {
				// The flag stays set: the next subscription tries again, and
				// the scheduled poll reads the changes meanwhile.
				s.log().Warn("catch-up pull failed", "tenant_id", tenantID, "error", err)
			}
		}()
	}
	err = sc.c.Subscribe(sctx, creds, topic, cdc.From{ReplayID: rs.ReplayID}, func(ctx context.Context, b cdc.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		res, err := feed.Apply(ctx, b)
		if err != nil {
			return err
		}
		healthy = true
		if res.Gap {
			return errGap
		}
		return nil
	})
	cancel()
	wg.Wait()
	return healthy, err
}
