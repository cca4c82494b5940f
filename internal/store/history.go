package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// FieldChange is one value a sync wrote (SPEC Y3): which side's change it
// carried, the value and the one it replaced (platform form), and the
// rule that decided when both sides disagreed.
type FieldChange struct {
	Key     string `json:"k"`           // the mapping's key
	SFField string `json:"f,omitempty"` // the Salesforce field (left out when the key names it: keyField)
	Side    string `json:"s,omitempty"` // "salesforce" or "platform": whose value was written to the other
	Value   any    `json:"v"`           // the value written
	Old     any    `json:"o,omitempty"` // the value it replaced on the other side
	Rule    string `json:"r,omitempty"` // the conflict or override code (conflict_newest_wins …), "" when only one side changed
	Created bool   `json:"c,omitempty"` // the write created the record on the other side
}

// FieldHistoryEntry is one applied write of a run to one contact: the
// fields it changed.
type FieldHistoryEntry struct {
	ID           int64
	ContactID    string
	SalesforceID string
	RunID        int64
	Direction    Direction
	At           time.Time
	Changes      []FieldChange
}

// AddFieldHistoryTx records applied writes inside the transaction that
// applies them, so a rolled-back page (or a dry run) leaves none.
func (s *Store) AddFieldHistoryTx(ctx context.Context, tx *sql.Tx, tenantID string, entries []FieldHistoryEntry) error {
	now := micros(s.Now())
	if s.Dialect == Postgres {
		return s.addFieldHistoryPostgres(ctx, tx, tenantID, entries, now)
	}
	const per = 7
	for chunk := range stmtChunks(entries, 256) {
		args := make([]any, 0, len(chunk)*per)
		for _, e := range chunk {
			at, changes, ok, err := historyRow(e, now)
			if err != nil {
				return err
			}
			if ok {
				args = append(args, tenantID, e.ContactID, e.SalesforceID, e.RunID, string(e.Direction), at, changes)
			}
		}
		if len(args) == 0 {
			continue
		}
		// SQLite (PostgreSQL returned above): the tenant, run, direction
		// and time a chunk shares are bound once (sharedValues).
		vals, args := sharedValues(per, args)
		if _, err := tx.ExecContext(ctx, s.insertInto()+` field_history (tenant_id, contact_id, salesforce_id, run_id, direction, at, changes)
			VALUES `+vals, args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// historyRow is what an entry stores: its time (now when it has none)
// and its encoded changes; ok is false for an entry with nothing to store.
func historyRow(e FieldHistoryEntry, now int64) (at int64, changes string, ok bool, err error) {
	if len(e.Changes) == 0 || e.ContactID == "" {
		return 0, "", false, nil
	}
	b, err := encodeChanges(e.Changes)
	if err != nil {
		return 0, "", false, fmt.Errorf("field history of %s: %w", e.ContactID, err)
	}
	at = now
	if !e.At.IsZero() {
		at = micros(e.At)
	}
	return at, string(b), true, nil
}

// addFieldHistoryPostgres is AddFieldHistoryTx on PostgreSQL: one
// INSERT … SELECT FROM unnest(arrays) for all entries, not a VALUES list
// of seven parameters a row that the server parses and plans for every
// chunk (issue 14: 11% of a first sync's client CPU on PostgreSQL, and
// more of the server's).
func (s *Store) addFieldHistoryPostgres(ctx context.Context, tx *sql.Tx, tenantID string, entries []FieldHistoryEntry, now int64) error {
	n := len(entries)
	cid, sfid, dir, changes := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	run, at := make([]int64, 0, n), make([]int64, 0, n)
	for _, e := range entries {
		t, b, ok, err := historyRow(e, now)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		cid, sfid, dir, changes = append(cid, e.ContactID), append(sfid, e.SalesforceID), append(dir, string(e.Direction)), append(changes, b)
		run, at = append(run, e.RunID), append(at, t)
	}
	if len(cid) == 0 {
		return nil
	}
	// No switch to plan_cache_mode auto (autoPlans): field history checks
	// no foreign key (migration 00037).
	_, err := tx.ExecContext(ctx, `INSERT INTO field_history (tenant_id, contact_id, salesforce_id, run_id, direction, at, changes)
			SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[])`,
		tenantID, cid, sfid, run, dir, at, changes)
	return mapErr(err)
}

// sharedChanges is how a write's changes are stored when they all carried
// the same side's value and all created the record or none did (a first
// sync's every entry): the side and the created flag once, not in each
// change — 150 bytes less for a contact created with six mapped values
// (issue 14). Other entries are stored as a JSON array of changes.
type sharedChanges struct {
	Side    string        `json:"s"`
	Created bool          `json:"c,omitempty"`
	Changes []FieldChange `json:"ch"`
}

// keyField is the Salesforce field a mapping key names between its kind
// and '>' ("field:MobilePhone>phone" → "MobilePhone"), "" when it has no
// such part. A change whose SFField is that is stored without it (22
// bytes a change for a field like Member_Number__c).
func keyField(key string) string {
	_, rest, ok := strings.Cut(key, ":")
	if !ok {
		return ""
	}
	f, _, ok := strings.Cut(rest, ">")
	if !ok {
		return ""
	}
	return f
}

func encodeChanges(changes []FieldChange) ([]byte, error) {
	changes = slices.Clone(changes)
	for i := range changes {
		if changes[i].SFField != "" && changes[i].SFField == keyField(changes[i].Key) {
			changes[i].SFField = ""
		}
	}
	var v any = changes
	if len(changes) > 1 && !slices.ContainsFunc(changes, func(c FieldChange) bool {
		return c.Side != changes[0].Side || c.Created != changes[0].Created
	}) {
		sh := sharedChanges{Side: changes[0].Side, Created: changes[0].Created, Changes: changes}
		for i := range sh.Changes {
			sh.Changes[i].Side, sh.Changes[i].Created = "", false
		}
		v = sh
	}
	size := 32
	for _, c := range changes {
		size += 24 + len(c.Key) + len(c.SFField) + len(c.Side) + len(c.Rule)
		if v, ok := c.Value.(string); ok {
			size += len(v)
		}
	}
	if b, ok := appendChanges(make([]byte, 0, size), v); ok {
		return b, nil
	}
	// Without HTML escaping: a mapping key's '>' is one byte, not six.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func decodeChanges(s string) ([]FieldChange, error) {
	var out []FieldChange
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, err
		}
	} else {
		var sh sharedChanges
		if err := json.Unmarshal([]byte(s), &sh); err != nil {
			return nil, err
		}
		for i := range sh.Changes {
			sh.Changes[i].Side, sh.Changes[i].Created = sh.Side, sh.Created
		}
		out = sh.Changes
	}
	for i := range out {
		if out[i].SFField == "" {
			out[i].SFField = keyField(out[i].Key)
		}
	}
	return out, nil
}

// FieldHistory returns a contact's recorded writes, newest first, at most
// limit (100 when 0).
func (s *Store) FieldHistory(ctx context.Context, tenantID, contactID string, limit int) ([]FieldHistoryEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db().QueryContext(ctx, `SELECT id, contact_id, salesforce_id, run_id, direction, at, changes FROM field_history
		WHERE tenant_id = $1 AND contact_id = $2 ORDER BY id DESC LIMIT $3`, tenantID, contactID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []FieldHistoryEntry
	for rows.Next() {
		var e FieldHistoryEntry
		var dir, changes string
		var at int64
		var err error
		if err := rows.Scan(&e.ID, &e.ContactID, &e.SalesforceID, &e.RunID, &dir, &at, &changes); err != nil {
			return nil, mapErr(err)
		}
		e.Direction, e.At = Direction(dir), fromMicros(at)
		if e.Changes, err = decodeChanges(changes); err != nil {
			return nil, fmt.Errorf("field history %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// PruneFieldHistory deletes recorded writes older than before and returns
// how many went.
func (s *Store) PruneFieldHistory(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db().ExecContext(ctx, `DELETE FROM field_history WHERE at < $1`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

// SyncPause is an admin's pause of each direction.
type SyncPause struct {
	ToPlatform   bool `json:"to_platform"`   // Salesforce → platform: scheduled polls (and CDC) skip
	ToSalesforce bool `json:"to_salesforce"` // platform → Salesforce: real-time pushes skip
}

// GetSyncPause returns a tenant's pause; none for a tenant that never synced.
func (s *Store) GetSyncPause(ctx context.Context, tenantID string) (SyncPause, error) {
	var p SyncPause
	err := s.db().QueryRowContext(ctx, `SELECT pull_paused, push_paused FROM sync_state WHERE tenant_id = $1`, tenantID).Scan(&p.ToPlatform, &p.ToSalesforce)
	if err == sql.ErrNoRows {
		return SyncPause{}, nil
	}
	return p, mapErr(err)
}

// SetSyncPause sets a tenant's pause, leaving the rest of its sync state.
func (s *Store) SetSyncPause(ctx context.Context, tenantID string, p SyncPause) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO sync_state (tenant_id, pull_paused, push_paused, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET pull_paused = excluded.pull_paused, push_paused = excluded.push_paused, updated_at = excluded.updated_at`,
		tenantID, p.ToPlatform, p.ToSalesforce, micros(s.Now()))
	return mapErr(err)
}

// InsertOutbox records outbox entries of one tenant in a transaction of
// their own ("resync this contact" asks for a push this way).
func (s *Store) InsertOutbox(ctx context.Context, tenantID string, entries []OutboxEntry) error {
	return s.writeTx(ctx, tenantID, false, func(tx *sql.Tx) error { return s.insertOutbox(ctx, tx, entries) })
}
