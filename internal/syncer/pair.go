package syncer

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// The pair "Lead, then the converted Contact" (syncconf.ObjectLeadContact,
// issue 16 item 3). The session syncs Leads as the Lead choice does: new
// platform contacts are pushed as Leads, Leads are pulled, and a converted
// Lead's link moves to the Contact it became (convert.go). Its companion
// session, conv, syncs those Contacts with the same mappings
// (Config.ConvertedHalf): it never creates anything on either side, it
// only updates the Contacts that are linked.
//
//   - push: a contact linked to a Contact is pushed through conv; an
//     unlinked one whose identity value a Contact holds is matched to that
//     Contact (through conv, as a first match), never pushed as a new Lead;
//     when an open Lead holds the value too, the contact is held as
//     ambiguous (two people are never merged into one link).
//   - incremental pull: after the Leads, the Contacts changed since the
//     cursor are read (deleted ones too) and those linked are applied
//     through conv: values, deletions (unlink) and merges (followed).
//   - full pass: the links to Contacts the Lead pass does not see are read
//     by Id and applied through conv; deleted ones are unlinked.
//
// Identity uniqueness holds across both objects because links are one to
// one: a new Lead whose value belongs to a platform contact linked to a
// Contact is held for review as any record matching a taken contact is.

// openConverted opens the Contact half of a pair session; nothing for
// every other choice.
func (s *session) openConverted(env syncconf.Env) error {
	half, ok := s.cfg.ConvertedHalf()
	if !ok {
		return nil
	}
	henv := env
	henv.Describe, henv.Converted = env.Converted, nil
	bound, err := half.Bind(henv)
	if err != nil {
		return fmt.Errorf("the Contact half of the configuration no longer fits the org: %w", err)
	}
	s.conv = &session{tenantID: s.tenantID, client: s.client, describe: env.Converted, cfg: half, maps: mappingsOf(bound),
		rules: s.rules, run: s.run, calls0: s.calls0, review: s.review}
	return nil
}

// converted returns the Contact half with the run state of s (a reused
// push session moves on to a new run; a pull may release records).
func (s *session) converted() *session {
	c := s.conv
	c.run, c.calls0, c.released = s.run, s.calls0, s.released
	c.review = c.review || s.review
	c.limit, c.observe = s.limit, s.observe
	return c
}

// pushConverted pushes, through the Contact half, the contacts of ids that
// belong to a Contact: linked to one, or unlinked with an identity value
// that a Contact holds. It returns the rest, for the Lead session.
func (e *Engine) pushConverted(ctx context.Context, s *session, ids []string, byContact map[string][]int64) ([]string, error) {
	t := s.tenantID
	conv := s.converted()
	links, err := e.Store.LinksByContactID(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	contacts, err := e.Store.GetContacts(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	identity := conv.maps[0]
	var toConv, rest []string
	keyOf := map[string]string{} // unlinked contact → identity key
	var lits []string
	for _, id := range ids {
		if l, ok := links[id]; ok {
			if conv.ofObject(l.SalesforceID) && !s.ofObject(l.SalesforceID) {
				toConv = append(toConv, id)
			} else {
				rest = append(rest, id)
			}
			continue
		}
		c, ok := contacts[id]
		if !ok {
			rest = append(rest, id)
			continue
		}
		if v := identity.fromPlatform(c); !isBlank(v) {
			k, _ := v.(string)
			keyOf[id] = k
			lits = append(lits, identityLiterals(identity, k)...)
		} else {
			rest = append(rest, id)
		}
	}
	onContact, onLead := map[string][]string{}, map[string][]string{}
	if len(lits) > 0 {
		if err := e.holdersOf(ctx, conv, lits, nil, onContact); err != nil {
			return nil, err
		}
		var both []string
		for _, k := range keyOf {
			if len(onContact[k]) > 0 {
				both = append(both, identityLiterals(identity, k)...)
			}
		}
		if len(both) > 0 {
			// Open Leads holding a value a Contact holds too: two records,
			// maybe two people; neither is chosen.
			if err := e.holdersOf(ctx, s, both, []string{"IsConverted"}, onLead); err != nil {
				return nil, err
			}
		}
	}
	var logs []RunRecord
	var prog RunProgress
	failed := map[int64]string{}
	for _, id := range ids {
		k, ok := keyOf[id]
		switch {
		case !ok:
		case len(onContact[k]) > 0 && len(onLead[k]) > 0:
			cands := append(slices.Clone(onContact[k]), onLead[k]...)
			prog.Counts.Ambiguous++
			logs = append(logs, RunRecord{RunID: s.run.ID, Kind: KindAmbiguous, ContactID: id, Field: identity.sfField, ReasonCode: "ambiguous_salesforce",
				Reason: fmt.Sprintf("the identity value %q is held by a Contact and by an open Lead: %s", k, strings.Join(cands, ", ")),
				Detail: "candidates: " + strings.Join(cands, ", ")})
			for _, en := range byContact[id] {
				failed[en] = "ambiguous identity"
			}
		case len(onContact[k]) > 0:
			toConv = append(toConv, id)
		default:
			rest = append(rest, id)
		}
	}
	if len(logs) > 0 {
		if err := e.Store.Tx(ctx, func(tx *sql.Tx) error {
			if err := e.Store.FailOutboxTx(ctx, tx, t, failed, e.retryAt); err != nil {
				return err
			}
			if err := e.Store.AddRunRecordsTx(ctx, tx, t, logs); err != nil {
				return err
			}
			return e.Store.UpdateRunTx(ctx, tx, t, s.run.ID, prog)
		}); err != nil {
			return nil, err
		}
	}
	if len(toConv) > 0 {
		if err := e.pushBatchOf(ctx, conv, toConv, byContact, false); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// holdersOf reads the records of s's object holding one of the identity
// literals, and adds their Ids to out by identity key. With "IsConverted"
// in extra, converted Leads are left out.
func (e *Engine) holdersOf(ctx context.Context, s *session, lits, extra []string, out map[string][]string) error {
	identity := s.maps[0]
	fields := append([]string{"Id", identity.sfField}, extra...)
	for chunk := range slices.Chunk(lits, 200) {
		q, err := syncconf.NewQuery(s.describe).Select(fields...).FieldIn(identity.sfField, chunk).Build()
		if err != nil {
			return err
		}
		it := s.client.Query(ctx, q, salesforce.QueryOptions{})
		for it.Next() {
			rec := it.Record()
			if slices.Contains(extra, "IsConverted") && isTrue(fieldValue(rec, "IsConverted")) {
				continue
			}
			k, err := identity.fromSalesforce(rec)
			if err != nil || k == nil {
				continue
			}
			id, _ := rec["Id"].(string)
			out[k.(string)] = append(out[k.(string)], id)
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	return nil
}

// pullConverted is the Contact half of an incremental pull of the pair:
// the Contacts changed since the cursor (minus the lookback), deleted ones
// too, of which the linked ones are applied, and the failed Contacts due
// for a retry. It returns the newer of newest and the newest
// SystemModstamp it read.
func (e *Engine) pullConverted(ctx context.Context, s *session, cursor, newest time.Time) (time.Time, error) {
	conv := s.converted()
	fields, sc, err := e.changeFields(conv)
	if err != nil {
		return newest, err
	}
	q, err := syncconf.NewQuery(conv.describe).Select(fields...).ModifiedAfter(cursor.Add(-e.lookback())).OrderBy("SystemModstamp", "Id").Build()
	if err != nil {
		return newest, err
	}
	seen := map[string]bool{}
	err = e.pipeline(ctx, conv, sc, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
		it := conv.client.QueryAll(ctx, q, salesforce.QueryOptions{BatchSize: min(2000, max(200, e.pageSize()))})
		return e.emitLinked(ctx, conv, it, emit, func(rec map[string]any) {
			if t := parseSFTime(fieldValue(rec, "SystemModstamp")); t.After(newest) {
				newest = t
			}
			id, _ := rec["Id"].(string)
			seen[id] = true
		})
	})
	if err != nil {
		return newest, err
	}
	due, err := e.Store.DuePullRetries(ctx, s.tenantID, e.now(), 500)
	if err != nil {
		return newest, err
	}
	var ids []string
	for _, r := range due {
		if conv.ofObject(r.SalesforceID) && !s.ofObject(r.SalesforceID) && (!seen[r.SalesforceID] || s.released[r.SalesforceID]) {
			ids = append(ids, r.SalesforceID)
		}
	}
	if len(ids) == 0 {
		return newest, nil
	}
	return newest, e.readConverted(ctx, conv, sc, fields, ids)
}

// readConverted reads Contacts by Id (deleted ones too) and applies the
// linked ones through the Contact half.
func (e *Engine) readConverted(ctx context.Context, conv *session, sc *scope, fields, ids []string) error {
	q, err := syncconf.NewQuery(conv.describe).Select(fields...).IDIn(ids).Build()
	if err != nil {
		return err
	}
	return e.pipeline(ctx, conv, sc, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
		return e.emitLinked(ctx, conv, conv.client.QueryAll(ctx, q, salesforce.QueryOptions{}), emit, nil)
	})
}

// emitLinked emits the records of it that are linked (looked up a page at
// a time); seen, if set, sees every record read.
func (e *Engine) emitLinked(ctx context.Context, s *session, it *salesforce.QueryIterator, emit func(map[string]any) error, seen func(map[string]any)) error {
	var buf []map[string]any
	flush := func() error {
		ids := make([]string, len(buf))
		for i, rec := range buf {
			ids[i], _ = rec["Id"].(string)
		}
		links, err := e.Store.LinksBySalesforceID(ctx, s.tenantID, ids)
		if err != nil {
			return err
		}
		for i, rec := range buf {
			if _, ok := links[ids[i]]; ok {
				if err := emit(rec); err != nil {
					return err
				}
			}
		}
		buf = buf[:0]
		return nil
	}
	for it.Next() {
		rec := it.Record()
		if seen != nil {
			seen(rec)
		}
		if buf = append(buf, rec); len(buf) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	return flush()
}

// settleConverted is settleUnseen's part for the pair: the links to
// Contacts that a full pass of Leads did not see are read by Id (deleted
// ones too) and applied through the Contact half: values pulled, deleted
// ones unlinked, merges followed. Those Salesforce no longer returns at
// all are unlinked; every other one is saved again, so the pass does not
// look at it twice. It returns the links to neither object, to be kept.
func (e *Engine) settleConverted(ctx context.Context, s *session, other []store.Link) ([]store.Link, error) {
	if s.conv == nil || len(other) == 0 {
		return other, nil
	}
	t := s.tenantID
	conv := s.converted()
	var ids []string
	var keep []store.Link
	for _, l := range other {
		if conv.ofObject(l.SalesforceID) {
			ids = append(ids, l.SalesforceID)
		} else {
			keep = append(keep, l)
		}
	}
	if len(ids) == 0 {
		return keep, nil
	}
	fields, sc, err := e.changeFields(conv)
	if err != nil {
		return nil, err
	}
	q, err := syncconf.NewQuery(conv.describe).Select(fields...).IDIn(ids).Build()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	err = e.pipeline(ctx, conv, sc, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
		return e.emitLinked(ctx, conv, conv.client.QueryAll(ctx, q, salesforce.QueryOptions{}), emit, func(rec map[string]any) {
			id, _ := rec["Id"].(string)
			seen[id] = true
		})
	})
	if err != nil {
		return nil, err
	}
	links, err := e.Store.LinksBySalesforceID(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	var prog RunProgress
	var logs []RunRecord
	var unlink []string
	var save []store.Link
	for _, id := range ids {
		l, ok := links[id]
		switch {
		case !ok: // unlinked by the apply (deleted) or moved (merged)
		case !seen[id]:
			unlink = append(unlink, id)
			prog.Counts.Unlinked++
			logs = append(logs, RunRecord{RunID: s.run.ID, Kind: KindUnlinked, SalesforceID: id, ContactID: l.ContactID,
				ReasonCode: "deleted_in_salesforce", Reason: "deleted in Salesforce; the platform contact is kept and unlinked"})
		default:
			save = append(save, l)
		}
	}
	err = e.Store.Tx(ctx, func(tx *sql.Tx) error {
		if err := e.Store.DeleteLinksTx(ctx, tx, t, unlink); err != nil {
			return err
		}
		if err := e.Store.SaveLinksTx(ctx, tx, t, save); err != nil {
			return err
		}
		if err := e.Store.AddRunRecordsTx(ctx, tx, t, logs); err != nil {
			return err
		}
		return e.Store.UpdateRunTx(ctx, tx, t, s.run.ID, prog)
	})
	return keep, err
}
