package web

import (
	"net/http"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
)

// TestSetupOffersTheObject: step 2 offers Contact, Lead and the pair
// Lead then converted Contact, and Person
// Account only when the org has Person Accounts (issue 16), with the
// settings of the records sfsync creates, in both languages.
func TestSetupOffersTheObject(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh-TW"} {
		e := setup(t, setupOpts{tenantLang: lang})
		e.connect(e.tenantA.ID, store.ConnConnected)
		c := e.client().login("a@shop.test")
		p := c.get("/admin/salesforce/setup/identity")
		if p.status != http.StatusOK {
			t.Fatalf("%s identity step: got %d, want 200: %.300s", lang, p.status, p.body)
		}
		mustContain(t, p, `id="f-object"`, `<option value="Contact" selected>`, `<option value="Lead"`,
			`name="create.constants"`, `name="create.owner"`, `name="create.on_duplicate"`, `name="create.account_id"`)
		mustNotContain(t, p, `<option value="PersonAccount"`, `value="assignment_rules"`)
		// The pair "Lead, then the converted Contact", named in the page's language.
		pair := map[string]string{"en": "Lead, then the converted Contact", "zh-TW": "潛在客戶，轉換後為聯絡人"}[lang]
		mustContain(t, p, `<option value="LeadContact">`+pair)

		e.eng.mu.Lock()
		e.eng.env.PersonAccounts = true
		e.eng.mu.Unlock()
		p = c.get("/admin/salesforce/setup/identity")
		mustContain(t, p, `<option value="PersonAccount"`)
	}
}
