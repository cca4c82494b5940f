package sfemutest_test

// This file is meant to be copied: it is how another project tests its
// Salesforce code against the emulator. Only the standard library is used.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/sfemutest"
)

// TestExample_queryAndCreate reads and writes Contacts over REST with the
// ready access token, and logs in with the OAuth username-password flow.
func TestExample_queryAndCreate(t *testing.T) {
	t.Parallel()
	emu := sfemutest.Start(t, sfemutest.WithContacts(25, 1), sfemutest.WithEdition("Enterprise"))
	api := emu.URL + "/services/data/v62.0"

	// REST with the access token the emulator issued.
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, api+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+emu.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := emu.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if res.StatusCode != http.StatusNoContent {
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return res.StatusCode, out
	}
	status, created := call("POST", "/sobjects/Contact", `{"LastName":"Chen","Email":"chen@example.com"}`)
	if status != http.StatusCreated || created["success"] != true {
		t.Fatalf("create: got %d %v, want 201 and success", status, created)
	}
	status, page := call("GET", "/query?q="+url.QueryEscape("SELECT Id, LastName FROM Contact WHERE Email = 'chen@example.com'"), "")
	if status != http.StatusOK || page["totalSize"] != float64(1) {
		t.Fatalf("query: got %d %v, want the one new contact", status, page)
	}
	if _, all := call("GET", "/query?q="+url.QueryEscape("SELECT COUNT() FROM Contact"), ""); all["totalSize"] != float64(26) {
		t.Errorf("count: got %v, want 26 (25 seeded + 1 created)", all["totalSize"])
	}

	// OAuth: the username-password flow with the Connected App's credentials.
	res, err := emu.HTTPClient.PostForm(emu.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"password"}, "client_id": {emu.ClientID}, "client_secret": {emu.ClientSecret},
		"username": {emu.Username}, "password": {emu.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || tok.AccessToken == "" || tok.InstanceURL != emu.URL {
		t.Errorf("password login: got %d %+v, want a token for %s", res.StatusCode, tok, emu.URL)
	}
}
