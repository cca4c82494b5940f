package sfemu

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// fv is one stored (field index, value) pair. Values are pre-boxed so
// soql.Record.Value hands them out without allocating: string, float64,
// bool or time.Time (UTC; dates at midnight).
type fv struct {
	idx uint16
	v   any
}

// record is one immutable version of a row. Writes replace the pointer in
// the table (copy on write), so a query snapshot keeps the versions it saw
// without locks or copies. The field indexes and the values are kept
// apart: records of the same shape (set of non-null fields) may share
// one index slice, and the values pack without padding, which saves about
// 130 bytes a seeded Contact (fv, interleaved, is 24 bytes a field).
//
// The indexes are held through a pointer (8 bytes rather than a 24-byte
// slice header), so the record struct is 56 bytes, a 64-byte allocation
// rather than an 80-byte one: 16 MB less for a million seeded contacts.
type record struct {
	id        string    // 18 characters
	sh        *[]uint16 // field indexes, sorted; null fields are absent; shared, never written
	v         []any     // v[k] is the value of field (*sh)[k]
	deletedAt int64     // unix seconds when in the Recycle Bin, else 0
}

// keys returns the indexes of the record's non-null fields, in order.
func (r *record) keys() []uint16 { return *r.sh }

// Value implements soql.Record.
func (r *record) Value(i int) any {
	f := *r.sh
	lo, hi := 0, len(f)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(f[m]) < i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(f) && int(f[lo]) == i {
		return r.v[lo]
	}
	return nil
}

// fields returns the record's (index, value) pairs in index order.
func (r *record) fields() []fv {
	out := make([]fv, len(r.v))
	for k, i := range r.keys() {
		out[k] = fv{i, r.v[k]}
	}
	return out
}

func (r *record) deleted() bool { return r.deletedAt != 0 }

// with returns a new version with changes applied (nil deletes a value).
func (r *record) with(changes map[int]any) *record {
	f := make([]fv, 0, len(r.v)+len(changes))
	for k, i := range r.keys() {
		if v, ok := changes[int(i)]; ok {
			if v != nil {
				f = append(f, fv{i, v})
			}
			continue
		}
		f = append(f, fv{i, r.v[k]})
	}
	for i, v := range changes {
		if v != nil && r.Value(i) == nil {
			f = append(f, fv{uint16(i), v})
		}
	}
	n := recordOf(r.id, f, nil)
	n.deletedAt = r.deletedAt
	return n
}

func newRecord(id string, vals map[int]any) *record {
	f := make([]fv, 0, len(vals))
	for i, v := range vals {
		if v != nil {
			f = append(f, fv{uint16(i), v})
		}
	}
	return recordOf(id, f, nil)
}

// recordOf builds a record from pairs, which it sorts in place. With
// shapes, records of one set of fields share their idx slice.
func recordOf(id string, f []fv, shapes *shapeSet) *record {
	slices.SortFunc(f, func(a, b fv) int { return int(a.idx) - int(b.idx) })
	r := &record{id: id, v: make([]any, len(f))}
	for k, p := range f {
		r.v[k] = p.v
	}
	if shapes != nil {
		r.sh = shapes.intern(f)
		return r
	}
	idx := make([]uint16, len(f))
	for k, p := range f {
		idx[k] = p.idx
	}
	r.sh = &idx
	return r
}

// shapeSet interns the index slices of records.
type shapeSet struct {
	m   map[string]*[]uint16
	key []byte
}

func (s *shapeSet) intern(f []fv) *[]uint16 {
	s.key = s.key[:0]
	for _, p := range f {
		s.key = append(s.key, byte(p.idx), byte(p.idx>>8))
	}
	if got, ok := s.m[string(s.key)]; ok {
		return got
	}
	if s.m == nil {
		s.m = map[string]*[]uint16{}
	}
	idx := make([]uint16, len(f))
	for k, p := range f {
		idx[k] = p.idx
	}
	s.m[string(s.key)] = &idx
	return &idx
}

// table holds the rows of one sObject in one org.
type table struct {
	obj  *objectDef
	recs []*record // creation (= Id) order; nil once hard-deleted
	gone []bool    // per recs entry: in the Recycle Bin or hard-deleted (scanned without touching records)
	// stamps holds each row's SystemModstamp in Unix nanoseconds, so
	// `SystemModstamp > t` filters scan a flat array first.
	stamps []int64
	pos    map[string]int32 // 15-char id → index in recs
	uniq   map[int]map[string]int32
	bin    []int32 // positions of Recycle Bin rows in deletion order
	seq    int64
}

func newTable(obj *objectDef) *table {
	t := &table{obj: obj, pos: map[string]int32{}, uniq: map[int]map[string]int32{}}
	for _, f := range obj.fields {
		if f.Unique {
			t.uniq[f.index] = map[string]int32{}
		}
	}
	return t
}

// add appends a row and returns its position.
func (t *table) add(r *record) int32 {
	p := int32(len(t.recs))
	t.recs = append(t.recs, r)
	t.gone = append(t.gone, r.deleted())
	t.stamps = append(t.stamps, t.stamp(r))
	t.pos[r.id[:15]] = p
	return p
}

// reserve makes room for n more rows, so a large seed or load does not
// grow the slices and rehash the maps step by step.
func (t *table) reserve(n int) {
	t.recs = slices.Grow(t.recs, n)
	t.gone = slices.Grow(t.gone, n)
	t.stamps = slices.Grow(t.stamps, n)
	if n < 1024 {
		return
	}
	grow := func(m map[string]int32) map[string]int32 {
		g := make(map[string]int32, len(m)+n)
		for k, v := range m {
			g[k] = v
		}
		return g
	}
	t.pos = grow(t.pos)
	for i, ix := range t.uniq {
		t.uniq[i] = grow(ix)
	}
}

// set replaces the row at p with a new version.
func (t *table) set(p int32, r *record) {
	t.recs[p] = r
	t.gone[p] = r.deleted()
	t.stamps[p] = t.stamp(r)
}

func (t *table) stamp(r *record) int64 {
	if t.obj.modstampIdx >= 0 {
		if ts, ok := r.Value(t.obj.modstampIdx).(time.Time); ok {
			return ts.UnixNano()
		}
	}
	return math.MinInt64
}

func (t *table) get(id string) (*record, int32, bool) {
	if len(id) < 15 {
		return nil, 0, false
	}
	p, ok := t.pos[id[:15]]
	if !ok || t.recs[p] == nil {
		return nil, 0, false
	}
	return t.recs[p], p, true
}

func uniqKey(f *fieldDef, v any) string {
	switch x := v.(type) {
	case string:
		if f.CaseSensitive {
			return x
		}
		return strings.ToLower(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// apiError is a Salesforce error: errorCode (statusCode inside
// SaveResults), message, and fields (absent when noFields).
type apiError struct {
	Status   int
	Code     string
	Message  string
	Fields   []string
	noFields bool
	dup      *duplicateInfo // DUPLICATES_DETECTED details (duplicates.go)
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func fieldErr(code, msg string, fields ...string) *apiError {
	if fields == nil {
		fields = []string{}
	}
	return &apiError{Status: 400, Code: code, Message: msg, Fields: fields}
}

func plainErr(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg, noFields: true}
}

func errNotFound() *apiError {
	return plainErr(404, "NOT_FOUND", "The requested resource does not exist")
}

// actor is who makes a write: the user, and for API writes the API name,
// version and the Sforce-Call-Options client.
type actor struct {
	userID  string
	api     string // "rest", "bulkapi"; "" for a human in the UI
	version string
	client  string
	// assign is the Sforce-Auto-Assign header as sent ("" when absent:
	// REST applies the active assignment rule, a UI edit does not).
	assign string
	// allowDupSave is Sforce-Duplicate-Rule-Header: allowSave=true.
	allowDupSave bool
}

func (a actor) origin() string {
	if a.api == "" {
		return ""
	}
	s := "com/salesforce/api/" + a.api + "/" + a.version
	if a.client != "" {
		s += ";client=" + a.client
	}
	return s
}

// Change is one entry of an org's change history: what a write did, who
// made it and through which client (for Change Data Capture's changeOrigin).
type Change struct {
	Seq           int64
	Type          string // CREATE, UPDATE, DELETE, UNDELETE
	Object        string
	RecordID      string
	At            time.Time
	UserID        string
	Client        string // Sforce-Call-Options client=; "" for human and side-door edits
	Origin        string // changeOrigin: "com/salesforce/api/rest/62.0;client=sfsync", "" for UI edits
	ChangedFields []string
	NulledFields  []string
}

// tx collects undo steps so a failed all-or-none operation can roll back.
type tx struct {
	undo []func()
	cdc  []*pendingChange // change events published on commit (cdc.go)
}

func (t *tx) onUndo(f func()) { t.undo = append(t.undo, f) }

func (t *tx) rollback() { t.rollbackTo(0) }

// rollbackTo undoes the steps after mark (a len(t.undo) taken earlier), so
// an operation inside a composite transaction undoes only its own work.
func (t *tx) rollbackTo(mark int) {
	for i := len(t.undo) - 1; i >= mark; i-- {
		t.undo[i]()
	}
	t.undo = t.undo[:mark]
}

type txKey struct{}

type ctxTx struct {
	org *Org
	tx  *tx
}

// withTx runs fn under the org's write lock. Inside a composite request
// (which already holds txMu) it joins the composite's transaction.
func (o *Org) withTx(ctx context.Context, fn func(t *tx)) {
	if ct, ok := ctx.Value(txKey{}).(*ctxTx); ok && ct.org == o {
		o.mu.Lock()
		defer o.mu.Unlock()
		fn(ct.tx)
		return
	}
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	t := &tx{}
	fn(t)
	o.publishLocked(t)
}

var emailRE = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)

func isStringType(t string) bool {
	switch t {
	case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring":
		return true
	}
	return false
}

// convert turns a decoded JSON value into the stored form of f, checking
// type, length, e-mail format and restricted picklists.
func (o *Org) convert(f *fieldDef, raw any) (any, *apiError) {
	if raw == nil {
		return nil, nil
	}
	parseErr := func() *apiError {
		return plainErr(400, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of %s from %s value %v or request may be missing a required field", f.Type, jsonKind(raw), raw))
	}
	switch {
	case isStringType(f.Type):
		var s string
		switch x := raw.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		default:
			return nil, parseErr()
		}
		if s == "" {
			return nil, nil
		}
		if f.Type == "email" && !emailRE.MatchString(s) {
			return nil, fieldErr("INVALID_EMAIL_ADDRESS", f.Label+": invalid email address: "+s, f.Name)
		}
		if f.Length > 0 && utf8.RuneCountInString(s) > f.Length {
			return nil, fieldErr("STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), f.Name)
		}
		if f.Type == "picklist" && f.Restricted && !slices.Contains(f.Picklist, s) {
			return nil, fieldErr("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f.Label+": bad value for restricted picklist field: "+s, f.Name)
		}
		if f.Type == "picklist" || f.Type == "multipicklist" {
			return o.intern(s), nil
		}
		return s, nil
	case f.Type == "id" || f.Type == "reference":
		s, ok := raw.(string)
		if !ok {
			return nil, parseErr()
		}
		if s == "" {
			return nil, nil
		}
		id, err := sfapi.ID18(s)
		if err != nil {
			return nil, fieldErr("MALFORMED_ID", f.Label+": id value of incorrect type: "+s, f.Name)
		}
		return o.intern(id), nil
	case f.Type == "boolean":
		b, ok := raw.(bool)
		if !ok {
			return nil, parseErr()
		}
		return b, nil
	case f.Type == "double" || f.Type == "currency" || f.Type == "percent" || f.Type == "int" || f.Type == "long":
		var n float64
		var err error
		switch x := raw.(type) {
		case json.Number:
			n, err = x.Float64()
		case string:
			if x == "" {
				return nil, nil
			}
			n, err = strconv.ParseFloat(x, 64)
		case float64:
			n = x
		default:
			return nil, parseErr()
		}
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, parseErr()
		}
		return n, nil
	case f.Type == "date":
		s, ok := raw.(string)
		if !ok {
			return nil, parseErr()
		}
		if s == "" {
			return nil, nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, parseErr()
		}
		return t, nil
	case f.Type == "datetime":
		s, ok := raw.(string)
		if !ok {
			return nil, parseErr()
		}
		if s == "" {
			return nil, nil
		}
		t, err := parseDateTime(s)
		if err != nil {
			return nil, parseErr()
		}
		return t.Truncate(time.Millisecond), nil
	}
	return nil, fieldErr("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+f.Name+". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", f.Name)
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case json.Number, float64:
		return "VALUE_NUMBER_INT"
	case bool:
		return "VALUE_TRUE"
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	}
	return "VALUE_NULL"
}

var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05", "2006-01-02",
}

func parseDateTime(s string) (time.Time, error) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid datetime %q", s)
}

// intern boxes low-cardinality strings (picklist values, user ids) once
// per org, so a million rows share one copy.
func (o *Org) intern(s string) any {
	if v, ok := o.interned[s]; ok {
		return v
	}
	if len(o.interned) > 100000 {
		return s
	}
	var v any = s
	o.interned[s] = v
	return v
}

// writeInput is a decoded record body: field name (as sent) → JSON value.
type writeInput map[string]any

// prepare validates a body against obj and returns the changes by field
// index. existing is nil for a create. Every problem found is returned.
func (o *Org) prepare(obj *objectDef, in writeInput, existing *record, skip string) (map[int]any, []*apiError) {
	changes := map[int]any{}
	var errs []*apiError
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	slices.Sort(names)
	var bad []string
	for _, name := range names {
		if name == "attributes" || strings.EqualFold(name, skip) {
			continue
		}
		f, ok := obj.field(name)
		if !ok || f.Hidden {
			errs = append(errs, plainErr(400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", name, obj.Name)))
			continue
		}
		if (existing == nil && !f.Createable) || (existing != nil && !f.Updateable) {
			bad = append(bad, f.Name)
			continue
		}
		v, e := o.convert(f, in[name])
		if e != nil {
			errs = append(errs, e)
			continue
		}
		if v == nil && f.Type == "boolean" {
			v = false // a checkbox is never null
		}
		changes[f.index] = v
	}
	if len(bad) > 0 {
		errs = append(errs, fieldErr("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+strings.Join(bad, ", ")+". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", bad...))
	}
	var missing []string
	for _, f := range obj.fields {
		if f.Nillable || f.Hidden || f.Type == "boolean" {
			continue
		}
		v, set := changes[f.index]
		switch {
		case existing == nil && f.Createable && !f.DefaultedOnCreate && v == nil:
			missing = append(missing, f.Name)
		case existing != nil && f.Updateable && set && v == nil:
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fieldErr("REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...))
	}
	return changes, errs
}

// checkRefs validates reference values against the org's data. Locked.
func (o *Org) checkRefs(obj *objectDef, changes map[int]any) []*apiError {
	var errs []*apiError
	for i, v := range changes {
		f := obj.fields[i]
		if f.Type != "reference" || v == nil {
			continue
		}
		id := v.(string)
		target := f.ReferenceTo[0]
		switch target {
		case "User":
			u, ok := o.userByID(id)
			if !ok {
				errs = append(errs, fieldErr("INVALID_CROSS_REFERENCE_KEY", f.Label+": id value of incorrect type: "+id, f.Name))
			} else if !u.Active {
				errs = append(errs, fieldErr("INACTIVE_OWNER_OR_USER", "owner or user is inactive.", f.Name))
			}
		case ObjAccount:
			if !strings.HasPrefix(id, "001") {
				errs = append(errs, fieldErr("FIELD_INTEGRITY_EXCEPTION", f.Label+": id value of incorrect type: "+id, f.Name))
			} else if r, _, ok := o.tables["account"].get(id); !ok || r.deleted() {
				errs = append(errs, fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"))
			}
		case ObjContact, ObjLead:
			t := o.tables[strings.ToLower(target)]
			if r, _, ok := t.get(id); !ok || r.deleted() {
				errs = append(errs, fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"))
			}
		case "RecordType":
			if !o.recordTypeValidLocked(obj.Name, id) {
				errs = append(errs, fieldErr("INVALID_CROSS_REFERENCE_KEY", "Record Type ID: this ID value isn't valid for the user: "+id, f.Name))
			}
		default:
			prefix := map[string]string{"Individual": "0PK"}[target]
			if prefix != "" && !strings.HasPrefix(id, prefix) {
				errs = append(errs, fieldErr("FIELD_INTEGRITY_EXCEPTION", f.Label+": id value of incorrect type: "+id, f.Name))
			}
		}
	}
	return errs
}

// checkUnique reports DUPLICATE_VALUE for unique fields. Locked.
func (o *Org) checkUnique(t *table, changes map[int]any, self int32) []*apiError {
	var errs []*apiError
	for i, idx := range t.uniq {
		v, ok := changes[i]
		if !ok || v == nil {
			continue
		}
		if p, dup := idx[uniqKey(t.obj.fields[i], v)]; dup && p != self {
			errs = append(errs, fieldErr("DUPLICATE_VALUE", fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", t.obj.fields[i].Name, t.recs[p].id)))
		}
	}
	return errs
}

func (o *Org) derive(obj *objectDef, r *record, changes map[int]any) {
	if obj.Name == ObjContact || obj.Name == "User" || obj.Name == ObjLead || obj.Name == ObjAccount && isPersonRecord(obj, r, changes) {
		fi, _ := obj.field("FirstName")
		li, _ := obj.field("LastName")
		_, f1 := changes[fi.index]
		_, l1 := changes[li.index]
		if f1 || l1 || r == nil {
			first, last := "", ""
			if v, ok := changes[fi.index]; ok {
				first, _ = v.(string)
			} else if r != nil {
				first, _ = r.Value(fi.index).(string)
			}
			if v, ok := changes[li.index]; ok {
				last, _ = v.(string)
			} else if r != nil {
				last, _ = r.Value(li.index).(string)
			}
			name := strings.TrimSpace(first + " " + last)
			if name == "" {
				changes[obj.nameIdx] = nil
			} else {
				changes[obj.nameIdx] = name
			}
		}
	}
}

func (o *Org) nextID(t *table) string {
	t.seq++
	return makeID(t.obj.KeyPrefix, o.seq, t.seq)
}

// insertLocked creates a record. Locked (o.mu held for writing).
func (o *Org) insertLocked(tx *tx, t *table, a actor, in writeInput, now time.Time) (string, []*apiError) {
	changes, errs := o.prepare(t.obj, in, nil, "")
	if len(errs) > 0 {
		return "", errs
	}
	if errs := o.checkObjectLocked(t, nil, changes); len(errs) > 0 {
		return "", errs
	}
	if t.obj.ownerIdx >= 0 && changes[t.obj.ownerIdx] == nil {
		changes[t.obj.ownerIdx] = o.intern(a.userID)
	}
	if e := o.applyAssignmentLocked(t.obj, a, changes); e != nil {
		return "", []*apiError{e}
	}
	if errs := append(o.checkRefs(t.obj, changes), o.checkUnique(t, changes, -1)...); len(errs) > 0 {
		return "", errs
	}
	if errs := o.checkPersonUniqueLocked(t, nil, changes); len(errs) > 0 {
		return "", errs
	}
	if errs := o.checkRules(t.obj, nil, changes); len(errs) > 0 {
		return "", errs
	}
	for _, f := range t.obj.fields {
		if f.DefaultValue != nil && changes[f.index] == nil {
			changes[f.index] = f.DefaultValue
		}
	}
	if e := o.checkDuplicatesLocked(t, a, nil, changes); e != nil {
		return "", []*apiError{e}
	}
	if o.isPersonAccountChange(t, nil, changes) {
		return o.insertPersonAccountLocked(tx, t, a, changes, now), nil
	}
	return o.insertChangesLocked(tx, t, a, changes, now), nil
}

// insertChangesLocked stores validated changes as a new record and logs it.
func (o *Org) insertChangesLocked(tx *tx, t *table, a actor, changes map[int]any, now time.Time) string {
	obj := t.obj
	id := o.nextID(t)
	o.derive(obj, nil, changes)
	var ts any = now
	user := o.intern(a.userID)
	changes[obj.idIdx] = id
	for _, i := range []int{obj.createdIdx, obj.modifiedIdx, obj.modstampIdx} {
		if i >= 0 {
			changes[i] = ts
		}
	}
	for _, i := range []int{obj.createdByIdx, obj.modifiedByIdx} {
		if i >= 0 {
			changes[i] = user
		}
	}
	if obj.isDeletedIdx >= 0 {
		changes[obj.isDeletedIdx] = false
	}
	if f, ok := obj.field("IsEmailBounced"); ok && changes[f.index] == nil {
		changes[f.index] = false
	}
	r := newRecord(id, changes)
	p := t.add(r)
	for i, idx := range t.uniq {
		if v := r.Value(i); v != nil {
			idx[uniqKey(obj.fields[i], v)] = p
		}
	}
	o.logChange(tx, a, "CREATE", obj, id, now, fieldNames(obj, changes), nil)
	tx.onUndo(func() {
		for i, idx := range t.uniq {
			if v := r.Value(i); v != nil {
				delete(idx, uniqKey(obj.fields[i], v))
			}
		}
		delete(t.pos, id[:15])
		t.recs = t.recs[:p]
		t.gone = t.gone[:p]
		t.stamps = t.stamps[:p]
		t.seq--
	})
	return id
}

// updateLocked applies a partial update. Locked.
func (o *Org) updateLocked(tx *tx, t *table, a actor, id string, in writeInput, now time.Time, skip string) []*apiError {
	r, p, ok := t.get(id)
	if !ok {
		return []*apiError{errNotFound()}
	}
	if r.deleted() {
		return []*apiError{{Status: 404, Code: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}}
	}
	if e := o.checkWritableLocked(t, r); e != nil {
		return []*apiError{e}
	}
	changes, errs := o.prepare(t.obj, in, r, skip)
	if len(errs) > 0 {
		return errs
	}
	if errs := o.checkObjectLocked(t, r, changes); len(errs) > 0 {
		return errs
	}
	if e := o.applyAssignmentLocked(t.obj, a, changes); e != nil {
		return []*apiError{e}
	}
	if errs := append(o.checkRefs(t.obj, changes), o.checkUnique(t, changes, p)...); len(errs) > 0 {
		return errs
	}
	if errs := o.checkPersonUniqueLocked(t, r, changes); len(errs) > 0 {
		return errs
	}
	if errs := o.checkRules(t.obj, r, changes); len(errs) > 0 {
		return errs
	}
	o.applyLocked(tx, t, a, p, changes, now, "UPDATE", true)
	return nil
}

// applyLocked stores a new version of the record at p with changes plus
// the audit fields, keeps indexes current and logs the change.
func (o *Org) applyLocked(tx *tx, t *table, a actor, p int32, changes map[int]any, now time.Time, kind string, userEdit bool) {
	obj := t.obj
	old := t.recs[p]
	var changed, nulled []string
	for i, v := range changes {
		if !equalValue(old.Value(i), v) {
			changed = append(changed, obj.fields[i].Name)
			if v == nil {
				nulled = append(nulled, obj.fields[i].Name)
			}
		}
	}
	o.derive(obj, old, changes)
	var ts any = now
	if userEdit {
		if obj.modifiedIdx >= 0 {
			changes[obj.modifiedIdx] = ts
		}
		if obj.modifiedByIdx >= 0 {
			changes[obj.modifiedByIdx] = o.intern(a.userID)
		}
	}
	if obj.modstampIdx >= 0 {
		changes[obj.modstampIdx] = ts
	}
	n := old.with(changes)
	switch kind {
	case "DELETE":
		n.deletedAt = now.Unix()
		if obj.isDeletedIdx >= 0 {
			n = n.with(map[int]any{obj.isDeletedIdx: true})
		}
	case "UNDELETE":
		n.deletedAt = 0
		if obj.isDeletedIdx >= 0 {
			n = n.with(map[int]any{obj.isDeletedIdx: false})
		}
	}
	t.set(p, n)
	type idxUndo struct {
		i       int
		oldK    string
		hadOld  bool
		newK    string
		prevNew int32
		hadNew  bool
	}
	var undos []idxUndo
	for i, idx := range t.uniq {
		f := obj.fields[i]
		ov, nv := old.Value(i), n.Value(i)
		switch kind {
		case "DELETE":
			nv = nil
		case "UNDELETE":
			ov = nil
		}
		if equalValue(ov, nv) {
			continue
		}
		u := idxUndo{i: i}
		if ov != nil {
			u.oldK, u.hadOld = uniqKey(f, ov), true
			delete(idx, u.oldK)
		}
		if nv != nil {
			u.newK = uniqKey(f, nv)
			u.prevNew, u.hadNew = idx[u.newK]
			idx[u.newK] = p
		}
		undos = append(undos, u)
	}
	if kind == "DELETE" {
		t.bin = append(t.bin, p)
	}
	if kind == "DELETE" || kind == "UNDELETE" {
		changed = nil
	}
	if len(changed) > 0 && obj.modifiedIdx >= 0 && userEdit {
		changed = append(changed, "LastModifiedDate")
	}
	o.logChange(tx, a, kind, obj, old.id, now, changed, nulled)
	o.mirrorPersonContactLocked(tx, t, a, old, n, changes, now, kind)
	tx.onUndo(func() {
		for _, u := range undos {
			idx := t.uniq[u.i]
			if u.newK != "" {
				if u.hadNew {
					idx[u.newK] = u.prevNew
				} else {
					delete(idx, u.newK)
				}
			}
			if u.hadOld {
				idx[u.oldK] = p
			}
		}
		if kind == "DELETE" {
			t.bin = t.bin[:len(t.bin)-1]
		}
		t.set(p, old)
	})
}

// deleteLocked moves a record to the Recycle Bin. Locked.
func (o *Org) deleteLocked(tx *tx, t *table, a actor, id string, now time.Time) *apiError {
	r, p, ok := t.get(id)
	if !ok {
		return errNotFound()
	}
	if r.deleted() {
		return &apiError{Status: 404, Code: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}
	}
	if t.obj.Name == ObjContact && isPersonRecord(t.obj, r, nil) {
		// Not documented; the person account is what a user deletes.
		return fieldErr("INVALID_OPERATION", "This contact belongs to a person account: delete the person account instead")
	}
	o.applyLocked(tx, t, a, p, map[int]any{}, now, "DELETE", true)
	return nil
}

func (o *Org) logChange(tx *tx, a actor, kind string, obj *objectDef, id string, now time.Time, changed, nulled []string) {
	if !obj.Tracked {
		return
	}
	slices.Sort(changed)
	slices.Sort(nulled)
	o.changeSeq++
	o.changes = append(o.changes, Change{
		Seq: o.changeSeq, Type: kind, Object: obj.Name, RecordID: id, At: now, UserID: a.userID,
		Client: a.client, Origin: a.origin(), ChangedFields: changed, NulledFields: nulled,
	})
	n := len(o.changes)
	tx.onUndo(func() {
		o.changes = o.changes[:n-1]
		o.changeSeq--
	})
	o.captureLocked(tx, a, kind, obj, id, now, changed, nulled)
}

// purgeLocked hard-deletes Recycle Bin rows older than 15 days.
func (o *Org) purgeLocked(now time.Time) {
	horizon := now.Add(-recycleBinRetention).Unix()
	for _, t := range o.tables {
		n := 0
		for _, p := range t.bin {
			r := t.recs[p]
			if r == nil || !r.deleted() {
				n++
				continue
			}
			if r.deletedAt > horizon {
				break
			}
			o.hardDeleteLocked(t, p)
			n++
		}
		t.bin = t.bin[n:]
	}
}

func (o *Org) hardDeleteLocked(t *table, p int32) {
	r := t.recs[p]
	if r == nil {
		return
	}
	delete(t.pos, r.id[:15])
	t.recs[p] = nil
	t.gone[p] = true
	if r.deletedAt > o.lastPurge {
		o.lastPurge = r.deletedAt
	}
}

const recycleBinRetention = 15 * 24 * time.Hour

func fieldNames(obj *objectDef, changes map[int]any) []string {
	var out []string
	for i, v := range changes {
		if v != nil {
			out = append(out, obj.fields[i].Name)
		}
	}
	return out
}

func equalValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}
