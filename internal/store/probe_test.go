package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestProbeReadsOnlyItsKeys: a PostgreSQL look-up of a page's keys probes
// the index once per key, and no step of its plan reads more rows than it
// was given keys, when the table has no statistics (a first sync fills it
// faster than autovacuum analyses it). The IN (SELECT unnest(…)) form it
// replaced fails this test: its bitmap scan read all 20,000 rows of the
// tenant for 1,000 keys (at 100,000 contacts, 16 ms a look-up, four a
// page; issue 14).
func TestProbeReadsOnlyItsKeys(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	tn, err := s.CreateTenant(ctx, tenant.Tenant{Name: "Probe"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20_000
	ops := make([]store.ContactOp, n)
	for i := range ops {
		ops[i] = store.ContactOp{Input: contact.Input{MemberID: contact.Some(fmt.Sprintf("M%06d", i)), Name: contact.Some("Name")}}
	}
	if _, err := s.ApplyContacts(ctx, tn.ID, ops, contact.OriginAPI, nil); err != nil {
		t.Fatal(err)
	}
	// A page's worth of keys, half of them held by a contact.
	var keys []string
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("M%06d", i*40))
	}
	var out string
	if err := s.DB.QueryRowContext(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+store.ProbeQuery("id, member_id", "contacts", "member_id"), tn.ID, keys).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plan []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	if got := plan[0].Plan.Rows; got != 500 {
		t.Errorf("rows = %v, want 500", got)
	}
	// No step reads more rows than there are keys (the tenant has 20,000).
	var walk func(p planNode)
	walk = func(p planNode) {
		if read := p.Rows * p.Loops; read > float64(len(keys)) {
			t.Errorf("%s read %v rows for %d keys; plan %s", p.Type, read, len(keys), out)
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	walk(plan[0].Plan)
}

type planNode struct {
	Type  string     `json:"Node Type"`
	Rows  float64    `json:"Actual Rows"`
	Loops float64    `json:"Actual Loops"`
	Plans []planNode `json:"Plans"`
}
