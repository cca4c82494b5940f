package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// bulkItemWant is what one bulk item should come back as.
type bulkItemWant struct {
	item   string
	status string
	id     string // "x", "y" (the existing contacts), "new", "=N" (same contact as item N) or ""
	field  string // of the first error, for failed items
	reason string // substring of the first error's reason
}

// mixedItems are good and bad items for match_by=member_id, given
// contacts x (M1, Amy, +886912345678) and y (M9, taken@x.test).
var mixedItems = []bulkItemWant{
	{`{"member_id":"M1","name":"Amy"}`, "unchanged", "x", "", ""},
	{`{"member_id":"M1","name":"Amy Lin"}`, "updated", "x", "", ""},
	{`{"member_id":"M2","phone":"886912345679"}`, "created", "new", "", ""},
	{`{"member_id":"M3","phone":"0912345678"}`, "failed", "", "phone", "no country code"},
	{`{"member_id":"M4","nickname":"x"}`, "failed", "", "nickname", "unknown field"},
	{`{"member_id":"M5","tags":"vip"}`, "failed", "", "tags", "must be an array"},
	{`{"member_id":"M6","email":"TAKEN@x.test"}`, "failed", "", "email", "already belongs to another contact"},
	{`{"name":"No key"}`, "failed", "", "member_id", "is required to match"},
	{`5`, "failed", "", "(item)", "must be an object"},
	{`{"member_id":"M7","phone":"4155551212"}`, "failed", "", "phone", "not a valid international phone number"},
	{`{"member_id":"M2","social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U2"}]}`, "updated", "=2", "", ""},
	{`{"member_id":"M8","custom_fields":null}`, "failed", "", "custom_fields", "must be an object"},
	{`{"member_id":"M12","birthday":"1999-02-30"}`, "failed", "", "birthday", "YYYY-MM-DD"},
	{`{"member_id":"M13","email":"m13@x.test"}`, "created", "new", "", ""},
	{`null`, "failed", "", "(item)", "not null"},
}

// ndjsonOnly are lines that only NDJSON can carry without breaking the
// stream: each fails alone.
var ndjsonOnly = []bulkItemWant{
	{`{"member_id":"M10",`, "failed", "", "(item)", "malformed JSON"},
	{`{"member_id":"M11"} {"member_id":"M11b"}`, "failed", "", "(item)", "exactly one JSON object"},
	{`not json`, "failed", "", "(item)", "malformed JSON"},
}

func TestBulkUpsertJSONArray(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		var parts []string
		for _, it := range mixedItems {
			parts = append(parts, it.item)
		}
		checkBulk(t, e, "application/json", "["+strings.Join(parts, ",\n")+"]", mixedItems)
	})
}

func TestBulkUpsertNDJSON(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		// Malformed lines interleaved with good ones, blank lines skipped.
		var want []bulkItemWant
		var lines []string
		for i, it := range mixedItems {
			want = append(want, it)
			lines = append(lines, it.item)
			if i < len(ndjsonOnly) {
				want = append(want, ndjsonOnly[i])
				lines = append(lines, ndjsonOnly[i].item, "  ")
			}
		}
		// "=2" referred to mixedItems' index 2; find its new position.
		for i := range want {
			if want[i].id == "=2" {
				for j := range want {
					if want[j].item == mixedItems[2].item {
						want[i].id = "=" + string(rune('0'+j))
					}
				}
			}
		}
		checkBulk(t, e, "application/x-ndjson", strings.Join(lines, "\r\n")+"\n", want)
	})
}

func checkBulk(t *testing.T, e *env, contentType, body string, want []bulkItemWant) {
	t.Helper()
	x := e.mustCreate(`{"member_id":"M1","name":"Amy","phone":"+886912345678"}`)
	y := e.mustCreate(`{"member_id":"M9","email":"taken@x.test"}`)
	before := len(e.outbox())

	r := e.doKey(e.key, "POST", "/api/v1/contacts/bulk?match_by=member_id", body, contentType)
	if r.status != http.StatusOK {
		t.Fatalf("bulk: got %s, want 200", r)
	}
	var resp bulkResponse
	if err := jsonUnmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != len(want) {
		t.Fatalf("got %d results, want %d: %s", len(resp.Results), len(want), r.body)
	}
	var counts bulkCounts
	counts.Total = len(want)
	seen := map[string]int{}
	for i, w := range want {
		got := resp.Results[i]
		switch w.status {
		case "created":
			counts.Created++
		case "updated":
			counts.Updated++
		case "unchanged":
			counts.Unchanged++
		case "failed":
			counts.Failed++
		}
		if got.Index != i || got.Status != w.status {
			t.Errorf("item %d %s: got index %d status %s (%+v), want index %d status %s", i, w.item, got.Index, got.Status, got.Errors, i, w.status)
			continue
		}
		switch {
		case w.id == "x" && got.ID != x.ID, w.id == "y" && got.ID != y.ID:
			t.Errorf("item %d: got id %s, want the existing contact's", i, got.ID)
		case w.id == "new" && (got.ID == "" || got.ID == x.ID || got.ID == y.ID):
			t.Errorf("item %d: got id %q, want a new contact's", i, got.ID)
		case strings.HasPrefix(w.id, "="):
			if other := resp.Results[int(w.id[1]-'0')].ID; got.ID != other {
				t.Errorf("item %d: got id %s, want item %s's %s", i, got.ID, w.id[1:], other)
			}
		case w.id == "" && got.ID != "":
			t.Errorf("failed item %d: got id %s, want none", i, got.ID)
		}
		if w.id == "new" {
			seen[got.ID]++
		}
		if w.status != "failed" {
			if len(got.Errors) != 0 {
				t.Errorf("item %d: got errors %+v, want none", i, got.Errors)
			}
			continue
		}
		if len(got.Errors) == 0 || got.Errors[0].Field != w.field || !strings.Contains(got.Errors[0].Reason, w.reason) {
			t.Errorf("item %d %s: got errors %+v, want field %s with %q", i, w.item, got.Errors, w.field, w.reason)
		}
		if w.field == "email" && got.Errors[0].ConflictingContactID != y.ID {
			t.Errorf("item %d: conflicting contact %q, want %s", i, got.Errors[0].ConflictingContactID, y.ID)
		}
	}
	if resp.Counts != counts {
		t.Errorf("counts %+v, want %+v", resp.Counts, counts)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("contact %s reported created by %d items, want 1", id, n)
		}
	}

	ctx := context.Background()
	m1, _ := e.store.ListContacts(ctx, e.tenant, store.ContactFilter{MemberID: "M1"})
	m2, _ := e.store.ListContacts(ctx, e.tenant, store.ContactFilter{MemberID: "M2"})
	if len(m1) != 1 || m1[0].Name != "Amy Lin" {
		t.Errorf("M1 = %+v, want renamed Amy Lin", m1)
	}
	if len(m2) != 1 || m2[0].Phone != "+886912345679" || len(m2[0].Social) != 1 || m2[0].Social[0].UserID != "U2" {
		t.Errorf("M2 = %+v, want phone +886912345679 and LINE U2", m2)
	}
	all, _ := e.store.ListContacts(ctx, e.tenant, store.ContactFilter{Limit: 100})
	if wantN := 2 + counts.Created; len(all) != wantN {
		t.Errorf("tenant has %d contacts, want %d (no failed item stored)", len(all), wantN)
	}
	entries := e.outbox()[before:]
	for _, en := range entries {
		if en.Origin != "api" {
			t.Errorf("outbox %s %s origin %q, want api", en.Op, en.ContactID, en.Origin)
		}
	}
	// created M2, M13; updated M1; M2's identity added.
	if got := outboxOps(entries); strings.Join(got, ",") != "update,create,social_added,create" {
		t.Errorf("bulk outbox ops %v, want [update create social_added create]", got)
	}
}

func TestBulkUpsertMatchBy(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		x := e.mustCreate(`{"member_id":"M1","phone":"+886912345678","email":"amy@x.test"}`)
		tests := []struct {
			matchBy, items, status string
		}{
			{"phone", `[{"phone":"886 912 345 678","name":"By phone"}]`, "updated"},
			{"email", `[{"email":" AMY@X.TEST ","name":"By e-mail"}]`, "updated"},
			{"email", `[{"email":"amy@x.test","name":"By e-mail"}]`, "unchanged"},
			{"member_id", `[{"member_id":"M1","name":"By e-mail"}]`, "unchanged"},
			{"phone", `[{"phone":"+886912345670","email":"amy@x.test"}]`, "failed"},
		}
		for _, tt := range tests {
			r := e.do("POST", "/api/v1/contacts/bulk?match_by="+tt.matchBy, tt.items)
			var resp bulkResponse
			if r.status != http.StatusOK || jsonUnmarshal(r.body, &resp) != nil || len(resp.Results) != 1 {
				t.Fatalf("match_by=%s %s: got %s, want 200 with one result", tt.matchBy, tt.items, r)
			}
			got := resp.Results[0]
			if got.Status != tt.status || tt.status != "failed" && got.ID != x.ID {
				t.Errorf("match_by=%s %s: got %+v, want %s on %s", tt.matchBy, tt.items, got, tt.status, x.ID)
			}
		}
	})
}

func TestBulkUpsertRequestErrors(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		tests := []struct {
			name, query, contentType, body string
			status                         int
			field                          string
		}{
			{"no match_by", "", "application/json", `[]`, 400, "match_by"},
			{"bad match_by", "?match_by=name", "application/json", `[]`, 400, "match_by"},
			{"unknown parameter", "?match_by=email&dry_run=1", "application/json", `[]`, 400, "dry_run"},
			{"object, not array", "?match_by=email", "application/json", `{"email":"a@x.test"}`, 400, "(body)"},
			{"syntax error inside the array", "?match_by=email", "application/json", `[{"email":"a@x.test"}, {oops}]`, 400, "(body)"},
			{"cut short", "?match_by=email", "application/json", `[{"email":"a@x.test"},`, 400, "(body)"},
			{"content after the array", "?match_by=email", "application/json", `[] []`, 400, "(body)"},
			{"empty body", "?match_by=email", "application/json", ` `, 400, "(body)"},
			{"CSV", "?match_by=email", "text/csv", "email\na@x.test\n", 415, ""},
		}
		for _, tt := range tests {
			r := e.doKey(e.key, "POST", "/api/v1/contacts/bulk"+tt.query, tt.body, tt.contentType)
			if r.status != tt.status {
				t.Errorf("%s: got %s, want %d", tt.name, r, tt.status)
				continue
			}
			p := r.problem(t)
			if tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field) {
				t.Errorf("%s: got errors %+v, want one on %s", tt.name, p.Errors, tt.field)
			}
		}
		if list, _ := e.store.ListContacts(context.Background(), e.tenant, store.ContactFilter{}); len(list) != 0 {
			t.Errorf("refused bulk requests stored %d contacts, want 0", len(list))
		}
		r := e.do("POST", "/api/v1/contacts/bulk?match_by=email", `[]`)
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"results":[],"counts":{"total":0,"created":0,"updated":0,"unchanged":0,"failed":0}}` {
			t.Errorf("empty array: got %s, want 200 with no results", r)
		}
	})
}

// TestBulkUpsertManyItemsKeepOrder sends enough items to be decoded on
// several goroutines and checks every result stays at its own index.
func TestBulkUpsertManyItemsKeepOrder(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		const n = 1500
		var lines []string
		for i := range n {
			switch {
			case i%7 == 3:
				lines = append(lines, fmt.Sprintf(`{"member_id":"M%d","phone":"09%08d"}`, i, i)) // no country code
			case i%11 == 5:
				lines = append(lines, fmt.Sprintf(`{"member_id":"M%d","bogus":%d}`, i, i))
			default:
				lines = append(lines, fmt.Sprintf(`{"member_id":"M%d","phone":"+8869%08d"}`, i, 10_000_000+i))
			}
		}
		r := e.doKey(e.key, "POST", "/api/v1/contacts/bulk?match_by=member_id", strings.Join(lines, "\n"), "application/x-ndjson")
		var resp bulkResponse
		if r.status != http.StatusOK || jsonUnmarshal(r.body, &resp) != nil || len(resp.Results) != n {
			t.Fatalf("bulk of %d: got %d results (%d %.200s), want %d", n, len(resp.Results), r.status, r.body, n)
		}
		for i, got := range resp.Results {
			want, field := "created", ""
			switch {
			case i%7 == 3:
				want, field = "failed", "phone"
			case i%11 == 5:
				want, field = "failed", "bogus"
			}
			if got.Index != i || got.Status != want || field != "" && got.Errors[0].Field != field {
				t.Fatalf("result %d = %+v, want index %d status %s field %q", i, got, i, want, field)
			}
			if want == "created" {
				c, err := e.store.GetContact(context.Background(), e.tenant, got.ID)
				if err != nil || c.MemberID != fmt.Sprintf("M%d", i) {
					t.Fatalf("result %d id %s is contact %+v (%v), want member M%d", i, got.ID, c.MemberID, err, i)
				}
			}
		}
	})
}

// TestBulkUpsertAcrossChunks sends a request that the server decodes and
// writes in several chunks (bulkChunkSize) and checks that later items
// see what earlier chunks did, as if the request were one batch: an
// update of a contact created in an earlier chunk, a unique value taken
// there (a conflict), one freed there (reusable), and an identity added
// there. The same items decided in one store batch give the same results.
func TestBulkUpsertAcrossChunks(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		n := 2*bulkChunkSize + 500
		phone := func(i int) string { return fmt.Sprintf("+8869%08d", 10_000_000+i) }
		items := make([]string, n)
		for i := range n {
			items[i] = fmt.Sprintf(`{"member_id":"M%d","phone":"%s"}`, i, phone(i))
		}
		a, b := bulkChunkSize+200, 2*bulkChunkSize+100 // in the second and third chunk
		items[a] = `{"member_id":"M5","name":"Renamed"}`
		items[a+1] = fmt.Sprintf(`{"member_id":"X1","phone":"%s"}`, phone(7))
		items[a+2] = `{"member_id":"M8","social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U8"}]}`
		items[a+3] = fmt.Sprintf(`{"member_id":"M6","phone":"%s"}`, phone(n+6))
		items[b] = `{"member_id":"M5","name":"Renamed"}`
		items[b+1] = fmt.Sprintf(`{"member_id":"X2","phone":"%s"}`, phone(6))
		items[b+2] = `{"member_id":"X3","social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U8"}]}`
		items[b+3] = `{"member_id":"M8","social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U8"}]}`
		want := map[int]string{a: "updated", a + 1: "failed", a + 2: "updated", a + 3: "updated",
			b: "unchanged", b + 1: "created", b + 2: "failed", b + 3: "unchanged"}
		same := map[int]int{a: 5, a + 2: 8, a + 3: 6, b: 5, b + 3: 8}
		conflictWith := map[int]int{a + 1: 7, b + 2: 8}

		r := e.doKey(e.key, "POST", "/api/v1/contacts/bulk?match_by=member_id", "["+strings.Join(items, ",")+"]", "application/json")
		var resp bulkResponse
		if r.status != http.StatusOK || jsonUnmarshal(r.body, &resp) != nil || len(resp.Results) != n {
			t.Fatalf("bulk of %d: got %d results (%d %.300s), want %d", n, len(resp.Results), r.status, r.body, n)
		}
		for i, got := range resp.Results {
			status := want[i]
			if status == "" {
				status = "created"
			}
			if got.Index != i || got.Status != status {
				t.Errorf("item %d %s: got %+v, want status %s", i, items[i], got, status)
				continue
			}
			if j, ok := same[i]; ok && got.ID != resp.Results[j].ID {
				t.Errorf("item %d: contact %s, want item %d's %s", i, got.ID, j, resp.Results[j].ID)
			}
			if j, ok := conflictWith[i]; ok && (len(got.Errors) != 1 || got.Errors[0].ConflictingContactID != resp.Results[j].ID) {
				t.Errorf("item %d: errors %+v, want a conflict with item %d's %s", i, got.Errors, j, resp.Results[j].ID)
			}
		}
		if resp.Counts.Created != n-7 || resp.Counts.Failed != 2 {
			t.Errorf("counts %+v, want %d created and 2 failed", resp.Counts, n-7)
		}

		ctx := context.Background()
		m5, _ := e.store.GetContact(ctx, e.tenant, resp.Results[5].ID)
		m6, _ := e.store.GetContact(ctx, e.tenant, resp.Results[6].ID)
		m8, _ := e.store.GetContact(ctx, e.tenant, resp.Results[8].ID)
		x2, _ := e.store.GetContact(ctx, e.tenant, resp.Results[b+1].ID)
		if m5.Name != "Renamed" || m6.Phone != phone(n+6) || len(m8.Social) != 1 || x2.Phone != phone(6) {
			t.Errorf("stored M5 %q, M6 %s, M8 %v, X2 %s; want Renamed, %s, LINE U8, %s", m5.Name, m6.Phone, m8.Social, x2.Phone, phone(n+6), phone(6))
		}

		// The same items, decided by the store in one batch.
		other, _ := newTenantKey(t, e.store, "One batch")
		rules, err := e.store.ContactRules(context.Background(), other)
		if err != nil {
			t.Fatal(err)
		}
		var inputs []contact.Input
		for _, it := range items {
			in, err := decodeContact([]byte(it))
			if err == nil {
				in, err = rules.Normalize(in)
			}
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, in)
		}
		res, err := e.store.BulkUpsert(context.Background(), other, inputs, contact.IdentityMemberID, contact.OriginAPI)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res {
			if res[i].Outcome != resp.Results[i].Status {
				t.Errorf("item %d: one batch gave %s, chunks %s", i, res[i].Outcome, resp.Results[i].Status)
			}
		}
	})
}
