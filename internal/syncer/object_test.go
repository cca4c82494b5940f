package syncer_test

import (
	"fmt"

	"github.com/sfsync/sfsync/internal/salesforce/cdc"
	"github.com/sfsync/sfsync/internal/sfemu"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// TestNameRuleValueMapAndCreateDefaults runs the values that need more
// than a copy (issue 16 item 5) and what sfsync sets on the records it
// creates (item 4) through a pull and a push against the emulator.
func TestNameRuleValueMapAndCreateDefaults(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		src := contact.CustomFieldDef{Key: "source", Label: "來源", Type: contact.FieldText}
		if _, err := f.Store.CreateCustomField(f.ctx, f.Tenant.ID, src); err != nil {
			t.Fatal(err)
		}
		owner := f.Org.Human().ID
		cfg := memberConfig()
		cfg.Fields[1].NameRule = syncconf.NameChinese // LastName ↔ name, with FirstName
		cfg.Fields = append(cfg.Fields, syncconf.FieldMapping{SalesforceField: "LeadSource", PlatformField: "custom.source",
			Direction: syncconf.DirBoth, ValueMap: []syncconf.ValuePair{{Platform: "官網", Salesforce: "Web"}}})
		cfg.Create = syncconf.CreateOptions{
			Constants: []syncconf.ConstantValue{{SalesforceField: "Title", Value: "LINE 會員"}},
			Owner:     syncconf.OwnerUser, OwnerID: owner,
		}
		sfID := f.sfCreate(t, map[string]any{"LastName": "歐陽", "FirstName": "娜娜", "Member_Number__c": "M1", "LeadSource": "Web"})
		f.save(t, cfg)
		run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.pull(t, run, syncer.ModeFull); got.Counts.Created != 1 {
			t.Fatalf("first sync = %+v, want 1 created", got.Counts)
		}
		nana := f.platform(t, "M1")
		if nana.Name != "歐陽娜娜" || nana.Custom["source"] != "官網" {
			t.Fatalf("platform contact = name %q source %v, want 歐陽娜娜 and 官網", nana.Name, nana.Custom["source"])
		}

		// Platform → Salesforce: the name is split, the value mapped back.
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, nana.ID, contact.Input{Name: contact.Some("王小明")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		in, _ := contact.Rules{}.Normalize(contact.Input{MemberID: contact.Some("M2"), Name: contact.Some("Mary Ann Smith"),
			Custom: map[string]contact.Opt[any]{"source": contact.Some[any]("官網")}})
		if _, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		rec, _ := f.Org.Record(sfID)
		if rec["LastName"] != "王" || rec["FirstName"] != "小明" {
			t.Fatalf("Salesforce name = %v / %v, want LastName 王 and FirstName 小明", rec["LastName"], rec["FirstName"])
		}
		var mary map[string]any
		for _, id := range f.Org.ContactIDs(false) {
			if r, _ := f.Org.Record(id); r["Member_Number__c"] == "M2" {
				mary = r
			}
		}
		if mary == nil {
			t.Fatal("no Salesforce contact created for M2")
		}
		for k, want := range map[string]any{"FirstName": "Mary Ann", "LastName": "Smith", "LeadSource": "Web", "Title": "LINE 會員", "OwnerId": owner} {
			if mary[k] != want {
				t.Errorf("new Salesforce contact %s = %v, want %v", k, mary[k], want)
			}
		}

		// The writes come back as echoes: nothing to apply, no conflict.
		inc := f.syncNow(t)
		if inc.Counts.Updated != 0 || inc.Counts.Conflicts != 0 || inc.Counts.Failed != 0 {
			t.Errorf("pull after push = %+v, want no update, conflict or failure (echo)", inc.Counts)
		}
		if got := f.platform(t, "M1").Name; got != "王小明" {
			t.Errorf("platform name after the echo = %q, want 王小明", got)
		}
	})
}

// TestEnvForAnOrgWithoutPersonAccounts: the wizard's environment offers
// Contact and Lead, and Person Account only when the org describes
// Account with IsPersonAccount.
func TestEnvForAnOrgWithoutPersonAccounts(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	env, err := f.eng.EnvFor(f.ctx, f.Tenant.ID, syncconf.ObjectContact)
	if err != nil {
		t.Fatal(err)
	}
	got := env.Objects()
	for _, o := range got {
		if o == syncconf.ObjectPersonAccount && !env.PersonAccounts {
			t.Fatalf("Objects() = %v offers Person Account without them", got)
		}
	}
	if len(got) < 2 || got[0] != syncconf.ObjectContact || got[1] != syncconf.ObjectLead {
		t.Fatalf("Objects() = %v, want Contact and Lead first", got)
	}
	if env.Describe == nil || env.Describe.Name != "Contact" {
		t.Fatalf("describe = %v, want Contact", env.Describe)
	}
}

// TestSyncPerObject runs a first sync and a push that creates a record
// with each object the admin may choose (issue 16 item 2): Contact, Lead
// (Company from a constant) and Person Account (created with the person
// record type; business accounts never read).
func TestSyncPerObject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		choice    syncconf.ObjectChoice
		sobject   string
		identity  string
		constants []syncconf.ConstantValue
		seed      map[string]any
		business  map[string]any // a record of the same object that is out of scope
	}{
		{choice: syncconf.ObjectContact, sobject: "Contact", identity: "Email",
			seed: map[string]any{"LastName": "林", "FirstName": "美美", "Email": "mei@example.com"}},
		{choice: syncconf.ObjectLead, sobject: "Lead", identity: "Email",
			constants: []syncconf.ConstantValue{{SalesforceField: "Company", Value: "LINE 顧客"}},
			seed:      map[string]any{"LastName": "林", "FirstName": "美美", "Email": "mei@example.com", "Company": "個人"}},
		{choice: syncconf.ObjectPersonAccount, sobject: "Account", identity: "PersonEmail",
			seed:     map[string]any{"LastName": "林", "FirstName": "美美", "PersonEmail": "mei@example.com"},
			business: map[string]any{"Name": "林記商行"}},
	} {
		t.Run(string(tc.choice), func(t *testing.T) {
			t.Parallel()
			f := setup(t, store.SQLite)
			human := f.Org.Human().ID
			if tc.choice == syncconf.ObjectPersonAccount {
				f.Org.EnablePersonAccounts()
				for _, rt := range f.Org.RecordTypes("Account") {
					if rt.Person {
						tc.seed["RecordTypeId"] = rt.ID
					}
				}
			}
			if _, err := f.Org.CreateRecordAs(human, tc.sobject, tc.seed); err != nil {
				t.Fatalf("seed %s: %v", tc.sobject, err)
			}
			if tc.business != nil {
				if _, err := f.Org.CreateRecordAs(human, tc.sobject, tc.business); err != nil {
					t.Fatalf("seed business account: %v", err)
				}
			}
			cfg := syncconf.Config{SyncObject: tc.choice,
				Identity: syncconf.IdentityMapping{SalesforceField: tc.identity, PlatformIdentity: contact.IdentityEmail,
					ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
				Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth, NameRule: syncconf.NameChinese}},
				Create: syncconf.CreateOptions{Constants: tc.constants},
			}
			f.save(t, cfg)
			run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := f.pull(t, run, syncer.ModeFull)
			if got.Counts.Created != 1 || got.Counts.Failed != 0 {
				t.Fatalf("first sync of %s = %+v, want 1 created, none failed", tc.choice, got.Counts)
			}
			list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{})
			if len(list) != 1 || list[0].Name != "林美美" || list[0].Email != "mei@example.com" {
				t.Fatalf("platform contacts = %+v, want one 林美美 mei@example.com", list)
			}
			in, _ := contact.Rules{}.Normalize(contact.Input{Name: contact.Some("歐陽娜娜"), Email: contact.Some("nana@example.com")})
			if _, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
			if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
				t.Fatal(err)
			}
			var created map[string]any
			n := 0
			for _, id := range f.Org.RecordIDs(tc.sobject, false) {
				r, _ := f.Org.Record(id)
				if r[tc.identity] == "nana@example.com" {
					created, n = r, n+1
				}
			}
			if n != 1 {
				t.Fatalf("%d %s records for nana@example.com, want 1", n, tc.sobject)
			}
			if created["LastName"] != "歐陽" || created["FirstName"] != "娜娜" {
				t.Errorf("created %s name = %v / %v, want 歐陽 / 娜娜", tc.sobject, created["LastName"], created["FirstName"])
			}
			for _, k := range tc.constants {
				if created[k.SalesforceField] != k.Value {
					t.Errorf("created %s %s = %v, want %s", tc.sobject, k.SalesforceField, created[k.SalesforceField], k.Value)
				}
			}
			if tc.choice == syncconf.ObjectPersonAccount && created["IsPersonAccount"] != true {
				t.Errorf("created Account IsPersonAccount = %v, want true (the person record type)", created["IsPersonAccount"])
			}
			if links, _ := f.Store.CountLinks(f.ctx, f.Tenant.ID); links != 2 {
				t.Errorf("%d links, want 2", links)
			}
			// The echo of the push changes nothing.
			inc := f.syncNow(t)
			if inc.Counts.Created != 0 || inc.Counts.Updated != 0 || inc.Counts.Failed != 0 {
				t.Errorf("pull after push = %+v, want nothing created, updated or failed", inc.Counts)
			}
		})
	}
}

// TestLinkedLeadsConvertedMidSync converts linked Leads between runs
// (issue 16 item 3): each link moves to the Contact its Lead became, the
// log says so, no platform contact and no Lead is created for them, a
// platform edit of a converted one creates nothing in Salesforce, and a
// full resync keeps the moved links. Counts are checked on both sides.
func TestLinkedLeadsConvertedMidSync(t *testing.T) {
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
		cfg := syncconf.Config{SyncObject: syncconf.ObjectLead,
			Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
				ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
			Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}},
			Create: syncconf.CreateOptions{Constants: []syncconf.ConstantValue{{SalesforceField: "Company", Value: "LINE"}}},
		}
		f.save(t, cfg)
		run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.pull(t, run, syncer.ModeFull); got.Counts.Created != 3 {
			t.Fatalf("first sync = %+v, want 3 created", got.Counts)
		}
		// Convert two linked leads mid-sync: one into a new Contact, one
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
		if inc.Counts.Created != 0 || inc.Counts.Failed != 0 {
			t.Fatalf("pull after conversion = %+v, want nothing created or failed", inc.Counts)
		}
		recs, err := f.Store.RunRecords(f.ctx, f.Tenant.ID, inc.ID, syncer.KindMerged, "lead_converted", 0)
		if err != nil || len(recs) != 2 {
			t.Fatalf("log of the pull: %d lead_converted records, %v; want 2", len(recs), err)
		}
		byEmail := map[string]contact.Contact{}
		list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{})
		for _, c := range list {
			byEmail[c.Email] = c
		}
		if len(list) != 3 {
			t.Fatalf("%d platform contacts after conversion, want 3", len(list))
		}
		want := map[string]string{"a@example.com": resA.ContactID, "b@example.com": resB.ContactID, "c@example.com": leads[2]}
		for email, sfID := range want {
			c := byEmail[email]
			links, _ := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{c.ID})
			if links[c.ID].SalesforceID != sfID {
				t.Errorf("link of %s = %q, want %q", email, links[c.ID].SalesforceID, sfID)
			}
		}
		if resB.ContactID != existing {
			t.Errorf("conversion into an existing Contact made %s, want %s", resB.ContactID, existing)
		}

		// A platform edit of a converted one creates no Lead; the
		// unconverted one is still pushed.
		for _, email := range []string{"a@example.com", "c@example.com"} {
			if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, byEmail[email].ID, contact.Input{Name: contact.Some("X " + email)}, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(f.Org.RecordIDs("Lead", false)); n != 3 {
			t.Errorf("%d Leads in Salesforce after the push, want 3 (none created for converted ones)", n)
		}
		if r, _ := f.Org.Record(leads[2]); r["LastName"] != "X c@example.com" {
			t.Errorf("unconverted Lead LastName = %v, want the pushed X c@example.com", r["LastName"])
		}
		if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
			t.Errorf("%d outbox entries left, want 0 (the converted one acknowledged)", n)
		}
		if n := len(f.Org.RecordIDs("Contact", false)); n != 2 {
			t.Errorf("%d Contacts in Salesforce, want 2 (one new from conversion, one existing)", n)
		}

		// A full resync keeps the moved links and creates nothing.
		full, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := f.pull(t, full, syncer.ModeFull)
		if got.Counts.Created != 0 || got.Counts.Unlinked != 0 || got.Counts.Failed != 0 || got.Counts.Ambiguous != 0 {
			t.Errorf("full resync after conversion = %+v, want nothing created, unlinked, failed or held", got.Counts)
		}
		if n, _ := f.Store.CountLinks(f.ctx, f.Tenant.ID); n != 3 {
			t.Errorf("%d links after the full resync, want 3", n)
		}
		if n := f.countContacts(t); n != 3 {
			t.Errorf("%d platform contacts after the full resync, want 3", n)
		}

		// A change event of the Contact a lead became is not this sync's:
		// dropped unread, the link kept.
		feed := f.eng.NewFeed(f.Tenant.ID)
		res, err := feed.Apply(f.ctx, cdc.Batch{LatestReplayID: []byte{0, 0, 0, 0, 0, 0, 0, 9}, Events: []cdc.Event{{
			Entity: "Contact", Type: cdc.Update, RecordIDs: []string{resA.ContactID}, ChangedFields: []string{"LastName"},
			Fields: map[string]any{"LastName": "Z"}}}})
		if err != nil || res.Dropped != 1 || res.Fetched != 0 {
			t.Errorf("Contact event for a Lead sync: got %+v, %v; want dropped without a read", res, err)
		}
		if n, _ := f.Store.CountLinks(f.ctx, f.Tenant.ID); n != 3 {
			t.Errorf("%d links after a Contact event, want 3", n)
		}
	})
}

// TestDuplicateRuleRefusesACreate: Salesforce's duplicate rule refuses a
// record sfsync creates (DUPLICATES_DETECTED). Nothing is created; with
// on_duplicate review the existing record is offered in the review queue
// and an admin's link makes the link; with link it is linked at once.
func TestDuplicateRuleRefusesACreate(t *testing.T) {
	t.Parallel()
	for _, policy := range []syncconf.DuplicatePolicy{syncconf.DuplicateReview, syncconf.DuplicateLink} {
		t.Run(string(policy), func(t *testing.T) {
			t.Parallel()
			f := setup(t, store.SQLite)
			if err := f.Org.SetDuplicateRules(sfemu.DuplicateRules{Contact: sfemu.DuplicateBlock}); err != nil {
				t.Fatal(err)
			}
			// In Salesforce without a member number: outside the identity
			// match, but the duplicate rule's match (same name, e-mail).
			existing := f.sfCreate(t, map[string]any{"LastName": "Amy", "Email": "amy@example.com"})
			cfg := memberConfig()
			cfg.Create.OnDuplicate = policy
			f.save(t, cfg)
			in, _ := contact.Rules{}.Normalize(contact.Input{MemberID: contact.Some("M9"), Name: contact.Some("Amy"), Email: contact.Some("amy@example.com")})
			amy, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
				t.Fatal(err)
			}
			if n := len(f.Org.ContactIDs(false)); n != 1 {
				t.Fatalf("%d Salesforce contacts, want 1 (the refused one not created)", n)
			}
			if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
				t.Errorf("%d outbox entries left, want 0", n)
			}
			links, _ := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{amy.ID})
			if policy == syncconf.DuplicateLink {
				if links[amy.ID].SalesforceID != existing {
					t.Fatalf("link of Amy = %+v, want %s (linked to the duplicate at once)", links[amy.ID], existing)
				}
				return
			}
			if _, ok := links[amy.ID]; ok {
				t.Fatalf("Amy linked to %s before review, want no link", links[amy.ID].SalesforceID)
			}
			items, err := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
			if err != nil || len(items) != 1 || items[0].Kind != store.ReviewDuplicate || items[0].ContactID != amy.ID ||
				len(items[0].Candidates) != 1 || items[0].Candidates[0].SalesforceID != existing {
				t.Fatalf("review queue = %+v, %v; want one duplicate item for Amy with %s", items, err, existing)
			}
			if _, err := f.eng.ResolveReview(f.ctx, f.Tenant.ID, items[0].ID, store.ResolutionLinked, existing, "u_test"); err != nil {
				t.Fatal(err)
			}
			links, _ = f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{amy.ID})
			if links[amy.ID].SalesforceID != existing {
				t.Fatalf("link of Amy after the admin's link = %+v, want %s", links[amy.ID], existing)
			}
		})
	}
}
