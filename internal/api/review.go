package api

import (
	"errors"
	"net/http"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// The review queue (Y5): Salesforce records sfsync held instead of guessing
// which platform contact they belong to, and an admin's decision on each.

func (s *server) listReview(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.ReviewFilter{Status: store.ReviewStatus(q.Get("status"))}
	switch f.Status {
	case "", store.ReviewOpen, store.ReviewResolved:
	default:
		return invalidField("status", "must be open or resolved")
	}
	if f.Limit, err = intParam(q.Get("limit"), 50, 1, 500, "limit"); err != nil {
		return err
	}
	before, err := intParam(q.Get("before"), 0, 0, 1<<62, "before")
	if err != nil {
		return err
	}
	f.BeforeID = int64(before)
	ctx, t := r.Context(), tenantFrom(r.Context())
	items, err := eng.ListReview(ctx, t, f)
	if err != nil {
		return err
	}
	open, err := eng.CountOpenReview(ctx, t)
	if err != nil {
		return err
	}
	if items == nil {
		items = []store.ReviewItem{}
	}
	out := map[string]any{"data": items, "open_count": open}
	if len(items) == f.Limit {
		out["next_before"] = items[len(items)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) getReview(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	id, err := pathID(r, "review item")
	if err != nil {
		return err
	}
	it, err := eng.GetReview(r.Context(), tenantFrom(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

// reviewActions maps the API's verbs to the store's resolutions.
var reviewActions = map[string]store.ReviewResolution{
	"link":   store.ResolutionLinked,
	"apart":  store.ResolutionApart,
	"ignore": store.ResolutionIgnored,
}

// resolveReview resolves an open item: link one Salesforce candidate to
// the platform contact, keep them apart (not the same person) or ignore
// it. Bad input answers 422 naming the field; an item already resolved 409.
func (s *server) resolveReview(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	id, err := pathID(r, "review item")
	if err != nil {
		return err
	}
	var body struct {
		Action       string `json:"action"`
		SalesforceID string `json:"salesforce_id"`
	}
	if err := decodeOptionalObject(w, r, &body); err != nil {
		return err
	}
	res, ok := reviewActions[body.Action]
	switch {
	case !ok:
		return unprocessableField("action", "must be link, apart or ignore")
	case res == store.ResolutionLinked && body.SalesforceID == "":
		return unprocessableField("salesforce_id", "is required to link: the ID of the Salesforce record that is this contact")
	case res != store.ResolutionLinked && body.SalesforceID != "":
		return unprocessableField("salesforce_id", "is given only to link")
	}
	it, err := eng.ResolveReview(r.Context(), tenantFrom(r.Context()), id, res, body.SalesforceID, keyBinding(r))
	switch {
	case errors.Is(err, store.ErrNotCandidate):
		return unprocessableField("salesforce_id", "is not one of the item's Salesforce records")
	case errors.Is(err, store.ErrConflict):
		return errorf(codeAlreadyResolved, "the review item is already resolved")
	case errors.Is(err, syncer.ErrReviewLinkTaken):
		return &apiError{code: codeRefused, detail: "the platform contact holding this value is linked to another Salesforce record (links are never re-pointed); keep them apart or ignore", refusal: "link_taken"}
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}
