package syncconf

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
)

func TestValidateValidConfig(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	if err := cfg.Validate(testEnv(t)); err != nil {
		t.Fatalf("Validate(validConfig()) = %v, want nil", err)
	}
}

func TestValidateNoDescribe(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	if err := cfg.Validate(Env{}); !errors.Is(err, ErrNoDescribe) {
		t.Fatalf("Validate without describe = %v, want ErrNoDescribe", err)
	}
}

type wantErr struct{ path, code string }

func TestValidateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(c *Config, e *Env)
		want   []wantErr
	}{
		// Step 2: identity (S6–S8).
		{"identity field missing", func(c *Config, e *Env) { c.Identity.SalesforceField = " " },
			[]wantErr{{"identity.salesforce_field", "required"}}},
		{"identity field unknown", func(c *Config, e *Env) { c.Identity.SalesforceField = "Nope__c" },
			[]wantErr{{"identity.salesforce_field", "unknown_field"}}},
		{"platform identity missing", func(c *Config, e *Env) { c.Identity.PlatformIdentity = "" },
			[]wantErr{{"identity.platform_identity", "required"}}},
		{"platform identity unknown", func(c *Config, e *Env) { c.Identity.PlatformIdentity = "fax" },
			[]wantErr{{"identity.platform_identity", "invalid_identity"}}},
		{"e-mail identity on a date field", func(c *Config, e *Env) {
			c.Identity.SalesforceField = "Birthdate"
			c.Fields = slices.Delete(c.Fields, 1, 2)
		}, []wantErr{{"identity.salesforce_field", "identity_type"}}},
		{"member ID identity on a phone field", func(c *Config, e *Env) {
			c.Identity = IdentityMapping{SalesforceField: "HomePhone", PlatformIdentity: contact.IdentityMemberID, ToPlatformNoMatch: NoMatchCreate, ToSalesforceNoMatch: NoMatchUpdateOnly}
			c.Fields = c.Fields[1:]
		}, []wantErr{{"identity.salesforce_field", "identity_type"}}},
		{"identity field not filterable", func(c *Config, e *Env) {
			c.Identity = IdentityMapping{SalesforceField: "Secret__c", PlatformIdentity: contact.IdentityMemberID, ToPlatformNoMatch: NoMatchCreate, ToSalesforceNoMatch: NoMatchUpdateOnly}
			c.Fields = c.Fields[1:]
		}, []wantErr{{"identity.salesforce_field", "field_not_filterable"}}},
		{"to-platform policy missing", func(c *Config, e *Env) { c.Identity.ToPlatformNoMatch = "" },
			[]wantErr{{"identity.to_platform_no_match", "required"}}},
		{"to-Salesforce policy unknown", func(c *Config, e *Env) { c.Identity.ToSalesforceNoMatch = "upsert" },
			[]wantErr{{"identity.to_salesforce_no_match", "invalid_no_match_policy"}}},
		{"creating Salesforce contacts needs a createable identity field", func(c *Config, e *Env) {
			c.Identity = IdentityMapping{SalesforceField: "Legacy_ID__c", PlatformIdentity: contact.IdentityMemberID, ToPlatformNoMatch: NoMatchCreate, ToSalesforceNoMatch: NoMatchCreate}
			c.Fields = c.Fields[1:]
		}, []wantErr{{"identity.salesforce_field", "field_not_createable"}}},
		{"creating Salesforce contacts needs LastName mapped", func(c *Config, e *Env) {
			c.Identity.ToSalesforceNoMatch = NoMatchCreate
			c.Fields = slices.Delete(c.Fields, 3, 4)
		}, []wantErr{{"field_mappings", "required_field_unmapped"}}},
		{"nothing to sync", func(c *Config, e *Env) {
			c.Identity.ToPlatformNoMatch = NoMatchUpdateOnly
			c.Social, c.Fields = nil, nil
		}, []wantErr{{"field_mappings", "nothing_to_sync"}}},

		// Step 3: social identities (S9, S10).
		{"second social mapping without Social CDP", func(c *Config, e *Env) {
			c.Social = append(c.Social, SocialMapping{SalesforceField: "FB_PSID__c", ChannelType: contact.ChannelFacebook, ChannelID: "page-1", Direction: DirToPlatform})
		}, []wantErr{{"social_mappings[1]", "social_requires_plan"}}},
		{"channel type unknown", func(c *Config, e *Env) { c.Social[0].ChannelType = "myspace" },
			[]wantErr{{"social_mappings[0].channel_type", "invalid_channel_type"}}},
		{"channel ID missing", func(c *Config, e *Env) { c.Social[0].ChannelID = "" },
			[]wantErr{{"social_mappings[0].channel_id", "required"}}},
		{"same channel twice", func(c *Config, e *Env) {
			e.Entitlements = []string{EntitlementSocialCDP}
			c.Social = append(c.Social, SocialMapping{SalesforceField: "FB_PSID__c", ChannelType: contact.ChannelLINE, ChannelID: "oa-1", Direction: DirToPlatform})
		}, []wantErr{{"social_mappings[1].channel_id", "duplicate_channel"}}},
		{"same social field twice", func(c *Config, e *Env) {
			e.Entitlements = []string{EntitlementSocialCDP}
			c.Social = append(c.Social, SocialMapping{SalesforceField: "line_uid__c", ChannelType: contact.ChannelLINE, ChannelID: "oa-2", Direction: DirToPlatform})
		}, []wantErr{{"social_mappings[1].salesforce_field", "field_in_use"}}},
		{"social field is the identity field", func(c *Config, e *Env) { c.Social[0].SalesforceField = "Email" },
			[]wantErr{{"social_mappings[0].salesforce_field", "field_in_use"}}},
		{"social field not text", func(c *Config, e *Env) { c.Social[0].SalesforceField = "Points__c" },
			[]wantErr{{"social_mappings[0].salesforce_field", "social_field_type"}}},
		{"social field not updateable", func(c *Config, e *Env) { c.Social[0].SalesforceField = "Legacy_ID__c" },
			[]wantErr{{"social_mappings[0].salesforce_field", "field_not_updateable"}}},
		{"social direction missing", func(c *Config, e *Env) { c.Social[0].Direction = "" },
			[]wantErr{{"social_mappings[0].direction", "required"}}},
		{"social conflict rule on one-way mapping", func(c *Config, e *Env) {
			c.Social[0].Direction = DirToPlatform
			c.Social[0].Conflict = AlwaysPlatform
		}, []wantErr{{"social_mappings[0].conflict", "conflict_rule_one_way"}}},

		// Step 4: field mappings (S11, S13, X2).
		{"field mapping reuses the identity field", func(c *Config, e *Env) { c.Fields[0].SalesforceField = "email" },
			[]wantErr{{"field_mappings[0].salesforce_field", "field_in_use"}}},
		{"field mapping reuses a social field", func(c *Config, e *Env) { c.Fields[0].SalesforceField = "LINE_UID__c" },
			[]wantErr{{"field_mappings[0].salesforce_field", "field_in_use"}}},
		{"Salesforce field unknown", func(c *Config, e *Env) { c.Fields[0].SalesforceField = "Nope__c" },
			[]wantErr{{"field_mappings[0].salesforce_field", "unknown_field"}}},
		{"Salesforce field missing", func(c *Config, e *Env) { c.Fields[0].SalesforceField = "" },
			[]wantErr{{"field_mappings[0].salesforce_field", "required"}}},
		{"platform field unknown", func(c *Config, e *Env) { c.Fields[0].PlatformField = "fax" },
			[]wantErr{{"field_mappings[0].platform_field", "unknown_platform_field"}}},
		{"custom field unknown", func(c *Config, e *Env) { c.Fields[4].PlatformField = "custom.nope" },
			[]wantErr{{"field_mappings[4].platform_field", "unknown_platform_field"}}},
		{"platform field missing", func(c *Config, e *Env) { c.Fields[0].PlatformField = "" },
			[]wantErr{{"field_mappings[0].platform_field", "required"}}},
		{"platform identity overwritten by another field", func(c *Config, e *Env) {
			c.Fields = append(c.Fields, FieldMapping{SalesforceField: "Title", PlatformField: "email", Direction: DirToPlatform})
		}, []wantErr{{"field_mappings[5].platform_field", "platform_field_is_identity"}}},
		{"number to date", func(c *Config, e *Env) { c.Fields[1].SalesforceField = "Points__c" },
			[]wantErr{{"field_mappings[1].platform_field", "type_incompatible"}}},
		{"datetime to date both ways", func(c *Config, e *Env) {
			c.Fields = append(c.Fields, FieldMapping{SalesforceField: "Last_Purchase__c", PlatformField: "custom.last_purchase", Direction: DirBoth})
		}, []wantErr{{"field_mappings[5].platform_field", "type_incompatible"}}},
		{"address field", func(c *Config, e *Env) {
			c.Fields = append(c.Fields, FieldMapping{SalesforceField: "MailingAddress", PlatformField: "custom.note", Direction: DirToPlatform})
		}, []wantErr{{"field_mappings[5].platform_field", "type_incompatible"}}},
		{"boolean to text", func(c *Config, e *Env) {
			c.Fields = append(c.Fields, FieldMapping{SalesforceField: "Opt_In__c", PlatformField: "custom.note", Direction: DirToPlatform})
		}, []wantErr{{"field_mappings[5].platform_field", "type_incompatible"}}},
		{"reference to text toward Salesforce", func(c *Config, e *Env) {
			c.Fields = append(c.Fields, FieldMapping{SalesforceField: "AccountId", PlatformField: "custom.note", Direction: DirToSalesforce})
		}, []wantErr{{"field_mappings[5].platform_field", "type_incompatible"}}},
		{"formula field as Salesforce target", func(c *Config, e *Env) {
			c.Fields = append(c.Fields, FieldMapping{SalesforceField: "Formula_Text__c", PlatformField: "custom.note", Direction: DirToSalesforce})
		}, []wantErr{{"field_mappings[5].salesforce_field", "field_not_updateable"}}},
		{"update-only field as target when creating", func(c *Config, e *Env) {
			c.Identity.ToSalesforceNoMatch = NoMatchCreate
			c.Fields = append(c.Fields, FieldMapping{SalesforceField: "Update_Only__c", PlatformField: "custom.note", Direction: DirToSalesforce})
		}, []wantErr{{"field_mappings[5].salesforce_field", "field_not_createable"}}},
		{"platform field written twice", func(c *Config, e *Env) {
			c.Fields = append(c.Fields,
				FieldMapping{SalesforceField: "Title", PlatformField: "custom.note", Direction: DirToPlatform},
				FieldMapping{SalesforceField: "Department", PlatformField: "custom.note", Direction: DirBoth})
		}, []wantErr{{"field_mappings[6].platform_field", "duplicate_platform_target"}}},
		{"Salesforce field written twice", func(c *Config, e *Env) {
			c.Fields = append(c.Fields,
				FieldMapping{SalesforceField: "Title", PlatformField: "custom.note", Direction: DirToSalesforce},
				FieldMapping{SalesforceField: "title", PlatformField: "member_id", Direction: DirToSalesforce})
		}, []wantErr{{"field_mappings[6].salesforce_field", "duplicate_salesforce_target"}}},
		{"direction unknown", func(c *Config, e *Env) { c.Fields[0].Direction = "sideways" },
			[]wantErr{{"field_mappings[0].direction", "invalid_direction"}}},
		{"conflict rule unknown", func(c *Config, e *Env) { c.Fields[1].Conflict = "coin_flip" },
			[]wantErr{{"field_mappings[1].conflict", "invalid_conflict_rule"}}},
		{"conflict rule on a one-way mapping", func(c *Config, e *Env) { c.Fields[2].Conflict = NewestWins },
			[]wantErr{{"field_mappings[2].conflict", "conflict_rule_one_way"}}},
		{"select option missing from the picklist", func(c *Config, e *Env) { c.Fields[4].PlatformField = "custom.tier" },
			[]wantErr{{"field_mappings[4].platform_field", "picklist_option_missing"}}},

		// Step 5: conditions (S14).
		{"condition field unknown", func(c *Config, e *Env) { c.Conditions[0].SalesforceField = "Nope__c" },
			[]wantErr{{"conditions[0].salesforce_field", "unknown_field"}}},
		{"condition field missing", func(c *Config, e *Env) { c.Conditions[0].SalesforceField = "" },
			[]wantErr{{"conditions[0].salesforce_field", "required"}}},
		{"condition field not filterable", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Description", Operator: OpContains, Value: "x"}
		}, []wantErr{{"conditions[0].salesforce_field", "field_not_filterable"}}},
		{"operator unknown", func(c *Config, e *Env) { c.Conditions[0].Operator = "like" },
			[]wantErr{{"conditions[0].operator", "invalid_operator"}}},
		{"operator missing", func(c *Config, e *Env) { c.Conditions[0].Operator = "" },
			[]wantErr{{"conditions[0].operator", "required"}}},
		{"gt on text", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Email", Operator: OpGT, Value: "a"}
		},
			[]wantErr{{"conditions[0].operator", "operator_type"}}},
		{"contains on a date", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Birthdate", Operator: OpContains, Value: "2020"}
		}, []wantErr{{"conditions[0].operator", "operator_type"}}},
		{"contains on a picklist", func(c *Config, e *Env) { c.Conditions[0].Operator = OpContains },
			[]wantErr{{"conditions[0].operator", "operator_type"}}},
		{"equals on a multi-select picklist", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Interests__c", Operator: OpEquals, Value: "Music"}
		}, []wantErr{{"conditions[0].operator", "operator_type"}}},
		{"is_empty on a boolean", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Opt_In__c", Operator: OpIsEmpty}
		}, []wantErr{{"conditions[0].operator", "operator_type"}}},
		{"text value missing", func(c *Config, e *Env) { c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpEquals} },
			[]wantErr{{"conditions[0].value", "required"}}},
		{"date value invalid", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Birthdate", Operator: OpGT, Value: "2024-13-01"}
		}, []wantErr{{"conditions[0].value", "invalid_value"}}},
		{"datetime value with fractional seconds", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Last_Purchase__c", Operator: OpGT, Value: "2024-01-01T00:00:00.5Z"}
		}, []wantErr{{"conditions[0].value", "invalid_value"}}},
		{"datetime value without zone", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Last_Purchase__c", Operator: OpGT, Value: "2024-01-01T00:00:00"}
		}, []wantErr{{"conditions[0].value", "invalid_value"}}},
		{"number value invalid", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Points__c", Operator: OpGTE, Value: "lots"}
		}, []wantErr{{"conditions[0].value", "invalid_value"}}},
		{"number value infinite", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Points__c", Operator: OpGTE, Value: "1e999"}
		}, []wantErr{{"conditions[0].value", "invalid_value"}}},
		{"boolean value invalid", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Opt_In__c", Operator: OpEquals, Value: "yes"}
		}, []wantErr{{"conditions[0].value", "invalid_value"}}},
		{"picklist value unknown", func(c *Config, e *Env) { c.Conditions[0].Value = "Fax" },
			[]wantErr{{"conditions[0].value", "picklist_value_unknown"}}},
		{"picklist value unknown in a list", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "LeadSource", Operator: OpIn, Values: []string{"Web", "Fax"}}
		}, []wantErr{{"conditions[0].values[1]", "picklist_value_unknown"}}},
		{"value given to is_empty", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpIsEmpty, Value: "x"}
		}, []wantErr{{"conditions[0].value", "value_not_allowed"}}},
		{"values given to is_not_empty", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpIsNotEmpty, Values: []string{"x"}}
		}, []wantErr{{"conditions[0].values", "value_not_allowed"}}},
		{"values missing for in", func(c *Config, e *Env) { c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpIn} },
			[]wantErr{{"conditions[0].values", "required"}}},
		{"single value given to not_in", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpNotIn, Value: "a", Values: []string{"b"}}
		}, []wantErr{{"conditions[0].value", "value_not_allowed"}}},
		{"list given to equals", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpEquals, Value: "a", Values: []string{"b"}}
		}, []wantErr{{"conditions[0].values", "value_not_allowed"}}},
		{"empty string in a list", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpIn, Values: []string{"a", ""}}
		}, []wantErr{{"conditions[0].values[1]", "required"}}},
		{"text value too long", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpContains, Value: strings.Repeat("字", 4001)}
		}, []wantErr{{"conditions[0].value", "value_too_long"}}},
		{"text value with NUL", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpEquals, Value: "a\x00b"}
		}, []wantErr{{"conditions[0].value", "value_control_character"}}},
		{"text value with a bell", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpContains, Value: "ding\x07"}
		}, []wantErr{{"conditions[0].value", "value_control_character"}}},
		{"text value not UTF-8", func(c *Config, e *Env) {
			c.Conditions[0] = Condition{SalesforceField: "Title", Operator: OpEquals, Value: "a\xffb"}
		}, []wantErr{{"conditions[0].value", "value_control_character"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, env := validConfig(), testEnv(t)
			tt.change(&cfg, &env)
			err := cfg.Validate(env)
			var errs ValidationErrors
			if !errors.As(err, &errs) {
				t.Fatalf("Validate = %v, want ValidationErrors", err)
			}
			for _, w := range tt.want {
				if !errs.Has(w.path, w.code) {
					t.Errorf("got errors %v, want %s at %s", codes(errs), w.code, w.path)
				}
			}
			if len(errs) != len(tt.want) {
				t.Errorf("got %d errors %v, want %d", len(errs), codes(errs), len(tt.want))
			}
			for _, e := range errs {
				checkMessages(t, e.Code, e.Message)
				if want := stepOf(e.Path); e.Step != want {
					t.Errorf("error %s at %s: got step %q, want %q", e.Code, e.Path, e.Step, want)
				}
			}
		})
	}
}

func stepOf(path string) Step {
	switch {
	case strings.HasPrefix(path, "identity"):
		return StepIdentity
	case strings.HasPrefix(path, "social"):
		return StepSocial
	case strings.HasPrefix(path, "field"):
		return StepFields
	}
	return StepConditions
}

func codes(errs ValidationErrors) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Code+"@"+e.Path)
	}
	return out
}

// checkMessages checks that a message exists in both languages and that
// its arguments fitted the templates.
func checkMessages(t *testing.T, code string, m map[string]string) {
	t.Helper()
	for _, lang := range []string{LangEN, LangZHTW} {
		if m[lang] == "" || strings.Contains(m[lang], "%!") {
			t.Errorf("%s: got %s message %q, want a formatted text", code, lang, m[lang])
		}
	}
	if m[LangZHTW] == m[LangEN] {
		t.Errorf("%s: got the same zh-TW and English message %q, want a translation", code, m[LangEN])
	}
}

func TestValidateSocialCDPAllowsSeveral(t *testing.T) {
	t.Parallel()
	cfg, env := validConfig(), testEnv(t)
	env.Entitlements = []string{"salesforce", EntitlementSocialCDP}
	cfg.Social = append(cfg.Social, SocialMapping{SalesforceField: "FB_PSID__c", ChannelType: contact.ChannelFacebook, ChannelID: "page-1", Direction: DirToPlatform})
	if err := cfg.Validate(env); err != nil {
		t.Fatalf("Validate with social_cdp = %v, want nil", err)
	}
	env.Entitlements = []string{"salesforce"}
	err := cfg.Validate(env)
	var errs ValidationErrors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Code != "social_requires_plan" {
		t.Fatalf("Validate without social_cdp = %v, want one social_requires_plan", err)
	}
	if !strings.Contains(errs[0].Message[LangEN], "Social CDP") || !strings.Contains(errs[0].Message[LangZHTW], "Social CDP") {
		t.Errorf("got messages %q, want them to name the Social CDP plan", errs[0].Message)
	}
}

func TestValidateErrorsInStepOrder(t *testing.T) {
	t.Parallel()
	cfg, env := validConfig(), testEnv(t)
	cfg.Conditions[0].Operator = "like"
	cfg.Fields[0].PlatformField = "fax"
	cfg.Social[0].ChannelType = "myspace"
	cfg.Identity.PlatformIdentity = "fax"
	err := cfg.Validate(env)
	var errs ValidationErrors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate = %v, want ValidationErrors", err)
	}
	var got []Step
	for _, e := range errs {
		got = append(got, e.Step)
	}
	want := []Step{StepIdentity, StepSocial, StepFields, StepConditions}
	if !slices.Equal(got, want) {
		t.Errorf("got steps %v, want %v", got, want)
	}
}

func TestBindResolvesCanonicalNames(t *testing.T) {
	t.Parallel()
	cfg, env := validConfig(), testEnv(t)
	cfg.Identity.SalesforceField = "EMAIL"
	cfg.Fields[1].SalesforceField = "birthdate"
	b, err := cfg.Bind(env)
	if err != nil {
		t.Fatalf("Bind = %v, want nil", err)
	}
	if got := b.Identity.Salesforce.Name; got != "Email" {
		t.Errorf("identity field: got %q, want %q", got, "Email")
	}
	if got := b.Fields[1].Salesforce.Name; got != "Birthdate" {
		t.Errorf("field_mappings[1]: got %q, want %q", got, "Birthdate")
	}
	if got := b.Fields[4].Platform; got.Kind != KindSelect || !slices.Equal(got.Options, []string{"Gold", "Silver"}) {
		t.Errorf("field_mappings[4] platform field: got %+v, want select Gold, Silver", got)
	}
	if got, want := b.Conditions[0].SOQL, "LeadSource = 'Web'"; got != want {
		t.Errorf("condition SOQL: got %q, want %q", got, want)
	}
}

func TestDirections(t *testing.T) {
	t.Parallel()
	base := Config{Identity: IdentityMapping{ToPlatformNoMatch: NoMatchUpdateOnly, ToSalesforceNoMatch: NoMatchUpdateOnly}}
	tests := []struct {
		name       string
		change     func(c *Config)
		pull, push bool
	}{
		{"nothing", func(c *Config) {}, false, false},
		{"create on platform", func(c *Config) { c.Identity.ToPlatformNoMatch = NoMatchCreate }, true, false},
		{"create in Salesforce", func(c *Config) { c.Identity.ToSalesforceNoMatch = NoMatchCreate }, false, true},
		{"field to platform", func(c *Config) { c.Fields = []FieldMapping{{Direction: DirToPlatform}} }, true, false},
		{"field to Salesforce", func(c *Config) { c.Fields = []FieldMapping{{Direction: DirToSalesforce}} }, false, true},
		{"two-way field", func(c *Config) { c.Fields = []FieldMapping{{Direction: DirBoth}} }, true, true},
		{"social to platform", func(c *Config) { c.Social = []SocialMapping{{Direction: DirToPlatform}} }, true, false},
		{"social to Salesforce", func(c *Config) { c.Social = []SocialMapping{{Direction: DirToSalesforce}} }, false, true},
		{"two-way social", func(c *Config) { c.Social = []SocialMapping{{Direction: DirBoth}} }, true, true},
	}
	for _, tt := range tests {
		c := base
		tt.change(&c)
		if got := c.PullsFromSalesforce(); got != tt.pull {
			t.Errorf("%s: PullsFromSalesforce() = %v, want %v", tt.name, got, tt.pull)
		}
		if got := c.PushesToSalesforce(); got != tt.push {
			t.Errorf("%s: PushesToSalesforce() = %v, want %v", tt.name, got, tt.push)
		}
	}
}

func TestOfferableFields(t *testing.T) {
	t.Parallel()
	cfg, d := validConfig(), testDescribe(t)
	names := func(p Purpose) []string {
		var out []string
		for _, f := range cfg.OfferableFields(d, p) {
			out = append(out, f.Name)
		}
		return out
	}
	tests := []struct {
		purpose   Purpose
		offered   []string
		notOffers []string
	}{
		// Identity e-mail: email and string fields that can be filtered, not the social field.
		{PurposeIdentity, []string{"Email", "Member_No__c", "Title"}, []string{"LINE_UID__c", "Phone", "Birthdate", "Secret__c", "Description"}},
		{PurposeSocial, []string{"LINE_UID__c", "FB_PSID__c", "Title"}, []string{"Email", "Points__c", "Phone"}},
		{PurposeMapping, []string{"Birthdate", "Points__c", "Opt_In__c", "FB_PSID__c", "AccountId"}, []string{"Email", "LINE_UID__c", "MailingAddress", "Clock__c"}},
		{PurposeCondition, []string{"Email", "LINE_UID__c", "LeadSource", "Birthdate", "Opt_In__c", "Interests__c"}, []string{"Description", "Secret__c", "MailingAddress", "Clock__c"}},
	}
	for _, tt := range tests {
		got := names(tt.purpose)
		for _, n := range tt.offered {
			if !slices.Contains(got, n) {
				t.Errorf("%s: got %v, want it to offer %s", tt.purpose, got, n)
			}
		}
		for _, n := range tt.notOffers {
			if slices.Contains(got, n) {
				t.Errorf("%s: got %v, want it not to offer %s", tt.purpose, got, n)
			}
		}
	}
	// Phone identity offers phone fields.
	cfg.Identity.PlatformIdentity = contact.IdentityPhone
	if got := names(PurposeIdentity); !slices.Contains(got, "MobilePhone") || slices.Contains(got, "Email") {
		t.Errorf("identity by phone: got %v, want MobilePhone and not Email", got)
	}
}

func TestCompatibilityTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sfType string
		kind   PlatformKind
		dir    Direction
		want   bool
	}{
		{"date", KindDate, DirBoth, true},
		{"datetime", KindDate, DirToPlatform, true},
		{"datetime", KindDate, DirBoth, false},
		{"datetime", KindDate, DirToSalesforce, false},
		{"datetime", KindText, DirBoth, true},
		{"string", KindDate, DirToPlatform, false},
		{"phone", KindPhone, DirBoth, true},
		{"string", KindPhone, DirToSalesforce, true},
		{"email", KindEmail, DirBoth, true},
		{"phone", KindEmail, DirBoth, false},
		{"double", KindNumber, DirBoth, true},
		{"int", KindNumber, DirToSalesforce, true},
		{"string", KindNumber, DirToPlatform, false},
		{"boolean", KindBoolean, DirBoth, true},
		{"string", KindBoolean, DirBoth, false},
		{"picklist", KindSelect, DirBoth, true},
		{"multipicklist", KindSelect, DirBoth, false},
		{"multipicklist", KindTags, DirBoth, true},
		{"textarea", KindTags, DirBoth, true},
		{"id", KindText, DirToPlatform, true},
		{"id", KindText, DirToSalesforce, false},
		{"address", KindText, DirToPlatform, false},
		{"time", KindText, DirToPlatform, false},
	}
	for _, tt := range tests {
		if got := Compatible(tt.sfType, tt.kind, tt.dir); got != tt.want {
			t.Errorf("Compatible(%s, %s, %s) = %v, want %v", tt.sfType, tt.kind, tt.dir, got, tt.want)
		}
	}
}
