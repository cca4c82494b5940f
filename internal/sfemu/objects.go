package sfemu

import (
	"strings"
)

// Beyond Contact (issue 16): Lead, Account (with Person Accounts when an
// org turns them on), RecordType and AssignmentRule. Contact, Lead and
// Account are the org's data objects: they keep a change history, publish
// change events and are saved in the data file; the others are read-only
// system objects.

// Object names of the data objects.
const (
	ObjContact = "Contact"
	ObjLead    = "Lead"
	ObjAccount = "Account"
)

// dataObjects are the lower-cased names of the objects that hold an org's
// data, in the order the data file and Reset handle them (Account before
// Contact, so a person account's contact finds its account).
var dataObjects = []string{"account", "contact", "lead"}

func isDataObject(name string) bool {
	switch strings.ToLower(name) {
	case "account", "contact", "lead":
		return true
	}
	return false
}

// Lead statuses of a new org (Setup → Lead Status Values): the first is
// the default, "Closed - Converted" is the one converted status.
var leadStatuses = []string{"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}

const defaultConvertedStatus = "Closed - Converted"

var leadSources = []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}

var industries = []string{"Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction", "Consulting",
	"Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government",
	"Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail",
	"Shipping", "Technology", "Telecommunications", "Transportation", "Utilities", "Other"}

// addressFields returns the parts of a compound address named prefix+
// "Address" (Street, City, …), with prefix "" giving Lead's Address.
func addressFields(prefix string) []*fieldDef {
	c := prefix + "Address"
	return []*fieldDef{
		fd(prefix+"Street", "textarea", 255, "NCUFSG").compound(c),
		fd(prefix+"City", "string", 40, "NCUFSG").compound(c),
		fd(prefix+"State", "string", 80, "NCUFSG").compound(c),
		fd(prefix+"PostalCode", "string", 20, "NCUFSG").compound(c),
		fd(prefix+"Country", "string", 80, "NCUFSG").compound(c),
		fd(prefix+"Latitude", "double", 0, "NCUFS").compound(c),
		fd(prefix+"Longitude", "double", 0, "NCUFS").compound(c),
		fd(prefix+"GeocodeAccuracy", "picklist", 40, "NCUFSG").compound(c).picklist(geocodeValues...).restricted(),
		fd(c, "address", 0, "NF"),
	}
}

func auditFields() []*fieldDef {
	return []*fieldDef{
		fd("CreatedDate", "datetime", 0, "DFS"),
		fd("CreatedById", "reference", 18, "DFSG").ref("User", "CreatedBy"),
		fd("LastModifiedDate", "datetime", 0, "DFS"),
		fd("LastModifiedById", "reference", 18, "DFSG").ref("User", "LastModifiedBy"),
		fd("SystemModstamp", "datetime", 0, "DFS"),
	}
}

// leadObject is the standard Lead object. Company is required unless the
// org has Person Accounts (then a lead without a company converts to a
// person account, as in Salesforce).
func leadObject(personAccounts bool) *objectDef {
	o := &objectDef{Name: ObjLead, Label: "Lead", LabelPlural: "Leads", KeyPrefix: "00Q",
		Createable: true, Updateable: true, Deletable: true, Replicate: true, Searchable: true, Tracked: true, byName: map[string]*fieldDef{}}
	company := fd("Company", "string", 255, "CUFSG")
	if personAccounts {
		company.Nillable = true
	}
	fields := []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Lead ID"),
		fd("IsDeleted", "boolean", 0, "DFSG").label("Deleted"),
		fd("MasterRecordId", "reference", 18, "NFSG").ref("Lead", "MasterRecord").label("Master Record ID"),
		fd("LastName", "string", 80, "CUFSG").compound("Name"),
		fd("FirstName", "string", 40, "NCUFSG").compound("Name").fixedFLS(),
		fd("Salutation", "picklist", 40, "NCUFSG").compound("Name").picklist("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.").fixedFLS(),
		fd("Name", "string", 121, "FSG").label("Full Name"),
		fd("Title", "string", 128, "NCUFSG"),
		company,
	}
	fields = append(fields, addressFields("")...)
	fields = append(fields,
		fd("Phone", "phone", 40, "NCUFSG"),
		fd("MobilePhone", "phone", 40, "NCUFSG"),
		fd("Fax", "phone", 40, "NCUFSG"),
		fd("Email", "email", 80, "NCULFSG"),
		fd("Website", "url", 255, "NCUFSG"),
		fd("PhotoUrl", "url", 255, "NFSG").label("Photo URL"),
		fd("Description", "textarea", 32000, "NCU"),
		fd("LeadSource", "picklist", 255, "NCUFSG").picklist(leadSources...),
		statusField(),
		fd("Industry", "picklist", 255, "NCUFSG").picklist(industries...),
		fd("Rating", "picklist", 255, "NCUFSG").picklist("Hot", "Warm", "Cold"),
		fd("AnnualRevenue", "currency", 0, "NCUFS"),
		fd("NumberOfEmployees", "int", 0, "NCUFSG").label("Employees"),
		fd("OwnerId", "reference", 18, "CUDFSG").ref("User", "Owner"),
		fd("IsConverted", "boolean", 0, "DFSG").label("Converted"),
		fd("ConvertedDate", "date", 0, "NFSG"),
		fd("ConvertedAccountId", "reference", 18, "NFSG").ref("Account", "ConvertedAccount"),
		fd("ConvertedContactId", "reference", 18, "NFSG").ref("Contact", "ConvertedContact"),
		fd("ConvertedOpportunityId", "reference", 18, "NFSG").ref("Opportunity", "ConvertedOpportunity").label("Converted Opportunity ID"),
		fd("IsUnreadByOwner", "boolean", 0, "CUDFSG").label("Unread By Owner"),
	)
	fields = append(fields, auditFields()...)
	fields = append(fields,
		fd("LastActivityDate", "date", 0, "NFSG").label("Last Activity"),
		fd("LastViewedDate", "datetime", 0, "NFS"),
		fd("LastReferencedDate", "datetime", 0, "NFS"),
		fd("Jigsaw", "string", 20, "NCUFSG").label("Data.com Key"),
		fd("JigsawContactId", "string", 20, "NFSG").label("Jigsaw Contact ID").relName("JigsawContact"),
		fd("EmailBouncedReason", "string", 255, "NCUFSG").fixedFLS(),
		fd("EmailBouncedDate", "datetime", 0, "NCUFS").fixedFLS(),
		fd("IndividualId", "reference", 18, "NCUFSG").ref("Individual", "Individual").fixedFLS(),
	)
	for _, f := range fields {
		o.add(f)
	}
	if f, ok := o.field("Name"); ok {
		f.NameField = true
	}
	if f, ok := o.field("IsUnreadByOwner"); ok {
		f.DefaultValue = true
	}
	if f, ok := o.field("IsConverted"); ok {
		f.DefaultValue = false
	}
	return o.finish()
}

func statusField() *fieldDef {
	f := fd("Status", "picklist", 255, "CUDFSG").picklist(leadStatuses...)
	f.DefaultValue = leadStatuses[0]
	return f
}

// personFields are the Contact fields a person account carries, by their
// Account name (research: the Person… fields of Account in an org with
// Person Accounts), and the Contact field each mirrors.
var personFields = []struct{ account, contact string }{
	{"PersonMailingStreet", "MailingStreet"}, {"PersonMailingCity", "MailingCity"}, {"PersonMailingState", "MailingState"},
	{"PersonMailingPostalCode", "MailingPostalCode"}, {"PersonMailingCountry", "MailingCountry"},
	{"PersonMailingLatitude", "MailingLatitude"}, {"PersonMailingLongitude", "MailingLongitude"},
	{"PersonMailingGeocodeAccuracy", "MailingGeocodeAccuracy"}, {"PersonMailingAddress", "MailingAddress"},
	{"PersonMobilePhone", "MobilePhone"}, {"PersonHomePhone", "HomePhone"}, {"PersonOtherPhone", "OtherPhone"},
	{"PersonAssistantPhone", "AssistantPhone"}, {"PersonAssistantName", "AssistantName"}, {"PersonEmail", "Email"},
	{"PersonTitle", "Title"}, {"PersonDepartment", "Department"}, {"PersonLeadSource", "LeadSource"},
	{"PersonBirthdate", "Birthdate"}, {"PersonEmailBouncedReason", "EmailBouncedReason"},
	{"PersonEmailBouncedDate", "EmailBouncedDate"}, {"PersonIndividualId", "IndividualId"},
}

// personNameFields are Account fields shared with the person's Contact
// under the same name.
var personNameFields = []string{"FirstName", "LastName", "Salutation"}

// accountObject is the standard Account object. With personAccounts it
// has the person fields: FirstName, LastName, Salutation, the Person…
// fields, IsPersonAccount, PersonContactId, RecordTypeId, and a __pc copy
// of every Contact custom field (contact gives them).
func accountObject(personAccounts bool, contact *objectDef) *objectDef {
	o := &objectDef{Name: ObjAccount, Label: "Account", LabelPlural: "Accounts", KeyPrefix: "001",
		Createable: true, Updateable: true, Deletable: true, Replicate: true, Searchable: true, Tracked: true, byName: map[string]*fieldDef{}}
	name := fd("Name", "string", 255, "CUFSG").label("Account Name")
	fields := []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Account ID"),
		fd("IsDeleted", "boolean", 0, "DFSG").label("Deleted"),
		fd("MasterRecordId", "reference", 18, "NFSG").ref("Account", "MasterRecord").label("Master Record ID"),
		name,
	}
	if personAccounts {
		// Person accounts have no Name of their own (it is derived from
		// the person's name), so describe shows it nillable; business
		// accounts still need one (checked in checkAccount).
		name.Nillable = true
		fields = append(fields,
			fd("LastName", "string", 80, "NCUFSG").compound("Name"),
			fd("FirstName", "string", 40, "NCUFSG").compound("Name").fixedFLS(),
			fd("Salutation", "picklist", 40, "NCUFSG").compound("Name").picklist("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.").fixedFLS(),
			fd("RecordTypeId", "reference", 18, "NCUFSG").ref("RecordType", "RecordType").label("Account Record Type"),
		)
	}
	fields = append(fields,
		fd("Type", "picklist", 255, "NCUFSG").label("Account Type").picklist("Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"),
		fd("ParentId", "reference", 18, "NCUFSG").ref("Account", "Parent"),
	)
	fields = append(fields, addressFields("Billing")...)
	fields = append(fields, addressFields("Shipping")...)
	fields = append(fields,
		fd("Phone", "phone", 40, "NCUFSG").label("Account Phone"),
		fd("Fax", "phone", 40, "NCUFSG").label("Account Fax"),
		fd("AccountNumber", "string", 40, "NCUFSG"),
		fd("Website", "url", 255, "NCUFSG"),
		fd("PhotoUrl", "url", 255, "NFSG").label("Photo URL"),
		fd("Industry", "picklist", 255, "NCUFSG").picklist(industries...),
		fd("AnnualRevenue", "currency", 0, "NCUFS"),
		fd("NumberOfEmployees", "int", 0, "NCUFSG").label("Employees"),
		fd("Description", "textarea", 32000, "NCU").label("Account Description"),
		fd("OwnerId", "reference", 18, "CUDFSG").ref("User", "Owner"),
	)
	fields = append(fields, auditFields()...)
	fields = append(fields,
		fd("LastActivityDate", "date", 0, "NFSG").label("Last Activity"),
		fd("LastViewedDate", "datetime", 0, "NFS"),
		fd("LastReferencedDate", "datetime", 0, "NFS"),
		fd("Jigsaw", "string", 20, "NCUFSG").label("Data.com Key"),
		fd("JigsawCompanyId", "string", 20, "NFSG").label("Jigsaw Company ID").relName("JigsawCompany"),
		fd("AccountSource", "picklist", 255, "NCUFSG").picklist(leadSources...),
	)
	if personAccounts {
		fields = append(fields,
			fd("PersonContactId", "reference", 18, "NFSG").ref("Contact", "PersonContact"),
			fd("IsPersonAccount", "boolean", 0, "DFSG"),
		)
		for _, pf := range personFields {
			src, ok := contact.field(pf.contact)
			if !ok {
				continue
			}
			f := *src
			f.Name, f.Label = pf.account, personLabel(src)
			if f.Compound != "" {
				f.Compound = "PersonMailingAddress"
			}
			if f.Relationship != "" {
				f.Relationship = "Person" + f.Relationship
			}
			fields = append(fields, &f)
		}
		for _, src := range contact.fields {
			if !src.Custom {
				continue
			}
			f := *src
			f.Name = strings.TrimSuffix(src.Name, "__c") + "__pc"
			fields = append(fields, &f)
		}
	}
	for _, f := range fields {
		o.add(f)
	}
	if f, ok := o.field("Name"); ok {
		f.NameField = true
	}
	return o.finish()
}

func personLabel(f *fieldDef) string {
	switch f.Name {
	case "MobilePhone":
		return "Mobile"
	case "Email":
		return "Email"
	case "Birthdate":
		return "Birthdate"
	}
	return f.Label
}

// isPersonField reports whether an Account field exists only on person
// accounts (a business account may not set it).
func isPersonField(name string) bool {
	if strings.HasSuffix(name, "__pc") || strings.HasPrefix(name, "Person") {
		return true
	}
	for _, n := range personNameFields {
		if n == name {
			return true
		}
	}
	return false
}

// contactFieldFor maps an Account person field to its Contact field:
// PersonEmail → Email, X__pc → X__c, FirstName → FirstName.
func contactFieldFor(account string) (string, bool) {
	for _, pf := range personFields {
		if pf.account == account {
			return pf.contact, true
		}
	}
	for _, n := range personNameFields {
		if n == account {
			return n, true
		}
	}
	if strings.HasSuffix(account, "__pc") {
		return strings.TrimSuffix(account, "__pc") + "__c", true
	}
	return "", false
}

// recordTypeObject is RecordType: queryable, not writable through the API.
func recordTypeObject() *objectDef {
	o := &objectDef{Name: "RecordType", Label: "Record Type", LabelPlural: "Record Types", KeyPrefix: "012", Replicate: true, byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Record Type ID"),
		fd("Name", "string", 80, "CUFSG").label("Record Type Name"),
		fd("DeveloperName", "string", 80, "CUFSG").label("Record Type Name"),
		fd("NamespacePrefix", "string", 15, "NFSG"),
		fd("Description", "string", 255, "NCUFSG"),
		fd("BusinessProcessId", "reference", 18, "NCUFSG").label("Business Process ID"),
		fd("SobjectType", "picklist", 40, "CFSG").picklist(ObjAccount, ObjContact, ObjLead).restricted(),
		fd("IsActive", "boolean", 0, "CUDFSG").label("Active"),
		fd("IsPersonType", "boolean", 0, "DFSG").label("Is Person Type"),
		fd("CreatedById", "reference", 18, "DFSG").ref("User", "CreatedBy"),
		fd("CreatedDate", "datetime", 0, "DFS"),
		fd("LastModifiedById", "reference", 18, "DFSG").ref("User", "LastModifiedBy"),
		fd("LastModifiedDate", "datetime", 0, "DFS"),
		fd("SystemModstamp", "datetime", 0, "DFS"),
	} {
		o.add(f)
	}
	return o.finish()
}

// assignmentRuleObject is AssignmentRule (Lead assignment rules).
func assignmentRuleObject() *objectDef {
	o := &objectDef{Name: "AssignmentRule", Label: "Assignment Rule", LabelPlural: "Assignment Rules", KeyPrefix: "01Q", byName: map[string]*fieldDef{}}
	for _, f := range []*fieldDef{
		fd("Id", "id", 18, "DLFSG").label("Assignment Rule ID"),
		fd("Name", "string", 120, "CUFSG").label("Name"),
		fd("SobjectType", "picklist", 40, "CFSG").picklist("Case", ObjLead).restricted(),
		fd("Active", "boolean", 0, "CUDFSG"),
		fd("CreatedById", "reference", 18, "DFSG").ref("User", "CreatedBy"),
		fd("CreatedDate", "datetime", 0, "DFS"),
		fd("LastModifiedById", "reference", 18, "DFSG").ref("User", "LastModifiedBy"),
		fd("LastModifiedDate", "datetime", 0, "DFS"),
		fd("SystemModstamp", "datetime", 0, "DFS"),
	} {
		o.add(f)
	}
	return o.finish()
}
