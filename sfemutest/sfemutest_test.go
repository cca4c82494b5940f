package sfemutest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfemu"
)

func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestStart_TLSAndOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "c.csv")
	if err := os.WriteFile(csv, []byte("LastName,Email\nLin,lin@example.com\nWu,wu@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emu := Start(t, WithTLS(), WithSeedCSV(csv), WithContacts(3, 9), WithEdition("Unlimited"),
		WithClient("my-client", "my-secret"), WithCallbacks("http://localhost:9/cb"), WithTokenLifetime(time.Minute))
	if !strings.HasPrefix(emu.URL, "https://127.0.0.1:") || emu.CertFile == "" {
		t.Fatalf("got URL %s cert %q, want https on 127.0.0.1 and a certificate file", emu.URL, emu.CertFile)
	}
	status, body := get(t, emu.HTTPClient, emu.URL+"/services/data/v62.0/query?q=SELECT+COUNT()+FROM+Contact", emu.AccessToken)
	if status != 200 || body != `{"totalSize":5,"done":true,"records":[]}` {
		t.Errorf("count over https: got %d %s, want 5 (3 generated + 2 from the CSV)", status, body)
	}
	if emu.ClientID != "my-client" || emu.ClientSecret != "my-secret" || len(emu.CallbackURLs) != 1 || emu.CallbackURLs[0] != "http://localhost:9/cb" {
		t.Errorf("app: got %s %s %v", emu.ClientID, emu.ClientSecret, emu.CallbackURLs)
	}
	org := emu.Server.Orgs()[0]
	if org.Edition() != sfemu.Unlimited || org.ID() != emu.OrgID {
		t.Errorf("org: got %s %s, want Unlimited %s", org.Edition(), org.ID(), emu.OrgID)
	}
	if status, _ := get(t, emu.HTTPClient, emu.SideDoor+"orgs", ""); status != 200 {
		t.Errorf("side door: got %d, want 200", status)
	}
	emu.Server.Advance(2 * time.Minute)
	if status, _ := get(t, emu.HTTPClient, emu.URL+"/services/data/v62.0/limits", emu.AccessToken); status != 401 {
		t.Errorf("after the token lifetime: got %d, want 401", status)
	}
}

func TestStart_stopsAtCleanup(t *testing.T) {
	t.Parallel()
	var url string
	t.Run("inner", func(t *testing.T) {
		emu := Start(t)
		url = emu.URL
		if status, _ := get(t, emu.HTTPClient, url+"/services/data/", ""); status != 200 {
			t.Fatalf("versions: got %d, want 200", status)
		}
		if len(emu.CallbackURLs) != 1 || emu.CallbackURLs[0] != DefaultCallbackURL {
			t.Errorf("callbacks: got %v, want [%s]", emu.CallbackURLs, DefaultCallbackURL)
		}
		if emu.Username == "" || emu.Password == "" || emu.UserUsername == "" || emu.UserPassword == "" || emu.RefreshToken == "" {
			t.Errorf("credentials: got %+v, want all set", emu)
		}
	})
	_, err := http.Get(url + "/services/data/")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("after the test: got %v, want connection refused", err)
	}
}

// fakeTB records a failure instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) TempDir() string                { return os.TempDir() }
func (f *fakeTB) Cleanup(func())                 {}
func (f *fakeTB) Fatalf(format string, a ...any) { f.failed = fmt.Sprintf(format, a...); panic(f) }

func TestStart_refusedSeedFailsTheTest(t *testing.T) {
	t.Parallel()
	csv := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(csv, []byte("LastName,Email\nLin,not-an-email\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tb := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != tb {
				panic(r)
			}
		}()
		Start(tb, WithSeedCSV(csv))
	}()
	if !strings.Contains(tb.failed, "start the emulator") || !strings.Contains(tb.failed, "bad.csv:2: Email:") {
		t.Errorf("got failure %q, want the test failed at start", tb.failed)
	}
}

func TestStart_objectOptions(t *testing.T) {
	t.Parallel()
	emu := Start(t, WithLeads(12), WithPersonAccounts(7), WithDuplicateRules("block"), WithSalesUsers(2))
	for q, want := range map[string]string{
		"SELECT+COUNT()+FROM+Lead":                                 `"totalSize":12`,
		"SELECT+COUNT()+FROM+Account+WHERE+IsPersonAccount+=+true": `"totalSize":7`,
		"SELECT+COUNT()+FROM+User+WHERE+Username+LIKE+'sales%25'":  `"totalSize":2`,
		"SELECT+COUNT()+FROM+RecordType+WHERE+IsPersonType+=+true": `"totalSize":1`,
	} {
		status, body := get(t, emu.HTTPClient, emu.URL+"/services/data/v62.0/query?q="+q, emu.AccessToken)
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: got %d %s, want %s", q, status, body, want)
		}
	}
	if d := emu.Server.Orgs()[0].DuplicateRules(); d.Lead != "block" || d.Contact != "block" {
		t.Errorf("duplicate rules: got %+v", d)
	}
}
