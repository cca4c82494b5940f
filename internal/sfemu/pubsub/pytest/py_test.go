package pytest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
)

// python finds an interpreter with grpc, protobuf and avro, and the proto
// tools, or skips loudly.
func python(t *testing.T) string {
	t.Helper()
	skip := func(why string) {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s; apt-get install python3-grpcio python3-protobuf python3-avro protobuf-compiler protobuf-compiler-grpc to run it ***\n\n", t.Name(), why)
		t.Skip("SKIPPING: " + why)
	}
	for _, tool := range []string{"protoc", "grpc_python_plugin"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip(tool + " is not on PATH")
		}
	}
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import grpc, google.protobuf, avro.io").Run() == nil {
			return py
		}
	}
	skip("no python3 with grpc, protobuf and avro")
	return ""
}

func TestPythonClientSubscribesAndReplays(t *testing.T) {
	t.Parallel()
	py := python(t)
	plugin, _ := exec.LookPath("grpc_python_plugin")
	stubs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stubs, "eventbusv1"), 0o755); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command("protoc", "-I", "../../../pubsubapi/proto", "--python_out="+stubs, "--grpc_python_out="+stubs,
		"--plugin=protoc-gen-grpc_python="+plugin, "eventbusv1/pubsub_api.proto")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}

	emu := sfemu.New(sfemu.Options{})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	emu.SetBaseURL(ts.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{Edition: sfemu.Unlimited})
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
	cert, certPEM, err := pubsub.SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(t.TempDir(), "pubsub.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
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
		res, err := http.DefaultClient.Do(req)
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
	id := rest("POST", "sobjects/Contact", map[string]any{"LastName": "Lin", "Phone": "+886912345678"})
	rest("PATCH", "sobjects/Contact/"+id, map[string]any{"Email": "mei@example.com", "Phone": nil, "FirstName": "May"})
	rest("DELETE", "sobjects/Contact/"+id, nil)

	in, _ := json.Marshal(map[string]any{"endpoint": lis.Addr().String(), "certFile": certFile, "accessToken": tok.AccessToken,
		"instanceUrl": ts.URL, "tenantId": org.ID(), "topic": pubsub.TopicContactChangeEvent, "want": 3, "stubs": stubs})
	pctx, pcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer pcancel()
	cmd := exec.CommandContext(pctx, py, "client.py", string(in))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python client.py: %v\nstdout: %s\nstderr: %s", err, stdout, stderr.String())
	}
	type ev struct {
		ReplayID      int64    `json:"replayId"`
		ChangeType    string   `json:"changeType"`
		ChangeOrigin  string   `json:"changeOrigin"`
		RecordIDs     []string `json:"recordIds"`
		ChangedFields []string `json:"changedFields"`
		NulledFields  []string `json:"nulledFields"`
		Email         *string  `json:"email"`
		LastName      *string  `json:"lastName"`
	}
	lines := map[string]struct {
		CanSubscribe bool   `json:"canSubscribe"`
		Events       []ev   `json:"events"`
		Code         string `json:"code"`
		ErrorCode    string `json:"errorCode"`
	}{}
	for _, l := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		var c struct {
			Check string `json:"check"`
		}
		if json.Unmarshal([]byte(l), &c) == nil {
			v := lines[c.Check]
			_ = json.Unmarshal([]byte(l), &v)
			lines[c.Check] = v
		}
	}
	if !lines["topic"].CanSubscribe {
		t.Errorf("GetTopic: got %s, want can_subscribe", stdout)
	}
	all := lines["earliest"].Events
	if len(all) != 3 {
		t.Fatalf("earliest: got %d events, want 3\n%s\n%s", len(all), stdout, stderr.String())
	}
	origin := "com/salesforce/api/rest/" + sfapi.Version + ";client=sfsync"
	for i, want := range []string{"CREATE", "UPDATE", "DELETE"} {
		if e := all[i]; e.ChangeType != want || e.ChangeOrigin != origin || !slices.Equal(e.RecordIDs, []string{id}) {
			t.Errorf("event %d: got %s %q %v, want %s %q [%s]", i, e.ChangeType, e.ChangeOrigin, e.RecordIDs, want, origin, id)
		}
	}
	if c := all[0]; c.LastName == nil || *c.LastName != "Lin" {
		t.Errorf("CREATE: got LastName %v, want Lin", c.LastName)
	}
	u := all[1]
	if want := []string{"Email", "LastModifiedDate", "Name.FirstName", "Phone"}; !slices.Equal(u.ChangedFields, want) {
		t.Errorf("UPDATE changedFields: got %v, want %v", u.ChangedFields, want)
	}
	if !slices.Equal(u.NulledFields, []string{"Phone"}) || u.Email == nil || *u.Email != "mei@example.com" {
		t.Errorf("UPDATE: got nulled %v Email %v, want [Phone] and mei@example.com", u.NulledFields, u.Email)
	}
	if r := lines["replay"].Events; len(r) != 2 || r[0].ReplayID != all[1].ReplayID || r[1].ReplayID != all[2].ReplayID {
		t.Errorf("replay: got %+v, want the UPDATE and DELETE", r)
	}
	if b := lines["badtoken"]; b.Code != "UNAUTHENTICATED" || b.ErrorCode != pubsub.ErrCodeAuth {
		t.Errorf("bad token: got %q %q, want UNAUTHENTICATED %q", b.Code, b.ErrorCode, pubsub.ErrCodeAuth)
	}
}
