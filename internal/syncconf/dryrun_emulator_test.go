package syncconf

// The dry run end to end: the real REST client over HTTP against the
// Salesforce emulator (go test -tags emulator ./internal/syncconf/).

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/sfemu"
)

func TestDryRunAgainstEmulator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu := sfemu.New(sfemu.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	emu.SetBaseURL(srv.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{AdminUsername: "ada@acme.example.com", AdminPassword: "s3cret-pass"})
	if err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	tok, err := emu.IssueToken(org, "ada@acme.example.com")
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	client, err := salesforce.New(salesforce.Options{InstanceURL: tok.InstanceURL, Tokens: salesforce.StaticToken(tok.AccessToken),
		HTTPClient: srv.Client(), Logger: slog.New(slog.DiscardHandler), BackoffBase: time.Millisecond})
	if err != nil {
		t.Fatalf("salesforce.New: %v", err)
	}
	d, err := client.DescribeSObject(ctx, "Contact")
	if err != nil {
		t.Fatalf("DescribeSObject: %v", err)
	}

	rows := []map[string]any{
		{"LastName": "Chen", "Email": "a@x.com", "MobilePhone": "886912345678", "LeadSource": "Web", "LINE_UID__c": "U-a"}, // unchanged
		{"LastName": "Lin", "Email": "B@X.com", "LeadSource": "Web"},                                                       // update
		{"LastName": "Wu", "Email": "c@x.com", "MobilePhone": "+886 912 000 111", "LeadSource": "Web"},                     // create
		{"LastName": "Ho", "Email": "d@x.com", "MobilePhone": "0912345678", "LeadSource": "Web"},                           // rejected: phone
		{"LastName": "O'Brien", "Email": "o@x.com", "LeadSource": "Other"},                                                 // not selected
		{"LastName": "NoMail", "LeadSource": "Web"},                                                                        // not selected
	}
	for i := range 2100 {
		rows = append(rows, map[string]any{"LastName": fmt.Sprintf("Bulk %d", i), "Email": fmt.Sprintf("bulk%d@x.com", i), "LeadSource": "Web"})
	}
	for _, r := range rows {
		if _, err := org.CreateAsHuman(r); err != nil {
			t.Fatalf("CreateAsHuman(%v): %v", r, err)
		}
	}
	// The platform's contacts were updated after the Salesforce rows were
	// written, so newest_wins keeps the platform's name for a@x.com.
	later := emu.Now().Add(time.Hour)
	plat := &fakePlatform{identity: contact.IdentityEmail, contacts: []contact.Contact{
		{ID: "pa", Email: "a@x.com", Phone: "+886912345678", Name: "Chen", Updated: later,
			Social: []contact.SocialIdentity{{ChannelType: contact.ChannelLINE, ChannelID: "oa-1", UserID: "U-a"}}},
		{ID: "pb", Email: "b@x.com", Name: "Lim", Updated: later},
	}}
	cfg := dryRunConfig()
	cfg.Fields[1].Conflict = AlwaysSalesforce
	env := Env{Describe: d, CustomFields: testCustomFields()}
	before := client.Calls()
	rep, err := DryRun(ctx, &cfg, env, ClientSource{client}, plat, DryRunOptions{MaxRecords: 2050})
	if err != nil {
		t.Fatalf("DryRun: %v", err)
	}
	if rep.Matching != 2104 || rep.Scanned != 2050 || !rep.Truncated {
		t.Errorf("got matching %d, scanned %d, truncated %v; want 2104, 2050, true", rep.Matching, rep.Scanned, rep.Truncated)
	}
	if rep.Unchanged.Count != 1 || rep.Update.Count != 1 || rep.Rejected.Count != 1 || rep.Create.Count != 2047 {
		t.Errorf("got unchanged %d, update %d, rejected %d, create %d; want 1, 1, 1, 2047",
			rep.Unchanged.Count, rep.Update.Count, rep.Rejected.Count, rep.Create.Count)
	}
	if got := rep.RejectedByReason["invalid_phone"]; got != 1 {
		t.Errorf("rejected for invalid_phone: got %d, want 1", got)
	}
	if len(rep.Create.Samples) != DefaultDryRunSamples {
		t.Errorf("create samples: got %d, want %d", len(rep.Create.Samples), DefaultDryRunSamples)
	}
	if s := rep.Create.Samples[0]; !slices.ContainsFunc(s.Changes, func(c FieldChange) bool { return c.PlatformField == "phone" && c.To == "+886912000111" }) {
		t.Errorf("create of c@x.com: got changes %v, want phone +886912000111", s.Changes)
	}
	calls := int(client.Calls() - before)
	if calls != rep.APICalls || calls > 5+rep.Scanned/2000 {
		t.Errorf("API calls: client counted %d, report says %d; want equal and at most %d", calls, rep.APICalls, 5+rep.Scanned/2000)
	}
}
