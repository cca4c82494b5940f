package sfemu

import (
	"net/url"
	"reflect"
	"testing"
)

// The requests in these tests are the ones the Salesforce CLI (sf) sends;
// package sfclitest runs the CLI itself against the emulator.

// TestLeadingDoubledSlash checks that a path starting with several
// slashes is served as if it had one, as the sf CLI needs: after
// `sf org login access-token` it sends //services/data/... (see
// ServeHTTP). Doubled slashes further in stay 404 (TestDoubledSlash).
func TestLeadingDoubledSlash(t *testing.T) {
	t.Parallel()
	e := setup(t)
	q := "?q=" + url.QueryEscape("SELECT Id FROM Contact LIMIT 1")
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"versions", "//services/data", 200},
		{"resources", "//services/data/v62.0", 200},
		{"query", "//services/data/v62.0/query" + q, 200},
		{"tripled", "///services/data/v62.0/limits", 200},
		{"userinfo", "//services/oauth2/userinfo", 200},
		{"unknown stays unknown", "//services/data/v62.0/nothing", 404},
		{"inner doubled stays 404", "//services/data/v62.0//query" + q, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.do("GET", tc.path, nil), tc.want)
		})
	}
}

func TestOrganizationQueryOfSfCLI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// `sf org login access-token` reads the org's facts with this query.
	r := e.do("GET", "query?q="+url.QueryEscape("SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization"), nil)
	wantStatus(t, r, 200)
	var out struct {
		Records []map[string]any `json:"records"`
	}
	r.json(t, &out)
	if len(out.Records) != 1 {
		t.Fatalf("records: got %d, want 1", len(out.Records))
	}
	got := out.Records[0]
	delete(got, "attributes")
	want := map[string]any{"Name": e.org.name, "InstanceName": "EMU1", "IsSandbox": false, "TrialExpirationDate": nil,
		"NamespacePrefix": nil, "OrganizationType": "Developer Edition"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Organization: got %v, want %v", got, want)
	}
}

func TestQueryColumns(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.create(map[string]any{"LastName": "Columns"})
	type column struct {
		Aggregate      bool     `json:"aggregate"`
		ApexType       *string  `json:"apexType"`
		BooleanType    bool     `json:"booleanType"`
		ColumnName     string   `json:"columnName"`
		Custom         bool     `json:"custom"`
		DisplayName    string   `json:"displayName"`
		ForeignKeyName *string  `json:"foreignKeyName"`
		Insertable     bool     `json:"insertable"`
		JoinColumns    []column `json:"joinColumns"`
		NumberType     bool     `json:"numberType"`
		TextType       bool     `json:"textType"`
		Updatable      bool     `json:"updatable"`
	}
	type answer struct {
		ColumnMetadata []column `json:"columnMetadata"`
		EntityName     string   `json:"entityName"`
		GroupBy        bool     `json:"groupBy"`
		IDSelected     bool     `json:"idSelected"`
		KeyPrefix      *string  `json:"keyPrefix"`
	}
	str := func(s string) *string { return &s }
	field := func(name, apex string, text, boolean, number, ins, upd, custom bool) column {
		return column{ApexType: str(apex), ColumnName: name, DisplayName: name, JoinColumns: []column{}, TextType: text,
			BooleanType: boolean, NumberType: number, Insertable: ins, Updatable: upd, Custom: custom}
	}
	agg := func(name, display string) column {
		return column{Aggregate: true, ColumnName: name, DisplayName: display, JoinColumns: []column{}, NumberType: true}
	}
	for _, tc := range []struct {
		name, query string
		want        answer
	}{
		{"fields", "SELECT Id, LastName, Birthdate, IsEmailBounced, Member_Number__c FROM Contact", answer{
			ColumnMetadata: []column{
				field("Id", "Id", false, false, false, false, false, false),
				field("LastName", "String", true, false, false, true, true, false),
				field("Birthdate", "Date", false, false, false, true, true, false),
				field("IsEmailBounced", "Boolean", false, true, false, false, false, false),
				field("Member_Number__c", "String", true, false, false, true, true, true),
			},
			EntityName: "Contact", IDSelected: true, KeyPrefix: str("003")}},
		{"relationship", "select lastname, owner.name, OWNER.email from contact", answer{
			ColumnMetadata: []column{
				field("LastName", "String", true, false, false, true, true, false),
				{ColumnName: "Owner", DisplayName: "Owner", ForeignKeyName: str("OwnerId"), JoinColumns: []column{
					field("Name", "String", true, false, false, false, false, false),
					field("Email", "String", true, false, false, true, true, false),
				}},
			},
			EntityName: "Contact", KeyPrefix: str("003")}},
		{"aggregates", "SELECT COUNT(Id), count(Email) e FROM Contact", answer{
			ColumnMetadata: []column{agg("expr0", "COUNT(Id)"), agg("e", "count(Email)")},
			EntityName:     "Contact", KeyPrefix: str("003")}},
		{"group by", "SELECT LeadSource, COUNT(Id) n, max(Email) FROM Contact GROUP BY LeadSource", answer{
			ColumnMetadata: []column{
				field("LeadSource", "String", true, false, false, true, true, false),
				agg("n", "COUNT(Id)"),
				{Aggregate: true, ColumnName: "expr0", DisplayName: "max(Email)", JoinColumns: []column{}, TextType: true},
			},
			EntityName: "Contact", GroupBy: true, KeyPrefix: str("003")}},
		{"count", "SELECT COUNT() FROM Contact", answer{ColumnMetadata: []column{}, EntityName: "Contact", KeyPrefix: str("003")}},
		{"no key prefix", "SELECT Id FROM UserPermissionAccess", answer{
			ColumnMetadata: []column{field("Id", "Id", false, false, false, false, false, false)},
			EntityName:     "UserPermissionAccess", IDSelected: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, res := range []string{"query", "queryAll"} {
				r := e.do("GET", res+"?columns=true&q="+url.QueryEscape(tc.query), nil)
				wantStatus(t, r, 200)
				var got answer
				r.json(t, &got)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: got %s, want %+v", res, r.body, tc.want)
				}
			}
		})
	}
	// A bad query fails as it does without columns=true.
	wantErrorCode(t, e.do("GET", "query?columns=true&q="+url.QueryEscape("SELECT Nope FROM Contact"), nil), 400, "INVALID_FIELD")
	wantErrorCode(t, e.do("GET", "query?columns=true&q="+url.QueryEscape("SELECT Id FROM Nope"), nil), 400, "INVALID_TYPE")
	// columns=false is an ordinary query.
	r := e.do("GET", "query?columns=false&q="+url.QueryEscape("SELECT Id FROM Contact"), nil)
	wantStatus(t, r, 200)
	var page struct {
		TotalSize int `json:"totalSize"`
	}
	r.json(t, &page)
	if page.TotalSize != 1 {
		t.Errorf("columns=false: totalSize got %d, want 1", page.TotalSize)
	}
}
