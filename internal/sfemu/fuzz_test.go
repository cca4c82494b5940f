package sfemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// FuzzCreateContact sends arbitrary bodies to POST /sobjects/Contact: the
// answer is always 201 with a SaveResult or 4xx with a Salesforce error
// array, never a 5xx or a panic, and a created record reads back.
func FuzzCreateContact(f *testing.F) {
	for _, seed := range []string{
		`{"LastName":"Chen"}`, `{"LastName":"x","Email":"a@b.co","Birthdate":"1990-01-01"}`, `{"FirstName":"only"}`,
		`{"LastName":"x","Tier__c":"Gold","Customer_Since__c":"2020-02-30"}`, `[]`, `null`, `{"LastName":1}`,
		`{"LastName":"x","OwnerId":"005000000000000AAA"}`, `{"LastName":"x","Member_Number__c":"M1","attributes":{"type":"Contact"}}`,
		`{"LastName":"` + strings.Repeat("長", 81) + `"}`, `{"LastName":"x","Id":"003000000000001AAA"}`,
	} {
		f.Add(seed)
	}
	srv := New(Options{Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }})
	org, err := srv.CreateOrg(OrgOptions{APIAllocation: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	tok, err := srv.IssueToken(org, org.Admin().Username)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", sfapi.VersionPath+"/sobjects/Contact", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusCreated:
			var res struct {
				ID      string `json:"id"`
				Success bool   `json:"success"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || !res.Success {
				t.Fatalf("201 body: got %s", rec.Body.Bytes())
			}
			if _, ok := org.Record(res.ID); !ok {
				t.Fatalf("created %s does not read back", res.ID)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var errs []struct {
				Message   string `json:"message"`
				ErrorCode string `json:"errorCode"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &errs); err != nil || len(errs) == 0 || errs[0].ErrorCode == "" {
				t.Fatalf("%d body is not an error array: %s", rec.Code, rec.Body.Bytes())
			}
		default:
			t.Fatalf("status: got %d (%s) for body %q", rec.Code, rec.Body.Bytes(), body)
		}
	})
}
