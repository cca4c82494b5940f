package alert_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/testenv"
)

// mail is one message the test's SMTP server accepted.
type mail struct {
	from string
	to   []string
	data string
}

// smtpServer is a small SMTP server on a local socket speaking the
// protocol (RFC 5321: greeting, EHLO, MAIL, RCPT, DATA with dot-stuffing,
// QUIT), so the Mailer is tested against a real exchange.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	got  []mail
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return
	}
	r := bufio.NewReader(c)
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	say("220 test.local ESMTP")
	var m mail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO":
			say("250-test.local")
			say("250 8BITMIME")
		case verb == "HELO":
			say("250 test.local")
		case strings.HasPrefix(strings.ToUpper(line), "MAIL FROM:"):
			m = mail{from: strings.Trim(line[len("MAIL FROM:"):], "<> ")}
			if i := strings.Index(m.from, ">"); i >= 0 {
				m.from = m.from[:i]
			}
			say("250 OK")
		case strings.HasPrefix(strings.ToUpper(line), "RCPT TO:"):
			m.to = append(m.to, strings.Trim(line[len("RCPT TO:"):], "<> "))
			say("250 OK")
		case verb == "DATA":
			say("354 end with <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = b.String()
			s.mu.Lock()
			s.got = append(s.got, m)
			s.mu.Unlock()
			say("250 OK queued")
		case verb == "RSET", verb == "NOOP":
			say("250 OK")
		case verb == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func (s *smtpServer) mails() []mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail(nil), s.got...)
}

// receiver is a webhook endpoint that checks every request's signature
// itself (HMAC-SHA256 of "<t>.<body>", a timestamp within 5 minutes), as
// a merchant's server would, and keeps the notices that pass.
type receiver struct {
	srv     *httptest.Server
	secret  string
	mu      sync.Mutex
	got     []alert.Notice
	refused int
}

func startReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{secret: secret}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !rc.valid(r.Header.Get("Sfsync-Signature"), body) {
			rc.mu.Lock()
			rc.refused++
			rc.mu.Unlock()
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var n alert.Notice
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, n)
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) valid(header string, body []byte) bool {
	var ts, sig string
	for _, p := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write([]byte(ts + "." + string(body)))
	return hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil))))
}

func (rc *receiver) notices() []alert.Notice {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]alert.Notice(nil), rc.got...)
}

const secret = "whsec-0123456789abcdef"

// TestAlertsOneNoticePerChange: each watched condition sends one e-mail
// and one signed webhook when it starts and one when it recovers, never
// one per check, on both databases.
func TestAlertsOneNoticePerChange(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.Options{Dialect: d})
			env.Connect(t)
			ctx := context.Background()
			mailSrv := startSMTP(t)
			rc := startReceiver(t, secret)
			tid := env.Tenant.ID
			svc := &alert.Service{Store: env.Store, Keyring: env.Conn.Keyring,
				Mailer: &alert.Mailer{Addr: mailSrv.addr, From: "alerts@sfsync.test"}, Webhook: &alert.Webhook{AllowPrivate: true}}
			if err := svc.SaveSettings(ctx, tid, alert.Settings{Emails: []string{"ops@shop.test", "owner@shop.test"}, WebhookURL: rc.srv.URL,
				WebhookSecret: secret, FailureRate: 0.2, ReviewDays: 3}); err != nil {
				t.Fatal(err)
			}
			// The secret is sealed at rest.
			raw, _ := env.Store.GetAlertSettings(ctx, tid)
			if raw.WebhookSecret == "" || strings.Contains(raw.WebhookSecret, secret) {
				t.Fatalf("stored webhook secret %q: want it sealed", raw.WebhookSecret)
			}
			check := func() {
				t.Helper()
				if err := svc.CheckAll(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// All well: nothing is sent, however often it is checked.
			check()
			check()
			if n := len(mailSrv.mails()) + len(rc.notices()); n != 0 {
				t.Fatalf("notices while all is well: %d, want 0", n)
			}

			// A run fails 3 of 10 (30% > 20%), twice: one notice.
			fail := func(failed int64) {
				run, err := env.Store.CreateRun(ctx, store.SyncRun{TenantID: tid, Direction: "to_platform", Trigger: "scheduled", Status: "running", ConfigVersion: 1})
				if err != nil {
					t.Fatal(err)
				}
				if err := env.Store.UpdateRun(ctx, tid, run.ID, store.RunProgress{Counts: store.SyncCounts{Scanned: 10, Failed: failed}, Processed: 10, Status: "partially_failed", Finished: true}); err != nil {
					t.Fatal(err)
				}
			}
			fail(3)
			check()
			fail(4)
			check()
			// The connection breaks; a run pauses for the budget; a review
			// item has been open 4 days.
			if err := env.Store.MarkConnectionBroken(ctx, tid, "refresh token revoked"); err != nil {
				t.Fatal(err)
			}
			if err := env.Store.SaveSyncState(ctx, store.SyncState{TenantID: tid, PausedUntil: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			env.Store.Now = func() time.Time { return time.Now().Add(-4 * 24 * time.Hour) }
			err := env.Store.Tx(ctx, func(tx *sql.Tx) error {
				_, err := env.Store.HoldTx(ctx, tx, tid, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "a@b.test",
					Candidates: []store.ReviewCandidate{{SalesforceID: "003A"}, {SalesforceID: "003B"}}})
				return err
			})
			env.Store.Now = time.Now
			if err != nil {
				t.Fatal(err)
			}
			check()
			check()
			want := map[alert.Kind]bool{alert.FailureRate: true, alert.ConnectionBroken: true, alert.BudgetPaused: true, alert.ReviewOverdue: true}
			got := rc.notices()
			if len(got) != 4 {
				t.Fatalf("webhook notices: got %d (%+v), want one per condition (4)", len(got), got)
			}
			for _, n := range got {
				if !want[n.Kind] || n.State != "firing" || n.TenantID != tid || n.Detail == "" {
					t.Errorf("notice %+v: want a firing notice of a watched condition with its detail", n)
				}
				delete(want, n.Kind)
			}
			mails := mailSrv.mails()
			if len(mails) != 4 {
				t.Fatalf("e-mails: got %d, want 4", len(mails))
			}
			m := mails[0]
			if m.from != "alerts@sfsync.test" || strings.Join(m.to, ",") != "ops@shop.test,owner@shop.test" || !strings.Contains(m.data, "Subject: [sfsync] alert: ") {
				t.Errorf("first e-mail: from %q to %v, data %q; want from alerts@sfsync.test to both, an alert subject", m.from, m.to, m.data)
			}

			// Everything recovers: one "recovered" notice each.
			fail(0)
			if err := env.Store.SaveSyncState(ctx, store.SyncState{TenantID: tid}); err != nil {
				t.Fatal(err)
			}
			if _, err := env.Store.DB.ExecContext(ctx, `UPDATE salesforce_connections SET status = 'connected'`); err != nil {
				t.Fatal(err)
			}
			items, _ := env.Store.ListReviewItems(ctx, tid, store.ReviewFilter{})
			if _, err := env.Store.ResolveReviewItem(ctx, tid, items[0].ID, store.ResolutionIgnored, "", "u1"); err != nil {
				t.Fatal(err)
			}
			check()
			check()
			got = rc.notices()[4:]
			if len(got) != 4 {
				t.Fatalf("recovery notices: got %d (%+v), want 4", len(got), got)
			}
			for _, n := range got {
				if n.State != "recovered" {
					t.Errorf("notice %+v: want recovered", n)
				}
			}
			if n := len(mailSrv.mails()); n != 8 {
				t.Errorf("e-mails after recovery: got %d, want 8", n)
			}
			if rc.refused != 0 {
				t.Errorf("receiver refused %d signatures", rc.refused)
			}
			states, _ := env.Store.AlertStates(ctx, tid)
			for k, s := range states {
				if s.Firing || s.LastError != "" {
					t.Errorf("state of %s: %+v, want recovered and delivered", k, s)
				}
			}
		})
	}
}

// TestWebhookSignature: Verify accepts what Sign made and refuses a
// changed body, a wrong secret and an old timestamp (a replay).
func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"kind":"connection_broken"}`)
	h := alert.Sign(secret, now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") {
		t.Fatalf("header %q: want t=…,v1=…", h)
	}
	if err := alert.Verify(secret, h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("valid signature refused: %v", err)
	}
	for name, err := range map[string]error{
		"changed body": alert.Verify(secret, h, []byte(`{"kind":"x"}`), now, 5*time.Minute),
		"wrong secret": alert.Verify("other-secret-0123456", h, body, now, 5*time.Minute),
		"replayed":     alert.Verify(secret, h, body, now.Add(10*time.Minute), 5*time.Minute),
		"malformed":    alert.Verify(secret, "v1=abc", body, now, 5*time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: accepted, want refused", name)
		}
	}
}

// TestWebhookRefusesInternalAddresses: a tenant's admin sets the webhook
// URL, so by default sfsync does not post to loopback, private,
// link-local (the cloud metadata address) or CGNAT addresses — a name
// that resolves there included — and nothing reaches the receiver. The
// operator's setting lets a private receiver through.
func TestWebhookRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	n := alert.Notice{Kind: alert.ConnectionBroken, TenantID: "t1", At: time.Now()}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/x", "http://169.254.169.254/latest/meta-data/",
		"http://10.1.2.3:9/x", "http://[::1]:" + port + "/x", "http://100.64.0.1:9/x"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := (&alert.Webhook{}).Post(ctx, u, secret, n)
		cancel()
		if !errors.Is(err, alert.ErrPrivateAddress) {
			t.Errorf("post to %s: got %v, want ErrPrivateAddress", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the receiver got %d posts, want none", hits.Load())
	}
	if err := (&alert.Webhook{AllowPrivate: true}).Post(context.Background(), srv.URL, secret, n); err != nil || hits.Load() != 1 {
		t.Errorf("with AllowPrivate: got %v and %d posts, want one delivered", err, hits.Load())
	}
}

// TestMailerRejectedRecipient: a failed
// delivery (an unknown recipient) is reported, not lost.
func TestMailerRejectedRecipient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		io.WriteString(c, "220 x ESMTP\r\n")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(l, "EHLO"):
				io.WriteString(c, "250 x\r\n")
			case strings.HasPrefix(l, "RCPT"):
				io.WriteString(c, "550 no such user\r\n")
			case strings.HasPrefix(l, "QUIT"):
				io.WriteString(c, "221 bye\r\n")
				return
			default:
				io.WriteString(c, "250 OK\r\n")
			}
		}
	}()
	m := &alert.Mailer{Addr: ln.Addr().String(), From: "a@x.test", Timeout: 5 * time.Second}
	err = m.Send(context.Background(), []string{"nobody@x.test"}, "s", "b")
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("send to a refused recipient: got %v, want the server's 550", err)
	}
}

// TestSettingsValidation names the bad field.
func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	ok := alert.Settings{FailureRate: 0.1, ReviewDays: 3}
	for _, tc := range []struct {
		name  string
		edit  func(*alert.Settings)
		field string
	}{
		{"bad e-mail", func(s *alert.Settings) { s.Emails = []string{"not an address"} }, "emails"},
		{"bad url", func(s *alert.Settings) { s.WebhookURL = "ftp://x" }, "webhook_url"},
		{"short secret", func(s *alert.Settings) { s.WebhookURL, s.WebhookSecret = "https://x.test/h", "short" }, "webhook_secret"},
		{"rate 0", func(s *alert.Settings) { s.FailureRate = 0 }, "failure_rate"},
		{"days 0", func(s *alert.Settings) { s.ReviewDays = 0 }, "review_days"},
	} {
		s := ok
		tc.edit(&s)
		var fe *alert.FieldError
		err := s.Validate()
		if fe, _ = err.(*alert.FieldError); fe == nil || fe.Field != tc.field {
			t.Errorf("%s: got %v, want an error naming %s", tc.name, err, tc.field)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestAChangeIsClaimedOnce: two processes that read the same state and
// see the same change both try to claim it; one wins, so one notice goes.
func TestAChangeIsClaimedOnce(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, d)
			tn := storetest.NewTenant(t, s, "A")
			ctx := context.Background()
			claim := func(known, was, now bool) bool {
				t.Helper()
				ok, err := s.ClaimAlertChange(ctx, tn.ID, "connection_broken", known, was, now, "")
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			// First sight: one insert wins.
			if !claim(false, false, false) || claim(false, false, false) {
				t.Fatalf("first sight: want exactly one claim")
			}
			// Both read "not firing" and see it fire: one wins.
			if a, b := claim(true, false, true), claim(true, false, true); !a || b {
				t.Errorf("firing: claims %v, %v; want true, false", a, b)
			}
			// Both read "firing" and see it recover: one wins.
			if a, b := claim(true, true, false), claim(true, true, false); !a || b {
				t.Errorf("recovery: claims %v, %v; want true, false", a, b)
			}
			st, _ := s.AlertStates(ctx, tn.ID)
			if st["connection_broken"].Firing {
				t.Errorf("state after recovery: %+v, want not firing", st["connection_broken"])
			}
		})
	}
}
