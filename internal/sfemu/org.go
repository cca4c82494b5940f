package sfemu

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// OrgOptions describe an org to create.
type OrgOptions struct {
	Name    string
	Edition Edition // Developer when empty
	// APIAllocation overrides the edition's daily API request allocation
	// (DailyApiRequests.Max) when positive.
	APIAllocation int
	// Licenses is the number of Salesforce user licenses (10 when zero);
	// it feeds the edition's default allocation.
	Licenses int
	// CustomFields are the Contact custom fields; DefaultCustomFields()
	// when nil, none when empty and non-nil.
	CustomFields  []CustomField
	AdminUsername string // admin@org<N>.example.com when empty
	AdminPassword string // generated when empty
	TimeZone      string // Asia/Taipei when empty
	// PersonAccounts turns Person Accounts on (person.go).
	PersonAccounts bool `json:"personAccounts"`
	// DuplicateRules turns standard duplicate rules on (duplicates.go).
	DuplicateRules DuplicateRules `json:"duplicateRules"`
}

// Org is one emulated Salesforce org. All its data sits under one
// RWMutex; writes additionally take txMu so composite requests can hold a
// transaction open across subrequests.
type Org struct {
	srv     *Server
	seq     int
	id      string
	name    string
	edition Edition
	tz      string
	created time.Time
	adminID string
	humanID string
	// licenses and allocOverride decide the allocation when the edition changes.
	licenses      int
	allocOverride bool

	txMu sync.Mutex
	mu   sync.RWMutex
	// guarded by mu:
	objects   map[string]*objectDef // lower-cased name
	tables    map[string]*table     // lower-cased name
	users     []*User
	permSets  []*PermissionSet
	profiles  map[string]string // profile name → id
	interned  map[string]any
	changes   []Change
	changeSeq int64
	lastPurge int64
	jobs      map[string]*bulkJob
	jobOrder  []string
	rules     []compiledRule
	schemaAt  time.Time // when an object's fields last changed (describe Last-Modified)
	// issue 16: Person Accounts, duplicate rules, Lead assignment rules
	personAccounts bool
	dupRules       DuplicateRules
	assignRules    []*assignRule
	mirroring      bool // a person account write is being carried to its pair (person.go)

	curMu   sync.Mutex
	cursors map[string]*cursor

	usage usageWindow

	ingest *ingestStore // Bulk API 2.0 ingest jobs (ingest.go)

	cdc cdcState // Change Data Capture events (cdc.go)
}

func newOrg(s *Server, seq int, opts OrgOptions) (*Org, error) {
	o := &Org{
		srv: s, seq: seq, id: makeID("00D", seq, 1), name: opts.Name, edition: opts.Edition, tz: opts.TimeZone,
		created: s.Now().Truncate(time.Second), objects: map[string]*objectDef{}, tables: map[string]*table{},
		profiles: map[string]string{}, interned: map[string]any{}, jobs: map[string]*bulkJob{}, cursors: map[string]*cursor{},
		ingest: newIngestStore(),
	}
	if o.tz == "" {
		o.tz = "Asia/Taipei"
	}
	o.schemaAt = o.created
	o.usage.max = opts.APIAllocation
	o.licenses, o.allocOverride = opts.Licenses, opts.APIAllocation > 0
	if o.usage.max <= 0 {
		o.usage.max = opts.Edition.DefaultAPIAllocation(opts.Licenses)
	}
	contact := contactObject()
	for _, cf := range opts.CustomFields {
		f, err := cf.def()
		if err != nil {
			return nil, err
		}
		if _, dup := contact.field(f.Name); dup {
			return nil, fmt.Errorf("duplicate custom field %s", f.Name)
		}
		contact.add(f)
	}
	contact.finish()
	// Lead carries the same custom fields as Contact (the identity and
	// social fields an org adds to both, mapped to each other on conversion).
	lead := leadObject(false)
	for _, cf := range opts.CustomFields {
		f, _ := cf.def()
		lead.add(f)
	}
	lead.finish()
	account := accountObject(false, contact)
	if err := opts.DuplicateRules.validate(); err != nil {
		return nil, err
	}
	o.dupRules = opts.DuplicateRules
	for _, obj := range []*objectDef{contact, lead, account, userObject(), organizationObject(), profileObject(), permissionSetObject(),
		permissionSetAssignmentObject(), userPermissionAccessObject(), recordTypeObject(), assignmentRuleObject()} {
		o.objects[strings.ToLower(obj.Name)] = obj
		o.tables[strings.ToLower(obj.Name)] = newTable(obj)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tables["organization"]
	f := func(n string) int { x, _ := t.obj.field(n); return x.index }
	var created any = o.created
	r := newRecord(o.id, map[int]any{
		f("Id"): o.id, f("Name"): o.name, f("OrganizationType"): o.edition.OrganizationType(), f("IsSandbox"): false,
		f("InstanceName"): "EMU1", f("TimeZoneSidKey"): o.tz, f("LanguageLocaleKey"): "en_US", f("DefaultLocaleSidKey"): "en_US",
		f("Country"): "TW", f("CreatedDate"): created, f("LastModifiedDate"): created, f("SystemModstamp"): created,
	})
	t.add(r)
	for _, p := range []struct {
		name        string
		mad, ca, vs bool
	}{{ProfileSystemAdministrator, true, true, true}, {ProfileStandardUser, false, false, false}} {
		o.createProfileLocked(p.name, p.mad, p.ca, p.vs)
	}
	return o, nil
}

// ID is the org's 18-character id.
func (o *Org) ID() string { return o.id }

// Name is the org's name.
func (o *Org) Name() string { return o.name }

// Edition is the org's edition.
func (o *Org) Edition() Edition {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.edition
}

// SetEdition changes the edition (e.g. to turn the API add-on on or off).
// Unless the allocation was overridden, it becomes the new edition's default.
func (o *Org) SetEdition(e Edition) {
	o.mu.Lock()
	o.edition = e
	override, licenses := o.allocOverride, o.licenses
	o.mu.Unlock()
	if !override {
		o.usage.mu.Lock()
		o.usage.max = e.DefaultAPIAllocation(licenses)
		o.usage.mu.Unlock()
	}
}

// Admin returns the org's System Administrator created with it.
func (o *Org) Admin() User {
	u, _ := o.userByIDLocking(o.adminID)
	return u
}

// Human returns the standard user the human-edit side door acts as.
func (o *Org) Human() User {
	u, _ := o.userByIDLocking(o.humanID)
	return u
}

func (o *Org) createProfileLocked(name string, mad, ca, vs bool) {
	pt := o.tables["profile"]
	pid := o.nextID(pt)
	f := func(n string) int { x, _ := pt.obj.field(n); return x.index }
	pt.add(newRecord(pid, map[int]any{f("Id"): pid, f("Name"): name, f("UserType"): "Standard",
		f("PermissionsModifyAllData"): mad, f("PermissionsCustomizeApplication"): ca, f("PermissionsApiEnabled"): true}))
	o.profiles[name] = pid
	o.addPermSetLocked(&PermissionSet{Name: "X00e" + pid[3:15], ModifyAllData: mad, CustomizeApplication: ca, ViewSetup: vs, APIEnabled: true, ProfileName: name})
}

func (o *Org) addPermSetLocked(ps *PermissionSet) {
	t := o.tables["permissionset"]
	ps.ID = o.nextID(t)
	f := func(n string) int { x, _ := t.obj.field(n); return x.index }
	vals := map[int]any{f("Id"): ps.ID, f("Name"): ps.Name, f("Label"): ps.Name, f("IsOwnedByProfile"): ps.ProfileName != "",
		f("PermissionsModifyAllData"): ps.ModifyAllData, f("PermissionsCustomizeApplication"): ps.CustomizeApplication,
		f("PermissionsViewSetup"): ps.ViewSetup, f("PermissionsApiEnabled"): ps.APIEnabled}
	if ps.ProfileName != "" {
		vals[f("ProfileId")] = o.profiles[ps.ProfileName]
	}
	t.add(newRecord(ps.ID, vals))
	o.permSets = append(o.permSets, ps)
}

// CreatePermissionSet adds an assignable permission set.
func (o *Org) CreatePermissionSet(name string, modifyAllData, customizeApplication bool) (PermissionSet, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ps := range o.permSets {
		if strings.EqualFold(ps.Name, name) {
			return PermissionSet{}, fmt.Errorf("permission set %q exists", name)
		}
	}
	ps := &PermissionSet{Name: name, ModifyAllData: modifyAllData, CustomizeApplication: customizeApplication, APIEnabled: true}
	o.addPermSetLocked(ps)
	return *ps, nil
}

// AssignPermissionSet assigns a permission set (by name) to a user.
func (o *Org) AssignPermissionSet(userID, name string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.assignLocked(userID, name)
}

func (o *Org) assignLocked(userID, name string) error {
	u, ok := o.userByID(userID)
	if !ok {
		return fmt.Errorf("no user %s", userID)
	}
	var ps *PermissionSet
	for _, p := range o.permSets {
		if p.ProfileName == "" && strings.EqualFold(p.Name, name) {
			ps = p
		}
	}
	if ps == nil {
		return fmt.Errorf("no permission set %q", name)
	}
	if ps.ProfileName == "" && !slices.Contains(u.PermissionSets, ps.Name) {
		u.PermissionSets = append(u.PermissionSets, ps.Name)
	}
	o.addAssignmentLocked(u, ps)
	return nil
}

func (o *Org) addAssignmentLocked(u *User, ps *PermissionSet) {
	t := o.tables["permissionsetassignment"]
	id := o.nextID(t)
	vals := map[int]any{}
	set := func(n string, v any) { x, _ := t.obj.field(n); vals[x.index] = v }
	set("Id", id)
	set("AssigneeId", u.ID)
	set("PermissionSetId", ps.ID)
	set("SystemModstamp", o.srv.Now().Truncate(time.Second))
	set("PermissionSet.Name", ps.Name)
	set("PermissionSet.IsOwnedByProfile", ps.ProfileName != "")
	if ps.ProfileName != "" {
		set("PermissionSet.ProfileId", o.profiles[ps.ProfileName])
	}
	set("PermissionSet.PermissionsModifyAllData", ps.ModifyAllData)
	set("PermissionSet.PermissionsCustomizeApplication", ps.CustomizeApplication)
	set("PermissionSet.PermissionsViewSetup", ps.ViewSetup)
	set("PermissionSet.PermissionsApiEnabled", ps.APIEnabled)
	t.add(newRecord(id, vals))
}

// CreateUser adds a user. Usernames are unique across the server.
func (o *Org) CreateUser(opts UserOptions) (User, error) {
	if opts.Username == "" || opts.LastName == "" {
		return User{}, fmt.Errorf("a user needs a username and a last name")
	}
	if opts.Profile == "" {
		opts.Profile = ProfileStandardUser
	}
	if opts.Email == "" {
		opts.Email = opts.Username
	}
	key := strings.ToLower(opts.Username)
	o.srv.mu.Lock()
	if _, dup := o.srv.usernames[key]; dup {
		o.srv.mu.Unlock()
		return User{}, fmt.Errorf("username %q is taken", opts.Username)
	}
	o.srv.usernames[key] = o
	o.srv.mu.Unlock()

	o.mu.Lock()
	defer o.mu.Unlock()
	pid, ok := o.profiles[opts.Profile]
	if !ok {
		return User{}, fmt.Errorf("no profile %q", opts.Profile)
	}
	t := o.tables["user"]
	u := &User{ID: o.nextID(t), OrgID: o.id, Username: opts.Username, Password: opts.Password, FirstName: opts.FirstName,
		LastName: opts.LastName, Email: opts.Email, Profile: opts.Profile, Active: !opts.Inactive, APIEnabled: !opts.APIDisabled}
	now := o.srv.Now().Truncate(time.Second)
	vals := map[int]any{}
	set := func(n string, v any) {
		x, _ := t.obj.field(n)
		if s, ok := v.(string); ok && s == "" {
			return
		}
		vals[x.index] = v
	}
	creator := o.adminID
	if creator == "" {
		creator = u.ID
	}
	alias := strings.ToLower(opts.FirstName + opts.LastName)
	if len(alias) > 8 {
		alias = alias[:8]
	}
	set("Id", u.ID)
	set("Username", u.Username)
	set("FirstName", u.FirstName)
	set("LastName", u.LastName)
	set("Name", u.Name())
	set("Email", u.Email)
	set("Alias", alias)
	set("IsActive", u.Active)
	set("ProfileId", pid)
	set("UserType", "Standard")
	set("TimeZoneSidKey", o.tz)
	set("LocaleSidKey", "en_US")
	set("LanguageLocaleKey", "en_US")
	set("EmailEncodingKey", "UTF-8")
	set("UserPermissionsApiUser", u.APIEnabled)
	set("CreatedDate", now)
	set("CreatedById", creator)
	set("LastModifiedDate", now)
	set("LastModifiedById", creator)
	set("SystemModstamp", now)
	r := newRecord(u.ID, vals)
	p := t.add(r)
	for i, idx := range t.uniq { // Username: Bulk relationship columns look users up by it
		if v := r.Value(i); v != nil {
			idx[uniqKey(t.obj.fields[i], v)] = p
		}
	}
	o.users = append(o.users, u)
	for _, ps := range o.permSets {
		if ps.ProfileName == opts.Profile {
			o.addAssignmentLocked(u, ps)
		}
	}
	for _, name := range opts.PermissionSets {
		if err := o.assignLocked(u.ID, name); err != nil {
			return User{}, err
		}
	}
	return *u, nil
}

var salesNames = []struct{ first, last string }{{"Mei", "Lin"}, {"Jason", "Chen"}, {"Grace", "Wu"}, {"Kevin", "Huang"}, {"Sophia", "Tsai"}}

// AddSalesUsers adds n Standard Users (sales reps: sales1@org<N>.example.com,
// …) for records to be owned by and assigned to.
func (o *Org) AddSalesUsers(n int) error {
	for i := 1; i <= n; i++ {
		nm := salesNames[(i-1)%len(salesNames)]
		name := fmt.Sprintf("sales%d@org%d.example.com", i, o.seq)
		if _, err := o.CreateUser(UserOptions{Username: name, Password: "emulator-" + randomToken(6), FirstName: nm.first, LastName: nm.last}); err != nil {
			return err
		}
	}
	return nil
}

// Users returns the org's users.
func (o *Org) Users() []User {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]User, len(o.users))
	for i, u := range o.users {
		out[i] = *u
	}
	return out
}

func (o *Org) userByID(id string) (*User, bool) {
	for _, u := range o.users {
		if len(id) >= 15 && u.ID[:15] == id[:15] {
			return u, true
		}
	}
	return nil, false
}

func (o *Org) userByIDLocking(id string) (User, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	u, ok := o.userByID(id)
	if !ok {
		return User{}, false
	}
	return *u, true
}

func (o *Org) userByUsername(name string) (User, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, u := range o.users {
		if strings.EqualFold(u.Username, name) {
			return *u, true
		}
	}
	return User{}, false
}

// permissions returns a user's effective permissions (profile plus
// assigned permission sets). Locked.
func (o *Org) permissions(u *User) PermissionSet {
	var eff PermissionSet
	for _, ps := range o.permSets {
		if ps.ProfileName == u.Profile || (ps.ProfileName == "" && slices.Contains(u.PermissionSets, ps.Name)) {
			eff.ModifyAllData = eff.ModifyAllData || ps.ModifyAllData
			eff.CustomizeApplication = eff.CustomizeApplication || ps.CustomizeApplication
			eff.ViewSetup = eff.ViewSetup || ps.ViewSetup
			eff.APIEnabled = eff.APIEnabled || ps.APIEnabled
		}
	}
	eff.APIEnabled = eff.APIEnabled && u.APIEnabled
	return eff
}

// AddCustomField adds a custom field to Contact (and its __pc copy to
// Account in an org with Person Accounts).
func (o *Org) AddCustomField(cf CustomField) error {
	return o.AddCustomFieldTo(ObjContact, cf)
}

// AddCustomFieldTo adds a custom field to Contact, Lead or Account.
func (o *Org) AddCustomFieldTo(object string, cf CustomField) error {
	f, err := cf.def()
	if err != nil {
		return err
	}
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	key := strings.ToLower(object)
	if !isDataObject(key) {
		return fmt.Errorf("custom fields can be added to Contact, Lead or Account, not %q", object)
	}
	if err := o.addFieldLocked(key, f); err != nil {
		return err
	}
	if key == "contact" && o.personAccounts {
		pc := *f
		pc.Name = strings.TrimSuffix(f.Name, "__c") + "__pc"
		if err := o.addFieldLocked("account", &pc); err != nil {
			return err
		}
	}
	o.schemaAt = o.srv.Now().Truncate(time.Second)
	return nil
}

func (o *Org) addFieldLocked(key string, f *fieldDef) error {
	t := o.tables[key]
	if _, dup := t.obj.field(f.Name); dup {
		return fmt.Errorf("field %s exists", f.Name)
	}
	obj := t.obj.clone()
	obj.add(f)
	obj.finish()
	t.obj = obj
	o.objects[key] = obj
	if f.Unique {
		t.uniq[f.index] = map[string]int32{}
	}
	if f.DefaultValue != nil {
		// Existing rows take the default, as a new checkbox reads false on
		// every old record.
		for p, r := range t.recs {
			if r != nil {
				t.set(int32(p), r.with(map[int]any{f.index: f.DefaultValue}))
			}
		}
	}
	return nil
}

// ContactFields returns the API names of Contact's fields in describe order.
func (o *Org) ContactFields() []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []string
	for _, f := range o.tables["contact"].obj.fields {
		out = append(out, f.Name)
	}
	return out
}

// sideActor is the actor for side-door edits by the given user (no API,
// no client: they look like UI edits).
func (o *Org) sideActor(userID string) actor { return actor{userID: userID} }

// CreateAsHuman creates a Contact as the org's human user would in the UI.
func (o *Org) CreateAsHuman(fields map[string]any) (string, error) {
	return o.CreateAs(o.humanID, fields)
}

// CreateAs creates a Contact as userID would in the UI (no client id).
func (o *Org) CreateAs(userID string, fields map[string]any) (string, error) {
	var id string
	var errs []*apiError
	now := o.srv.Now().Truncate(time.Second)
	o.withTx(context.Background(), func(t *tx) {
		id, errs = o.insertLocked(t, o.tables["contact"], o.sideActor(userID), writeInput(normalizeInput(fields)), now)
	})
	return id, joinErrs(errs)
}

// ModifyAsHuman updates a Contact as the org's human user would in the UI:
// LastModifiedDate and SystemModstamp move, LastModifiedById is the human,
// and the change history has no client id.
func (o *Org) ModifyAsHuman(id string, fields map[string]any) error {
	return o.ModifyAs(o.humanID, id, fields)
}

// ModifyAs updates a record (Contact, Lead or Account, by its id) as
// userID would in the UI.
func (o *Org) ModifyAs(userID, id string, fields map[string]any) error {
	var errs []*apiError
	now := o.srv.Now().Truncate(time.Second)
	o.withTx(context.Background(), func(t *tx) {
		errs = o.updateLocked(t, o.dataTableFor(id), o.sideActor(userID), id, writeInput(normalizeInput(fields)), now, "")
	})
	return joinErrs(errs)
}

// DeleteAsHuman moves a Contact to the Recycle Bin as the human user.
func (o *Org) DeleteAsHuman(id string) error {
	var err *apiError
	now := o.srv.Now().Truncate(time.Second)
	o.withTx(context.Background(), func(t *tx) {
		err = o.deleteLocked(t, o.dataTableFor(id), o.sideActor(o.humanID), id, now)
	})
	if err != nil {
		return err
	}
	return nil
}

// UndeleteAsHuman restores a Contact from the Recycle Bin as the human
// user does in the UI (an UNDELETE in the change history).
func (o *Org) UndeleteAsHuman(id string) error {
	now := o.srv.Now().Truncate(time.Second)
	var err error
	o.withTx(context.Background(), func(t *tx) {
		tb := o.dataTableFor(id)
		r, p, ok := tb.get(id)
		if !ok || !r.deleted() {
			err = errNoSuchRecord
			return
		}
		if errs := o.checkUnique(tb, map[int]any(fieldMap(r)), p); len(errs) > 0 {
			err = joinErrs(errs)
			return
		}
		o.applyLocked(t, tb, o.sideActor(o.humanID), p, map[int]any{}, now, "UNDELETE", true)
	})
	return err
}

func fieldMap(r *record) map[int]any {
	m := make(map[int]any, len(r.v))
	for _, p := range r.fields() {
		m[int(p.idx)] = p.v
	}
	return m
}

// TouchSystemModstamp moves only SystemModstamp, as an automated process
// (trigger, roll-up) does; LastModifiedDate stays.
func (o *Org) TouchSystemModstamp(id string) error {
	now := o.srv.Now().Truncate(time.Second)
	var err error
	o.withTx(context.Background(), func(t *tx) {
		tb := o.dataTableFor(id)
		r, p, ok := tb.get(id)
		if !ok || r.deleted() {
			err = errNoSuchRecord
			return
		}
		o.applyLocked(t, tb, actor{userID: o.adminID}, p, map[int]any{}, now, "UPDATE", false)
	})
	return err
}

// SetTimestamps overwrites a Contact's LastModifiedDate and SystemModstamp
// (zero values are left alone), to simulate late commits or old data.
func (o *Org) SetTimestamps(id string, lastModified, systemModstamp time.Time) error {
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.dataTableFor(id)
	r, p, ok := t.get(id)
	if !ok {
		return errNoSuchRecord
	}
	ch := map[int]any{}
	if !lastModified.IsZero() {
		ch[t.obj.modifiedIdx] = lastModified.UTC().Truncate(time.Millisecond)
	}
	if !systemModstamp.IsZero() {
		ch[t.obj.modstampIdx] = systemModstamp.UTC().Truncate(time.Millisecond)
	}
	t.set(p, r.with(ch))
	return nil
}

// dataTableFor returns the Contact, Lead or Account table by an id's key
// prefix (Contact's when none matches, so errors read as before). Locked.
func (o *Org) dataTableFor(id string) *table {
	for _, key := range dataObjects {
		t := o.tables[key]
		if len(id) >= 3 && strings.HasPrefix(id, t.obj.KeyPrefix) {
			return t
		}
	}
	return o.tables["contact"]
}

// CreateRecordAs creates a Contact, Lead or Account as userID would in the
// UI (no client id, no assignment rule; duplicate rules that block apply).
func (o *Org) CreateRecordAs(userID, object string, fields map[string]any) (string, error) {
	key := strings.ToLower(object)
	if !isDataObject(key) {
		return "", fmt.Errorf("cannot create %q records through the side door", object)
	}
	var id string
	var errs []*apiError
	now := o.srv.Now().Truncate(time.Second)
	o.withTx(context.Background(), func(t *tx) {
		id, errs = o.insertLocked(t, o.tables[key], o.sideActor(userID), writeInput(normalizeInput(fields)), now)
	})
	return id, joinErrs(errs)
}

// RecordIDs returns the ids of an object's records (live ones, plus
// Recycle Bin rows when withDeleted) in creation order.
func (o *Org) RecordIDs(object string, withDeleted bool) []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	t, ok := o.tables[strings.ToLower(object)]
	if !ok {
		return nil
	}
	var out []string
	for _, r := range t.recs {
		if r != nil && (withDeleted || !r.deleted()) {
			out = append(out, r.id)
		}
	}
	return out
}

// Record returns a record's fields (Go values: string, float64, bool,
// time.Time; nulls omitted) by id, including Recycle Bin rows.
func (o *Org) Record(id string) (map[string]any, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, t := range o.tables {
		if len(id) >= 3 && t.obj.KeyPrefix == id[:3] {
			r, _, ok := t.get(id)
			if !ok {
				return nil, false
			}
			return recordMap(t.obj, r), true
		}
	}
	return nil, false
}

func recordMap(obj *objectDef, r *record) map[string]any {
	m := make(map[string]any, len(r.v))
	for _, p := range r.fields() {
		m[obj.fields[p.idx].Name] = p.v
	}
	return m
}

// ContactIDs returns the ids of Contacts (live ones, plus Recycle Bin
// rows when withDeleted) in creation order.
func (o *Org) ContactIDs(withDeleted bool) []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []string
	for _, r := range o.tables["contact"].recs {
		if r != nil && (withDeleted || !r.deleted()) {
			out = append(out, r.id)
		}
	}
	return out
}

// ContactCount returns the number of live Contacts.
func (o *Org) ContactCount() int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	n := 0
	for _, r := range o.tables["contact"].recs {
		if r != nil && !r.deleted() {
			n++
		}
	}
	return n
}

// History returns the change history of one record (of all Contacts,
// Leads and Accounts when id is empty), oldest first.
func (o *Org) History(id string) []Change {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []Change
	for _, c := range o.changes {
		if id == "" || (len(id) >= 15 && c.RecordID[:15] == id[:15]) {
			out = append(out, c)
		}
	}
	return out
}

// EmptyRecycleBin hard-deletes every record in the Recycle Bin now.
func (o *Org) EmptyRecycleBin() int {
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	now := o.srv.Now().Unix()
	for _, key := range dataObjects {
		t := o.tables[key]
		for _, p := range t.bin {
			if r := t.recs[p]; r != nil && r.deleted() {
				o.hardDeleteLocked(t, p)
				n++
			}
		}
		t.bin = nil
	}
	if n > 0 {
		o.lastPurge = now
	}
	return n
}

// Reset deletes all Contacts, Leads and Accounts, their history, query
// cursors and Bulk jobs, and zeroes API usage. Users, apps, custom fields,
// record types and rules stay.
func (o *Org) Reset() {
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	for _, key := range dataObjects {
		o.tables[key] = newTable(o.tables[key].obj)
	}
	o.changes = nil
	o.jobs = map[string]*bulkJob{}
	o.jobOrder = nil
	o.ingest.reset()
	o.interned = map[string]any{}
	o.mu.Unlock()
	o.curMu.Lock()
	o.cursors = map[string]*cursor{}
	o.curMu.Unlock()
	o.SetAPIUsage(0)
}

// normalizeInput turns Go values from side-door callers into the JSON
// shapes prepare expects.
func normalizeInput(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		switch x := v.(type) {
		case time.Time:
			out[k] = x.UTC().Format("2006-01-02T15:04:05.000Z")
		case int:
			out[k] = float64(x)
		case int64:
			out[k] = float64(x)
		default:
			out[k] = v
		}
	}
	return out
}

func joinErrs(errs []*apiError) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
