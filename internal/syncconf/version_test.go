package syncconf

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	cfg := Config{
		Identity: IdentityMapping{SalesforceField: "Email", PlatformIdentity: "email", ToPlatformNoMatch: NoMatchCreate, ToSalesforceNoMatch: NoMatchUpdateOnly},
		Fields: []FieldMapping{
			{SalesforceField: "Birthdate", PlatformField: "birthday", Direction: DirBoth},
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: DirToPlatform},
		},
		Conditions: []Condition{{SalesforceField: "LeadSource", Operator: OpIn, Values: []string{"Web", "Other"}}, {SalesforceField: "Title", Operator: OpIsNotEmpty, Values: []string{}}},
	}
	got, err := cfg.CanonicalJSON()
	if err != nil {
		t.Fatalf("CanonicalJSON() error: %v", err)
	}
	want := `{"schema_version":1,` +
		`"identity":{"salesforce_field":"Email","platform_identity":"email","to_platform_no_match":"create","to_salesforce_no_match":"update_only"},` +
		`"social_mappings":[],` +
		`"field_mappings":[{"salesforce_field":"Birthdate","platform_field":"birthday","direction":"both","conflict":"newest_wins"},` +
		`{"salesforce_field":"MobilePhone","platform_field":"phone","direction":"to_platform"}],` +
		`"conditions":[{"salesforce_field":"LeadSource","operator":"in","values":["Web","Other"]},{"salesforce_field":"Title","operator":"is_not_empty"}]}`
	if string(got) != want {
		t.Errorf("CanonicalJSON() =\n%s\nwant\n%s", got, want)
	}
	// Canonical form is a fixed point, and the decoded config means the same.
	back, err := DecodeConfig(got)
	if err != nil {
		t.Fatalf("DecodeConfig(canonical) error: %v", err)
	}
	again, err := back.CanonicalJSON()
	if err != nil || string(again) != want {
		t.Errorf("CanonicalJSON(DecodeConfig(canonical)) = %s, %v; want it unchanged", again, err)
	}
	if cfg.Fields[0].Conflict != "" || cfg.SchemaVersion != 0 {
		t.Errorf("CanonicalJSON changed its receiver: got %+v", cfg)
	}
}

func TestDecodeConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		wantErr  string
	}{
		{"without a schema version", `{"identity":{"salesforce_field":"Email"}}`, ""},
		{"current schema version", `{"schema_version":1}`, ""},
		{"newer schema version", `{"schema_version":2}`, "schema version 2"},
		{"negative schema version", `{"schema_version":-1}`, "schema version -1"},
		{"unknown key", `{"schema_version":1,"filters":[]}`, "unknown field"},
		{"unknown nested key", `{"identity":{"field":"Email"}}`, "unknown field"},
		{"trailing data", `{} {}`, "after the JSON value"},
		{"not JSON", `nope`, "invalid character"},
	}
	for _, tt := range tests {
		c, err := DecodeConfig([]byte(tt.in))
		if tt.wantErr == "" {
			if err != nil || c.SchemaVersion != CurrentSchemaVersion {
				t.Errorf("%s: DecodeConfig = %+v, %v; want schema version %d", tt.name, c, err, CurrentSchemaVersion)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: DecodeConfig error = %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	t.Parallel()
	v := Version{Number: 3, SavedBy: "admin-7", SavedAt: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), Config: validConfig()}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(Version) error: %v", err)
	}
	for _, want := range []string{`"number":3`, `"saved_by":"admin-7"`, `"saved_at":"2026-11-25T09:30:00Z"`, `"schema_version":1`, `"conflict":"newest_wins"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("json.Marshal(Version) = %s, want it to contain %s", data, want)
		}
	}
	var back Version
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("json.Unmarshal(Version) error: %v", err)
	}
	if want := (Version{Number: v.Number, SavedBy: v.SavedBy, SavedAt: v.SavedAt, Config: v.Config.Canonical()}); !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: got %+v, want %+v", back, want)
	}
	if err := back.Config.Validate(testEnv(t)); err != nil {
		t.Errorf("Validate(round-tripped config) = %v, want nil", err)
	}
	bad := strings.Replace(string(data), `"schema_version":1`, `"schema_version":9`, 1)
	if err := json.Unmarshal([]byte(bad), &back); err == nil || !strings.Contains(err.Error(), "schema version 9") {
		t.Errorf("json.Unmarshal(schema version 9) error = %v, want a refusal", err)
	}
}
