package sfemu

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func withPersonAccounts(_ *Options, oo *OrgOptions) { oo.PersonAccounts = true }

func describeFieldNames(t *testing.T, e *env, object string) map[string]bool {
	t.Helper()
	var d struct {
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
		RecordTypeInfos []struct {
			DeveloperName string `json:"developerName"`
			Available     bool   `json:"available"`
		} `json:"recordTypeInfos"`
	}
	e.do("GET", "sobjects/"+object+"/describe", nil).json(t, &d)
	out := map[string]bool{}
	for _, f := range d.Fields {
		out[f.Name] = true
	}
	for _, rt := range d.RecordTypeInfos {
		if rt.Available {
			out["rt:"+rt.DeveloperName] = true
		}
	}
	return out
}

func TestAccountWithoutPersonAccounts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fields := describeFieldNames(t, e, "Account")
	for _, n := range []string{"PersonEmail", "IsPersonAccount", "LastName", "Member_Number__pc", "PersonContactId"} {
		if fields[n] {
			t.Errorf("Account describe without Person Accounts: has %s", n)
		}
	}
	if !fields["Name"] || fields["RecordTypeId"] {
		t.Errorf("Account describe: got %v, want Name and no RecordTypeId", fields)
	}
	r := e.do("POST", "sobjects/Account", map[string]any{"LastName": "王", "PersonEmail": "a@example.com"})
	wantErrorCode(t, r, 400, "INVALID_FIELD")
	r = e.do("GET", "query?q="+url.QueryEscape("SELECT Id, PersonEmail FROM Account"), nil)
	if got := wantErrorCode(t, r, 400, "INVALID_FIELD"); !strings.Contains(got["message"].(string), "No such column 'PersonEmail'") {
		t.Errorf("query message: got %v", got["message"])
	}
	id := e.createObj("Account", map[string]any{"Name": "Acme"})
	if recs := e.query("SELECT Name FROM Account WHERE Id = '" + id + "'"); len(recs) != 1 || recs[0]["Name"] != "Acme" {
		t.Errorf("business account: got %v", recs)
	}
	if _, err := e.org.ConvertLead(LeadConversion{LeadID: e.createObj("Lead", map[string]any{"LastName": "X", "Company": "Y"}), PersonAccount: true}); err == nil {
		t.Error("person account conversion without Person Accounts: got no error")
	}
}

func TestPersonAccounts(t *testing.T) {
	t.Parallel()
	e := setup(t, withPersonAccounts)
	e.selectCDC("Account", "Contact")
	fields := describeFieldNames(t, e, "Account")
	for _, n := range []string{"IsPersonAccount", "RecordTypeId", "FirstName", "LastName", "PersonEmail", "PersonMobilePhone", "PersonBirthdate",
		"PersonContactId", "Member_Number__pc", "LINE_UID__pc", "Name", "rt:PersonAccount", "rt:Business_Account"} {
		if !fields[n] {
			t.Errorf("Account describe with Person Accounts: no %s", n)
		}
	}
	if !describeFieldNames(t, e, "Contact")["IsPersonAccount"] {
		t.Error("Contact describe: no IsPersonAccount")
	}
	if _, err := e.org.SeedContacts(5, 1); err != nil {
		t.Fatal(err)
	}
	if got := e.query("SELECT Id FROM Contact WHERE IsPersonAccount = false"); len(got) != 5 {
		t.Errorf("business contacts: got %d, want the 5 seeded", len(got))
	}
	rts := e.query("SELECT Id, DeveloperName, IsPersonType FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true")
	if len(rts) != 1 || rts[0]["DeveloperName"] != "PersonAccount" {
		t.Fatalf("person record type: got %v", rts)
	}
	personRT := rts[0]["Id"].(string)

	id := e.createObj("Account", map[string]any{"RecordTypeId": personRT, "FirstName": "小明", "LastName": "王", "PersonEmail": "xm@example.com",
		"PersonMobilePhone": "+886 912-345-678", "PersonBirthdate": "1990-05-01", "Member_Number__pc": "M1", "LINE_UID__pc": "U1"})
	acct := e.query("SELECT Name, IsPersonAccount, PersonContactId, PersonEmail, RecordTypeId FROM Account WHERE Id = '" + id + "'")
	if len(acct) != 1 || acct[0]["Name"] != "小明 王" || acct[0]["IsPersonAccount"] != true || acct[0]["RecordTypeId"] != personRT {
		t.Fatalf("person account: got %v", acct)
	}
	pcid, _ := acct[0]["PersonContactId"].(string)
	con := e.query("SELECT Id, LastName, Email, MobilePhone, Birthdate, Member_Number__c, AccountId, IsPersonAccount FROM Contact WHERE IsPersonAccount = true AND Email != null")
	if len(con) != 1 || con[0]["Id"] != pcid || con[0]["Email"] != "xm@example.com" || con[0]["Member_Number__c"] != "M1" ||
		con[0]["AccountId"] != id || con[0]["Birthdate"] != "1990-05-01" {
		t.Fatalf("person contact: got %v (PersonContactId %s)", con, pcid)
	}
	// Writes go through the account and reach its contact; the contact
	// itself is read-only.
	wantStatus(t, e.do("PATCH", "sobjects/Account/"+id, map[string]any{"PersonEmail": "new@example.com", "LastName": "黃"}), 204)
	if c, _ := e.org.Record(pcid); c["Email"] != "new@example.com" || c["Name"] != "小明 黃" {
		t.Errorf("person contact after account update: got %v", c)
	}
	// An update of the person's Contact reaches the account; its AccountId
	// cannot change and it cannot be deleted alone.
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+pcid, map[string]any{"Email": "x@example.com", "LINE_UID__c": "U2"}), 204)
	if a, _ := e.org.Record(id); a["PersonEmail"] != "x@example.com" || a["LINE_UID__pc"] != "U2" {
		t.Errorf("person account after a contact update: got %v", a)
	}
	if h := e.org.History(pcid); len(h) != 3 {
		t.Errorf("person contact history: got %d entries, want 3 (create, account update, own update; no echo)", len(h))
	}
	other := e.createObj("Account", map[string]any{"Name": "Other"})
	r := e.do("PATCH", "sobjects/Contact/"+pcid, map[string]any{"AccountId": other})
	if got := wantErrorCode(t, r, 400, "INVALID_FIELD_FOR_INSERT_UPDATE"); got["message"] != "Account: bad field names on insert/update call: AccountId" {
		t.Errorf("AccountId of a person contact: got %v", got)
	}
	wantErrorCode(t, e.do("DELETE", "sobjects/Contact/"+pcid, nil), 400, "INVALID_OPERATION")
	r = e.do("PATCH", "sobjects/Account/"+id, map[string]any{"Name": "X"})
	if got := wantErrorCode(t, r, 400, "INVALID_FIELD_FOR_INSERT_UPDATE"); got["message"] != "Account: bad field names on insert/update call: Name" {
		t.Errorf("Name of a person account on update: got %v", got)
	}
	// The person/business split, as Salesforce answers it.
	r = e.do("POST", "sobjects/Account", map[string]any{"RecordTypeId": personRT, "Name": "X", "LastName": "Y"})
	if got := wantErrorCode(t, r, 400, "INVALID_FIELD_FOR_INSERT_UPDATE"); !strings.HasPrefix(got["message"].(string), "Unable to create/update fields: Name.") {
		t.Errorf("Name of a person account on create: got %v", got)
	}
	wantErrorCode(t, e.do("POST", "sobjects/Account", map[string]any{"RecordTypeId": personRT, "FirstName": "Y"}), 400, "REQUIRED_FIELD_MISSING")
	r = e.do("POST", "sobjects/Account", map[string]any{"Name": "Acme", "PersonEmail": "a@example.com", "LINE_UID__pc": "U"})
	if got := wantErrorCode(t, r, 400, "INVALID_FIELD_FOR_INSERT_UPDATE"); got["message"] != "Account: bad field names on insert/update call: LINE_UID__pc, PersonEmail" {
		t.Errorf("person fields on a business account: got %v", got)
	}
	wantErrorCode(t, e.do("POST", "sobjects/Account", map[string]any{"Phone": "1"}), 400, "REQUIRED_FIELD_MISSING")
	biz := e.createObj("Account", map[string]any{"Name": "Acme"})
	if recs := e.query("SELECT IsPersonAccount, RecordType.DeveloperName FROM Account WHERE Id = '" + biz + "'"); len(recs) != 1 ||
		recs[0]["IsPersonAccount"] != false || recs[0]["RecordType"].(map[string]any)["DeveloperName"] != "Business_Account" {
		t.Errorf("business account: got %v", recs)
	}
	// Unique __pc values are unique as on Contact.
	wantErrorCode(t, e.do("POST", "sobjects/Account", map[string]any{"RecordTypeId": personRT, "LastName": "Z", "Member_Number__pc": "M1"}), 400, "DUPLICATE_VALUE")
	// Delete and undelete carry the contact along.
	wantStatus(t, e.do("DELETE", "sobjects/Account/"+id, nil), 204)
	if c, _ := e.org.Record(pcid); c["IsDeleted"] != true {
		t.Errorf("person contact after account delete: got IsDeleted %v", c["IsDeleted"])
	}
	if err := e.org.UndeleteAsHuman(id); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.org.Record(pcid); c["IsDeleted"] != false {
		t.Errorf("person contact after undelete: got IsDeleted %v", c["IsDeleted"])
	}
	var ents []string
	for _, ev := range e.org.ChangeEventsAfter(-1, 100).Events {
		ents = append(ents, ev.Entity)
	}
	if !strings.Contains(strings.Join(ents, ","), "Contact,Account") {
		t.Errorf("change events: got %v, want the contact's and the account's", ents)
	}
}

func TestConvertLeadToPersonAccount(t *testing.T) {
	t.Parallel()
	e := setup(t, withPersonAccounts)
	// In an org with Person Accounts, Company is optional, and a lead
	// without one becomes a person account.
	id := e.createObj("Lead", map[string]any{"LastName": "林", "FirstName": "怡君", "Email": "yj@example.com", "MobilePhone": "0912000222",
		"LINE_UID__c": "U9", "LeadSource": "Web"})
	res, err := e.org.ConvertLead(LeadConversion{LeadID: id})
	if err != nil {
		t.Fatal(err)
	}
	acct := e.query("SELECT IsPersonAccount, PersonContactId, PersonEmail, PersonMobilePhone, LINE_UID__pc, PersonLeadSource, Name FROM Account WHERE Id = '" + res.AccountID + "'")
	if len(acct) != 1 || acct[0]["IsPersonAccount"] != true || acct[0]["PersonContactId"] != res.ContactID || acct[0]["PersonEmail"] != "yj@example.com" ||
		acct[0]["PersonMobilePhone"] != "0912000222" || acct[0]["LINE_UID__pc"] != "U9" || acct[0]["PersonLeadSource"] != "Web" || acct[0]["Name"] != "怡君 林" {
		t.Fatalf("person account from lead: got %v (result %+v)", acct, res)
	}
	// Into an existing person account: only its blanks are filled.
	pa := e.createObj("Account", map[string]any{"RecordTypeId": e.org.RecordTypes("Account")[1].ID, "LastName": "陳", "PersonEmail": "keep@example.com"})
	id2 := e.createObj("Lead", map[string]any{"LastName": "陳", "Email": "lead@example.com", "MobilePhone": "0912000333"})
	res2, err := e.org.ConvertLead(LeadConversion{LeadID: id2, AccountID: pa})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.org.Record(pa)
	if res2.AccountID != pa || res2.ContactID != a["PersonContactId"] || a["PersonEmail"] != "keep@example.com" || a["PersonMobilePhone"] != "0912000333" {
		t.Errorf("convert into a person account: got %+v, account %v", res2, a)
	}
}

func TestRecordTypesAndOwners(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if describeFieldNames(t, e, "Lead")["RecordTypeId"] {
		t.Fatal("Lead has RecordTypeId before any record type")
	}
	r := e.doToken("", "POST", "/__emulator__/orgs/default/record-types", map[string]any{"sobjectType": "Lead", "developerName": "Consumer", "name": "Consumer"})
	wantStatus(t, r, 201)
	var rt RecordType
	r.json(t, &rt)
	if !describeFieldNames(t, e, "Lead")["RecordTypeId"] {
		t.Fatal("Lead has no RecordTypeId after a record type was added")
	}
	id := e.createObj("Lead", map[string]any{"LastName": "A", "Company": "B"})
	if l := e.query("SELECT RecordTypeId, RecordType.Name FROM Lead WHERE Id = '" + id + "'"); l[0]["RecordTypeId"] != rt.ID {
		t.Errorf("default record type: got %v, want %s", l, rt.ID)
	}
	wantErrorCode(t, e.do("POST", "sobjects/Lead", map[string]any{"LastName": "A", "Company": "B", "RecordTypeId": "012000000000001AAA"}), 400, "INVALID_CROSS_REFERENCE_KEY")
	users := e.query("SELECT Id, Username FROM User")
	if len(users) < 2 {
		t.Fatalf("users: got %v", users)
	}
	human := e.org.Human().ID
	id = e.createObj("Lead", map[string]any{"LastName": "A", "Company": "B", "OwnerId": human})
	if l := e.query("SELECT OwnerId, Owner.Username FROM Lead WHERE Id = '" + id + "'"); l[0]["OwnerId"] != human {
		t.Errorf("owner: got %v, want %s", l, human)
	}
	wantErrorCode(t, e.do("POST", "sobjects/Lead", map[string]any{"LastName": "A", "Company": "B", "OwnerId": "005000000000009AAA"}), 400, "INVALID_CROSS_REFERENCE_KEY")
}

func TestLeadAssignmentRule(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin, human := e.org.Admin().ID, e.org.Human()
	// No active rule: the creator owns the lead.
	id := e.createObj("Lead", map[string]any{"LastName": "A", "Company": "B"})
	if l, _ := e.org.Record(id); l["OwnerId"] != admin {
		t.Errorf("no rule: owner %v, want the creator", l["OwnerId"])
	}
	r := e.doToken("", "POST", "/__emulator__/orgs/default/assignment-rules", map[string]any{"name": "Round robin", "owners": []string{human.Username}, "active": true})
	wantStatus(t, r, 201)
	var rule AssignmentRule
	r.json(t, &rule)
	if q := e.query("SELECT Id, Name FROM AssignmentRule WHERE SobjectType = 'Lead' AND Active = true"); len(q) != 1 || q[0]["Id"] != rule.ID {
		t.Errorf("AssignmentRule query: got %v", q)
	}
	for _, c := range []struct {
		name, header string
		want         string
	}{
		{"default TRUE", "", human.ID},
		{"TRUE", "TRUE", human.ID},
		{"FALSE", "false", admin},
		{"rule id", rule.ID, human.ID},
	} {
		var hdr []string
		if c.header != "" {
			hdr = []string{"Sforce-Auto-Assign", c.header}
		}
		id := e.createObj("Lead", map[string]any{"LastName": "A", "Company": "B"}, hdr...)
		if l, _ := e.org.Record(id); l["OwnerId"] != c.want {
			t.Errorf("%s: owner %v, want %v", c.name, l["OwnerId"], c.want)
		}
	}
	wantErrorCode(t, e.do("POST", "sobjects/Lead", map[string]any{"LastName": "A", "Company": "B"}, "Sforce-Auto-Assign", "01Q000000000009"), 400, "INVALID_CROSS_REFERENCE_KEY")
	// Updates run the rule too unless the header says FALSE.
	wantStatus(t, e.do("PATCH", "sobjects/Lead/"+id, map[string]any{"Title": "x"}), 204)
	if l, _ := e.org.Record(id); l["OwnerId"] != human.ID {
		t.Errorf("update with the default header: owner %v, want the rule's", l["OwnerId"])
	}
	// Contacts have no assignment rules.
	cid := e.create(map[string]any{"LastName": "C"})
	if c, _ := e.org.Record(cid); c["OwnerId"] != admin {
		t.Errorf("contact owner: got %v", c["OwnerId"])
	}
}

func TestDuplicateRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	first := e.create(map[string]any{"LastName": "王", "FirstName": "小明", "Email": "XM@example.com"})
	// Off by default.
	e.create(map[string]any{"LastName": "王", "FirstName": "小明", "Email": "xm@example.com"})
	wantStatus(t, e.doToken("", "PUT", "/__emulator__/orgs/default/duplicate-rules", map[string]any{"Contact": "alert", "Lead": "block"}), 200)
	r := e.do("POST", "sobjects/Contact", map[string]any{"LastName": "王", "Email": "xm@example.com"})
	wantStatus(t, r, 400)
	var errs []struct {
		Dup struct {
			AllowSave    bool   `json:"allowSave"`
			Rule         string `json:"duplicateRule"`
			Entity       string `json:"duplicateRuleEntityType"`
			MatchResults []struct {
				EntityType   string `json:"entityType"`
				Size         int    `json:"size"`
				MatchRecords []struct {
					Record map[string]any `json:"record"`
				} `json:"matchRecords"`
			} `json:"matchResults"`
		} `json:"duplicateResut"`
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	r.json(t, &errs)
	if len(errs) != 1 || errs[0].ErrorCode != "DUPLICATES_DETECTED" || errs[0].Message != "You're creating a duplicate record. We recommend you use an existing record instead." || !errs[0].Dup.AllowSave ||
		errs[0].Dup.Rule != "Standard_Contact_Duplicate_Rule" || len(errs[0].Dup.MatchResults) != 1 || errs[0].Dup.MatchResults[0].Size != 2 ||
		errs[0].Dup.MatchResults[0].MatchRecords[0].Record["Id"] != first {
		t.Fatalf("DUPLICATES_DETECTED: got %s", r.body)
	}
	if !strings.HasPrefix(string(r.body), `[{"duplicateResut":{"allowSave":true,"duplicateRule":"Standard_Contact_Duplicate_Rule","duplicateRuleEntityType":"Contact"`) {
		t.Errorf("wire order: got %s", r.body)
	}
	// Alert: the header allows the save.
	wantStatus(t, e.do("POST", "sobjects/Contact", map[string]any{"LastName": "王", "Email": "xm@example.com"},
		"Sforce-Duplicate-Rule-Header", "allowSave=true"), 201)
	// A phone in another format matches too; a UI save with an alert goes through.
	e.create(map[string]any{"LastName": "Lee", "MobilePhone": "+886 912-345-678"})
	wantErrorCode(t, e.do("POST", "sobjects/Contact", map[string]any{"LastName": "lee", "Phone": "0912345678"}), 400, "DUPLICATES_DETECTED")
	if _, err := e.org.CreateAs(e.org.Human().ID, map[string]any{"LastName": "lee", "Phone": "0912345678"}); err != nil {
		t.Errorf("UI create with an alert rule: %v", err)
	}
	// Collections answer the bare error, as the Collections page shows.
	r = e.do("POST", "composite/sobjects", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]string{"type": "Contact"}, "LastName": "王", "Email": "xm@example.com"}}})
	if !strings.Contains(string(r.body), `"statusCode":"DUPLICATES_DETECTED","message":"You're creating a duplicate record. We recommend you use an existing record instead.","fields":[]`) ||
		strings.Contains(string(r.body), "duplicateResut") {
		t.Errorf("collection: got %s", r.body)
	}
	// Block: no header helps, and the UI is stopped too.
	e.createObj("Lead", map[string]any{"LastName": "Ng", "Company": "A", "Email": "ng@example.com"})
	r = e.do("POST", "sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "B", "Email": "NG@example.com"}, "Sforce-Duplicate-Rule-Header", "allowSave=true")
	if got := wantErrorCode(t, r, 400, "DUPLICATES_DETECTED"); !strings.Contains(string(r.body), `"allowSave":false`) ||
		!strings.Contains(string(r.body), `"duplicateRule":"Standard_Lead_Duplicate_Rule"`) || got["message"] != "Use one of these records?" {
		t.Errorf("block: got %s", r.body)
	}
	if _, err := e.org.CreateRecordAs(e.org.Human().ID, "Lead", map[string]any{"LastName": "Ng", "Company": "B", "Email": "ng@example.com"}); err == nil {
		t.Error("UI create with a blocking rule: got no error")
	}
	wantStatus(t, e.doToken("", "PUT", "/__emulator__/orgs/default/duplicate-rules", map[string]any{"Contact": "sometimes"}), 400)
}

func TestPersistenceOfObjects(t *testing.T) {
	t.Parallel()
	e := setup(t, withPersonAccounts)
	if _, err := e.org.SeedLeads(20, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.org.SeedPersonAccounts(20, 2); err != nil {
		t.Fatal(err)
	}
	lead := e.org.RecordIDs("Lead", false)[0]
	if _, err := e.org.ConvertLead(LeadConversion{LeadID: lead}); err != nil {
		t.Fatal(err)
	}
	if err := e.org.SetDuplicateRules(DuplicateRules{Lead: DuplicateBlock}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.org.AddRecordType("Contact", "Member", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.org.AddLeadAssignmentRule("RR", []string{e.org.Human().Username}, true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "emu.json")
	e.srv.SetDataFile(path)
	if err := e.srv.Save(); err != nil {
		t.Fatal(err)
	}
	s2 := New(Options{Now: e.clock.Now})
	if err := s2.Load(path); err != nil {
		t.Fatal(err)
	}
	o2 := s2.Orgs()[0]
	for _, obj := range []string{"Lead", "Account", "Contact"} {
		if a, b := e.org.RecordIDs(obj, true), o2.RecordIDs(obj, true); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s ids after reload: got %d, want %d", obj, len(b), len(a))
		}
	}
	for _, id := range []string{lead, e.org.RecordIDs("Account", false)[3], e.org.RecordIDs("Contact", false)[3]} {
		a, _ := e.org.Record(id)
		b, _ := o2.Record(id)
		if len(a) != len(b) {
			t.Errorf("record %s after reload: got %v, want %v", id, b, a)
		}
		for k, v := range a {
			if !equalValue(v, b[k]) {
				t.Errorf("record %s %s after reload: got %v, want %v", id, k, b[k], v)
			}
		}
	}
	if !o2.PersonAccountsEnabled() || o2.DuplicateRules().Lead != DuplicateBlock || len(o2.AssignmentRules()) != 1 ||
		o2.AssignmentRules()[0].ID != e.org.AssignmentRules()[0].ID || len(o2.RecordTypes("")) != 3 {
		t.Errorf("settings after reload: person %v, rules %+v %+v, record types %+v", o2.PersonAccountsEnabled(), o2.DuplicateRules(), o2.AssignmentRules(), o2.RecordTypes(""))
	}
	for i, rt := range e.org.RecordTypes("") {
		if got := o2.RecordTypes("")[i]; got != rt {
			t.Errorf("record type %d after reload: got %+v, want %+v", i, got, rt)
		}
	}
}

func TestMain_seedsObjects(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"--addr", "127.0.0.1:0", "--leads", "300", "--person-accounts", "200", "--sales-users", "3", "--duplicate-rules", "alert"}, &strings.Builder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseFlags([]string{"--duplicate-rules", "maybe"}, &strings.Builder{}, nil); err == nil {
		t.Error("--duplicate-rules maybe: got no error")
	}
	if cfg.Leads != 300 || cfg.PersonAccounts != 200 || cfg.SalesUsers != 3 || cfg.DuplicateRules != "alert" {
		t.Fatalf("config: got %+v", cfg)
	}
	inst, err := Launch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inst.Close(context.Background()) })
	var info strings.Builder
	inst.WriteInfo(&info)
	if !strings.Contains(info.String(), "objects:        300 leads, 200 accounts (Person Accounts on)") {
		t.Errorf("info: got %s", info.String())
	}
	o := inst.Org
	if !o.PersonAccountsEnabled() || o.DuplicateRules().PersonAccount != DuplicateAlert || len(o.Users()) != 5 {
		t.Fatalf("org: person %v rules %+v users %d", o.PersonAccountsEnabled(), o.DuplicateRules(), len(o.Users()))
	}
	if n := len(o.RecordIDs("Lead", false)); n != 300 {
		t.Errorf("leads: got %d, want 300", n)
	}
	if n := len(o.RecordIDs("Account", false)); n != 200 {
		t.Errorf("accounts: got %d, want 200", n)
	}
	owners, zh, en, noCompany := map[any]bool{}, 0, 0, 0
	for _, id := range o.RecordIDs("Lead", false) {
		r, _ := o.Record(id)
		owners[r["OwnerId"]] = true
		if r["Company"] == nil {
			noCompany++
		}
		if ln, _ := r["LastName"].(string); ln != "" && ln[0] >= 0x80 {
			zh++
		} else {
			en++
		}
		if r["Status"] == nil || r["IsConverted"] != false || r["Name"] == nil {
			t.Fatalf("seeded lead: %v", r)
		}
	}
	if len(owners) < 3 || zh < 50 || en < 50 || noCompany == 0 {
		t.Errorf("seeded leads: %d owners, %d Chinese and %d Western names, %d without a company", len(owners), zh, en, noCompany)
	}
	for _, id := range o.RecordIDs("Account", false)[:20] {
		a, _ := o.Record(id)
		c, ok := o.Record(a["PersonContactId"].(string))
		if a["IsPersonAccount"] != true || !ok || c["AccountId"] != id || c["Email"] != a["PersonEmail"] || c["LastName"] != a["LastName"] {
			t.Fatalf("seeded person account %v, contact %v", a, c)
		}
	}
}

func TestBulkAndCDCOnLeadsAndPersonAccounts(t *testing.T) {
	t.Parallel()
	e := setup(t, withPersonAccounts)
	e.selectCDC("Lead", "Account")
	human := e.org.Human()
	rule, err := e.org.AddLeadAssignmentRule("RR", []string{human.Username}, false)
	if err != nil {
		t.Fatal(err)
	}
	// Bulk API 2.0 ingest: leads (a named assignment rule applies), person accounts.
	id, info := e.runIngest(map[string]any{"object": "Lead", "operation": "insert", "assignmentRuleId": rule.ID},
		"LastName,FirstName,Company,Email,LINE_UID__c\n王,小明,,xm@example.com,U1\nSmith,Ann,Acme,ann@example.com,U2\n")
	wantCounts(t, info, 2, 0)
	for _, row := range e.ingestCSV(id, "successfulResults")[1:] {
		if l, _ := e.org.Record(row[0]); l["OwnerId"] != human.ID {
			t.Errorf("bulk lead %s owner: got %v, want the rule's %s", row[0], l["OwnerId"], human.ID)
		}
	}
	personRT := e.org.RecordTypes("Account")[1].ID
	id, info = e.runIngest(map[string]any{"object": "Account", "operation": "insert"},
		"RecordTypeId,LastName,PersonEmail,Member_Number__pc\n"+personRT+",林,lin@example.com,P1\n"+personRT+",陳,chen@example.com,P1\n")
	wantCounts(t, info, 2, 1)
	if failed := e.ingestCSV(id, "failedResults"); len(failed) != 2 || !strings.HasPrefix(failed[1][1], "DUPLICATE_VALUE") {
		t.Errorf("failed results: got %v", failed)
	}
	// Bulk API 2.0 query of both objects.
	for _, q := range []string{"SELECT Id, LastName, IsConverted FROM Lead", "SELECT Id, LastName, PersonEmail, IsPersonAccount FROM Account"} {
		r := e.do("POST", "jobs/query", map[string]any{"operation": "query", "query": q})
		wantStatus(t, r, 200)
		var job map[string]any
		r.json(t, &job)
		jid := job["id"].(string)
		for i := 0; i < 2; i++ {
			e.do("GET", "jobs/query/"+jid, nil)
		}
		r = e.do("GET", "jobs/query/"+jid+"/results", nil)
		wantStatus(t, r, 200)
		if lines := strings.Count(strings.TrimSpace(string(r.body)), "\n"); (strings.Contains(q, "Lead") && lines != 2) || (strings.Contains(q, "Account") && lines != 1) {
			t.Errorf("%s: got %s", q, r.body)
		}
	}
	// Change events on /data/LeadChangeEvent and /data/AccountChangeEvent.
	byEntity := map[string]int{}
	for _, ev := range e.cdcEvents() {
		byEntity[ev.fields["ChangeEventHeader"].(map[string]any)["entityName"].(string)]++
	}
	if byEntity["Lead"] != 2 || byEntity["Account"] != 1 || byEntity["Contact"] != 0 {
		t.Errorf("change events by entity: got %v, want 2 Lead, 1 Account (Contact not selected)", byEntity)
	}
	for _, ent := range []string{"Lead", "Account"} {
		if _, js, ok := e.org.ChangeEventSchema(ent); !ok || !strings.Contains(js, `"name":"`+ent+`ChangeEvent"`) {
			t.Errorf("%s change event schema: got %v %.80s", ent, ok, js)
		}
	}
	// A business account's Name is in its change event; a person account's
	// name parts and person fields are in its own.
	e.createObj("Account", map[string]any{"Name": "Acme Trading"})
	evs := e.cdcEvents()
	last := evs[len(evs)-1].fields
	if last["Name"] != "Acme Trading" {
		t.Errorf("business account event Name: got %v", last["Name"])
	}
	found := false
	for _, ev := range evs {
		if ev.typ == "CREATE" && ev.fields["ChangeEventHeader"].(map[string]any)["entityName"] == "Account" && ev.fields["LastName"] == "林" {
			found = true
			if ev.fields["PersonEmail"] != "lin@example.com" || ev.fields["Member_Number__pc"] != "P1" || ev.fields["Name"] != "林" {
				t.Errorf("person account event: got %v", ev.fields)
			}
		}
	}
	if !found {
		t.Error("no CREATE event of the person account")
	}
}

func TestCompositeCarriesAssignAndDuplicateHeaders(t *testing.T) {
	t.Parallel()
	e := setup(t)
	human := e.org.Human()
	if _, err := e.org.AddLeadAssignmentRule("RR", []string{human.Username}, true); err != nil {
		t.Fatal(err)
	}
	if err := e.org.SetDuplicateRules(DuplicateRules{Lead: DuplicateAlert}); err != nil {
		t.Fatal(err)
	}
	e.createObj("Lead", map[string]any{"LastName": "Ng", "Company": "A", "Email": "ng@example.com"})
	body := map[string]any{"compositeRequest": []any{map[string]any{"method": "POST", "url": "/services/data/v62.0/sobjects/Lead", "referenceId": "l",
		"body": map[string]any{"LastName": "Ng", "Company": "B", "Email": "ng@example.com"}}}}
	r := e.do("POST", "composite", body, "Sforce-Auto-Assign", "FALSE", "Sforce-Duplicate-Rule-Header", "allowSave=true")
	wantStatus(t, r, 200)
	var out struct {
		CompositeResponse []struct {
			Body           map[string]any `json:"body"`
			HTTPStatusCode int            `json:"httpStatusCode"`
		} `json:"compositeResponse"`
	}
	r.json(t, &out)
	if len(out.CompositeResponse) != 1 || out.CompositeResponse[0].HTTPStatusCode != 201 {
		t.Fatalf("composite: got %s", r.body)
	}
	if l, _ := e.org.Record(out.CompositeResponse[0].Body["id"].(string)); l["OwnerId"] != e.org.Admin().ID {
		t.Errorf("owner with Sforce-Auto-Assign: FALSE on the composite request: got %v", l["OwnerId"])
	}
}
