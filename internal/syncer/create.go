package syncer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// This file is what sfsync sets on the Salesforce records it creates
// (issue 16 item 4): constants, owner, record type, account, and what a
// duplicate rule's refusal does.

// createDefaults fills a new record with the configuration's constants,
// owner, record type and account, where the mapped values left them
// unset. A Person Account without a chosen record type gets the org's
// person record type, looked up once per session.
func (s *session) createDefaults(ctx context.Context, rec salesforce.Record) error {
	o := s.cfg.Create
	set := func(field string, v any) {
		f, ok := s.describe.Field(field)
		if !ok {
			return
		}
		for k := range rec {
			if strings.EqualFold(k, f.Name) {
				return // a mapped value wins
			}
		}
		rec[f.Name] = v
	}
	for _, k := range o.Constants {
		f, ok := s.describe.Field(k.SalesforceField)
		if !ok {
			continue
		}
		v, err := syncconf.ConstantValueFor(f, k.Value)
		if err != nil {
			continue // Validate refused it at save; the describe changed since
		}
		set(f.Name, v)
	}
	if o.Owner == syncconf.OwnerUser && o.OwnerID != "" {
		set("OwnerId", o.OwnerID)
	}
	if o.AccountID != "" && s.cfg.Choice() == syncconf.ObjectContact {
		set("AccountId", o.AccountID)
	}
	rt := o.RecordTypeID
	if rt == "" && s.cfg.Choice() == syncconf.ObjectPersonAccount {
		var err error
		if rt, err = s.personRecordType(ctx); err != nil {
			return err
		}
	}
	if rt != "" {
		set("RecordTypeId", rt)
	}
	return nil
}

// personRecordType is the org's first active Person Account record type.
func (s *session) personRecordType(ctx context.Context) (string, error) {
	if s.personRT != "" {
		return s.personRT, nil
	}
	it := s.client.Query(ctx, syncconf.PersonRecordTypeSOQL(), salesforce.QueryOptions{})
	for it.Next() {
		if id, _ := it.Record()["Id"].(string); id != "" && s.personRT == "" {
			s.personRT = id
		}
	}
	if err := it.Err(); err != nil {
		return "", fmt.Errorf("find the person account record type: %w", err)
	}
	if s.personRT == "" {
		return "", fmt.Errorf("the org has no active person account record type")
	}
	return s.personRT, nil
}

// writeOptions are the headers of the session's creates: the
// assignment-rule header when the owner policy asks for one.
func (s *session) writeOptions() salesforce.WriteOptions {
	switch s.cfg.Create.Owner {
	case syncconf.OwnerAssignmentRules:
		t := true
		return salesforce.WriteOptions{AutoAssign: &t}
	case syncconf.OwnerUser:
		f := false
		return salesforce.WriteOptions{AutoAssign: &f}
	}
	return salesforce.WriteOptions{}
}

// dupItem is a create a duplicate rule refused, with the existing
// records it named.
type dupItem struct {
	it  *pushItem
	ids []string
}

// isDuplicate reports a create refused by a duplicate rule.
func isDuplicate(r salesforce.SaveResult) bool {
	for _, e := range r.Errors {
		if e.StatusCode == salesforce.CodeDuplicatesDetected {
			return true
		}
	}
	return false
}

// createOne sends one refused create again on its own, through the
// single-record call whose refusal names the duplicates. It returns the
// new Id if the record was created after all, or the duplicates' Ids; an
// error is the call's (an *salesforce.APIError for another refusal).
func (s *session) createOne(ctx context.Context, rec salesforce.Record) (string, []string, error) {
	id, err := s.client.CreateRecord(ctx, s.describe.Name, rec, s.writeOptions())
	if err == nil {
		return id, nil, nil
	}
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		var ids []string
		for _, e := range ae.Errors {
			if e.ErrorCode == salesforce.CodeDuplicatesDetected {
				ids = append(ids, e.DuplicateIDs()...)
			}
		}
		if len(ids) > 0 {
			return "", ids, nil
		}
	}
	return "", nil, err
}

// duplicateIDs returns the records a DUPLICATES_DETECTED answer names.
func duplicateIDs(r salesforce.SaveResult) []string {
	var out []string
	for _, e := range r.Errors {
		if e.StatusCode == salesforce.CodeDuplicatesDetected {
			out = append(out, e.DuplicateIDs()...)
		}
	}
	return out
}

// duplicates settles the creates a duplicate rule refused. Nothing was
// created. With OnDuplicate link, a contact whose refusal names exactly
// one record that no other contact is linked to is linked to it (the
// link has no synced values yet, so the next pull decides as at a first
// match) and returned to be saved with the batch; otherwise the contact
// is held in the review queue with the named records as candidates, its
// outbox entries acknowledged (an admin's link settles it).
func (e *Engine) duplicates(ctx context.Context, s *session, items []dupItem, prog *RunProgress,
	record func(RecordKind, *pushItem, string, string, string, string), ack *[]int64) ([]*pushItem, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var all []string
	for _, d := range items {
		all = append(all, d.ids...)
	}
	taken, err := e.Store.LinksBySalesforceID(ctx, s.tenantID, all)
	if err != nil {
		return nil, err
	}
	identity := s.maps[0]
	var linked []*pushItem
	var holds []store.ReviewItem
	for _, d := range items {
		it := d.it
		if s.cfg.Create.Duplicates() == syncconf.DuplicateLink && len(d.ids) == 1 {
			if l, ok := taken[d.ids[0]]; !ok || l.ContactID == it.c.ID {
				it.sfID = d.ids[0]
				it.newLink = store.Link{SalesforceID: d.ids[0], ContactID: it.c.ID, SFValues: map[string]any{}, PFValues: map[string]any{}}
				it.pfChanged = false
				record(KindSkipped, it, "", "duplicate_linked",
					fmt.Sprintf("Salesforce's duplicate rule matched the existing record %s; linked to it instead of creating one", d.ids[0]),
					"duplicate of "+d.ids[0])
				linked = append(linked, it)
				continue
			}
		}
		prog.Counts.Ambiguous++
		record(KindAmbiguous, it, identity.sfField, "duplicate_review",
			"Salesforce's duplicate rule refused a new record; the existing record it matched is offered in the review queue: "+strings.Join(d.ids, ", "),
			"candidates: "+strings.Join(d.ids, ", "))
		item := store.ReviewItem{Kind: store.ReviewDuplicate, IdentityField: identity.sfField, IdentityKey: it.key,
			ContactID: it.c.ID, ContactValues: s.platformSnapshot(it.c), RunID: s.run.ID}
		for _, id := range d.ids {
			c := store.ReviewCandidate{SalesforceID: id}
			if l, ok := taken[id]; ok {
				c.ContactID = l.ContactID
			}
			item.Candidates = append(item.Candidates, c)
		}
		holds = append(holds, item)
		*ack = append(*ack, it.entryIDs...)
	}
	if len(holds) > 0 {
		s.review = true
		err := e.Store.Tx(ctx, func(tx *sql.Tx) error {
			for _, h := range holds {
				if _, err := e.Store.HoldTx(ctx, tx, s.tenantID, h); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return linked, nil
}
