package syncconf

import "github.com/sfsync/sfsync/internal/salesforce"

// ObjectChoice is the Salesforce object a configuration syncs with, as the
// admin chooses it in step 2: Contact (the default), Lead or Person
// Account. A Person Account is an Account whose IsPersonAccount is true;
// business accounts are never synced.
type ObjectChoice string

// Object choices. The zero value means ObjectContact, so a configuration
// saved before the choice existed keeps meaning what it meant.
const (
	ObjectContact       ObjectChoice = "Contact"
	ObjectLead          ObjectChoice = "Lead"
	ObjectPersonAccount ObjectChoice = "PersonAccount"
	// ObjectLeadContact is the pair "Lead, then the converted Contact":
	// new platform contacts are pushed as Leads, and a Lead once
	// converted goes on as the Contact it became (its link moves there and
	// that Contact is pulled and pushed from then on).
	ObjectLeadContact ObjectChoice = "LeadContact"
)

// ObjectChoices lists the choices in the order the wizard offers them.
var ObjectChoices = []ObjectChoice{ObjectContact, ObjectLead, ObjectLeadContact, ObjectPersonAccount}

// LeadConversionFields are the Lead fields that tell a converted lead and
// the records it became.
var LeadConversionFields = []string{"IsConverted", "ConvertedContactId", "ConvertedAccountId"}

// PersonAccountField is the Account field that tells a Person Account
// from a business account; an org without Person Accounts has no such
// field, which is how the wizard knows whether to offer the choice.
const PersonAccountField = "IsPersonAccount"

// orDefault returns the choice, ObjectContact when unset.
func (o ObjectChoice) orDefault() ObjectChoice {
	if o == "" {
		return ObjectContact
	}
	return o
}

func (o ObjectChoice) valid() bool {
	switch o.orDefault() {
	case ObjectContact, ObjectLead, ObjectLeadContact, ObjectPersonAccount:
		return true
	}
	return false
}

// SObject is the API name of the object the choice reads and writes:
// Contact, Lead, or Account for Person Accounts.
func (o ObjectChoice) SObject() string {
	switch o.orDefault() {
	case ObjectLead, ObjectLeadContact:
		return "Lead"
	case ObjectPersonAccount:
		return "Account"
	}
	return DefaultObject
}

// Leads reports whether the choice reads and creates Leads (Lead, or the
// pair whose first object is Lead): their conversion is followed.
func (o ObjectChoice) Leads() bool { return o == ObjectLead || o == ObjectLeadContact }

// ConvertedObject is the object converted Leads go on as, "Contact" for
// the pair ObjectLeadContact, "" for every other choice.
func (o ObjectChoice) ConvertedObject() string {
	if o == ObjectLeadContact {
		return DefaultObject
	}
	return ""
}

// ConvertedHalf is, for the pair "Lead, then the converted Contact", the
// configuration that syncs the Contacts converted Leads became: the same
// identity and mappings on Contact, with no conditions (a converted
// Contact stays synced while it is linked) and no creates (a Contact is
// never created by sfsync, nor a platform contact from one; new platform
// contacts are pushed as Leads). ok is false for every other choice.
func (c *Config) ConvertedHalf() (half Config, ok bool) {
	if c.Choice() != ObjectLeadContact {
		return Config{}, false
	}
	half = *c
	half.SyncObject = ObjectContact
	half.Conditions = nil
	half.Create = CreateOptions{}
	half.Identity.ToPlatformNoMatch = NoMatchUpdateOnly
	half.Identity.ToSalesforceNoMatch = NoMatchUpdateOnly
	return half, true
}

// Choice is the configuration's object choice, ObjectContact when unset.
func (c *Config) Choice() ObjectChoice { return c.SyncObject.orDefault() }

// PersonAccountsEnabled reports whether an Account describe is that of an
// org with Person Accounts (it has IsPersonAccount).
func PersonAccountsEnabled(accountDescribe *salesforce.SObjectDescribe) bool {
	if accountDescribe == nil {
		return false
	}
	_, ok := accountDescribe.Field(PersonAccountField)
	return ok
}

// PersonRecordTypeSOQL is the query that finds the org's active Person
// Account record types; a Person Account is created with one of them. It
// has no parameter: nothing from outside reaches it.
func PersonRecordTypeSOQL() string {
	return "SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true AND IsActive = true ORDER BY Id"
}
