package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// TestRealtimeAcrossWorkerProcesses runs two `sfsync worker` processes on
// one PostgreSQL database against the emulator's Pub/Sub API: exactly one
// holds the tenant's Change Data Capture subscription, a Salesforce change
// reaches the platform through it, and when the holder is killed with
// SIGKILL the other process takes the subscription over within 30 s and
// the next change arrives (issue 15).
func TestRealtimeAcrossWorkerProcesses(t *testing.T) {
	t.Parallel()
	sfsyncBinary(t)
	env := testenv.New(t, testenv.Options{Dialect: store.Postgres})
	raw := make([]byte, 32)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	kr, err := secret.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	env.Conn.Keyring = kr // the worker processes read the stored tokens
	env.Connect(t)
	var sfIDs []string
	for i := range 3 {
		id, err := env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%d", i), "Member_Number__c": fmt.Sprintf("M%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		sfIDs = append(sfIDs, id)
	}
	if err := env.Org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}}); err != nil {
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
	psCtx, stopPS := context.WithCancel(context.Background())
	psDone := make(chan error, 1)
	go func() {
		psDone <- pubsub.Serve(psCtx, lis, pubsub.New(env.Emu, pubsub.Options{}), &tls.Config{Certificates: []tls.Certificate{cert}})
	}()
	t.Cleanup(func() {
		stopPS()
		if err := <-psDone; err != nil {
			t.Logf("pub/sub server: %v", err)
		}
	})

	// The first sync runs here; the workers then subscribe.
	ctx := context.Background()
	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler)}
	if _, err := eng.SaveConfig(ctx, env.Tenant.ID, "u", syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}},
	}); err != nil {
		t.Fatal(err)
	}
	run, err := eng.StartInitialSync(ctx, env.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	for {
		err := eng.RunPull(ctx, env.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID)
		if err == nil {
			break
		}
		if !errors.Is(err, syncer.ErrContinue) {
			t.Fatal(err)
		}
	}

	procEnv := []string{"SFSYNC_DATABASE_URL=" + env.DSN, "SFSYNC_SECRET_KEY=" + key, "SFSYNC_DATA_DIR=" + t.TempDir(),
		"SFSYNC_SALESFORCE_CLIENT_ID=" + env.App.ClientID, "SFSYNC_SALESFORCE_CLIENT_SECRET=" + env.App.ClientSecret,
		"SFSYNC_SALESFORCE_LOGIN_URL=" + env.URL, "SFSYNC_PUBSUB_ENDPOINT=" + lis.Addr().String(), "SFSYNC_PUBSUB_CA=" + certFile}
	workers := map[int]*proc{}
	for _, name := range []string{"worker A", "worker B"} {
		p := startProc(t, name, procEnv, "worker")
		waitUntil(t, name+" to run", 60*time.Second, func() bool {
			if p.Exited() {
				t.Fatalf("%s exited: %v\n%s", name, p.err, p.Output())
			}
			return strings.Contains(p.Output(), "sfsync worker running")
		})
		workers[p.cmd.Process.Pid] = p
	}
	// The lease owner is the River client ID, host_PID_random.
	holder := func() (*proc, store.RealtimeStream) {
		rs, err := env.Store.GetRealtimeStream(ctx, env.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		for pid, p := range workers {
			if strings.Contains(rs.LeaseOwner, fmt.Sprintf("_%d_", pid)) {
				return p, rs
			}
		}
		return nil, rs
	}
	waitUntil(t, "one worker to stream and its catch-up pull to end", 60*time.Second, func() bool {
		p, rs := holder()
		if p == nil || rs.Mode != store.StreamRealtime || rs.CatchUp {
			return false
		}
		runs, err := env.Store.ListRuns(ctx, env.Tenant.ID, syncer.DirToPlatform, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Trigger == syncer.TriggerCatchUp && r.FinishedAt != nil {
				return true
			}
		}
		return false
	})
	name := func(sfID string) string {
		links, err := env.Store.LinksBySalesforceID(ctx, env.Tenant.ID, []string{sfID})
		if err != nil || len(links) != 1 {
			return ""
		}
		c, err := env.Store.GetContact(ctx, env.Tenant.ID, links[sfID].ContactID)
		if err != nil {
			return ""
		}
		return c.Name
	}
	if err := env.Org.ModifyAsHuman(sfIDs[0], map[string]any{"LastName": "Real time"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the change through the holder's stream", 20*time.Second, func() bool {
		_, rs := holder()
		return name(sfIDs[0]) == "Real time" && rs.ReplayID != nil
	})

	first, _ := holder()
	first.Kill9(t)
	killedAt := time.Now()
	// Made while no process subscribes: the new holder replays it.
	if err := env.Org.ModifyAsHuman(sfIDs[1], map[string]any{"LastName": "While down"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the other worker to take the subscription over", 45*time.Second, func() bool {
		p, rs := holder()
		return p != nil && p != first && rs.Mode == store.StreamRealtime
	})
	took := time.Since(killedAt)
	t.Logf("kill -9 of the holder: the other worker subscribed after %s", took.Round(100*time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("takeover after %s, want within 30 s", took)
	}
	waitUntil(t, "the change made while no process subscribed, through the new holder", 20*time.Second, func() bool {
		return name(sfIDs[1]) == "While down"
	})
	if runs, _ := env.Store.ListRuns(ctx, env.Tenant.ID, syncer.DirToPlatform, 20, 0); len(runs) > 0 {
		for _, r := range runs {
			if r.Trigger == syncer.TriggerCatchUp && r.StartedAt.After(killedAt) {
				t.Errorf("a catch-up pull ran after the takeover (run %d): the new holder should resume from the replay ID", r.ID)
			}
		}
	}
}
