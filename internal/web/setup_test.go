package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestLoginPageTellsHowToSetUp: on an installation without any admin the
// sign-in page shows the commands that create one (and a tenant, when
// there is none); once an admin exists it does not.
func TestLoginPageTellsHowToSetUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	srv := httptest.NewServer(New(Options{Store: st, Engine: newFakeEngine()}))
	t.Cleanup(srv.Close)
	page := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL + "/login?lang=en")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	body := page()
	for _, want := range []string{`id="setup-hint"`, "No admin exists yet", "sfsync tenant create --name", "sfsync admin create --tenant TENANT_ID"} {
		if !strings.Contains(body, want) {
			t.Errorf("empty installation: the login page lacks %q", want)
		}
	}
	tn, err := st.CreateTenant(ctx, tenant.Tenant{Name: "Shop", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	body = page()
	if !strings.Contains(body, "sfsync admin create") || strings.Contains(body, "sfsync tenant create") {
		t.Errorf("a tenant and no admin: got a hint without admin create or with tenant create, want only the admin part")
	}
	if _, err := st.CreateAdmin(ctx, tn.ID, "a@shop.test", testPassword); err != nil {
		t.Fatal(err)
	}
	if body = page(); strings.Contains(body, "setup-hint") {
		t.Errorf("an admin exists: got the setup hint, want none")
	}
}
