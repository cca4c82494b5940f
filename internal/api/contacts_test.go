package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		k, secret, err := e.store.CreateAPIKey(context.Background(), e.tenant, "revoked")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.RevokeAPIKey(context.Background(), k.ID); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			header string
		}{
			{"no header", ""},
			{"wrong scheme", "Basic " + e.key},
			{"empty key", "Bearer "},
			{"unknown key", "Bearer sk_not_a_real_key"},
			{"revoked key", "Bearer " + secret},
		}
		// The contact writes read the key with the tenant's contact rules,
		// in a statement of their own (route.rules).
		for _, op := range []struct{ method, path, body string }{
			{"GET", "/api/v1/contacts", ""},
			{"POST", "/api/v1/contacts", `{"name":"x"}`},
			{"PATCH", "/api/v1/contacts/c_none", `{"name":"x"}`},
			{"POST", "/api/v1/contacts/bulk?match_by=member_id", `[{"member_id":"M1"}]`},
		} {
			for _, tt := range tests {
				var body io.Reader
				if op.body != "" {
					body = strings.NewReader(op.body)
				}
				req, _ := http.NewRequest(op.method, e.srv.URL+op.path, body)
				if op.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				resp, err := e.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s, %s: got status %d, want 401", op.method, op.path, tt.name, resp.StatusCode)
				}
				if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s %s, %s: WWW-Authenticate = %q, want Bearer …", op.method, op.path, tt.name, got)
				}
				if got := resp.Header.Get("Content-Type"); got != "application/problem+json" {
					t.Errorf("%s %s, %s: Content-Type = %q, want application/problem+json", op.method, op.path, tt.name, got)
				}
			}
		}
		if r := e.do("GET", "/api/v1/contacts", ""); r.status != http.StatusOK {
			t.Errorf("valid key: got %s, want 200", r)
		}
		if logs := e.logs.String(); logs != "" {
			t.Errorf("401s were logged: %s; want only internal errors logged", logs)
		}
	})
}

func TestContactCRUD(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/contacts", `{"member_id":" M001 ","name":"王小明","phone":"886912345678","email":" Ming@Example.COM ",
			"birthday":"1990-05-01","gender":"male","tags":["vip","vip"],"social_identities":[{"channel_type":"LINE","channel_id":"@shop","user_id":"U1"}]}`)
		if r.status != http.StatusCreated {
			t.Fatalf("create: got %s, want 201", r)
		}
		c := r.contact(t)
		if loc, want := r.header.Get("Location"), "/api/v1/contacts/"+c.ID; loc != want {
			t.Errorf("Location = %q, want %q", loc, want)
		}
		if !strings.HasPrefix(c.ID, "c_") || deref(c.MemberID) != "M001" || deref(c.Phone) != "+886912345678" || deref(c.Email) != "ming@example.com" ||
			!slices.Equal(c.Tags, []string{"vip"}) || c.Version != 1 || len(c.SocialIdentities) != 1 || c.SocialIdentities[0].ChannelType != "line" {
			t.Errorf("created %+v, want normalised member ID, phone, e-mail, tags, channel type and version 1", c)
		}

		got := e.do("GET", r.header.Get("Location"), "")
		if got.status != http.StatusOK {
			t.Fatalf("get: got %s, want 200", got)
		}
		if g := got.contact(t); jsonString(g) != jsonString(c) {
			t.Errorf("get returned %s, want what create returned %s", jsonString(g), jsonString(c))
		}

		p := e.do("PATCH", "/api/v1/contacts/"+c.ID, `{"name":"王大明"}`)
		if p.status != http.StatusOK {
			t.Fatalf("patch: got %s, want 200", p)
		}
		pc := p.contact(t)
		if deref(pc.Name) != "王大明" || deref(pc.Phone) != "+886912345678" || pc.Version != 2 || !pc.UpdatedAt.After(c.UpdatedAt) && !pc.UpdatedAt.Equal(c.UpdatedAt) {
			t.Errorf("patched %+v, want new name, same phone, version 2", pc)
		}
		// A PATCH that changes nothing keeps the version.
		if p := e.do("PATCH", "/api/v1/contacts/"+c.ID, `{"name":"王大明"}`); p.status != http.StatusOK || p.contact(t).Version != 2 {
			t.Errorf("no-op patch: got %s, want 200 with version 2", p)
		}

		if d := e.do("DELETE", "/api/v1/contacts/"+c.ID, ""); d.status != http.StatusNoContent || len(d.body) != 0 {
			t.Fatalf("delete: got %s, want 204 with no body", d)
		}
		for _, m := range []string{"GET", "PATCH", "DELETE"} {
			r := e.do(m, "/api/v1/contacts/"+c.ID, map[string]string{"PATCH": `{"name":"x"}`}[m])
			if r.status != http.StatusNotFound || r.problem(t).Type != problemTypePrefix+string(codeNotFound) {
				t.Errorf("%s after delete: got %s, want 404 not-found", m, r)
			}
		}
	})
}

func TestPatchNullSemantics(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		e.mustCustomField(`{"key":"tier","label":"Tier","type":"select","options":["gold","silver"]}`)
		e.mustCustomField(`{"key":"score","label":"Score","type":"number"}`)
		const full = `{"member_id":"M1","name":"Amy","phone":"+886912345678","email":"amy@x.test","birthday":"1990-01-02","gender":"female",
			"tags":["a"],"custom_fields":{"tier":"gold","score":3},"social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U1"}]}`
		tests := []struct {
			name  string
			patch string
			check func(c contactView) bool
			want  string
		}{
			{"null clears phone only", `{"phone":null}`, func(c contactView) bool {
				return c.Phone == nil && deref(c.Email) == "amy@x.test" && deref(c.Name) == "Amy" && deref(c.MemberID) == "M1"
			}, "phone null, the rest kept"},
			{"empty string clears", `{"name":"  "}`, func(c contactView) bool { return c.Name == nil && deref(c.Phone) == "+886912345678" }, "name null"},
			{"absent leaves alone", `{}`, func(c contactView) bool { return deref(c.Name) == "Amy" && c.Version == 1 }, "nothing changed, version 1"},
			{"null clears every clearable field", `{"member_id":null,"email":null,"birthday":null,"gender":null,"tags":null}`, func(c contactView) bool {
				return c.MemberID == nil && c.Email == nil && c.Birthday == nil && c.Gender == nil && len(c.Tags) == 0 && deref(c.Phone) == "+886912345678"
			}, "member ID, e-mail, birthday, gender and tags cleared"},
			{"custom field null removes that key", `{"custom_fields":{"tier":null}}`, func(c contactView) bool {
				_, has := c.CustomFields["tier"]
				return !has && c.CustomFields["score"] == float64(3)
			}, "tier removed, score kept"},
			{"social identities replace the list", `{"social_identities":[{"channel_type":"facebook","channel_id":"P","user_id":"F1"}]}`, func(c contactView) bool {
				return len(c.SocialIdentities) == 1 && c.SocialIdentities[0].UserID == "F1"
			}, "only F1"},
			{"social identities null removes all", `{"social_identities":null}`, func(c contactView) bool { return len(c.SocialIdentities) == 0 }, "no identities"},
			{"social identities [] removes all", `{"social_identities":[]}`, func(c contactView) bool { return len(c.SocialIdentities) == 0 }, "no identities"},
		}
		for i, tt := range tests {
			// Each case patches its own contact, so unique values differ.
			body := strings.NewReplacer(`"M1"`, fmt.Sprintf(`"M1-%d"`, i), "+886912345678", fmt.Sprintf("+88691234567%d", i),
				"amy@x.test", fmt.Sprintf("amy%d@x.test", i), `"U1"`, fmt.Sprintf(`"U1-%d"`, i)).Replace(full)
			c := e.mustCreate(body)
			r := e.do("PATCH", "/api/v1/contacts/"+c.ID, tt.patch)
			if r.status != http.StatusOK {
				t.Errorf("%s: got %s, want 200", tt.name, r)
				continue
			}
			// Restore the per-case values the checks compare against.
			got := r.contact(t)
			norm := func(p **string, per, base string) {
				if *p != nil && **p == per {
					*p = str(base)
				}
			}
			norm(&got.MemberID, fmt.Sprintf("M1-%d", i), "M1")
			norm(&got.Phone, fmt.Sprintf("+88691234567%d", i), "+886912345678")
			norm(&got.Email, fmt.Sprintf("amy%d@x.test", i), "amy@x.test")
			if !tt.check(got) {
				t.Errorf("%s: PATCH %s gave %s, want %s", tt.name, tt.patch, r.body, tt.want)
			}
			stored, err := e.store.GetContact(context.Background(), e.tenant, c.ID)
			if err != nil || jsonString(viewContact(stored)) != string(strings.TrimSpace(string(r.body))) {
				t.Errorf("%s: stored contact %s (%v), want what PATCH returned %s", tt.name, jsonString(viewContact(stored)), err, r.body)
			}
		}
		c := e.mustCreate(`{"member_id":"whole-null"}`)
		r := e.do("PATCH", "/api/v1/contacts/"+c.ID, `{"custom_fields":null}`)
		if r.status != http.StatusBadRequest || len(r.problem(t).Errors) != 1 || r.problem(t).Errors[0].Field != "custom_fields" {
			t.Errorf(`PATCH {"custom_fields":null}: got %s, want 400 naming custom_fields`, r)
		}
	})
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		e.mustCustomField(`{"key":"tier","label":"Tier","type":"select","options":["gold"]}`)
		tests := []struct {
			body   string
			field  string
			reason string // substring
		}{
			{`{"phone":"0912345678"}`, "phone", "no country code"},
			{`{"phone":"4155551212"}`, "phone", "not a valid international phone number"},
			{`{"phone":"+886-abc"}`, "phone", "unexpected character"},
			{`{"email":"not-an-address"}`, "email", "not a valid e-mail"},
			{`{"birthday":"2020-13-01"}`, "birthday", "YYYY-MM-DD"},
			{`{"gender":"unknown"}`, "gender", "female, male, other"},
			{`{"nickname":"Amy"}`, "nickname", "unknown field"},
			{`{"tags":"vip"}`, "tags", "must be an array"},
			{`{"name":42}`, "name", "must be a string"},
			{`{"custom_fields":{"tier":"bronze"}}`, "custom_fields.tier", "must be one of gold"},
			{`{"custom_fields":{"nope":"x"}}`, "custom_fields.nope", "no custom field"},
			{`{"social_identities":[{"channel_type":"line","channel_id":"OA"}]}`, "social_identities[0].user_id", "required"},
			{`{"name":"Amy"`, "(body)", "malformed JSON"},
			{`{"name":"Amy"} {"name":"Ben"}`, "(body)", "exactly one JSON object"},
			{`[]`, "(body)", "must be an object"},
			{`null`, "(body)", "must be a JSON object, not null"},
		}
		for _, tt := range tests {
			for _, method := range []string{"POST", "PATCH"} {
				path := "/api/v1/contacts"
				if method == "PATCH" {
					path += "/" + e.mustCreate(`{}`).ID
				}
				r := e.do(method, path, tt.body)
				if r.status != http.StatusBadRequest {
					t.Errorf("%s %s: got %s, want 400", method, tt.body, r)
					continue
				}
				p := r.problem(t)
				if p.Type != problemTypePrefix+string(codeInvalid) || len(p.Errors) != 1 || p.Errors[0].Field != tt.field || !strings.Contains(p.Errors[0].Reason, tt.reason) {
					t.Errorf("%s %s: got errors %+v, want one on %q containing %q", method, tt.body, p.Errors, tt.field, tt.reason)
				}
			}
		}
		// Several bad fields are all reported.
		r := e.do("POST", "/api/v1/contacts", `{"phone":"0912345678","email":"x"}`)
		if p := r.problem(t); len(p.Errors) != 2 || p.Errors[0].Field != "phone" || p.Errors[1].Field != "email" {
			t.Errorf("two bad fields: got %+v, want errors on phone and email", p.Errors)
		}
		// A number with its country code, without "+", is accepted.
		if c := e.mustCreate(`{"phone":"886912345678"}`); deref(c.Phone) != "+886912345678" {
			t.Errorf("phone 886912345678 stored as %s, want +886912345678", deref(c.Phone))
		}
		if r := e.doKey(e.key, "POST", "/api/v1/contacts", `{"name":"x"}`, "text/plain"); r.status != http.StatusUnsupportedMediaType {
			t.Errorf("text/plain body: got %s, want 415", r)
		}
		if logs := e.logs.String(); logs != "" {
			t.Errorf("client errors were logged: %s; want only internal errors logged", logs)
		}
	})
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		a := e.mustCreate(`{"member_id":"M1","phone":"+886912345678","email":"a@x.test","social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U1"}]}`)
		other := e.mustCreate(`{"member_id":"M2"}`)
		tests := []struct {
			method, path, body string
			field              string
		}{
			{"POST", "/api/v1/contacts", `{"member_id":"M1"}`, "member_id"},
			{"POST", "/api/v1/contacts", `{"phone":"886 912 345 678"}`, "phone"},
			{"POST", "/api/v1/contacts", `{"email":"A@X.TEST"}`, "email"},
			{"POST", "/api/v1/contacts", `{"social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U1"}]}`, "social_identities[0]"},
			{"PATCH", "/api/v1/contacts/" + other.ID, `{"email":"a@x.test"}`, "email"},
			{"POST", "/api/v1/contacts/" + other.ID + "/social-identities", `{"channel_type":"line","channel_id":"OA","user_id":"U1"}`, "user_id"},
		}
		for _, tt := range tests {
			r := e.do(tt.method, tt.path, tt.body)
			if r.status != http.StatusConflict {
				t.Errorf("%s %s %s: got %s, want 409", tt.method, tt.path, tt.body, r)
				continue
			}
			p := r.problem(t)
			if p.ConflictingContactID != a.ID || len(p.Errors) != 1 || p.Errors[0].Field != tt.field || p.Errors[0].ConflictingContactID != a.ID {
				t.Errorf("%s %s: got %s, want field %s and conflicting_contact_id %s", tt.method, tt.body, r.body, tt.field, a.ID)
			}
		}
		e.mustCustomField(`{"key":"tier","label":"Tier","type":"text"}`)
		r := e.do("POST", "/api/v1/custom-fields", `{"key":"tier","label":"Again","type":"text"}`)
		if r.status != http.StatusConflict || r.problem(t).Errors[0].Field != "key" {
			t.Errorf("duplicate custom field: got %s, want 409 naming key", r)
		}
		// Nothing was written by the refused requests.
		if got, err := e.store.GetContact(context.Background(), e.tenant, other.ID); err != nil || got.Email != "" || len(got.Social) != 0 {
			t.Errorf("after refused writes contact %s = %+v, %v; want it untouched", other.ID, got, err)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		big := `{"name":"` + strings.Repeat("x", maxObjectBytes) + `"}`
		c := e.mustCreate(`{}`)
		for _, tt := range []struct{ method, path string }{
			{"POST", "/api/v1/contacts"},
			{"PATCH", "/api/v1/contacts/" + c.ID},
			{"POST", "/api/v1/contacts/" + c.ID + "/social-identities"},
			{"POST", "/api/v1/custom-fields"},
		} {
			r := e.serve(tt.method, tt.path, strings.NewReader(big), "application/json")
			if r.status != http.StatusRequestEntityTooLarge || r.problem(t).Type != problemTypePrefix+string(codeTooLarge) {
				t.Errorf("%s %s with %d bytes: got %s, want 413", tt.method, tt.path, len(big), r)
			}
		}
		// A bulk body over 64 MiB: whitespace inside the array, streamed.
		huge := io.MultiReader(strings.NewReader("["), &repeatReader{b: ' ', n: maxBulkBytes}, strings.NewReader("]"))
		r := e.serve("POST", "/api/v1/contacts/bulk?match_by=member_id", huge, "application/json")
		if r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("bulk body over 64 MiB: got %s, want 413", r)
		}
		// More than 10,000 items.
		items := strings.Repeat(`{},`, maxBulkItems) + `{}`
		r = e.serve("POST", "/api/v1/contacts/bulk?match_by=member_id", strings.NewReader("["+items+"]"), "application/json")
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.problem(t).Detail, "10000 items") {
			t.Errorf("bulk with %d items: got %s, want 413 naming the 10000-item limit", maxBulkItems+1, r)
		}
		if list, _ := e.store.ListContacts(context.Background(), e.tenant, store.ContactFilter{Limit: 10}); len(list) != 1 {
			t.Errorf("after refused requests the tenant has %d contacts, want 1", len(list))
		}
	})
}

// repeatReader yields n copies of b.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

func TestRoutingProblems(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		tests := []struct {
			method, path string
			status       int
			code         code
			allow        string
		}{
			{"PUT", "/api/v1/contacts/c_x", http.StatusMethodNotAllowed, codeMethodNotAllowed, "DELETE, GET, HEAD, PATCH"},
			{"DELETE", "/api/v1/contacts", http.StatusMethodNotAllowed, codeMethodNotAllowed, "GET, HEAD, POST"},
			{"GET", "/api/v1/contacts/c_x/social-identities", http.StatusMethodNotAllowed, codeMethodNotAllowed, "POST"},
			{"GET", "/api/v1/nothing-here", http.StatusNotFound, codeNoRoute, ""},
			{"GET", "/api/v1/contacts/c_x/other", http.StatusNotFound, codeNoRoute, ""},
		}
		for _, tt := range tests {
			r := e.do(tt.method, tt.path, "")
			if r.status != tt.status {
				t.Errorf("%s %s: got %s, want %d", tt.method, tt.path, r, tt.status)
				continue
			}
			if p := r.problem(t); p.Type != problemTypePrefix+string(tt.code) {
				t.Errorf("%s %s: problem type %q, want %q", tt.method, tt.path, p.Type, problemTypePrefix+string(tt.code))
			}
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
			}
		}
	})
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		var lines []string
		for i := range 57 {
			lines = append(lines, fmt.Sprintf(`{"member_id":"M%02d"}`, i))
		}
		if r := e.doKey(e.key, "POST", "/api/v1/contacts/bulk?match_by=member_id", strings.Join(lines, "\n"), "application/x-ndjson"); r.status != http.StatusOK {
			t.Fatalf("bulk: got %s", r)
		}
		all, err := e.store.ListContacts(context.Background(), e.tenant, store.ContactFilter{Limit: 100})
		if err != nil || len(all) != 57 {
			t.Fatalf("stored %d contacts (%v), want 57", len(all), err)
		}
		var want []string
		for _, c := range all {
			want = append(want, c.ID)
		}

		page := func(query string) contactPage {
			t.Helper()
			r := e.do("GET", "/api/v1/contacts"+query, "")
			if r.status != http.StatusOK {
				t.Fatalf("GET /contacts%s: got %s, want 200", query, r)
			}
			var p contactPage
			if err := jsonUnmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		if p := page(""); len(p.Data) != defaultLimit || p.NextCursor == nil {
			t.Errorf("default page: got %d contacts, next %v; want %d and a cursor", len(p.Data), p.NextCursor, defaultLimit)
		}
		for _, limit := range []int{1, 10, 19, 57, 500} {
			var got []string
			var sizes []int
			cursor := ""
			for range 100 {
				q := fmt.Sprintf("?limit=%d", limit)
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				p := page(q)
				sizes = append(sizes, len(p.Data))
				for _, c := range p.Data {
					got = append(got, c.ID)
				}
				if p.NextCursor == nil {
					break
				}
				cursor = *p.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: paged through %d IDs, want all %d in order", limit, len(got), len(want))
			}
			if pages := (57 + limit - 1) / limit; len(sizes) != pages {
				t.Errorf("limit %d: got %d pages %v, want %d (no empty last page)", limit, len(sizes), sizes, pages)
			}
		}
		for _, q := range []string{"?limit=0", "?limit=501", "?limit=ten", "?cursor=not-a-cursor", "?cursor=" + url.QueryEscape(encodeCursor("")), "?limit=1&limit=2"} {
			r := e.do("GET", "/api/v1/contacts"+q, "")
			want := strings.TrimPrefix(strings.SplitN(q, "=", 2)[0], "?")
			if r.status != http.StatusBadRequest || r.problem(t).Errors[0].Field != want {
				t.Errorf("GET /contacts%s: got %s, want 400 naming %s", q, r, want)
			}
		}
	})
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		amy := e.mustCreate(`{"member_id":"M1","phone":"+886912345678","email":"amy@x.test","social_identities":[{"channel_type":"line","channel_id":"OA1","user_id":"U1"}]}`)
		ben := e.mustCreate(`{"member_id":"M2","phone":"+14155552671","email":"ben@x.test","social_identities":[{"channel_type":"line","channel_id":"OA2","user_id":"U2"},{"channel_type":"facebook","channel_id":"P","user_id":"U1"}]}`)
		time.Sleep(5 * time.Millisecond)
		mid := time.Now().UTC()
		time.Sleep(5 * time.Millisecond)
		if r := e.do("PATCH", "/api/v1/contacts/"+ben.ID, `{"name":"Ben"}`); r.status != http.StatusOK {
			t.Fatal(r)
		}
		tests := []struct {
			query string
			want  []string
		}{
			{"", []string{amy.ID, ben.ID}},
			{"member_id=M1", []string{amy.ID}},
			{"member_id=+M2+", []string{ben.ID}},
			{"member_id=M3", nil},
			{"phone=886912345678", []string{amy.ID}},
			{"phone=" + url.QueryEscape("+886 912-345-678"), []string{amy.ID}},
			{"phone=" + url.QueryEscape("+1 (415) 555-2671"), []string{ben.ID}},
			{"email=AMY@X.TEST", []string{amy.ID}},
			{"social=line:U1", []string{amy.ID}},
			{"social=facebook:U1", []string{ben.ID}},
			{"social=LINE:OA2:U2", []string{ben.ID}},
			{"social=line:OA1:U2", nil},
			{"social=line:U9", nil},
			{"updated_since=" + url.QueryEscape(mid.Format(time.RFC3339Nano)), []string{ben.ID}},
			{"updated_since=2000-01-01T00:00:00Z", []string{amy.ID, ben.ID}},
			{"updated_since=" + url.QueryEscape(mid.Add(time.Hour).Format(time.RFC3339)), nil},
			{"member_id=M1&email=ben@x.test", nil},
			{"member_id=M2&social=line:U2", []string{ben.ID}},
		}
		for _, tt := range tests {
			r := e.do("GET", "/api/v1/contacts?"+tt.query, "")
			if r.status != http.StatusOK {
				t.Errorf("?%s: got %s, want 200", tt.query, r)
				continue
			}
			var p contactPage
			if err := jsonUnmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range p.Data {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("?%s: got %v, want %v", tt.query, got, tt.want)
			}
		}
		bad := []struct{ query, field, reason string }{
			{"phone=0912345678", "phone", "no country code"},
			{"phone=4155551212", "phone", "not a valid"},
			{"email=nope", "email", "not a valid e-mail"},
			{"social=line", "social", "channel_type:user_id"},
			{"social=line:a:b:c", "social", "channel_type:user_id"},
			{"social=line::U1", "social", "channel ID"},
			{"social=:U1", "social", "required"},
			{"updated_since=yesterday", "updated_since", "RFC 3339"},
			{"phone_number=886912345678", "phone_number", "unknown query parameter"},
		}
		for _, tt := range bad {
			r := e.do("GET", "/api/v1/contacts?"+tt.query, "")
			if r.status != http.StatusBadRequest {
				t.Errorf("?%s: got %s, want 400", tt.query, r)
				continue
			}
			if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != tt.field || !strings.Contains(p.Errors[0].Reason, tt.reason) {
				t.Errorf("?%s: got errors %+v, want one on %s containing %q", tt.query, p.Errors, tt.field, tt.reason)
			}
		}
	})
}

func TestPhoneFilterUsesTenantRegion(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		tn, err := e.store.GetTenant(ctx, e.tenant)
		if err != nil {
			t.Fatal(err)
		}
		tn.PhoneRegion = "TW"
		if err := e.store.UpdateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		c := e.mustCreate(`{"phone":"0912345678"}`)
		if deref(c.Phone) != "+886912345678" {
			t.Fatalf("with region TW 0912345678 stored as %s, want +886912345678", deref(c.Phone))
		}
		r := e.do("GET", "/api/v1/contacts?phone=0912345678", "")
		var p contactPage
		if r.status != http.StatusOK || jsonUnmarshal(r.body, &p) != nil || len(p.Data) != 1 || p.Data[0].ID != c.ID {
			t.Errorf("?phone=0912345678 with region TW: got %s, want contact %s", r, c.ID)
		}
	})
}

func TestSocialIdentityRoutes(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		c := e.mustCreate(`{"member_id":"M1","social_identities":[{"channel_type":"line","channel_id":"OA","user_id":"U1"}]}`)
		base := "/api/v1/contacts/" + c.ID + "/social-identities"

		r := e.do("POST", base, `{"channel_type":" Facebook ","channel_id":"page/1","user_id":"PSID 7"}`)
		if r.status != http.StatusCreated {
			t.Fatalf("add: got %s, want 201", r)
		}
		wantLoc := base + "/facebook/page%2F1/PSID%207"
		if loc := r.header.Get("Location"); loc != wantLoc {
			t.Errorf("Location = %q, want %q", loc, wantLoc)
		}
		got := r.contact(t)
		want := []contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA", UserID: "U1"}, {ChannelType: "facebook", ChannelID: "page/1", UserID: "PSID 7"}}
		if !slices.Equal(got.SocialIdentities, want) || got.Version != 2 {
			t.Errorf("after add: identities %v version %d, want %v version 2", got.SocialIdentities, got.Version, want)
		}
		if r := e.do("POST", base, `{"channel_type":"facebook","channel_id":"page/1","user_id":"PSID 7"}`); r.status != http.StatusOK || r.contact(t).Version != 2 {
			t.Errorf("add again: got %s, want 200 and no new version", r)
		}
		for _, tt := range []struct{ body, field string }{
			{`{"channel_type":"line","channel_id":"OA"}`, "user_id"},
			{`{"channel_type":"Li ne","channel_id":"OA","user_id":"U"}`, "channel_type"},
			{`{"channel_type":"line","channel_id":"OA","user_id":"U","extra":1}`, "extra"},
			{`{"channel_type":1}`, "channel_type"},
		} {
			r := e.do("POST", base, tt.body)
			if r.status != http.StatusBadRequest || r.problem(t).Errors[0].Field != tt.field {
				t.Errorf("add %s: got %s, want 400 naming %s", tt.body, r, tt.field)
			}
		}

		if r := e.do("DELETE", wantLoc, ""); r.status != http.StatusNoContent {
			t.Fatalf("remove: got %s, want 204", r)
		}
		if r := e.do("DELETE", wantLoc, ""); r.status != http.StatusNotFound || r.problem(t).Type != problemTypePrefix+string(codeNotFound) {
			t.Errorf("remove again: got %s, want 404", r)
		}
		if r := e.do("DELETE", base+"/line/OA/U1", ""); r.status != http.StatusNoContent {
			t.Errorf("remove U1: got %s, want 204", r)
		}
		stored, _ := e.store.GetContact(context.Background(), e.tenant, c.ID)
		if len(stored.Social) != 0 {
			t.Errorf("after removing both, stored identities %v, want none", stored.Social)
		}
		ops := outboxOps(e.outbox())
		wantOps := []string{"create", "social_added", "social_removed", "social_removed"}
		if !slices.Equal(ops, wantOps) {
			t.Errorf("outbox ops %v, want %v", ops, wantOps)
		}
	})
}

func TestCustomFieldRoutes(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/custom-fields", `{"key":"tier","label":"Tier","type":"select","options":["gold","silver"]}`)
		if r.status != http.StatusCreated {
			t.Fatalf("create: got %s, want 201", r)
		}
		e.mustCustomField(`{"key":"since","label":"Member since","type":"date"}`)
		for _, tt := range []struct{ body, field string }{
			{`{"key":"Bad Key","label":"x","type":"text"}`, "key"},
			{`{"key":"k","label":"","type":"text"}`, "label"},
			{`{"key":"k","label":"K","type":"colour"}`, "type"},
			{`{"key":"k","label":"K","type":"select"}`, "options"},
			{`{"key":"k","label":"K","type":"text","required":true}`, "required"},
		} {
			r := e.do("POST", "/api/v1/custom-fields", tt.body)
			if r.status != http.StatusBadRequest || r.problem(t).Errors[0].Field != tt.field {
				t.Errorf("create %s: got %s, want 400 naming %s", tt.body, r, tt.field)
			}
		}
		r = e.do("GET", "/api/v1/custom-fields", "")
		var list struct {
			Data []customFieldView `json:"data"`
		}
		if r.status != http.StatusOK || jsonUnmarshal(r.body, &list) != nil || len(list.Data) != 2 || list.Data[0].Key != "since" ||
			list.Data[1].Key != "tier" || !slices.Equal(list.Data[1].Options, []string{"gold", "silver"}) || list.Data[0].Options == nil {
			t.Errorf("list: got %s, want since and tier with options", r)
		}
		c := e.mustCreate(`{"custom_fields":{"tier":"gold","since":"2020-02-29"}}`)
		if c.CustomFields["tier"] != "gold" || c.CustomFields["since"] != "2020-02-29" {
			t.Errorf("custom values %v, want tier gold and since 2020-02-29", c.CustomFields)
		}
		if r := e.do("DELETE", "/api/v1/custom-fields/tier", ""); r.status != http.StatusNoContent {
			t.Errorf("delete: got %s, want 204", r)
		}
		if r := e.do("DELETE", "/api/v1/custom-fields/tier", ""); r.status != http.StatusNotFound {
			t.Errorf("delete again: got %s, want 404", r)
		}
		if r := e.do("POST", "/api/v1/contacts", `{"custom_fields":{"tier":"gold"}}`); r.status != http.StatusBadRequest {
			t.Errorf("value for a deleted field: got %s, want 400", r)
		}
	})
}

func TestOutboxOriginAPI(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		c := e.mustCreate(`{"member_id":"M1"}`)
		steps := []struct{ method, path, body string }{
			{"PATCH", "/api/v1/contacts/" + c.ID, `{"name":"Amy","email":"amy@x.test"}`},
			{"POST", "/api/v1/contacts/" + c.ID + "/social-identities", `{"channel_type":"line","channel_id":"OA","user_id":"U1"}`},
			{"DELETE", "/api/v1/contacts/" + c.ID + "/social-identities/line/OA/U1", ""},
			{"POST", "/api/v1/contacts/bulk?match_by=member_id", `[{"member_id":"M1","name":"Amy Lin"},{"member_id":"M2"}]`},
			{"DELETE", "/api/v1/contacts/" + c.ID, ""},
		}
		for _, s := range steps {
			if r := e.do(s.method, s.path, s.body); r.status >= 300 {
				t.Fatalf("%s %s: got %s", s.method, s.path, r)
			}
		}
		entries := e.outbox()
		wantOps := []string{"create", "update", "social_added", "social_removed", "update", "create", "delete"}
		if got := outboxOps(entries); !slices.Equal(got, wantOps) {
			t.Errorf("outbox ops %v, want %v", got, wantOps)
		}
		for _, en := range entries {
			if en.Origin != contact.OriginAPI {
				t.Errorf("outbox %d (%s) origin %q, want api", en.ID, en.Op, en.Origin)
			}
		}
		if len(entries) > 1 && !slices.Equal(entries[1].ChangedFields, []string{"name", "email"}) {
			t.Errorf("update changed fields %v, want [name email]", entries[1].ChangedFields)
		}
	})
}

func TestInternalErrorsAreLoggedWithoutSecrets(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		e.store.DB.Close()
		const secretValue = "very-private-member-id"
		r := e.do("POST", "/api/v1/contacts", `{"member_id":"`+secretValue+`"}`)
		if r.status != http.StatusInternalServerError || r.problem(t).Type != problemTypePrefix+string(codeInternal) {
			t.Fatalf("with the database closed: got %s, want 500", r)
		}
		if strings.Contains(string(r.body), "closed") {
			t.Errorf("500 body %s shows the internal error, want a generic message", r.body)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, "api request failed") || !strings.Contains(logs, "closed") {
			t.Errorf("log %q, want the internal error", logs)
		}
		for _, secret := range []string{e.key, secretValue} {
			if strings.Contains(logs, secret) {
				t.Errorf("log %q contains %q, want no keys or request bodies", logs, secret)
			}
		}
	})
}

func outboxOps(entries []store.OutboxEntry) []string {
	var ops []string
	for _, e := range entries {
		ops = append(ops, e.Op)
	}
	return ops
}
