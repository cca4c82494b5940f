package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
)

func TestReviewRoutes(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite)
	ctx := context.Background()
	hold := func(key string, ids ...string) int64 {
		t.Helper()
		var cands []store.ReviewCandidate
		for _, id := range ids {
			cands = append(cands, store.ReviewCandidate{SalesforceID: id, Values: map[string]any{"Email": key, "LastName": "N" + id}})
		}
		err := e.store.Tx(ctx, func(tx *sql.Tx) error {
			_, err := e.store.HoldTx(ctx, tx, e.tenant, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: key,
				ContactValues: map[string]any{"Email": key, "LastName": "周"}, Candidates: cands})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		held, _ := e.store.HeldSalesforceIDs(ctx, e.tenant, ids[:1])
		return held[ids[0]]
	}
	first, second := hold("a@x.test", "003A", "003B"), hold("b@x.test", "003C", "003D")

	var page struct {
		Data       []store.ReviewItem `json:"data"`
		OpenCount  int64              `json:"open_count"`
		NextBefore int64              `json:"next_before"`
	}
	decode := func(r response, v any) {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("got %s, want 200", r)
		}
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
	decode(e.do("GET", "/api/v1/salesforce/review?status=open&limit=1", ""), &page)
	if len(page.Data) != 1 || page.Data[0].ID != second || page.OpenCount != 2 || page.NextBefore != second {
		t.Fatalf("first page: got %+v, want item %d, open_count 2, next_before %d", page, second, second)
	}
	if c, _ := page.Data[0].Candidate("003C"); c.Values["LastName"] != "N003C" || page.Data[0].ContactValues["LastName"] != "周" {
		t.Errorf("values side by side: got %+v", page.Data[0])
	}
	decode(e.do("GET", fmt.Sprintf("/api/v1/salesforce/review?status=open&limit=1&before=%d", page.NextBefore), ""), &page)
	if len(page.Data) != 1 || page.Data[0].ID != first {
		t.Errorf("second page: got %+v, want item %d", page.Data, first)
	}

	path := func(id int64) string { return fmt.Sprintf("/api/v1/salesforce/review/%d/resolve", id) }
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"unknown action", path(first), `{"action":"merge"}`, 422, "action"},
		{"no body", path(first), ``, 422, "action"},
		{"link without an ID", path(first), `{"action":"link"}`, 422, "salesforce_id"},
		{"link to a non-candidate", path(first), `{"action":"link","salesforce_id":"003Z"}`, 422, "salesforce_id"},
		{"apart with an ID", path(first), `{"action":"apart","salesforce_id":"003A"}`, 422, "salesforce_id"},
		{"unknown field", path(first), `{"action":"apart","why":"x"}`, 400, ""},
		{"unknown item", path(999999), `{"action":"apart"}`, 404, ""},
		{"not an ID", "/api/v1/salesforce/review/x/resolve", `{"action":"apart"}`, 404, ""},
	}
	for _, tt := range tests {
		r := e.do("POST", tt.path, tt.body)
		if r.status != tt.status {
			t.Errorf("%s: got %s, want %d", tt.name, r, tt.status)
			continue
		}
		if p := r.problem(t); tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field) {
			t.Errorf("%s: got errors %+v, want one naming %s", tt.name, p.Errors, tt.field)
		}
	}

	var it store.ReviewItem
	decode(e.do("POST", path(first), `{"action":"link","salesforce_id":"003B"}`), &it)
	if it.Status != store.ReviewResolved || it.Resolution != store.ResolutionLinked || it.LinkedSalesforceID != "003B" || it.ResolvedBy == "" {
		t.Errorf("link: got %+v", it)
	}
	r := e.do("POST", path(first), `{"action":"ignore"}`)
	if r.status != http.StatusConflict || r.problem(t).Type != problemTypePrefix+string(codeAlreadyResolved) {
		t.Errorf("resolve twice: got %s, want 409 already-resolved", r)
	}
	decode(e.do("GET", fmt.Sprintf("/api/v1/salesforce/review/%d", first), ""), &it)
	if it.Resolution != store.ResolutionLinked {
		t.Errorf("get after link: got %+v", it)
	}
	decode(e.do("GET", "/api/v1/salesforce/review?status=resolved", ""), &page)
	if len(page.Data) != 1 || page.Data[0].ID != first || page.OpenCount != 1 {
		t.Errorf("resolved list: got %+v, want item %d and one open", page, first)
	}
	if r := e.do("GET", "/api/v1/salesforce/review?status=closed", ""); r.status != http.StatusBadRequest {
		t.Errorf("bad status filter: got %s, want 400", r)
	}
}
