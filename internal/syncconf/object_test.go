package syncconf

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/salesforce"
)

func TestSplitAndJoinName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule              NameRule
		name, first, last string
		joined            string // JoinName(first, last); "" means name
	}{
		{NameChinese, "王小明", "小明", "王", ""},
		{NameChinese, "歐陽娜娜", "娜娜", "歐陽", ""},
		{NameChinese, "司馬相如", "相如", "司馬", ""},
		{NameChinese, "欧阳修", "修", "欧阳", ""},
		{NameChinese, "張簡志明", "志明", "張簡", ""},
		{NameChinese, "歐陽", "", "歐陽", ""},
		{NameChinese, "王", "", "王", ""},
		{NameChinese, "李四", "四", "李", ""},
		{NameChinese, " 王 小明 ", "小明", "王", "王小明"},
		{NameChinese, "John Smith", "John", "Smith", ""}, // no Han: the Western rule
		{NameChinese, "", "", "", ""},
		{NameWestern, "John Smith", "John", "Smith", ""},
		{NameWestern, "Mary Ann  Smith", "Mary Ann", "Smith", "Mary Ann Smith"},
		{NameWestern, "Cher", "", "Cher", ""},
		{NameWestern, "王小明", "", "王小明", ""},
	}
	for _, tt := range tests {
		first, last := SplitName(tt.rule, tt.name)
		if first != tt.first || last != tt.last {
			t.Errorf("SplitName(%s, %q) = (%q, %q), want (%q, %q)", tt.rule, tt.name, first, last, tt.first, tt.last)
		}
		want := tt.joined
		if want == "" {
			want = strings.TrimSpace(tt.name)
		}
		if got := JoinName(tt.rule, first, last); got != want {
			t.Errorf("JoinName(%s, %q, %q) = %q, want %q", tt.rule, first, last, got, want)
		}
	}
}

func TestValueMapBothWays(t *testing.T) {
	t.Parallel()
	b := binding(t, "VIP_Level__c", "custom.tier", DirBoth)
	b.ValueMap = []ValuePair{{Platform: "Platinum", Salesforce: "Silver"}}
	got, err := ToSalesforce(b, "Platinum")
	if err != nil || got != "Silver" {
		t.Fatalf("ToSalesforce(Platinum) = %v, %v; want Silver", got, err)
	}
	got, err = ToPlatform(b, "silver")
	if err != nil || got != "Platinum" {
		t.Fatalf("ToPlatform(silver) = %v, %v; want Platinum", got, err)
	}
	// Unmapped values pass as they are.
	if got, err = ToPlatform(b, "Gold"); err != nil || got != "Gold" {
		t.Fatalf("ToPlatform(Gold) = %v, %v; want Gold", got, err)
	}
	// Without the map, Platinum is not a value of the Salesforce picklist.
	b.ValueMap = nil
	if _, err := ToSalesforce(b, "Platinum"); err == nil {
		t.Fatal("ToSalesforce(Platinum) without a map: got no error, want not_an_option")
	}

	tags := binding(t, "Interests__c", "tags", DirBoth)
	tags.ValueMap = []ValuePair{{Platform: "音樂", Salesforce: "Music"}, {Platform: "旅遊", Salesforce: "Travel"}}
	got, err = ToSalesforce(tags, []string{"音樂", "旅遊"})
	if err != nil || got != "Music;Travel" {
		t.Fatalf("ToSalesforce(tags) = %v, %v; want Music;Travel", got, err)
	}
	got, err = ToPlatform(tags, "Music;Sports")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(got); string(b) != `["音樂","Sports"]` {
		t.Fatalf("ToPlatform(Music;Sports) = %s, want [音樂 Sports]", b)
	}
}

func TestValidateValueMapAndNameRule(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	cfg := validConfig()
	// tier has option Platinum, which the picklist lacks: mapped, it fits.
	cfg.Fields[4] = FieldMapping{SalesforceField: "VIP_Level__c", PlatformField: "custom.tier", Direction: DirBoth,
		ValueMap: []ValuePair{{Platform: "Platinum", Salesforce: "Silver"}}}
	cfg.Fields[3].NameRule = NameChinese
	if err := cfg.Validate(env); err != nil {
		t.Fatalf("Validate = %v, want nil", err)
	}
	bad := validConfig()
	bad.Fields[4] = FieldMapping{SalesforceField: "VIP_Level__c", PlatformField: "custom.tier", Direction: DirBoth,
		ValueMap: []ValuePair{{Platform: "Platinum", Salesforce: "Diamond"}, {Platform: "Nope", Salesforce: "Gold"}, {Platform: "", Salesforce: "Gold"}}}
	bad.Fields[1].NameRule = NameWestern // Birthdate: not a name mapping
	bad.Fields[3].NameRule = "japanese"
	err := bad.Validate(env)
	var ve ValidationErrors
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want ValidationErrors", err)
	}
	for _, want := range [][2]string{
		{"field_mappings[4].value_map[0].salesforce", "value_map_salesforce_unknown"},
		{"field_mappings[4].value_map[1].platform", "value_map_platform_unknown"},
		{"field_mappings[4].value_map[2]", "value_map_blank"},
		{"field_mappings[1].name_rule", "name_rule_fields"},
		{"field_mappings[3].name_rule", "invalid_name_rule"},
	} {
		if !ve.Has(want[0], want[1]) {
			t.Errorf("Validate errors = %v; want %s at %s", ve, want[1], want[0])
		}
	}
	for _, e := range ve {
		if e.Step != StepFields {
			t.Errorf("error %s at %s: step %s, want fields", e.Code, e.Path, e.Step)
		}
	}
}

// objectDescribe is the test describe renamed as another object, with
// the fields that object has beside.
func objectDescribe(t *testing.T, name string, extra ...salesforce.Field) *salesforce.SObjectDescribe {
	d := testDescribe(t)
	d.Name = name
	d.Fields = append(d.Fields, extra...)
	return d
}

func TestObjectChoice(t *testing.T) {
	t.Parallel()
	isPA := salesforce.Field{Name: "IsPersonAccount", Type: "boolean", Filterable: true}
	company := salesforce.Field{Name: "Company", Type: "string", Length: 255, Createable: true, Updateable: true}
	tests := []struct {
		name     string
		choice   ObjectChoice
		describe *salesforce.SObjectDescribe
		code     string // "" valid
		where    string // a term the WHERE clause must hold
	}{
		{"contact by default", "", objectDescribe(t, "Contact"), "", ""},
		{"lead", ObjectLead, objectDescribe(t, "Lead", company), "", ""},
		{"person account", ObjectPersonAccount, objectDescribe(t, "Account", isPA), "", "IsPersonAccount = true"},
		{"person accounts disabled", ObjectPersonAccount, objectDescribe(t, "Account"), "person_accounts_disabled", ""},
		{"wrong describe", ObjectLead, objectDescribe(t, "Contact"), "object_not_described", ""},
		{"unknown object", "Opportunity", objectDescribe(t, "Contact"), "invalid_object", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.SyncObject = tt.choice
			env := Env{Describe: tt.describe, CustomFields: testCustomFields()}
			err := cfg.Validate(env)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				q, err := cfg.SOQL(tt.describe, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(q, " FROM "+tt.choice.SObject()+" ") || !strings.Contains(q, tt.where) {
					t.Fatalf("SOQL = %s, want FROM %s and %q", q, tt.choice.SObject(), tt.where)
				}
				return
			}
			var ve ValidationErrors
			if !errors.As(err, &ve) || !ve.Has("object", tt.code) {
				t.Fatalf("Validate = %v, want %s at object", err, tt.code)
			}
			if ve[0].Step != StepIdentity {
				t.Fatalf("step = %s, want identity", ve[0].Step)
			}
		})
	}
}

func TestCanonicalObjectDefault(t *testing.T) {
	t.Parallel()
	a, b := validConfig(), validConfig()
	b.SyncObject = ObjectContact
	ja, _ := a.CanonicalJSON()
	jb, _ := b.CanonicalJSON()
	if string(ja) != string(jb) {
		t.Fatalf("canonical forms differ:\n%s\n%s", ja, jb)
	}
	if strings.Contains(string(ja), `"object":`) || strings.Contains(string(ja), `"create":`) {
		t.Fatalf("canonical form of a Contact configuration = %s, want no object or create key (unchanged bytes)", ja)
	}
	c := validConfig()
	c.SyncObject = ObjectLead
	jc, _ := c.CanonicalJSON()
	back, err := DecodeConfig(jc)
	if err != nil || back.Choice() != ObjectLead {
		t.Fatalf("DecodeConfig(%s) = %v, %v; want Lead", jc, back.Choice(), err)
	}
}

func TestValidateCreateOptions(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Describe.RecordTypeInfos = []salesforce.RecordTypeInfo{{Name: "Consumer", RecordTypeID: "012000000000001AAA", Available: true}}
	cfg := validConfig()
	cfg.Identity.ToSalesforceNoMatch = NoMatchCreate
	cfg.Fields[2].Direction = DirBoth // MobilePhone
	cfg.Create = CreateOptions{
		Constants:    []ConstantValue{{SalesforceField: "LeadSource", Value: "web"}, {SalesforceField: "Title", Value: "Customer"}},
		Owner:        OwnerUser,
		OwnerID:      "005000000000001AAA",
		RecordTypeID: "012000000000001",
		AccountID:    "001000000000001AAA",
		OnDuplicate:  DuplicateLink,
	}
	if err := cfg.Validate(env); err != nil {
		t.Fatalf("Validate = %v, want nil", err)
	}
	if v, err := ConstantValueFor(mustField(t, env, "LeadSource"), "web"); err != nil || v != "Web" {
		t.Fatalf("ConstantValueFor(LeadSource, web) = %v, %v; want Web (the describe's spelling)", v, err)
	}
	bad := cfg
	bad.Create = CreateOptions{
		Constants: []ConstantValue{
			{SalesforceField: "LeadSource", Value: "LINE"},     // not a picklist value
			{SalesforceField: "Name", Value: "x"},              // not createable
			{SalesforceField: "Email", Value: "a@example.com"}, // the identity
			{SalesforceField: "Nope__c", Value: "x"},           // unknown
		},
		Owner:        OwnerAssignmentRules, // Contacts have no assignment rules
		RecordTypeID: "012000000000009AAA",
		AccountID:    "003000000000001AAA",
		OnDuplicate:  "merge",
	}
	var ve ValidationErrors
	if err := bad.Validate(env); !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want ValidationErrors", err)
	}
	for _, want := range [][2]string{
		{"create.constants[0].value", "constant_value_invalid"},
		{"create.constants[1].salesforce_field", "constant_not_createable"},
		{"create.constants[2].salesforce_field", "constant_field_mapped"},
		{"create.constants[3].salesforce_field", "constant_field_unknown"},
		{"create.owner", "assignment_rules_lead_only"},
		{"create.record_type_id", "record_type_unknown"},
		{"create.account_id", "account_id_invalid"},
		{"create.on_duplicate", "invalid_duplicate_policy"},
	} {
		if !ve.Has(want[0], want[1]) {
			t.Errorf("Validate errors = %v; want %s at %s", ve, want[1], want[0])
		}
	}
	// Settings for creates with a policy that never creates are refused.
	unused := validConfig()
	unused.Create.AccountID = "001000000000001AAA"
	if err := unused.Validate(env); !errors.As(err, &ve) || !ve.Has("create", "create_options_unused") {
		t.Fatalf("Validate = %v, want create_options_unused", err)
	}
}

func TestRequiredFieldsCountConstants(t *testing.T) {
	t.Parallel()
	company := salesforce.Field{Name: "Company", Type: "string", Length: 255, Createable: true, Updateable: true, Filterable: true}
	env := Env{Describe: objectDescribe(t, "Lead", company), CustomFields: testCustomFields()}
	cfg := validConfig()
	cfg.SyncObject = ObjectLead
	cfg.Identity.ToSalesforceNoMatch = NoMatchCreate
	cfg.Fields[2].Direction = DirBoth
	var ve ValidationErrors
	if err := cfg.Validate(env); !errors.As(err, &ve) || !ve.Has("field_mappings", "required_field_unmapped") {
		t.Fatalf("Validate = %v, want Company required", err)
	}
	cfg.Create.Constants = []ConstantValue{{SalesforceField: "Company", Value: "LINE 顧客"}}
	if err := cfg.Validate(env); err != nil {
		t.Fatalf("Validate with Company constant = %v, want nil", err)
	}
}

func mustField(t *testing.T, env Env, name string) salesforce.Field {
	f, ok := env.Describe.Field(name)
	if !ok {
		t.Fatalf("no field %s", name)
	}
	return f
}
