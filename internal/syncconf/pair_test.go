package syncconf

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// TestLeadThenContactPair: the pair "Lead, then the converted Contact"
// reads and creates Leads, needs the describe of Contact as well, and
// refuses a mapping whose field Contact lacks, at the mapping's path, in
// both languages. Its Contact half has no conditions and creates nothing.
func TestLeadThenContactPair(t *testing.T) {
	t.Parallel()
	company := salesforce.Field{Name: "Company", Type: "string", Length: 255, Createable: true, Updateable: true, Filterable: true}
	lead := objectDescribe(t, "Lead", company, salesforce.Field{Name: "IsConverted", Type: "boolean", Filterable: true},
		salesforce.Field{Name: "ConvertedContactId", Type: "reference", Filterable: true})
	cfg := validConfig()
	cfg.SyncObject = ObjectLeadContact
	if cfg.Object() != "Lead" || !cfg.Choice().Leads() || cfg.Choice().ConvertedObject() != "Contact" {
		t.Fatalf("pair: Object %s, Leads %v, ConvertedObject %q; want Lead, true, Contact", cfg.Object(), cfg.Choice().Leads(), cfg.Choice().ConvertedObject())
	}
	var ve ValidationErrors
	if err := cfg.Validate(Env{Describe: lead, CustomFields: testCustomFields()}); !errors.As(err, &ve) || !ve.Has("object", "converted_not_described") {
		t.Fatalf("Validate without Contact's describe = %v, want converted_not_described", err)
	}
	env := Env{Describe: lead, Converted: objectDescribe(t, "Contact"), CustomFields: testCustomFields()}
	if err := cfg.Validate(env); err != nil {
		t.Fatalf("Validate = %v, want nil", err)
	}
	soql, err := cfg.SOQL(lead, nil)
	if err != nil || !strings.Contains(soql, "IsConverted") {
		t.Fatalf("SOQL = %q, %v; want the Lead's conversion fields read", soql, err)
	}

	// Company is on Lead only: mapped, it is refused for Contact.
	cfg.Fields = append(cfg.Fields, FieldMapping{SalesforceField: "Company", PlatformField: "custom.note", Direction: DirBoth})
	env.Converted = objectDescribe(t, "Contact")
	err = cfg.Validate(env)
	p := fmt.Sprintf("field_mappings[%d].salesforce_field", len(cfg.Fields)-1)
	if !errors.As(err, &ve) || !ve.Has(p, "converted_contact") {
		t.Fatalf("Validate with Company mapped = %v, want converted_contact at %s", err, p)
	}
	for _, e := range ve {
		if e.Code == "converted_contact" && (!strings.Contains(e.Message[LangEN], "on Contact") || !strings.Contains(e.Message[LangZHTW], "Company")) {
			t.Errorf("message = %v, want it to say Contact and name Company in both languages", e.Message)
		}
	}

	half, ok := cfg.ConvertedHalf()
	if !ok || half.Choice() != ObjectContact || half.Identity.ToSalesforceNoMatch != NoMatchUpdateOnly ||
		half.Identity.ToPlatformNoMatch != NoMatchUpdateOnly || len(half.Conditions) != 0 || len(half.Create.Constants) != 0 {
		t.Fatalf("ConvertedHalf = %+v, %v; want Contact, update only both ways, no conditions, no create options", half, ok)
	}
	contactCfg := validConfig()
	if _, ok := contactCfg.ConvertedHalf(); ok {
		t.Error("ConvertedHalf of a Contact configuration: ok, want none")
	}
}
