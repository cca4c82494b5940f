package npmtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"github.com/sfsync/sfsync/internal/testenv/nodetest"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
)

// requireNode makes sure node and the locked salesforce-pubsub-api-client
// are there (nodetest.Require: a loud skip without Node, a failure on CI).
func requireNode(t *testing.T) {
	t.Helper()
	nodetest.Require(t, nodetest.Options{What: "the Pub/Sub interoperability test", MinNode: [2]int{18, 0},
		Leaves: "node_modules/salesforce-pubsub-api-client/package.json"})
}

type nodeEvent struct {
	ReplayID      string            `json:"replayId"`
	ChangeType    string            `json:"changeType"`
	ChangeOrigin  string            `json:"changeOrigin"`
	RecordIDs     []string          `json:"recordIds"`
	ChangedFields []string          `json:"changedFields"`
	NulledFields  []string          `json:"nulledFields"`
	Email         *string           `json:"email"`
	Phone         *string           `json:"phone"`
	Name          map[string]string `json:"name"`
}

type checkLine struct {
	Check   string      `json:"check"`
	Events  []nodeEvent `json:"events"`
	Code    *int        `json:"code"`
	Details string      `json:"details"`
	Message string      `json:"message"`
}

func TestNodeClientSubscribesAndReplays(t *testing.T) {
	requireNode(t)
	emu := sfemu.New(sfemu.Options{})
	ts := httptest.NewTLSServer(emu) // the client insists on an https instance URL
	t.Cleanup(ts.Close)
	emu.SetBaseURL(ts.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{Edition: sfemu.Enterprise})
	if err != nil {
		t.Fatal(err)
	}
	if err := org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}}); err != nil {
		t.Fatal(err)
	}
	tok, err := emu.IssueToken(org, org.Admin().Username)
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := pubsub.SelfSignedCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- pubsub.Serve(ctx, lis, pubsub.New(emu, pubsub.Options{KeepAlive: time.Second}), &tls.Config{Certificates: []tls.Certificate{cert}})
	}()
	t.Cleanup(func() { cancel(); <-done })

	rest := func(method, path string, body any) string {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, ts.URL+sfapi.VersionPath+"/"+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sforce-Call-Options", "client=sfsync")
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: got %d %s", method, path, res.StatusCode, out)
		}
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		id, _ := m["id"].(string)
		return id
	}
	id := rest("POST", "sobjects/Contact", map[string]any{"LastName": "Lin", "FirstName": "Mei", "Phone": "+886912345678"})
	rest("PATCH", "sobjects/Contact/"+id, map[string]any{"Email": "mei@example.com", "Phone": nil, "FirstName": "May"})
	rest("DELETE", "sobjects/Contact/"+id, nil)

	in, _ := json.Marshal(map[string]any{"endpoint": lis.Addr().String(), "accessToken": tok.AccessToken, "instanceUrl": ts.URL,
		"organizationId": org.ID(), "topic": pubsub.TopicContactChangeEvent, "want": 3})
	nctx, ncancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer ncancel()
	cmd := exec.CommandContext(nctx, "node", "client.mjs", string(in))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	lines := map[string]checkLine{}
	for _, l := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		var c checkLine
		if json.Unmarshal([]byte(l), &c) == nil {
			lines[c.Check] = c
		}
	}
	if err != nil {
		t.Fatalf("node client.mjs: %v\nstdout: %s\nstderr: %s", err, stdout, stderr.String())
	}
	if c, ok := lines["error"]; ok {
		t.Fatalf("client error: %s", c.Message)
	}

	all := lines["earliest"].Events
	if len(all) != 3 {
		t.Fatalf("earliest: got %d events, want 3\nstdout: %s\nstderr: %s", len(all), stdout, stderr.String())
	}
	origin := "com/salesforce/api/rest/" + sfapi.Version + ";client=sfsync"
	for i, want := range []string{"CREATE", "UPDATE", "DELETE"} {
		ev := all[i]
		if ev.ChangeType != want || ev.ChangeOrigin != origin || !slices.Equal(ev.RecordIDs, []string{id}) {
			t.Errorf("event %d: got %s %q %v, want %s %q [%s]", i, ev.ChangeType, ev.ChangeOrigin, ev.RecordIDs, want, origin, id)
		}
	}
	if c := all[0]; c.Name["LastName"] != "Lin" || c.Phone == nil || *c.Phone != "+886912345678" {
		t.Errorf("CREATE: got Name %v Phone %v, want Lin and the phone", c.Name, c.Phone)
	}
	u := all[1]
	slices.Sort(u.ChangedFields)
	if want := []string{"Email", "LastModifiedDate", "Name.FirstName", "Phone"}; !slices.Equal(u.ChangedFields, want) {
		t.Errorf("UPDATE changedFields as the client decodes them: got %v, want %v", u.ChangedFields, want)
	}
	if !slices.Equal(u.NulledFields, []string{"Phone"}) || u.Email == nil || *u.Email != "mei@example.com" {
		t.Errorf("UPDATE: got nulledFields %v Email %v, want [Phone] and mei@example.com", u.NulledFields, u.Email)
	}
	replayed := lines["replay"].Events
	if len(replayed) != 2 || replayed[0].ReplayID != all[1].ReplayID || replayed[1].ReplayID != all[2].ReplayID {
		t.Errorf("replay from %s: got %+v, want the UPDATE and DELETE", all[0].ReplayID, replayed)
	}
	if c := lines["badtoken"]; c.Code == nil || *c.Code != 16 || !strings.Contains(c.Details, "authentication") {
		t.Errorf("bad token: got code %v details %q, want 16 (UNAUTHENTICATED) and Salesforce's message", c.Code, c.Details)
	}
}
