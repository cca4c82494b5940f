package syncer_test

import (
	"fmt"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// pairConfig is the pair "Lead, then the converted Contact", matched by
// e-mail, creating on both sides, the name two-way.
func pairConfig() syncconf.Config {
	return syncconf.Config{SyncObject: syncconf.ObjectLeadContact,
		Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}},
		Create: syncconf.CreateOptions{Constants: []syncconf.ConstantValue{{SalesforceField: "Company", Value: "LINE"}}},
	}
}

// byEmail maps the tenant's platform contacts by e-mail.
func (f *fixture) byEmail(t *testing.T) map[string]contact.Contact {
	t.Helper()
	list, err := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]contact.Contact{}
	for _, c := range list {
		out[c.Email] = c
	}
	return out
}

// linkOf is the Salesforce Id the platform contact is linked to, "" if none.
func (f *fixture) linkOf(t *testing.T, contactID string) string {
	t.Helper()
	links, err := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{contactID})
	if err != nil {
		t.Fatal(err)
	}
	return links[contactID].SalesforceID
}

// TestLeadThenContactPair runs the pair "Lead, then the converted
// Contact" (issue 16 item 3) on both databases: new platform contacts are
// pushed as Leads; a platform contact whose e-mail an existing Contact
// holds is linked to that Contact, not pushed as a Lead; linked Leads
// converted mid-sync move their links to the Contacts they became (logged,
// nothing created on either side), and from then on those Contacts are
// pulled and pushed; a deleted converted Contact is unlinked; a full
// resync keeps every link. Links and counts are checked on both sides.
func TestLeadThenContactPair(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		human := f.Org.Human().ID
		var leads []string
		for i, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			id, err := f.Org.CreateRecordAs(human, "Lead", map[string]any{"LastName": fmt.Sprintf("L%d", i), "Company": "個人", "Email": email})
			if err != nil {
				t.Fatal(err)
			}
			leads = append(leads, id)
		}
		// A customer who is a Contact already, never a Lead; and a Contact
		// that is nobody's on the platform: neither is pulled.
		dora := f.sfCreate(t, map[string]any{"LastName": "Dora", "Email": "d@example.com"})
		f.sfCreate(t, map[string]any{"LastName": "Other", "Email": "o@example.com"})
		f.save(t, pairConfig())
		run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.pull(t, run, syncer.ModeFull); got.Counts.Created != 3 || got.Counts.Failed != 0 {
			t.Fatalf("first sync = %+v, want 3 created (the Leads), none failed", got.Counts)
		}

		// New platform contacts: one is pushed as a Lead, the other's
		// e-mail is Dora's Contact, to which it is linked.
		for _, in := range []contact.Input{
			{Name: contact.Some("Eve"), Email: contact.Some("e@example.com")},
			{Name: contact.Some("Dora D"), Email: contact.Some("d@example.com")},
		} {
			n, _ := contact.Rules{}.Normalize(in)
			if _, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, n, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		pf := f.byEmail(t)
		if got := f.linkOf(t, pf["d@example.com"].ID); got != dora {
			t.Errorf("link of d@ = %q, want Dora's Contact %s (not a new Lead)", got, dora)
		}
		if r, _ := f.Org.Record(dora); r["LastName"] != "Dora D" {
			t.Errorf("Dora's Contact LastName = %v, want the pushed Dora D", r["LastName"])
		}
		if n := len(f.Org.RecordIDs("Lead", false)); n != 4 {
			t.Fatalf("%d Leads after the push, want 4 (one created, for e@)", n)
		}
		eve := f.linkOf(t, pf["e@example.com"].ID)
		if r, _ := f.Org.Record(eve); r["Email"] != "e@example.com" || r["Company"] != "LINE" {
			t.Errorf("Eve's link %s = %v, want the new Lead with Company LINE", eve, r)
		}

		// Convert two linked Leads mid-sync: one into a new Contact, one
		// into an existing Contact.
		existing := f.sfCreate(t, map[string]any{"LastName": "L1", "Email": "b@example.com"})
		resA, err := f.Org.ConvertLead(sfemu.LeadConversion{LeadID: leads[0]})
		if err != nil {
			t.Fatal(err)
		}
		resB, err := f.Org.ConvertLead(sfemu.LeadConversion{LeadID: leads[1], ContactID: existing})
		if err != nil {
			t.Fatal(err)
		}
		inc := f.syncNow(t)
		if inc.Counts.Created != 0 || inc.Counts.Failed != 0 || inc.Counts.Ambiguous != 0 {
			t.Fatalf("pull after conversion = %+v, want nothing created, failed or held", inc.Counts)
		}
		recs, err := f.Store.RunRecords(f.ctx, f.Tenant.ID, inc.ID, syncer.KindMerged, "lead_converted", 0)
		if err != nil || len(recs) != 2 {
			t.Fatalf("log of the pull: %d lead_converted records, %v; want 2", len(recs), err)
		}
		pf = f.byEmail(t)
		want := map[string]string{"a@example.com": resA.ContactID, "b@example.com": existing, "c@example.com": leads[2],
			"d@example.com": dora, "e@example.com": eve}
		for email, sfID := range want {
			if got := f.linkOf(t, pf[email].ID); got != sfID {
				t.Errorf("link of %s = %q, want %q", email, got, sfID)
			}
		}
		if resB.ContactID != existing {
			t.Errorf("conversion into an existing Contact made %s, want %s", resB.ContactID, existing)
		}

		// The converted Contacts go on: a Salesforce edit is pulled, a
		// platform edit pushed to the Contact; no Lead is created.
		if err := f.Org.ModifyAsHuman(resA.ContactID, map[string]any{"LastName": "Amy Z"}); err != nil {
			t.Fatal(err)
		}
		if inc := f.syncNow(t); inc.Counts.Updated != 1 || inc.Counts.Failed != 0 {
			t.Errorf("pull of a converted Contact's edit = %+v, want 1 updated", inc.Counts)
		}
		if got := f.byEmail(t)["a@example.com"].Name; got != "Amy Z" {
			t.Errorf("platform name of a@ = %q, want Amy Z (pulled from the Contact)", got)
		}
		for _, email := range []string{"b@example.com", "c@example.com"} {
			if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, pf[email].ID, contact.Input{Name: contact.Some("X " + email)}, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := f.Org.Record(existing); r["LastName"] != "X b@example.com" {
			t.Errorf("converted Contact LastName = %v, want the pushed X b@example.com", r["LastName"])
		}
		if r, _ := f.Org.Record(leads[2]); r["LastName"] != "X c@example.com" {
			t.Errorf("open Lead LastName = %v, want the pushed X c@example.com", r["LastName"])
		}
		if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
			t.Errorf("%d outbox entries left, want 0", n)
		}
		if n := len(f.Org.RecordIDs("Lead", false)); n != 4 {
			t.Errorf("%d Leads in Salesforce, want 4 (none created for converted ones)", n)
		}
		if n := len(f.Org.RecordIDs("Contact", false)); n != 4 {
			t.Errorf("%d Contacts in Salesforce, want 4 (Dora, Other, the existing one, one from conversion)", n)
		}
		// The echoes of the push change nothing.
		if inc := f.syncNow(t); inc.Counts.Updated != 0 || inc.Counts.Conflicts != 0 || inc.Counts.Failed != 0 {
			t.Errorf("pull after the push = %+v, want nothing updated, in conflict or failed", inc.Counts)
		}

		// A full resync keeps every link and creates nothing.
		full, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := f.pull(t, full, syncer.ModeFull)
		if got.Counts.Created != 0 || got.Counts.Unlinked != 0 || got.Counts.Failed != 0 || got.Counts.Ambiguous != 0 || got.Counts.OutOfScope != 0 {
			t.Errorf("full resync = %+v, want nothing created, unlinked, failed, held or out of scope", got.Counts)
		}
		if n, _ := f.Store.CountLinks(f.ctx, f.Tenant.ID); n != 5 {
			t.Errorf("%d links after the full resync, want 5", n)
		}
		if n := f.countContacts(t); n != 5 {
			t.Errorf("%d platform contacts after the full resync, want 5", n)
		}

		// A drift check of the Leads finds nothing: the links to Contacts
		// are not counted as Leads gone missing.
		dr, drep := f.drift(t)
		if drep.RecordsDrifted != 0 || dr.Counts.Unlinked != 0 || dr.Counts.Ambiguous != 0 {
			t.Errorf("drift check = %+v, %+v; want nothing drifted (the links to Contacts are not Leads to check)", dr.Counts, drep)
		}
		if n, _ := f.Store.CountLinks(f.ctx, f.Tenant.ID); n != 5 {
			t.Errorf("%d links after a drift check, want 5", n)
		}

		// A returning customer's new Lead, with the e-mail of a platform
		// contact linked to a Contact: not linked over the Contact's link,
		// no second platform contact; held for review.
		again, err := f.Org.CreateRecordAs(human, "Lead", map[string]any{"LastName": "Dora again", "Company": "個人", "Email": "d@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		inc = f.syncNow(t)
		if inc.Counts.Created != 0 || inc.Counts.Ambiguous != 1 {
			t.Errorf("pull of a new Lead with a linked Contact's e-mail = %+v, want nothing created, 1 held", inc.Counts)
		}
		if got := f.linkOf(t, pf["d@example.com"].ID); got != dora {
			t.Errorf("link of d@ after a new Lead with its e-mail = %q, want Dora's Contact %s kept", got, dora)
		}
		if err := f.Org.DeleteAsHuman(again); err != nil {
			t.Fatal(err)
		}
		f.syncNow(t)

		// The dry run of the pair previews the open Leads and the linked
		// Contacts: nothing to create or update.
		rep, err := f.eng.DryRun(f.ctx, f.Tenant.ID, pairConfig())
		if err != nil {
			t.Fatalf("DryRun: %v", err)
		}
		if rep.Create.Count != 0 || rep.Update.Count != 0 || rep.Unchanged.Count != 5 || rep.Rejected.Count != 0 {
			t.Errorf("dry run = create %d, update %d, unchanged %d, rejected %d; want 0, 0, 5 (2 open Leads, 3 linked Contacts), 0",
				rep.Create.Count, rep.Update.Count, rep.Unchanged.Count, rep.Rejected.Count)
		}
		sawContact := false
		for _, row := range rep.Unchanged.Samples {
			sawContact = sawContact || row.SalesforceID == dora
		}
		if !sawContact {
			t.Errorf("dry run samples = %+v, want Dora's Contact %s among them", rep.Unchanged.Samples, dora)
		}

		// A one-contact resync of a converted one reads its Contact.
		if err := f.Org.ModifyAsHuman(existing, map[string]any{"LastName": "Bea R"}); err != nil {
			t.Fatal(err)
		}
		res, err := f.eng.ResyncContact(f.ctx, f.Tenant.ID, pf["b@example.com"].ID)
		if err != nil {
			t.Fatalf("ResyncContact: %v", err)
		}
		if got := f.byEmail(t)["b@example.com"].Name; got != "Bea R" {
			t.Errorf("after a one-contact resync (%+v), b@'s name = %q, want Bea R from its Contact", res, got)
		}

		// A converted Contact deleted in Salesforce: unlinked, kept.
		if err := f.Org.DeleteAsHuman(resA.ContactID); err != nil {
			t.Fatal(err)
		}
		inc = f.syncNow(t)
		if inc.Counts.Unlinked != 1 {
			t.Errorf("pull after deleting a converted Contact = %+v, want 1 unlinked", inc.Counts)
		}
		if got := f.linkOf(t, pf["a@example.com"].ID); got != "" {
			t.Errorf("link of a@ after its Contact was deleted = %q, want none", got)
		}
		if n := f.countContacts(t); n != 5 {
			t.Errorf("%d platform contacts, want 5 (the unlinked one kept)", n)
		}
	})
}

// TestLeadThenContactPairNeverMergesTwoPeople: a platform contact whose
// e-mail an open Lead and a Contact both hold is neither linked nor pushed
// as a new Lead: it is logged as ambiguous with both as candidates.
func TestLeadThenContactPairNeverMergesTwoPeople(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	human := f.Org.Human().ID
	lead, err := f.Org.CreateRecordAs(human, "Lead", map[string]any{"LastName": "G", "Company": "個人", "Email": "g@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	con := f.sfCreate(t, map[string]any{"LastName": "G", "Email": "g@example.com"})
	cfg := pairConfig()
	cfg.Identity.ToPlatformNoMatch = syncconf.NoMatchUpdateOnly
	f.save(t, cfg)
	in, _ := contact.Rules{}.Normalize(contact.Input{Name: contact.Some("G"), Email: contact.Some("g@example.com")})
	g, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.linkOf(t, g.ID); got != "" {
		t.Errorf("g@ linked to %s, want no link", got)
	}
	if n := len(f.Org.RecordIDs("Lead", false)); n != 1 {
		t.Errorf("%d Leads, want 1 (none created)", n)
	}
	st, err := f.Store.GetSyncState(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := f.Store.RunRecords(f.ctx, f.Tenant.ID, st.PushRunID, syncer.KindAmbiguous, "ambiguous_salesforce", 0)
	if err != nil || len(recs) != 1 || recs[0].ContactID != g.ID {
		t.Fatalf("push log: %+v, %v; want one ambiguous record for g@", recs, err)
	}
	if d := recs[0].Detail; d != "candidates: "+con+", "+lead {
		t.Errorf("candidates = %q, want the Contact %s and the Lead %s", d, con, lead)
	}
}

// TestLeadThenContactPairRetryCheck: before a retry, the check of failed
// records reads a converted Lead's Contact as a Contact — found, not gone
// (the Lead query found nothing before).
func TestLeadThenContactPairRetryCheck(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	lead, err := f.Org.CreateRecordAs(f.Org.Human().ID, "Lead", map[string]any{"LastName": "Amy", "Company": "個人", "Email": "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pairConfig()
	cfg.Fields = append(cfg.Fields, syncconf.FieldMapping{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: syncconf.DirToPlatform})
	f.save(t, cfg)
	run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.pull(t, run, syncer.ModeFull); got.Counts.Created != 1 {
		t.Fatalf("first sync = %+v, want 1 created", got.Counts)
	}
	res, err := f.Org.ConvertLead(sfemu.LeadConversion{LeadID: lead})
	if err != nil {
		t.Fatal(err)
	}
	f.syncNow(t)
	if err := f.Org.ModifyAsHuman(res.ContactID, map[string]any{"MobilePhone": "12-34"}); err != nil {
		t.Fatal(err)
	}
	inc := f.syncNow(t)
	if inc.Counts.Failed != 1 {
		t.Fatalf("pull of the Contact's bad phone = %+v, want 1 failed", inc.Counts)
	}
	rc, err := f.eng.CheckRetry(f.ctx, f.Tenant.ID, inc.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	// Changed or unchanged by the second it failed in (a stamp in the
	// same whole second counts as changed); never gone.
	if rc.Failed != 1 || rc.Changed+rc.Unchanged != 1 || rc.Gone != 0 {
		t.Errorf("retry check = %+v, want 1 failed, found in Salesforce, none gone", rc)
	}
}
