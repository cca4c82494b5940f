package syncconf

import (
	"strings"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
)

// EntitlementSocialCDP is the entitlement of the Social CDP plan, which
// allows more than one social identity mapping (S10).
const EntitlementSocialCDP = "social_cdp"

// Env is what a Config is validated and bound against: the org's describe
// of Contact, the tenant's custom field definitions and its entitlements.
type Env struct {
	Describe     *salesforce.SObjectDescribe
	CustomFields []contact.CustomFieldDef
	Entitlements []string
	// PersonAccounts: the org has Person Accounts enabled, so the wizard
	// offers ObjectPersonAccount.
	PersonAccounts bool
	// Converted is the describe of Contact when the choice is the pair
	// ObjectLeadContact (Describe is then Lead's): the mapped fields must
	// exist on both objects.
	Converted *salesforce.SObjectDescribe
}

// Objects lists the object choices the org offers, in the wizard's order.
func (e Env) Objects() []ObjectChoice {
	out := []ObjectChoice{ObjectContact, ObjectLead, ObjectLeadContact}
	if e.PersonAccounts {
		out = append(out, ObjectPersonAccount)
	}
	return out
}

func (e Env) entitled(name string) bool {
	for _, x := range e.Entitlements {
		if x == name {
			return true
		}
	}
	return false
}

// PlatformKind is the type of a platform field as the compatibility table
// sees it.
type PlatformKind string

// Platform field kinds. Built-in fields: member_id and name are text,
// phone is phone, email is email, birthday is date, gender is select
// (female, male, other), tags is tags. Custom fields map from their
// contact.FieldType; FieldSelect is select.
const (
	KindText    PlatformKind = "text"
	KindPhone   PlatformKind = "phone"
	KindEmail   PlatformKind = "email"
	KindDate    PlatformKind = "date"
	KindNumber  PlatformKind = "number"
	KindBoolean PlatformKind = "boolean"
	KindSelect  PlatformKind = "select"
	KindTags    PlatformKind = "tags"
)

// CustomFieldPrefix starts the PlatformField of a mapping to a custom field.
const CustomFieldPrefix = "custom."

// PlatformField is a platform field a mapping can read or write.
type PlatformField struct {
	Name    string // "email", "custom.vip_level"
	Kind    PlatformKind
	Options []string // KindSelect: the allowed values
}

// Built-in platform fields, in the order the UI lists them.
var builtinFields = []PlatformField{
	{Name: "member_id", Kind: KindText},
	{Name: "name", Kind: KindText},
	{Name: "phone", Kind: KindPhone},
	{Name: "email", Kind: KindEmail},
	{Name: "birthday", Kind: KindDate},
	{Name: "gender", Kind: KindSelect, Options: []string{string(contact.GenderFemale), string(contact.GenderMale), string(contact.GenderOther)}},
	{Name: "tags", Kind: KindTags},
}

// PlatformFields lists every platform field a mapping may use: the
// built-in fields and the tenant's custom fields.
func (e Env) PlatformFields() []PlatformField {
	out := append([]PlatformField(nil), builtinFields...)
	for _, d := range e.CustomFields {
		if f, ok := customField(d); ok {
			out = append(out, f)
		}
	}
	return out
}

// PlatformField resolves a mapping's platform field name.
func (e Env) PlatformField(name string) (PlatformField, bool) {
	if key, ok := strings.CutPrefix(name, CustomFieldPrefix); ok {
		for _, d := range e.CustomFields {
			if d.Key == key {
				return customField(d)
			}
		}
		return PlatformField{}, false
	}
	for _, f := range builtinFields {
		if f.Name == name {
			return f, true
		}
	}
	return PlatformField{}, false
}

func customField(d contact.CustomFieldDef) (PlatformField, bool) {
	f := PlatformField{Name: CustomFieldPrefix + d.Key, Options: d.Options}
	switch d.Type {
	case contact.FieldText:
		f.Kind = KindText
	case contact.FieldNumber:
		f.Kind = KindNumber
	case contact.FieldDate:
		f.Kind = KindDate
	case contact.FieldBoolean:
		f.Kind = KindBoolean
	case contact.FieldSelect:
		f.Kind = KindSelect
	default:
		return PlatformField{}, false
	}
	return f, true
}

// identityField is the platform field that holds an identity.
func identityField(id contact.Identity) string { return string(id) }

// Salesforce describe types, grouped as the transforms treat them.
const (
	sfString        = "string"
	sfTextarea      = "textarea"
	sfURL           = "url"
	sfCombobox      = "combobox"
	sfEncrypted     = "encryptedstring"
	sfEmail         = "email"
	sfPhone         = "phone"
	sfPicklist      = "picklist"
	sfMultipicklist = "multipicklist"
	sfID            = "id"
	sfReference     = "reference"
	sfDate          = "date"
	sfDatetime      = "datetime"
	sfDouble        = "double"
	sfCurrency      = "currency"
	sfPercent       = "percent"
	sfInt           = "int"
	sfLong          = "long"
	sfBoolean       = "boolean"
)

func isNumberType(t string) bool {
	switch t {
	case sfDouble, sfCurrency, sfPercent, sfInt, sfLong:
		return true
	}
	return false
}

// isStringType reports whether values of type t are strings in Salesforce
// (and so compared case-insensitively and usable with LIKE).
func isStringType(t string) bool {
	switch t {
	case sfString, sfTextarea, sfURL, sfCombobox, sfEncrypted, sfEmail, sfPhone, sfID, sfReference:
		return true
	}
	return false
}

// compatibility is the table of Salesforce describe types and platform
// kinds that a field mapping may join, and in which directions:
//
//	platform kind  both directions                                   to_platform only
//	text           string textarea url combobox encryptedstring
//	               email phone picklist date datetime                id reference
//	phone          phone string
//	email          email string
//	date           date                                              datetime (UTC date)
//	number         double currency percent int long
//	boolean        boolean
//	select         picklist combobox string
//	tags           multipicklist string textarea ("a;b;c")
//
// Everything else (address, location, base64, time, anyType…) is not
// mapped. Values that do not fit in a particular record (a text too long,
// a picklist value that does not exist, a number with too many digits)
// fail that record only (RecordError).
var compatibility = map[PlatformKind]map[string]Direction{
	KindText: {
		sfString: DirBoth, sfTextarea: DirBoth, sfURL: DirBoth, sfCombobox: DirBoth, sfEncrypted: DirBoth,
		sfEmail: DirBoth, sfPhone: DirBoth, sfPicklist: DirBoth, sfDate: DirBoth, sfDatetime: DirBoth,
		sfID: DirToPlatform, sfReference: DirToPlatform,
	},
	KindPhone:   {sfPhone: DirBoth, sfString: DirBoth},
	KindEmail:   {sfEmail: DirBoth, sfString: DirBoth},
	KindDate:    {sfDate: DirBoth, sfDatetime: DirToPlatform},
	KindNumber:  {sfDouble: DirBoth, sfCurrency: DirBoth, sfPercent: DirBoth, sfInt: DirBoth, sfLong: DirBoth},
	KindBoolean: {sfBoolean: DirBoth},
	KindSelect:  {sfPicklist: DirBoth, sfCombobox: DirBoth, sfString: DirBoth},
	KindTags:    {sfMultipicklist: DirBoth, sfString: DirBoth, sfTextarea: DirBoth},
}

// Compatible reports whether a Salesforce field of describe type sfType
// and a platform field of kind kind may be mapped in direction dir.
func Compatible(sfType string, kind PlatformKind, dir Direction) bool {
	allowed, ok := compatibility[kind][sfType]
	if !ok {
		return false
	}
	return allowed == DirBoth || allowed == dir
}

// identityTypes lists the Salesforce field types that can identify
// contacts by each platform identity.
var identityTypes = map[contact.Identity][]string{
	contact.IdentityMemberID: {sfString, sfCombobox},
	contact.IdentityPhone:    {sfPhone, sfString},
	contact.IdentityEmail:    {sfEmail, sfString},
}

func identityTypeOK(id contact.Identity, sfType string) bool {
	for _, t := range identityTypes[id] {
		if t == sfType {
			return true
		}
	}
	return false
}

// socialTypes lists the Salesforce field types that can store a social ID.
var socialTypes = []string{sfString}

// operatorsByType lists the condition operators each Salesforce type
// accepts. Types missing here cannot be used in conditions.
var operatorsByType = func() map[string][]Operator {
	text := []Operator{OpEquals, OpNotEquals, OpContains, OpNotContains, OpStartsWith, OpIsEmpty, OpIsNotEmpty, OpIn, OpNotIn}
	ordered := []Operator{OpEquals, OpNotEquals, OpGT, OpGTE, OpLT, OpLTE, OpIsEmpty, OpIsNotEmpty}
	m := map[string][]Operator{
		sfPicklist:      {OpEquals, OpNotEquals, OpIsEmpty, OpIsNotEmpty, OpIn, OpNotIn},
		sfMultipicklist: {OpIsEmpty, OpIsNotEmpty},
		sfBoolean:       {OpEquals, OpNotEquals},
		sfDate:          ordered,
		sfDatetime:      ordered,
	}
	for _, t := range []string{sfString, sfTextarea, sfURL, sfCombobox, sfEmail, sfPhone} {
		m[t] = text
	}
	for _, t := range []string{sfID, sfReference} {
		m[t] = []Operator{OpEquals, OpNotEquals, OpIsEmpty, OpIsNotEmpty, OpIn, OpNotIn}
	}
	for _, t := range []string{sfDouble, sfCurrency, sfPercent, sfInt, sfLong} {
		m[t] = append(append([]Operator(nil), ordered...), OpIn, OpNotIn)
	}
	return m
}()

// OperatorsFor lists the condition operators a Salesforce field of
// describe type sfType accepts, for the conditions step's picker.
func OperatorsFor(sfType string) []Operator {
	return append([]Operator(nil), operatorsByType[sfType]...)
}

func operatorFits(op Operator, sfType string) bool {
	for _, o := range operatorsByType[sfType] {
		if o == op {
			return true
		}
	}
	return false
}

func knownOperator(op Operator) bool {
	for _, ops := range operatorsByType {
		for _, o := range ops {
			if o == op {
				return true
			}
		}
	}
	return false
}
