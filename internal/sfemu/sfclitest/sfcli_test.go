package sfclitest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
	"github.com/sfsync/sfsync/internal/sfemu"
)

const (
	seedCount = 40
	alias     = "emu"
	// sfTimeout bounds one CLI run; the CLI alone takes seconds to start
	// on a busy machine.
	sfTimeout = 2 * time.Minute
)

// env is one emulator with a seeded org and a CLI logged in to it.
type env struct {
	srv  *sfemu.Server
	ts   *httptest.Server
	org  *sfemu.Org
	tok  sfemu.Token
	home string // the CLI's HOME: its config, auth files and logs
}

// sfResult is the --json envelope of every sf command.
type sfResult struct {
	Status  int             `json:"status"`
	Name    string          `json:"name"`
	Message string          `json:"message"`
	Result  json.RawMessage `json:"result"`
}

// sf runs the CLI with args and returns its stdout; it fails the test on
// a non-zero exit.
func (e *env) sf(t *testing.T, args ...string) []byte {
	t.Helper()
	began := time.Now()
	out, stderr, err := e.run(args...)
	t.Logf("sf %s: %s", strings.Join(args, " "), time.Since(began).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("sf %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, tail(out, 3000), tail(stderr, 3000))
	}
	return out
}

// sfJSON runs the CLI with --json, checks status 0 and decodes result
// into v.
func (e *env) sfJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := e.sf(t, append(args, "--json")...)
	var r sfResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("sf %s: decode %s: %v", strings.Join(args, " "), tail(out, 2000), err)
	}
	if r.Status != 0 {
		t.Fatalf("sf %s: got status %d, want 0: %s", strings.Join(args, " "), r.Status, tail(out, 2000))
	}
	if v != nil {
		if err := json.Unmarshal(r.Result, v); err != nil {
			t.Fatalf("sf %s: decode result %s: %v", strings.Join(args, " "), tail(r.Result, 2000), err)
		}
	}
}

// sfFail runs the CLI with --json, expecting it to fail, and returns the
// error envelope.
func (e *env) sfFail(t *testing.T, args ...string) sfResult {
	t.Helper()
	began := time.Now()
	out, stderr, err := e.run(append(args, "--json")...)
	t.Logf("sf %s --json: %s", strings.Join(args, " "), time.Since(began).Round(time.Millisecond))
	if err == nil {
		t.Fatalf("sf %s: got exit status 0, want a failure; stdout:\n%s", strings.Join(args, " "), tail(out, 2000))
	}
	var r sfResult
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("sf %s: decode %s: %v (stderr %s)", strings.Join(args, " "), tail(out, 2000), jerr, tail(stderr, 2000))
	}
	return r
}

func (e *env) run(args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), sfTimeout)
	defer cancel()
	bin, err := filepath.Abs(sfBin)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = e.home
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// environ is the process environment without the caller's own sf
// settings, with HOME and the XDG directories in a temporary directory
// and every network side channel (telemetry, update checks, release
// notes) off, so the CLI talks to the emulator only.
func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SF_") || strings.HasPrefix(k, "SFDX_") || strings.HasPrefix(k, "XDG_") || k == "HOME" {
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"HOME="+e.home,
		"XDG_CONFIG_HOME="+filepath.Join(e.home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(e.home, ".local", "share"),
		"XDG_CACHE_HOME="+filepath.Join(e.home, ".cache"),
		"SF_ACCESS_TOKEN="+e.tok.AccessToken,
		"SF_DISABLE_TELEMETRY=true",
		"SF_DISABLE_AUTOUPDATE=true",
		"SF_AUTOUPDATE_DISABLE=true",
		"SF_SKIP_NEW_VERSION_CHECK=true",
		"SF_HIDE_RELEASE_NOTES=true",
		"SF_HIDE_RELEASE_NOTES_FOOTER=true",
		"SF_USE_PROGRESS_BAR=false",
		"SF_CONTAINER_MODE=true",
		"NODE_NO_WARNINGS=1",
	)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}

// setup starts the emulator over real HTTP, seeds an org and logs the CLI
// in once; the subtests share the login.
func setup(t *testing.T) *env {
	t.Helper()
	srv := sfemu.New(sfemu.Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	srv.SetBaseURL(ts.URL)
	org, err := srv.CreateOrg(sfemu.OrgOptions{Edition: sfemu.Enterprise})
	if err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	if _, err := org.SeedContacts(seedCount, 11); err != nil {
		t.Fatalf("SeedContacts: %v", err)
	}
	tok, err := srv.IssueToken(org, org.Admin().Username)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return &env{srv: srv, ts: ts, org: org, tok: tok, home: t.TempDir()}
}

// login runs `sf org login access-token` with the alias every command
// uses, and checks what the CLI learnt about the org: userinfo, the User
// record, the version list and the Organization query, all sent to
// //services/... (the CLI stores the instance URL with a trailing slash).
func (e *env) login(t *testing.T) {
	t.Helper()
	admin := e.org.Admin()
	var login struct {
		Username           string `json:"username"`
		OrgID              string `json:"orgId"`
		InstanceURL        string `json:"instanceUrl"`
		InstanceAPIVersion string `json:"instanceApiVersion"`
		Name               string `json:"name"`
		InstanceName       string `json:"instanceName"`
		IsSandbox          bool   `json:"isSandbox"`
		OrgEdition         string `json:"orgEdition"`
	}
	e.sfJSON(t, &login, "org", "login", "access-token", "--instance-url", e.ts.URL, "--no-prompt", "--alias", alias)
	wantLogin := login
	wantLogin.Username, wantLogin.OrgID, wantLogin.InstanceURL = admin.Username, e.org.ID(), e.ts.URL+"/"
	wantLogin.InstanceAPIVersion = fmt.Sprintf("%d.0", sfapi.MaxVersion)
	wantLogin.Name, wantLogin.InstanceName, wantLogin.IsSandbox, wantLogin.OrgEdition = e.org.Name(), "EMU1", false, "Enterprise Edition"
	if login != wantLogin {
		t.Fatalf("org login access-token: got %+v, want %+v", login, wantLogin)
	}
}

// TestSfCLI runs the sf CLI's org, data and sobject commands against the
// emulator and checks what they print against the org's data.
func TestSfCLI(t *testing.T) {
	t.Parallel()
	requireCLI(t)
	start := time.Now()
	e := setup(t)
	admin := e.org.Admin()

	e.login(t)

	t.Run("read", func(t *testing.T) {
		t.Run("org display", func(t *testing.T) {
			t.Parallel()
			var got struct {
				ID              string `json:"id"`
				Username        string `json:"username"`
				InstanceURL     string `json:"instanceUrl"`
				ConnectedStatus string `json:"connectedStatus"`
				Alias           string `json:"alias"`
			}
			e.sfJSON(t, &got, "org", "display", "--target-org", alias)
			if got.ID != e.org.ID() || got.Username != admin.Username || got.InstanceURL != e.ts.URL+"/" || got.ConnectedStatus != "Connected" || got.Alias != alias {
				t.Errorf("org display: got %+v, want org %s, user %s, %s/, Connected, alias %s", got, e.org.ID(), admin.Username, e.ts.URL, alias)
			}
		})
		t.Run("org list limits", func(t *testing.T) {
			t.Parallel()
			type limit struct {
				Name      string `json:"name"`
				Max       int    `json:"max"`
				Remaining int    `json:"remaining"`
			}
			var got []limit
			e.sfJSON(t, &got, "org", "list", "limits", "--target-org", alias)
			i := slices.IndexFunc(got, func(l limit) bool { return l.Name == "DailyApiRequests" })
			// Other subtests' calls run meanwhile: remaining is checked
			// against the usage read after the command.
			used, max := e.org.APIUsage()
			if i < 0 || got[i].Max != max || got[i].Remaining < max-used || got[i].Remaining >= max {
				t.Errorf("org list limits: got %+v, want DailyApiRequests max %d, remaining in [%d, %d)", got, max, max-used, max)
			}
		})
		t.Run("data query json", func(t *testing.T) {
			t.Parallel()
			for _, format := range [][]string{{"--json"}, {"--result-format", "json"}} {
				out := e.sf(t, append([]string{"data", "query", "--target-org", alias, "--query", "SELECT Id, FirstName, LastName, Email, Birthdate FROM Contact ORDER BY Id"}, format...)...)
				var r sfResult
				if err := json.Unmarshal(out, &r); err != nil || r.Status != 0 {
					t.Fatalf("data query %v: got %s (%v), want status 0", format, tail(out, 1000), err)
				}
				var got struct {
					TotalSize int              `json:"totalSize"`
					Done      bool             `json:"done"`
					Records   []map[string]any `json:"records"`
				}
				if err := json.Unmarshal(r.Result, &got); err != nil {
					t.Fatal(err)
				}
				ids := e.org.ContactIDs(false)
				if got.TotalSize != seedCount || !got.Done || len(got.Records) != seedCount {
					t.Fatalf("data query %v: got totalSize %d, done %v, %d records, want %d, true, %d", format, got.TotalSize, got.Done, len(got.Records), seedCount, seedCount)
				}
				for i, rec := range got.Records {
					if rec["Id"] != ids[i] {
						t.Errorf("record %d: got Id %v, want %s", i, rec["Id"], ids[i])
						continue
					}
					want, _ := e.org.Record(ids[i])
					for _, f := range []string{"FirstName", "LastName", "Email", "Birthdate"} {
						if g, w := rec[f], wireValue(f, want[f]); g != w {
							t.Errorf("record %s %s: got %v, want %v", ids[i], f, g, w)
						}
					}
				}
			}
		})
		t.Run("data query csv", func(t *testing.T) {
			t.Parallel()
			out := e.sf(t, "data", "query", "--target-org", alias, "--result-format", "csv",
				"--query", "SELECT Id, LastName, Owner.Name FROM Contact ORDER BY Id LIMIT 5")
			rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatalf("parse CSV %s: %v", out, err)
			}
			names := map[string]string{}
			for _, u := range e.org.Users() {
				names[u.ID] = u.Name()
			}
			want := [][]string{{"Id", "LastName", "Owner.Name"}}
			for _, id := range e.org.ContactIDs(false)[:5] {
				rec, _ := e.org.Record(id)
				want = append(want, []string{id, rec["LastName"].(string), names[rec["OwnerId"].(string)]})
			}
			if !slices.EqualFunc(rows, want, slices.Equal) {
				t.Errorf("data query csv: got %q, want %q", rows, want)
			}
		})
		t.Run("data query human aggregate", func(t *testing.T) {
			t.Parallel()
			out := e.sf(t, "data", "query", "--target-org", alias, "--query", "SELECT COUNT(Id) FROM Contact")
			// A table with the column COUNT(ID) and one row holding the count.
			var cells []string
			for _, line := range strings.Split(string(out), "\n") {
				cells = append(cells, strings.Trim(strings.TrimSpace(line), "│ "))
			}
			if !slices.Contains(cells, "COUNT(ID)") || !slices.Contains(cells, strconv.Itoa(seedCount)) ||
				!strings.Contains(string(out), "Total number of records retrieved: 1.") {
				t.Errorf("data query COUNT(Id): got\n%s\nwant a COUNT(ID) column holding %d", out, seedCount)
			}
		})
		t.Run("data query error", func(t *testing.T) {
			t.Parallel()
			r := e.sfFail(t, "data", "query", "--target-org", alias, "--query", "SELECT Nope FROM Contact")
			if r.Name != "INVALID_FIELD" || !strings.Contains(r.Message, "No such column 'Nope' on entity 'Contact'") {
				t.Errorf("data query of an unknown field: got %s %q, want INVALID_FIELD No such column 'Nope'…", r.Name, r.Message)
			}
		})
		t.Run("data get record", func(t *testing.T) {
			t.Parallel()
			id := e.org.ContactIDs(false)[3]
			var got map[string]any
			e.sfJSON(t, &got, "data", "get", "record", "--target-org", alias, "--sobject", "Contact", "--record-id", id)
			want, _ := e.org.Record(id)
			if got["Id"] != id {
				t.Fatalf("data get record: got Id %v, want %s", got["Id"], id)
			}
			for _, f := range e.org.ContactFields() {
				if strings.HasSuffix(f, "Address") {
					continue // compound: its components are compared
				}
				if g, w := got[f], wireValue(f, want[f]); g != w {
					t.Errorf("data get record %s: got %v, want %v", f, g, w)
				}
			}
		})
		t.Run("sobject describe", func(t *testing.T) {
			t.Parallel()
			var got struct {
				Name      string `json:"name"`
				KeyPrefix string `json:"keyPrefix"`
				Fields    []struct {
					Name string `json:"name"`
				} `json:"fields"`
			}
			e.sfJSON(t, &got, "sobject", "describe", "--target-org", alias, "--sobject", "Contact")
			var names []string
			for _, f := range got.Fields {
				names = append(names, f.Name)
			}
			if got.Name != "Contact" || got.KeyPrefix != "003" || !slices.Equal(names, e.org.ContactFields()) {
				t.Errorf("sobject describe: got %s %s %v, want Contact 003 %v", got.Name, got.KeyPrefix, names, e.org.ContactFields())
			}
		})
		t.Run("sobject list", func(t *testing.T) {
			t.Parallel()
			var got []string
			e.sfJSON(t, &got, "sobject", "list", "--target-org", alias, "--sobject", "all")
			if !slices.IsSorted(got) || !slices.Contains(got, "Contact") || !slices.Contains(got, "User") || !slices.Contains(got, "Organization") {
				t.Errorf("sobject list: got %v, want a sorted list with Contact, Organization and User", got)
			}
		})
		t.Run("data export bulk", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			csvFile, jsonFile := filepath.Join(dir, "contacts.csv"), filepath.Join(dir, "contacts.json")
			query := "SELECT Id, LastName, Email FROM Contact ORDER BY Id"
			var res struct {
				TotalSize int    `json:"totalSize"`
				FilePath  string `json:"filePath"`
			}
			e.sfJSON(t, &res, "data", "export", "bulk", "--target-org", alias, "--query", query, "--output-file", csvFile, "--wait", "2")
			if res.TotalSize != seedCount || res.FilePath != csvFile {
				t.Errorf("data export bulk: got %+v, want totalSize %d, filePath %s", res, seedCount, csvFile)
			}
			b, err := os.ReadFile(csvFile)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatalf("parse %s: %v", b, err)
			}
			want := [][]string{{"Id", "LastName", "Email"}}
			for _, id := range e.org.ContactIDs(false) {
				rec, _ := e.org.Record(id)
				email, _ := rec["Email"].(string)
				want = append(want, []string{id, rec["LastName"].(string), email})
			}
			if !slices.EqualFunc(rows, want, slices.Equal) {
				t.Errorf("data export bulk CSV: got %q, want %q", rows, want)
			}

			e.sfJSON(t, &res, "data", "export", "bulk", "--target-org", alias, "--query", query, "--output-file", jsonFile, "--result-format", "json", "--wait", "2")
			b, err = os.ReadFile(jsonFile)
			if err != nil {
				t.Fatal(err)
			}
			var recs []map[string]any
			if err := json.Unmarshal(b, &recs); err != nil {
				t.Fatalf("parse %s: %v", b, err)
			}
			if len(recs) != seedCount {
				t.Fatalf("data export bulk JSON: got %d records, want %d", len(recs), seedCount)
			}
			for i, rec := range recs {
				if w := want[i+1]; rec["Id"] != w[0] || rec["LastName"] != w[1] || fmt.Sprint(rec["Email"]) != w[2] && !(rec["Email"] == nil && w[2] == "") {
					t.Errorf("data export bulk JSON record %d: got %v, want %q", i, rec, w)
				}
			}
		})
	})

	t.Run("write", func(t *testing.T) {
		// create → get by field → update by id and by field → delete →
		// queryAll sees the Recycle Bin row → get answers NOT_FOUND.
		var created struct {
			ID      string `json:"id"`
			Success bool   `json:"success"`
		}
		e.sfJSON(t, &created, "data", "create", "record", "--target-org", alias, "--sobject", "Contact",
			"--values", `LastName="O'Brien Tester" FirstName=Ann Email=ann.cli@example.com`)
		rec, ok := e.org.Record(created.ID)
		if !created.Success || !ok || rec["LastName"] != "O'Brien Tester" || rec["FirstName"] != "Ann" || rec["Email"] != "ann.cli@example.com" {
			t.Fatalf("data create record: got %+v, org record %v, want O'Brien Tester, Ann, ann.cli@example.com", created, rec)
		}
		if h := e.org.History(created.ID); len(h) != 1 || h[0].Type != "CREATE" || h[0].UserID != admin.ID || !strings.HasPrefix(h[0].Client, "sfdx toolbelt") {
			t.Errorf("history of the created record: got %+v, want one CREATE by %s from client sfdx toolbelt", h, admin.ID)
		}

		var got map[string]any
		e.sfJSON(t, &got, "data", "get", "record", "--target-org", alias, "--sobject", "Contact", "--where", "Email=ann.cli@example.com")
		if got["Id"] != created.ID || got["Name"] != "Ann O'Brien Tester" {
			t.Errorf("data get record --where: got Id %v Name %v, want %s, Ann O'Brien Tester", got["Id"], got["Name"], created.ID)
		}

		var updated struct {
			ID      string `json:"id"`
			Success bool   `json:"success"`
		}
		e.sfJSON(t, &updated, "data", "update", "record", "--target-org", alias, "--sobject", "Contact", "--record-id", created.ID,
			"--values", "Title='Chief Tester' Email=ann.marie@example.com")
		e.sfJSON(t, &updated, "data", "update", "record", "--target-org", alias, "--sobject", "Contact", "--where", "Email=ann.marie@example.com",
			"--values", "Phone='+886 2 1234 5678'")
		rec, _ = e.org.Record(created.ID)
		if !updated.Success || updated.ID != created.ID || rec["Title"] != "Chief Tester" || rec["Email"] != "ann.marie@example.com" || rec["Phone"] != "+886 2 1234 5678" {
			t.Errorf("data update record: got %+v, org record %v, want Title Chief Tester, Email ann.marie@example.com, Phone +886 2 1234 5678", updated, rec)
		}

		var deleted struct {
			ID      string `json:"id"`
			Success bool   `json:"success"`
		}
		e.sfJSON(t, &deleted, "data", "delete", "record", "--target-org", alias, "--sobject", "Contact", "--record-id", created.ID)
		if !deleted.Success || deleted.ID != created.ID || slices.Contains(e.org.ContactIDs(false), created.ID) || !slices.Contains(e.org.ContactIDs(true), created.ID) {
			t.Errorf("data delete record: got %+v; want the record in the Recycle Bin", deleted)
		}

		var all struct {
			TotalSize int              `json:"totalSize"`
			Records   []map[string]any `json:"records"`
		}
		e.sfJSON(t, &all, "data", "query", "--target-org", alias, "--all-rows",
			"--query", "SELECT Id, IsDeleted FROM Contact WHERE Id = '"+created.ID+"'")
		if all.TotalSize != 1 || len(all.Records) != 1 || all.Records[0]["IsDeleted"] != true {
			t.Errorf("data query --all-rows of the deleted record: got %+v, want it with IsDeleted true", all)
		}

		r := e.sfFail(t, "data", "get", "record", "--target-org", alias, "--sobject", "Contact", "--record-id", created.ID)
		if r.Name != "NOT_FOUND" {
			t.Errorf("data get record of a deleted record: got %s %q, want NOT_FOUND", r.Name, r.Message)
		}
	})
	t.Logf("sf CLI test took %s", time.Since(start).Round(time.Millisecond))
}

// dateFields are Contact's fields of type date; other time values are
// datetimes.
var dateFields = map[string]bool{"Birthdate": true, "LastActivityDate": true, "Customer_Since__c": true}

// wireValue renders field f's org.Record value as the REST API's JSON
// decodes in Go (times as Salesforce writes them, absent as nil).
func wireValue(f string, v any) any {
	if x, ok := v.(time.Time); ok {
		if dateFields[f] {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02T15:04:05.000+0000")
	}
	return v
}
