package sfemu

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func (e *env) createObj(object string, fields map[string]any, hdr ...string) string {
	e.t.Helper()
	r := e.do("POST", "sobjects/"+object, fields, hdr...)
	wantStatus(e.t, r, 201)
	var out struct {
		ID string `json:"id"`
	}
	r.json(e.t, &out)
	return out.ID
}

func (e *env) query(q string) []map[string]any {
	e.t.Helper()
	r := e.do("GET", "query?q="+url.QueryEscape(q), nil)
	wantStatus(e.t, r, 200)
	var out struct {
		Records []map[string]any `json:"records"`
	}
	r.json(e.t, &out)
	return out.Records
}

func TestLeadDescribeAndCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var d struct {
		KeyPrefix string `json:"keyPrefix"`
		Fields    []struct {
			Name           string `json:"name"`
			Nillable       bool   `json:"nillable"`
			Createable     bool   `json:"createable"`
			Updateable     bool   `json:"updateable"`
			PicklistValues []struct {
				Value        string `json:"value"`
				DefaultValue bool   `json:"defaultValue"`
			} `json:"picklistValues"`
		} `json:"fields"`
	}
	e.do("GET", "sobjects/Lead/describe", nil).json(t, &d)
	byName := map[string]int{}
	for i, f := range d.Fields {
		byName[f.Name] = i
	}
	for _, n := range []string{"Company", "Status", "LeadSource", "MobilePhone", "Email", "FirstName", "LastName", "Title", "OwnerId",
		"IsConverted", "ConvertedContactId", "ConvertedAccountId", "ConvertedDate", "Member_Number__c", "LINE_UID__c"} {
		if _, ok := byName[n]; !ok {
			t.Errorf("Lead describe: no field %s", n)
		}
	}
	if d.KeyPrefix != "00Q" {
		t.Errorf("keyPrefix: got %q, want 00Q", d.KeyPrefix)
	}
	company := d.Fields[byName["Company"]]
	if company.Nillable || !company.Createable {
		t.Errorf("Company: got nillable %v createable %v, want required", company.Nillable, company.Createable)
	}
	if conv := d.Fields[byName["IsConverted"]]; conv.Createable || conv.Updateable {
		t.Errorf("IsConverted: got writable, want read-only")
	}
	status := d.Fields[byName["Status"]]
	if len(status.PicklistValues) != 4 || status.PicklistValues[0].Value != "Open - Not Contacted" || !status.PicklistValues[0].DefaultValue {
		t.Errorf("Status picklist: got %+v, want Salesforce's four values, Open - Not Contacted the default", status.PicklistValues)
	}

	var global struct {
		SObjects []struct {
			Name string `json:"name"`
		} `json:"sobjects"`
	}
	e.do("GET", "sobjects", nil).json(t, &global)
	var names []string
	for _, o := range global.SObjects {
		names = append(names, o.Name)
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "Lead") || !slices.Contains(names, "Account") || !slices.Contains(names, "RecordType") {
		t.Errorf("describe global: got %v, want a sorted list with Lead, Account and RecordType", names)
	}
	r := e.do("POST", "sobjects/Lead", map[string]any{"LastName": "王"})
	if got := wantErrorCode(t, r, 400, "REQUIRED_FIELD_MISSING"); !strings.Contains(fmt.Sprint(got["fields"]), "Company") {
		t.Errorf("missing Company: got %v", got)
	}
	id := e.createObj("Lead", map[string]any{"LastName": "王", "FirstName": "小明", "Company": "小明商行", "MobilePhone": "+886 912-345-678",
		"Email": "xiaoming@example.com", "LeadSource": "Web", "LINE_UID__c": "U123"})
	if !strings.HasPrefix(id, "00Q") {
		t.Fatalf("lead id %s: want prefix 00Q", id)
	}
	recs := e.query("SELECT Id, Name, Status, IsConverted, OwnerId, LINE_UID__c FROM Lead WHERE Email = 'xiaoming@example.com'")
	if len(recs) != 1 || recs[0]["Name"] != "小明 王" || recs[0]["Status"] != "Open - Not Contacted" || recs[0]["IsConverted"] != false ||
		recs[0]["OwnerId"] != e.org.Admin().ID || recs[0]["LINE_UID__c"] != "U123" {
		t.Fatalf("query lead: got %v", recs)
	}
	wantStatus(t, e.do("PATCH", "sobjects/Lead/"+id, map[string]any{"Status": "Working - Contacted"}), 204)
	r = e.do("PATCH", "sobjects/Lead/"+id, map[string]any{"IsConverted": true})
	wantErrorCode(t, r, 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
	// Collections and upsert by the external id work on Lead as on Contact.
	r = e.do("POST", "composite/sobjects", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]string{"type": "Lead"}, "LastName": "Smith", "Company": "Acme"},
		map[string]any{"attributes": map[string]string{"type": "Lead"}, "LastName": "Lee", "Company": "Acme"},
	}})
	wantStatus(t, r, 200)
	wantStatus(t, e.do("PATCH", "sobjects/Lead/Member_Number__c/M1", map[string]any{"LastName": "Chen", "Company": "X"}), 201)
	if n := len(e.query("SELECT Id FROM Lead")); n != 4 {
		t.Errorf("leads: got %d, want 4", n)
	}
	// History and getUpdated see leads.
	if h := e.org.History(id); len(h) != 2 || h[0].Object != "Lead" || h[0].Type != "CREATE" {
		t.Errorf("history: got %+v", h)
	}
	now := e.srv.Now()
	start := url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))
	end := url.QueryEscape(now.Add(time.Minute).Format(time.RFC3339))
	var upd struct {
		IDs []string `json:"ids"`
	}
	e.do("GET", "sobjects/Lead/updated?start="+start+"&end="+end, nil).json(t, &upd)
	if len(upd.IDs) != 4 {
		t.Errorf("getUpdated Lead: got %v, want 4 ids", upd.IDs)
	}
	r = e.doToken("", "POST", "/__emulator__/orgs/default/objects/Lead", map[string]any{"LastName": "UI", "Company": "C"})
	wantStatus(t, r, 201)
	r = e.doToken("", "GET", "/__emulator__/orgs/default/objects/Lead?limit=2", nil)
	if !strings.Contains(string(r.body), `"total":5`) || strings.Count(string(r.body), `"type":"Lead"`) != 2 {
		t.Errorf("side-door lead list: got %s", r.body)
	}
	wantStatus(t, e.do("DELETE", "sobjects/Lead/"+id, nil), 204)
	var del struct {
		Deleted []map[string]any `json:"deletedRecords"`
	}
	e.do("GET", "sobjects/Lead/deleted?start="+start+"&end="+end, nil).json(t, &del)
	if len(del.Deleted) != 1 || del.Deleted[0]["id"] != id {
		t.Errorf("getDeleted Lead: got %v", del.Deleted)
	}
	if recs := e.query("SELECT Id FROM Lead WHERE Id = '" + id + "'"); len(recs) != 0 {
		t.Errorf("deleted lead in query: got %v", recs)
	}
	r = e.do("GET", "queryAll?q="+url.QueryEscape("SELECT Id, IsDeleted FROM Lead WHERE Id = '"+id+"'"), nil)
	if !strings.Contains(string(r.body), `"IsDeleted":true`) {
		t.Errorf("queryAll deleted lead: got %s", r.body)
	}
}

func TestConvertLead(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.selectCDC("Contact", "Lead", "Account")
	id := e.createObj("Lead", map[string]any{"LastName": "王", "FirstName": "小明", "Company": "小明商行", "MobilePhone": "+886 912-345-678",
		"Email": "xiaoming@example.com", "LeadSource": "Web", "Title": "Owner", "City": "Taipei", "LINE_UID__c": "U123", "Member_Number__c": "M77"})
	e.advance(time.Minute)
	before := e.org.ChangeEventsAfter(-1, 100).Latest
	r := e.doToken("", "POST", "/__emulator__/orgs/default/leads/"+id+"/convert", map[string]any{})
	wantStatus(t, r, 200)
	var res LeadConversionResult
	r.json(t, &res)
	if !strings.HasPrefix(res.ContactID, "003") || !strings.HasPrefix(res.AccountID, "001") || res.LeadID != id {
		t.Fatalf("convert: got %+v", res)
	}
	lead := e.query("SELECT IsConverted, ConvertedContactId, ConvertedAccountId, ConvertedDate, Status FROM Lead WHERE Id = '" + id + "'")
	if len(lead) != 1 || lead[0]["IsConverted"] != true || lead[0]["ConvertedContactId"] != res.ContactID ||
		lead[0]["ConvertedAccountId"] != res.AccountID || lead[0]["ConvertedDate"] != "2026-03-01" || lead[0]["Status"] != "Closed - Converted" {
		t.Fatalf("converted lead: got %v", lead)
	}
	con := e.query("SELECT LastName, FirstName, Email, MobilePhone, LeadSource, Title, MailingCity, LINE_UID__c, Member_Number__c, AccountId, Account.Name FROM Contact")
	want := map[string]any{"LastName": "王", "FirstName": "小明", "Email": "xiaoming@example.com", "MobilePhone": "+886 912-345-678", "LeadSource": "Web",
		"Title": "Owner", "MailingCity": "Taipei", "LINE_UID__c": "U123", "Member_Number__c": "M77", "AccountId": res.AccountID}
	if len(con) != 1 {
		t.Fatalf("contacts: got %v", con)
	}
	for k, v := range want {
		if con[0][k] != v {
			t.Errorf("contact %s: got %v, want %v", k, con[0][k], v)
		}
	}
	if acct, _ := con[0]["Account"].(map[string]any); acct["Name"] != "小明商行" {
		t.Errorf("account name: got %v, want the lead's company", con[0]["Account"])
	}
	// The converted lead is read-only, through REST and the side door.
	r = e.do("PATCH", "sobjects/Lead/"+id, map[string]any{"Title": "CEO"})
	if got := wantErrorCode(t, r, 400, "CANNOT_UPDATE_CONVERTED_LEAD"); got["message"] != "cannot reference converted lead" {
		t.Errorf("message: got %v", got["message"])
	}
	r = e.do("PATCH", "composite/sobjects", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]string{"type": "Lead"}, "id": id, "Title": "CEO"}}})
	if !strings.Contains(string(r.body), `"statusCode":"CANNOT_UPDATE_CONVERTED_LEAD"`) {
		t.Errorf("collection update of a converted lead: got %s", r.body)
	}
	if err := e.org.ModifyAsHuman(id, map[string]any{"Title": "CEO"}); err == nil || !strings.Contains(err.Error(), "CANNOT_UPDATE_CONVERTED_LEAD") {
		t.Errorf("side-door edit of a converted lead: got %v", err)
	}
	if _, err := e.org.ConvertLead(LeadConversion{LeadID: id}); err == nil {
		t.Errorf("converting twice: got no error")
	}
	// One transaction: lead UPDATE, account and contact CREATE, in CDC too.
	var kinds []string
	key := ""
	for _, ev := range e.org.ChangeEventsAfter(before, 100).Events {
		kinds = append(kinds, ev.Entity+" "+string(ev.Type))
		if key != "" && ev.TransactionKey != key {
			t.Errorf("conversion events in several transactions")
		}
		key = ev.TransactionKey
	}
	if strings.Join(kinds, ",") != "Account CREATE,Contact CREATE,Lead UPDATE" {
		t.Errorf("change events: got %v", kinds)
	}
}

func TestConvertLeadIntoExistingContact(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cid := e.create(map[string]any{"LastName": "Lee", "Email": "kept@example.com"})
	id := e.createObj("Lead", map[string]any{"LastName": "Lee", "Company": "Acme", "Email": "lead@example.com", "MobilePhone": "0912000111"})
	res, err := e.org.ConvertLead(LeadConversion{LeadID: id, ContactID: cid})
	if err != nil {
		t.Fatal(err)
	}
	if res.ContactID != cid || !strings.HasPrefix(res.AccountID, "001") {
		t.Fatalf("convert into contact: got %+v", res)
	}
	c, _ := e.org.Record(cid)
	if c["Email"] != "kept@example.com" || c["MobilePhone"] != "0912000111" {
		t.Errorf("existing contact: got Email %v MobilePhone %v, want its own e-mail kept and the blank mobile filled", c["Email"], c["MobilePhone"])
	}
	if n := len(e.org.RecordIDs("Contact", false)); n != 1 {
		t.Errorf("contacts: got %d, want 1 (no new contact)", n)
	}
	// A failed conversion writes nothing.
	id2 := e.createObj("Lead", map[string]any{"LastName": "Ng", "Company": "Acme"})
	if _, err := e.org.ConvertLead(LeadConversion{LeadID: id2, ContactID: "003000000000000AAA"}); err == nil {
		t.Fatal("convert into an unknown contact: got no error")
	}
	if l, _ := e.org.Record(id2); l["IsConverted"] != false || l["ConvertedAccountId"] != nil {
		t.Errorf("failed conversion: lead %v", l)
	}
	if n := len(e.org.RecordIDs("Account", false)); n != 1 {
		t.Errorf("accounts after a failed conversion: got %d, want 1", n)
	}
}

func (e *env) selectCDC(entities ...string) {
	e.t.Helper()
	wantStatus(e.t, e.doToken("", "PUT", "/__emulator__/orgs/default/cdc", map[string]any{"entities": entities}), 200)
}

func TestConvertLeadRefusesDuplicateUniqueValues(t *testing.T) {
	t.Parallel()
	e := setup(t, withPersonAccounts)
	e.create(map[string]any{"LastName": "Held", "Member_Number__c": "M1"})
	id := e.createObj("Lead", map[string]any{"LastName": "Lee", "Company": "Acme", "Member_Number__c": "M1"})
	if _, err := e.org.ConvertLead(LeadConversion{LeadID: id}); err == nil || !strings.Contains(err.Error(), "DUPLICATE_VALUE") {
		t.Fatalf("conversion onto a held member number: got %v, want DUPLICATE_VALUE", err)
	}
	if n := len(e.org.RecordIDs("Account", false)); n != 0 {
		t.Errorf("accounts after the refused conversion: got %d, want 0", n)
	}
	// A person account's __pc value and a contact's __c value are one field.
	rt := e.org.RecordTypes("Account")[1].ID
	wantErrorCode(t, e.do("POST", "sobjects/Account", map[string]any{"RecordTypeId": rt, "LastName": "Z", "Member_Number__pc": "M1"}), 400, "DUPLICATE_VALUE")
	pa := e.createObj("Account", map[string]any{"RecordTypeId": rt, "LastName": "Z", "Member_Number__pc": "M2"})
	wantErrorCode(t, e.do("POST", "sobjects/Contact", map[string]any{"LastName": "Y", "Member_Number__c": "M2"}), 400, "DUPLICATE_VALUE")
	wantStatus(t, e.do("PATCH", "sobjects/Account/"+pa, map[string]any{"Member_Number__pc": "M2", "LastName": "Zed"}), 204)
	wantErrorCode(t, e.do("PATCH", "sobjects/Account/"+pa, map[string]any{"Member_Number__pc": "M1"}), 400, "DUPLICATE_VALUE")
}
