package sfemu

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadContactsCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		csv       string
		wantN     int
		wantErrs  []string // substrings of the error; empty: no error
		wantFirst map[string]any
	}{
		{
			name: "ok, case-insensitive header, BOM, quoted newline, checkbox, date",
			csv: "\ufefflastname,FirstName,Email,Member_Number__c,Tier__c,Customer_Since__c,VIP__c,Description\n" +
				"王,小明,ming@example.com,M001,Gold,2020-05-01,true,\"two\nlines\"\n" +
				"Smith,,,M002,,,FALSE,\n",
			wantN: 2,
			wantFirst: map[string]any{"LastName": "王", "FirstName": "小明", "Email": "ming@example.com", "Member_Number__c": "M001",
				"Tier__c": "Gold", "VIP__c": true, "Description": "two\nlines"},
		},
		{
			name:     "unknown column",
			csv:      "LastName,Nickname__c\nA,b\n",
			wantErrs: []string{`seed.csv:1: column 2 "Nickname__c": no such field on Contact`},
		},
		{
			name:     "read-only column",
			csv:      "LastName,CreatedDate\nA,2020-01-01T00:00:00Z\n",
			wantErrs: []string{`seed.csv:1: column 2 "CreatedDate": field is not createable`},
		},
		{
			name: "bad rows name line and field, nothing is loaded",
			csv: "LastName,Email,Member_Number__c,Tier__c\n" +
				"Good,good@example.com,M1,Gold\n" +
				"Bad,not-an-email,M2,\n" +
				",x@example.com,M3,\n" +
				"Dup,,M1,\n" +
				"Pick,,M5,Platinum\n",
			wantErrs: []string{
				"seed.csv:3: Email: Email: invalid email address: not-an-email (INVALID_EMAIL_ADDRESS)",
				"seed.csv:4: LastName: Required fields are missing: [LastName] (REQUIRED_FIELD_MISSING)",
				"seed.csv:5: duplicate value found: Member_Number__c duplicates value on record with id: ",
				"(DUPLICATE_VALUE)",
				"seed.csv:6: Tier__c:",
				"(INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST)",
				"nothing loaded",
			},
		},
		{
			name:     "bad checkbox",
			csv:      "LastName,VIP__c\nA,yes\n",
			wantErrs: []string{`seed.csv:2: VIP__c: "yes" is not a checkbox value (want true or false)`},
		},
		{
			name:     "line numbers count quoted newlines",
			csv:      "LastName,Description,Email\nA,\"1\n2\n3\",a@example.com\nB,,bad\n",
			wantErrs: []string{"seed.csv:5: Email:"},
		},
		{
			name:     "empty file",
			csv:      "",
			wantErrs: []string{"seed.csv: empty file"},
		},
		{
			name:     "duplicate column",
			csv:      "LastName,lastname\nA,B\n",
			wantErrs: []string{"columns 1 and 2 both name LastName"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			if err := e.org.AddCustomField(CustomField{Name: "VIP__c", Label: "VIP", Type: "boolean"}); err != nil {
				t.Fatal(err)
			}
			n, err := e.org.LoadContactsCSV(strings.NewReader(tt.csv), "seed.csv")
			if len(tt.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("got no error, want %q", tt.wantErrs)
				}
				for _, want := range tt.wantErrs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("got error %q, want it to contain %q", err, want)
					}
				}
				if got := e.org.ContactCount(); got != 0 {
					t.Errorf("got %d contacts after a refused file, want 0", got)
				}
				if got := len(e.org.History("")); got != 0 {
					t.Errorf("got %d history entries after a refused file, want 0", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadContactsCSV: %v", err)
			}
			if n != tt.wantN || e.org.ContactCount() != tt.wantN {
				t.Fatalf("got %d loaded, %d in the org, want %d", n, e.org.ContactCount(), tt.wantN)
			}
			rec, ok := e.org.Record(e.org.ContactIDs(false)[0])
			if !ok {
				t.Fatal("first contact not found")
			}
			for k, want := range tt.wantFirst {
				if got := rec[k]; got != want {
					t.Errorf("%s: got %#v, want %#v", k, got, want)
				}
			}
			if got, ok := rec["Customer_Since__c"].(time.Time); !ok || got.Format(sfDate) != "2020-05-01" {
				t.Errorf("Customer_Since__c: got %#v, want 2020-05-01", rec["Customer_Since__c"])
			}
			if got := rec["OwnerId"]; got != e.org.Admin().ID {
				t.Errorf("OwnerId: got %v, want the admin %s", got, e.org.Admin().ID)
			}
		})
	}
}

func TestMain_help(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	err := Main(context.Background(), []string{"--help"}, &out, []string{"http://127.0.0.1:8080/oauth/salesforce/callback"}, nil)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	help := out.String()
	for _, want := range []string{
		"--contacts int\n        generate this many realistic contacts into a new org (default 0)",
		"--callback URL\n        accepted OAuth callback URL; repeat for several (default http://127.0.0.1:8080/oauth/salesforce/callback)",
		"--tls\n", "--seed FILE.csv", "--addr host:port", "(default 127.0.0.1:8383)", "--data file",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	flags := regexp.MustCompile(`(?m)^  --(\S+)`).FindAllStringSubmatch(help, -1)
	if len(flags) < 20 {
		t.Fatalf("got %d flags in the help, want every flag:\n%s", len(flags), help)
	}
	for _, block := range strings.Split(help, "\n  --")[1:] {
		if !strings.Contains(block, "(default ") {
			t.Errorf("flag --%s shows no default", strings.Fields(block)[0])
		}
	}
}

func TestMain_flagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--seed", "7"}, "--seed takes a CSV file of Contacts; the generated contacts' seed is --contacts-seed 7"},
		{[]string{"--edition", "Galactic"}, `--edition: unknown edition "Galactic"`},
		{[]string{"--addr", "127.0.0.1:0", "--tls", "--tls-cert", "x.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--addr", "127.0.0.1:0", "--seed", "/nonexistent/seed.csv"}, "--seed: open /nonexistent/seed.csv"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	}
	for _, tt := range tests {
		var out strings.Builder
		err := Main(context.Background(), tt.args, &out, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

// launchT starts an emulator for a test and stops it at cleanup.
func launchT(t *testing.T, cfg Config) *Instance {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	inst, err := Launch(cfg)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = inst.Close(ctx)
	})
	return inst
}

func TestLaunch_TLS(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "emu.pem")
	inst := launchT(t, Config{TLS: true, CertOut: certOut, Contacts: 3})
	if !strings.HasPrefix(inst.URL, "https://127.0.0.1:") {
		t.Fatalf("URL: got %s, want https://127.0.0.1:PORT", inst.URL)
	}
	written, err := os.ReadFile(certOut)
	if err != nil {
		t.Fatalf("certificate not written: %v", err)
	}
	block, _ := pem.Decode(written)
	if block == nil {
		t.Fatalf("certificate file is not PEM: %q", written)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := cert.PublicKeyAlgorithm; got != x509.ECDSA {
		t.Errorf("key algorithm: got %v, want ECDSA", got)
	}
	var ips []string
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Contains(cert.DNSNames, "localhost") || !slices.Contains(ips, "127.0.0.1") || !slices.Contains(ips, "::1") {
		t.Errorf("SANs: got %v %v, want localhost, 127.0.0.1 and ::1", cert.DNSNames, ips)
	}
	sum := sha256.Sum256(block.Bytes)
	if got, want := strings.ReplaceAll(inst.Fingerprint, ":", ""), strings.ToUpper(hex.EncodeToString(sum[:])); got != want {
		t.Errorf("fingerprint: got %s, want %s", got, want)
	}

	// A Go client that trusts only the written file reaches REST and OAuth.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(written) {
		t.Fatal("the written certificate does not load into a pool")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		base := strings.Replace(inst.URL, "127.0.0.1", host, 1)
		req, _ := http.NewRequest("GET", base+"/services/data/v62.0/query?q="+url.QueryEscape("SELECT COUNT() FROM Contact"), nil)
		req.Header.Set("Authorization", "Bearer "+inst.Token.AccessToken)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("query over https via %s: %v", host, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != `{"totalSize":3,"done":true,"records":[]}` {
			t.Errorf("query via %s: got %d %s", host, res.StatusCode, body)
		}
		if got := CertificateFingerprint(res.TLS.PeerCertificates[0].Raw); got != inst.Fingerprint {
			t.Errorf("served certificate: got fingerprint %s, want %s", got, inst.Fingerprint)
		}
	}
	admin := inst.Org.Admin()
	res, err := client.PostForm(inst.URL+"/services/oauth2/token", url.Values{"grant_type": {"password"}, "client_id": {inst.App.ClientID},
		"client_secret": {inst.App.ClientSecret}, "username": {admin.Username}, "password": {admin.Password}})
	if err != nil {
		t.Fatalf("token over https: %v", err)
	}
	var tok struct {
		InstanceURL string `json:"instance_url"`
		ID          string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if tok.InstanceURL != inst.URL || !strings.HasPrefix(tok.ID, inst.URL+"/id/") {
		t.Errorf("token over https: got instance_url %q id %q, want them on %s", tok.InstanceURL, tok.ID, inst.URL)
	}
	res, err = client.Get(inst.URL + "/__emulator__/cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	side, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(side) != string(written) {
		t.Errorf("side-door cert.pem: got %q, want the written file", side)
	}

	// A client that does not trust it is refused, and plain HTTP is not served.
	if _, err := http.Get(inst.URL + "/services/data/"); err == nil {
		t.Error("default client: got a connection, want a certificate error")
	}
	res, err = http.Get(strings.Replace(inst.URL, "https://", "http://", 1) + "/services/data/")
	if err == nil {
		if res.StatusCode == 200 {
			t.Error("plain HTTP on the TLS port: got 200, want a refusal")
		}
		res.Body.Close()
	}
}

func TestLaunch_TLS_SANsAndGivenCertificate(t *testing.T) {
	t.Parallel()
	inst := launchT(t, Config{TLS: true, BaseURL: "https://emulator.ci.internal:9443", Addr: "127.0.0.1:0",
		CertOut: filepath.Join(t.TempDir(), "c.pem")})
	block, _ := pem.Decode(inst.CertPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.DNSNames, "emulator.ci.internal") {
		t.Errorf("SANs: got %v, want the --base-url host emulator.ci.internal", cert.DNSNames)
	}
	if inst.URL != "https://emulator.ci.internal:9443" || inst.Token.InstanceURL != inst.URL {
		t.Errorf("URL: got %s (token %s), want the --base-url", inst.URL, inst.Token.InstanceURL)
	}

	dir := t.TempDir()
	certPEM, keyPEM, err := GenerateCertificate([]string{"given.example"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	given := launchT(t, Config{TLS: true, TLSCertFile: certFile, TLSKeyFile: keyFile})
	block, _ = pem.Decode(certPEM)
	if want := CertificateFingerprint(block.Bytes); given.Fingerprint != want {
		t.Errorf("given certificate: got fingerprint %s, want %s", given.Fingerprint, want)
	}
	if given.CertFile != "" {
		t.Errorf("given certificate: got it written to %s, want no file written", given.CertFile)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get(given.URL + "/services/data/")
	if err != nil {
		t.Fatalf("given certificate: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("versions over the given certificate: got %d, want 200", res.StatusCode)
	}
}

func TestLaunch_TLS_defaultCertFileRemovedAtClose(t *testing.T) {
	t.Parallel()
	inst, err := Launch(Config{Addr: "127.0.0.1:0", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if dir := filepath.Dir(inst.CertFile); dir != filepath.Clean(os.TempDir()) {
		t.Errorf("default certificate file: got %s, want it in %s", inst.CertFile, os.TempDir())
	}
	if _, err := os.Stat(inst.CertFile); err != nil {
		t.Fatalf("certificate not written: %v", err)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inst.CertFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close: got %v, want the temporary certificate removed", err)
	}
}

func TestLaunch_wildcardAddrAndDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inst := launchT(t, Config{Addr: "0.0.0.0:0", DataFile: dir})
	if !strings.HasPrefix(inst.URL, "http://localhost:") {
		t.Errorf("URL for a wildcard listen address: got %s, want http://localhost:PORT", inst.URL)
	}
	if want := filepath.Join(dir, "emulator.json"); inst.DataFile != want {
		t.Errorf("data file for a directory: got %s, want %s", inst.DataFile, want)
	}
}

// TestWriteInfo_shellLines runs the printed export lines and sf command
// through a POSIX shell, so the quoting is checked by the shell itself.
func TestWriteInfo_shellLines(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "it's.pem") // a quote in the path
	inst := launchT(t, Config{TLS: true, CertOut: certOut, Callbacks: []string{"http://127.0.0.1:8080/oauth/salesforce/callback"}})
	var out strings.Builder
	inst.WriteInfo(&out)
	info := out.String()
	var script []string
	sfLine := ""
	for _, line := range strings.Split(info, "\n") {
		switch {
		case strings.HasPrefix(line, "export "):
			script = append(script, line)
		case strings.Contains(line, " sf org login access-token "):
			sfLine = line
		}
	}
	if sfLine == "" {
		t.Fatalf("no sf org login access-token line:\n%s", info)
	}
	// "sf" is a shell function here that prints what the CLI would get.
	script = append(script, `sf() { printf '%s\n' "token=$SF_ACCESS_TOKEN" "ca=$NODE_EXTRA_CA_CERTS" "$@"; }`, sfLine,
		`printf '%s\n' "$SFEMU_INSTANCE_URL" "$SFEMU_ACCESS_TOKEN" "$SFEMU_CLIENT_ID" "$SFEMU_CLIENT_SECRET" "$SFEMU_USERNAME" "$SFEMU_PASSWORD" "$SFEMU_USER_USERNAME" "$SFEMU_CA_CERT" "$SFSYNC_SALESFORCE_LOGIN_URL" "$SFSYNC_SALESFORCE_CLIENT_ID" "$SFSYNC_SALESFORCE_CLIENT_SECRET"`)
	sh, err := execShell(strings.Join(script, "\n"))
	if err != nil {
		t.Fatalf("shell: %v\n%s", err, info)
	}
	admin := inst.Org.Admin()
	want := strings.Join([]string{
		"token=" + inst.Token.AccessToken, "ca=" + certOut, "org", "login", "access-token", "--instance-url", inst.URL, "--no-prompt", "--alias", "sfemu",
		inst.URL, inst.Token.AccessToken, inst.App.ClientID, inst.App.ClientSecret, admin.Username, admin.Password, inst.Org.Human().Username, certOut,
		inst.URL, inst.App.ClientID, inst.App.ClientSecret,
	}, "\n") + "\n"
	if sh != want {
		t.Errorf("shell saw:\n%s\nwant:\n%s", sh, want)
	}
	for _, want := range []string{"TLS SHA-256:    " + inst.Fingerprint, "callback URL:   http://127.0.0.1:8080/oauth/salesforce/callback"} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
}
