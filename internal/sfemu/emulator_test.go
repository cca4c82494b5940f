package sfemu

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type env struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	org   *Org
	app   ConnectedApp
	token Token
	clock *fakeClock
}

const callback = "https://app.example.com/oauth/callback"

func setup(t *testing.T, opts ...func(*Options, *OrgOptions)) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	o := Options{Now: clock.Now}
	oo := OrgOptions{Edition: Developer}
	for _, f := range opts {
		f(&o, &oo)
	}
	srv := New(o)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	srv.SetBaseURL(ts.URL)
	org, err := srv.CreateOrg(oo)
	if err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	app, err := srv.RegisterConnectedApp(ConnectedAppOptions{Name: "sfsync", CallbackURLs: []string{callback}, RunAsUsername: org.Admin().Username})
	if err != nil {
		t.Fatalf("RegisterConnectedApp: %v", err)
	}
	tok, err := srv.IssueToken(org, org.Admin().Username)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return &env{t: t, srv: srv, ts: ts, org: org, app: app, token: tok, clock: clock}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errs decodes a Salesforce error array.
func (r resp) errs(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	r.json(t, &out)
	return out
}

func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.doToken(e.token.AccessToken, method, path, body, hdr...)
}

func (e *env) doToken(tok, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rdr = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rdr = bytes.NewReader(j)
	}
	if !strings.HasPrefix(path, "/") {
		path = sfapi.VersionPath + "/" + path
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rdr)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rdr != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func wantStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status: got %d, want %d (body %s)", r.status, want, r.body)
	}
}

func wantErrorCode(t *testing.T, r resp, status int, code string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	errs := r.errs(t)
	if len(errs) == 0 || errs[0]["errorCode"] != code {
		t.Fatalf("errorCode: got %s, want %s", r.body, code)
	}
	return errs[0]
}

func (e *env) create(fields map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "sobjects/Contact", fields)
	wantStatus(e.t, r, 201)
	var out struct {
		ID string `json:"id"`
	}
	r.json(e.t, &out)
	return out.ID
}

func newGzipRequest(e *env, body string) (*http.Request, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(body))
	_ = zw.Close()
	req, err := http.NewRequest("POST", e.ts.URL+sfapi.VersionPath+"/sobjects/Contact", &buf)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Accept-Encoding", "gzip")
	return req, nil
}

func gunzip(t *testing.T, r io.Reader) string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return string(b)
}

// advance moves the clock and issues a fresh token (the old one may have expired).
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.srv.Advance(d)
	tok, err := e.srv.IssueToken(e.org, e.org.Admin().Username)
	if err != nil {
		e.t.Fatal(err)
	}
	e.token = tok
}

func httptestServer(t *testing.T, h http.Handler) string {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// execShell runs script with /bin/sh and returns its standard output.
func execShell(script string) (string, error) {
	out, err := exec.Command("/bin/sh", "-c", script).Output()
	return string(out), err
}
