package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
)

// TestPagesOfAnySizeKeepTheirStatements: a first sync's pages on SQLite
// vary in size (PageTime's adapt), and a page's statements (the look-ups'
// IN lists, the contacts', identities', links', history's and retries'
// multi-row inserts) once had a text of their own for every size, parsed
// for every page. Once every statement size has been met, pages of sizes
// not seen before parse (almost) nothing.
func TestPagesOfAnySizeKeepTheirStatements(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	a := storetest.NewTenant(t, s, "Acme")
	next := 0
	page := func(n int) {
		t.Helper()
		ops := make([]store.ContactOp, n)
		ids := make([]string, n)
		failed := map[string]string{}
		for i := range ops {
			next++
			ops[i] = store.ContactOp{Input: contact.Input{
				MemberID: contact.Some(fmt.Sprintf("M%07d", next)),
				Name:     contact.Some(fmt.Sprintf("Name %d", next)),
				Phone:    contact.Some(fmt.Sprintf("+8869%08d", next)),
				Email:    contact.Some(fmt.Sprintf("p%d@example.com", next)),
				Social:   contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA1", UserID: fmt.Sprintf("U%031d", next)}}),
			}}
			ids[i] = fmt.Sprintf("003%015d", next)
			if next%3 == 0 {
				failed[fmt.Sprintf("003%015dX", next)] = "MobilePhone: not a phone number"
			}
		}
		_, err := s.ApplyContacts(ctx, a.ID, ops, contact.OriginSalesforce, func(tx *sql.Tx, res []store.UpsertResult) error {
			links := make([]store.Link, 0, n)
			hist := make([]store.FieldHistoryEntry, 0, n)
			for i, r := range res {
				if r.Err != nil {
					return r.Err
				}
				links = append(links, store.Link{SalesforceID: ids[i], ContactID: r.Contact.ID, SFValues: map[string]any{"k": fmt.Sprint(i)}})
				hist = append(hist, store.FieldHistoryEntry{ContactID: r.Contact.ID, SalesforceID: ids[i], Direction: store.Direction("to_platform"),
					Changes: []store.FieldChange{{Key: "field:LastName>name", Side: "salesforce", Value: fmt.Sprint(i), Created: true}}})
			}
			if err := s.SaveLinksTx(ctx, tx, a.ID, links); err != nil {
				return err
			}
			if err := s.AddFieldHistoryTx(ctx, tx, a.ID, hist); err != nil {
				return err
			}
			return s.SetPullRetriesTx(ctx, tx, a.ID, failed, func(int) time.Time { return time.Now() }, ids)
		})
		if err != nil {
			t.Fatalf("page of %d: %v", n, err)
		}
	}
	// Every power of two up to the largest chunk, and pages above it.
	for n := 1; n <= 512; n *= 2 {
		page(n)
	}
	page(1100)
	before := store.StmtParses()
	sizes := []int{3, 77, 123, 301, 455, 999, 57, 613, 250, 1}
	for _, n := range sizes {
		page(n)
	}
	if got := store.StmtParses() - before; got > 3 {
		t.Errorf("%d pages of sizes not seen before parsed %d statements, want at most 3", len(sizes), got)
	}
}
