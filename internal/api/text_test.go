package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadTextIsRefused422 sends text that cannot be stored faithfully (a
// NUL character, bytes that are not UTF-8, an escaped lone surrogate) in
// every kind of JSON body: each is refused with 422 naming the field, and
// nothing is stored rewritten to U+FFFD.
func TestBadTextIsRefused422(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		c := e.mustCreate(`{"member_id":"M1","name":"Amy"}`)
		tests := []struct {
			method, path, body, field string
		}{
			{"POST", "/api/v1/contacts", `{"member_id":"M2\u0000","name":"Ben"}`, "member_id"},
			{"POST", "/api/v1/contacts", `{"name":"\ud800"}`, "name"},
			{"POST", "/api/v1/contacts", "{\"name\":\"Ann\xff\"}", "name"},
			{"PATCH", "/api/v1/contacts/" + c.ID, `{"tags":["\udfff"]}`, "tags[0]"},
			{"POST", "/api/v1/contacts/" + c.ID + "/social-identities", `{"channel_type":"line","channel_id":"OA","user_id":"U\u0000"}`, "user_id"},
			{"POST", "/api/v1/custom-fields", `{"key":"tier","label":"Ti\u0000er","type":"text"}`, "label"},
			{"POST", "/api/v1/salesforce/sync", `{"kind":"full\ud800"}`, "kind"},
		}
		for _, tt := range tests {
			r := e.do(tt.method, tt.path, tt.body)
			if r.status != http.StatusUnprocessableEntity {
				t.Errorf("%s %s %q: got %s, want 422", tt.method, tt.path, tt.body, r)
				continue
			}
			p := r.problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != tt.field {
				t.Errorf("%s %s %q: got errors %+v, want one naming %s", tt.method, tt.path, tt.body, p.Errors, tt.field)
			}
		}
		got := e.do("GET", "/api/v1/contacts/"+c.ID, "").contact(t)
		if strings.ContainsRune(deref(got.Name), '\uFFFD') || len(got.Tags) != 0 {
			t.Errorf("contact after refused writes = %+v, want it unchanged", got)
		}

		// In a bulk request each such item fails alone, naming the field.
		r := e.do("POST", "/api/v1/contacts/bulk?match_by=member_id", `[{"member_id":"M5","name":"ok"},{"member_id":"M6","name":"bad\u0000"}]`)
		if r.status != http.StatusOK {
			t.Fatalf("bulk: got %s, want 200", r)
		}
		var resp bulkResponse
		if err := jsonUnmarshal(r.body, &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.Results) != 2 || resp.Results[0].Status != "created" || resp.Results[1].Status != "failed" ||
			len(resp.Results[1].Errors) == 0 || resp.Results[1].Errors[0].Field != "name" || !strings.Contains(resp.Results[1].Errors[0].Reason, "NUL") {
			t.Errorf("bulk results = %s, want the first created and the second failed on name (NUL)", r.body)
		}
	})
}

// TestDecodeErrorsNameTheField: a body of the wrong type, anywhere, is a
// problem+json naming the field in the client's terms, never Go's decoder
// message.
func TestDecodeErrorsNameTheField(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	tests := []struct {
		method, path, body, field, reason string
	}{
		{"PUT", "/api/v1/salesforce/config", `{"field_mappings":"x"}`, "field_mappings", "must be an array"},
		{"PUT", "/api/v1/salesforce/config", `{"identity":{"platform_identity":7}}`, "identity.platform_identity", "must be a string"},
		{"PUT", "/api/v1/salesforce/config", `{"identity":[]}`, "identity", "must be an object"},
		{"PUT", "/api/v1/salesforce/config", `[]`, "(body)", "must be an object"},
		{"PUT", "/api/v1/salesforce/config", `{"nope":1}`, "nope", "unknown field"},
		{"POST", "/api/v1/salesforce/config/validate", `{"conditions":{}}`, "conditions", "must be an array"},
		{"POST", "/api/v1/custom-fields", `{"key":1}`, "key", "must be a string"},
		{"POST", "/api/v1/salesforce/sync", `{"kind":5}`, "kind", "must be a string"},
	}
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, tt.body)
		p := r.problem(t)
		if r.status != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != tt.field || !strings.Contains(p.Errors[0].Reason, tt.reason) {
			t.Errorf("%s %s %s: got %s, want 400 naming %s (%s)", tt.method, tt.path, tt.body, r, tt.field, tt.reason)
		}
		for _, goWords := range []string{"json:", "Go struct", "syncconf.", "[]"} {
			if strings.Contains(p.Detail, goWords) || len(p.Errors) > 0 && strings.Contains(p.Errors[0].Reason, goWords) {
				t.Errorf("%s %s: the problem speaks Go (%q): %s", tt.path, tt.body, goWords, r.body)
			}
		}
	}
}
