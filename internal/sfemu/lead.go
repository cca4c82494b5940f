package sfemu

import (
	"context"
	"strings"
	"time"
)

// Lead conversion (issue 16). Real orgs convert leads through the UI,
// Apex (Database.convertLead) or SOAP convertLead(); REST has no call for
// it, so the emulator offers it through the side door. The effects are
// Salesforce's: in one transaction the lead gets IsConverted = true,
// ConvertedDate, ConvertedAccountId, ConvertedContactId and the converted
// status, and becomes read-only (CANNOT_UPDATE_CONVERTED_LEAD); a new
// Contact and business Account, or a new person account, get the lead's
// values through the standard field mapping (custom fields map to the
// field of the same name); an existing Contact or person account named in
// the conversion gets the lead's values only where it has none.

// LeadConversion says how to convert a lead.
type LeadConversion struct {
	LeadID string `json:"leadId"`
	// ContactID is an existing Contact (or a person account's Contact) to
	// convert into; empty creates one.
	ContactID string `json:"contactId,omitempty"`
	// AccountID is an existing Account: the new Contact's account, or a
	// person account to convert into. Empty creates one.
	AccountID string `json:"accountId,omitempty"`
	// PersonAccount creates a person account (orgs with Person Accounts).
	// A lead without a Company converts to a person account anyway, as in
	// Salesforce.
	PersonAccount bool `json:"personAccount,omitempty"`
	// ConvertedStatus is the lead's new status; "Closed - Converted"
	// (the org's converted status) when empty.
	ConvertedStatus string `json:"convertedStatus,omitempty"`
	// OwnerID owns the new records; the lead's owner when empty.
	OwnerID string `json:"ownerId,omitempty"`
}

// LeadConversionResult names the records a conversion produced or used.
type LeadConversionResult struct {
	LeadID    string `json:"leadId"`
	AccountID string `json:"accountId"`
	ContactID string `json:"contactId"`
}

// leadToContact, leadToAccount and leadToPerson are Salesforce's standard
// lead field mapping (Setup → Lead → Map Lead Fields).
var leadToContact = [][2]string{
	{"FirstName", "FirstName"}, {"LastName", "LastName"}, {"Salutation", "Salutation"}, {"Title", "Title"},
	{"Email", "Email"}, {"Phone", "Phone"}, {"MobilePhone", "MobilePhone"}, {"Fax", "Fax"}, {"LeadSource", "LeadSource"},
	{"Description", "Description"}, {"Street", "MailingStreet"}, {"City", "MailingCity"}, {"State", "MailingState"},
	{"PostalCode", "MailingPostalCode"}, {"Country", "MailingCountry"}, {"Latitude", "MailingLatitude"},
	{"Longitude", "MailingLongitude"}, {"GeocodeAccuracy", "MailingGeocodeAccuracy"}, {"IndividualId", "IndividualId"},
}

var leadToAccount = [][2]string{
	{"Company", "Name"}, {"Phone", "Phone"}, {"Fax", "Fax"}, {"Website", "Website"}, {"Industry", "Industry"},
	{"AnnualRevenue", "AnnualRevenue"}, {"NumberOfEmployees", "NumberOfEmployees"}, {"LeadSource", "AccountSource"},
	{"Street", "BillingStreet"}, {"City", "BillingCity"}, {"State", "BillingState"}, {"PostalCode", "BillingPostalCode"},
	{"Country", "BillingCountry"}, {"Latitude", "BillingLatitude"}, {"Longitude", "BillingLongitude"},
	{"GeocodeAccuracy", "BillingGeocodeAccuracy"},
}

var leadToPerson = [][2]string{
	{"FirstName", "FirstName"}, {"LastName", "LastName"}, {"Salutation", "Salutation"}, {"Title", "PersonTitle"},
	{"Email", "PersonEmail"}, {"Phone", "Phone"}, {"MobilePhone", "PersonMobilePhone"}, {"Fax", "Fax"},
	{"LeadSource", "PersonLeadSource"}, {"Description", "Description"}, {"Website", "Website"}, {"Industry", "Industry"},
	{"Street", "PersonMailingStreet"}, {"City", "PersonMailingCity"}, {"State", "PersonMailingState"},
	{"PostalCode", "PersonMailingPostalCode"}, {"Country", "PersonMailingCountry"}, {"Latitude", "PersonMailingLatitude"},
	{"Longitude", "PersonMailingLongitude"}, {"GeocodeAccuracy", "PersonMailingGeocodeAccuracy"},
	{"IndividualId", "PersonIndividualId"},
}

// mapLead returns the lead's values as changes of target: the standard
// pairs, plus custom fields of the same name (X__c, or X__pc on a person
// account), where the types agree. With fillOnly, fields the existing
// record has a value for are left alone.
func mapLead(lead *objectDef, r *record, target *objectDef, pairs [][2]string, existing *record, person bool) map[int]any {
	out := map[int]any{}
	put := func(src *fieldDef, dstName string) {
		v := r.Value(src.index)
		if v == nil {
			return
		}
		dst, ok := target.field(dstName)
		if !ok || dst.Type != src.Type && !(isStringType(dst.Type) && isStringType(src.Type)) {
			return
		}
		if existing != nil && existing.Value(dst.index) != nil {
			return
		}
		if s, ok := v.(string); ok && dst.Length > 0 && len([]rune(s)) > dst.Length {
			return
		}
		out[dst.index] = v
	}
	for _, p := range pairs {
		if src, ok := lead.field(p[0]); ok {
			put(src, p[1])
		}
	}
	for _, src := range lead.fields {
		if !src.Custom {
			continue
		}
		name := src.Name
		if person {
			name = strings.TrimSuffix(name, "__c") + "__pc"
		}
		put(src, name)
	}
	return out
}

// ConvertLead converts a lead as the org's human user would in the UI.
func (o *Org) ConvertLead(c LeadConversion) (LeadConversionResult, error) {
	return o.ConvertLeadAs(o.humanID, c)
}

// ConvertLeadAs converts a lead as userID. Nothing is written when it fails.
func (o *Org) ConvertLeadAs(userID string, c LeadConversion) (LeadConversionResult, error) {
	now := o.srv.Now().Truncate(time.Second)
	var res LeadConversionResult
	var err *apiError
	o.withTx(context.Background(), func(tx *tx) {
		mark := len(tx.undo)
		res, err = o.convertLeadLocked(tx, o.sideActor(userID), c, now)
		if err != nil {
			tx.rollbackTo(mark)
		}
	})
	if err != nil {
		return LeadConversionResult{}, err
	}
	return res, nil
}

func (o *Org) convertLeadLocked(tx *tx, a actor, c LeadConversion, now time.Time) (LeadConversionResult, *apiError) {
	lt, ct, at := o.tables["lead"], o.tables["contact"], o.tables["account"]
	lobj := lt.obj
	lead, lp, ok := lt.get(c.LeadID)
	switch {
	case !ok || !strings.HasPrefix(lead.id, lobj.KeyPrefix):
		return LeadConversionResult{}, fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", "leadId")
	case lead.deleted():
		return LeadConversionResult{}, &apiError{Status: 404, Code: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}
	}
	if e := o.checkWritableLocked(lt, lead); e != nil {
		return LeadConversionResult{}, e
	}
	status := c.ConvertedStatus
	if status == "" {
		status = defaultConvertedStatus
	}
	if status != defaultConvertedStatus {
		return LeadConversionResult{}, fieldErr("INVALID_STATUS", "invalid convertedStatus: "+status, "convertedStatus")
	}
	lv := func(n string) any { f, _ := lobj.field(n); return lead.Value(f.index) }
	owner := lv("OwnerId")
	if c.OwnerID != "" {
		u, ok := o.userByID(c.OwnerID)
		if !ok || !u.Active {
			return LeadConversionResult{}, fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid owner: "+c.OwnerID, "ownerId")
		}
		owner = o.intern(u.ID)
	}
	setOwner := func(obj *objectDef, ch map[int]any) {
		if obj.ownerIdx >= 0 {
			ch[obj.ownerIdx] = owner
		}
	}
	getLive := func(t *table, id, what string) (*record, int32, *apiError) {
		r, p, ok := t.get(id)
		if !ok || !strings.HasPrefix(r.id, t.obj.KeyPrefix) {
			return nil, 0, fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", what)
		}
		if r.deleted() {
			return nil, 0, &apiError{Status: 404, Code: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}
		}
		return r, p, nil
	}
	value := func(t *table, r *record, n string) string {
		f, ok := t.obj.field(n)
		if !ok {
			return ""
		}
		s, _ := r.Value(f.index).(string)
		return s
	}
	var res LeadConversionResult
	res.LeadID = lead.id
	company, _ := lv("Company").(string)
	person := o.personAccounts && (c.PersonAccount || company == "" && c.AccountID == "" && c.ContactID == "")
	if c.PersonAccount && !o.personAccounts {
		return res, fieldErr("INVALID_OPERATION", "this org does not have Person Accounts", "personAccount")
	}
	var acct *record
	var ap int32
	if c.AccountID != "" {
		var e *apiError
		if acct, ap, e = getLive(at, c.AccountID, "accountId"); e != nil {
			return res, e
		}
		res.AccountID = acct.id
		person = isPersonRecord(at.obj, acct, nil)
	}
	if c.ContactID != "" {
		con, cp, e := getLive(ct, c.ContactID, "contactId")
		if e != nil {
			return res, e
		}
		res.ContactID = con.id
		if isPersonRecord(ct.obj, con, nil) {
			acctID := value(ct, con, "AccountId")
			if res.AccountID != "" && res.AccountID != acctID {
				return res, fieldErr("INVALID_OPERATION", "the contact belongs to another account", "contactId")
			}
			if acct, ap, e = getLive(at, acctID, "accountId"); e != nil {
				return res, e
			}
			res.AccountID, person = acct.id, true
		} else {
			if person && c.AccountID != "" {
				return res, fieldErr("INVALID_OPERATION", "a business contact cannot be converted into a person account", "contactId")
			}
			person = false
			ch := mapLead(lobj, lead, ct.obj, leadToContact, con, false)
			if errs := o.checkUnique(ct, ch, cp); len(errs) > 0 {
				return res, errs[0]
			}
			o.applyLocked(tx, ct, a, cp, ch, now, "UPDATE", true)
			if res.AccountID == "" {
				res.AccountID = value(ct, con, "AccountId")
			}
		}
	}
	switch {
	case person && acct != nil:
		// Convert into an existing person account: fill its blanks.
		ch := mapLead(lobj, lead, at.obj, leadToPerson, acct, true)
		if errs := append(o.checkUnique(at, ch, ap), o.checkPersonUniqueLocked(at, acct, ch)...); len(errs) > 0 {
			return res, errs[0]
		}
		o.applyLocked(tx, at, a, ap, ch, now, "UPDATE", true)
		if res.ContactID == "" {
			res.ContactID = value(at, o.tables["account"].recs[ap], "PersonContactId")
		}
	case person:
		ch := mapLead(lobj, lead, at.obj, leadToPerson, nil, true)
		setOwner(at.obj, ch)
		rt := ""
		for _, x := range o.recordTypesLocked(ObjAccount) {
			if x.Person && x.Active {
				rt = x.ID
			}
		}
		f, _ := at.obj.field("RecordTypeId")
		ch[f.index] = o.intern(rt)
		if errs := o.checkObjectLocked(at, nil, ch); len(errs) > 0 {
			return res, errs[0]
		}
		if errs := append(o.checkUnique(at, ch, -1), o.checkPersonUniqueLocked(at, nil, ch)...); len(errs) > 0 {
			return res, errs[0]
		}
		o.defaultsLocked(at.obj, ch)
		res.AccountID = o.insertPersonAccountLocked(tx, at, a, ch, now)
		nr, _, _ := at.get(res.AccountID)
		res.ContactID = value(at, nr, "PersonContactId")
	default:
		if res.AccountID == "" {
			if company == "" {
				return res, fieldErr("REQUIRED_FIELD_MISSING", "Required fields are missing: [Company]", "Company")
			}
			ch := mapLead(lobj, lead, at.obj, leadToAccount, nil, false)
			setOwner(at.obj, ch)
			if errs := o.checkObjectLocked(at, nil, ch); len(errs) > 0 {
				return res, errs[0]
			}
			o.defaultsLocked(at.obj, ch)
			res.AccountID = o.insertChangesLocked(tx, at, a, ch, now)
		}
		if res.ContactID == "" {
			ch := mapLead(lobj, lead, ct.obj, leadToContact, nil, false)
			setOwner(ct.obj, ch)
			f, _ := ct.obj.field("AccountId")
			ch[f.index] = o.intern(res.AccountID)
			if errs := append(o.checkObjectLocked(ct, nil, ch), o.checkUnique(ct, ch, -1)...); len(errs) > 0 {
				return res, errs[0]
			}
			o.defaultsLocked(ct.obj, ch)
			res.ContactID = o.insertChangesLocked(tx, ct, a, ch, now)
		}
	}
	lch := map[int]any{}
	set := func(n string, v any) { f, _ := lobj.field(n); lch[f.index] = v }
	set("IsConverted", true)
	set("ConvertedDate", time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
	set("ConvertedAccountId", o.intern(res.AccountID))
	if res.ContactID != "" {
		set("ConvertedContactId", o.intern(res.ContactID))
	}
	set("Status", o.intern(status))
	o.applyLocked(tx, lt, a, lp, lch, now, "UPDATE", true)
	return res, nil
}

// defaultsLocked gives fields with a default value their default where
// changes leave them unset (as insertLocked does).
func (o *Org) defaultsLocked(obj *objectDef, changes map[int]any) {
	for _, f := range obj.fields {
		if f.DefaultValue != nil && changes[f.index] == nil {
			changes[f.index] = f.DefaultValue
		}
	}
}
