package syncconf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/soql"
)

// fakeSource is an in-memory Salesforce: records as the REST API returns
// them (dates and datetimes as strings), queries evaluated by the
// emulator's SOQL engine, API calls counted as Salesforce counts them (a
// COUNT query is one call, a query one call per page of 2,000).
type fakeSource struct {
	d       *salesforce.SObjectDescribe
	records []map[string]any
	calls   int
	queries []string
	failOn  string // a query containing this fails
}

func (s *fakeSource) plan(q string) (*soql.Plan, error) {
	s.queries = append(s.queries, q)
	if s.failOn != "" && strings.Contains(q, s.failOn) {
		return nil, errors.New("REQUEST_LIMIT_EXCEEDED")
	}
	parsed, err := soql.Parse(q)
	if err != nil {
		return nil, err
	}
	return soql.Compile(parsed, describeSchema{s.d}, time.Now())
}

// emuRecord converts a REST record to the emulator's value types.
func (s *fakeSource) emuRecord(rec map[string]any) testRecord {
	vals := map[string]any{}
	for k, v := range rec {
		f, _ := s.d.Field(k)
		if str, ok := v.(string); ok && (f.Type == "date" || f.Type == "datetime") {
			t, err := time.Parse(SalesforceDatetimeLayout, str)
			if err != nil {
				t, _ = time.Parse(time.DateOnly, str)
			}
			v = t.UTC()
		}
		vals[f.Name] = v
	}
	return testRecord{s.d, vals}
}

func (s *fakeSource) Count(ctx context.Context, q string) (int, error) {
	s.calls++
	p, err := s.plan(q)
	if err != nil {
		return 0, err
	}
	if !p.Count {
		return 0, fmt.Errorf("Count called with %q", q)
	}
	n := 0
	for _, r := range s.records {
		if p.Match(s.emuRecord(r)) {
			n++
		}
	}
	return n, nil
}

func (s *fakeSource) Query(ctx context.Context, q string, each func(map[string]any) error) error {
	p, err := s.plan(q)
	s.calls++
	if err != nil {
		return err
	}
	sent := 0
	for _, r := range s.records {
		if p.Limit >= 0 && sent >= p.Limit {
			break
		}
		if !p.Match(s.emuRecord(r)) {
			continue
		}
		if sent > 0 && sent%queryPageSize == 0 {
			s.calls++ // nextRecordsUrl
		}
		out := map[string]any{}
		for _, f := range p.Fields {
			out[f.Name] = r[f.Name]
		}
		sent++
		if err := each(out); err != nil {
			return err
		}
	}
	return nil
}

type fakePlatform struct {
	identity contact.Identity
	contacts []contact.Contact
	calls    int
}

func (p *fakePlatform) FindByIdentity(ctx context.Context, identity contact.Identity, key string) ([]contact.Contact, error) {
	p.calls++
	if identity != p.identity {
		return nil, fmt.Errorf("lookup by %s, want %s", identity, p.identity)
	}
	var out []contact.Contact
	for _, c := range p.contacts {
		if k, err := IdentityKey(identity, string(PlatformValue(c, string(identity)).(string))); err == nil && k == key {
			out = append(out, c)
		}
	}
	return out, nil
}

func dryRunConfig() Config {
	return Config{
		Identity: IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail, ToPlatformNoMatch: NoMatchCreate, ToSalesforceNoMatch: NoMatchUpdateOnly},
		Social:   []SocialMapping{{SalesforceField: "LINE_UID__c", ChannelType: contact.ChannelLINE, ChannelID: "oa-1", Direction: DirToPlatform}},
		Fields: []FieldMapping{
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: DirToPlatform},
			{SalesforceField: "LastName", PlatformField: "name", Direction: DirBoth},
		},
		Conditions: []Condition{{SalesforceField: "LeadSource", Operator: OpEquals, Value: "Web"}},
	}
}

func sfContact(id, email, leadSource, phone, lastName, modstamp string) map[string]any {
	r := map[string]any{"Id": id, "LeadSource": leadSource, "LastName": lastName,
		"SystemModstamp": modstamp, "LastModifiedDate": modstamp, "LastModifiedById": "005000000000001AAA"}
	if email != "" {
		r["Email"] = email
	}
	if phone != "" {
		r["MobilePhone"] = phone
	}
	return r
}

func dryRunSetup(t *testing.T) (*fakeSource, *fakePlatform) {
	t.Helper()
	const older, newer = "2026-01-01T00:00:00.000+0000", "2026-03-01T00:00:00.000+0000"
	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	src := &fakeSource{d: testDescribe(t), records: []map[string]any{
		sfContact("003A", "A@x.com", "Web", "886912345678", "Chen", newer), // unchanged
		sfContact("003B", "b@x.com", "Web", "", "Lin", newer),              // update: Salesforce newer
		sfContact("003C", "c@x.com", "Web", "+886912000111", "Wu", older),  // create
		sfContact("003D", "d@x.com", "Web", "0912345678", "Ho", older),     // rejected: phone without country code
		sfContact("003E", "not-an-email", "Web", "", "Yu", older),          // rejected: bad identity
		sfContact("003F", "e@x.com", "Web", "", "Tsai", older),             // rejected: duplicate in Salesforce
		sfContact("003G", " E@X.com", "Web", "", "Tsai", older),            // rejected: duplicate in Salesforce
		sfContact("003H", "f@x.com", "Web", "", "Kao", older),              // rejected: two platform contacts
		sfContact("003I", "g@x.com", "Other", "", "Out", older),            // not selected: condition
		sfContact("003J", "", "Web", "", "NoMail", older),                  // not selected: identity empty
		sfContact("003K", "h@x.com", "Web", "", "Hsu", older),              // update: social identity to attach
		sfContact("003L", "i@x.com", "Web", "", "Salesforce-old", older),   // unchanged: platform newer wins
	}}
	src.records[10]["LINE_UID__c"] = "U-h"
	src.records[0]["LINE_UID__c"] = "U-a"
	plat := &fakePlatform{identity: contact.IdentityEmail, contacts: []contact.Contact{
		{ID: "pa", Email: "a@x.com", Phone: "+886912345678", Name: "Chen", Updated: feb,
			Social: []contact.SocialIdentity{{ChannelType: contact.ChannelLINE, ChannelID: "oa-1", UserID: "U-a"}}},
		{ID: "pb", Email: "b@x.com", Name: "Lim", Updated: feb},
		{ID: "pf1", Email: "f@x.com", Updated: feb},
		{ID: "pf2", Email: "F@x.com", Updated: feb},
		{ID: "ph", Email: "h@x.com", Name: "Hsu", Updated: feb},
		{ID: "pi", Email: "i@x.com", Name: "Platform-new", Updated: feb},
	}}
	return src, plat
}

func ids(o DryRunOutcome) []string {
	var out []string
	for _, r := range o.Samples {
		out = append(out, r.SalesforceID)
	}
	return out
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	src, plat := dryRunSetup(t)
	cfg := dryRunConfig()
	env := testEnv(t)
	env.Describe = src.d
	rep, err := DryRun(context.Background(), &cfg, env, src, plat, DryRunOptions{})
	if err != nil {
		t.Fatalf("DryRun error: %v", err)
	}
	if rep.Matching != 10 || rep.Scanned != 10 || rep.Truncated || !rep.Pulls {
		t.Errorf("got matching %d, scanned %d, truncated %v, pulls %v; want 10, 10, false, true", rep.Matching, rep.Scanned, rep.Truncated, rep.Pulls)
	}
	checks := []struct {
		name string
		o    DryRunOutcome
		want []string
	}{
		{"create", rep.Create, []string{"003C"}},
		{"update", rep.Update, []string{"003B", "003K"}},
		{"unchanged", rep.Unchanged, []string{"003A", "003L"}},
		{"skipped", rep.SkippedByPolicy, nil},
		{"rejected", rep.Rejected, []string{"003D", "003E", "003F", "003G", "003H"}},
	}
	for _, c := range checks {
		if got := ids(c.o); !slices.Equal(got, c.want) || c.o.Count != len(c.want) {
			t.Errorf("%s: got %d %v, want %v", c.name, c.o.Count, got, c.want)
		}
	}
	wantReasons := map[string]int{"invalid_phone": 1, "invalid_email": 1, ReasonAmbiguousSalesforce: 2, ReasonAmbiguousPlatform: 1}
	if fmt.Sprint(rep.RejectedByReason) != fmt.Sprint(wantReasons) {
		t.Errorf("rejected by reason: got %v, want %v", rep.RejectedByReason, wantReasons)
	}
	for _, r := range rep.Rejected.Samples {
		if r.Reason == "" || r.Message[LangEN] == "" || r.Message[LangZHTW] == "" {
			t.Errorf("rejected row %s: got reason %q, messages %q; want both", r.SalesforceID, r.Reason, r.Message)
		}
		if r.SalesforceID == "003D" && !strings.Contains(r.Message[LangEN], "0912345678") {
			t.Errorf("bad phone row: got message %q, want it to name the value", r.Message[LangEN])
		}
		if r.SalesforceID == "003H" && !slices.Equal(r.PlatformContactIDs, []string{"pf1", "pf2"}) {
			t.Errorf("ambiguous row: got platform contacts %v, want [pf1 pf2]", r.PlatformContactIDs)
		}
	}
	upd := rep.Update.Samples
	if len(upd) == 2 {
		if want := []FieldChange{{PlatformField: "name", From: "Lim", To: "Lin"}}; fmt.Sprint(upd[0].Changes) != fmt.Sprint(want) {
			t.Errorf("update of 003B: got changes %v, want %v", upd[0].Changes, want)
		}
		if want := []FieldChange{{PlatformField: "social.line.oa-1", To: "U-h"}}; fmt.Sprint(upd[1].Changes) != fmt.Sprint(want) {
			t.Errorf("update of 003K: got changes %v, want %v", upd[1].Changes, want)
		}
	}
	if c := rep.Create.Samples; len(c) == 1 {
		want := []FieldChange{{PlatformField: "phone", To: "+886912000111"}, {PlatformField: "name", To: "Wu"}}
		if fmt.Sprint(c[0].Changes) != fmt.Sprint(want) {
			t.Errorf("create of 003C: got changes %v, want %v", c[0].Changes, want)
		}
	}
	if rep.APICalls != 2 || src.calls != 2 {
		t.Errorf("API calls: report says %d, source counted %d; want 2 (count + one page)", rep.APICalls, src.calls)
	}
}

func TestDryRunUpdateOnlySkips(t *testing.T) {
	t.Parallel()
	src, plat := dryRunSetup(t)
	cfg := dryRunConfig()
	cfg.Identity.ToPlatformNoMatch = NoMatchUpdateOnly
	env := testEnv(t)
	rep, err := DryRun(context.Background(), &cfg, env, src, plat, DryRunOptions{})
	if err != nil {
		t.Fatalf("DryRun error: %v", err)
	}
	if got := ids(rep.SkippedByPolicy); !slices.Equal(got, []string{"003C", "003D"}) || rep.Create.Count != 0 {
		t.Errorf("skipped by policy: got %v (create %d), want [003C 003D] and no create", got, rep.Create.Count)
	}
}

func TestDryRunConflictRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule ConflictRule
		want []string // Salesforce IDs that would update
	}{
		{NewestWins, []string{"003B", "003K"}},
		{AlwaysSalesforce, []string{"003B", "003K", "003L"}},
		{PreferSalesforceUnlessBlank, []string{"003B", "003K", "003L"}},
		{AlwaysPlatform, []string{"003K"}},
	}
	for _, tt := range tests {
		src, plat := dryRunSetup(t)
		cfg := dryRunConfig()
		cfg.Fields[1].Conflict = tt.rule
		rep, err := DryRun(context.Background(), &cfg, testEnv(t), src, plat, DryRunOptions{})
		if err != nil {
			t.Fatalf("%s: DryRun error: %v", tt.rule, err)
		}
		if got := ids(rep.Update); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got updates %v, want %v", tt.rule, got, tt.want)
		}
	}
}

// TestSalesforceWins pins the rule the engine and the dry run share: a
// tie in newest_wins goes to Salesforce, and prefer-unless-blank looks at
// the Salesforce value only.
func TestSalesforceWins(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		rule       ConflictRule
		sfv        any
		sfAt, pfAt time.Time
		wantSF     bool
	}{
		{NewestWins, "a", t0, t0, true},
		{NewestWins, "a", t0, t0.Add(time.Second), false},
		{NewestWins, "a", t0.Add(time.Second), t0, true},
		{AlwaysSalesforce, nil, t0, t0.Add(time.Hour), true},
		{AlwaysPlatform, "a", t0.Add(time.Hour), t0, false},
		{PreferSalesforceUnlessBlank, " ", t0.Add(time.Hour), t0, false},
		{PreferSalesforceUnlessBlank, "a", t0, t0.Add(time.Hour), true},
	}
	for _, tt := range tests {
		if got := SalesforceWins(tt.rule, tt.sfv, tt.sfAt, tt.pfAt); got != tt.wantSF {
			t.Errorf("SalesforceWins(%s, %v, %v, %v) = %v, want %v", tt.rule, tt.sfv, tt.sfAt, tt.pfAt, got, tt.wantSF)
		}
	}
}

func TestDryRunCapAndCost(t *testing.T) {
	t.Parallel()
	d := testDescribe(t)
	src := &fakeSource{d: d}
	for i := range 4500 {
		src.records = append(src.records, sfContact(fmt.Sprintf("003%06d", i), fmt.Sprintf("p%d@x.com", i), "Web", "", "N", "2026-01-01T00:00:00.000+0000"))
	}
	plat := &fakePlatform{identity: contact.IdentityEmail}
	cfg := dryRunConfig()
	env := testEnv(t)
	rep, err := DryRun(context.Background(), &cfg, env, src, plat, DryRunOptions{MaxRecords: 4100, Samples: 3})
	if err != nil {
		t.Fatalf("DryRun error: %v", err)
	}
	if rep.Matching != 4500 || rep.Scanned != 4100 || !rep.Truncated || rep.Create.Count != 4100 {
		t.Errorf("got matching %d, scanned %d, truncated %v, create %d; want 4500, 4100, true, 4100", rep.Matching, rep.Scanned, rep.Truncated, rep.Create.Count)
	}
	if len(rep.Create.Samples) != 3 {
		t.Errorf("got %d samples, want 3", len(rep.Create.Samples))
	}
	if limit := 5 + rep.Scanned/2000; src.calls > limit || rep.APICalls != src.calls {
		t.Errorf("API calls: source counted %d, report says %d; want equal and at most %d", src.calls, rep.APICalls, limit)
	}
	if plat.calls != 4100 {
		t.Errorf("platform lookups: got %d, want 4100", plat.calls)
	}
}

// A source that ignores LIMIT must still be cut at the cap.
type unlimitedSource struct{ *fakeSource }

func (s unlimitedSource) Query(ctx context.Context, q string, each func(map[string]any) error) error {
	q, _, _ = strings.Cut(q, " LIMIT ")
	return s.fakeSource.Query(ctx, q, each)
}

func TestDryRunStopsAtCapWithoutLimit(t *testing.T) {
	t.Parallel()
	src, plat := dryRunSetup(t)
	cfg := dryRunConfig()
	rep, err := DryRun(context.Background(), &cfg, testEnv(t), unlimitedSource{src}, plat, DryRunOptions{MaxRecords: 4})
	if err != nil {
		t.Fatalf("DryRun error: %v", err)
	}
	if rep.Scanned != 4 || !rep.Truncated {
		t.Errorf("got scanned %d, truncated %v; want 4, true", rep.Scanned, rep.Truncated)
	}
}

func TestDryRunErrors(t *testing.T) {
	t.Parallel()
	src, plat := dryRunSetup(t)
	cfg := dryRunConfig()
	cfg.Fields[0].PlatformField = "fax"
	_, err := DryRun(context.Background(), &cfg, testEnv(t), src, plat, DryRunOptions{})
	var errs ValidationErrors
	if !errors.As(err, &errs) || !errs.Has("field_mappings[0].platform_field", "unknown_platform_field") || len(src.queries) != 0 {
		t.Errorf("invalid config: got %v after %d queries, want ValidationErrors and no query", err, len(src.queries))
	}

	src.failOn = "SELECT Id"
	cfg = dryRunConfig()
	if _, err := DryRun(context.Background(), &cfg, testEnv(t), src, plat, DryRunOptions{}); err == nil || !strings.Contains(err.Error(), "REQUEST_LIMIT_EXCEEDED") {
		t.Errorf("failing query: got %v, want the source's error", err)
	}
}

func TestDryRunPushOnly(t *testing.T) {
	t.Parallel()
	src, plat := dryRunSetup(t)
	cfg := dryRunConfig()
	cfg.Identity.ToPlatformNoMatch = NoMatchUpdateOnly
	cfg.Social = nil
	cfg.Fields = []FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: DirToSalesforce}}
	rep, err := DryRun(context.Background(), &cfg, testEnv(t), src, plat, DryRunOptions{})
	if err != nil {
		t.Fatalf("DryRun error: %v", err)
	}
	if rep.Pulls || rep.Matching != 10 || rep.Scanned != 0 || src.calls != 1 || plat.calls != 0 {
		t.Errorf("got pulls %v, matching %d, scanned %d, calls %d, lookups %d; want false, 10, 0, 1, 0", rep.Pulls, rep.Matching, rep.Scanned, src.calls, plat.calls)
	}
}

func TestDryRunBadValueOnlyRejectsWhenSalesforceWins(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		rule ConflictRule
		want string // outcome of 003A
	}{{AlwaysPlatform, "unchanged"}, {AlwaysSalesforce, "rejected"}} {
		src, plat := dryRunSetup(t)
		src.records[0]["MobilePhone"] = "0912345678"
		cfg := dryRunConfig()
		cfg.Fields[0].Direction, cfg.Fields[0].Conflict = DirBoth, tt.rule
		rep, err := DryRun(context.Background(), &cfg, testEnv(t), src, plat, DryRunOptions{})
		if err != nil {
			t.Fatalf("%s: DryRun error: %v", tt.rule, err)
		}
		got := "other"
		if slices.Contains(ids(rep.Unchanged), "003A") {
			got = "unchanged"
		} else if slices.Contains(ids(rep.Rejected), "003A") {
			got = "rejected"
		}
		if got != tt.want {
			t.Errorf("%s: 003A with a phone without country code: got %s, want %s", tt.rule, got, tt.want)
		}
	}
}
