package syncconf

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
)

// ErrNoDescribe is returned by Validate and Bind when Env has no describe.
var ErrNoDescribe = errors.New("syncconf: no describe of Contact")

// Bound is a valid Config resolved against an Env: every Salesforce field
// with its describe entry (canonical spelling, type, length, picklist
// values) and every platform field with its kind. The engine runs it.
type Bound struct {
	Config     *Config
	Identity   BoundIdentity
	Social     []BoundSocial
	Fields     []Binding
	Conditions []BoundCondition
}

// BoundIdentity is the identity mapping with its describe entry.
type BoundIdentity struct {
	IdentityMapping
	Salesforce salesforce.Field
}

// BoundSocial is a social mapping with its describe entry.
type BoundSocial struct {
	SocialMapping
	Salesforce salesforce.Field
}

// Binding is a field mapping with its describe entry and platform field;
// ToPlatform and ToSalesforce convert values through it.
type Binding struct {
	FieldMapping
	Salesforce salesforce.Field
	Platform   PlatformField
	// First is FirstName's describe entry when a name rule splits the
	// platform's name over FirstName and LastName (Salesforce).
	First salesforce.Field
}

// BoundCondition is a condition with its describe entry and its SOQL term.
type BoundCondition struct {
	Condition
	Salesforce salesforce.Field
	// SOQL is the condition as a SOQL boolean expression, e.g.
	// "(LeadSource = null OR LeadSource != 'Web')".
	SOQL string
}

// Validate checks c against env (S13) and returns nil or ValidationErrors
// listing every problem.
func (c *Config) Validate(env Env) error {
	_, err := c.Bind(env)
	return err
}

// Bind validates c against env and resolves it. The error is
// ValidationErrors when c is invalid, ErrNoDescribe without a describe.
func (c *Config) Bind(env Env) (*Bound, error) {
	if env.Describe == nil {
		return nil, ErrNoDescribe
	}
	v := &validator{env: env, d: env.Describe, b: &Bound{Config: c}}
	v.object(c)
	v.identity(c)
	v.social(c)
	v.fields(c)
	v.create(c)
	v.required(c)
	if !c.PullsFromSalesforce() && !c.PushesToSalesforce() {
		v.add(StepFields, "field_mappings", "nothing_to_sync")
	}
	for i, cond := range c.Conditions {
		bc, errs := bindCondition(i, cond, v.d)
		v.errs = append(v.errs, errs...)
		v.b.Conditions = append(v.b.Conditions, bc)
	}
	if half, ok := c.ConvertedHalf(); ok {
		v.converted(half)
	}
	slices.SortStableFunc(v.errs, func(a, b ValidationError) int { return stepOrder(a.Step) - stepOrder(b.Step) })
	if err := v.errs.err(); err != nil {
		return nil, err
	}
	return v.b, nil
}

func stepOrder(s Step) int {
	switch s {
	case StepIdentity:
		return 0
	case StepSocial:
		return 1
	case StepFields:
		return 2
	}
	return 3
}

type validator struct {
	env  Env
	d    *salesforce.SObjectDescribe
	b    *Bound
	errs ValidationErrors
	// used maps a lower-cased Salesforce field name to what it is used for
	// in steps 2 and 3 ("the identity", "social identity mapping 1").
	used map[string]usage
}

type usage struct{ en, zh string }

func (v *validator) add(step Step, path, code string, args ...any) {
	v.errs = append(v.errs, ValidationError{Step: step, Path: path, Code: code, Message: message(code, args...)})
}

// field resolves a Salesforce field name, recording "required" or
// "unknown_field" at path when it cannot.
func (v *validator) field(step Step, path, name string) (salesforce.Field, bool) {
	if strings.TrimSpace(name) == "" {
		v.add(step, path, "required")
		return salesforce.Field{}, false
	}
	f, ok := v.d.Field(name)
	if !ok {
		v.add(step, path, "unknown_field", name)
	}
	if ok && v.b.Config.Choice() == ObjectPersonAccount && strings.EqualFold(f.Name, LastNameField) {
		// Account's describe lets LastName be null (business accounts have
		// none), but Salesforce refuses a Person Account without one: a
		// blank name fails the record here, as a required field does.
		f.Nillable = false
	}
	return f, ok
}

func (v *validator) use(name string, u usage) {
	if v.used == nil {
		v.used = map[string]usage{}
	}
	v.used[strings.ToLower(name)] = u
}

// inUse records "field_in_use" when f was already used in steps 2–3.
func (v *validator) inUse(step Step, path string, f salesforce.Field) bool {
	u, ok := v.used[strings.ToLower(f.Name)]
	if !ok {
		return false
	}
	v.errs = append(v.errs, ValidationError{Step: step, Path: path, Code: "field_in_use", Message: map[string]string{
		LangEN:   fmt.Sprintf(messages["field_in_use"].en, f.Name, u.en),
		LangZHTW: fmt.Sprintf(messages["field_in_use"].zh, f.Name, u.zh),
	}})
	return true
}

var identityNames = map[contact.Identity]usage{
	contact.IdentityMemberID: {"member ID", "會員編號"},
	contact.IdentityPhone:    {"phone", "電話"},
	contact.IdentityEmail:    {"e-mail", "Email"},
}

func (v *validator) identity(c *Config) {
	id := c.Identity
	v.b.Identity.IdentityMapping = id
	_, idOK := identityNames[id.PlatformIdentity]
	if id.PlatformIdentity == "" {
		v.add(StepIdentity, "identity.platform_identity", "required")
	} else if !idOK {
		v.add(StepIdentity, "identity.platform_identity", "invalid_identity", string(id.PlatformIdentity))
	}
	for _, p := range []struct {
		path   string
		policy NoMatchPolicy
	}{{"identity.to_platform_no_match", id.ToPlatformNoMatch}, {"identity.to_salesforce_no_match", id.ToSalesforceNoMatch}} {
		switch p.policy {
		case NoMatchCreate, NoMatchUpdateOnly:
		case "":
			v.add(StepIdentity, p.path, "required")
		default:
			v.add(StepIdentity, p.path, "invalid_no_match_policy", string(p.policy))
		}
	}
	f, ok := v.field(StepIdentity, "identity.salesforce_field", id.SalesforceField)
	if !ok {
		return
	}
	v.b.Identity.Salesforce = f
	v.use(f.Name, usage{"the identity", "身份識別欄位"})
	const path = "identity.salesforce_field"
	if idOK && !identityTypeOK(id.PlatformIdentity, f.Type) {
		n := identityNames[id.PlatformIdentity]
		v.errs = append(v.errs, ValidationError{Step: StepIdentity, Path: path, Code: "identity_type", Message: map[string]string{
			LangEN:   fmt.Sprintf(messages["identity_type"].en, f.Name, f.Type, n.en),
			LangZHTW: fmt.Sprintf(messages["identity_type"].zh, f.Name, f.Type, n.zh),
		}})
	}
	if !f.Filterable {
		v.add(StepIdentity, path, "field_not_filterable", f.Name)
	}
	if id.ToSalesforceNoMatch == NoMatchCreate && !f.Createable {
		v.add(StepIdentity, path, "field_not_createable", f.Name)
	}
}

func (v *validator) social(c *Config) {
	if len(c.Social) > 1 && !v.env.entitled(EntitlementSocialCDP) {
		v.add(StepSocial, "social_mappings[1]", "social_requires_plan")
	}
	channels := map[string]bool{}
	for i, m := range c.Social {
		p := fmt.Sprintf("social_mappings[%d]", i)
		bs := BoundSocial{SocialMapping: m}
		if !slices.Contains(contact.ChannelTypes, m.ChannelType) {
			v.add(StepSocial, p+".channel_type", "invalid_channel_type", m.ChannelType, strings.Join(contact.ChannelTypes, ", "))
		}
		if strings.TrimSpace(m.ChannelID) == "" {
			v.add(StepSocial, p+".channel_id", "required")
		} else if key := m.ChannelType + "\x00" + m.ChannelID; channels[key] {
			v.add(StepSocial, p+".channel_id", "duplicate_channel", m.ChannelType, m.ChannelID)
		} else {
			channels[key] = true
		}
		v.direction(StepSocial, p, m.Direction, m.Conflict)
		if f, ok := v.field(StepSocial, p+".salesforce_field", m.SalesforceField); ok {
			bs.Salesforce = f
			if !v.inUse(StepSocial, p+".salesforce_field", f) {
				v.use(f.Name, usage{fmt.Sprintf("social identity mapping %d", i+1), fmt.Sprintf("第 %d 組社群身份同步", i+1)})
				if !slices.Contains(socialTypes, f.Type) {
					v.add(StepSocial, p+".salesforce_field", "social_field_type", f.Name, f.Type)
				}
				if m.Direction.Pushes() {
					v.writable(StepSocial, p+".salesforce_field", f, c)
				}
			}
		}
		v.b.Social = append(v.b.Social, bs)
	}
}

// direction checks a mapping's direction and conflict rule.
func (v *validator) direction(step Step, p string, d Direction, r ConflictRule) {
	if !d.valid() {
		if d == "" {
			v.add(step, p+".direction", "required")
		} else {
			v.add(step, p+".direction", "invalid_direction", string(d))
		}
	}
	switch {
	case r == "":
	case d.valid() && d != DirBoth:
		v.add(step, p+".conflict", "conflict_rule_one_way")
	case !r.valid():
		v.add(step, p+".conflict", "invalid_conflict_rule", string(r))
	}
}

// writable checks that f can receive values from the platform.
func (v *validator) writable(step Step, path string, f salesforce.Field, c *Config) {
	if !f.Updateable {
		v.add(step, path, "field_not_updateable", f.Name)
	}
	if c.Identity.ToSalesforceNoMatch == NoMatchCreate && !f.Createable {
		v.add(step, path, "field_not_createable", f.Name)
	}
}

func (v *validator) fields(c *Config) {
	platformTargets := map[string]int{}
	sfTargets := map[string]int{}
	for i, m := range c.Fields {
		p := fmt.Sprintf("field_mappings[%d]", i)
		b := Binding{FieldMapping: m}
		v.direction(StepFields, p, m.Direction, m.Conflict)
		sf, sfOK := v.field(StepFields, p+".salesforce_field", m.SalesforceField)
		if sfOK && v.inUse(StepFields, p+".salesforce_field", sf) {
			sfOK = false
		}
		var pf PlatformField
		pfOK := false
		switch {
		case strings.TrimSpace(m.PlatformField) == "":
			v.add(StepFields, p+".platform_field", "required")
		default:
			if pf, pfOK = v.env.PlatformField(m.PlatformField); !pfOK {
				v.add(StepFields, p+".platform_field", "unknown_platform_field", m.PlatformField)
			}
		}
		b.Salesforce, b.Platform = sf, pf
		if m.NameRule != "" {
			b.First = v.nameRule(c, p, m, sf, sfOK, pf, pfOK)
		}
		if len(m.ValueMap) > 0 && sfOK && pfOK {
			v.valueMap(p, m, sf, pf)
		}
		v.b.Fields = append(v.b.Fields, b)
		if pfOK && m.Direction.Pulls() {
			if pf.Name == identityField(c.Identity.PlatformIdentity) {
				v.add(StepFields, p+".platform_field", "platform_field_is_identity", pf.Name)
			} else if j, dup := platformTargets[pf.Name]; dup {
				v.add(StepFields, p+".platform_field", "duplicate_platform_target", pf.Name, j)
			} else {
				platformTargets[pf.Name] = i
			}
		}
		if !sfOK || !pfOK || !m.Direction.valid() {
			continue
		}
		if !Compatible(sf.Type, pf.Kind, m.Direction) {
			v.add(StepFields, p+".platform_field", "type_incompatible", sf.Name, sf.Type, pf.Name, pf.Kind, m.Direction)
			continue
		}
		if !m.Direction.Pushes() {
			continue
		}
		v.writable(StepFields, p+".salesforce_field", sf, c)
		key := strings.ToLower(sf.Name)
		if j, dup := sfTargets[key]; dup {
			v.add(StepFields, p+".salesforce_field", "duplicate_salesforce_target", sf.Name, j)
		} else {
			sfTargets[key] = i
		}
		if pf.Kind == KindSelect && sf.Type == sfPicklist {
			for _, o := range pf.Options {
				if _, ok := picklistValue(sf, b.mapValue(o, false).(string)); !ok {
					v.add(StepFields, p+".platform_field", "picklist_option_missing", o, pf.Name, sf.Name)
				}
			}
		}
	}
}

// required checks, when new Salesforce contacts are created, that every
// field Salesforce requires on insert receives a value.
func (v *validator) required(c *Config) {
	if c.Identity.ToSalesforceNoMatch != NoMatchCreate {
		return
	}
	written := map[string]bool{strings.ToLower(c.Identity.SalesforceField): true}
	for _, m := range c.Social {
		if m.Direction.Pushes() {
			written[strings.ToLower(m.SalesforceField)] = true
		}
	}
	for _, m := range c.Fields {
		if m.Direction.Pushes() {
			written[strings.ToLower(m.SalesforceField)] = true
			if m.NameRule != "" {
				written[strings.ToLower(FirstNameField)] = true
			}
		}
	}
	for _, k := range c.Create.Constants {
		written[strings.ToLower(k.SalesforceField)] = true
	}
	if c.Choice() == ObjectPersonAccount {
		// A Person Account's Name is made of FirstName and LastName, and
		// it needs a LastName, which the describe does not say.
		written["name"] = true
		if !written[strings.ToLower(LastNameField)] {
			v.add(StepFields, "field_mappings", "required_field_unmapped", LastNameField)
		}
	}
	for _, f := range v.d.Fields {
		if f.Createable && !f.Nillable && !f.DefaultedOnCreate && f.Type != sfBoolean && !written[strings.ToLower(f.Name)] {
			v.add(StepFields, "field_mappings", "required_field_unmapped", f.Name)
		}
	}
}

// picklistValue finds value among f's active picklist values,
// case-insensitively as Salesforce compares them, and returns the
// describe's spelling.
func picklistValue(f salesforce.Field, value string) (string, bool) {
	for _, pv := range f.PicklistValues {
		if pv.Active && strings.EqualFold(pv.Value, value) {
			return pv.Value, true
		}
	}
	return "", false
}

// Purpose is what a Salesforce field picker in the wizard is for.
type Purpose string

// Field picker purposes.
const (
	PurposeIdentity  Purpose = "identity"
	PurposeSocial    Purpose = "social"
	PurposeMapping   Purpose = "mapping"
	PurposeCondition Purpose = "condition"
)

// OfferableFields lists the Salesforce fields the wizard offers for
// purpose, in describe order. The identity field is not offered for
// social mappings, and neither the identity field nor any social mapping's
// field is offered for field mappings (S11); fields whose type cannot
// serve the purpose are left out. For PurposeMapping a field is offered
// when it is compatible with some platform field in some direction; the
// direction-specific checks happen in Validate.
func (c *Config) OfferableFields(d *salesforce.SObjectDescribe, purpose Purpose) []salesforce.Field {
	identity := strings.ToLower(c.Identity.SalesforceField)
	social := map[string]bool{}
	for _, m := range c.Social {
		social[strings.ToLower(m.SalesforceField)] = true
	}
	var out []salesforce.Field
	for _, f := range d.Fields {
		name := strings.ToLower(f.Name)
		ok := false
		switch purpose {
		case PurposeIdentity:
			ok = f.Filterable && !social[name] && (c.Identity.PlatformIdentity == "" && anyIdentityType(f.Type) || identityTypeOK(c.Identity.PlatformIdentity, f.Type))
		case PurposeSocial:
			ok = name != identity && slices.Contains(socialTypes, f.Type)
		case PurposeMapping:
			ok = name != identity && !social[name] && mappable(f.Type)
		case PurposeCondition:
			ok = f.Filterable && len(operatorsByType[f.Type]) > 0
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

func anyIdentityType(t string) bool {
	for id := range identityTypes {
		if identityTypeOK(id, t) {
			return true
		}
	}
	return false
}

func mappable(t string) bool {
	for _, types := range compatibility {
		if _, ok := types[t]; ok {
			return true
		}
	}
	return false
}
