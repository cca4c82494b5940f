package syncer_test

import (
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// The conflict rules act on one-sided edits too (X2, as HubSpot defines
// them), not only when a field changed on both sides. modelConfig maps
// LastName ↔ name "always Salesforce" and Birthdate ↔ birthday "prefer
// Salesforce unless blank". Before the decision core, a platform edit of
// either was written to Salesforce by the push.
func TestRulesRevertOneSidedPlatformEdits(t *testing.T) {
	cases := []struct {
		name     string
		edit     contact.Input
		sfField  string
		sfValue  string
		pfValue  func(contact.Contact) string
		wantCode string
	}{
		{"always Salesforce", contact.Input{Name: contact.Some("Amy Platform")}, "LastName", "Amy",
			func(c contact.Contact) string { return c.Name }, "overridden_always_salesforce"},
		{"prefer Salesforce unless blank", contact.Input{Birthday: contact.Some("1990-02-03")}, "Birthdate", "1980-01-02",
			func(c contact.Contact) string { return c.Birthday }, "overridden_prefer_salesforce_unless_blank"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, sfID, c := bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Birthdate": "1980-01-02"})
			if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, c.ID, tc.edit, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Minute)
			if err := f.runPush(f.ctx); err != nil {
				t.Fatal(err)
			}
			if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
				t.Fatal(err)
			}
			rec, _ := f.Org.Record(sfID)
			if got := sfString(rec[tc.sfField]); got != tc.sfValue {
				t.Errorf("Salesforce %s = %q, want %q kept (the platform's edit must not reach Salesforce)", tc.sfField, got, tc.sfValue)
			}
			got, err := f.Store.GetContact(f.ctx, f.Tenant.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if v := tc.pfValue(got); v != tc.sfValue {
				t.Errorf("platform value = %q, want %q (overridden by Salesforce's)", v, tc.sfValue)
			}
			runs, err := f.eng.ListRuns(f.ctx, f.Tenant.ID, syncer.RunFilter{Direction: syncer.DirToSalesforce})
			if err != nil || len(runs) == 0 {
				t.Fatalf("push runs: %v, %v", runs, err)
			}
			recs, err := f.eng.RunRecords(f.ctx, f.Tenant.ID, runs[0].ID, syncer.KindConflict, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].ReasonCode != tc.wantCode || recs[0].Field != tc.sfField {
				t.Errorf("conflict log %+v, want one %s entry for %s", recs, tc.wantCode, tc.sfField)
			}
		})
	}
}

// "Always platform" mirrors it: a Salesforce edit is written back over at
// the record's next pull (through the push) and logged as overridden.
func TestRuleAlwaysPlatformRevertsSalesforceEdit(t *testing.T) {
	f := newMFix(t, store.SQLite)
	f.t = t
	cfg := modelConfig()
	for i := range cfg.Fields {
		if cfg.Fields[i].SalesforceField == "Email" {
			cfg.Fields[i].Conflict = "always_platform"
		}
	}
	sfID, err := f.Org.CreateAsHuman(map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.SaveConfig(f.ctx, f.Tenant.ID, "u_model", cfg); err != nil {
		t.Fatal(err)
	}
	run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.Org.ModifyAsHuman(sfID, map[string]any{"Email": "amy.sf@example.com"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.runPush(f.ctx); err != nil {
		t.Fatal(err)
	}
	rec, _ := f.Org.Record(sfID)
	if got := sfString(rec["Email"]); got != "amy@example.com" {
		t.Errorf("Salesforce Email = %q, want the platform's amy@example.com written back", got)
	}
	list, err := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{MemberID: "M1"})
	if err != nil || len(list) != 1 || list[0].Email != "amy@example.com" {
		t.Fatalf("platform contact %v (%v), want its e-mail kept", list, err)
	}
}
