package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/app"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/testenv"
)

// TestDemoChangesArriveInRealTime: the demo's emulated org publishes
// Contact change events over its Pub/Sub API and the demo's workers
// subscribe, so after the first sync a change made in Salesforce reaches
// the platform with no sync started (issue 15). No browser: the OAuth
// login is walked over HTTP.
func TestDemoChangesArriveInRealTime(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	ctx := context.Background()
	u, err := d.App.Conn.Start(ctx, d.TenantID, "session:test", "")
	if err != nil {
		t.Fatal(err)
	}
	q := testenv.BrowserAuthorizeTo(t, u, d.URL+app.CallbackPath, d.SFAdmin.Username, d.SFAdmin.Password, "allow")
	if _, err := d.App.Conn.Finish(ctx, d.TenantID, "session:test", sfconn.CallbackParams{State: q.Get("state"), Code: q.Get("code")}); err != nil {
		t.Fatal(err)
	}
	cfg := syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth},
			{SalesforceField: "Email", PlatformField: "email", Direction: syncconf.DirToPlatform}},
	}
	if _, err := d.App.Engine.SaveConfig(ctx, d.TenantID, "admin", cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := d.App.Engine.StartInitialSync(ctx, d.TenantID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the real-time subscription after the first sync", 90*time.Second, func() bool {
		rs, _ := d.App.Store.GetRealtimeStream(ctx, d.TenantID)
		return rs.Mode == store.StreamRealtime && !rs.CatchUp
	})
	page, err := d.App.Store.ListContacts(ctx, d.TenantID, store.ContactFilter{Limit: 1})
	if err != nil || len(page) == 0 {
		t.Fatalf("no platform contacts after the first sync: %v", err)
	}
	c := page[0]
	links, err := d.App.Store.LinksByContactID(ctx, d.TenantID, []string{c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Org.ModifyAsHuman(links[c.ID].SalesforceID, map[string]any{"Email": "realtime@example.com"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Salesforce change on the platform", 10*time.Second, func() bool {
		got, _ := d.App.Store.GetContact(ctx, d.TenantID, c.ID)
		return got.Email == "realtime@example.com"
	})
}

func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
