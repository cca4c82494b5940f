package syncer_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// randomOrg fills the emulated org and the platform with what makes a sync
// interesting, drawn from seed: identity values shared by records pages
// apart, phone numbers without a country code, platform contacts that
// already hold a record's identity value or a mapped unique value of
// another (collisions), records the conditions leave out, and merges.
func randomOrg(t *testing.T, f *fixture, seed uint64, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	sources := []string{"Web", "Phone Inquiry", "Other"}
	var ids []string
	for i := range n {
		rec := map[string]any{"LastName": fmt.Sprintf("P%04d", i), "LeadSource": sources[r.IntN(len(sources))]}
		switch x := r.IntN(100); {
		case x < 8 && i > 0:
			rec["Email"] = fmt.Sprintf("p%04d@example.com", r.IntN(i)) // shared with an earlier record
		case x < 12:
			// no e-mail: out of scope
		default:
			rec["Email"] = fmt.Sprintf("p%04d@example.com", i)
		}
		switch x := r.IntN(100); {
		case x < 6:
			rec["MobilePhone"] = fmt.Sprintf("09%08d", i) // no country code
		case x < 70:
			rec["MobilePhone"] = fmt.Sprintf("+8869%08d", i)
		}
		if r.IntN(3) == 0 {
			rec["Member_Number__c"] = fmt.Sprintf("M%04d", i)
		}
		ids = append(ids, f.sfCreate(t, rec))
	}
	// Merges: some records merged into others before anything syncs.
	for range n / 50 {
		a, b := ids[r.IntN(len(ids))], ids[r.IntN(len(ids))]
		if a != b {
			f.Org.MergeContacts(a, b) // an already merged record is refused; fine
		}
	}
	// Platform contacts: some hold a record's e-mail (matched, perhaps
	// changed), some a phone or member ID that another record would bring
	// (a uniqueness collision on a mapped field).
	for i := range n / 10 {
		in := contact.Input{Name: contact.Some(fmt.Sprintf("Platform %d", i))}
		switch r.IntN(3) {
		case 0:
			in.Email = contact.Some(fmt.Sprintf("p%04d@example.com", r.IntN(n)))
		case 1:
			in.Phone = contact.Some(fmt.Sprintf("+8869%08d", r.IntN(n)))
		default:
			in.MemberID = contact.Some(fmt.Sprintf("M%04d", r.IntN(n)))
		}
		norm, err := (contact.Rules{}).Normalize(in)
		if err != nil {
			t.Fatal(err)
		}
		f.Store.CreateContact(f.ctx, f.Tenant.ID, norm, contact.OriginAPI) // a duplicate draw is refused; fine
	}
}

func propertyConfig(r *rand.Rand) syncconf.Config {
	cfg := syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{
			{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth, Conflict: []syncconf.ConflictRule{syncconf.NewestWins, syncconf.AlwaysSalesforce, syncconf.AlwaysPlatform, syncconf.PreferSalesforceUnlessBlank}[r.IntN(4)]},
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: syncconf.DirToPlatform},
			{SalesforceField: "Member_Number__c", PlatformField: "member_id", Direction: syncconf.DirBoth},
		},
	}
	if r.IntN(2) == 0 {
		cfg.Identity.ToPlatformNoMatch = syncconf.NoMatchUpdateOnly
	}
	if r.IntN(2) == 0 {
		cfg.Conditions = []syncconf.Condition{{SalesforceField: "LeadSource", Operator: syncconf.OpNotEquals, Value: "Other"}}
	}
	return cfg
}

// TestDryRunPredictsTheRun is the dry run's promise (X8): on random orgs,
// its counts are the run's counts, exactly — for a first sync and for a
// full resync under another configuration — and it leaves nothing behind.
func TestDryRunPredictsTheRun(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				f := setup(t, d)
				randomOrg(t, f, seed, 450)
				r := rand.New(rand.NewPCG(seed, 7))
				for pass, trigger := range []string{"first sync", "full resync"} {
					cfg := propertyConfig(r)
					before, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Limit: 10000})
					rep, err := f.eng.DryRun(f.ctx, f.Tenant.ID, cfg)
					if err != nil {
						t.Fatalf("%s: dry run: %v", trigger, err)
					}
					after, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Limit: 10000})
					if len(after) != len(before) {
						t.Fatalf("%s: the dry run left %d platform contacts, had %d", trigger, len(after), len(before))
					}
					if n, _ := f.eng.CountOpenReview(f.ctx, f.Tenant.ID); pass == 0 && n != 0 {
						t.Fatalf("%s: the dry run left %d review items", trigger, n)
					}
					f.save(t, cfg)
					var run syncer.Run
					if pass == 0 {
						run, err = f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
					} else {
						run, err = f.eng.FullResync(f.ctx, f.Tenant.ID)
					}
					if err != nil {
						t.Fatal(err)
					}
					run = f.pull(t, run, syncer.ModeFull)
					c := run.Counts
					got := fmt.Sprintf("created %d updated %d unchanged %d skipped %d failed %d ambiguous %d conflicts %d",
						rep.Create.Count, rep.Update.Count, rep.Unchanged.Count, rep.SkippedByPolicy.Count, rep.Failed, rep.Ambiguous, rep.Conflicts)
					want := fmt.Sprintf("created %d updated %d unchanged %d skipped %d failed %d ambiguous %d conflicts %d",
						c.Created, c.Updated, c.Unchanged, c.Skipped, c.Failed, c.Ambiguous, c.Conflicts)
					if got != want {
						t.Errorf("%s: dry run predicted %s; the run had %s", trigger, got, want)
					}
					if rep.Rejected.Count != int(c.Failed+c.Ambiguous) || rep.Scanned != int(c.Scanned) {
						t.Errorf("%s: dry run rejected %d of %d scanned; the run failed %d + %d ambiguous of %d", trigger, rep.Rejected.Count, rep.Scanned, c.Failed, c.Ambiguous, c.Scanned)
					}
					// Held records are counted once, by the pass that holds them.
					if pass == 0 && (c.Ambiguous == 0 || c.Failed == 0) {
						t.Errorf("%s: the org drew no ambiguity or no failure (%+v): the property checks too little", trigger, c)
					}
				}
			})
		}
	})
}

// A dry run whose access token has expired refreshes it and predicts as
// usual. (Inside the rehearsal a refreshed token is stored in the
// rehearsal itself — on SQLite's one connection, storing it through the
// real store would wait for the rehearsal forever; the timeout bounds the
// test if that ever comes back.)
func TestDryRunRefreshesExpiredToken(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.sfMembers(t, 30)
		f.Emu.ExpireTokens(f.Org)
		ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
		defer cancel()
		rep, err := f.eng.DryRun(ctx, f.Tenant.ID, memberConfig())
		if err != nil {
			t.Fatalf("dry run with an expired token: %v", err)
		}
		if rep.Create.Count != 30 {
			t.Errorf("dry run predicted %d creates, want 30", rep.Create.Count)
		}
	})
}
