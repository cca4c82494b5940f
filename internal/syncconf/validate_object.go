package syncconf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// object checks the object choice against the describe the configuration
// is validated with: the describe must be of the chosen object, and a
// Person Account needs an org that has them.
func (v *validator) object(c *Config) {
	const path = "object"
	if !c.SyncObject.valid() {
		v.add(StepIdentity, path, "invalid_object", string(c.SyncObject))
		return
	}
	if !strings.EqualFold(v.d.Name, c.Object()) {
		v.add(StepIdentity, path, "object_not_described", v.d.Name, c.Object())
		return
	}
	if c.Choice() == ObjectPersonAccount && !PersonAccountsEnabled(v.d) {
		v.add(StepIdentity, path, "person_accounts_disabled")
	}
}

// converted checks the Contact half of the pair "Lead, then the converted
// Contact" (Config.ConvertedHalf) against the describe of Contact: every
// mapped field must be on Contact too, fit its type and, where values
// flow to Salesforce, be updateable there. Each problem is reported at
// the path of the mapping, as converted_contact, quoting the problem.
func (v *validator) converted(half Config) {
	if v.env.Converted == nil {
		v.add(StepIdentity, "object", "converted_not_described")
		return
	}
	env := v.env
	env.Describe, env.Converted = env.Converted, nil
	_, err := half.Bind(env)
	var es ValidationErrors
	if !errors.As(err, &es) {
		return
	}
	for _, e := range es {
		if e.Code == "nothing_to_sync" {
			continue // a pair that only creates Leads updates no Contact: allowed
		}
		msg := message("converted_contact", e.Message[LangEN])
		msg[LangZHTW] = message("converted_contact", e.Message[LangZHTW])[LangZHTW]
		v.errs = append(v.errs, ValidationError{Step: e.Step, Path: e.Path, Code: "converted_contact", Message: msg})
	}
}

// nameRule checks a mapping that splits the platform's name over
// FirstName and LastName, and returns FirstName's describe entry.
func (v *validator) nameRule(c *Config, p string, m FieldMapping, sf salesforce.Field, sfOK bool, pf PlatformField, pfOK bool) salesforce.Field {
	if !m.NameRule.valid() {
		v.add(StepFields, p+".name_rule", "invalid_name_rule", string(m.NameRule))
		return salesforce.Field{}
	}
	if (sfOK && !strings.EqualFold(sf.Name, LastNameField)) || (pfOK && pf.Name != "name") {
		v.add(StepFields, p+".name_rule", "name_rule_fields")
		return salesforce.Field{}
	}
	first, ok := v.d.Field(FirstNameField)
	if !ok {
		v.add(StepFields, p+".name_rule", "unknown_field", FirstNameField)
		return salesforce.Field{}
	}
	if v.inUse(StepFields, p+".name_rule", first) {
		return salesforce.Field{}
	}
	v.use(first.Name, usage{fmt.Sprintf("the name rule of %s", p), fmt.Sprintf("%s 的姓名規則", p)})
	if m.Direction.Pushes() {
		v.writable(StepFields, p+".name_rule", first, c)
	}
	for i, o := range c.Fields {
		if strings.EqualFold(o.SalesforceField, FirstNameField) {
			v.add(StepFields, p+".name_rule", "duplicate_salesforce_target", first.Name, i)
		}
	}
	return first
}

// valueMap checks a mapping's value map against both sides' allowed
// values: Salesforce picklist values from the describe, platform select
// options from the custom field's definition.
func (v *validator) valueMap(p string, m FieldMapping, sf salesforce.Field, pf PlatformField) {
	switch pf.Kind {
	case KindText, KindSelect, KindTags:
	default:
		v.add(StepFields, p+".value_map", "value_map_type", sf.Name, sf.Type)
		return
	}
	if !isStringType(sf.Type) && sf.Type != sfPicklist && sf.Type != sfMultipicklist {
		v.add(StepFields, p+".value_map", "value_map_type", sf.Name, sf.Type)
		return
	}
	seenPF, seenSF := map[string]bool{}, map[string]bool{}
	for i, pair := range m.ValueMap {
		q := fmt.Sprintf("%s.value_map[%d]", p, i)
		if strings.TrimSpace(pair.Platform) == "" || strings.TrimSpace(pair.Salesforce) == "" {
			v.add(StepFields, q, "value_map_blank")
			continue
		}
		if sf.Type == sfPicklist || sf.Type == sfMultipicklist {
			if _, ok := picklistValue(sf, strings.TrimSpace(pair.Salesforce)); !ok {
				v.add(StepFields, q+".salesforce", "value_map_salesforce_unknown", pair.Salesforce, sf.Name)
			}
		}
		if pf.Kind == KindSelect && len(pf.Options) > 0 {
			found := false
			for _, o := range pf.Options {
				if strings.EqualFold(o, strings.TrimSpace(pair.Platform)) {
					found = true
				}
			}
			if !found {
				v.add(StepFields, q+".platform", "value_map_platform_unknown", pair.Platform, pf.Name)
			}
		}
		kp, ks := strings.ToLower(strings.TrimSpace(pair.Platform)), strings.ToLower(strings.TrimSpace(pair.Salesforce))
		if seenPF[kp] {
			v.add(StepFields, q+".platform", "value_map_duplicate", pair.Platform)
		}
		if seenSF[ks] {
			v.add(StepFields, q+".salesforce", "value_map_duplicate", pair.Salesforce)
		}
		seenPF[kp], seenSF[ks] = true, true
	}
}

// create checks what sfsync sets on the records it creates.
func (v *validator) create(c *Config) {
	o := c.Create
	creates := c.Identity.ToSalesforceNoMatch == NoMatchCreate
	if !creates {
		if len(o.Constants) > 0 || o.OwnerID != "" || o.RecordTypeID != "" || o.AccountID != "" ||
			(o.Owner != "" && o.Owner != OwnerDefault) {
			v.add(StepIdentity, "create", "create_options_unused")
		}
	}
	mapped := map[string]bool{strings.ToLower(c.Identity.SalesforceField): true}
	for _, m := range c.Social {
		mapped[strings.ToLower(m.SalesforceField)] = true
	}
	for _, m := range c.Fields {
		if m.Direction.Pushes() {
			mapped[strings.ToLower(m.SalesforceField)] = true
			if m.NameRule != "" {
				mapped[strings.ToLower(FirstNameField)] = true
			}
		}
	}
	seen := map[string]bool{}
	for i, k := range o.Constants {
		p := fmt.Sprintf("create.constants[%d]", i)
		if strings.TrimSpace(k.SalesforceField) == "" {
			v.add(StepIdentity, p+".salesforce_field", "required")
			continue
		}
		f, ok := v.d.Field(k.SalesforceField)
		if !ok {
			v.add(StepIdentity, p+".salesforce_field", "constant_field_unknown", k.SalesforceField)
			continue
		}
		key := strings.ToLower(f.Name)
		switch {
		case !f.Createable:
			v.add(StepIdentity, p+".salesforce_field", "constant_not_createable", f.Name)
			continue
		case mapped[key] || seen[key]:
			v.add(StepIdentity, p+".salesforce_field", "constant_field_mapped", f.Name)
			continue
		}
		seen[key] = true
		if _, err := ConstantValueFor(f, k.Value); err != nil {
			v.add(StepIdentity, p+".value", "constant_value_invalid", k.Value, f.Name)
		}
	}
	switch o.Owner {
	case "", OwnerDefault:
	case OwnerUser:
		if !validID(o.OwnerID, "005") {
			v.add(StepIdentity, "create.owner_id", "owner_id_invalid", o.OwnerID)
		}
	case OwnerAssignmentRules:
		if !c.Choice().Leads() {
			v.add(StepIdentity, "create.owner", "assignment_rules_lead_only")
		}
	default:
		v.add(StepIdentity, "create.owner", "invalid_owner_policy", string(o.Owner))
	}
	if o.RecordTypeID != "" {
		found := false
		for _, rt := range v.d.RecordTypeInfos {
			if (rt.Available || rt.Active) && salesforce.SameID(rt.RecordTypeID, o.RecordTypeID) {
				found = true
			}
		}
		if !found {
			v.add(StepIdentity, "create.record_type_id", "record_type_unknown", o.RecordTypeID, v.d.Name)
		}
	}
	if o.AccountID != "" {
		if c.Choice() != ObjectContact {
			v.add(StepIdentity, "create.account_id", "account_id_contact_only")
		} else if !validID(o.AccountID, "001") {
			v.add(StepIdentity, "create.account_id", "account_id_invalid", o.AccountID)
		}
	}
	switch o.OnDuplicate {
	case "", DuplicateReview, DuplicateLink:
	default:
		v.add(StepIdentity, "create.on_duplicate", "invalid_duplicate_policy", string(o.OnDuplicate))
	}
}

// validID reports a 15- or 18-character Salesforce Id with the key prefix.
func validID(id, prefix string) bool {
	if len(id) != 15 && len(id) != 18 || !strings.HasPrefix(id, prefix) {
		return false
	}
	for _, r := range id {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// ConstantValueFor converts a constant typed by the admin into the value
// written to f: a picklist value in the describe's spelling, a number, a
// boolean, a date, or text within the field's length.
func ConstantValueFor(f salesforce.Field, raw string) (any, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, recordError(f.Name, raw, "required_value", nil)
	}
	switch f.Type {
	case sfPicklist:
		val, ok := picklistValue(f, raw)
		if !ok {
			return nil, recordError(f.Name, raw, "not_an_option", nil)
		}
		return val, nil
	case sfMultipicklist:
		var out []string
		for _, part := range strings.Split(raw, tagSeparator) {
			val, ok := picklistValue(f, strings.TrimSpace(part))
			if !ok {
				return nil, recordError(f.Name, part, "not_an_option", nil)
			}
			out = append(out, val)
		}
		return strings.Join(out, tagSeparator), nil
	case sfReference, sfID:
		if !validID(raw, "") {
			return nil, recordError(f.Name, raw, "invalid_text", nil, raw)
		}
		return raw, nil
	}
	kind := KindText
	switch {
	case f.Type == sfBoolean:
		kind = KindBoolean
	case isNumberType(f.Type):
		kind = KindNumber
	case f.Type == sfDate || f.Type == sfDatetime:
		kind = KindDate
	}
	if _, ok := compatibility[kind][f.Type]; !ok {
		return nil, recordError(f.Name, raw, "unsupported_type", nil, f.Type)
	}
	return ToSalesforce(Binding{Salesforce: f, Platform: PlatformField{Name: "constant", Kind: kind}}, raw)
}
