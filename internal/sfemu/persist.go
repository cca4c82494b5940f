package sfemu

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The data file is JSON: orgs (options, users, permission sets, custom
// fields, Contacts with Recycle Bin state, API usage), connected apps and
// tokens, so a restarted emulator keeps its data and its sessions.

type savedServer struct {
	Version  int            `json:"version"`
	SavedAt  time.Time      `json:"savedAt"`
	Offset   time.Duration  `json:"clockOffset"`
	Apps     []ConnectedApp `json:"apps"`
	Orgs     []savedOrg     `json:"orgs"`
	Tokens   []savedToken   `json:"tokens"`
	Approved []string       `json:"approvals"`
}

type savedOrg struct {
	Seq          int               `json:"seq"`
	Name         string            `json:"name"`
	Edition      Edition           `json:"edition"`
	TimeZone     string            `json:"timeZone"`
	APIMax       int               `json:"apiMax"`
	APIUsed      int               `json:"apiUsed"`
	CustomFields []CustomField     `json:"customFields"`
	Users        []User            `json:"users"`
	PermSets     []PermissionSet   `json:"permissionSets"`
	Rules        []ValidationRule  `json:"validationRules"`
	Changes      []Change          `json:"changes"`
	Contacts     []map[string]any  `json:"contacts"`
	Deleted      map[string]int64  `json:"deleted"`
	Clients      map[string]string `json:"-"`
	// CDC is the Change Data Capture selection (cdc.go); the events
	// themselves are not saved, so replay IDs from before a restart fail
	// validation, as they do after an org migration.
	CDC *CDCSettings `json:"cdc,omitempty"`
	// Issue 16: Person Accounts, rules, record types, and the Lead and
	// Account records (by object) with the custom fields of each.
	PersonAccounts  bool                        `json:"personAccounts,omitempty"`
	DuplicateRules  DuplicateRules              `json:"duplicateRules"`
	AssignmentRules []AssignmentRule            `json:"assignmentRules,omitempty"`
	RecordTypes     []RecordType                `json:"recordTypes,omitempty"`
	ObjectFields    map[string][]CustomField    `json:"objectCustomFields,omitempty"`
	Records         map[string][]map[string]any `json:"records,omitempty"`
}

type savedToken struct {
	Value    string    `json:"value"`
	Refresh  bool      `json:"refresh"`
	OrgSeq   int       `json:"org"`
	UserID   string    `json:"userId"`
	ClientID string    `json:"clientId"`
	Scope    string    `json:"scope"`
	Issued   time.Time `json:"issued"`
	Expires  time.Time `json:"expires"`
	Parent   string    `json:"parent,omitempty"`
	Revoked  bool      `json:"revoked"`
}

// SetDataFile sets the file Save writes.
func (s *Server) SetDataFile(path string) {
	s.mu.Lock()
	s.dataFile = path
	s.mu.Unlock()
}

func customFieldsOf(obj *objectDef) []CustomField {
	out := []CustomField{}
	for _, f := range obj.fields {
		if f.Custom {
			out = append(out, CustomField{Name: f.Name, Label: f.Label, Type: f.Type, Length: f.Length, ExternalID: f.ExternalID,
				Unique: f.Unique, CaseSensitive: f.CaseSensitive, Required: !f.Nillable && f.Type != "boolean", Picklist: f.Picklist, Restricted: f.Restricted})
		}
	}
	return out
}

// Save writes the data file (see SetDataFile); it does nothing without one.
func (s *Server) Save() error {
	s.mu.Lock()
	path := s.dataFile
	s.mu.Unlock()
	if path == "" {
		return errors.New("no data file configured")
	}
	snap := savedServer{Version: 1, SavedAt: s.Now(), Apps: s.ConnectedApps()}
	s.clockMu.Lock()
	snap.Offset = s.offset
	s.clockMu.Unlock()
	s.mu.Lock()
	for k, ok := range s.approvals {
		if ok {
			snap.Approved = append(snap.Approved, k)
		}
	}
	for _, t := range s.tokens {
		st := savedToken{Value: t.value, Refresh: t.refresh, OrgSeq: t.org.seq, UserID: t.userID, Scope: t.scope,
			Issued: t.issued, Expires: t.expires, Revoked: t.revoked}
		if t.app != nil {
			st.ClientID = t.app.ClientID
		}
		if t.parent != nil {
			st.Parent = t.parent.value
		}
		snap.Tokens = append(snap.Tokens, st)
	}
	orgs := append([]*Org(nil), s.orgs...)
	s.mu.Unlock()
	for _, o := range orgs {
		used, max := o.APIUsage()
		o.mu.RLock()
		so := savedOrg{Seq: o.seq, Name: o.name, Edition: o.edition, TimeZone: o.tz, APIMax: max, APIUsed: used,
			Deleted: map[string]int64{}}
		t := o.tables["contact"]
		so.CustomFields = customFieldsOf(t.obj)
		for _, r := range o.rules {
			so.Rules = append(so.Rules, r.ValidationRule)
		}
		so.Changes = append([]Change(nil), o.changes...)
		if c := o.CDCSettings(); len(c.Entities) > 0 || c.GapEvents {
			so.CDC = &c
		}
		for _, u := range o.users {
			so.Users = append(so.Users, *u)
		}
		for _, ps := range o.permSets {
			if ps.ProfileName == "" {
				so.PermSets = append(so.PermSets, *ps)
			}
		}
		so.Contacts = savedRecords(t, so.Deleted)
		so.PersonAccounts, so.DuplicateRules = o.personAccounts, o.dupRules
		for _, r := range o.assignRules {
			so.AssignmentRules = append(so.AssignmentRules, r.AssignmentRule)
		}
		so.RecordTypes = o.recordTypesLocked("")
		so.ObjectFields = map[string][]CustomField{}
		so.Records = map[string][]map[string]any{}
		for _, key := range []string{"lead", "account"} {
			ot := o.tables[key]
			var own []CustomField
			for _, cf := range customFieldsOf(ot.obj) {
				if !strings.HasSuffix(cf.Name, "__pc") {
					own = append(own, cf)
				}
			}
			so.ObjectFields[ot.obj.Name] = own
			so.Records[ot.obj.Name] = savedRecords(ot, so.Deleted)
		}
		o.mu.RUnlock()
		snap.Orgs = append(snap.Orgs, so)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode data file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sfemu-*")
	if err != nil {
		return fmt.Errorf("save data file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("save data file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save data file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save data file: %w", err)
	}
	return nil
}

func savedRecords(t *table, deleted map[string]int64) []map[string]any {
	out := []map[string]any{}
	for _, r := range t.recs {
		if r == nil {
			continue
		}
		m := make(map[string]any, len(r.v))
		for _, p := range r.fields() {
			f := t.obj.fields[p.idx]
			if tm, ok := p.v.(time.Time); ok {
				if f.Type == "date" {
					m[f.Name] = tm.Format(sfDate)
				} else {
					m[f.Name] = tm.UTC().Format(time.RFC3339Nano)
				}
				continue
			}
			m[f.Name] = p.v
		}
		out = append(out, m)
		if r.deleted() {
			deleted[r.id] = r.deletedAt
		}
	}
	return out
}

// Load restores a server saved by Save into an empty server. It reports
// os.ErrNotExist (wrapped) when the file is missing.
func (s *Server) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load data file: %w", err)
	}
	var snap savedServer
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("load data file %s: %w", path, err)
	}
	if len(s.Orgs()) > 0 {
		return errors.New("load data file: the server already has orgs")
	}
	s.clockMu.Lock()
	s.offset = snap.Offset
	s.clockMu.Unlock()
	for _, app := range snap.Apps {
		if _, err := s.RegisterConnectedApp(ConnectedAppOptions(app)); err != nil {
			return fmt.Errorf("load data file: %w", err)
		}
	}
	bySeq := map[int]*Org{}
	for _, so := range snap.Orgs {
		if len(so.Users) < 2 {
			return fmt.Errorf("load data file: org %q has no admin", so.Name)
		}
		s.mu.Lock()
		s.orgSeq = so.Seq - 1
		s.mu.Unlock()
		admin := so.Users[0]
		o, err := s.CreateOrg(OrgOptions{Name: so.Name, Edition: so.Edition, APIAllocation: so.APIMax, CustomFields: so.CustomFields,
			AdminUsername: admin.Username, AdminPassword: admin.Password, TimeZone: so.TimeZone})
		if err != nil {
			return fmt.Errorf("load data file: %w", err)
		}
		bySeq[so.Seq] = o
		for _, ps := range so.PermSets {
			if _, err := o.CreatePermissionSet(ps.Name, ps.ModifyAllData, ps.CustomizeApplication); err != nil {
				return fmt.Errorf("load data file: %w", err)
			}
		}
		for _, u := range so.Users[2:] {
			if _, err := o.CreateUser(UserOptions{Username: u.Username, Password: u.Password, FirstName: u.FirstName, LastName: u.LastName,
				Email: u.Email, Profile: u.Profile, PermissionSets: u.PermissionSets, APIDisabled: !u.APIEnabled, Inactive: !u.Active}); err != nil {
				return fmt.Errorf("load data file: %w", err)
			}
		}
		for _, r := range so.Rules {
			if err := o.AddValidationRule(r); err != nil {
				return fmt.Errorf("load data file: %w", err)
			}
		}
		if err := o.restoreObjects(so); err != nil {
			return fmt.Errorf("load data file: %w", err)
		}
		if err := o.restoreRecords("contact", so.Contacts, so.Deleted); err != nil {
			return err
		}
		for _, key := range []string{"account", "lead"} {
			if err := o.restoreRecords(key, so.Records[o.objects[key].Name], so.Deleted); err != nil {
				return err
			}
		}
		o.mu.Lock()
		o.changes = so.Changes
		if n := len(so.Changes); n > 0 {
			o.changeSeq = so.Changes[n-1].Seq
		}
		o.mu.Unlock()
		o.SetAPIUsage(so.APIUsed)
		if so.CDC != nil { // after the contacts, so restoring them publishes nothing
			if err := o.SetCDCSettings(*so.CDC); err != nil {
				return fmt.Errorf("load data file: %w", err)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range snap.Approved {
		s.approvals[k] = true
	}
	byValue := map[string]*token{}
	for _, st := range snap.Tokens {
		o := bySeq[st.OrgSeq]
		if o == nil {
			continue
		}
		t := &token{value: st.Value, refresh: st.Refresh, org: o, userID: st.UserID, app: s.apps[st.ClientID], scope: st.Scope,
			issued: st.Issued, expires: st.Expires, revoked: st.Revoked}
		s.tokens[t.value] = t
		byValue[t.value] = t
	}
	for _, st := range snap.Tokens {
		if t := byValue[st.Value]; t != nil && st.Parent != "" {
			t.parent = byValue[st.Parent]
		}
	}
	return nil
}

// restoreObjects brings back the org's settings and the shape of Lead and
// Account before their records.
func (o *Org) restoreObjects(so savedOrg) error {
	for _, rt := range so.RecordTypes { // before Person Accounts, which then keep their ids
		if _, err := o.addRecordType(rt.Object, rt.DeveloperName, rt.Name, rt.Person, rt.ID); err != nil {
			return err
		}
	}
	if so.PersonAccounts {
		o.EnablePersonAccounts()
	}
	if err := o.SetDuplicateRules(so.DuplicateRules); err != nil {
		return err
	}
	for obj, fields := range so.ObjectFields {
		for _, cf := range fields {
			if _, exists := o.object(obj); !exists {
				return fmt.Errorf("unknown object %s", obj)
			}
			if ob, _ := o.object(obj); ob != nil {
				if _, has := ob.field(cf.Name); has {
					continue
				}
			}
			if err := o.AddCustomFieldTo(obj, cf); err != nil {
				return err
			}
		}
	}
	for _, r := range so.AssignmentRules {
		if _, err := o.addLeadAssignmentRule(r.Name, r.Owners, r.Active, r.ID); err != nil {
			return err
		}
	}
	return nil
}

func (o *Org) restoreRecords(key string, rows []map[string]any, deleted map[string]int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tables[key]
	for _, m := range rows {
		ch := map[int]any{}
		var id string
		for name, raw := range m {
			f, ok := t.obj.field(name)
			if !ok {
				return fmt.Errorf("load data file: unknown %s field %s", t.obj.Name, name)
			}
			var v any
			switch x := raw.(type) {
			case string:
				switch f.Type {
				case "date":
					tm, err := time.Parse(sfDate, x)
					if err != nil {
						return fmt.Errorf("load data file: %s: %w", name, err)
					}
					v = tm
				case "datetime":
					tm, err := time.Parse(time.RFC3339Nano, x)
					if err != nil {
						return fmt.Errorf("load data file: %s: %w", name, err)
					}
					v = tm.UTC()
				case "picklist", "reference":
					v = o.intern(x)
				default:
					v = x
				}
			default:
				v = x
			}
			ch[f.index] = v
			if f.index == t.obj.idIdx {
				id, _ = v.(string)
			}
		}
		if len(id) != 18 {
			return fmt.Errorf("load data file: a %s has no id", t.obj.Name)
		}
		r := newRecord(id, ch)
		r.deletedAt = deleted[id]
		p := t.add(r)
		if r.deleted() {
			t.bin = append(t.bin, p)
		} else {
			for i, ix := range t.uniq {
				if v := r.Value(i); v != nil {
					ix[uniqKey(t.obj.fields[i], v)] = p
				}
			}
		}
		if seq := decodeSeq(id); seq > t.seq {
			t.seq = seq
		}
	}
	slices.SortFunc(t.bin, func(a, b int32) int { return cmp.Compare(t.recs[a].deletedAt, t.recs[b].deletedAt) })
	return nil
}

// decodeSeq reads the sequence number makeID put in characters 5..14.
func decodeSeq(id string) int64 {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var n int64
	for i := 5; i < 15; i++ {
		n = n*62 + int64(strings.IndexByte(alphabet, id[i]))
	}
	return n
}

// fingerprint changes whenever data worth saving changes (records, users,
// fields, tokens); API usage alone does not count.
func (s *Server) fingerprint() string {
	s.mu.Lock()
	fp := fmt.Sprintf("t%d/o%d", len(s.tokens), len(s.orgs))
	orgs := append([]*Org(nil), s.orgs...)
	s.mu.Unlock()
	for _, o := range orgs {
		o.mu.RLock()
		n := 0
		for _, key := range dataObjects {
			n += len(o.tables[key].recs)
		}
		fp += fmt.Sprintf("|%d/%d/%d/%d/%d/%d/%d/%v", o.changeSeq, n, len(o.users), o.schemaAt.Unix(), o.lastPurge, len(o.tables["recordtype"].recs),
			len(o.assignRules), o.dupRules)
		o.mu.RUnlock()
	}
	return fp
}
