package syncconf

import (
	"errors"
	"slices"
	"testing"
)

func TestWhereClause(t *testing.T) {
	t.Parallel()
	d := testDescribe(t)
	tests := []struct {
		cond Condition
		want string
	}{
		{Condition{SalesforceField: "title", Operator: OpEquals, Value: "O'Brien"}, `Title = 'O\'Brien'`},
		{Condition{SalesforceField: "Title", Operator: OpNotEquals, Value: "x"}, `(Title = null OR Title != 'x')`},
		{Condition{SalesforceField: "Title", Operator: OpContains, Value: "50%_off"}, `Title LIKE '%50\%\_off%'`},
		{Condition{SalesforceField: "Title", Operator: OpNotContains, Value: `a\b`}, `(Title = null OR (NOT Title LIKE '%a\\b%'))`},
		{Condition{SalesforceField: "Title", Operator: OpStartsWith, Value: "Dr_"}, `Title LIKE 'Dr\_%'`},
		{Condition{SalesforceField: "Title", Operator: OpIsEmpty}, `Title = null`},
		{Condition{SalesforceField: "Title", Operator: OpIsNotEmpty}, `Title != null`},
		{Condition{SalesforceField: "Title", Operator: OpIn, Values: []string{"a", "b'c"}}, `Title IN ('a', 'b\'c')`},
		{Condition{SalesforceField: "Title", Operator: OpNotIn, Values: []string{"a"}}, `(Title = null OR Title NOT IN ('a'))`},
		{Condition{SalesforceField: "leadsource", Operator: OpEquals, Value: "web"}, `LeadSource = 'Web'`},
		{Condition{SalesforceField: "LeadSource", Operator: OpIn, Values: []string{"WEB", "other"}}, `LeadSource IN ('Web', 'Other')`},
		{Condition{SalesforceField: "Points__c", Operator: OpGT, Value: " 1.50 "}, `Points__c > 1.5`},
		{Condition{SalesforceField: "Points__c", Operator: OpLTE, Value: "1e3"}, `Points__c <= 1000`},
		{Condition{SalesforceField: "Age__c", Operator: OpIn, Values: []string{"1", "-2"}}, `Age__c IN (1, -2)`},
		{Condition{SalesforceField: "Birthdate", Operator: OpGTE, Value: "2000-02-29"}, `Birthdate >= 2000-02-29`},
		{Condition{SalesforceField: "Last_Purchase__c", Operator: OpLT, Value: "2024-01-31T09:00:00+08:00"}, `Last_Purchase__c < 2024-01-31T01:00:00Z`},
		{Condition{SalesforceField: "Opt_In__c", Operator: OpEquals, Value: "TRUE"}, `Opt_In__c = true`},
		{Condition{SalesforceField: "Opt_In__c", Operator: OpNotEquals, Value: "false"}, `(Opt_In__c = null OR Opt_In__c != false)`},
		{Condition{SalesforceField: "Interests__c", Operator: OpIsNotEmpty}, `Interests__c != null`},
	}
	for _, tt := range tests {
		cfg := Config{Identity: IdentityMapping{SalesforceField: "email"}, Conditions: []Condition{tt.cond}}
		got, err := cfg.WhereClause(d)
		want := "Email != null AND " + tt.want
		if err != nil || got != want {
			t.Errorf("WhereClause(%+v) = %q, %v; want %q", tt.cond, got, err, want)
		}
	}
}

func TestWhereClauseWithoutConditions(t *testing.T) {
	t.Parallel()
	cfg := Config{Identity: IdentityMapping{SalesforceField: "member_no__c"}}
	got, err := cfg.WhereClause(testDescribe(t))
	if want := "Member_No__c != null"; err != nil || got != want {
		t.Errorf("WhereClause() = %q, %v; want %q", got, err, want)
	}
}

func TestWhereClauseRefusesInvalid(t *testing.T) {
	t.Parallel()
	d := testDescribe(t)
	tests := []struct {
		cfg  Config
		path string
		code string
	}{
		{Config{Identity: IdentityMapping{SalesforceField: "Email) OR (Id"}}, "identity.salesforce_field", "unknown_field"},
		{Config{Identity: IdentityMapping{SalesforceField: "Email"}, Conditions: []Condition{{SalesforceField: "Title = 'x' OR Title", Operator: OpIsEmpty}}}, "conditions[0].salesforce_field", "unknown_field"},
		{Config{Identity: IdentityMapping{SalesforceField: "Email"}, Conditions: []Condition{{SalesforceField: "Points__c", Operator: OpEquals, Value: "1 OR Id != null"}}}, "conditions[0].value", "invalid_value"},
	}
	for _, tt := range tests {
		got, err := tt.cfg.WhereClause(d)
		var errs ValidationErrors
		if !errors.As(err, &errs) || !errs.Has(tt.path, tt.code) {
			t.Errorf("WhereClause(%+v) = %q, %v; want %s at %s", tt.cfg, got, err, tt.code, tt.path)
		}
	}
}

func TestSOQL(t *testing.T) {
	t.Parallel()
	d := testDescribe(t)
	cfg := validConfig()
	cfg.Fields = append(cfg.Fields, FieldMapping{SalesforceField: "mobilephone", PlatformField: "custom.note", Direction: DirToPlatform})
	got, err := cfg.SOQL(d, []string{"lastmodifieddate", "Id"})
	want := "SELECT Id, SystemModstamp, LastModifiedById, Email, LINE_UID__c, Member_No__c, Birthdate, MobilePhone, LastName, VIP_Level__c, LastModifiedDate FROM Contact WHERE Email != null AND LeadSource = 'Web'"
	if err != nil || got != want {
		t.Errorf("SOQL() =\n%q, %v\nwant\n%q", got, err, want)
	}
	count, err := cfg.CountSOQL(d)
	if want := "SELECT COUNT() FROM Contact WHERE Email != null AND LeadSource = 'Web'"; err != nil || count != want {
		t.Errorf("CountSOQL() = %q, %v; want %q", count, err, want)
	}
	_, err = cfg.SOQL(d, []string{"Nope__c"})
	var errs ValidationErrors
	if !errors.As(err, &errs) || !errs.Has("extra[0]", "unknown_field") {
		t.Errorf("SOQL with an unknown extra field: got %v, want unknown_field at extra[0]", err)
	}
	fields, err := cfg.SelectFields(d, nil)
	if err != nil || !slices.Contains(fields, "LINE_UID__c") || slices.Contains(fields, "LastModifiedDate") {
		t.Errorf("SelectFields() = %v, %v; want the social field and no extra", fields, err)
	}
}

// TestQueryBuilder: names only from the describe, literals escaped, each
// condition kept whole.
func TestQueryBuilder(t *testing.T) {
	t.Parallel()
	d := testDescribe(t)
	cfg := Config{Identity: IdentityMapping{SalesforceField: "Email", PlatformIdentity: "email"},
		Conditions: []Condition{{SalesforceField: "LeadSource", Operator: OpEquals, Value: "Web"}}}
	got, err := cfg.ScopeSelect(d, "id", "email").AnyOf(Match{Field: "email", Values: []string{"a'b@x.com"}, Patterns: []string{"%9%1%"}}).
		IDAfter("003x").OrderBy("Id").Limit(5).Build()
	want := `SELECT Id, Email FROM Contact WHERE (Email != null AND LeadSource = 'Web') AND ((Email IN ('a\'b@x.com') OR Email LIKE '%9%1%')) AND (Id > '003x') ORDER BY Id LIMIT 5`
	if err != nil || got != want {
		t.Errorf("Build() = %q, %v\nwant %q", got, err, want)
	}
	if _, err := NewQuery(d).Select("Nope__c").Build(); err == nil {
		t.Error("a field the describe lacks: got no error, want one")
	}
	if _, err := NewQuery(d).Select("Id").FieldIn("Id'; DELETE", []string{"x"}).Build(); err == nil {
		t.Error("an injected field name: got no error, want one")
	}
	if got, _ := NewQuery(d).Select("Id").AnyOf().Build(); got != "SELECT Id FROM Contact WHERE (Id = null)" {
		t.Errorf("AnyOf() with nothing: got %q, want a query matching nothing", got)
	}
}
