// Package syncconf is the Salesforce sync configuration: which Salesforce
// Contact field identifies a person (S6), what to do when nothing matches
// (S7, S8), social identity mappings (S9, S10), field mappings with
// directions and conflict rules (S11, X2), and the conditions that select
// the Salesforce contacts to sync (S14). The setup wizard edits a Config;
// Validate checks it against the org's describe of Contact before it is
// saved (S13); the sync engine runs the bound form (Bind) and the SOQL it
// compiles to; DryRun previews a configuration (X8).
package syncconf

import (
	"github.com/sfsync/sfsync/internal/contact"
)

// Config is one tenant's sync configuration. Its JSON field names are
// stable: they are stored (see Version) and name the paths of validation
// errors ("field_mappings[2].salesforce_field").
type Config struct {
	// SchemaVersion is the version of this JSON layout; CanonicalJSON sets
	// it to CurrentSchemaVersion.
	SchemaVersion int `json:"schema_version"`
	// SyncObject is the Salesforce object synced (step 2); empty means
	// Contact. Changing it asks for a new first sync (links of the old
	// object do not carry over).
	SyncObject ObjectChoice    `json:"object,omitempty"`
	Identity   IdentityMapping `json:"identity"`
	Social     []SocialMapping `json:"social_mappings"`
	Fields     []FieldMapping  `json:"field_mappings"`
	Conditions []Condition     `json:"conditions"`
	// Create says what sfsync sets on the Salesforce records it creates
	// (identity.to_salesforce_no_match = create): constants, owner,
	// record type, account, and what a duplicate rule's refusal does.
	Create CreateOptions `json:"create,omitzero"`
}

// IdentityMapping pairs one Salesforce Contact field with exactly one
// platform identity (S6), and says what each direction does when nothing
// matches (S7, S8).
type IdentityMapping struct {
	SalesforceField  string           `json:"salesforce_field"`
	PlatformIdentity contact.Identity `json:"platform_identity"`
	// ToPlatformNoMatch applies when a Salesforce contact matches no
	// platform contact (S7).
	ToPlatformNoMatch NoMatchPolicy `json:"to_platform_no_match"`
	// ToSalesforceNoMatch applies when a platform contact matches no
	// Salesforce contact (S8).
	ToSalesforceNoMatch NoMatchPolicy `json:"to_salesforce_no_match"`
}

// NoMatchPolicy says what a direction does with a record that matches
// nothing on the other side.
type NoMatchPolicy string

// No-match policies.
const (
	NoMatchCreate     NoMatchPolicy = "create"
	NoMatchUpdateOnly NoMatchPolicy = "update_only"
)

// Direction is the way values flow through a mapping.
type Direction string

// Directions of a mapping.
const (
	DirToPlatform   Direction = "to_platform"
	DirToSalesforce Direction = "to_salesforce"
	DirBoth         Direction = "both"
)

// Pulls reports whether values flow from Salesforce to the platform.
func (d Direction) Pulls() bool { return d == DirToPlatform || d == DirBoth }

// Pushes reports whether values flow from the platform to Salesforce.
func (d Direction) Pushes() bool { return d == DirToSalesforce || d == DirBoth }

func (d Direction) valid() bool { return d == DirToPlatform || d == DirToSalesforce || d == DirBoth }

// ConflictRule decides a two-way field when both sides changed (X2).
type ConflictRule string

// Conflict rules. The zero value means NewestWins.
const (
	NewestWins                  ConflictRule = "newest_wins"
	PreferSalesforceUnlessBlank ConflictRule = "prefer_salesforce_unless_blank"
	AlwaysSalesforce            ConflictRule = "always_salesforce"
	AlwaysPlatform              ConflictRule = "always_platform"
	defaultConflictRule                      = NewestWins
)

func (r ConflictRule) valid() bool {
	switch r {
	case NewestWins, PreferSalesforceUnlessBlank, AlwaysSalesforce, AlwaysPlatform:
		return true
	}
	return false
}

// SocialMapping maps a Salesforce field that stores a social user ID
// (LINE UID, Facebook PSID…) to one platform channel (S9). Pulling creates
// or attaches that social identity on the platform contact; pushing writes
// the user ID the platform knows on that channel into the field.
type SocialMapping struct {
	SalesforceField string    `json:"salesforce_field"`
	ChannelType     string    `json:"channel_type"` // one of contact.ChannelTypes
	ChannelID       string    `json:"channel_id"`   // which LINE OA, Facebook page…
	Direction       Direction `json:"direction"`
	// Conflict applies when Direction is DirBoth; empty means NewestWins.
	Conflict ConflictRule `json:"conflict,omitempty"`
}

// FieldMapping maps a Salesforce field to a platform field (S11).
type FieldMapping struct {
	SalesforceField string `json:"salesforce_field"`
	// PlatformField is one of member_id, name, phone, email, birthday,
	// gender, tags, or "custom.<key>" for a tenant-defined custom field.
	PlatformField string    `json:"platform_field"`
	Direction     Direction `json:"direction"`
	// Conflict applies when Direction is DirBoth; empty means NewestWins.
	// It must be empty for one-way mappings.
	Conflict ConflictRule `json:"conflict,omitempty"`
	// ValueMap translates values that are spelled differently on each
	// side (platform option "VIP" ↔ Salesforce picklist value "Gold");
	// a value not in the map passes as it is.
	ValueMap []ValuePair `json:"value_map,omitempty"`
	// NameRule, on a mapping of the platform's name to LastName, splits
	// the single name into FirstName + LastName and joins them back
	// (NameChinese or NameWestern); empty maps LastName alone.
	NameRule NameRule `json:"name_rule,omitempty"`
}

// ValuePair is one entry of a value map.
type ValuePair struct {
	Platform   string `json:"platform"`
	Salesforce string `json:"salesforce"`
}

// ConflictRule returns the rule that decides this mapping's conflicts:
// the configured one, NewestWins by default.
func (m FieldMapping) ConflictRule() ConflictRule {
	if m.Conflict == "" {
		return defaultConflictRule
	}
	return m.Conflict
}

// ConflictRule returns the rule that decides this mapping's conflicts:
// the configured one, NewestWins by default.
func (m SocialMapping) ConflictRule() ConflictRule {
	if m.Conflict == "" {
		return defaultConflictRule
	}
	return m.Conflict
}

// Condition is one filter on a Salesforce field (S14). Value holds the
// operand of single-value operators and Values that of in / not_in; both
// are the text the admin typed (dates "YYYY-MM-DD", datetimes RFC 3339,
// numbers, "true"/"false", picklist values).
type Condition struct {
	SalesforceField string   `json:"salesforce_field"`
	Operator        Operator `json:"operator"`
	Value           string   `json:"value,omitempty"`
	Values          []string `json:"values,omitempty"`
}

// Operator compares a Salesforce field with a condition's value.
//
// Semantics follow Salesforce: string comparisons are case-insensitive,
// and a blank field is null (Salesforce stores "" as null). The negative
// operators (not_equals, not_contains, not_in) hold for blank fields, as
// Salesforce's != does; the ordering operators never hold for them.
type Operator string

// Condition operators.
const (
	OpEquals      Operator = "equals"
	OpNotEquals   Operator = "not_equals"
	OpContains    Operator = "contains"
	OpNotContains Operator = "not_contains"
	OpStartsWith  Operator = "starts_with"
	OpGT          Operator = "gt"
	OpGTE         Operator = "gte"
	OpLT          Operator = "lt"
	OpLTE         Operator = "lte"
	OpIsEmpty     Operator = "is_empty"
	OpIsNotEmpty  Operator = "is_not_empty"
	OpIn          Operator = "in"
	OpNotIn       Operator = "not_in"
)

// PullsFromSalesforce reports whether the configuration moves anything
// from Salesforce to the platform, which decides whether the wizard shows
// "Start sync" and the 15-minute poll runs (S16). It does when any field
// or social mapping flows to the platform, or when Salesforce contacts
// without a platform match create platform contacts (the identity value
// itself is then synced).
func (c *Config) PullsFromSalesforce() bool {
	if c.Identity.ToPlatformNoMatch == NoMatchCreate {
		return true
	}
	for _, m := range c.Social {
		if m.Direction.Pulls() {
			return true
		}
	}
	for _, m := range c.Fields {
		if m.Direction.Pulls() {
			return true
		}
	}
	return false
}

// PushesToSalesforce reports whether the configuration moves anything
// from the platform to Salesforce, which decides whether real-time push
// runs (S17). It does when any field or social mapping flows to
// Salesforce, or when platform contacts without a Salesforce match create
// Salesforce contacts.
func (c *Config) PushesToSalesforce() bool {
	if c.Identity.ToSalesforceNoMatch == NoMatchCreate {
		return true
	}
	for _, m := range c.Social {
		if m.Direction.Pushes() {
			return true
		}
	}
	for _, m := range c.Fields {
		if m.Direction.Pushes() {
			return true
		}
	}
	return false
}
