package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ReviewKind says why the engine held Salesforce records for review.
type ReviewKind string

// Review kinds.
const (
	// ReviewIdentity: several in-scope Salesforce records share an identity
	// value, or a newcomer holds the value of an already linked pair.
	ReviewIdentity ReviewKind = "identity"
	// ReviewMerge: a linked Salesforce record was merged away and its
	// survivor is linked to another platform contact.
	ReviewMerge ReviewKind = "merge"
	// ReviewDuplicate: Salesforce's duplicate rules refused a record sfsync
	// created for the platform contact, naming existing records; an admin
	// links the contact to one of them, or keeps them apart.
	ReviewDuplicate ReviewKind = "duplicate"
)

// ReviewStatus is whether a review item still waits for a decision.
type ReviewStatus string

// Review statuses.
const (
	ReviewOpen     ReviewStatus = "open"
	ReviewResolved ReviewStatus = "resolved"
)

// ReviewResolution is how a review item was resolved.
type ReviewResolution string

// Review resolutions. Linked, Apart and Ignored are an admin's and are
// remembered per Salesforce record; Released is sfsync's own, when the
// duplicate went away in Salesforce.
const (
	ResolutionNone     ReviewResolution = ""
	ResolutionLinked   ReviewResolution = "linked"
	ResolutionApart    ReviewResolution = "apart"
	ResolutionIgnored  ReviewResolution = "ignored"
	ResolutionReleased ReviewResolution = "released"
)

// ReleasedBy is ResolvedBy of an item that sfsync released by itself.
const ReleasedBy = "sfsync"

// ErrNotCandidate is ResolveReviewItem's answer to a link with a Salesforce
// ID that the item does not hold.
var ErrNotCandidate = errors.New("the Salesforce ID is not a candidate of the review item")

// ReviewCandidate is one Salesforce record a review item holds.
type ReviewCandidate struct {
	SalesforceID string         `json:"salesforce_id"`
	ContactID    string         `json:"contact_id,omitempty"` // the platform contact it is linked to, if any
	Values       map[string]any `json:"values,omitempty"`     // snapshot of the record's mapped Salesforce values (field name → value)
}

// ReviewItem is one entry of a tenant's review queue (Y5): Salesforce
// records held instead of linked, created or updated on a guess.
type ReviewItem struct {
	ID            int64             `json:"id"`
	TenantID      string            `json:"-"`
	Kind          ReviewKind        `json:"kind"`
	IdentityField string            `json:"identity_field"`           // Salesforce field name, e.g. "Email"
	IdentityKey   string            `json:"identity_key"`             // the normalized identity value the candidates share
	ContactID     string            `json:"contact_id,omitempty"`     // the platform contact holding that value, if any
	ContactValues map[string]any    `json:"contact_values,omitempty"` // snapshot of the platform contact's mapped values
	Candidates    []ReviewCandidate `json:"candidates"`
	Status        ReviewStatus      `json:"status"`
	Resolution    ReviewResolution  `json:"resolution,omitempty"`
	// LinkedSalesforceID is the record an admin chose (resolution linked).
	LinkedSalesforceID string `json:"linked_salesforce_id,omitempty"`
	// ResolvedBy is the admin ID, or ReleasedBy.
	ResolvedBy string     `json:"resolved_by,omitempty"`
	RunID      int64      `json:"run_id"` // the run that opened it
	Created    time.Time  `json:"created_at"`
	Updated    time.Time  `json:"updated_at"`
	Resolved   *time.Time `json:"resolved_at,omitempty"`
}

// Candidate returns the item's candidate with this Salesforce ID.
func (it ReviewItem) Candidate(salesforceID string) (ReviewCandidate, bool) {
	for _, c := range it.Candidates {
		if c.SalesforceID == salesforceID {
			return c, true
		}
	}
	return ReviewCandidate{}, false
}

// ReviewFilter selects review items: by status ("" for all), newest first,
// Limit per page (default 50, at most 500), BeforeID for the next page.
type ReviewFilter struct {
	Status   ReviewStatus
	Limit    int
	BeforeID int64
}

const reviewCols = `id, tenant_id, kind, identity_field, identity_key, contact_id, contact_values, status, resolution,
	linked_salesforce_id, resolved_by, run_id, created_at, updated_at, resolved_at`

func scanReviewItem(row interface{ Scan(...any) error }) (ReviewItem, error) {
	var it ReviewItem
	var kind, status, res, values string
	var created, updated int64
	var resolved sql.NullInt64
	err := row.Scan(&it.ID, &it.TenantID, &kind, &it.IdentityField, &it.IdentityKey, &it.ContactID, &values, &status, &res,
		&it.LinkedSalesforceID, &it.ResolvedBy, &it.RunID, &created, &updated, &resolved)
	if err != nil {
		return ReviewItem{}, mapErr(err)
	}
	it.Kind, it.Status, it.Resolution = ReviewKind(kind), ReviewStatus(status), ReviewResolution(res)
	it.Created, it.Updated = fromMicros(created), fromMicros(updated)
	if resolved.Valid {
		t := fromMicros(resolved.Int64)
		it.Resolved = &t
	}
	if it.ContactValues, err = decodeValues(values); err != nil {
		return ReviewItem{}, fmt.Errorf("store: review item %d contact values: %w", it.ID, err)
	}
	return it, nil
}

func encodeValues(v map[string]any) (string, error) {
	if len(v) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func decodeValues(s string) (map[string]any, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	var m map[string]any
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}

// HoldTx records (in the caller's transaction) that the item's candidates
// are held: it creates the open item for (tenant, kind, identity field,
// identity key) or merges the candidates into the open one (adding new
// Salesforce IDs, refreshing values and ContactID); it returns the
// Salesforce IDs that were not held by that item before, so the engine
// logs and counts only those. Candidates are never dropped here: a record
// leaves an item through ReleaseTx.
func (s *Store) HoldTx(ctx context.Context, tx *sql.Tx, tenantID string, item ReviewItem) (newIDs []string, err error) {
	if item.Kind != ReviewIdentity && item.Kind != ReviewMerge && item.Kind != ReviewDuplicate {
		return nil, fmt.Errorf("store: hold: unknown review kind %q", item.Kind)
	}
	if len(item.Candidates) == 0 {
		return nil, errors.New("store: hold: no candidates")
	}
	now := micros(s.Now())
	cv, err := encodeValues(item.ContactValues)
	if err != nil {
		return nil, fmt.Errorf("store: hold: contact values: %w", err)
	}
	var id int64
	var oldContact, oldValues string
	err = tx.QueryRowContext(ctx, `SELECT id, contact_id, contact_values FROM review_items
		WHERE tenant_id = $1 AND kind = $2 AND identity_field = $3 AND identity_key = $4 AND status = 'open'`,
		tenantID, string(item.Kind), item.IdentityField, item.IdentityKey).Scan(&id, &oldContact, &oldValues)
	fresh := errors.Is(err, sql.ErrNoRows)
	switch {
	case fresh:
		err = tx.QueryRowContext(ctx, `INSERT INTO review_items (tenant_id, kind, identity_field, identity_key, contact_id, contact_values, status, run_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8) RETURNING id`,
			tenantID, string(item.Kind), item.IdentityField, item.IdentityKey, item.ContactID, cv, item.RunID, now).Scan(&id)
		if err != nil {
			return nil, mapErr(err)
		}
	case err != nil:
		return nil, mapErr(err)
	}
	type held struct{ contactID, values string }
	existing := map[string]held{}
	if !fresh {
		rows, err := tx.QueryContext(ctx, `SELECT salesforce_id, contact_id, sf_values FROM review_candidates WHERE item_id = $1`, id)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			var sfID string
			var h held
			if err := rows.Scan(&sfID, &h.contactID, &h.values); err != nil {
				rows.Close()
				return nil, mapErr(err)
			}
			existing[sfID] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(err)
		}
	}
	changed := oldContact != item.ContactID || oldValues != cv
	seen := map[string]bool{}
	for _, c := range item.Candidates {
		if c.SalesforceID == "" || seen[c.SalesforceID] {
			continue
		}
		seen[c.SalesforceID] = true
		v, err := encodeValues(c.Values)
		if err != nil {
			return nil, fmt.Errorf("store: hold: values of %s: %w", c.SalesforceID, err)
		}
		h, ok := existing[c.SalesforceID]
		switch {
		case !ok:
			if _, err := tx.ExecContext(ctx, `INSERT INTO review_candidates (item_id, tenant_id, salesforce_id, contact_id, sf_values) VALUES ($1, $2, $3, $4, $5)`,
				id, tenantID, c.SalesforceID, c.ContactID, v); err != nil {
				return nil, mapErr(err)
			}
			newIDs = append(newIDs, c.SalesforceID)
		case h.contactID != c.ContactID || h.values != v:
			if _, err := tx.ExecContext(ctx, `UPDATE review_candidates SET contact_id = $1, sf_values = $2 WHERE item_id = $3 AND salesforce_id = $4`,
				c.ContactID, v, id, c.SalesforceID); err != nil {
				return nil, mapErr(err)
			}
			changed = true
		}
	}
	if !fresh && (changed || len(newIDs) > 0) {
		if _, err := tx.ExecContext(ctx, `UPDATE review_items SET contact_id = $1, contact_values = $2, updated_at = $3 WHERE id = $4 AND tenant_id = $5`,
			item.ContactID, cv, now, id, tenantID); err != nil {
			return nil, mapErr(err)
		}
	}
	return newIDs, nil
}

// HeldSalesforceIDs returns, for those of ids that are candidates of an
// open item, the item's ID.
func (s *Store) HeldSalesforceIDs(ctx context.Context, tenantID string, ids []string) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.heldIn(ctx, s.db(), tenantID, ids, func(sfID string, itemID int64) {
		if prev, ok := out[sfID]; !ok || itemID < prev {
			out[sfID] = itemID
		}
	})
	return out, err
}

// heldIn calls fn for each (Salesforce ID, open item ID) pair among ids.
func (s *Store) heldIn(ctx context.Context, q querier, tenantID string, ids []string, fn func(sfID string, itemID int64)) error {
	step := 500
	if s.Dialect == Postgres {
		step = max(1, len(ids)) // one array, probed (see probeQuery)
	}
	for start := 0; start < len(ids); start += step {
		chunk := ids[start:min(start+step, len(ids))]
		var query string
		var args []any
		if s.Dialect == Postgres {
			query = `SELECT x.* FROM unnest($2::text[]) AS k(v), LATERAL (SELECT c.salesforce_id, c.item_id FROM review_candidates c JOIN review_items i ON i.id = c.item_id
				WHERE c.tenant_id = $1 AND i.tenant_id = $1 AND i.status = 'open' AND c.salesforce_id = k.v OFFSET 0) x`
			args = []any{tenantID, distinct(chunk)}
		} else {
			args = []any{tenantID}
			for _, id := range chunk {
				args = append(args, id)
			}
			var cond string
			cond, args = s.in("c.salesforce_id", args, 2)
			query = `SELECT c.salesforce_id, c.item_id FROM review_candidates c JOIN review_items i ON i.id = c.item_id
			WHERE c.tenant_id = $1 AND i.tenant_id = $1 AND i.status = 'open' AND ` + cond
		}
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return mapErr(err)
		}
		for rows.Next() {
			var sfID string
			var itemID int64
			if err := rows.Scan(&sfID, &itemID); err != nil {
				rows.Close()
				return mapErr(err)
			}
			fn(sfID, itemID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// ReviewDecisions returns the remembered decision for each of ids that has
// one: linked, apart or ignored (written by ResolveReviewItem for every
// candidate of an item an admin resolved).
func (s *Store) ReviewDecisions(ctx context.Context, tenantID string, ids []string) (map[string]ReviewResolution, error) {
	out := map[string]ReviewResolution{}
	err := s.eachByKeys(ctx, tenantID, ids, "salesforce_id, decision", "review_decisions", "salesforce_id", func(rows *sql.Rows) error {
		var id, d string
		if err := rows.Scan(&id, &d); err != nil {
			return mapErr(err)
		}
		out[id] = ReviewResolution(d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReleaseTx removes these Salesforce IDs from open items (their record was
// edited away from the value, deleted or merged). An item left with no
// candidate, or with one that no longer conflicts (see stillConflicts), is
// resolved as released by ReleasedBy. It returns the items it released,
// with their remaining candidates, so the engine can read those again.
func (s *Store) ReleaseTx(ctx context.Context, tx *sql.Tx, tenantID string, ids []string) ([]ReviewItem, error) {
	type pair struct {
		sfID   string
		itemID int64
	}
	var pairs []pair
	if err := s.heldIn(ctx, tx, tenantID, ids, func(sfID string, itemID int64) { pairs = append(pairs, pair{sfID, itemID}) }); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	var touched []int64
	for _, p := range pairs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM review_candidates WHERE item_id = $1 AND salesforce_id = $2 AND tenant_id = $3`, p.itemID, p.sfID, tenantID); err != nil {
			return nil, mapErr(err)
		}
		touched = append(touched, p.itemID)
	}
	slices.Sort(touched)
	touched = slices.Compact(touched)
	now := s.Now()
	var released []ReviewItem
	for _, id := range touched {
		it, err := s.getReviewItem(ctx, tx, tenantID, id)
		if err != nil {
			return nil, err
		}
		open := len(it.Candidates) > 1
		if len(it.Candidates) == 1 {
			if open, err = s.stillConflicts(ctx, tx, it); err != nil {
				return nil, err
			}
		}
		if open {
			if _, err := tx.ExecContext(ctx, `UPDATE review_items SET updated_at = $1 WHERE id = $2 AND tenant_id = $3`, micros(now), id, tenantID); err != nil {
				return nil, mapErr(err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE review_items SET status = 'resolved', resolution = $1, resolved_by = $2, resolved_at = $3, updated_at = $3
			WHERE id = $4 AND tenant_id = $5`, string(ResolutionReleased), ReleasedBy, micros(now), id, tenantID); err != nil {
			return nil, mapErr(err)
		}
		it.Status, it.Resolution, it.ResolvedBy = ReviewResolved, ResolutionReleased, ReleasedBy
		t := fromMicros(micros(now))
		it.Updated, it.Resolved = t, &t
		released = append(released, it)
	}
	return released, nil
}

// stillConflicts reports whether an item's one remaining candidate still
// cannot be synced without a guess: it is linked to another platform
// contact than the item's (a merge's survivor linked elsewhere), or, for
// an identity item, the item's platform contact is linked to another
// Salesforce record (links are never re-pointed). Links are read live, so
// a link the engine dropped or moved counts as gone.
func (s *Store) stillConflicts(ctx context.Context, tx *sql.Tx, it ReviewItem) (bool, error) {
	if it.ContactID == "" {
		return false, nil
	}
	sfID := it.Candidates[0].SalesforceID
	var linked string
	err := tx.QueryRowContext(ctx, `SELECT contact_id FROM links WHERE tenant_id = $1 AND salesforce_id = $2`, it.TenantID, sfID).Scan(&linked)
	switch {
	case err == nil && linked != it.ContactID:
		return true, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, mapErr(err)
	}
	if it.Kind != ReviewIdentity {
		return false, nil
	}
	err = tx.QueryRowContext(ctx, `SELECT salesforce_id FROM links WHERE tenant_id = $1 AND contact_id = $2`, it.TenantID, it.ContactID).Scan(&linked)
	switch {
	case err == nil:
		return linked != sfID, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	}
	return false, mapErr(err)
}

// decisionFor is what ResolveReviewItem remembers for one candidate.
func decisionFor(res ReviewResolution, chosen, sfID string) ReviewResolution {
	switch {
	case res == ResolutionIgnored:
		return ResolutionIgnored
	case res == ResolutionLinked && sfID == chosen:
		return ResolutionLinked
	}
	return ResolutionApart
}

// ResolveReviewItem resolves an open item by an admin: linked (with the
// chosen Salesforce ID, which must be a candidate, else ErrNotCandidate),
// apart or ignored. It remembers each candidate's decision: the chosen one
// linked and the others apart for linked and apart, ignored for ignored.
// A resolved item answers ErrConflict; an unknown one ErrNotFound.
func (s *Store) ResolveReviewItem(ctx context.Context, tenantID string, id int64, res ReviewResolution, sfID, by string) (ReviewItem, error) {
	switch res {
	case ResolutionLinked:
		if sfID == "" {
			return ReviewItem{}, ErrNotCandidate
		}
	case ResolutionApart, ResolutionIgnored:
		sfID = ""
	default:
		return ReviewItem{}, fmt.Errorf("store: resolve review item: resolution %q is not an admin's", res)
	}
	var out ReviewItem
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		it, err := s.getReviewItem(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if it.Status != ReviewOpen {
			return ErrConflict
		}
		if _, ok := it.Candidate(sfID); res == ResolutionLinked && !ok {
			return ErrNotCandidate
		}
		now := micros(s.Now())
		r, err := tx.ExecContext(ctx, `UPDATE review_items SET status = 'resolved', resolution = $1, linked_salesforce_id = $2, resolved_by = $3, resolved_at = $4, updated_at = $4
			WHERE id = $5 AND tenant_id = $6 AND status = 'open'`, string(res), sfID, by, now, id, tenantID)
		if err != nil {
			return mapErr(err)
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return ErrConflict // resolved by someone else meanwhile
		}
		for _, c := range it.Candidates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO review_decisions (tenant_id, salesforce_id, decision, item_id, decided_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (tenant_id, salesforce_id) DO UPDATE SET decision = excluded.decision, item_id = excluded.item_id, decided_at = excluded.decided_at`,
				tenantID, c.SalesforceID, string(decisionFor(res, sfID, c.SalesforceID)), id, now); err != nil {
				return mapErr(err)
			}
		}
		out, err = s.getReviewItem(ctx, tx, tenantID, id)
		return err
	})
	return out, err
}

// GetReviewItem returns one of a tenant's review items with its candidates.
func (s *Store) GetReviewItem(ctx context.Context, tenantID string, id int64) (ReviewItem, error) {
	return s.getReviewItem(ctx, s.db(), tenantID, id)
}

func (s *Store) getReviewItem(ctx context.Context, q querier, tenantID string, id int64) (ReviewItem, error) {
	it, err := scanReviewItem(q.QueryRowContext(ctx, `SELECT `+reviewCols+` FROM review_items WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return ReviewItem{}, err
	}
	items := []ReviewItem{it}
	if err := s.loadCandidates(ctx, q, tenantID, items); err != nil {
		return ReviewItem{}, err
	}
	return items[0], nil
}

// loadCandidates fills the items' candidates, in Salesforce ID order.
func (s *Store) loadCandidates(ctx context.Context, q querier, tenantID string, items []ReviewItem) error {
	if len(items) == 0 {
		return nil
	}
	at := make(map[int64]int, len(items))
	args := []any{tenantID}
	for i, it := range items {
		at[it.ID] = i
		args = append(args, it.ID)
		items[i].Candidates = []ReviewCandidate{} // an item left with none lists none, not null
	}
	cond, args := s.in("item_id", args, 2)
	rows, err := q.QueryContext(ctx, `SELECT item_id, salesforce_id, contact_id, sf_values FROM review_candidates WHERE tenant_id = $1 AND `+cond+` ORDER BY item_id, salesforce_id`, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var itemID int64
		var c ReviewCandidate
		var values string
		if err := rows.Scan(&itemID, &c.SalesforceID, &c.ContactID, &values); err != nil {
			return mapErr(err)
		}
		if c.Values, err = decodeValues(values); err != nil {
			return fmt.Errorf("store: review candidate %s values: %w", c.SalesforceID, err)
		}
		i := at[itemID]
		items[i].Candidates = append(items[i].Candidates, c)
	}
	return mapErr(rows.Err())
}

// ListReviewItems returns a page of a tenant's review items, newest first.
func (s *Store) ListReviewItems(ctx context.Context, tenantID string, f ReviewFilter) ([]ReviewItem, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT ` + reviewCols + ` FROM review_items WHERE tenant_id = $1`
	args := []any{tenantID}
	if f.Status != "" {
		args = append(args, string(f.Status))
		q += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.BeforeID > 0 {
		args = append(args, f.BeforeID)
		q += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.db().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	var items []ReviewItem
	for rows.Next() {
		it, err := scanReviewItem(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return items, s.loadCandidates(ctx, s.db(), tenantID, items)
}

// CountOpenReviewItems returns how many of a tenant's review items are open.
func (s *Store) CountOpenReviewItems(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := s.db().QueryRowContext(ctx, `SELECT COUNT(*) FROM review_items WHERE tenant_id = $1 AND status = 'open'`, tenantID).Scan(&n)
	return n, mapErr(err)
}

// ForgetDecisionsTx drops remembered decisions for these Salesforce IDs
// (for example, the record was deleted).
func (s *Store) ForgetDecisionsTx(ctx context.Context, tx *sql.Tx, tenantID string, ids []string) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("salesforce_id", args, 2)
		if _, err := tx.ExecContext(ctx, `DELETE FROM review_decisions WHERE tenant_id = $1 AND `+cond, args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// HeldForContacts returns the candidates of open identity items whose
// platform contact is one of contactIDs: newcomers held against a linked
// pair, which the engine looks at again when the pair's record changes.
func (s *Store) HeldForContacts(ctx context.Context, tenantID string, contactIDs []string) ([]string, error) {
	var out []string
	for start := 0; start < len(contactIDs); start += 500 {
		chunk := contactIDs[start:min(start+500, len(contactIDs))]
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("i.contact_id", args, 2)
		rows, err := s.db().QueryContext(ctx, `SELECT c.salesforce_id FROM review_candidates c JOIN review_items i ON i.id = c.item_id
			WHERE i.tenant_id = $1 AND c.tenant_id = $1 AND i.status = 'open' AND i.kind = 'identity' AND `+cond, args...)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, mapErr(err)
			}
			out = append(out, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}

// HasReviewState reports whether the tenant has any open review item or
// remembered decision; when it has none, the engine skips looking its
// records up in the queue.
func (s *Store) HasReviewState(ctx context.Context, tenantID string) (bool, error) {
	var one int
	err := s.db().QueryRowContext(ctx, `SELECT 1 WHERE EXISTS (SELECT 1 FROM review_items WHERE tenant_id = $1 AND status = 'open')
		OR EXISTS (SELECT 1 FROM review_decisions WHERE tenant_id = $1)`, tenantID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, mapErr(err)
}
