package syncconf

import (
	"errors"
	"testing"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// TestPersonAccountNeedsLastName: Account's describe lets LastName be null
// (business accounts have none), but Salesforce refuses a Person Account
// without one (REQUIRED_FIELD_MISSING). Creating Person Accounts needs a
// mapping to LastName, and a blank platform name fails the record before
// it is sent, as a required field does. Found by the model test with
// Person Accounts.
func TestPersonAccountNeedsLastName(t *testing.T) {
	t.Parallel()
	d := objectDescribe(t, "Account", salesforce.Field{Name: "IsPersonAccount", Type: "boolean", Filterable: true})
	for i := range d.Fields {
		if d.Fields[i].Name == LastNameField {
			d.Fields[i].Nillable = true // as Account describes it
		}
	}
	env := Env{Describe: d, CustomFields: testCustomFields()}
	cfg := validConfig()
	cfg.SyncObject = ObjectPersonAccount
	cfg.Identity.ToSalesforceNoMatch = NoMatchCreate
	b, err := cfg.Bind(env)
	if err != nil {
		t.Fatalf("Bind = %v, want nil", err)
	}
	for _, fb := range b.Fields {
		if fb.Salesforce.Name == LastNameField {
			if _, err := ToSalesforce(fb, ""); err == nil {
				t.Errorf("ToSalesforce(LastName, blank) = nil error, want required_value")
			}
		}
	}
	cfg.Fields = cfg.Fields[:3] // without name → LastName
	var ve ValidationErrors
	if err := cfg.Validate(env); !errors.As(err, &ve) || !ve.Has("field_mappings", "required_field_unmapped") {
		t.Fatalf("Validate without LastName = %v, want required_field_unmapped", err)
	}
}
