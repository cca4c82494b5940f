package sfemu

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Person Accounts (issue 16). An org turns them on once (Salesforce does
// not turn them off again): Account gains the person fields and a person
// record type, Contact gains IsPersonAccount, and Lead's Company is no
// longer required. Every person account has a Contact of its own
// (PersonContactId) that mirrors the person fields; Contact writes to it
// are refused, as the person is edited through the Account.

// RecordType is one record type of Account, Contact or Lead.
type RecordType struct {
	ID            string `json:"id"`
	Object        string `json:"sobjectType"`
	DeveloperName string `json:"developerName"`
	Name          string `json:"name"`
	Person        bool   `json:"isPersonType"`
	Active        bool   `json:"isActive"`
}

// Record types created with Person Accounts, as Salesforce names them.
const (
	PersonAccountRecordType   = "PersonAccount"
	BusinessAccountRecordType = "Business_Account"
)

// PersonAccountsEnabled reports whether the org has Person Accounts.
func (o *Org) PersonAccountsEnabled() bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.personAccounts
}

// EnablePersonAccounts turns Person Accounts on. It cannot be undone.
func (o *Org) EnablePersonAccounts() {
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.enablePersonAccountsLocked()
}

func (o *Org) enablePersonAccountsLocked() {
	if o.personAccounts {
		return
	}
	o.personAccounts = true
	contact := o.objects["contact"].clone()
	if _, ok := contact.field("IsPersonAccount"); !ok {
		f := fd("IsPersonAccount", "boolean", 0, "DFSG")
		f.DefaultValue = false
		contact.add(f)
		contact.finish()
	}
	o.replaceObjectLocked(contact)
	lead := o.objects["lead"].clone()
	if f, ok := lead.field("Company"); ok {
		f.Nillable = true
	}
	o.replaceObjectLocked(lead)
	account := accountObject(true, contact)
	for _, f := range o.objects["account"].fields {
		if f.Custom {
			if _, dup := account.field(f.Name); !dup {
				cf := *f
				account.add(&cf)
			}
		}
	}
	account.finish()
	if f, ok := account.field("IsPersonAccount"); ok {
		f.DefaultValue = false
	}
	o.replaceObjectLocked(account)
	have := map[string]bool{}
	for _, rt := range o.recordTypesLocked(ObjAccount) {
		have[rt.DeveloperName] = true
	}
	if !have[BusinessAccountRecordType] {
		o.addRecordTypeLocked(ObjAccount, BusinessAccountRecordType, "Business Account", false, "")
	}
	if !have[PersonAccountRecordType] {
		o.addRecordTypeLocked(ObjAccount, PersonAccountRecordType, "Person Account", true, "")
	}
	o.schemaAt = o.srv.Now().Truncate(time.Second)
}

// replaceObjectLocked installs a new definition of an object, moving the
// stored values of every record to the new field positions by name and
// giving new fields with a default their default.
func (o *Org) replaceObjectLocked(obj *objectDef) {
	key := strings.ToLower(obj.Name)
	t := o.tables[key]
	old := t.obj
	remap := make([]int, len(old.fields))
	for i, f := range old.fields {
		remap[i] = -1
		if nf, ok := obj.field(f.Name); ok {
			remap[i] = nf.index
		}
	}
	for p, r := range t.recs {
		if r == nil {
			continue
		}
		vals := map[int]any{}
		for _, x := range r.fields() {
			if j := remap[x.idx]; j >= 0 {
				vals[j] = x.v
			}
		}
		for _, f := range obj.fields {
			if _, had := old.field(f.Name); !had && f.DefaultValue != nil {
				vals[f.index] = f.DefaultValue
			}
		}
		n := newRecord(r.id, vals)
		n.deletedAt = r.deletedAt
		t.set(int32(p), n)
	}
	t.obj = obj
	t.uniq = map[int]map[string]int32{}
	for _, f := range obj.fields {
		if f.Unique {
			idx := map[string]int32{}
			for p, r := range t.recs {
				if r != nil && !r.deleted() {
					if v := r.Value(f.index); v != nil {
						idx[uniqKey(f, v)] = int32(p)
					}
				}
			}
			t.uniq[f.index] = idx
		}
	}
	o.objects[key] = obj
}

// AddRecordType adds an active record type to Account, Contact or Lead,
// giving the object a RecordTypeId field when it has none yet.
func (o *Org) AddRecordType(object, developerName, name string) (RecordType, error) {
	return o.addRecordType(object, developerName, name, false, "")
}

// addRecordType adds a record type; id is given when a data file is
// loaded, so records keep pointing at it.
func (o *Org) addRecordType(object, developerName, name string, person bool, id string) (RecordType, error) {
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.objects[strings.ToLower(object)]
	if !ok || !obj.Tracked {
		return RecordType{}, fmt.Errorf("record types can be added to Account, Contact or Lead, not %q", object)
	}
	if !customNameRE.MatchString(developerName+"__c") || strings.HasSuffix(developerName, "_") {
		return RecordType{}, fmt.Errorf("record type developer name %q must be letters, digits and single underscores", developerName)
	}
	for _, rt := range o.recordTypesLocked(obj.Name) {
		if strings.EqualFold(rt.DeveloperName, developerName) {
			return RecordType{}, fmt.Errorf("%s already has a record type %s", obj.Name, developerName)
		}
	}
	if name == "" {
		name = strings.ReplaceAll(developerName, "_", " ")
	}
	if _, ok := obj.field("RecordTypeId"); !ok {
		n := obj.clone()
		n.add(fd("RecordTypeId", "reference", 18, "NCUFSG").ref("RecordType", "RecordType").label(obj.Label + " Record Type"))
		n.finish()
		o.replaceObjectLocked(n)
	}
	o.schemaAt = o.srv.Now().Truncate(time.Second)
	return o.addRecordTypeLocked(obj.Name, developerName, name, person, id), nil
}

func (o *Org) addRecordTypeLocked(object, developerName, name string, person bool, id string) RecordType {
	t := o.tables["recordtype"]
	if id == "" {
		id = o.nextID(t)
	} else if seq := decodeSeq(id); seq > t.seq {
		t.seq = seq
	}
	now := o.srv.Now().Truncate(time.Second)
	vals := map[int]any{}
	set := func(n string, v any) { f, _ := t.obj.field(n); vals[f.index] = v }
	set("Id", id)
	set("Name", name)
	set("DeveloperName", developerName)
	set("SobjectType", object)
	set("IsActive", true)
	set("IsPersonType", person)
	set("CreatedById", o.adminID)
	set("CreatedDate", now)
	set("LastModifiedById", o.adminID)
	set("LastModifiedDate", now)
	set("SystemModstamp", now)
	t.add(newRecord(id, vals))
	return RecordType{ID: id, Object: object, DeveloperName: developerName, Name: name, Person: person, Active: true}
}

// RecordTypes returns the record types of object (all objects when empty).
func (o *Org) RecordTypes(object string) []RecordType {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.recordTypesLocked(object)
}

func (o *Org) recordTypesLocked(object string) []RecordType {
	t := o.tables["recordtype"]
	v := func(r *record, n string) any { f, _ := t.obj.field(n); return r.Value(f.index) }
	var out []RecordType
	for _, r := range t.recs {
		if r == nil {
			continue
		}
		obj, _ := v(r, "SobjectType").(string)
		if object != "" && !strings.EqualFold(obj, object) {
			continue
		}
		dev, _ := v(r, "DeveloperName").(string)
		name, _ := v(r, "Name").(string)
		person, _ := v(r, "IsPersonType").(bool)
		active, _ := v(r, "IsActive").(bool)
		out = append(out, RecordType{ID: r.id, Object: obj, DeveloperName: dev, Name: name, Person: person, Active: active})
	}
	return out
}

func (o *Org) recordTypeLocked(id string) (RecordType, bool) {
	for _, rt := range o.recordTypesLocked("") {
		if len(id) >= 15 && rt.ID[:15] == id[:15] {
			return rt, true
		}
	}
	return RecordType{}, false
}

func (o *Org) recordTypeValidLocked(object, id string) bool {
	rt, ok := o.recordTypeLocked(id)
	return ok && rt.Active && rt.Object == object
}

// defaultRecordTypeLocked is the record type a record gets when it names
// none: the first active one that is not a person type.
func (o *Org) defaultRecordTypeLocked(object string) (RecordType, bool) {
	for _, rt := range o.recordTypesLocked(object) {
		if rt.Active && !rt.Person {
			return rt, true
		}
	}
	return RecordType{}, false
}

func isPersonRecord(obj *objectDef, r *record, changes map[int]any) bool {
	f, ok := obj.field("IsPersonAccount")
	if !ok {
		return false
	}
	if v, set := changes[f.index]; set {
		b, _ := v.(bool)
		return b
	}
	if r == nil {
		return false
	}
	b, _ := r.Value(f.index).(bool)
	return b
}

func (o *Org) isPersonAccountChange(t *table, old *record, changes map[int]any) bool {
	return t.obj.Name == ObjAccount && isPersonRecord(t.obj, old, changes)
}

func unwritable(names ...string) *apiError {
	return fieldErr("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+strings.Join(names, ", ")+". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", names...)
}

// checkWritableLocked refuses updates Salesforce refuses whatever the
// fields: those of a converted lead.
func (o *Org) checkWritableLocked(t *table, r *record) *apiError {
	if t.obj.Name == ObjLead {
		if f, ok := t.obj.field("IsConverted"); ok && r.Value(f.index) == true {
			return fieldErr("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
		}
	}
	return nil
}

// badFields is Salesforce's answer to fields a person or business account
// (or a person account's Contact) may not write on an update.
func badFields(names ...string) *apiError {
	return fieldErr("INVALID_FIELD_FOR_INSERT_UPDATE", "Account: bad field names on insert/update call: "+strings.Join(names, ", "), names...)
}

// checkObjectLocked applies an object's own rules to a create (old nil)
// or an update: the default record type, and for Account in an org with
// Person Accounts the person/business split.
func (o *Org) checkObjectLocked(t *table, old *record, changes map[int]any) []*apiError {
	obj := t.obj
	if obj.Name == ObjContact && old != nil && isPersonRecord(obj, old, nil) {
		if f, ok := obj.field("AccountId"); ok {
			if v, set := changes[f.index]; set && !equalValue(v, old.Value(f.index)) {
				return []*apiError{badFields("AccountId")}
			}
		}
	}
	rtf, hasRT := obj.field("RecordTypeId")
	var rt RecordType
	var rtOK bool
	if hasRT {
		if v, set := changes[rtf.index]; set && v != nil {
			rt, rtOK = o.recordTypeLocked(v.(string))
			if !rtOK || rt.Object != obj.Name || !rt.Active {
				return []*apiError{fieldErr("INVALID_CROSS_REFERENCE_KEY", "Record Type ID: this ID value isn't valid for the user: "+v.(string), "RecordTypeId")}
			}
		} else if old == nil {
			if rt, rtOK = o.defaultRecordTypeLocked(obj.Name); rtOK {
				changes[rtf.index] = o.intern(rt.ID)
			}
		}
	}
	if obj.Name != ObjAccount || !o.personAccounts {
		return nil
	}
	person := rtOK && rt.Person
	if old != nil {
		was := isPersonRecord(obj, old, nil)
		if _, set := changes[rtf.index]; !set || !rtOK {
			person = was
		} else if person != was {
			return []*apiError{fieldErr("INVALID_FIELD_FOR_INSERT_UPDATE", "changing an account between a person and a business record type is not supported by the emulator", "RecordTypeId")}
		}
	}
	var bad []string
	for i, v := range changes {
		f := obj.fields[i]
		if v == nil {
			continue
		}
		if person && f.Name == "Name" {
			bad = append(bad, f.Name)
		}
		if !person && isPersonField(f.Name) {
			bad = append(bad, f.Name)
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		// A person account's Name on a create is "Unable to create/update
		// fields: Name" (b2c-crm-sync #267, SFDMU #6); on an update and for
		// person fields on a business account it is "bad field names"
		// (Salesforce Inspector #38, texei-sfdx-plugin #51).
		if person && old == nil {
			return []*apiError{unwritable(bad...)}
		}
		return []*apiError{badFields(bad...)}
	}
	required := "Name"
	if person {
		required = "LastName"
	}
	rf, _ := obj.field(required)
	if v, set := changes[rf.index]; (old == nil && v == nil) || (old != nil && set && v == nil) {
		return []*apiError{fieldErr("REQUIRED_FIELD_MISSING", "Required fields are missing: ["+required+"]", required)}
	}
	if old == nil {
		pf, _ := obj.field("IsPersonAccount")
		changes[pf.index] = person
	}
	return nil
}

// personContactChanges maps changes of a person account to its Contact.
func (o *Org) personContactChanges(acct *objectDef, changes map[int]any) map[int]any {
	ct := o.objects["contact"]
	out := map[int]any{}
	for i, v := range changes {
		f := acct.fields[i]
		name, ok := contactFieldFor(f.Name)
		if f.Name == "OwnerId" {
			name, ok = "OwnerId", true
		}
		if !ok {
			continue
		}
		if cf, ok := ct.field(name); ok {
			out[cf.index] = v
		}
	}
	return out
}

// checkPersonUniqueLocked checks a person account's unique person fields
// (X__pc) against Contact, where they live in Salesforce: one value may
// not be held by a person account and a contact. Locked.
func (o *Org) checkPersonUniqueLocked(t *table, old *record, changes map[int]any) []*apiError {
	if t.obj.Name != ObjAccount || !isPersonRecord(t.obj, old, changes) {
		return nil
	}
	ct := o.tables["contact"]
	self := int32(-1)
	if old != nil {
		pf, _ := t.obj.field("PersonContactId")
		if cid, ok := old.Value(pf.index).(string); ok {
			if _, p, ok := ct.get(cid); ok {
				self = p
			}
		}
	}
	return o.checkUnique(ct, o.personContactChanges(t.obj, changes), self)
}

// insertPersonAccountLocked creates a person account and its Contact.
func (o *Org) insertPersonAccountLocked(tx *tx, t *table, a actor, changes map[int]any, now time.Time) string {
	acctID := makeID(t.obj.KeyPrefix, o.seq, t.seq+1) // the id insertChangesLocked gives it next
	ct := o.tables["contact"]
	cch := o.personContactChanges(t.obj, changes)
	set := func(n string, v any) {
		if f, ok := ct.obj.field(n); ok {
			cch[f.index] = v
		}
	}
	set("AccountId", acctID)
	set("IsPersonAccount", true)
	for _, f := range ct.obj.fields {
		if f.DefaultValue != nil && cch[f.index] == nil {
			cch[f.index] = f.DefaultValue
		}
	}
	cid := o.insertChangesLocked(tx, ct, a, cch, now)
	pf, _ := t.obj.field("PersonContactId")
	changes[pf.index] = cid
	return o.insertChangesLocked(tx, t, a, changes, now)
}

// accountFieldFor maps a person account Contact's field to its Account
// field: Email → PersonEmail, X__c → X__pc, FirstName → FirstName.
func accountFieldFor(contact string) (string, bool) {
	for _, pf := range personFields {
		if pf.contact == contact {
			return pf.account, true
		}
	}
	for _, n := range personNameFields {
		if n == contact {
			return n, true
		}
	}
	if strings.HasSuffix(contact, "__c") {
		return strings.TrimSuffix(contact, "__c") + "__pc", true
	}
	if contact == "OwnerId" {
		return contact, true
	}
	return "", false
}

// mirrorPersonContactLocked carries a write of a person account to its
// Contact, and an update of that Contact back to the account (called by
// applyLocked; o.mirroring stops the echo).
func (o *Org) mirrorPersonContactLocked(tx *tx, t *table, a actor, old, n *record, changes map[int]any, now time.Time, kind string) {
	if o.mirroring || !isPersonRecord(t.obj, n, nil) {
		return
	}
	if t.obj.Name == ObjContact && kind == "UPDATE" {
		af, _ := t.obj.field("AccountId")
		aid, _ := n.Value(af.index).(string)
		at := o.tables["account"]
		_, p, ok := at.get(aid)
		if !ok {
			return
		}
		ach := map[int]any{}
		for i, v := range changes {
			if name, ok := accountFieldFor(t.obj.fields[i].Name); ok {
				if f, ok := at.obj.field(name); ok {
					ach[f.index] = v
				}
			}
		}
		if len(ach) > 0 {
			o.mirroring = true
			o.applyLocked(tx, at, a, p, ach, now, kind, true)
			o.mirroring = false
		}
		return
	}
	if t.obj.Name != ObjAccount {
		return
	}
	pf, _ := t.obj.field("PersonContactId")
	cid, _ := n.Value(pf.index).(string)
	ct := o.tables["contact"]
	_, p, ok := ct.get(cid)
	if !ok {
		return
	}
	cch := map[int]any{}
	if kind == "UPDATE" {
		cch = o.personContactChanges(t.obj, changes)
		if len(cch) == 0 {
			return
		}
	}
	o.mirroring = true
	o.applyLocked(tx, ct, a, p, cch, now, kind, true)
	o.mirroring = false
}
