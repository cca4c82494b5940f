// Package contact is the platform's own contact domain: contacts, their
// social identities, typed custom fields, and the normalisation rules that
// make member ID, phone and e-mail usable as identities.
package contact

import (
	"time"
)

// Contact is one person in a tenant's contact store.
type Contact struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	// MemberID is the merchant's member number (會員編號); unique per tenant when set.
	MemberID string `json:"member_id,omitempty"`
	Name     string `json:"name,omitempty"`
	// Phone is E.164 ("+886912345678"); unique per tenant when set.
	Phone string `json:"phone,omitempty"`
	// Email is stored trimmed and lower-cased; unique per tenant when set.
	Email string `json:"email,omitempty"`
	// Birthday is a calendar date, "YYYY-MM-DD".
	Birthday string           `json:"birthday,omitempty"`
	Gender   Gender           `json:"gender,omitempty"`
	Tags     []string         `json:"tags"`
	Custom   map[string]any   `json:"custom_fields"`
	Social   []SocialIdentity `json:"social_identities"`
	Created  time.Time        `json:"created_at"`
	Updated  time.Time        `json:"updated_at"`
	Version  int64            `json:"version"`
}

// Gender is a contact's gender as the platform records it.
type Gender string

// Genders the platform accepts.
const (
	GenderUnset  Gender = ""
	GenderFemale Gender = "female"
	GenderMale   Gender = "male"
	GenderOther  Gender = "other"
)

// Valid reports whether g is one of the known genders.
func (g Gender) Valid() bool {
	switch g {
	case GenderUnset, GenderFemale, GenderMale, GenderOther:
		return true
	}
	return false
}

// Channel types of social identities.
const (
	ChannelLINE      = "line"
	ChannelFacebook  = "facebook"
	ChannelInstagram = "instagram"
	ChannelWhatsApp  = "whatsapp"
	ChannelWeChat    = "wechat"
	ChannelTelegram  = "telegram"
)

// ChannelTypes lists the channel types the platform knows.
var ChannelTypes = []string{ChannelLINE, ChannelFacebook, ChannelInstagram, ChannelWhatsApp, ChannelWeChat, ChannelTelegram}

// SocialIdentity is a contact's identity on one chat channel: which channel
// (a LINE official account, a Facebook page…) and the user's ID there
// (LINE UID, Facebook PSID…). Unique per tenant.
type SocialIdentity struct {
	ChannelType string `json:"channel_type"`
	ChannelID   string `json:"channel_id"`
	UserID      string `json:"user_id"`
}

// Key identifies a social identity within a tenant.
func (s SocialIdentity) Key() string {
	return s.ChannelType + "\x00" + s.ChannelID + "\x00" + s.UserID
}

// FieldType is the type of a tenant-defined custom field.
type FieldType string

// Custom field types.
const (
	FieldText    FieldType = "text"
	FieldNumber  FieldType = "number"
	FieldDate    FieldType = "date"
	FieldBoolean FieldType = "boolean"
	FieldSelect  FieldType = "select"
)

// CustomFieldDef defines one custom field of a tenant's contacts.
type CustomFieldDef struct {
	Key     string    `json:"key"`
	Label   string    `json:"label"`
	Type    FieldType `json:"type"`
	Options []string  `json:"options,omitempty"` // for FieldSelect
	Created time.Time `json:"created_at"`
}

// Origin says who made a change; the sync engine skips its own writes.
type Origin string

// Origins of contact changes.
const (
	OriginAPI        Origin = "api"
	OriginAdmin      Origin = "admin"
	OriginSalesforce Origin = "salesforce"
	// OriginReconcile marks an outbox entry the sync engine writes itself
	// to have values the platform holds, and Salesforce lacks, pushed.
	OriginReconcile Origin = "reconcile"
)

// Identity names one of the platform fields that can identify a contact.
type Identity string

// Identities a Salesforce field can be matched to (S6).
const (
	IdentityMemberID Identity = "member_id"
	IdentityPhone    Identity = "phone"
	IdentityEmail    Identity = "email"
)
