package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

func TestReviewQueuePage(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	e.connect(e.tenantB.ID, store.ConnConnected)
	e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig())
	first := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerInitial, Status: syncer.StatusSucceeded})
	e.eng.mu.Lock()
	e.eng.initial[e.tenantA.ID] = first.ID
	e.eng.mu.Unlock()
	dup := e.eng.addReview(e.tenantA.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "ada@example.com", ContactID: "c_ada", RunID: first.ID,
		ContactValues: map[string]any{"Email": "ada@example.com", "LastName": "Lovelace"},
		Candidates: []store.ReviewCandidate{
			{SalesforceID: "003AAAALOVELACE", Values: map[string]any{"Email": "ada@example.com", "LastName": "Lovelace"}},
			{SalesforceID: "003AAAABYRON", Values: map[string]any{"Email": "ada@example.com", "LastName": "Byron", "MobilePhone": "+886912000111"}},
		}})
	merged := e.eng.addReview(e.tenantA.ID, store.ReviewItem{Kind: store.ReviewMerge, IdentityField: "Email", IdentityKey: "bob@example.com", ContactID: "c_bob",
		Candidates: []store.ReviewCandidate{{SalesforceID: "003AAAASURVIVOR", ContactID: "c_other", Values: map[string]any{"LastName": "Survivor"}}}})

	a := e.client().login("a@shop.test")
	// Reachable from the sync info page and the finished first sync, with the count.
	info := a.get("/admin/salesforce/info")
	mustContain(t, info, `<a href="/admin/salesforce/review">Review queue: 2 open</a>`)
	mustContain(t, a.get("/admin/salesforce/start"), `id="review-after-sync"`, "The first sync held contacts that share an identity value: 2 to review.")

	p := a.get("/admin/salesforce/review")
	if p.status != http.StatusOK {
		t.Fatalf("review page: got %d, want 200: %.500s", p.status, p.body)
	}
	mustContain(t, p, "Review queue (2 open)", fmt.Sprintf(`data-review="%d"`, dup.ID), fmt.Sprintf(`data-review="%d"`, merged.ID),
		"Several Salesforce contacts share the identity value", "Email: ada@example.com", "Platform contact", "c_ada",
		"003AAAALOVELACE", "003AAAABYRON", "Byron", "886912000111", `data-link="003AAAABYRON"`, fmt.Sprintf(`id="apart-%d"`, dup.ID), fmt.Sprintf(`id="ignore-%d"`, dup.ID),
		"linked to another Platform contact", "Linked to Platform contact c_other", fmt.Sprintf(`href="/admin/salesforce/runs/%d"`, first.ID))
	// The identity field comes first; rows whose values differ are marked.
	item := p.body[strings.Index(p.body, fmt.Sprintf(`data-review="%d"`, dup.ID)):]
	if i, j := strings.Index(item, "<code>Email</code>"), strings.Index(item, "<code>LastName</code>"); i < 0 || j < 0 || i > j {
		t.Errorf("rows: Email at %d, LastName at %d; want the identity field first", i, j)
	}
	if !strings.Contains(item, `<tr class="differs"><th scope="row"><code>LastName</code>`) || strings.Contains(item, `<tr class="differs"><th scope="row"><code>Email</code>`) {
		t.Error("rows: want LastName marked as differing and Email not")
	}

	resolve := func(c *client, id int64, form url.Values) page {
		t.Helper()
		return c.post(fmt.Sprintf("/admin/salesforce/review/%d/resolve", id), form)
	}
	// Bad input and a missing CSRF token reach nothing.
	for name, form := range map[string]url.Values{
		"unknown action":          {"action": {"merge"}},
		"link without a record":   {"action": {"link"}},
		"apart with a record":     {"action": {"apart"}, "salesforce_id": {"003AAAABYRON"}},
		"link to a non-candidate": {"action": {"link"}, "salesforce_id": {"003AAAANOBODY"}},
	} {
		if p := resolve(a, dup.ID, form); p.status != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", name, p.status)
		}
	}
	if p := resolve(a, dup.ID, url.Values{"action": {"apart"}, "csrf": {"forged"}}); p.status != http.StatusForbidden {
		t.Errorf("forged CSRF token: got %d, want 403", p.status)
	}
	if e.eng.called(fmt.Sprintf("ResolveReview(%d,apart,)", dup.ID), e.tenantA.ID) {
		t.Error("a forged form reached the engine")
	}

	// Tenant B sees nothing of A's and cannot resolve A's item.
	b := e.client().login("b@shop.test")
	bp := b.get("/admin/salesforce/review")
	mustContain(t, bp, "Review queue (0 open)", `id="no-review"`)
	mustNotContain(t, bp, "003AAAALOVELACE", "ada@example.com")
	mustContain(t, b.get("/admin/salesforce/info"), `<a href="/admin/salesforce/review">Review queue</a>`)
	if p := resolve(b, dup.ID, url.Values{"action": {"ignore"}}); p.status != http.StatusNotFound {
		t.Errorf("B resolving A's item: got %d, want 404", p.status)
	}

	// Link one record.
	p = resolve(a, dup.ID, url.Values{"action": {"link"}, "salesforce_id": {"003AAAABYRON"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/salesforce/review?done=review_linked" {
		t.Fatalf("link: got %d → %q, want 303 → the queue with a notice", p.status, p.header.Get("Location"))
	}
	if !e.eng.called(fmt.Sprintf("ResolveReview(%d,linked,003AAAABYRON)", dup.ID), e.tenantA.ID) {
		t.Errorf("link: engine calls %v", e.eng.calls)
	}
	p = a.get("/admin/salesforce/review?done=review_linked")
	mustContain(t, p, "Review queue (1 open)", `class="flash"`, "Linked; it is applied at the next sync.")
	mustNotContain(t, p, fmt.Sprintf(`data-review="%d"`, dup.ID))
	// Twice: already resolved.
	if p := resolve(a, dup.ID, url.Values{"action": {"ignore"}}); p.status != http.StatusConflict || !strings.Contains(p.body, "already been resolved") {
		t.Errorf("resolve twice: got %d, want 409 saying it is resolved", p.status)
	}
	// Resolved items stay viewable, without buttons.
	p = a.get("/admin/salesforce/review?status=resolved")
	mustContain(t, p, fmt.Sprintf(`data-review="%d"`, dup.ID), `data-resolution="linked"`, "Byron")
	mustNotContain(t, p, `data-link=`, fmt.Sprintf(`id="apart-%d"`, dup.ID))

	// Keep apart and ignore.
	if p := resolve(a, merged.ID, url.Values{"action": {"apart"}}); p.status != http.StatusSeeOther {
		t.Errorf("apart: got %d, want 303", p.status)
	}
	mustContain(t, a.get("/admin/salesforce/review"), "Review queue (0 open)", "Nothing waits for review.")
	mustContain(t, a.get("/admin/salesforce/info"), `<a href="/admin/salesforce/review">Review queue</a>`)
}
