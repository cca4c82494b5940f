package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/smtp"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Mailer sends e-mail through one SMTP server.
type Mailer struct {
	// Addr is the server's host:port.
	Addr string
	// ImplicitTLS: the connection is TLS from the start (smtps, port
	// 465); otherwise STARTTLS is used whenever the server offers it.
	ImplicitTLS bool
	Username    string
	Password    string
	From        string
	// TLSConfig is for tests (a private CA); nil uses the system's roots.
	TLSConfig *tls.Config
	Timeout   time.Duration // per message (30 s)
}

// ParseSMTPURL reads smtp://[user:pass@]host[:port] (STARTTLS when
// offered, port 587 by default) or smtps://… (implicit TLS, port 465).
func ParseSMTPURL(raw, from string) (*Mailer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
		return nil, errors.New("must be smtp://[user:password@]host[:port] or smtps://…")
	}
	m := &Mailer{ImplicitTLS: u.Scheme == "smtps", From: from}
	port := u.Port()
	if port == "" {
		port = "587"
		if m.ImplicitTLS {
			port = "465"
		}
	}
	m.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		m.Username = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	if from == "" {
		return nil, errors.New("needs a sender address (--smtp-from)")
	}
	return m, nil
}

// Send writes one plain-text message to every recipient.
func (m *Mailer) Send(ctx context.Context, to []string, subject, body string) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return err
	}
	tlsConf := m.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	tlsConf = tlsConf.Clone()
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = host
	}
	var d net.Dialer
	var conn net.Conn
	if m.ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConf}).DialContext(ctx, "tcp", m.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.Addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return err
		}
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("sfsync"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !m.ImplicitTLS {
		if err := c.StartTLS(tlsConf); err != nil {
			return err
		}
	}
	if m.Username != "" {
		// PlainAuth refuses to send the password over a connection that is
		// neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("recipient %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		m.From, strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", subject), time.Now().UTC().Format(time.RFC1123Z))
	msg.WriteString(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))
	if _, err := w.Write(msg.Bytes()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// SignatureHeader carries a webhook's signature: t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" with the tenant's secret> (Stripe's scheme;
// the timestamp inside the signed text stops replays).
const SignatureHeader = "Sfsync-Signature"

// Sign returns the SignatureHeader value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a SignatureHeader value against body, refusing one older
// (or newer) than tolerance at now: what a receiver does.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("alert: malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("alert: signature timestamp outside the tolerance (a replay?)")
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	_, wantSig, _ := strings.Cut(want, ",v1=")
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(wantSig)) {
			return nil
		}
	}
	return errors.New("alert: signature does not match")
}

// Webhook posts notices as signed JSON.
type Webhook struct {
	// Client is the HTTP client (nil: one with a 10 s timeout that refuses
	// private addresses, unless AllowPrivate).
	Client *http.Client
	Now    func() time.Time
	// AllowPrivate lets webhooks reach loopback, private, link-local and
	// other internal addresses. Off by default: a tenant's admin sets the
	// URL, and must not make the server post into its own network (the
	// cloud metadata address, the database, an internal admin page).
	AllowPrivate bool
}

// ErrPrivateAddress is the answer for a webhook URL that resolves to an
// internal address.
var ErrPrivateAddress = errors.New("alert: the webhook URL resolves to a private or internal address, which sfsync does not post to")

// publicOnly refuses a connection to an address that is not a public
// unicast one. It runs after name resolution, for every connection
// (redirects included), so a name that resolves inward is caught too.
func publicOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || cgnat.Contains(ip) || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return ErrPrivateAddress
	}
	return nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func (h *Webhook) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !h.AllowPrivate {
		d.Control = publicOnly
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would dial for us, past the check
	tr.DialContext = d.DialContext
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// Post sends one notice; any status but 2xx is an error.
func (h *Webhook) Post(ctx context.Context, url, secret string, n Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sfsync-alerts")
	req.Header.Set(SignatureHeader, Sign(secret, now, body))
	resp, err := h.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}
