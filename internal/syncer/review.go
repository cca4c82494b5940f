package syncer

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sfsync/sfsync/internal/store"
)

// The review queue (Y5): Salesforce records the engine holds instead of
// guessing, stored once per shared identity value (store.HoldTx) and
// released by the engine when the duplicate goes away (store.ReleaseTx),
// or resolved here by an admin. An admin's decision is remembered per
// Salesforce record: the engine lets a "linked" record match by identity
// despite the duplicates, and passes over "apart" and "ignored" ones
// without logging them again.

// ListReview returns a page of the tenant's review items, newest first.
func (e *Engine) ListReview(ctx context.Context, tenantID string, f store.ReviewFilter) ([]store.ReviewItem, error) {
	return e.Store.ListReviewItems(ctx, tenantID, f)
}

// GetReview returns one of the tenant's review items.
func (e *Engine) GetReview(ctx context.Context, tenantID string, id int64) (store.ReviewItem, error) {
	return e.Store.GetReviewItem(ctx, tenantID, id)
}

// CountOpenReview returns how many review items wait for a decision.
func (e *Engine) CountOpenReview(ctx context.Context, tenantID string) (int64, error) {
	return e.Store.CountOpenReviewItems(ctx, tenantID)
}

// ErrReviewLinkTaken refuses linking a held record to a platform contact
// that is linked to another Salesforce record: links are never re-pointed.
var ErrReviewLinkTaken = errors.New("syncer: the platform contact holding this value is linked to another Salesforce record; keep them apart or ignore, or unlink that record first")

// reviewLinkedReason is the pull retry's note for a record an admin linked.
const reviewLinkedReason = "linked by an admin in the review queue; read again at the next pull"

// ResolveReview resolves an open review item as an admin: linked (sfID,
// one of its candidates, is the record to sync), apart (not the same
// person) or ignored. For linked, the chosen record is made due for a
// re-read at the next pull (a pull retry due now, the way failed records
// are retried), and with a job queue a pull starts now, so the admin sees
// the link without waiting for the schedule. The resolution stands even
// when that pull cannot start (it is logged): the next scheduled pull
// reads the record.
func (e *Engine) ResolveReview(ctx context.Context, tenantID string, id int64, res store.ReviewResolution, sfID, adminID string) (store.ReviewItem, error) {
	if res == store.ResolutionLinked {
		// A newcomer held against a linked pair cannot be linked: the
		// platform contact holding the value is linked to another record,
		// and links are never re-pointed.
		cur, err := e.Store.GetReviewItem(ctx, tenantID, id)
		if err != nil {
			return cur, err
		}
		if cur.ContactID != "" {
			links, err := e.Store.LinksByContactID(ctx, tenantID, []string{cur.ContactID})
			if err != nil {
				return cur, err
			}
			if l, ok := links[cur.ContactID]; ok && l.SalesforceID != sfID {
				return cur, ErrReviewLinkTaken
			}
		}
		if cur.Kind == store.ReviewDuplicate {
			// The duplicate rule's match need not share the identity
			// value: the link is made here, not by matching.
			links, err := e.Store.LinksBySalesforceID(ctx, tenantID, []string{sfID})
			if err != nil {
				return cur, err
			}
			if l, ok := links[sfID]; ok && l.ContactID != cur.ContactID {
				return cur, ErrReviewLinkTaken
			}
		}
	}
	it, err := e.Store.ResolveReviewItem(ctx, tenantID, id, res, sfID, adminID)
	if err != nil || res != store.ResolutionLinked {
		return it, err
	}
	now := e.now()
	err = e.Store.Tx(ctx, func(tx *sql.Tx) error {
		if it.Kind == store.ReviewDuplicate && it.ContactID != "" {
			// No synced values yet: the pull below decides as at a first
			// match.
			l := store.Link{SalesforceID: it.LinkedSalesforceID, ContactID: it.ContactID, SFValues: map[string]any{}, PFValues: map[string]any{}}
			if err := e.Store.SaveLinksTx(ctx, tx, tenantID, []store.Link{l}); err != nil {
				return err
			}
		}
		return e.Store.SetPullRetriesTx(ctx, tx, tenantID, map[string]string{it.LinkedSalesforceID: reviewLinkedReason},
			func(int) time.Time { return now }, nil)
	})
	if err != nil {
		return it, err
	}
	if e.Queue == nil {
		return it, nil
	}
	if _, err := e.SyncNow(ctx, tenantID); err != nil && !errors.Is(err, ErrNotConfigured) && !errors.Is(err, ErrNoPull) {
		e.log().WarnContext(ctx, "start a pull after a review link failed", "tenant_id", tenantID, "review_item", id, "error", err)
	}
	return it, nil
}
