package syncer

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// The census makes identity uniqueness a property of the whole scope, not
// of a page (X3): before a full pass applies anything, it reads every
// in-scope record, finds the identity values two or more records share,
// and holds those records in the review queue. The pass then never links,
// creates or updates on a held value, wherever the records fall.
//
// It costs no API call of its own on the product's path: above
// censusRESTMax records it reads through one Bulk API 2.0 job and keeps
// the results in a spool file (TMPDIR), which the full pass then replays
// instead of running a second job. Smaller scopes are read by REST pages
// (at most five calls) and kept in memory. Memory per record: a 64-bit
// hash, an 18-byte Id and the identity value (about 65 MB at 1M).

// censusRESTMax is the largest scope the census reads through REST pages
// (five calls); above it one Bulk API 2.0 job is cheaper, and the full
// pass shares it.
const censusRESTMax = 10000

type censusEntry struct {
	h uint64
	i uint32 // index into ids (18 bytes each) and keyEnd
}

type censusTable struct {
	seed    maphash.Seed
	entries []censusEntry
	ids     []byte
	keys    []byte   // every key, back to back
	keyEnd  []uint32 // where each entry's key ends in keys
}

func (c *censusTable) add(key, id string) {
	c.entries = append(c.entries, censusEntry{h: maphash.String(c.seed, key), i: uint32(len(c.entries))})
	var b [18]byte
	copy(b[:], id)
	c.ids = append(c.ids, b[:]...)
	c.keys = append(c.keys, key...)
	c.keyEnd = append(c.keyEnd, uint32(len(c.keys)))
}

func (c *censusTable) id(e censusEntry) string {
	return strings.TrimRight(string(c.ids[int(e.i)*18:int(e.i)*18+18]), "\x00")
}

func (c *censusTable) key(e censusEntry) string {
	start := uint32(0)
	if e.i > 0 {
		start = c.keyEnd[e.i-1]
	}
	return string(c.keys[start:c.keyEnd[e.i]])
}

// holders returns the Ids of the records that hold key.
func (c *censusTable) holders(key string) []string {
	h := maphash.String(c.seed, key)
	i, _ := slices.BinarySearchFunc(c.entries, h, func(e censusEntry, h uint64) int { return cmpHash(e.h, h) })
	var out []string
	for ; i < len(c.entries) && c.entries[i].h == h; i++ {
		if c.key(c.entries[i]) == key {
			out = append(out, c.id(c.entries[i]))
		}
	}
	return out
}

func cmpHash(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// shared returns each identity key two or more records hold, with their Ids.
func (c *censusTable) shared() map[string][]string {
	slices.SortFunc(c.entries, func(a, b censusEntry) int { return cmpHash(a.h, b.h) })
	out := map[string][]string{}
	for i := 0; i < len(c.entries); {
		j := i + 1
		for j < len(c.entries) && c.entries[j].h == c.entries[i].h {
			j++
		}
		if j-i > 1 {
			byKey := map[string][]string{}
			for _, en := range c.entries[i:j] {
				k := c.key(en)
				byKey[k] = append(byKey[k], c.id(en))
			}
			for k, ids := range byKey {
				if len(ids) > 1 {
					out[k] = ids
				}
			}
		}
		i = j
	}
	return out
}

// census holds the in-scope records that share an identity value, and
// releases the open review items whose records no longer do. It logs and
// counts only records held for the first time. When it read the scope
// through the Bulk API it returns the spool of what it read, for the full
// pass to replay (the caller closes it); else nil.
func (e *Engine) census(ctx context.Context, s *session, total int64) (*spool, error) {
	started, calls0 := time.Now(), s.client.Calls()
	identity := s.maps[0]
	q, err := s.scopeQuery().Build()
	if err != nil {
		return nil, err
	}
	tab := &censusTable{seed: maphash.MakeSeed()}
	addRec := func(rec map[string]any) {
		id, _ := rec["Id"].(string)
		k, err := identity.fromSalesforce(rec)
		key, _ := k.(string)
		if id == "" || err != nil || key == "" {
			return // no usable value: the pass fails or skips the record itself
		}
		if _, conv := convertedTo(s, rec); conv {
			return // a converted lead holds its value no more: its link moves
		}
		tab.add(key, id)
	}
	var sp *spool
	var waited time.Duration  // until the Bulk API job was complete
	var kept []map[string]any // REST: the records, for the queue's snapshots
	if total > min(censusRESTMax, e.bulkThreshold()) {
		rows, err := s.client.BulkQuery(ctx, q, salesforce.BulkQueryOptions{})
		if err != nil {
			return nil, err
		}
		waited = time.Since(started)
		// Only the columns the census reads are put in a record (a few
		// of the scope's), into one map reused for every row.
		var pick []int
		small := map[string]any{}
		sp, err = spoolRows(rows, func(cols, row []string) {
			if pick == nil {
				pick = []int{}
				for i, c := range cols {
					switch {
					case c == "Id", strings.EqualFold(c, identity.sfField),
						c == "IsConverted", c == "ConvertedContactId", c == "ConvertedAccountId":
						pick = append(pick, i)
					}
				}
			}
			clear(small)
			for _, i := range pick {
				if i < len(row) && row[i] != "" {
					small[cols[i]] = row[i]
				}
			}
			addRec(small)
		})
		if err != nil {
			return nil, err
		}
	} else {
		it := s.client.Query(ctx, q, salesforce.QueryOptions{BatchSize: 2000})
		for it.Next() {
			rec := it.Record()
			addRec(rec)
			kept = append(kept, rec)
		}
		if err := it.Err(); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*spool, error) {
		if sp != nil {
			sp.Close()
		}
		return nil, err
	}
	records := len(tab.entries)
	shared := tab.shared()
	var suspects []string
	for _, ids := range shared {
		suspects = append(suspects, ids...)
	}
	decided, err := e.Store.ReviewDecisions(ctx, s.tenantID, suspects)
	if err != nil {
		return fail(err)
	}
	linked, err := e.Store.LinksBySalesforceID(ctx, s.tenantID, suspects)
	if err != nil {
		return fail(err)
	}
	// The records an admin decided on are out of the count, and linked
	// records follow their links: what is held is the unlinked rest —
	// against a linked pair, even one record alone.
	want := map[string]bool{}
	pairs := map[string]string{} // key → a linked record holding it
	for k, ids := range shared {
		var free []string
		for _, id := range ids {
			switch {
			case decided[id] != "":
			case linked[id].SalesforceID != "":
				pairs[k] = id
			default:
				free = append(free, id)
			}
		}
		if len(free) == 0 || len(free) == 1 && pairs[k] == "" {
			delete(shared, k)
			continue
		}
		shared[k] = free
		for _, id := range free {
			want[id] = true
		}
	}
	// The held records' values, for the queue's side-by-side view.
	recs := map[string]map[string]any{}
	if len(want) > 0 {
		keep := func(rec map[string]any) {
			if id, _ := rec["Id"].(string); want[id] {
				recs[id] = rec
			}
		}
		if sp != nil {
			if err := sp.replay(func(rec map[string]any) error { keep(rec); return nil }); err != nil {
				return fail(err)
			}
		}
		for _, rec := range kept {
			keep(rec)
		}
	}
	groups := map[string][]map[string]any{}
	for k, ids := range shared {
		for _, id := range ids {
			rec := recs[id]
			if rec == nil {
				rec = map[string]any{"Id": id}
			}
			groups[k] = append(groups[k], rec)
		}
	}
	// Open items whose records no longer share their value are released.
	var release []string
	for before := int64(0); ; {
		items, err := e.Store.ListReviewItems(ctx, s.tenantID, store.ReviewFilter{Status: store.ReviewOpen, Limit: 500, BeforeID: before})
		if err != nil {
			return fail(err)
		}
		for _, it := range items {
			before = it.ID
			if it.Kind != store.ReviewIdentity || it.IdentityField != identity.sfField {
				continue
			}
			holds := map[string]bool{}
			if ids := shared[it.IdentityKey]; len(ids) > 0 {
				for _, id := range ids {
					holds[id] = true
				}
			} else if it.ContactID != "" {
				// A newcomer against a linked pair stays held while it holds the value.
				for _, id := range tab.holders(it.IdentityKey) {
					holds[id] = true
				}
			}
			for _, c := range it.Candidates {
				if !holds[c.SalesforceID] {
					release = append(release, c.SalesforceID)
				}
			}
		}
		if len(items) < 500 {
			break
		}
	}
	hg := make(map[string]holdGroup, len(groups))
	for k, g := range groups {
		hg[k] = holdGroup{recs: g}
		if pairs[k] != "" {
			hg[k] = holdGroup{recs: g, reason: "%[2]q is also the identity value of Salesforce contact " + pairs[k] + ", which is linked to a platform contact"}
		}
	}
	if err := e.hold(ctx, s, hg, release); err != nil {
		return fail(err)
	}
	// What the census cost, beside the pass it precedes (BENCHMARKS.md).
	e.log().InfoContext(ctx, "identity census", "tenant_id", s.tenantID, "run_id", s.run.ID, "records", records,
		"shared_values", len(groups), "released", len(release), "api_calls", s.client.Calls()-calls0,
		"seconds", time.Since(started).Seconds(), "bulk_wait_seconds", waited.Seconds(), "bulk", sp != nil)
	return sp, nil
}

// releaseHeldAgainst releases the newcomers held against the platform
// contacts contactIDs, whose linked records no longer hold the value (a
// deletion a full pass found, a push that moved the record): they are
// read again by the next pull.
func (e *Engine) releaseHeldAgainst(ctx context.Context, s *session, contactIDs []string) error {
	if len(contactIDs) == 0 {
		return nil
	}
	waiting, err := e.Store.HeldForContacts(ctx, s.tenantID, contactIDs)
	if err != nil {
		return err
	}
	return e.hold(ctx, s, nil, waiting)
}

// holdGroup is the records held on one identity key, and why (a format
// with the number of records and the key; "" for shared values).
type holdGroup struct {
	recs   []map[string]any
	reason string
	// A merge's hold: its kind, the field its key names, the platform
	// contact it concerns, and its candidates as they are.
	kind       store.ReviewKind
	field      string
	contactID  string
	candidates []store.ReviewCandidate
}

// hold stores each group of records sharing an identity key as held (one
// review item per key, with the platform contact that holds the key, if
// any), releases the records in release, and logs and counts the records
// held for the first time — all in one transaction.
func (e *Engine) hold(ctx context.Context, s *session, groups map[string]holdGroup, release []string) error {
	if len(groups) == 0 && len(release) == 0 {
		return nil
	}
	if len(groups) > 0 {
		s.review = true // held records are looked up from now on
	}
	identity := s.maps[0]
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// A merge's key is the survivor's Id, not an identity value: it names
	// its platform contact itself.
	idKeys := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return groups[k].kind != "" })
	owners, err := e.Store.FindContactsByIdentity(ctx, s.tenantID, identity.binding.Platform.Name, idKeys)
	if err != nil {
		return err
	}
	var contactIDs []string
	for _, cid := range owners {
		contactIDs = append(contactIDs, cid)
	}
	for _, g := range groups {
		if g.contactID != "" {
			contactIDs = append(contactIDs, g.contactID)
		}
	}
	contacts, err := e.Store.GetContacts(ctx, s.tenantID, contactIDs)
	if err != nil {
		return err
	}
	return e.Store.Tx(ctx, func(tx *sql.Tx) error {
		released, err := e.Store.ReleaseTx(ctx, tx, s.tenantID, release)
		if err != nil {
			return err
		}
		// What a released item still holds is read again at the next pull
		// (this one's, when incremental), now free to match.
		reread := map[string]string{}
		for _, id := range release {
			// A record released because its pair changed is not in this
			// page: read it again (one released for a change of its own
			// is, and its re-read finds it settled).
			reread[id] = "released from the review queue: no other record holds its identity value any more"
			if s.released == nil {
				s.released = map[string]bool{}
			}
			s.released[id] = true
		}
		for _, it := range released {
			for _, c := range it.Candidates {
				reread[c.SalesforceID] = "released from the review queue: no other record holds its identity value any more"
				if s.released == nil {
					s.released = map[string]bool{}
				}
				s.released[c.SalesforceID] = true
			}
		}
		now := e.now()
		if err := e.Store.SetPullRetriesTx(ctx, tx, s.tenantID, reread, func(int) time.Time { return now }, nil); err != nil {
			return err
		}
		var prog RunProgress
		var logs []RunRecord
		for _, k := range keys {
			hg := groups[k]
			reasonFmt := hg.reason
			if reasonFmt == "" {
				reasonFmt = "%d Salesforce contacts share the identity value %q"
			}
			item := store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: identity.sfField, IdentityKey: k, ContactID: owners[k], RunID: s.run.ID}
			if hg.kind != "" {
				item.Kind, item.IdentityField, item.ContactID = hg.kind, hg.field, hg.contactID
			}
			if c, ok := contacts[item.ContactID]; ok {
				item.ContactValues = s.platformSnapshot(c)
			}
			item.Candidates = hg.candidates
			for _, rec := range hg.recs {
				id, _ := rec["Id"].(string)
				item.Candidates = append(item.Candidates, store.ReviewCandidate{SalesforceID: id, Values: s.salesforceSnapshot(rec)})
			}
			ids := make([]string, len(item.Candidates))
			for i, c := range item.Candidates {
				ids[i] = c.SalesforceID
			}
			g := ids
			fresh, err := e.Store.HoldTx(ctx, tx, s.tenantID, item)
			if err != nil {
				return err
			}
			for _, id := range fresh {
				prog.Counts.Ambiguous++
				logs = append(logs, RunRecord{RunID: s.run.ID, Kind: KindAmbiguous, SalesforceID: id, ContactID: item.ContactID, Field: item.IdentityField,
					ReasonCode: "ambiguous_salesforce", Reason: fmt.Sprintf(reasonFmt, len(g), k),
					Detail: "candidates: " + strings.Join(ids, ", ") + "; held for review"})
			}
		}
		if err := e.Store.AddRunRecordsTx(ctx, tx, s.tenantID, logs); err != nil {
			return err
		}
		return e.Store.UpdateRunTx(ctx, tx, s.tenantID, s.run.ID, prog)
	})
}

// salesforceSnapshot is a record's mapped values, by Salesforce field, for
// the review queue's side-by-side view.
func (s *session) salesforceSnapshot(rec map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range s.maps {
		if v := fieldValue(rec, m.sfField); v != nil {
			out[m.sfField] = v
		}
	}
	return out
}

// platformSnapshot is a platform contact's mapped values, by the
// Salesforce field each maps to.
func (s *session) platformSnapshot(c contact.Contact) map[string]any {
	out := map[string]any{}
	for _, m := range s.maps {
		if v := m.fromPlatform(c); !isBlank(v) {
			out[m.sfField] = jsonable(v)
		}
	}
	return out
}

// uniqueness decides, for a page's unlinked records, which may be matched
// by identity: records an admin kept apart or ignored are passed over
// (skipped), ones an admin linked match whatever else holds their value,
// and the others match only if no other in-scope record holds the same
// value, in this page or — outside full passes, which the census covered —
// anywhere in Salesforce (one query per page, by value). It marks the
// records it holds done and returns their groups; held records that no
// longer hold their item's value are added to release.
func (e *Engine) uniqueness(ctx context.Context, s *session, items []*pullItem, held map[string]int64, release *[]string, prog *RunProgress) (map[string]holdGroup, error) {
	groups := map[string]holdGroup{}
	if len(items) == 0 {
		return groups, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.sfID
	}
	decided := map[string]store.ReviewResolution{}
	if s.review {
		var err error
		if decided, err = e.Store.ReviewDecisions(ctx, s.tenantID, ids); err != nil {
			return nil, err
		}
	}
	itemKeys := map[int64]string{}
	byKey := map[string][]*pullItem{}
	for _, it := range items {
		switch decided[it.sfID] {
		case store.ResolutionApart, store.ResolutionIgnored:
			it.done = true
			prog.Counts.Skipped++
			continue
		case store.ResolutionLinked:
			continue // the admin's choice: matched by identity as it is
		}
		if itemID, ok := held[it.sfID]; ok {
			if s.fullPass {
				it.done = true // the census holds it on the value it still has
				continue
			}
			k, ok := itemKeys[itemID]
			if !ok {
				ri, err := e.Store.GetReviewItem(ctx, s.tenantID, itemID)
				if err != nil {
					return nil, err
				}
				k, itemKeys[itemID] = ri.IdentityKey, ri.IdentityKey
			}
			if k == it.key {
				it.done = true // still held; not logged again
				continue
			}
			*release = append(*release, it.sfID)
		}
		byKey[it.key] = append(byKey[it.key], it)
	}
	members := map[string]map[string]map[string]any{} // key → Id → record
	for k, list := range byKey {
		members[k] = map[string]map[string]any{}
		for _, it := range list {
			members[k][it.sfID] = it.rec
		}
	}
	linkedHolder := map[string]string{}
	ask := members
	if s.fullPass {
		// The census checked the records that were unlinked when it ran;
		// one unlinked since (its platform contact deleted) is checked now.
		ask = map[string]map[string]map[string]any{}
		for k, list := range byKey {
			if slices.ContainsFunc(list, func(it *pullItem) bool { return it.relinked }) {
				ask[k] = members[k]
			}
		}
	}
	if len(ask) > 0 {
		if err := e.othersHolding(ctx, s, ask, linkedHolder); err != nil {
			return nil, err
		}
	}
	for k, m := range members {
		if len(m) < 2 && linkedHolder[k] == "" {
			continue
		}
		g := holdGroup{}
		for _, id := range slices.Sorted(maps.Keys(m)) {
			g.recs = append(g.recs, m[id])
		}
		if linkedHolder[k] != "" && len(m) < 2 {
			g.reason = "%[2]q is also the identity value of Salesforce contact " + linkedHolder[k] + ", which is linked to a platform contact"
		}
		groups[k] = g
		for _, it := range byKey[k] {
			it.done = true
		}
	}
	return groups, nil
}

// othersHolding adds to members the other in-scope, unlinked records that
// hold each key, except those an admin kept apart or ignored, and notes in
// linkedHolder a linked record that holds a key.
func (e *Engine) othersHolding(ctx context.Context, s *session, members map[string]map[string]map[string]any, linkedHolder map[string]string) error {
	identity := s.maps[0]
	keys := slices.Sorted(maps.Keys(members))
	for chunk := range slices.Chunk(keys, 100) {
		match := syncconf.Match{Field: identity.sfField}
		for _, k := range chunk {
			if contact.Identity(identity.binding.Platform.Name) == contact.IdentityPhone {
				// Salesforce keeps phone numbers as typed: any spelling with
				// the number's digits in order, compared once normalised.
				match.Patterns = append(match.Patterns, phonePattern(k))
				continue
			}
			match.Values = append(match.Values, identityLiterals(identity, k)...)
		}
		q, err := s.cfg.ScopeSelect(s.describe, "Id", identity.sfField).AnyOf(match).Build()
		if err != nil {
			return err
		}
		var found []map[string]any
		it := s.client.Query(ctx, q, salesforce.QueryOptions{})
		for it.Next() {
			found = append(found, it.Record())
		}
		if err := it.Err(); err != nil {
			return err
		}
		var ids []string
		for _, rec := range found {
			id, _ := rec["Id"].(string)
			ids = append(ids, id)
		}
		decided, err := e.Store.ReviewDecisions(ctx, s.tenantID, ids)
		if err != nil {
			return err
		}
		links, err := e.Store.LinksBySalesforceID(ctx, s.tenantID, ids)
		if err != nil {
			return err
		}
		for _, rec := range found {
			id, _ := rec["Id"].(string)
			k, err := identity.fromSalesforce(rec)
			key, _ := k.(string)
			m, ok := members[key]
			if err != nil || !ok || m[id] != nil {
				continue
			}
			switch {
			case decided[id] == store.ResolutionApart || decided[id] == store.ResolutionIgnored:
			case links[id].SalesforceID != "":
				linkedHolder[key] = id
			default:
				m[id] = rec
			}
		}
	}
	return nil
}

// phonePattern is a LIKE pattern matching any spelling of an E.164 number:
// its digits in order, anything between them.
func phonePattern(e164 string) string {
	var b strings.Builder
	for _, r := range e164 {
		if r >= '0' && r <= '9' {
			b.WriteByte('%')
			b.WriteRune(r)
		}
	}
	b.WriteByte('%')
	return b.String()
}

// mergeNote is what followMerges says of a merged-away linked record.
type mergeNote struct{ code, reason string }

// followMerges handles the page's linked records that Salesforce merged
// into another (deleted, with MasterRecordId): the link follows the
// survivor when the survivor is linked to nobody — the platform contact
// keeps syncing, now with the survivor — and is held for review when the
// survivor is linked to another platform contact (two platform contacts
// may be one person; sfsync does not merge them on a guess). Either way
// the merged-away record's link goes. A survivor in the same page is then
// read as linked.
func (e *Engine) followMerges(ctx context.Context, s *session, items []*pullItem, links map[string]store.Link, changed *[]store.Link) (map[string]mergeNote, error) {
	var masters []string
	for _, it := range items {
		if _, linked := links[it.sfID]; it.deleted && it.master != "" && linked {
			masters = append(masters, it.master)
		}
	}
	if len(masters) == 0 {
		return nil, nil
	}
	masterLinks, err := e.Store.LinksBySalesforceID(ctx, s.tenantID, masters)
	if err != nil {
		return nil, err
	}
	inPage := map[string]bool{}
	for _, it := range items {
		inPage[it.sfID] = true
	}
	notes := map[string]mergeNote{}
	holds := map[string]holdGroup{}
	var release []string // survivors the link followed to: no longer held
	for _, it := range items {
		l, linked := links[it.sfID]
		if !it.deleted || it.master == "" || !linked {
			continue
		}
		ml, masterLinked := masterLinks[it.master]
		if it.converted {
			switch {
			case masterLinked && ml.ContactID != l.ContactID:
				notes[it.sfID] = mergeNote{"lead_converted_held", "converted in Salesforce into " + it.master + ", which is linked to another platform contact (" + ml.ContactID + "); unlinked, the platform contacts are kept"}
			case masterLinked:
				notes[it.sfID] = mergeNote{"lead_converted", "converted in Salesforce into " + it.master + ", already linked to the same platform contact"}
			default:
				notes[it.sfID] = mergeNote{"lead_converted", "converted in Salesforce into " + it.master + "; the link follows it"}
				moved := cloneLink(l)
				moved.SalesforceID = it.master
				links[it.master] = moved
				masterLinks[it.master] = moved
				if !inPage[it.master] {
					*changed = append(*changed, moved)
				}
			}
			continue
		}
		switch {
		case masterLinked && ml.ContactID == l.ContactID:
			notes[it.sfID] = mergeNote{"merged", "merged into " + it.master + " in Salesforce, already linked to the same platform contact"}
		case masterLinked:
			notes[it.sfID] = mergeNote{"merged_held", "merged into " + it.master + " in Salesforce, which is linked to another platform contact (" + ml.ContactID + "); held for review, the platform contacts are kept"}
			holds[it.master] = holdGroup{kind: store.ReviewMerge, field: "MasterRecordId", contactID: l.ContactID,
				candidates: []store.ReviewCandidate{{SalesforceID: it.master, ContactID: ml.ContactID}},
				reason:     "%[2]s: merged in Salesforce from a record linked to another platform contact"}
		default:
			notes[it.sfID] = mergeNote{"merged", "merged into " + it.master + " in Salesforce; the link follows it"}
			moved := cloneLink(l)
			moved.SalesforceID = it.master
			links[it.master] = moved
			masterLinks[it.master] = moved
			release = append(release, it.master)
			if !inPage[it.master] {
				*changed = append(*changed, moved)
			}
		}
	}
	return notes, e.hold(ctx, s, holds, release)
}
