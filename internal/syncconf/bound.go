package syncconf

import (
	"strings"

	"github.com/sfsync/sfsync/internal/contact"
)

// identityKinds gives the platform kind of each identity's field.
var identityKinds = map[contact.Identity]PlatformKind{
	contact.IdentityMemberID: KindText,
	contact.IdentityPhone:    KindPhone,
	contact.IdentityEmail:    KindEmail,
}

// Binding returns the identity mapping as a two-way field binding, so
// that ToSalesforce converts the platform's identity value for a new
// Salesforce contact (length, e-mail and phone checks included) and
// ToPlatform converts a Salesforce identity value for a new platform
// contact. Matching itself uses IdentityKey.
func (b BoundIdentity) Binding() Binding {
	name := identityField(b.PlatformIdentity)
	return Binding{
		FieldMapping: FieldMapping{SalesforceField: b.Salesforce.Name, PlatformField: name, Direction: DirBoth},
		Salesforce:   b.Salesforce,
		Platform:     PlatformField{Name: name, Kind: identityKinds[b.PlatformIdentity]},
	}
}

// ToPlatform reads the social identity a Salesforce value names: the
// trimmed user ID on the mapping's channel. ok is false for a blank value.
func (s BoundSocial) ToPlatform(sfValue any) (id contact.SocialIdentity, ok bool, err error) {
	if IsBlank(sfValue) {
		return contact.SocialIdentity{}, false, nil
	}
	uid, err := textOf(s.Salesforce.Name, sfValue)
	if err != nil {
		return contact.SocialIdentity{}, false, err
	}
	return contact.SocialIdentity{ChannelType: s.ChannelType, ChannelID: s.ChannelID, UserID: strings.TrimSpace(uid)}, true, nil
}

// ToSalesforce returns the value to write into the mapping's Salesforce
// field for a platform contact: the user ID of its identity on the
// mapping's channel (nil when it has none), refused per record when it is
// longer than the field.
func (s BoundSocial) ToSalesforce(identities []contact.SocialIdentity) (any, error) {
	for _, id := range identities {
		if id.ChannelType == s.ChannelType && id.ChannelID == s.ChannelID && id.UserID != "" {
			return checkLength(Binding{Salesforce: s.Salesforce}, id.UserID)
		}
	}
	return nil, nil
}
