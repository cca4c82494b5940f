package sfemu

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Change Data Capture: every committed write to a selected object becomes
// a change event (an Avro record with a ChangeEventHeader, research §6.3),
// kept per org for 72 hours and numbered by replay ID. The Pub/Sub gRPC
// service (package sfemu/pubsub) serves them.

// ChangeEventRetention is how long an org keeps its change events.
const ChangeEventRetention = 72 * time.Hour

// ChangeType is a change event's ChangeEventHeader.changeType.
type ChangeType string

// Change types, in the order of the Avro enum's symbols.
const (
	ChangeCreate      ChangeType = "CREATE"
	ChangeUpdate      ChangeType = "UPDATE"
	ChangeDelete      ChangeType = "DELETE"
	ChangeUndelete    ChangeType = "UNDELETE"
	ChangeGapCreate   ChangeType = "GAP_CREATE"
	ChangeGapUpdate   ChangeType = "GAP_UPDATE"
	ChangeGapDelete   ChangeType = "GAP_DELETE"
	ChangeGapUndelete ChangeType = "GAP_UNDELETE"
	ChangeGapOverflow ChangeType = "GAP_OVERFLOW"
	ChangeSnapshot    ChangeType = "SNAPSHOT"
)

var changeTypeSymbols = []ChangeType{ChangeCreate, ChangeUpdate, ChangeDelete, ChangeUndelete, ChangeGapCreate,
	ChangeGapUpdate, ChangeGapDelete, ChangeGapUndelete, ChangeGapOverflow, ChangeSnapshot}

// ChangeEvent is one published change event.
type ChangeEvent struct {
	ReplayID int64      `json:"replayId"`
	EventID  string     `json:"eventId"` // ProducerEvent.id (a UUID)
	Entity   string     `json:"entityName"`
	Type     ChangeType `json:"changeType"`
	SchemaID string     `json:"schemaId"`
	Payload  []byte     `json:"-"` // Avro binary, no container header
	At       time.Time  `json:"commitTimestamp"`
	// A copy of some header fields, for the side door's listing.
	RecordIDs      []string `json:"recordIds"`
	Origin         string   `json:"changeOrigin"`
	TransactionKey string   `json:"transactionKey"`
}

// CDCSettings are an org's Change Data Capture settings (Setup → Change
// Data Capture) and the emulator's fault switches for it.
type CDCSettings struct {
	// Entities are the selected objects ("Contact"); only they publish.
	Entities []string `json:"entities"`
	// GapEvents turns every change into a header-only GAP_* event, as
	// Salesforce sends when it cannot capture a change in detail.
	GapEvents bool `json:"gapEvents,omitempty"`
}

// cdcState is an org's change-event log. It has its own lock so
// subscribers never wait on the org's data lock.
type cdcState struct {
	mu       sync.Mutex
	settings CDCSettings
	events   []ChangeEvent
	last     int64 // replay ID of the newest event (or the starting point)
	commit   int64
	schemas  map[string]string // schema id → JSON, every schema ever served
	// current caches each entity's schema; currentKey says which field
	// list it was built from.
	current    map[string]*cdcSchema
	currentKey map[string]string
	wake       chan struct{} // closed and replaced when events arrive
}

// pendingChange is a change captured inside a transaction, published when
// the transaction commits.
type pendingChange struct {
	entity  string
	kind    ChangeType
	id      string
	origin  string
	user    string
	at      time.Time
	values  map[string]any // field name → stored value (nil = null)
	changed []string
	nulled  []string
}

func (c *cdcState) initLocked(now time.Time) {
	if c.schemas == nil {
		c.schemas = map[string]string{}
		c.wake = make(chan struct{})
		// Replay IDs start at the clock so that ids issued after an
		// emulator restart are newer than any a client stored before it.
		c.last = now.UnixMilli()
		c.commit = now.UnixMilli() << 10
	}
}

// CDCSettings returns the org's Change Data Capture settings.
func (o *Org) CDCSettings() CDCSettings {
	o.cdc.mu.Lock()
	defer o.cdc.mu.Unlock()
	s := o.cdc.settings
	s.Entities = slices.Clone(s.Entities)
	return s
}

// CDCEntities are the objects the emulator stores that Change Data
// Capture supports.
var CDCEntities = []string{ObjAccount, ObjContact, ObjLead}

func cdcEntity(name string) (string, bool) {
	for _, e := range CDCEntities {
		if strings.EqualFold(e, name) {
			return e, true
		}
	}
	return "", false
}

// SetCDCSettings replaces the org's Change Data Capture settings. Contact,
// Lead and Account can be selected.
func (o *Org) SetCDCSettings(s CDCSettings) error {
	var ents []string
	for _, e := range s.Entities {
		name, ok := cdcEntity(e)
		if !ok {
			return fmt.Errorf("entity %q cannot be selected for Change Data Capture (only %s)", e, strings.Join(CDCEntities, ", "))
		}
		if !slices.Contains(ents, name) {
			ents = append(ents, name)
		}
	}
	s.Entities = ents
	o.cdc.mu.Lock()
	defer o.cdc.mu.Unlock()
	o.cdc.initLocked(o.srv.Now())
	o.cdc.settings = s
	return nil
}

// CDCSelected reports whether entity publishes change events: the edition
// has Change Data Capture and the entity is selected.
func (o *Org) CDCSelected(entity string) bool {
	if !o.Edition().CDCAvailable() {
		return false
	}
	o.cdc.mu.Lock()
	defer o.cdc.mu.Unlock()
	return slices.Contains(o.cdc.settings.Entities, entity)
}

// captureLocked records a change for publication when tx commits. Called
// from logChange with o.mu held.
func (o *Org) captureLocked(tx *tx, a actor, kind string, obj *objectDef, id string, now time.Time, changed, nulled []string) {
	if !o.edition.CDCAvailable() {
		return
	}
	o.cdc.mu.Lock()
	selected := slices.Contains(o.cdc.settings.Entities, obj.Name)
	gap := o.cdc.settings.GapEvents
	o.cdc.mu.Unlock()
	// An update that changed no field (SystemModstamp moved by an automated
	// process, or a save of identical values) publishes nothing: Salesforce
	// says some system-only updates produce no event, and the emulator errs
	// on the side of the engine's safety-net poll rather than inventing one.
	if !selected || kind == string(ChangeUpdate) && len(changed) == 0 {
		return
	}
	p := &pendingChange{entity: obj.Name, kind: ChangeType(kind), id: id, origin: a.origin(), user: a.userID, at: now}
	if gap {
		p.kind = "GAP_" + p.kind
	} else {
		t := o.tables[strings.ToLower(obj.Name)]
		r, _, ok := t.get(id)
		if ok {
			p.values = map[string]any{}
			switch p.kind {
			case ChangeCreate, ChangeUndelete:
				for _, f := range obj.fields {
					if v := r.Value(f.index); v != nil {
						p.values[f.Name] = v
					}
				}
			case ChangeUpdate:
				for _, n := range changed {
					if f, ok := obj.field(n); ok {
						p.values[f.Name] = r.Value(f.index)
					}
				}
				p.changed, p.nulled = slices.Clone(changed), slices.Clone(nulled)
			}
		}
	}
	tx.cdc = append(tx.cdc, p)
	n := len(tx.cdc)
	tx.onUndo(func() { tx.cdc = tx.cdc[:n-1] })
}

// publishLocked publishes the changes of a committed transaction as
// events sharing one transactionKey. Called with o.mu held, so events
// are numbered in commit order.
func (o *Org) publishLocked(tx *tx) {
	if len(tx.cdc) == 0 {
		return
	}
	pending := tx.cdc
	tx.cdc = nil
	schemas := map[string]*cdcSchema{}
	for _, p := range pending {
		if schemas[p.entity] == nil {
			schemas[p.entity] = o.cdcSchemaLocked(o.objects[strings.ToLower(p.entity)])
		}
	}
	c := &o.cdc
	c.mu.Lock()
	defer c.mu.Unlock()
	c.initLocked(o.srv.Now())
	for _, sch := range schemas {
		c.schemas[sch.id] = sch.json
	}
	key := newTransactionKey()
	c.commit++
	for i, p := range pending {
		sch := schemas[p.entity]
		c.last++
		payload := sch.encode(p, key, i+1, c.commit)
		ev := ChangeEvent{ReplayID: c.last, EventID: newUUID(), Entity: p.entity, Type: p.kind,
			SchemaID: sch.id, Payload: payload, At: p.at, RecordIDs: []string{}, Origin: p.origin, TransactionKey: key}
		if p.id != "" {
			ev.RecordIDs = []string{p.id}
		}
		c.events = append(c.events, ev)
	}
	c.pruneLocked(o.srv.Now())
	close(c.wake)
	c.wake = make(chan struct{})
}

// PublishGapOverflow publishes a GAP_OVERFLOW event for entity, as
// Salesforce does when one transaction changes more than 100,000 records
// (a fault switch: subscribers must re-sync the entity by polling).
func (o *Org) PublishGapOverflow(entity string) error {
	if !o.CDCSelected(entity) {
		return fmt.Errorf("%s is not selected for Change Data Capture in this org", entity)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.srv.Now()
	t := &tx{cdc: []*pendingChange{{entity: entity, kind: ChangeGapOverflow, at: now, user: o.adminID}}}
	o.publishLocked(t)
	return nil
}

func (c *cdcState) pruneLocked(now time.Time) {
	horizon := now.Add(-ChangeEventRetention)
	n := 0
	for n < len(c.events) && c.events[n].At.Before(horizon) {
		n++
	}
	if n > 0 {
		c.events = slices.Delete(c.events, 0, n)
	}
}

// ChangeEventLog is a read view of an org's retained change events.
type ChangeEventLog struct {
	Events []ChangeEvent // after the requested replay ID, oldest first
	// Latest is the replay ID of the newest event ever published (or the
	// log's starting point): what keep-alives carry.
	Latest int64
	// Earliest is the replay ID just before the oldest retained event: the
	// oldest position a subscriber may resume from.
	Earliest int64
	// Wake is closed when newer events are published.
	Wake <-chan struct{}
}

// ChangeEventsAfter returns up to limit retained events with a replay ID
// greater than after (after < 0: from the oldest retained event).
func (o *Org) ChangeEventsAfter(after int64, limit int) ChangeEventLog {
	c := &o.cdc
	c.mu.Lock()
	defer c.mu.Unlock()
	c.initLocked(o.srv.Now())
	c.pruneLocked(o.srv.Now())
	l := ChangeEventLog{Latest: c.last, Earliest: c.last, Wake: c.wake}
	if len(c.events) > 0 {
		l.Earliest = c.events[0].ReplayID - 1
	}
	i, _ := slices.BinarySearchFunc(c.events, after+1, func(e ChangeEvent, id int64) int {
		switch {
		case e.ReplayID < id:
			return -1
		case e.ReplayID > id:
			return 1
		}
		return 0
	})
	end := min(len(c.events), i+limit)
	l.Events = slices.Clone(c.events[i:end])
	return l
}

// ChangeEventSchema returns the current Avro schema of entity's change
// event and its id.
func (o *Org) ChangeEventSchema(entity string) (id, schemaJSON string, ok bool) {
	name, ok := cdcEntity(entity)
	if !ok {
		return "", "", false
	}
	o.mu.RLock()
	sch := o.cdcSchemaLocked(o.objects[strings.ToLower(name)])
	o.mu.RUnlock()
	o.cdc.mu.Lock()
	o.cdc.initLocked(o.srv.Now())
	o.cdc.schemas[sch.id] = sch.json
	o.cdc.mu.Unlock()
	return sch.id, sch.json, true
}

// SchemaByID returns a schema this org has served or used for an event.
func (o *Org) SchemaByID(id string) (string, bool) {
	o.cdc.mu.Lock()
	defer o.cdc.mu.Unlock()
	s, ok := o.cdc.schemas[id]
	return s, ok
}

// --- Avro schema and encoding ---

// cdcField is one top-level field of a change event record, or one
// sub-field of a compound field (Name, MailingAddress).
type cdcField struct {
	name string
	typ  string // Avro type: string, boolean, int, long, double; "record" for compounds
	src  string // the Contact field it comes from ("" for compounds)
	date bool   // a date: int days since the epoch
	sub  []cdcField
}

type cdcSchema struct {
	id     string
	json   string
	fields []cdcField // fields[0] is ChangeEventHeader
}

// cdcExcluded are Contact fields a change event does not carry: the id
// (it is in recordIds), the Recycle Bin flag, system stamps that change
// without a user edit, and read-only derived fields.
var cdcExcluded = map[string]bool{
	"Id": true, "IsDeleted": true, "SystemModstamp": true, "LastActivityDate": true, "LastViewedDate": true,
	"LastReferencedDate": true, "PhotoUrl": true,
}

func avroType(f *fieldDef) (typ string, date bool) {
	switch f.Type {
	case "boolean":
		return "boolean", false
	case "int":
		return "int", false
	case "double", "currency", "percent", "long":
		return "double", false
	case "datetime":
		return "long", false
	case "date":
		return "int", true
	}
	return "string", false
}

// cdcSchemaLocked builds the change event schema of obj from its fields:
// ChangeEventHeader first, then the fields in describe order, compound
// fields as nested records at the place of their first component.
func (o *Org) cdcSchemaLocked(obj *objectDef) *cdcSchema {
	key := fmt.Sprintf("%s/%d/%d", obj.Name, o.schemaAt.UnixNano(), len(obj.fields))
	o.cdc.mu.Lock()
	cached := o.cdc.current[obj.Name]
	hit := cached != nil && o.cdc.currentKey[obj.Name] == key
	o.cdc.mu.Unlock()
	if hit {
		return cached
	}
	s := buildCDCSchema(obj)
	o.cdc.mu.Lock()
	if o.cdc.current == nil {
		o.cdc.current, o.cdc.currentKey = map[string]*cdcSchema{}, map[string]string{}
	}
	o.cdc.current[obj.Name], o.cdc.currentKey[obj.Name] = s, key
	o.cdc.mu.Unlock()
	return s
}

func buildCDCSchema(obj *objectDef) *cdcSchema {
	fields := []cdcField{{name: "ChangeEventHeader", typ: "record"}}
	compound := map[string]int{}
	for _, f := range obj.fields {
		if cdcExcluded[f.Name] || f.Calculated || f.Hidden || f.Type == "address" || f.Type == "location" {
			continue
		}
		// Account's Name is the business name, a string in
		// AccountChangeEvent (CDC guide, "Get Compound Fields in Change
		// Events"); a person account's name parts stay flat beside it here
		// (the guide's person account example was not available to check).
		if f.Name == "Name" && f.Compound == "" && obj.Name != ObjAccount {
			continue // the full name: the Name record carries its parts
		}
		typ, date := avroType(f)
		cf := cdcField{name: f.Name, typ: typ, src: f.Name, date: date}
		if f.Compound == "" || f.Compound == "Name" && obj.Name == ObjAccount {
			fields = append(fields, cf)
			continue
		}
		if strings.HasSuffix(f.Compound, "Address") {
			cf.name = strings.TrimPrefix(f.Name, strings.TrimSuffix(f.Compound, "Address"))
		}
		i, ok := compound[f.Compound]
		if !ok {
			i = len(fields)
			compound[f.Compound] = i
			fields = append(fields, cdcField{name: f.Compound, typ: "record"})
		}
		fields[i].sub = append(fields[i].sub, cf)
	}
	// Salesforce orders the Name record Salutation, FirstName, LastName.
	if i, ok := compound["Name"]; ok {
		order := map[string]int{"Salutation": 0, "FirstName": 1, "MiddleName": 2, "LastName": 3, "Suffix": 4}
		slices.SortStableFunc(fields[i].sub, func(a, b cdcField) int { return order[a.name] - order[b.name] })
	}
	s := &cdcSchema{fields: fields}
	s.json = s.schemaJSON(obj.Name + "ChangeEvent")
	sum := sha256.Sum256([]byte(s.json))
	s.id = base64.RawURLEncoding.EncodeToString(sum[:16])
	return s
}

func (s *cdcSchema) schemaJSON(name string) string {
	nullable := func(t any) any { return []any{"null", t} }
	var top []any
	for i, f := range s.fields {
		if i == 0 {
			top = append(top, map[string]any{"name": "ChangeEventHeader", "type": changeEventHeaderSchema})
			continue
		}
		top = append(top, map[string]any{"name": f.name, "type": nullable(fieldSchema(f)), "default": nil})
	}
	b, err := json.Marshal(map[string]any{
		"type": "record", "name": name, "namespace": "com.sforce.eventbus", "fields": top,
	})
	if err != nil {
		panic(err) // a map of strings and slices always marshals
	}
	return string(b)
}

func fieldSchema(f cdcField) any {
	if f.typ != "record" {
		return f.typ
	}
	var sub []any
	for _, c := range f.sub {
		sub = append(sub, map[string]any{"name": c.name, "type": []any{"null", fieldSchema(c)}, "default": nil})
	}
	return map[string]any{"type": "record", "name": strings.ReplaceAll(f.name, ".", "_"), "fields": sub}
}

var changeEventHeaderSchema = func() any {
	var symbols []string
	for _, t := range changeTypeSymbols {
		symbols = append(symbols, string(t))
	}
	arr := map[string]any{"type": "array", "items": "string"}
	return map[string]any{
		"type": "record", "name": "ChangeEventHeader", "fields": []any{
			map[string]any{"name": "entityName", "type": "string"},
			map[string]any{"name": "recordIds", "type": arr},
			map[string]any{"name": "changeType", "type": map[string]any{"type": "enum", "name": "ChangeType", "namespace": "com.sforce.eventbus", "symbols": symbols}},
			map[string]any{"name": "changeOrigin", "type": "string"},
			map[string]any{"name": "transactionKey", "type": "string"},
			map[string]any{"name": "sequenceNumber", "type": "int"},
			map[string]any{"name": "commitTimestamp", "type": "long"},
			map[string]any{"name": "commitNumber", "type": "long"},
			map[string]any{"name": "commitUser", "type": "string"},
			map[string]any{"name": "nulledFields", "type": arr},
			map[string]any{"name": "diffFields", "type": arr},
			map[string]any{"name": "changedFields", "type": arr},
		},
	}
}()

// bitmap turns field names into Salesforce's bitmap strings: "0x" and the
// upper-case hex of a number whose bit i is set when top-level field i
// changed, then "<i>-0x<hex>" for the sub-fields of compound field i.
func (s *cdcSchema) bitmap(names []string) []string {
	top := new(big.Int)
	subs := map[int]*big.Int{}
	for _, n := range names {
		for i, f := range s.fields {
			if f.src == n {
				top.SetBit(top, i, 1)
			}
			for j, c := range f.sub {
				if c.src == n {
					if subs[i] == nil {
						subs[i] = new(big.Int)
					}
					subs[i].SetBit(subs[i], j, 1)
				}
			}
		}
	}
	out := []string{}
	if top.Sign() > 0 || len(subs) > 0 {
		out = append(out, "0x"+strings.ToUpper(top.Text(16)))
	}
	for _, i := range slices.Sorted(maps.Keys(subs)) {
		out = append(out, fmt.Sprintf("%d-0x%s", i, strings.ToUpper(subs[i].Text(16))))
	}
	return out
}

// encode writes the event as Avro binary with this schema.
func (s *cdcSchema) encode(p *pendingChange, txKey string, seq int, commit int64) []byte {
	var b []byte
	ids := []string{p.id}
	if p.id == "" {
		ids = nil
	}
	b = avroString(b, p.entity)
	b = avroStrings(b, ids)
	b = avroLong(b, int64(slices.Index(changeTypeSymbols, p.kind)))
	b = avroString(b, p.origin)
	b = avroString(b, txKey)
	b = avroLong(b, int64(seq))
	b = avroLong(b, p.at.UnixMilli())
	b = avroLong(b, commit)
	b = avroString(b, p.user)
	b = avroStrings(b, s.bitmap(p.nulled))
	b = avroStrings(b, nil)
	b = avroStrings(b, s.bitmap(p.changed))
	for _, f := range s.fields[1:] {
		b = s.encodeField(b, f, p.values)
	}
	return b
}

func (s *cdcSchema) encodeField(b []byte, f cdcField, values map[string]any) []byte {
	if f.typ == "record" {
		set := false
		for _, c := range f.sub {
			if values[c.src] != nil {
				set = true
			}
		}
		if !set {
			return avroLong(b, 0)
		}
		b = avroLong(b, 1)
		for _, c := range f.sub {
			b = s.encodeField(b, c, values)
		}
		return b
	}
	v := values[f.src]
	if v == nil {
		return avroLong(b, 0)
	}
	b = avroLong(b, 1)
	switch f.typ {
	case "boolean":
		if x, _ := v.(bool); x {
			return append(b, 1)
		}
		return append(b, 0)
	case "int":
		if f.date {
			t, _ := v.(time.Time)
			return avroLong(b, int64(math.Floor(float64(t.Unix())/86400)))
		}
		x, _ := v.(float64)
		return avroLong(b, int64(x))
	case "long":
		t, _ := v.(time.Time)
		return avroLong(b, t.UnixMilli())
	case "double":
		x, _ := v.(float64)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return avroString(b, fmt.Sprint(v))
}

func avroLong(b []byte, n int64) []byte {
	return binary.AppendUvarint(b, uint64(n<<1)^uint64(n>>63))
}

func avroString(b []byte, s string) []byte {
	b = avroLong(b, int64(len(s)))
	return append(b, s...)
}

func avroStrings(b []byte, ss []string) []byte {
	if len(ss) > 0 {
		b = avroLong(b, int64(len(ss)))
		for _, s := range ss {
			b = avroString(b, s)
		}
	}
	return avroLong(b, 0)
}

func newUUID() string {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTransactionKey looks like Salesforce's: "0000a62a-5497-10e0-dbe3-e99b71589a49".
func newTransactionKey() string {
	u := newUUID()
	return "0000" + u[4:]
}

// serveCDCAdmin answers the side door's /cdc routes (admin.go).
func serveCDCAdmin(w http.ResponseWriter, r *http.Request, o *Org, rest string, decode func(any) bool, fail func(int, string)) {
	show := func() {
		s := o.CDCSettings()
		if s.Entities == nil {
			s.Entities = []string{}
		}
		writeJSON(w, 200, map[string]any{"entities": s.Entities, "gapEvents": s.GapEvents, "available": o.Edition().CDCAvailable()})
	}
	switch {
	case r.Method == "GET" && rest == "cdc":
		show()
	case r.Method == "PUT" && rest == "cdc":
		var body CDCSettings
		if !decode(&body) {
			return
		}
		if err := o.SetCDCSettings(body); err != nil {
			fail(400, err.Error())
			return
		}
		show()
	case r.Method == "GET" && rest == "cdc/events":
		after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if err != nil {
			after = -1
		}
		l := o.ChangeEventsAfter(after, 1000)
		if l.Events == nil {
			l.Events = []ChangeEvent{}
		}
		writeJSON(w, 200, map[string]any{"events": l.Events, "latestReplayId": l.Latest, "earliestReplayId": l.Earliest})
	case r.Method == "POST" && rest == "cdc/overflow":
		var body struct {
			Entity string `json:"entity"`
		}
		if !decode(&body) {
			return
		}
		if body.Entity == "" {
			body.Entity = "Contact"
		}
		if err := o.PublishGapOverflow(body.Entity); err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"published": true})
	default:
		fail(404, "no such side-door route: "+r.Method+" "+rest)
	}
}

// AccessTokenOrg returns the org and user of a live access token: how the
// Pub/Sub service checks the accesstoken metadata.
func (s *Server) AccessTokenOrg(value string) (*Org, string, bool) {
	if value == "" {
		return nil, "", false
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if !ok || t.refresh || t.revoked || !now.Before(t.expires) {
		return nil, "", false
	}
	return t.org, t.userID, true
}
