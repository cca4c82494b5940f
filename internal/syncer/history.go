package syncer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// Field provenance (SPEC Y3): every value the pull or the push writes is
// recorded with the run that carried it and, when both sides disagreed,
// the rule that decided, in one compact row per contact and write
// (store.FieldHistoryEntry), in the transaction that applies the write.

// Sides of a field change.
const (
	SideSalesforce = "salesforce"
	SidePlatform   = "platform"
)

// historyOf is the field change a decision makes, if it writes: the
// winning side, its value, the value it replaces and the rule (a conflict
// or override code, "" when only one side changed). sfJSON and pfJSON are
// both sides' current values in stored form.
func historyOf(m mapping, d FieldDecision, rule string, creates bool, sfJSON, pfJSON any) (store.FieldChange, bool) {
	ch := store.FieldChange{Key: m.key, SFField: m.sfField, Rule: rule, Created: creates}
	switch d.Write {
	case WriteToPlatform:
		ch.Side, ch.Value, ch.Old = SideSalesforce, sfJSON, pfJSON
	case WriteToSalesforce:
		ch.Side, ch.Value, ch.Old = SidePlatform, pfJSON, sfJSON
	default:
		return ch, false
	}
	if creates {
		ch.Old = nil
	}
	return ch, true
}

func (s *session) historyEntry(contactID, sfID string, changes []store.FieldChange) store.FieldHistoryEntry {
	return store.FieldHistoryEntry{ContactID: contactID, SalesforceID: sfID, RunID: s.run.ID, Direction: s.run.Direction, Changes: changes}
}

// historyRetention is how long field history is kept (90 days).
func (e *Engine) historyRetention() time.Duration {
	return orDefault(e.HistoryRetention, 90*24*time.Hour)
}

// ContactHistory is a platform contact's sync history (Y3): its link, the
// last run each way that wrote to it, and its field changes, newest first.
type ContactHistory struct {
	Contact contact.Contact `json:"-"`
	// Linked is false for a contact no Salesforce record is linked to.
	Linked       bool                      `json:"linked"`
	SalesforceID string                    `json:"salesforce_id,omitempty"`
	OutOfScope   bool                      `json:"out_of_scope,omitempty"`
	LastSynced   map[string]any            `json:"last_synced,omitempty"` // the link's values by mapping key
	LastPull     *store.FieldHistoryEntry  `json:"-"`
	LastPush     *store.FieldHistoryEntry  `json:"-"`
	Entries      []store.FieldHistoryEntry `json:"-"`
}

// ContactHistory returns a contact's sync history: at most limit entries
// (100 when 0). store.ErrNotFound when the tenant has no such contact.
func (e *Engine) ContactHistory(ctx context.Context, tenantID, contactID string, limit int) (ContactHistory, error) {
	c, err := e.Store.GetContact(ctx, tenantID, contactID)
	if err != nil {
		return ContactHistory{}, err
	}
	h := ContactHistory{Contact: c}
	links, err := e.Store.LinksByContactID(ctx, tenantID, []string{contactID})
	if err != nil {
		return h, err
	}
	if l, ok := links[contactID]; ok {
		h.Linked, h.SalesforceID, h.OutOfScope, h.LastSynced = true, l.SalesforceID, l.OutOfScope, l.SFValues
	}
	if h.Entries, err = e.Store.FieldHistory(ctx, tenantID, contactID, limit); err != nil {
		return h, err
	}
	for i := range h.Entries {
		en := &h.Entries[i]
		switch {
		case en.Direction == DirToPlatform && h.LastPull == nil:
			h.LastPull = en
		case en.Direction == DirToSalesforce && h.LastPush == nil:
			h.LastPush = en
		}
	}
	return h, nil
}

// ResyncResult says what "resync this contact" did.
type ResyncResult struct {
	// PullRun is the run that read the linked Salesforce record again (0
	// when the contact is not linked or the configuration does not pull).
	PullRun Run `json:"pull_run"`
	// PushQueued: the platform side was queued for the push, which
	// decides field by field as for any change (false when the
	// configuration does not push).
	PushQueued bool `json:"push_queued"`
}

// ErrNothingToResync: the configuration neither pulls the contact's
// linked record nor pushes.
var ErrNothingToResync = errors.New("syncer: nothing to resync: the contact is not linked and the configuration does not push")

// ResyncContact syncs one platform contact again: its linked Salesforce
// record is read by Id and applied through the pull's decisions (a run of
// its own, trigger contact_resync), then the contact is queued for the
// push, which decides each field as for any platform change. An admin's
// pause of a direction holds its half back (the push entry waits).
func (e *Engine) ResyncContact(ctx context.Context, tenantID, contactID string) (ResyncResult, error) {
	var res ResyncResult
	if _, err := e.Store.GetContact(ctx, tenantID, contactID); err != nil {
		return res, err
	}
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return res, err
	}
	if st.ConfigVersion == 0 {
		return res, ErrNotConfigured
	}
	cfg, _, err := e.CurrentConfig(ctx, tenantID)
	if err != nil {
		return res, err
	}
	links, err := e.Store.LinksByContactID(ctx, tenantID, []string{contactID})
	if err != nil {
		return res, err
	}
	l, linked := links[contactID]
	if !(linked && cfg.PullsFromSalesforce()) && !cfg.PushesToSalesforce() {
		return res, ErrNothingToResync
	}
	if linked && cfg.PullsFromSalesforce() {
		if _, err := e.Conn.Client(ctx, tenantID); err != nil {
			return res, err
		}
		run, err := e.Store.CreateRun(ctx, Run{TenantID: tenantID, Direction: DirToPlatform, Trigger: TriggerContactResync, Status: StatusRunning, ConfigVersion: st.ConfigVersion})
		if err != nil {
			return res, err
		}
		// A failed read fails the run (its message says why); the push
		// half still goes.
		runErr := e.pullOne(ctx, tenantID, run, l.SalesforceID)
		if res.PullRun, err = e.finishOneRun(ctx, tenantID, run, runErr); err != nil {
			return res, err
		}
	}
	if cfg.PushesToSalesforce() {
		entry := store.OutboxEntry{TenantID: tenantID, ContactID: contactID, Op: store.OpUpdate, Origin: contact.OriginReconcile}
		if err := e.Store.InsertOutbox(ctx, tenantID, []store.OutboxEntry{entry}); err != nil {
			return res, err
		}
		res.PushQueued = true
		if e.Queue != nil {
			if err := e.Queue.EnqueuePush(ctx, tenantID); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// pullOne reads one Salesforce record by Id and applies it as a page.
func (e *Engine) pullOne(ctx context.Context, tenantID string, run Run, sfID string) error {
	s, err := e.openSession(ctx, tenantID, run)
	if err != nil {
		return err
	}
	defer e.saveUsage(ctx, tenantID, s.client)
	if s.conv != nil && !s.ofObject(sfID) && s.conv.ofObject(sfID) {
		s = s.converted() // the pair: a converted Lead's Contact (pair.go)
	}
	scopeQ, err := s.cfg.ScopeSelect(s.describe, "Id").Build()
	if err != nil {
		return err
	}
	sc, err := newScope(s.describe, scopeQ, e.now())
	if err != nil {
		return err
	}
	extra := []string{"IsDeleted"}
	if _, ok := s.describe.Field("MasterRecordId"); ok {
		extra = append(extra, "MasterRecordId")
	}
	for _, c := range s.cfg.Conditions {
		extra = append(extra, c.SalesforceField)
	}
	fields, err := s.selectList(extra...)
	if err != nil {
		return err
	}
	q, err := syncconf.NewQuery(s.describe).Select(fields...).IDIn([]string{sfID}).Build()
	if err != nil {
		return err
	}
	err = e.pipeline(ctx, s, sc, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
		it := s.client.QueryAll(ctx, q, salesforce.QueryOptions{})
		for it.Next() {
			if err := emit(it.Record()); err != nil {
				return err
			}
		}
		return it.Err()
	})
	if err == nil {
		if err := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: s.calls()}); err != nil {
			return err
		}
	}
	return err
}

// finishOneRun ends a one-record run; unlike endPull it leaves the
// schedule and the cursor alone. runErr fails the run; the error returned
// is the store's only.
func (e *Engine) finishOneRun(ctx context.Context, tenantID string, run Run, runErr error) (Run, error) {
	p := RunProgress{Status: StatusSucceeded, Finished: true}
	if runErr != nil {
		msg := "failed: " + runErr.Error()
		p.Status, p.Message = StatusFailed, &msg
	} else {
		final, err := e.Store.GetRun(ctx, tenantID, run.ID)
		if err != nil {
			return run, err
		}
		if final.Counts.Failed > 0 || final.Counts.Ambiguous > 0 {
			p.Status = StatusPartiallyFailed
		}
	}
	if err := e.Store.UpdateRun(ctx, tenantID, run.ID, p); err != nil {
		return run, err
	}
	if runErr != nil {
		e.log().WarnContext(ctx, "resync of one contact failed", "tenant_id", tenantID, "run_id", run.ID, "error", runErr)
	}
	return e.Store.GetRun(ctx, tenantID, run.ID)
}

// Pause returns the admin's pause of each direction.
func (e *Engine) Pause(ctx context.Context, tenantID string) (store.SyncPause, error) {
	return e.Store.GetSyncPause(ctx, tenantID)
}

// SetPause pauses or resumes each direction without disconnecting:
// scheduled polls (and real-time change events) skip while Salesforce →
// platform is paused, real-time pushes while platform → Salesforce is;
// changes wait in the outbox and are pushed once it resumes. Manual syncs
// still run.
func (e *Engine) SetPause(ctx context.Context, tenantID string, p store.SyncPause) error {
	if err := e.Store.SetSyncPause(ctx, tenantID, p); err != nil {
		return err
	}
	if !p.ToSalesforce && e.Queue != nil {
		// Changes that waited go out now.
		if n, err := e.Store.CountOutbox(ctx, tenantID); err == nil && n > 0 {
			return e.Queue.EnqueuePush(ctx, tenantID)
		}
	}
	return nil
}

// Ways to find a platform contact for its history.
const (
	FindByContactID = "contact_id"
	FindByMemberID  = "member_id"
	FindByPhone     = "phone"
	FindByEmail     = "email"
	FindBySocial    = "social" // channel_type:user_id or channel_type:channel_id:user_id
)

// FindError says why a look-up value cannot be used.
type FindError struct{ By, Reason string }

func (e *FindError) Error() string { return "syncer: find by " + e.By + ": " + e.Reason }

// FindContacts finds the tenant's platform contacts by one identity value,
// normalised as the platform stores it (a phone in the tenant's region).
// At most 10 are returned (a social ID may belong to several channels).
func (e *Engine) FindContacts(ctx context.Context, tenantID, by, value string) ([]contact.Contact, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, &FindError{By: by, Reason: "give a value to look for"}
	}
	f := store.ContactFilter{Limit: 10}
	switch by {
	case FindByContactID:
		c, err := e.Store.GetContact(ctx, tenantID, value)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []contact.Contact{c}, nil
	case FindByMemberID:
		f.MemberID = contact.NormalizeMemberID(value)
	case FindByPhone:
		t, err := e.Store.GetTenant(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		p, err := contact.NormalizePhone(value, t.PhoneRegion)
		if err != nil {
			return nil, &FindError{By: by, Reason: err.Error()}
		}
		f.Phone = p
	case FindByEmail:
		m, err := contact.NormalizeEmail(value)
		if err != nil {
			return nil, &FindError{By: by, Reason: err.Error()}
		}
		f.Email = m
	case FindBySocial:
		parts := strings.Split(value, ":")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		var si contact.SocialIdentity
		switch len(parts) {
		case 1:
			return nil, &FindError{By: by, Reason: "must be channel_type:user_id or channel_type:channel_id:user_id"}
		case 2:
			si = contact.SocialIdentity{ChannelType: strings.ToLower(parts[0]), UserID: parts[1]}
		default:
			si = contact.SocialIdentity{ChannelType: strings.ToLower(parts[0]), ChannelID: parts[1], UserID: strings.Join(parts[2:], ":")}
		}
		if si.ChannelType == "" || si.UserID == "" {
			return nil, &FindError{By: by, Reason: "channel type and user ID are both required"}
		}
		f.Social = &si
	default:
		return nil, &FindError{By: by, Reason: "look up by contact_id, member_id, phone, email or social"}
	}
	return e.Store.ListContacts(ctx, tenantID, f)
}
