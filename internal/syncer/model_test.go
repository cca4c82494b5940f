package syncer_test

// Model-based convergence test (engine issue, item 12; issue 11, item 8):
// random operations on both sides — creates, updates of every mapped
// field, conflicting edits, one-sided edits under each conflict rule, bad
// phone numbers, duplicate values, member numbers two Salesforce contacts
// share (pages apart, later fixed), merges in Salesforce, an admin's
// decisions in the review queue, deletes on both sides — interleaved
// with incremental pulls, pushes and full resyncs under 10% injected
// emulator faults, with crashes in the middle of pulls and pushes (the n-th
// request reaches Salesforce, its answer is lost and the context is
// cancelled; then the run is started again). Then faults stop, the sync
// settles, and both sides must agree exactly as the configuration says.
// One virtual clock drives the emulator, the store and the engine, so a
// seed replays the same run.
//
//	go test -run Model ./internal/syncer/                        # 400 operations per dialect (CI)
//	SFSYNC_SOAK=1 go test -run Model -timeout 60m ./internal/syncer/  # 5,000, a fresh seed
//	SFSYNC_MODEL_SEED=1234 go test -run Model ./internal/syncer/    # replay a seed ("random": a fresh one)
//	SFSYNC_MODEL_OPS=600 …                                        # another size
//	SFSYNC_MODEL_DEBUG=1 …                                        # log the link and run records of a disagreeing pair
//
// Each engine bug this test found has a minimal deterministic test
// (TestModelBug…), kept as a regression test; all are fixed, and the
// model tolerates none of them. One outcome is tolerated as a limit on
// the safe side (a record held, never two people merged; noted as "known
// engine limit" in the operation log): a newcomer held by a full pass
// only, against a pair whose platform contact could not follow its
// Salesforce record off the value.

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

const defaultModelSeed = 20261125

func modelParams(t *testing.T) (seed uint64, ops int) {
	seed, ops = defaultModelSeed, 400
	if os.Getenv("SFSYNC_SOAK") != "" {
		ops = 5000
		seed = uint64(time.Now().UnixNano())
	}
	switch s := os.Getenv("SFSYNC_MODEL_SEED"); s {
	case "":
	case "random":
		seed = uint64(time.Now().UnixNano())
	default:
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SFSYNC_MODEL_SEED=%q: %v", s, err)
		}
		seed = v
	}
	if s := os.Getenv("SFSYNC_MODEL_OPS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("SFSYNC_MODEL_OPS=%q: %v", s, err)
		}
		ops = v
	}
	return seed, ops
}

func TestModelConvergence(t *testing.T) {
	t.Parallel()
	seed, ops := modelParams(t)
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		m := newModel(t, d, seed)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("replay with: SFSYNC_MODEL_SEED=%d SFSYNC_MODEL_OPS=%d go test -run 'Model/%s' ./internal/syncer/", seed, ops, d)
				t.Logf("last operations:\n%s", strings.Join(m.trail, "\n"))
				if f, err := os.CreateTemp("", "sfsync-model-*.log"); err == nil {
					f.WriteString(strings.Join(m.full, "\n") + "\n")
					f.Close()
					t.Logf("every operation: %s", f.Name())
				}
			}
		})
		start := time.Now()
		m.run(ops)
		t.Logf("seed %d: %d operations on %s in %v; %s", seed, ops, d, time.Since(start).Round(time.Millisecond), m.stats())
		if m.n.conflicts >= 10 && m.n.checked == 0 {
			t.Errorf("%d conflicting edits and not one outcome checked: the conflict expectations check nothing", m.n.conflicts)
		}
	})
}

// expectation is the exact outcome of a conflicting edit, checked once a
// pull and a push have both run after it (unless either side is touched
// again first).
type expectation struct {
	sfID, contactID, field, want, desc string
	pulled, pushed                     bool
	// pushAfterPull: the outcome is a write to Salesforce that only a
	// pull can notice (a Salesforce edit reverted): a push counts once a
	// pull has run.
	pushAfterPull bool
}

// markPushed notes that a push ran after the expectations' edits.
func (m *model) markPushed() {
	for _, e := range m.expects {
		if !e.pushAfterPull || e.pulled {
			e.pushed = true
		}
	}
}

type model struct {
	*mfix
	t     *testing.T
	d     store.Dialect
	rng   *rand.Rand
	seq   int
	trail []string // the last operations
	full  []string // every operation

	sfIDs    []string // Salesforce contacts created by the model
	pfIDs    []string // every platform contact ID seen
	pfKnown  map[string]bool
	members  []string // member numbers in use somewhere
	emails   []string
	phones   []string
	lines    []string
	pairs    map[string]string // sfID → contactID, as of the last sync step
	expects  []*expectation
	variants map[string]bool // member numbers made as case variants of another

	// The review queue and merges (model_review_test.go).
	decided       map[string]store.ReviewResolution // sfID → an admin's remembered decision
	decidedRun    map[string]int64                  // sfID → the newest run when it was decided
	decidedLinked map[string]bool                   // sfID → it was linked when decided
	mergedFrom    map[string][]string               // survivor sfID → losers merged into it
	merges        []*mergeExpect
	adminLinks    []*adminLinkExpect
	fixes         []*fixExpect
	// What a sync step starts from: the rules are checked against it.
	sfBefore map[string]sfView
	pfBefore map[string]contact.Contact
	// What the current sync step ran: a pull, a full pass.
	stepPulled, stepFull bool

	sfDeletedMembers map[string]bool   // member numbers of Salesforce contacts deleted
	pfDeleted        map[string]bool   // platform contacts deleted
	pfDeletedMembers map[string]bool   // their member IDs
	deletedPairs     map[string]string // contactID → sfID of a linked Salesforce contact deleted
	// Last time the model wrote the phone on each side (the one-way field).
	phoneSFTo  map[string]time.Time // contactID → last Salesforce phone edit of a record linked to it
	phoneSF    map[string]time.Time // sfID →
	phonePF    map[string]time.Time // contactID →
	phonePFVal map[string]string    // contactID → the phone last written
	phoneLoose map[string]bool      // contactID → its link followed a merge: its phone is not predicted

	n struct {
		ops, pulls, pushes, fulls, crashes, conflicts, checked, bad, landed int
		dups, fixes, merges, resolves, oneSided, reviewChecked              int
	}
}

func newModel(t *testing.T, d store.Dialect, seed uint64) *model {
	f := newMFix(t, d)
	f.t = t
	m := &model{mfix: f, t: t, d: d, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), pfKnown: map[string]bool{}, pairs: map[string]string{},
		variants: map[string]bool{}, sfDeletedMembers: map[string]bool{}, pfDeleted: map[string]bool{}, pfDeletedMembers: map[string]bool{}, deletedPairs: map[string]string{}, phoneSF: map[string]time.Time{}, phoneSFTo: map[string]time.Time{}, phonePF: map[string]time.Time{},
		phonePFVal: map[string]string{}, decided: map[string]store.ReviewResolution{}, decidedRun: map[string]int64{}, decidedLinked: map[string]bool{}, phoneLoose: map[string]bool{}, mergedFrom: map[string][]string{}}
	return m
}

func (m *model) logf(format string, args ...any) {
	line := fmt.Sprintf("%4d %s ", m.n.ops, m.clock.Now().Format("01-02T15:04:05")) + fmt.Sprintf(format, args...)
	m.full = append(m.full, line)
	m.trail = append(m.trail, line)
	if len(m.trail) > 60 {
		m.trail = m.trail[len(m.trail)-60:]
	}
}

func (m *model) stats() string {
	return fmt.Sprintf("%d pulls (%d full), %d pushes, %d crashes (%d mid-run), %d conflicting and %d one-sided edits (%d outcomes checked), %d bad or duplicate values, %d shared member numbers made and %d fixed, %d merges, %d review resolutions (%d review outcomes checked); %d Salesforce and %d platform contacts at the end",
		m.n.pulls, m.n.fulls, m.n.pushes, m.n.crashes, m.n.landed, m.n.conflicts, m.n.oneSided, m.n.checked, m.n.bad, m.n.dups, m.n.fixes, m.n.merges, m.n.resolves, m.n.reviewChecked, m.Org.ContactCount(), len(m.pfContacts()))
}

func (m *model) next() int { m.seq++; return m.seq }

func (m *model) pick(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[m.rng.IntN(len(list))]
}

func (m *model) chance(p float64) bool { return m.rng.Float64() < p }

// Fresh and duplicate values.

func (m *model) freshMember() string {
	v := fmt.Sprintf("M%05d", m.next())
	m.members = append(m.members, v)
	return v
}

func (m *model) freshEmail() string {
	v := fmt.Sprintf("p%05d@model.test", m.next())
	m.emails = append(m.emails, v)
	return v
}

// freshPhone is a valid Taiwanese mobile number in one of the spellings
// S12 allows.
func (m *model) freshPhone() string {
	n := m.next()
	p := fmt.Sprintf("+8869%08d", 12000000+n)
	m.phones = append(m.phones, p)
	switch n % 3 {
	case 1:
		return strings.TrimPrefix(p, "+")
	case 2:
		return p[:4] + " " + p[4:7] + "-" + p[7:10] + "-" + p[10:]
	}
	return p
}

var badPhones = []string{"0912345678", "4155551212", "12-34", "+1 000 000 0000"}

func (m *model) freshLine() string {
	v := fmt.Sprintf("U%031d", m.next())
	m.lines = append(m.lines, v)
	return v
}

func (m *model) freshName() string { return fmt.Sprintf("Name %d", m.next()) }

func (m *model) freshNick() string { return fmt.Sprintf("Nick %d", m.next()) }

func (m *model) freshDate() string {
	return time.Date(1950+m.rng.IntN(55), time.Month(1+m.rng.IntN(12)), 1+m.rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// tick moves the clock a little between operations: side-door edits
// carry whole seconds, so "newest" needs distinct seconds.
func (m *model) tick() { m.clock.Advance(time.Duration(2+m.rng.IntN(20)) * time.Second) }

// touch forgets the expectations of a record edited again.
func (m *model) touch(sfID, contactID string) {
	m.expects = slices.DeleteFunc(m.expects, func(e *expectation) bool {
		return sfID != "" && e.sfID == sfID || contactID != "" && e.contactID == contactID
	})
}

func (m *model) contactOf(sfID string) string { return m.pairs[sfID] }

func (m *model) sfOf(contactID string) string {
	for s, c := range m.pairs {
		if c == contactID {
			return s
		}
	}
	return ""
}

func (m *model) liveSF() []string {
	return m.Org.ContactIDs(false)
}

func (m *model) livePF() []string {
	return slices.DeleteFunc(slices.Clone(m.pfIDs), func(id string) bool { return m.pfDeleted[id] })
}

// Operations on Salesforce (as a human user in the UI).

func (m *model) sfCreate() {
	fields := map[string]any{"LastName": m.freshName()}
	member := ""
	switch r := m.rng.IntN(20); {
	case r == 0: // no member number: outside the sync
	case r == 1 && len(m.members) > 0: // the same person created on both sides
		member = m.pick(m.members)
	default:
		member = m.freshMember()
	}
	if member != "" {
		fields["Member_Number__c"] = member
	}
	if m.chance(0.8) {
		fields["Email"] = m.sfEmailValue()
	}
	if m.chance(0.7) {
		fields["MobilePhone"] = m.sfPhoneValue()
	}
	if m.chance(0.6) {
		fields["LINE_UID__c"] = m.sfLineValue()
	}
	if m.chance(0.6) {
		fields["Birthdate"] = m.freshDate()
	}
	if m.chance(0.5) {
		fields["Nickname__c"] = m.freshNick()
	}
	id, err := m.Org.CreateAsHuman(fields)
	m.logf("sf create %v -> %s %v", fields, id, err)
	if err != nil {
		return // e.g. the member number exists in Salesforce already
	}
	m.sfIDs = append(m.sfIDs, id)
	if _, ok := fields["MobilePhone"]; ok {
		m.phoneSF[id] = m.clock.Now()
	}
}

func (m *model) sfEmailValue() string {
	if m.chance(0.06) && len(m.emails) > 0 {
		m.n.bad++
		return strings.ToUpper(m.pick(m.emails)) // a duplicate, spelt differently
	}
	return m.freshEmail()
}

func (m *model) sfPhoneValue() string {
	switch {
	case m.chance(0.08):
		m.n.bad++
		return badPhones[m.rng.IntN(len(badPhones))]
	case m.chance(0.05) && len(m.phones) > 0:
		m.n.bad++
		return m.pick(m.phones)
	}
	return m.freshPhone()
}

func (m *model) sfLineValue() string {
	if m.chance(0.05) && len(m.lines) > 0 {
		m.n.bad++
		return m.pick(m.lines)
	}
	return m.freshLine()
}

func (m *model) sfUpdate() {
	id := m.pick(m.liveSF())
	if id == "" {
		return
	}
	fields := map[string]any{}
	switch m.rng.IntN(12) {
	case 11:
		fields["Nickname__c"] = m.freshNick()
		if m.chance(0.2) {
			fields["Nickname__c"] = nil
		}
	case 0:
		if m.chance(0.3) && len(m.members) > 0 {
			m.n.bad++
			v := m.pick(m.members) // taken, maybe on the platform only
			fields["Member_Number__c"] = v
		} else {
			fields["Member_Number__c"] = m.freshMember()
		}
	case 1, 2:
		fields["Email"] = m.sfEmailValue()
		if m.chance(0.15) {
			fields["Email"] = nil
		}
	case 3, 4:
		fields["LastName"] = m.freshName()
	case 5, 6:
		fields["MobilePhone"] = m.sfPhoneValue()
		if m.chance(0.15) {
			fields["MobilePhone"] = nil
		}
	case 7, 8:
		fields["LINE_UID__c"] = m.sfLineValue()
		if m.chance(0.15) {
			fields["LINE_UID__c"] = nil
		}
	default:
		fields["Birthdate"] = m.freshDate()
		if m.chance(0.2) {
			fields["Birthdate"] = nil
		}
	}
	before, _ := m.Org.Record(id)
	err := m.Org.ModifyAsHuman(id, fields)
	m.logf("sf update %s %v: %v", id, fields, err)
	if err == nil {
		m.touch(id, m.contactOf(id))
		if v, ok := fields["MobilePhone"]; ok && sfString(v) != sfString(before["MobilePhone"]) {
			m.phoneSF[id] = m.clock.Now()
			if cid := m.pairs[id]; cid != "" {
				// It reaches the linked contact, which keeps it if it is
				// linked to another record later.
				m.phoneSFTo[cid] = m.clock.Now()
			}
		}
	}
}

func (m *model) sfDelete() {
	if id := m.pick(m.liveSF()); id != "" {
		m.sfDeleteID(id)
	}
}

func (m *model) sfDeleteID(id string) {
	r, _ := m.Org.Record(id)
	err := m.Org.DeleteAsHuman(id)
	m.logf("sf delete %s (%v): %v", id, r["Member_Number__c"], err)
	if err == nil {
		if mem := sfString(r["Member_Number__c"]); mem != "" {
			m.sfDeletedMembers[strings.TrimSpace(mem)] = true
		}
		if cid := m.contactOf(id); cid != "" {
			m.deletedPairs[cid] = id
		}
		m.touch(id, m.contactOf(id))
		delete(m.decided, id) // forgotten with the record
	}
}

// Operations on the platform (through the contacts API).

func (m *model) pfCreate() {
	in := contact.Input{Name: contact.Some(m.freshName())}
	switch r := m.rng.IntN(20); {
	case r == 0: // no member number: nothing to match it by
	case r == 1 && len(m.members) > 0: // the same person created on both sides
		in.MemberID = contact.Some(m.pick(m.members))
	case r == 2 && len(m.members) > 0: // differs from another only by case
		v := strings.ToLower(m.pick(m.members))
		in.MemberID = contact.Some(v)
		m.variants[v] = true
		m.n.bad++
	default:
		in.MemberID = contact.Some(m.freshMember())
	}
	if m.chance(0.05) {
		in.Name = contact.Opt[string]{} // Salesforce requires LastName: the push fails
		m.n.bad++
	}
	if m.chance(0.8) {
		in.Email = contact.Some(m.freshEmail())
	}
	if m.chance(0.5) {
		in.Phone = contact.Some(m.freshPhone())
	}
	if m.chance(0.5) {
		in.Social = contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA1", UserID: m.freshLine()}})
	}
	if m.chance(0.6) {
		in.Birthday = contact.Some(m.freshDate())
	}
	if m.chance(0.5) {
		in.Custom = map[string]contact.Opt[any]{nicknameDef.Key: {Set: true, Value: m.freshNick()}}
	}
	c, err := m.Store.CreateContact(m.ctx, m.Tenant.ID, mustNormalize(m.t, in), contact.OriginAPI)
	m.logf("pf create %s -> %s %v", describeInput(in), c.ID, err)
	if err != nil {
		return // a unique value taken on the platform: refused, nothing to sync
	}
	m.pfIDs = append(m.pfIDs, c.ID)
	m.pfKnown[c.ID] = true
	if in.Phone.Set {
		m.phonePF[c.ID] = m.clock.Now()
		m.phonePFVal[c.ID] = c.Phone
	}
}

func describeInput(in contact.Input) string {
	var b strings.Builder
	s := func(name string, o contact.Opt[string]) {
		if o.Set {
			if o.Null {
				fmt.Fprintf(&b, "%s=null ", name)
			} else {
				fmt.Fprintf(&b, "%s=%q ", name, o.Value)
			}
		}
	}
	s("member_id", in.MemberID)
	s("name", in.Name)
	s("email", in.Email)
	s("phone", in.Phone)
	s("birthday", in.Birthday)
	if in.Social.Set {
		fmt.Fprintf(&b, "social=%v ", in.Social.Value)
	}
	for k, v := range in.Custom {
		fmt.Fprintf(&b, "custom.%s=%v ", k, v.Value)
	}
	return strings.TrimSpace(b.String())
}

func (m *model) pfUpdate() {
	id := m.pick(m.livePF())
	if id == "" {
		return
	}
	var in contact.Input
	clear := m.chance(0.12)
	set := func(o *contact.Opt[string], v string) {
		if clear {
			*o = contact.Opt[string]{Set: true, Null: true}
		} else {
			*o = contact.Some(v)
		}
	}
	switch m.rng.IntN(12) {
	case 11:
		if clear {
			in.Custom = map[string]contact.Opt[any]{nicknameDef.Key: {Set: true, Null: true}}
		} else {
			in.Custom = map[string]contact.Opt[any]{nicknameDef.Key: {Set: true, Value: m.freshNick()}}
		}
	case 0:
		if m.chance(0.3) && len(m.members) > 0 {
			m.n.bad++
			in.MemberID = contact.Some(m.pick(m.members))
		} else {
			set(&in.MemberID, m.freshMember())
		}
	case 1, 2:
		set(&in.Email, m.freshEmail())
	case 3, 4:
		set(&in.Name, m.freshName())
		if clear {
			m.n.bad++
		}
	case 5, 6:
		set(&in.Phone, m.freshPhone())
	case 7, 8:
		if clear {
			in.Social = contact.Some([]contact.SocialIdentity{})
		} else {
			in.Social = contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA1", UserID: m.freshLine()}})
		}
	default:
		set(&in.Birthday, m.freshDate())
	}
	_, changed, err := m.Store.UpdateContact(m.ctx, m.Tenant.ID, id, mustNormalize(m.t, in), contact.OriginAPI)
	m.logf("pf update %s %s: changed=%v %v", id, describeInput(in), changed, err)
	if err == nil && changed {
		m.touch(m.sfOf(id), id)
		if in.Phone.Set {
			m.phonePF[id] = m.clock.Now()
			c, _ := m.Store.GetContact(m.ctx, m.Tenant.ID, id)
			m.phonePFVal[id] = c.Phone
		}
	}
}

func (m *model) pfDelete() {
	id := m.pick(m.livePF())
	if id == "" {
		return
	}
	c, _ := m.Store.GetContact(m.ctx, m.Tenant.ID, id)
	err := m.Store.DeleteContact(m.ctx, m.Tenant.ID, id, contact.OriginAPI)
	m.logf("pf delete %s (%s): %v", id, c.MemberID, err)
	if err == nil {
		m.pfDeleted[id] = true
		m.pfDeletedMembers[c.MemberID] = true
		m.touch(m.sfOf(id), id)
	}
}

// conflict edits one two-way field of a linked pair on both sides between
// two syncs and records the outcome the field's rule prescribes.
func (m *model) conflict() {
	var linked []string
	for s := range m.pairs {
		linked = append(linked, s)
	}
	slices.Sort(linked)
	sfID := m.pick(linked)
	if sfID == "" {
		return
	}
	cid := m.pairs[sfID]
	rec, ok := m.Org.Record(sfID)
	if !ok || m.pfDeleted[cid] {
		return
	}
	if p := sfString(rec["MobilePhone"]); strings.TrimSpace(p) != "" {
		if _, err := contact.NormalizePhone(p, ""); err != nil {
			return // the record fails to pull anyway
		}
	}
	if sfString(rec["Member_Number__c"]) == "" {
		return // out of scope (S14): linked, but neither pulled nor pushed
	}
	m.n.conflicts++
	m.touch(sfID, cid)
	e := &expectation{sfID: sfID, contactID: cid}
	sfFirst := m.chance(0.5)
	var sfVal, pfVal any
	var in contact.Input
	var sfField string
	switch m.rng.IntN(5) {
	case 4:
		e.field, sfField = "nickname", "Nickname__c"
		a, b := m.freshNick(), m.freshNick()
		sfVal, in.Custom = a, map[string]contact.Opt[any]{nicknameDef.Key: {Set: true, Value: b}}
		e.want, e.desc = b, "always_platform"
	case 0:
		e.field, sfField = "name", "LastName"
		a, b := m.freshName(), m.freshName()
		sfVal, in.Name = a, contact.Some(b)
		e.want, e.desc = a, "always_salesforce"
	case 1:
		e.field, sfField = "birthday", "Birthdate"
		a, b := m.freshDate(), m.freshDate()
		for b == a {
			b = m.freshDate()
		}
		in.Birthday = contact.Some(b)
		if m.chance(0.3) {
			sfVal, e.want = nil, b
		} else {
			sfVal, e.want = a, a
		}
		e.desc = "prefer_salesforce_unless_blank"
	case 2:
		e.field, sfField = "email", "Email"
		a, b := m.freshEmail(), m.freshEmail()
		sfVal, in.Email = a, contact.Some(b)
		if m.chance(0.25) {
			sfVal = nil
		}
		e.desc = "newest_wins"
	default:
		e.field, sfField = "line", "LINE_UID__c"
		a, b := m.freshLine(), m.freshLine()
		sfVal, in.Social = a, contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA1", UserID: b}})
		if m.chance(0.25) {
			sfVal = nil
		}
		e.desc = "newest_wins"
	}
	pfv := ""
	switch e.field {
	case "name":
		pfv = in.Name.Value
	case "birthday":
		pfv = in.Birthday.Value
	case "email":
		pfv = in.Email.Value
	case "line":
		pfv = in.Social.Value[0].UserID
	case "nickname":
		pfv = in.Custom[nicknameDef.Key].Value.(string)
	}
	pfVal = pfv
	// Clearing a field Salesforce already holds empty changes no value:
	// there is then no conflict to decide (Salesforce's field history
	// would not record it either), so no outcome is expected.
	before, _ := m.Org.Record(sfID)
	noOpClear := sfVal == nil && isEmptySF(before[sfField])
	if sfVal == nil && !noOpClear {
		// A clear is a change only against what the link last synced: if
		// Salesforce's value was not synced yet, the clear may take it back
		// to the synced one. Only a pair in sync defines the outcome.
		c, err := m.Store.GetContact(m.ctx, m.Tenant.ID, cid)
		now := sfString(before[sfField])
		if e.field == "email" {
			now = strings.ToLower(now)
		}
		if err != nil || e.field == "line" && lineOf(c) != now || e.field == "email" && c.Email != now {
			noOpClear = true
		}
	}
	sfEdit := func() error { return m.Org.ModifyAsHuman(sfID, map[string]any{sfField: sfVal}) }
	pfEdit := func() error {
		_, _, err := m.Store.UpdateContact(m.ctx, m.Tenant.ID, cid, mustNormalize(m.t, in), contact.OriginAPI)
		return err
	}
	var err1, err2 error
	if sfFirst {
		err1 = sfEdit()
		m.tick()
		err2 = pfEdit()
	} else {
		err1 = pfEdit()
		m.tick()
		err2 = sfEdit()
	}
	if e.desc == "newest_wins" {
		if sfFirst {
			e.want = pfv
		} else {
			e.want = sfString(sfVal)
		}
	}
	m.logf("conflict %s/%s field %s (%s): salesforce=%v platform=%v, salesforce first=%v; want %q (%v, %v)", sfID, cid, e.field, e.desc, sfVal, pfVal, sfFirst, e.want, err1, err2)
	if err1 == nil && err2 == nil && !noOpClear {
		m.expects = append(m.expects, e)
	}
}

// Syncs.

func (m *model) faults() sfemu.Faults {
	return sfemu.Faults{Seed: m.rng.Uint64(), ServerErrorRate: 0.04, UnavailableRate: 0.04, DropRate: 0.02}
}

func (m *model) pull(withFaults bool) {
	if withFaults {
		m.Emu.SetFaults(m.faults())
		defer m.Emu.SetFaults(sfemu.Faults{})
	}
	m.n.pulls++
	m.beginStep(true)
	var err error
	switch r := m.rng.IntN(10); {
	case r == 0:
		m.n.fulls++
		m.stepFull = true
		var run syncer.Run
		if run, err = m.eng.FullResync(m.ctx, m.Tenant.ID); err == nil {
			err = m.runPull(m.ctx, syncer.ModeFull, run.Trigger, run.ID)
		}
	case r < 5:
		var run syncer.Run
		if run, err = m.eng.SyncNow(m.ctx, m.Tenant.ID); err == nil {
			err = m.runPull(m.ctx, syncer.ModeIncremental, run.Trigger, run.ID)
		}
	default:
		err = m.runPull(m.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0)
	}
	if err != nil {
		m.t.Fatalf("pull: %v", err)
	}
	r := m.lastRun(syncer.DirToPlatform)
	m.logf("pull run %d (%s) %s: %+v", r.ID, r.Trigger, r.Status, r.Counts)
	if r.Status == syncer.StatusRunning || r.Status == syncer.StatusFailed {
		m.t.Fatalf("pull run %d ended %s: %s", r.ID, r.Status, r.Message)
	}
	for _, e := range m.expects {
		e.pulled = true
	}
	m.afterSync()
}

func (m *model) push(withFaults bool) {
	if withFaults {
		m.Emu.SetFaults(m.faults())
		defer m.Emu.SetFaults(sfemu.Faults{})
	}
	m.n.pushes++
	m.beginStep(false)
	if err := m.runPush(m.ctx); err != nil {
		m.t.Fatalf("push: %v", err)
	}
	m.logf("push done")
	m.markPushed()
	for _, e := range m.merges {
		e.pushed = true
	}
	m.afterSync()
}

// crash kills a pull or a push part-way — the n-th request reaches
// Salesforce (a write commits) but its answer is lost and the context is
// cancelled, as when the worker process dies — then runs it again to the
// end, as the restarted worker does.
func (m *model) crash() {
	m.n.crashes++
	m.beginStep(false)
	m.Emu.SetFaults(m.faults())
	n := 1 + m.rng.IntN(3)
	ctx, cancel := context.WithCancel(m.ctx)
	m.crasher.arm(n, cancel)
	kind := "push"
	var err error
	var run syncer.Run
	mode := syncer.ModeIncremental
	if m.chance(0.6) {
		kind = "pull"
		m.stepPulled = true
		if m.chance(0.4) {
			mode = syncer.ModeFull
			m.stepFull = true
			run, err = m.eng.FullResync(m.ctx, m.Tenant.ID)
		} else {
			run, err = m.eng.SyncNow(m.ctx, m.Tenant.ID)
		}
		if err != nil {
			m.t.Fatal(err)
		}
		err = m.runPull(ctx, mode, run.Trigger, run.ID)
	} else {
		err = m.runPush(ctx)
	}
	m.crasher.disarm()
	if ctx.Err() != nil {
		m.n.landed++
	}
	cancel()
	m.logf("crash during %s %s at request %d: %v", kind, mode, n, err)
	if kind == "pull" {
		err = m.runPull(m.ctx, mode, run.Trigger, run.ID)
		for _, e := range m.expects {
			e.pulled = true
		}
	} else {
		err = m.runPush(m.ctx)
		m.markPushed()
		for _, e := range m.merges {
			e.pushed = true
		}
	}
	m.Emu.SetFaults(sfemu.Faults{})
	if err != nil {
		m.t.Fatalf("%s after the crash: %v", kind, err)
	}
	m.afterSync()
}

// afterSync refreshes the model's view of links and contacts and checks
// the expectations whose pull and push have both run.
func (m *model) afterSync() {
	var fresh []contact.Contact
	for id, c := range m.pfContacts() {
		if !m.pfKnown[id] {
			m.pfKnown[id] = true
			fresh = append(fresh, c)
		}
	}
	// In a stable order, so that a seed replays the same operations.
	slices.SortFunc(fresh, func(a, b contact.Contact) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.MemberID+a.Email+a.Name, b.MemberID+b.Email+b.Name)
	})
	for _, c := range fresh {
		m.pfIDs = append(m.pfIDs, c.ID)
	}
	links, err := m.Store.LinksBySalesforceID(m.ctx, m.Tenant.ID, m.Org.ContactIDs(true))
	if err != nil {
		m.t.Fatal(err)
	}
	defer func() { m.sfBefore, m.pfBefore, m.stepPulled, m.stepFull = nil, nil, false, false }()
	old := m.pairs
	m.pairs = map[string]string{}
	for s, l := range links {
		m.pairs[s] = l.ContactID
		if c := old[s]; c != "" && c != l.ContactID && !m.pfDeleted[c] {
			// Links are never re-pointed while both ends live: a Salesforce
			// contact matched by another platform contact is held as
			// ambiguous instead.
			m.t.Errorf("link of %s moved from %s to %s", s, c, l.ContactID)
		}
	}
	m.checkStep(old)
	if m.stepPulled {
		m.checkReviewExpectations()
	}
	var keep []*expectation
	for _, e := range m.expects {
		if !e.pulled || !e.pushed {
			keep = append(keep, e)
			continue
		}
		m.checkExpectation(e)
	}
	m.expects = keep
}

func (m *model) checkExpectation(e *expectation) {
	if m.pairs[e.sfID] != e.contactID {
		return // unlinked since (deleted on a side)
	}
	links, err := m.Store.LinksBySalesforceID(m.ctx, m.Tenant.ID, []string{e.sfID})
	if err != nil {
		m.t.Fatal(err)
	}
	if l, ok := links[e.sfID]; ok && l.OutOfScope {
		// The identity was cleared since the edit (S14): the link stays
		// but is no longer synced; the final check asserts the flag.
		m.logf("edit of %s on %s/%s not checked: the link went out of scope", e.field, e.sfID, e.contactID)
		return
	}
	rec, ok := m.Org.Record(e.sfID)
	c, err := m.Store.GetContact(m.ctx, m.Tenant.ID, e.contactID)
	if !ok || err != nil {
		return
	}
	var sfv, pfv string
	switch e.field {
	case "name":
		sfv, pfv = sfString(rec["LastName"]), c.Name
	case "birthday":
		sfv, pfv = sfString(rec["Birthdate"]), c.Birthday
		if len(sfv) > 10 {
			sfv = sfv[:10]
		}
	case "email":
		sfv, pfv = strings.ToLower(sfString(rec["Email"])), c.Email
	case "line":
		sfv, pfv = sfString(rec["LINE_UID__c"]), lineOf(c)
	case "nickname":
		sfv, pfv = sfString(rec["Nickname__c"]), nickOf(c)
	}
	if failed, _ := m.failedOutbox(); len(failed[e.contactID]) > 0 {
		return // the push of this contact fails for another reason (logged)
	}
	retries, err := m.Store.DuePullRetries(m.ctx, m.Tenant.ID, m.clock.Now().Add(1000*time.Hour), 100000)
	if err != nil {
		m.t.Fatal(err)
	}
	for _, r := range retries {
		if r.SalesforceID == e.sfID {
			return // the pull of this record fails for another reason (logged)
		}
	}
	m.n.checked++
	if sfv != e.want || pfv != e.want {
		m.t.Errorf("conflicting edit of %s on %s/%s (%s): Salesforce has %q, the platform %q; want both %q",
			e.field, e.sfID, e.contactID, e.desc, sfv, pfv, e.want)
		m.debugPair(e.sfID, e.contactID)
	}
}

// debugPair logs, with SFSYNC_MODEL_DEBUG set, the link of a pair that
// disagrees and every run record that names either side.
func (m *model) debugPair(sfID, contactID string) {
	if os.Getenv("SFSYNC_MODEL_DEBUG") == "" {
		return
	}
	links, _ := m.Store.LinksBySalesforceID(m.ctx, m.Tenant.ID, []string{sfID})
	m.t.Logf("DEBUG link %+v", links[sfID])
	runs, _ := m.Store.ListRuns(m.ctx, m.Tenant.ID, "", 500, 0)
	for _, r := range runs {
		recs, _ := m.Store.RunRecords(m.ctx, m.Tenant.ID, r.ID, "", "", 0)
		for _, x := range recs {
			if x.SalesforceID == sfID || x.ContactID == contactID {
				m.t.Logf("DEBUG run %d %s %s: %s %s %s %s", r.ID, r.Direction, r.Trigger, x.Kind, x.Field, x.ReasonCode, x.Reason)
			}
		}
	}
}

func (m *model) run(ops int) {
	m.Org.SetAPIUsage(0)
	// Some data on both sides before the first sync: the first match.
	// More Salesforce contacts than a page (the model engine's PageSize is
	// 25), the last ones sharing the member numbers of the first: the
	// first sync meets each shared value pages apart.
	for range 36 {
		m.sfCreate()
		m.tick()
	}
	for range 3 {
		m.sfDuplicate(true)
		m.tick()
	}
	for range 8 {
		m.pfCreate()
		m.tick()
	}
	if _, err := m.eng.SaveConfig(m.ctx, m.Tenant.ID, "u_model", m.config()); err != nil {
		m.t.Fatalf("SaveConfig: %v", err)
	}
	run, err := m.eng.StartInitialSync(m.ctx, m.Tenant.ID)
	if err != nil {
		m.t.Fatal(err)
	}
	m.beginStep(true)
	m.stepFull = true
	m.Emu.SetFaults(m.faults())
	if err := m.runPull(m.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		m.t.Fatal(err)
	}
	m.Emu.SetFaults(sfemu.Faults{})
	m.logf("initial sync: %+v", m.lastRun(syncer.DirToPlatform).Counts)
	m.afterSync()
	for i := range ops {
		m.n.ops = i
		if i == ops/2 {
			m.crash()
			continue
		}
		switch r := m.rng.IntN(112); {
		case r >= 110:
			m.resolve()
		case r >= 108:
			m.merge()
		case r >= 106:
			m.sfFix()
		case r >= 104:
			m.sfDuplicate(false)
		case r >= 100:
			m.oneSided()
		case r < 12:
			m.sfCreate()
		case r < 22:
			m.pfCreate()
		case r < 38:
			m.sfUpdate()
		case r < 54:
			m.pfUpdate()
		case r < 61:
			m.conflict()
		case r < 65:
			m.sfDelete()
		case r < 67:
			m.pfDelete()
		case r < 70:
			d := time.Duration(5+m.rng.IntN(60)) * time.Minute
			m.clock.Advance(d)
			m.logf("clock +%v", d)
		case r < 84:
			m.pull(true)
		case r < 97:
			m.push(true)
		default:
			m.crash()
		}
		m.tick()
		if m.t.Failed() {
			return
		}
	}
	m.n.ops = ops
	m.settle()
	m.check()
}

// settle lets the sync converge without faults: pushes and incremental
// pulls, each after the longest retry backoff, until a round changes
// nothing on either side.
func (m *model) settle() {
	m.Emu.SetFaults(sfemu.Faults{})
	for round := 0; ; round++ {
		if round > 12 {
			m.t.Fatalf("the sync did not settle after %d rounds", round)
			return
		}
		m.clock.Advance(7 * time.Hour) // every failed record is due again
		hist := len(m.Org.History(""))
		m.push(false)
		m.pull(false)
		pulled := m.lastRun(syncer.DirToPlatform)
		m.push(false)
		changed := len(m.Org.History("")) != hist || pulled.Counts.Created+pulled.Counts.Updated > 0
		m.logf("settle round %d: salesforce changes %d, pull %+v", round, len(m.Org.History(""))-hist, pulled.Counts)
		if !changed {
			return
		}
	}
}

// check asserts the invariants of a settled sync.
func (m *model) check() {
	t := m.t
	sf := m.sfRecords()
	pf := m.pfContacts()
	links := m.allLinks(m.pfIDs)

	// (1) No duplicate: each member ID at most once on the platform. (In
	// Salesforce, where the member number is not unique, the model makes
	// duplicates; checkStep checks that the sync makes none.)
	seenPF := map[string]string{}
	for id, c := range pf {
		if c.MemberID == "" {
			continue
		}
		if other, ok := seenPF[c.MemberID]; ok {
			t.Errorf("duplicate on the platform: %s and %s both have member ID %q", other, id, c.MemberID)
		}
		seenPF[c.MemberID] = id
	}

	// (5) Links are one-to-one and join live records; (4) none leads to a
	// contact deleted in Salesforce.
	byContact := map[string]string{}
	for _, l := range links {
		if other, ok := byContact[l.ContactID]; ok {
			t.Errorf("contact %s is linked to two Salesforce contacts: %s and %s", l.ContactID, other, l.SalesforceID)
		}
		byContact[l.ContactID] = l.SalesforceID
		if _, ok := sf[l.SalesforceID]; !ok {
			t.Errorf("link %s → %s: the Salesforce contact is deleted, the link should be gone", l.SalesforceID, l.ContactID)
		}
		if _, ok := pf[l.ContactID]; !ok {
			t.Errorf("link %s → %s: the platform contact is deleted, the link should be gone", l.SalesforceID, l.ContactID)
		}
	}

	// A full pass re-reads every Salesforce contact: it must find nothing
	// the incremental pulls missed, and it logs every record it cannot
	// sync.
	run, err := m.eng.FullResync(m.ctx, m.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.runPull(m.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	full, _ := m.eng.GetRun(m.ctx, m.Tenant.ID, run.ID)
	pfAfter := m.pfContacts()
	pullFailed := map[string][]syncer.RunRecord{}
	for _, kind := range []syncer.RecordKind{syncer.KindFailed, syncer.KindAmbiguous} {
		for _, r := range m.runRecords(full.ID, kind) {
			pullFailed[r.SalesforceID] = append(pullFailed[r.SalesforceID], r)
			if r.Reason == "" || r.ReasonCode == "" {
				t.Errorf("log entry without a reason: %+v", r)
			}
			switch r.ReasonCode {
			case "invalid_phone", "platform_conflict", "ambiguous_salesforce":
			default:
				t.Errorf("unexpected reason for a failed pull: %+v", r)
			}
		}
	}
	for id, c := range pfAfter {
		before, existed := pf[id]
		switch {
		case !existed:
			if !m.pfDeletedMembers[c.MemberID] {
				retries, _ := m.Store.DuePullRetries(m.ctx, m.Tenant.ID, m.clock.Now().Add(1000*time.Hour), 10000)
				var mine []store.PullRetry
				for _, r := range retries {
					if sf[r.SalesforceID].Member == c.MemberID {
						mine = append(mine, r)
					}
				}
				t.Errorf("the full resync created platform contact %s (%s), which the incremental pulls missed; pull retries %+v", id, c.MemberID, mine)
			}
		case !sameContact(before, c):
			t.Errorf("the full resync changed platform contact %s, which the incremental pulls missed:\n before %+v\n after  %+v", id, before, c)
		}
	}
	links = m.allLinks(m.pfIDs)
	pf = pfAfter
	failedOut, _ := m.failedOutbox()
	open := m.openItems()
	exempt := m.reviewExempt(open)
	m.checkReview(sf, pf, full, open)
	heldMember := map[string]bool{} // platform member IDs the push rightly leaves unlinked
	for _, it := range open {
		heldMember[it.IdentityKey] = true
	}
	sfHolders := map[string][]string{}
	for id, s := range sf {
		if s.Member != "" {
			sfHolders[s.Member] = append(sfHolders[s.Member], id)
		}
	}
	for k, h := range sfHolders {
		for _, id := range h {
			if len(h) > 1 || exempt(id) || m.decided[id] != "" {
				heldMember[k] = true
			}
		}
	}
	for cid, reasons := range failedOut {
		for _, r := range reasons {
			// Held as ambiguous: its identity matches a Salesforce contact
			// linked to another platform contact (never re-pointed).
			// A first match that takes Salesforce's phone the platform
			// holds for another contact: logged (platform_conflict).
			if !strings.Contains(r, "requires a value") && !strings.Contains(r, "DUPLICATE_VALUE") && r != "ambiguous identity" && !strings.Contains(r, "already belongs to platform contact") {
				t.Errorf("unexpected reason for a failed push of %s: %s", cid, r)
			}
		}
	}

	// (2) Every linked pair agrees on every two-way field, and the phone
	// flows to the platform — unless a failure of that record is logged.
	sfLinked := map[string]string{}
	pfLinked := map[string]string{}
	for _, l := range links {
		sfLinked[l.SalesforceID], pfLinked[l.ContactID] = l.ContactID, l.SalesforceID
		s, ok1 := sf[l.SalesforceID]
		c, ok2 := pf[l.ContactID]
		if !ok1 || !ok2 {
			continue
		}
		if s.Member == "" {
			// The identity was cleared (on either side, then pushed): out
			// of scope (S14), linked but no longer pulled.
			if !l.OutOfScope {
				t.Errorf("link %s → %s: the Salesforce contact has no member number, the link should be out of scope", l.SalesforceID, l.ContactID)
			}
			continue
		}
		var diffs []string
		cmp := func(field, a, b string) {
			if a != b {
				diffs = append(diffs, fmt.Sprintf("%s: salesforce %q, platform %q", field, a, b))
			}
		}
		cmp("member", s.Member, c.MemberID)
		cmp("email", s.Email, c.Email)
		cmp("name", s.LastName, c.Name)
		cmp("birthday", s.Birthdate, c.Birthday)
		cmp("line", s.LINE, lineOf(c))
		cmp("nickname", s.Nick, nickOf(c))
		// The phone flows to the platform: a platform edit stands until
		// Salesforce's phone changes again, and a first match with a
		// blank Salesforce phone keeps the platform's.
		sfLast := m.phoneSF[s.ID]
		if t := m.phoneSFTo[c.ID]; t.After(sfLast) {
			sfLast = t // an edit of a record the contact was linked to before
		}
		pfWroteLast := m.phonePF[c.ID].After(sfLast)
		if m.phoneLoose[c.ID] {
			// (not predicted)
		} else if s.PhoneErr == nil && s.Phone != c.Phone && !pfWroteLast && !(s.PhoneRaw == "" && m.phoneSF[s.ID].IsZero()) {
			diffs = append(diffs, fmt.Sprintf("phone (to platform): salesforce %q, platform %q", s.PhoneRaw, c.Phone))
		}
		if pfWroteLast && m.phonePFVal[c.ID] != "" && c.Phone == "" && len(pullFailed[s.ID]) == 0 && !m.phoneLoose[c.ID] {
			t.Errorf("platform contact %s lost its phone %s, written on the platform after Salesforce's (%q) last changed", c.ID, m.phonePFVal[c.ID], s.PhoneRaw)
		}
		if len(diffs) == 0 {
			continue
		}
		if len(pullFailed[s.ID]) > 0 || len(failedOut[c.ID]) > 0 {
			continue // held back by a logged failure
		}
		t.Errorf("linked pair %s/%s disagrees, with no failure logged:\n  %s", s.ID, c.ID, strings.Join(diffs, "\n  "))
		m.debugPair(s.ID, c.ID)
	}
	for _, rs := range pullFailed {
		for _, r := range rs {
			if r.Field == "MobilePhone" && !strings.Contains(r.Reason, sf[r.SalesforceID].PhoneRaw) {
				t.Errorf("a bad phone's log entry does not name the value %q: %+v", sf[r.SalesforceID].PhoneRaw, r)
			}
		}
	}

	// (3) No lost contact: every Salesforce contact with a member number is
	// on the platform, or its failure is logged…
	for id, s := range sf {
		if s.Member == "" || sfLinked[id] != "" || len(pullFailed[id]) > 0 || exempt(id) {
			continue
		}
		t.Errorf("lost: Salesforce contact %s (%s) is not on the platform, and no failure is logged", id, s.Member)
	}
	// …and every platform contact with a member ID is in Salesforce, or its
	// failure is logged, or it was unlinked by a deletion in Salesforce.
	for id, c := range pf {
		if c.MemberID == "" || pfLinked[id] != "" || len(failedOut[id]) > 0 || m.sfDeletedMembers[c.MemberID] || m.deletedPairs[id] != "" || heldMember[c.MemberID] {
			continue
		}
		t.Errorf("lost: platform contact %s (%s) is not in Salesforce, and no failure is logged", id, c.MemberID)
	}
	// (4) Contacts deleted in Salesforce stay on the platform.
	for cid, sfID := range m.deletedPairs {
		if _, ok := pf[cid]; !ok && !m.pfDeleted[cid] {
			t.Errorf("platform contact %s was removed after its Salesforce contact %s was deleted", cid, sfID)
		}
	}

	// No echo: one more round writes nothing anywhere.
	hist := len(m.Org.History(""))
	m.push(false)
	m.pull(false)
	m.push(false)
	last := m.lastRun(syncer.DirToPlatform)
	if n := len(m.Org.History("")) - hist; n != 0 || last.Counts.Created+last.Counts.Updated != 0 {
		t.Errorf("a settled sync still writes: %d Salesforce changes, pull %+v", n, last.Counts)
	}
	if last.Counts.Ambiguous != 0 || last.Status == syncer.StatusPartiallyFailed && last.Counts.Failed == 0 {
		t.Errorf("a settled sync's pull run %d is %s with %+v: records held already are counted again", last.ID, last.Status, last.Counts)
	}
	t.Logf("end state: %d Salesforce contacts, %d platform contacts, %d links; full resync %+v; %d records held by logged pull failures, %d contacts by failed pushes",
		len(sf), len(pf), len(links), full.Counts, len(pullFailed), len(failedOut))
}

// beginStep records both sides as a sync step starts from them: checkStep
// compares them with what the step leaves.
func (m *model) beginStep(pull bool) {
	m.sfBefore, m.pfBefore = m.sfRecords(), m.pfContacts()
	m.stepPulled = m.stepPulled || pull
}

// checkStep checks what one sync step (a pull, a push, or a crashed run
// and its restart) wrote, against both sides as they were before it:
//   - the conflict rules, as defined (issue 11): "always Salesforce" never
//     writes the field to Salesforce (LastName of an existing record never
//     changes in a sync step); "prefer Salesforce unless blank" writes to
//     Salesforce only where Salesforce's value is blank (a non-blank
//     Birthdate never changes in a sync step); "always platform" never
//     writes to the platform (an existing contact's nickname never
//     changes in a sync step);
//   - never merge two people: no platform contact is linked (nor created)
//     on a member number that another unlinked Salesforce contact, which
//     no admin decided about, holds too — unless an admin linked it, or
//     the link followed a merge made in Salesforce;
//   - the sync never creates a Salesforce contact with a member number
//     another live Salesforce contact holds.
func (m *model) checkStep(old map[string]string) {
	if m.sfBefore == nil {
		return
	}
	t := m.t
	sf := m.sfRecords()
	pf := m.pfContacts()
	for id, b := range m.sfBefore {
		a, ok := sf[id]
		if !ok {
			continue
		}
		if a.LastName != b.LastName {
			t.Errorf("a sync step wrote LastName (always_salesforce) of Salesforce contact %s: %q → %q", id, b.LastName, a.LastName)
		}
		if b.Birthdate != "" && a.Birthdate != b.Birthdate {
			t.Errorf("a sync step wrote the non-blank Birthdate (prefer_salesforce_unless_blank) of Salesforce contact %s: %q → %q", id, b.Birthdate, a.Birthdate)
		}
	}
	for id, b := range m.pfBefore {
		if a, ok := pf[id]; ok && nickOf(a) != nickOf(b) {
			t.Errorf("a sync step wrote the nickname (always_platform) of platform contact %s: %q → %q", id, nickOf(b), nickOf(a))
		}
	}
	holders := map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(sf)) {
		if v := sf[id].Member; v != "" {
			holders[v] = append(holders[v], id)
		}
	}
	for id, v := range sf {
		if _, existed := m.sfBefore[id]; existed || v.Member == "" {
			continue
		}
		apart := true
		for _, o := range holders[v.Member] {
			d := m.decided[o]
			apart = apart && (o == id || d == store.ResolutionApart || d == store.ResolutionIgnored)
		}
		if len(holders[v.Member]) > 1 && apart {
			// The other holders were kept apart (or ignored) by an admin: a
			// platform contact with their value is not them, and gets a
			// record of its own (a design choice worth a second look).
			m.logf("note: the sync created Salesforce contact %s with member number %q, also held by %v, kept apart", id, v.Member, holders[v.Member])
		} else if len(holders[v.Member]) > 1 {
			t.Errorf("the sync created Salesforce contact %s with member number %q, which %v hold", id, v.Member, holders[v.Member])
		}
	}
	for s, c := range m.pairs {
		v, ok := sf[s]
		if old[s] == c || !ok || v.Member == "" || m.decided[s] == store.ResolutionLinked || m.followedMerge(s, c, old) {
			continue
		}
		for _, o := range holders[v.Member] {
			if o != s && m.pairs[o] == "" && m.decided[o] == "" {
				t.Errorf("platform contact %s was linked to Salesforce contact %s on member number %q, which Salesforce contact %s (unlinked, undecided) holds too: two people merged on a guess", c, s, v.Member, o)
			}
		}
	}
}

// oneSided edits one two-way field of a linked pair on one side only and
// records the outcome its rule prescribes: newest wins lets the edit
// through; "always Salesforce" reverts a platform edit; "prefer Salesforce
// unless blank" reverts a platform edit while Salesforce holds a value and
// a clear in Salesforce while the platform does; "always platform" reverts
// a Salesforce edit.
func (m *model) oneSided() {
	var linked []string
	for s := range m.pairs {
		linked = append(linked, s)
	}
	slices.Sort(linked)
	sfID := m.pick(linked)
	if sfID == "" {
		return
	}
	cid := m.pairs[sfID]
	rec, ok := m.Org.Record(sfID)
	if !ok || m.pfDeleted[cid] {
		return
	}
	if p := sfString(rec["MobilePhone"]); strings.TrimSpace(p) != "" {
		if _, err := contact.NormalizePhone(p, ""); err != nil {
			return // the record fails to pull anyway
		}
	}
	if sfString(rec["Member_Number__c"]) == "" {
		return // out of scope (S14): linked, but neither pulled nor pushed
	}
	c, err := m.Store.GetContact(m.ctx, m.Tenant.ID, cid)
	if err != nil {
		return
	}
	m.n.oneSided++
	m.touch(sfID, cid)
	onSF := m.chance(0.5)
	e := &expectation{sfID: sfID, contactID: cid}
	var sfField string
	var sfVal any
	var in contact.Input
	pfNow := ""
	switch m.rng.IntN(4) {
	case 0:
		e.field, sfField, e.desc = "name", "LastName", "always_salesforce"
		v := m.freshName()
		sfVal, in.Name = v, contact.Some(v)
		pfNow = c.Name
		e.want = sfString(rec["LastName"])
		if onSF {
			e.want = v
		}
	case 1:
		e.field, sfField, e.desc = "birthday", "Birthdate", "prefer_salesforce_unless_blank"
		v := m.freshDate()
		sfVal, in.Birthday = v, contact.Some(v)
		if onSF && m.chance(0.3) {
			sfVal = nil // cleared in Salesforce: the platform's value comes back, if any
		}
		cur := sfString(rec["Birthdate"])
		if len(cur) > 10 {
			cur = cur[:10]
		}
		pfNow = c.Birthday
		switch {
		case onSF && sfVal == nil:
			e.want = c.Birthday
		case onSF:
			e.want = v
		case cur != "":
			e.want = cur
		default:
			e.want = v
		}
	case 2:
		e.field, sfField, e.desc = "email", "Email", "newest_wins"
		v := m.freshEmail()
		sfVal, in.Email, e.want = v, contact.Some(v), v
		pfNow = c.Email
	default:
		e.field, sfField, e.desc = "nickname", "Nickname__c", "always_platform"
		v := m.freshNick()
		sfVal, in.Custom = v, map[string]contact.Opt[any]{nicknameDef.Key: {Set: true, Value: v}}
		pfNow = nickOf(c)
		e.want = pfNow
		if !onSF {
			e.want = v
		}
	}
	// The pair must agree before the edit, else the outcome also depends
	// on an older, unsynced change.
	sfNow := sfString(rec[sfField])
	if sfField == "Email" {
		sfNow = strings.ToLower(sfNow)
	}
	if len(sfNow) > 10 && sfField == "Birthdate" {
		sfNow = sfNow[:10]
	}
	if sfNow != pfNow {
		m.logf("one-sided %s/%s field %s: sides differ (%q, %q); not edited", sfID, cid, e.field, sfNow, pfNow)
		return
	}
	if onSF {
		err = m.Org.ModifyAsHuman(sfID, map[string]any{sfField: sfVal})
	} else {
		_, _, err = m.Store.UpdateContact(m.ctx, m.Tenant.ID, cid, mustNormalize(m.t, in), contact.OriginAPI)
	}
	m.logf("one-sided %s/%s field %s (%s) edited on salesforce=%v: salesforce=%v platform=%v; want %q (%v)", sfID, cid, e.field, e.desc, onSF, sfVal, describeInput(in), e.want, err)
	if err == nil {
		e.pushAfterPull = onSF && (e.field == "nickname" || e.field == "birthday" && sfVal == nil)
		m.expects = append(m.expects, e)
	}
}

// sfDuplicate creates a Salesforce contact with the member number of an
// older live one — far from it in Id order, so pages apart (the model
// engine's PageSize is 25) — as when one person is entered twice, or a
// number is mistyped. Salesforce's member number is not unique here
// (modelCustomFields).
func (m *model) sfDuplicate(early bool) {
	var cands []string
	for _, id := range m.sfIDs[:len(m.sfIDs)/2+1] {
		if r, ok := m.Org.Record(id); ok && strings.TrimSpace(sfString(r["Member_Number__c"])) != "" {
			cands = append(cands, id)
		}
	}
	if early {
		cands = cands[:min(len(cands), 8)]
	}
	src := m.pick(cands)
	if src == "" {
		return
	}
	r, _ := m.Org.Record(src)
	fields := map[string]any{"LastName": m.freshName(), "Member_Number__c": r["Member_Number__c"]}
	if m.chance(0.6) {
		fields["Email"] = m.freshEmail()
	}
	if m.chance(0.4) {
		fields["LINE_UID__c"] = m.freshLine()
	}
	if m.chance(0.5) {
		fields["Birthdate"] = m.freshDate()
	}
	id, err := m.Org.CreateAsHuman(fields)
	m.logf("sf duplicate of %s: %v -> %s %v", src, fields, id, err)
	if err == nil {
		m.n.dups++
		m.sfIDs = append(m.sfIDs, id)
	}
}

// sharedMembers returns the member numbers several live Salesforce
// contacts hold, with their holders.
func (m *model) sharedMembers() (keys []string, holders map[string][]string) {
	holders = map[string][]string{}
	sf := m.sfRecords()
	for _, id := range slices.Sorted(maps.Keys(sf)) {
		if v := sf[id].Member; v != "" {
			holders[v] = append(holders[v], id)
		}
	}
	for k, h := range holders {
		if len(h) > 1 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, holders
}

// sfFix fixes a shared member number in Salesforce, as an admin does: one
// holder gets a number of its own, is deleted, or is merged into another
// holder. When one holder is left, it must sync at the next pull.
func (m *model) sfFix() {
	keys, holders := m.sharedMembers()
	k := m.pick(keys)
	if k == "" {
		return
	}
	h := holders[k]
	id := h[m.rng.IntN(len(h))]
	m.n.fixes++
	var err error
	switch r := m.rng.IntN(10); {
	case r < 5:
		v := m.freshMember()
		err = m.Org.ModifyAsHuman(id, map[string]any{"Member_Number__c": v})
		m.logf("sf fix %q: %s gets member number %s: %v", k, id, v, err)
		if err == nil {
			m.touch(id, m.contactOf(id))
		}
	case r < 8:
		m.sfDeleteID(id)
	default:
		other := h[0]
		if other == id {
			other = h[1]
		}
		m.mergeInto(other, id)
	}
	if len(h) == 2 {
		m.fixes = append(m.fixes, &fixExpect{key: k})
	}
}

func sameContact(a, b contact.Contact) bool {
	return a.MemberID == b.MemberID && a.Name == b.Name && a.Email == b.Email && a.Phone == b.Phone && a.Birthday == b.Birthday && lineOf(a) == lineOf(b)
}

// Minimal scenarios the model test found. Each is deterministic. Those
// were engine bugs, fixed since; they stay as regression tests.

// bugPair syncs one Salesforce contact to the platform and returns both ends.
func bugPair(t *testing.T, fields map[string]any) (*mfix, string, contact.Contact) {
	f := newMFix(t, store.SQLite)
	f.t = t
	sfID, err := f.Org.CreateAsHuman(fields)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.SaveConfig(f.ctx, f.Tenant.ID, "u_model", modelConfig()); err != nil {
		t.Fatal(err)
	}
	run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	list, err := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{MemberID: sfString(fields["Member_Number__c"])})
	if err != nil || len(list) != 1 {
		t.Fatalf("platform contact after the first sync: %v %v", list, err)
	}
	f.clock.Advance(time.Minute)
	return f, sfID, list[0]
}

// A two-way field with "newest wins": the platform sets it, then Salesforce
// clears it, later. Salesforce's clear is the newest change and must win,
// whichever of the push and the pull runs first. The pull decides so; the
// push does not see the clear as a change at all (sfChanged requires a
// non-blank Salesforce value), writes the older platform value over it
// and logs no conflict.
func TestModelBugNewestWinsSalesforceClearPushFirst(t *testing.T) {
	for _, pushFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("push_first=%v", pushFirst), func(t *testing.T) {
			f, sfID, c := bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
			if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, c.ID, contact.Input{Email: contact.Some("amy.pf@example.com")}, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(10 * time.Second)
			if err := f.Org.ModifyAsHuman(sfID, map[string]any{"Email": nil}); err != nil {
				t.Fatal(err)
			}
			must := func(err error) {
				if err != nil {
					t.Fatal(err)
				}
			}
			steps := []func(){func() { must(f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0)) }, func() { must(f.runPush(f.ctx)) }}
			if pushFirst {
				steps[0], steps[1] = steps[1], steps[0]
			}
			for _, s := range steps {
				s()
			}
			rec, _ := f.Org.Record(sfID)
			got, _ := f.Store.GetContact(f.ctx, f.Tenant.ID, c.ID)
			if rec["Email"] != nil || got.Email != "" {
				t.Errorf("Salesforce e-mail %v, platform %q; want both cleared (Salesforce's clear is newer)", rec["Email"], got.Email)
			}
		})
	}
}

// The first match made by a pull keeps the platform's value of a two-way
// field where Salesforce's is blank ("an empty Salesforce value tells
// nothing"), and records it as synced — but nothing ever sends it to
// Salesforce: no outbox entry exists for a contact the pull did not
// change. The pair disagrees for good.
func TestModelBugPullFirstMatchNeverPushesPlatformValue(t *testing.T) {
	f := newMFix(t, store.SQLite)
	f.t = t
	in := mustNormalize(t, contact.Input{MemberID: contact.Some("M1"), Name: contact.Some("Amy"), Email: contact.Some("amy@example.com")})
	if _, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	sfID, err := f.Org.CreateAsHuman(map[string]any{"LastName": "Amy", "Member_Number__c": "M1"}) // no e-mail
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.SaveConfig(f.ctx, f.Tenant.ID, "u_model", modelConfig()); err != nil {
		t.Fatal(err)
	}
	// The pull runs first (the first sync), then pushes, then polls.
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		f.clock.Advance(time.Hour)
		if err := f.runPush(f.ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
			t.Fatal(err)
		}
	}
	rec, _ := f.Org.Record(sfID)
	if rec["Email"] != "amy@example.com" {
		t.Errorf("Salesforce e-mail = %v, want the platform's amy@example.com (both ways; Salesforce was blank at the first match)", rec["Email"])
	}
}

// The mirror image: the first match made by a push finds a Salesforce
// contact with a value the platform lacks, records that value as synced
// on both sides (push.go: "first match: an empty platform value tells
// nothing") but never writes it to the platform; the pull's echo guard
// then takes it for unchanged. The platform never gets it.
func TestModelBugPushFirstMatchNeverPullsSalesforceValue(t *testing.T) {
	f := newMFix(t, store.SQLite)
	f.t = t
	if _, err := f.eng.SaveConfig(f.ctx, f.Tenant.ID, "u_model", modelConfig()); err != nil {
		t.Fatal(err)
	}
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	// The same person is entered on both sides between two syncs.
	in := mustNormalize(t, contact.Input{MemberID: contact.Some("M1"), Name: contact.Some("Amy")})
	c, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Org.CreateAsHuman(map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com", "LINE_UID__c": "Uamy"}); err != nil {
		t.Fatal(err)
	}
	if err := f.runPush(f.ctx); err != nil { // the push runs first
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Store.GetContact(f.ctx, f.Tenant.ID, c.ID)
	if got.Email != "amy@example.com" || lineOf(got) != "Uamy" {
		t.Errorf("platform e-mail %q, LINE %q; want Salesforce's amy@example.com and Uamy (the platform had none)", got.Email, lineOf(got))
	}
}

// A full resync reads live records only, so it cannot see deletions; yet
// it moves the incremental cursor to its own start, past the deletions
// that happened before it. The next incremental pulls never see them: the
// link to the deleted Salesforce contact stays (X6: deletions are noticed
// and unlinked).
func TestModelBugFullResyncHidesDeletions(t *testing.T) {
	f, sfID, c := bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1"})
	if err := f.Org.DeleteAsHuman(sfID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Minute) // longer ago than the lookback
	run, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	if links, _ := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{c.ID}); len(links) != 0 {
		t.Errorf("platform contact %s is still linked to %s, deleted in Salesforce before the full resync", c.ID, links[c.ID].SalesforceID)
	}
}

// A contact created on the platform with a phone: the push creates its
// Salesforce contact (the phone maps to the platform only, so it is not
// written), and the pull that reads the new record back clears the
// platform's phone, because the link holds no last-synced Salesforce
// value for it.
func TestModelBugPushCreateThenPullClearsOneWayField(t *testing.T) {
	f := newMFix(t, store.SQLite)
	f.t = t
	if _, err := f.eng.SaveConfig(f.ctx, f.Tenant.ID, "u_model", modelConfig()); err != nil {
		t.Fatal(err)
	}
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	in := mustNormalize(t, contact.Input{MemberID: contact.Some("M1"), Name: contact.Some("Amy"), Phone: contact.Some("+886912345678")})
	c, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPush(f.ctx); err != nil {
		t.Fatal(err)
	}
	if f.Org.ContactCount() != 1 {
		t.Fatalf("%d Salesforce contacts after the push, want 1", f.Org.ContactCount())
	}
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Store.GetContact(f.ctx, f.Tenant.ID, c.ID)
	if got.Phone != "+886912345678" {
		t.Errorf("platform phone = %q after the round trip, want +886912345678 kept", got.Phone)
	}
}

// A push matches an unlinked platform contact by identity to a Salesforce
// contact that is already linked to another platform contact, and takes
// it over: push.go collects the candidates in "free" without leaving out
// linked ones, and SaveLinksTx's upsert on salesforce_id silently moves
// the link. The first contact loses its link (X3: links are followed; an
// ambiguous match is held, never guessed — the pull does hold it).
func TestModelBugPushMatchStealsLinkedSalesforceContact(t *testing.T) {
	f, sfID, x := bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
	// The member number changes in Salesforce; before the next pull, a
	// platform contact is entered with the new number.
	if err := f.Org.ModifyAsHuman(sfID, map[string]any{"Member_Number__c": "M2"}); err != nil {
		t.Fatal(err)
	}
	in := mustNormalize(t, contact.Input{MemberID: contact.Some("M2"), Name: contact.Some("Ben"), Email: contact.Some("ben@example.com")})
	y, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPush(f.ctx); err != nil {
		t.Fatal(err)
	}
	links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{sfID})
	if links[sfID].ContactID != x.ID {
		t.Errorf("Salesforce contact %s is now linked to %s (Ben), want it still linked to %s (Amy)", sfID, links[sfID].ContactID, x.ID)
	}
	rec, _ := f.Org.Record(sfID)
	if rec["LastName"] != "Amy" {
		t.Errorf("Salesforce contact %s was overwritten with Ben's values: %v", sfID, rec)
	}
	_ = y
}

// The push decides a conflict for Salesforce and writes the winning value
// to the platform (pfOps through ApplyContacts), but ignores the result of
// that write: when the platform refuses it (the e-mail belongs to another
// contact), the link still records the value as synced on both sides and
// the outbox entry is acknowledged. The pair disagrees silently — the
// pull, which meets the same refusal, logs it as failed and retries.
func TestModelBugPushIgnoresRefusedPlatformWrite(t *testing.T) {
	f, _, x := bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
	s2, err := f.Org.CreateAsHuman(map[string]any{"LastName": "Ben", "Member_Number__c": "M2", "Email": "ben@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{MemberID: "M2"})
	if len(list) != 1 {
		t.Fatalf("Ben on the platform: %v", list)
	}
	y := list[0]
	f.clock.Advance(time.Minute)
	// Ben's e-mail changes on the platform, then (newer) in Salesforce to
	// Amy's, which the platform holds for Amy.
	if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, y.ID, contact.Input{Email: contact.Some("ben2@example.com")}, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Second)
	if err := f.Org.ModifyAsHuman(s2, map[string]any{"Email": "amy@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := f.runPush(f.ctx); err != nil { // the push runs first
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Store.GetContact(f.ctx, f.Tenant.ID, y.ID)
	rec, _ := f.Org.Record(s2)
	_, pending := (&model{mfix: f}).failedOutboxOf(y.ID)
	pull := f.lastRun(syncer.DirToPlatform)
	push := f.lastRun(syncer.DirToSalesforce)
	if got.Email != strings.ToLower(sfString(rec["Email"])) && pull.Counts.Failed == 0 && push.Counts.Failed == 0 && !pending {
		t.Errorf("Ben's e-mail is %q on the platform and %v in Salesforce, and no failure is logged (pull %+v, push %+v)", got.Email, rec["Email"], pull.Counts, push.Counts)
	}
	_ = x
}

func (m *model) failedOutboxOf(contactID string) ([]string, bool) {
	failed, _ := m.failedOutbox()
	return failed[contactID], len(failed[contactID]) > 0
}

func isEmptySF(v any) bool {
	if v == nil {
		return true
	}
	str, ok := v.(string)
	return ok && str == ""
}
