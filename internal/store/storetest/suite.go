package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/tenant"
)

// Run runs the conformance suite against the given dialect.
func Run(t *testing.T, d store.Dialect) {
	tests := map[string]func(t *testing.T, s *store.Store){
		"Tenants":              testTenants,
		"AdminsAndKeys":        testAdminsAndKeys,
		"ContactCRUD":          testContactCRUD,
		"ContactUniqueness":    testContactUniqueness,
		"ContactList":          testContactList,
		"BulkUpsert":           testBulkUpsert,
		"BulkUpsertSwap":       testBulkUpsertSwap,
		"BulkChunksConcurrent": testBulkUpsertChunksConcurrent,
		"BulkChunksCarryOver":  testBulkUpsertChunksCarryOver,
		"OutboxAtomic":         testOutboxAtomic,
		"CustomFields":         testCustomFields,
		"TenantIsolation":      testTenantIsolation,
		"MigrateTwiceIsNoop":   testMigrateTwice,
		"Connections":          testConnections,
		"OAuthStates":          testOAuthStates,
		"SyncConfigVersions":   testSyncConfigVersions,
		"AdminSessions":        testAdminSessions,
		"SyncEngineTables":     testSyncEngineTables,
		"ReviewHold":           testReviewHold,
		"ReviewRelease":        testReviewRelease,
		"ReviewResolve":        testReviewResolve,
		"Rehearse":             testRehearse,
		"HealthHistory":        testHealthHistory,
		"FailureHoursKept":     testFailureHoursKept,
		"RunGroups":            testRunGroups,
		"FieldHistoryStorage":  testFieldHistoryStorage,
		"UpdatesCombine":       testUpdatesCombine,
	}
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		fn := tests[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, d))
		})
	}
}

// NewTenant creates a tenant with the Salesforce add-on for a test.
func NewTenant(t testing.TB, s *store.Store, name string) tenant.Tenant {
	t.Helper()
	tn, err := s.CreateTenant(context.Background(), tenant.Tenant{Name: name, Language: "en", Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	return tn
}

func str(v string) contact.Opt[string] { return contact.Some(v) }

func mustNormalize(t testing.TB, in contact.Input) contact.Input {
	t.Helper()
	out, err := contact.Rules{}.Normalize(in)
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	return out
}

func testTenants(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	got, err := s.GetTenant(ctx, a.ID)
	if err != nil || got.Name != "Acme" || !got.Plan.SalesforceAddon || got.Plan.SocialCDP || got.PhoneRegion != "" {
		t.Fatalf("GetTenant = %+v, %v; want Acme with the add-on only and no phone region", got, err)
	}
	got.Plan.SocialCDP = true
	got.PhoneRegion = "TW"
	got.TimeZone = "Asia/Tokyo"
	if err := s.UpdateTenant(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := s.GetTenant(ctx, a.ID)
	if !again.Plan.SocialCDP || again.PhoneRegion != "TW" || again.TimeZone != "Asia/Tokyo" {
		t.Errorf("after update got %+v, want social_cdp, TW and Asia/Tokyo", again)
	}
	again.TimeZone = "Mars/Olympus"
	if err := s.UpdateTenant(ctx, again); err == nil {
		t.Errorf("UpdateTenant with time zone Mars/Olympus: got no error, want one")
	}
	if _, err := s.GetTenant(ctx, "t_missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTenant(missing) error = %v, want ErrNotFound", err)
	}
	list, _ := s.ListTenants(ctx)
	if len(list) != 1 {
		t.Errorf("got %d tenants, want 1", len(list))
	}
}

func testAdminsAndKeys(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	admin, err := s.CreateAdmin(ctx, a.ID, "Boss@Acme.test", "s3cret-pass")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAdmin(ctx, a.ID, "boss@acme.test", "another-pass"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate admin error = %v, want ErrConflict", err)
	}
	got, err := s.Authenticate(ctx, "boss@acme.test ", "s3cret-pass")
	if err != nil || got.ID != admin.ID || got.TenantID != a.ID {
		t.Errorf("Authenticate = %+v, %v; want admin %s", got, err, admin.ID)
	}
	if _, err := s.Authenticate(ctx, "boss@acme.test", "wrong-pass"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Authenticate(wrong password) error = %v, want ErrNotFound", err)
	}
	key, secret, err := s.CreateAPIKey(ctx, a.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if tid, err := s.TenantForAPIKey(ctx, secret); err != nil || tid != a.ID {
		t.Errorf("TenantForAPIKey = %q, %v; want %q", tid, err, a.ID)
	}
	var storedHash string
	if err := s.DB.QueryRowContext(ctx, `SELECT hash FROM api_keys WHERE id = $1`, key.ID).Scan(&storedHash); err != nil {
		t.Fatalf("read the stored key: %v", err)
	}
	if storedHash == "" || strings.Contains(storedHash, secret) {
		t.Errorf("stored key %q, want only a hash of the secret", storedHash)
	}
	if err := s.RevokeAPIKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantForAPIKey(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked key lookup error = %v, want ErrNotFound", err)
	}
}

func testContactCRUD(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	c, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{
		MemberID: str("M001"), Name: str("王小明"), Phone: str("886912345678"), Email: str(" Ming@Example.com "),
		Tags:   contact.Some([]string{"vip"}),
		Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA1", UserID: "U1"}}),
	}), contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone != "+886912345678" || c.Email != "ming@example.com" || c.Version != 1 {
		t.Errorf("created %+v, want normalised phone and e-mail, version 1", c)
	}
	got, err := s.GetContact(ctx, a.ID, c.ID)
	if err != nil || got.Name != "王小明" || len(got.Social) != 1 || got.Social[0].UserID != "U1" {
		t.Fatalf("GetContact = %+v, %v", got, err)
	}
	// Partial update: name changes, phone is cleared, the rest stays.
	upd, changed, err := s.UpdateContact(ctx, a.ID, c.ID, contact.Input{Name: str("王大明"), Phone: contact.Opt[string]{Set: true, Null: true}}, contact.OriginAdmin)
	if err != nil || !changed {
		t.Fatalf("UpdateContact = %v, changed=%v", err, changed)
	}
	if upd.Name != "王大明" || upd.Phone != "" || upd.Email != "ming@example.com" || upd.Version != 2 {
		t.Errorf("updated %+v, want new name, no phone, same e-mail, version 2", upd)
	}
	_, changed, err = s.UpdateContact(ctx, a.ID, c.ID, contact.Input{Name: str("王大明")}, contact.OriginAdmin)
	if err != nil || changed {
		t.Errorf("same-value update: changed=%v err=%v, want unchanged", changed, err)
	}
	if _, _, err := s.UpdateContact(ctx, a.ID, "c_missing", contact.Input{Name: str("x")}, contact.OriginAdmin); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteContact(ctx, a.ID, c.ID, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetContact(ctx, a.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after delete error = %v, want ErrNotFound", err)
	}
	entries, err := s.ListOutbox(ctx, a.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		ops = append(ops, e.Op+"/"+string(e.Origin))
	}
	want := []string{"create/api", "update/admin", "delete/api"}
	if !slices.Equal(ops, want) {
		t.Errorf("outbox ops = %v, want %v", ops, want)
	}
	if len(entries) == 3 && !slices.Equal(entries[1].ChangedFields, []string{"name", "phone"}) {
		t.Errorf("update changed fields = %v, want [name phone]", entries[1].ChangedFields)
	}
}

func testContactUniqueness(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	first, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M1"), Phone: str("+886912345678"), Email: str("a@x.test"),
		Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA", UserID: "U1"}})}), contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field string
		in    contact.Input
	}{
		{"member_id", contact.Input{MemberID: str("M1")}},
		{"phone", contact.Input{Phone: str("886 912 345 678")}},
		{"email", contact.Input{Email: str("A@X.test")}},
		{"social_identities[0]", contact.Input{Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA", UserID: "U1"}})}},
	}
	for _, tt := range tests {
		_, err := s.CreateContact(ctx, a.ID, mustNormalize(t, tt.in), contact.OriginAPI)
		var cc *store.ContactConflict
		if !errors.As(err, &cc) || cc.Field != tt.field || cc.ContactID != first.ID {
			t.Errorf("duplicate %s: error = %v, want a conflict on %s with contact %s", tt.field, err, tt.field, first.ID)
		}
	}
	// The same values are fine in another tenant.
	b := NewTenant(t, s, "Other")
	if _, err := s.CreateContact(ctx, b.ID, mustNormalize(t, contact.Input{MemberID: str("M1"), Phone: str("+886912345678")}), contact.OriginAPI); err != nil {
		t.Errorf("same member ID in another tenant: %v, want success", err)
	}
}

func testContactList(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	var ids []string
	for i := range 7 {
		c, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str(fmt.Sprintf("M%d", i)), Email: str(fmt.Sprintf("u%d@x.test", i)),
			Social: contact.Some([]contact.SocialIdentity{{ChannelType: "facebook", ChannelID: "P1", UserID: fmt.Sprintf("PSID%d", i)}})}), contact.OriginAPI)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var paged []string
	after := ""
	for {
		page, err := s.ListContacts(ctx, a.ID, store.ContactFilter{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			paged = append(paged, c.ID)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("paged IDs = %v, want %v", paged, ids)
	}
	byEmail, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{Email: "u3@x.test"})
	if len(byEmail) != 1 || byEmail[0].ID != ids[3] {
		t.Errorf("filter by e-mail got %d contacts, want contact %s", len(byEmail), ids[3])
	}
	bySocial, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{Social: &contact.SocialIdentity{ChannelType: "facebook", UserID: "PSID5"}})
	if len(bySocial) != 1 || bySocial[0].ID != ids[5] || len(bySocial[0].Social) != 1 {
		t.Errorf("filter by social identity got %+v, want contact %s with its identity", bySocial, ids[5])
	}
}

func testBulkUpsert(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	if _, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M1"), Name: str("Amy")}), contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M9"), Email: str("taken@x.test")}), contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	items := []contact.Input{
		{MemberID: str("M1"), Name: str("Amy")},                    // unchanged
		{MemberID: str("M1"), Name: str("Amy Lin")},                // updated
		{MemberID: str("M2"), Name: str("Ben")},                    // created
		{MemberID: str("M2"), Tags: contact.Some([]string{"new"})}, // updated (created earlier in this batch)
		{MemberID: str("M3"), Email: str("taken@x.test")},          // failed: e-mail of M9
		{Name: str("No key")},                                      // failed: no member_id
		{MemberID: str("M4"), Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA", UserID: "U4"}})}, // created
	}
	for i := range items {
		items[i] = mustNormalize(t, items[i])
	}
	res, err := s.BulkUpsert(ctx, a.ID, items, contact.IdentityMemberID, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"unchanged", "updated", "created", "updated", "failed", "failed", "created"}
	var got []string
	for _, r := range res {
		got = append(got, r.Outcome)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("outcomes = %v, want %v (errors: %v %v)", got, want, res[4].Err, res[5].Err)
	}
	var cc *store.ContactConflict
	if !errors.As(res[4].Err, &cc) || cc.Field != "email" {
		t.Errorf("item 4 error = %v, want an e-mail conflict", res[4].Err)
	}
	m2, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{MemberID: "M2"})
	if len(m2) != 1 || m2[0].Name != "Ben" || !slices.Equal(m2[0].Tags, []string{"new"}) {
		t.Errorf("M2 = %+v, want Ben tagged new", m2)
	}
	// Re-running the same batch changes nothing.
	res, err = s.BulkUpsert(ctx, a.ID, items[6:], contact.IdentityMemberID, contact.OriginAPI)
	if err != nil || res[0].Outcome != store.OutcomeUnchanged {
		t.Errorf("re-run outcome = %+v, %v; want unchanged", res, err)
	}
}

func testBulkUpsertSwap(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	for _, in := range []contact.Input{{MemberID: str("A"), Email: str("a@x.test")}, {MemberID: str("B"), Email: str("b@x.test")}} {
		if _, err := s.CreateContact(ctx, a.ID, mustNormalize(t, in), contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
	}
	// Two contacts swap e-mail addresses in one batch. Items are decided
	// in order, so A first releases its address; then every step is valid
	// and the writes must not trip over the unique index mid-way.
	items := []contact.Input{
		{MemberID: str("A"), Email: contact.Opt[string]{Set: true, Null: true}},
		{MemberID: str("B"), Email: str("a@x.test")},
		{MemberID: str("A"), Email: str("b@x.test")},
	}
	res, err := s.BulkUpsert(ctx, a.ID, items, contact.IdentityMemberID, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != store.OutcomeUpdated {
			t.Fatalf("item %d outcome = %s (%v), want updated", i, r.Outcome, r.Err)
		}
	}
	ca, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{MemberID: "A"})
	cb, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{MemberID: "B"})
	if ca[0].Email != "b@x.test" || cb[0].Email != "a@x.test" {
		t.Errorf("after swap A=%s B=%s, want A=b@x.test B=a@x.test", ca[0].Email, cb[0].Email)
	}
}

func testOutboxAtomic(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	// Make the outbox insert fail: the contact written before it in the
	// same transaction must not survive.
	if _, err := s.DB.ExecContext(ctx, `ALTER TABLE outbox RENAME TO outbox_gone`); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M1")}), contact.OriginAPI)
	if err == nil {
		t.Fatal("create with a broken outbox succeeded, want an error")
	}
	if _, err := s.DB.ExecContext(ctx, `ALTER TABLE outbox_gone RENAME TO outbox`); err != nil {
		t.Fatal(err)
	}
	list, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{})
	entries, _ := s.ListOutbox(ctx, a.ID, 0, 10)
	if len(list) != 0 || len(entries) != 0 {
		t.Errorf("after a failed transaction got %d contacts and %d outbox rows, want 0 and 0", len(list), len(entries))
	}
}

func testCustomFields(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	if _, err := s.CreateCustomField(ctx, a.ID, contact.CustomFieldDef{Key: "tier", Label: "Tier", Type: contact.FieldSelect, Options: []string{"gold", "silver"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCustomField(ctx, a.ID, contact.CustomFieldDef{Key: "tier", Label: "Tier", Type: contact.FieldText}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate key error = %v, want ErrConflict", err)
	}
	rules, err := s.ContactRules(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rules.Normalize(contact.Input{Custom: map[string]contact.Opt[any]{"tier": contact.Some[any]("bronze")}}); err == nil {
		t.Error("bronze accepted for a gold/silver select, want an error")
	}
	in, err := rules.Normalize(contact.Input{MemberID: str("M1"), Custom: map[string]contact.Opt[any]{"tier": contact.Some[any]("gold")}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateContact(ctx, a.ID, in, contact.OriginAPI)
	if err != nil || c.Custom["tier"] != "gold" {
		t.Errorf("custom value = %v, %v; want gold", c.Custom, err)
	}
}

func testTenantIsolation(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := NewTenant(t, s, "A"), NewTenant(t, s, "B")
	c, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M1")}), contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetContact(ctx, b.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B reading A's contact: %v, want ErrNotFound", err)
	}
	if _, _, err := s.UpdateContact(ctx, b.ID, c.ID, contact.Input{Name: str("x")}, contact.OriginAPI); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B updating A's contact: %v, want ErrNotFound", err)
	}
	if err := s.DeleteContact(ctx, b.ID, c.ID, contact.OriginAPI); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B deleting A's contact: %v, want ErrNotFound", err)
	}
	if list, _ := s.ListContacts(ctx, b.ID, store.ContactFilter{}); len(list) != 0 {
		t.Errorf("tenant B lists %d contacts, want 0", len(list))
	}
	if e, _ := s.ListOutbox(ctx, b.ID, 0, 10); len(e) != 0 {
		t.Errorf("tenant B sees %d outbox rows, want 0", len(e))
	}
}

func testMigrateTwice(t *testing.T, s *store.Store) {
	n, err := s.Migrate(context.Background())
	if err != nil || n != 0 {
		t.Errorf("second Migrate applied %d, %v; want 0, nil", n, err)
	}
}

func testConnections(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	if _, err := s.GetConnection(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetConnection before connecting: %v, want ErrNotFound", err)
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	c := store.SalesforceConnection{TenantID: a.ID, Status: store.ConnConnected, LoginURL: "https://login.salesforce.com",
		InstanceURL: "https://acme.my.salesforce.com", OrgID: "00D000000000001AAA", UserID: "005000000000001AAA", Username: "admin@acme.test",
		IdentityURL: "https://login.salesforce.com/id/00D/005", AccessTokenEnc: "v1:k:a", RefreshTokenEnc: "v1:k:r", APIBudget: 0.5,
		ConnectedAt: now, UpdatedAt: now}
	if err := s.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateConnectionTokens(ctx, a.ID, "v1:k:a2", "v1:k:r2"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConnection(ctx, a.ID)
	if err != nil || got.AccessTokenEnc != "v1:k:a2" || got.RefreshTokenEnc != "v1:k:r2" || got.Username != "admin@acme.test" || !got.ConnectedAt.Equal(now) {
		t.Fatalf("GetConnection = %+v, %v; want the refreshed tokens", got, err)
	}
	// The usage reading: a newer one replaces it, an older one does not,
	// and a connection to another org starts without one.
	at := now.Add(time.Minute)
	if err := s.SaveAPIUsage(ctx, a.ID, 56000, 110000, at); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAPIUsage(ctx, a.ID, 10, 110000, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetConnection(ctx, a.ID); got.APIUsed != 56000 || got.APIMax != 110000 || !got.APIReadAt.Equal(at) {
		t.Errorf("usage reading = %d/%d at %v, want 56000/110000 at %v (the older reading ignored)", got.APIUsed, got.APIMax, got.APIReadAt, at)
	}
	other := c
	other.OrgID, other.AccessTokenEnc, other.RefreshTokenEnc = "00D000000000002AAA", "v1:k:a2", "v1:k:r2"
	if err := s.SaveConnection(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAPIUsage(ctx, a.ID, 5, 15000, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetConnection(ctx, a.ID); got.APIUsed != 5 || got.APIMax != 15000 {
		t.Errorf("usage reading after connecting another org = %d/%d, want the new org's 5/15000", got.APIUsed, got.APIMax)
	}
	if err := s.MarkConnectionBroken(ctx, a.ID, "refresh token revoked"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetConnection(ctx, a.ID)
	if got.Status != store.ConnBroken || got.BrokenReason != "refresh token revoked" || got.AccessTokenEnc != "" {
		t.Errorf("after MarkConnectionBroken got status=%s reason=%q access=%q, want broken with reason and no access token", got.Status, got.BrokenReason, got.AccessTokenEnc)
	}
	b := NewTenant(t, s, "B")
	if _, err := s.GetConnection(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B sees a connection: %v, want ErrNotFound", err)
	}
	if err := s.DeleteConnection(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConnection(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnection after delete: %v, want ErrNotFound", err)
	}
}

func testOAuthStates(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	st := store.OAuthState{StateHash: "h1", TenantID: a.ID, Binding: "session:1", VerifierEnc: "v1:k:v", LoginURL: "https://login.salesforce.com",
		ExpiresAt: s.Now().Add(10 * time.Minute)}
	if err := s.SaveOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeOAuthState(ctx, "h1")
	if err != nil || got.TenantID != a.ID || got.Binding != "session:1" {
		t.Fatalf("ConsumeOAuthState = %+v, %v", got, err)
	}
	if _, err := s.ConsumeOAuthState(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second ConsumeOAuthState: %v, want ErrNotFound (single use)", err)
	}
}

func testSyncConfigVersions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := NewTenant(t, s, "A"), NewTenant(t, s, "B")
	if _, err := s.GetSyncConfig(ctx, a.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("latest config before any save: %v, want ErrNotFound", err)
	}
	for i, body := range []string{`{"v":1}`, `{"v":2}`} {
		v, err := s.SaveSyncConfig(ctx, a.ID, "u_admin", []byte(body))
		if err != nil || v.Version != int64(i+1) {
			t.Fatalf("save %d = %+v, %v; want version %d", i, v, err, i+1)
		}
	}
	if v, _ := s.SaveSyncConfig(ctx, b.ID, "u_b", []byte(`{"b":1}`)); v.Version != 1 {
		t.Errorf("tenant B's first version = %d, want 1 (numbers are per tenant)", v.Version)
	}
	latest, err := s.GetSyncConfig(ctx, a.ID, 0)
	if err != nil || latest.Version != 2 || string(latest.Config) != `{"v":2}` || latest.SavedBy != "u_admin" {
		t.Errorf("latest = %+v, %v; want version 2 by u_admin", latest, err)
	}
	first, _ := s.GetSyncConfig(ctx, a.ID, 1)
	if string(first.Config) != `{"v":1}` {
		t.Errorf("version 1 = %s, want it unchanged", first.Config)
	}
	list, _ := s.ListSyncConfigs(ctx, a.ID)
	if len(list) != 2 || list[0].Version != 2 {
		t.Errorf("list = %+v, want 2 versions, newest first", list)
	}
}

func testAdminSessions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "A")
	admin, err := s.CreateAdmin(ctx, a.ID, "x@a.test", "password-123")
	if err != nil {
		t.Fatal(err)
	}
	id, sess, err := s.CreateSession(ctx, admin.ID, a.ID, time.Hour)
	if err != nil || sess.CSRFToken == "" || len(id) < 40 {
		t.Fatalf("CreateSession = %q, %+v, %v", id, sess, err)
	}
	got, err := s.GetSession(ctx, id)
	if err != nil || got.AdminID != admin.ID || got.TenantID != a.ID || got.CSRFToken != sess.CSRFToken {
		t.Errorf("GetSession = %+v, %v; want the session", got, err)
	}
	var storedID string
	if err := s.DB.QueryRowContext(ctx, `SELECT id_hash FROM admin_sessions WHERE admin_id = $1`, admin.ID).Scan(&storedID); err != nil {
		t.Fatalf("read the stored session: %v", err)
	}
	if storedID == "" || storedID == id {
		t.Errorf("stored session ID %q, want only a hash of the ID", storedID)
	}
	if err := s.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession after logout: %v, want ErrNotFound", err)
	}
	expired, _, _ := s.CreateSession(ctx, admin.ID, a.ID, -time.Second)
	if _, err := s.GetSession(ctx, expired); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession of an expired session: %v, want ErrNotFound", err)
	}
}

func testSyncEngineTables(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := NewTenant(t, s, "A"), NewTenant(t, s, "B")
	now := s.Now()
	// Sync state and the durable schedule.
	if err := s.SaveSyncState(ctx, store.SyncState{TenantID: a.ID, PullEnabled: true, PushEnabled: true, NextPullAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSyncState(ctx, store.SyncState{TenantID: b.ID, PullEnabled: true, NextPullAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueForPull(ctx, now)
	if len(due) != 1 || due[0] != a.ID {
		t.Errorf("DueForPull = %v, want only %s", due, a.ID)
	}
	// Contacts, applied with links and run records in one transaction.
	run, err := s.CreateRun(ctx, store.SyncRun{TenantID: a.ID, Direction: "to_platform", Trigger: "initial", Status: "running", Total: 2})
	if err != nil {
		t.Fatal(err)
	}
	ops := []store.ContactOp{{Input: mustNormalize(t, contact.Input{MemberID: str("M1")})}, {Input: mustNormalize(t, contact.Input{MemberID: str("M2")})}}
	res, err := s.ApplyContacts(ctx, a.ID, ops, contact.OriginSalesforce, func(tx *sql.Tx, res []store.UpsertResult) error {
		links := []store.Link{{SalesforceID: "003A", ContactID: res[0].Contact.ID, SFValues: map[string]any{"name": "x"}}, {SalesforceID: "003B", ContactID: res[1].Contact.ID}}
		if err := s.SaveLinksTx(ctx, tx, a.ID, links); err != nil {
			return err
		}
		cp := "003B"
		if err := s.UpdateRunTx(ctx, tx, a.ID, run.ID, store.RunProgress{Counts: store.SyncCounts{Scanned: 2, Created: 2}, Processed: 2, Checkpoint: &cp}); err != nil {
			return err
		}
		return s.AddRunRecordsTx(ctx, tx, a.ID, []store.SyncRunRecord{{RunID: run.ID, Kind: "failed", SalesforceID: "003C", Field: "Phone", ReasonCode: "invalid_phone", Reason: "Phone \"12345\": not valid"}})
	})
	if err != nil || res[0].Outcome != store.OutcomeCreated {
		t.Fatalf("ApplyContacts = %+v, %v", res, err)
	}
	links, _ := s.LinksBySalesforceID(ctx, a.ID, []string{"003A", "003B", "003Z"})
	if len(links) != 2 || links["003A"].ContactID != res[0].Contact.ID || links["003A"].SFValues["name"] != "x" {
		t.Errorf("links = %+v, want 003A and 003B linked", links)
	}
	byContact, _ := s.LinksByContactID(ctx, a.ID, []string{res[1].Contact.ID})
	if byContact[res[1].Contact.ID].SalesforceID != "003B" {
		t.Errorf("link by contact = %+v, want 003B", byContact)
	}
	if other, _ := s.LinksBySalesforceID(ctx, b.ID, []string{"003A"}); len(other) != 0 {
		t.Error("tenant B sees tenant A's link")
	}
	got, _ := s.GetRun(ctx, a.ID, run.ID)
	if got.Counts.Created != 2 || got.Processed != 2 || got.Checkpoint != "003B" || got.Percent() != 100*2/2 {
		t.Errorf("run = %+v, want 2 created, processed 2, checkpoint 003B", got)
	}
	if _, err := s.GetRun(ctx, b.ID, run.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B reading A's run: %v, want ErrNotFound", err)
	}
	groups, _ := s.ReasonGroups(ctx, a.ID, run.ID)
	if len(groups) != 1 || groups[0].ReasonCode != "invalid_phone" || groups[0].Count != 1 {
		t.Errorf("reason groups = %+v", groups)
	}
	var csvOut strings.Builder
	if err := s.WriteRunCSV(ctx, a.ID, run.ID, "", "", &csvOut); err != nil || !strings.Contains(csvOut.String(), "003C") {
		t.Errorf("CSV = %q, %v", csvOut.String(), err)
	}
	// Pull retries: a failure counts its attempts, a success clears it.
	nextAt := func(n int) time.Time { return now.Add(time.Duration(n) * time.Minute) }
	setRetries := func(failed map[string]string, ok []string) {
		t.Helper()
		if err := s.Tx(ctx, func(tx *sql.Tx) error { return s.SetPullRetriesTx(ctx, tx, a.ID, failed, nextAt, ok) }); err != nil {
			t.Fatal(err)
		}
	}
	setRetries(map[string]string{"003R1": "bad phone", "003R2": "bad phone"}, []string{"003R3"})
	setRetries(map[string]string{"003R1": "still a bad phone"}, nil)
	retries, _ := s.DuePullRetries(ctx, a.ID, now.Add(time.Hour), 10)
	if len(retries) != 2 || retries[0].SalesforceID != "003R2" || retries[0].Attempts != 1 || retries[1].SalesforceID != "003R1" || retries[1].Attempts != 2 || retries[1].LastError != "still a bad phone" {
		t.Errorf("due pull retries = %+v, want 003R2 (1 attempt) then 003R1 (2 attempts)", retries)
	}
	if other, _ := s.DuePullRetries(ctx, b.ID, now.Add(time.Hour), 10); len(other) != 0 {
		t.Error("tenant B sees tenant A's pull retries")
	}
	setRetries(nil, []string{"003R1", "003R2"})
	if left, _ := s.DuePullRetries(ctx, a.ID, now.Add(time.Hour), 10); len(left) != 0 {
		t.Errorf("pull retries left after their records succeeded: %+v", left)
	}
	// A pass that starts over sets its counts instead of adding to them
	// and drops its log entries; API calls still add up.
	if err := s.UpdateRun(ctx, a.ID, run.ID, store.RunProgress{Restart: true, APICalls: 3}); err != nil {
		t.Fatal(err)
	}
	if groups, _ := s.ReasonGroups(ctx, a.ID, run.ID); len(groups) != 0 {
		t.Errorf("log entries after a restart: %+v, want none", groups)
	}
	if err := s.UpdateRun(ctx, a.ID, run.ID, store.RunProgress{Counts: store.SyncCounts{Scanned: 1, Created: 1}, Processed: 1, APICalls: 1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRun(ctx, a.ID, run.ID); got.Processed != 1 || got.Counts.Created != 1 || got.Counts.Scanned != 1 || got.APICalls != 4 {
		t.Errorf("after a restart and one record: processed %d, created %d, scanned %d, API calls %d; want 1, 1, 1, 4",
			got.Processed, got.Counts.Created, got.Counts.Scanned, got.APICalls)
	}
	// A failed transaction leaves no contact and no link.
	_, err = s.ApplyContacts(ctx, a.ID, []store.ContactOp{{Input: mustNormalize(t, contact.Input{MemberID: str("M3")})}}, contact.OriginSalesforce,
		func(tx *sql.Tx, res []store.UpsertResult) error { return errors.New("boom") })
	if err == nil {
		t.Fatal("ApplyContacts with a failing callback succeeded")
	}
	if m3, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{MemberID: "M3"}); len(m3) != 0 {
		t.Error("a contact survived its rolled-back transaction")
	}
	// SQLite enforces no foreign key (see writeTx): the write path must
	// check the tenant itself and leave no orphan.
	if _, err := s.ApplyContacts(ctx, "t_missing", []store.ContactOp{{Input: mustNormalize(t, contact.Input{MemberID: str("M4")})}}, contact.OriginSalesforce, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ApplyContacts for a tenant that does not exist: %v, want ErrNotFound", err)
	}
	checkForeignKeys(t, s)
	// The same when the context ends mid-transaction (a job's timeout, a
	// client gone) and when the caller's callback panics.
	cctx, cancel := context.WithCancel(ctx)
	_, err = s.ApplyContacts(cctx, a.ID, []store.ContactOp{{Input: mustNormalize(t, contact.Input{MemberID: str("M5")})}}, contact.OriginSalesforce,
		func(tx *sql.Tx, res []store.UpsertResult) error {
			cancel()
			time.Sleep(20 * time.Millisecond) // let anything bound to the context react
			_, err := tx.ExecContext(cctx, `DELETE FROM outbox WHERE id = -1`)
			return err
		})
	if err == nil {
		t.Error("ApplyContacts whose context ended mid-transaction succeeded")
	}
	checkForeignKeys(t, s)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the callback's panic did not reach the caller")
			}
		}()
		_, _ = s.ApplyContacts(ctx, a.ID, []store.ContactOp{{Input: mustNormalize(t, contact.Input{MemberID: str("M6")})}}, contact.OriginSalesforce,
			func(tx *sql.Tx, res []store.UpsertResult) error { panic("boom") })
	}()
	checkForeignKeys(t, s)
	for _, m := range []string{"M5", "M6"} {
		if got, _ := s.ListContacts(ctx, a.ID, store.ContactFilter{MemberID: m}); len(got) != 0 {
			t.Errorf("contact %s survived its cancelled or panicking transaction", m)
		}
	}
	// Outbox: the sync's own writes (origin salesforce) leave no row, as
	// they need no push (issue 14); platform writes do: due, fail with
	// backoff, ack.
	entries, _ := s.DueOutbox(ctx, a.ID, now.Add(time.Second), 100)
	if len(entries) != 0 {
		t.Fatalf("due outbox = %+v, want no row for the sync's own writes", entries)
	}
	for _, m := range []string{"M7", "M8"} {
		if _, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str(m)}), contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ = s.DueOutbox(ctx, a.ID, now.Add(time.Second), 100)
	if len(entries) != 2 || entries[0].Origin != contact.OriginAPI {
		t.Fatalf("due outbox = %+v, want 2 api-origin rows", entries)
	}
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.FailOutboxTx(ctx, tx, a.ID, map[int64]string{entries[0].ID: "INVALID_EMAIL_ADDRESS"}, func(n int) time.Time { return now.Add(time.Hour) }); err != nil {
			return err
		}
		return s.AckOutboxTx(ctx, tx, a.ID, []int64{entries[1].ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ = s.DueOutbox(ctx, a.ID, now.Add(time.Second), 100)
	if len(entries) != 0 {
		t.Errorf("due outbox after fail+ack = %d rows, want 0", len(entries))
	}
	left, _ := s.ListOutbox(ctx, a.ID, 0, 10)
	if len(left) != 1 || left[0].Attempts != 1 || left[0].LastError != "INVALID_EMAIL_ADDRESS" {
		t.Errorf("outbox after fail = %+v, want one row with 1 attempt and its error", left)
	}
	pushDue, _ := s.DueForPush(ctx, now.Add(2*time.Hour))
	if len(pushDue) != 1 || pushDue[0] != a.ID {
		t.Errorf("DueForPush = %v, want %s", pushDue, a.ID)
	}
}

// checkForeignKeys fails the test if a row of the SQLite store breaks a
// foreign key (SQLite enforces none: the store keeps them).
func checkForeignKeys(t testing.TB, s *store.Store) {
	t.Helper()
	if s.Dialect != store.SQLite {
		return
	}
	rows, err := s.DB.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid, fkid sql.NullInt64
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			t.Fatal(err)
		}
		t.Errorf("row %d of %s breaks its foreign key to %s", rowid.Int64, table, parent)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
