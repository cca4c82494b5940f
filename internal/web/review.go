package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// The review queue page (Y5): Salesforce records sfsync held instead of
// guessing, each item with the platform contact's values and every
// Salesforce candidate's values side by side, and the admin's three
// answers: link this Salesforce record, keep them apart, ignore.

// reviewView is the review queue page.
type reviewView struct {
	Status  store.ReviewStatus
	Filters []filterLink
	Open    int64
	Items   []reviewItemView
	Older   string
}

// reviewItemView is one item laid out as a table: one row per field, a
// column for the platform contact and one per Salesforce candidate.
type reviewItemView struct {
	store.ReviewItem
	HasContact bool
	Rows       []reviewRow
}

type reviewRow struct {
	Field      string
	Contact    string
	Candidates []string
	// Differs marks a row whose values are not all the same.
	Differs bool
}

const reviewPerPage = 20

// reviewActions maps the page's buttons to the store's resolutions.
var reviewActions = map[string]store.ReviewResolution{
	"link":   store.ResolutionLinked,
	"apart":  store.ResolutionApart,
	"ignore": store.ResolutionIgnored,
}

func shown(v any) string {
	if v == nil || v == "" {
		return "—"
	}
	return fmt.Sprint(v)
}

// layoutReview puts an item's values side by side, the identity field
// first, then the others by name.
func layoutReview(it store.ReviewItem) reviewItemView {
	v := reviewItemView{ReviewItem: it, HasContact: it.ContactID != "" || len(it.ContactValues) > 0}
	var fields []string
	seen := map[string]bool{}
	add := func(m map[string]any) {
		for f := range m {
			if !seen[f] {
				seen[f] = true
				fields = append(fields, f)
			}
		}
	}
	add(it.ContactValues)
	for _, c := range it.Candidates {
		add(c.Values)
	}
	slices.SortFunc(fields, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == it.IdentityField:
			return -1
		case b == it.IdentityField:
			return 1
		case a < b:
			return -1
		}
		return 1
	})
	for _, f := range fields {
		row := reviewRow{Field: f, Contact: shown(it.ContactValues[f])}
		vals := map[string]bool{}
		if v.HasContact {
			vals[row.Contact] = true
		}
		for _, c := range it.Candidates {
			s := shown(c.Values[f])
			row.Candidates = append(row.Candidates, s)
			vals[s] = true
		}
		row.Differs = len(vals) > 1
		v.Rows = append(v.Rows, row)
	}
	return v
}

func (s *server) reviewPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	q := r.URL.Query()
	status := store.ReviewOpen
	if q.Get("status") == string(store.ReviewResolved) {
		status = store.ReviewResolved
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	items, err := s.opts.Engine.ListReview(ctx, rc.Tenant.ID, store.ReviewFilter{Status: status, Limit: reviewPerPage + 1, BeforeID: before})
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	v := reviewView{Status: status}
	if v.Open, err = s.opts.Engine.CountOpenReview(ctx, rc.Tenant.ID); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	for _, f := range []struct {
		st  store.ReviewStatus
		key string
	}{{store.ReviewOpen, "review.filter_open"}, {store.ReviewResolved, "review.filter_resolved"}} {
		href := "/admin/salesforce/review"
		if f.st == store.ReviewResolved {
			href += "?status=resolved"
		}
		v.Filters = append(v.Filters, filterLink{Key: f.key, Href: href, Current: f.st == status})
	}
	if len(items) > reviewPerPage {
		items = items[:reviewPerPage]
		v.Older = fmt.Sprintf("/admin/salesforce/review?status=%s&before=%d", status, items[len(items)-1].ID)
	}
	for _, it := range items {
		v.Items = append(v.Items, layoutReview(it))
	}
	s.renderPage(w, r, rc, http.StatusOK, "review", v)
}

// resolveReview serves the three buttons of an item.
func (s *server) resolveReview(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	res, ok := reviewActions[r.PostForm.Get("action")]
	sfID := r.PostForm.Get("salesforce_id")
	if !ok || (res == store.ResolutionLinked) != (sfID != "") {
		s.renderError(w, r, rc, http.StatusBadRequest, "error.bad_request")
		return
	}
	_, err = s.opts.Engine.ResolveReview(r.Context(), rc.Tenant.ID, id, res, sfID, rc.Admin.ID)
	switch {
	case errors.Is(err, store.ErrConflict):
		s.renderError(w, r, rc, http.StatusConflict, "error.review_resolved")
		return
	case errors.Is(err, store.ErrNotCandidate):
		s.renderError(w, r, rc, http.StatusBadRequest, "error.bad_request")
		return
	case errors.Is(err, syncer.ErrReviewLinkTaken):
		s.renderError(w, r, rc, http.StatusConflict, "error.review_link_taken")
		return
	case err != nil:
		s.fail(w, r, rc, err)
		return
	}
	s.log.InfoContext(r.Context(), "review item resolved", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID, "review_item", id, "resolution", string(res))
	http.Redirect(w, r, "/admin/salesforce/review?done=review_"+string(res), http.StatusSeeOther)
}
