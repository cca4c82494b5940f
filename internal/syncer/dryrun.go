package syncer

import (
	"context"
	"errors"
	"fmt"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// DefaultDryRunMaxRecords caps the records a dry run applies; the census
// still reads every in-scope identity value, so ambiguities are exact.
const DefaultDryRunMaxRecords = 10000

// dryRunSamples is the number of sample rows kept per outcome.
const dryRunSamples = 20

// DryRun previews a configuration against the org (X8) by running it: the
// engine's own full pass with cfg — the census, the pages, every decision,
// the store's uniqueness rules for the platform's contacts — inside a
// rehearsal of the store (store.Rehearse) that is rolled back. So the
// preview cannot predict anything the run would not do: its counts are
// the run's counts, as of now. Salesforce is only read. At most
// DefaultDryRunMaxRecords records are applied (Truncated says so).
func (e *Engine) DryRun(ctx context.Context, tenantID string, cfg syncconf.Config) (syncconf.DryRunReport, error) {
	return e.dryRun(ctx, tenantID, cfg, DefaultDryRunMaxRecords)
}

func (e *Engine) dryRun(ctx context.Context, tenantID string, cfg syncconf.Config, maxRecords int) (syncconf.DryRunReport, error) {
	var rep syncconf.DryRunReport
	client, err := e.Conn.Client(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	calls0 := client.Calls()
	d, err := e.describe(ctx, tenantID, cfg.Object(), client, setupDescribeTTL)
	if err != nil {
		return rep, err
	}
	env, err := e.envWith(ctx, tenantID, d)
	if err != nil {
		return rep, err
	}
	if conv := cfg.Choice().ConvertedObject(); conv != "" {
		if env.Converted, err = e.describe(ctx, tenantID, conv, client, setupDescribeTTL); err != nil {
			return rep, err
		}
	}
	bound, err := cfg.Bind(env)
	if err != nil {
		return rep, err
	}
	body, err := cfg.CanonicalJSON()
	if err != nil {
		return rep, err
	}
	q, err := cfg.ScopeCount(d).Build()
	if err != nil {
		return rep, err
	}
	if rep.Matching, err = client.Count(ctx, q); err != nil {
		return rep, fmt.Errorf("dry run: count matching contacts: %w", err)
	}
	rep.Pulls = cfg.PullsFromSalesforce()
	rep.RejectedByReason = map[string]int{}
	if !rep.Pulls || rep.Matching == 0 {
		rep.APICalls = int(client.Calls() - calls0)
		return rep, nil
	}
	rules, err := e.Store.ContactRules(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	observe := func(o dryOutcome, row syncconf.DryRunRow) {
		out := map[dryOutcome]*syncconf.DryRunOutcome{dryCreate: &rep.Create, dryUpdate: &rep.Update, dryUnchanged: &rep.Unchanged, drySkipped: &rep.SkippedByPolicy}[o]
		if len(out.Samples) < dryRunSamples {
			out.Samples = append(out.Samples, row)
		}
	}
	var inner *salesforce.Client // the rehearsal's client
	err = e.Store.Rehearse(ctx, func(r *store.Store) error {
		// Everything inside writes to the rehearsal only — a token the
		// client refreshes too (else, on SQLite's one connection, the
		// refresh would wait for the rehearsal forever). Refresh tokens do
		// not rotate, so the lost access token is only fetched again.
		conn := *e.Conn
		conn.Store = r
		client, err := conn.Client(ctx, tenantID)
		if err != nil {
			return err
		}
		inner = client
		re := &Engine{Store: r, Conn: &conn, Logger: e.Logger, Now: e.Now, Lookback: e.Lookback, PageSize: e.PageSize,
			PushBatch: e.PushBatch, RecycleBinWindow: e.RecycleBinWindow, BulkThreshold: e.BulkThreshold, SliceDuration: 1 << 62}
		v, err := r.SaveSyncConfig(ctx, tenantID, "dry-run", body)
		if err != nil {
			return err
		}
		run, err := r.CreateRun(ctx, Run{TenantID: tenantID, Direction: DirToPlatform, Trigger: TriggerFull, Status: StatusRunning, ConfigVersion: v.Version})
		if err != nil {
			return err
		}
		sess := &session{tenantID: tenantID, client: client, describe: d, cfg: cfg, maps: mappingsOf(bound), rules: rules, run: run,
			calls0: client.Calls(), fullPass: true, limit: maxRecords, observe: observe, review: true}
		if err := sess.openConverted(env); err != nil {
			return err
		}
		for {
			err = re.pullFull(ctx, sess)
			if !errors.Is(err, ErrContinue) {
				break
			}
		}
		if err != nil {
			return err
		}
		final, err := r.GetRun(ctx, tenantID, run.ID)
		if err != nil {
			return err
		}
		c := final.Counts
		rep.Scanned = int(c.Scanned)
		rep.Truncated = rep.Matching > maxRecords
		rep.Create.Count, rep.Update.Count, rep.Unchanged.Count = int(c.Created), int(c.Updated), int(c.Unchanged)
		rep.SkippedByPolicy.Count = int(c.Skipped)
		rep.Rejected.Count = int(c.Failed + c.Ambiguous)
		rep.Failed, rep.Ambiguous, rep.Conflicts = int(c.Failed), int(c.Ambiguous), int(c.Conflicts)
		groups, err := r.ReasonGroups(ctx, tenantID, run.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Kind == KindFailed || g.Kind == KindAmbiguous {
				rep.RejectedByReason[g.ReasonCode] += int(g.Count)
			}
		}
		for _, kind := range []RecordKind{KindAmbiguous, KindFailed} {
			recs, err := r.RunRecords(ctx, tenantID, run.ID, kind, "", dryRunSamples)
			if err != nil {
				return err
			}
			for _, rec := range recs {
				if len(rep.Rejected.Samples) >= dryRunSamples {
					break
				}
				row := syncconf.DryRunRow{SalesforceID: rec.SalesforceID, Reason: rec.ReasonCode, Message: map[string]string{syncconf.LangEN: rec.Reason}}
				if rec.ContactID != "" {
					row.PlatformContactIDs = []string{rec.ContactID}
				}
				rep.Rejected.Samples = append(rep.Rejected.Samples, row)
			}
		}
		return nil
	})
	rep.APICalls = int(client.Calls() - calls0)
	if inner != nil {
		rep.APICalls += int(inner.Calls())
	}
	if err != nil {
		return syncconf.DryRunReport{}, fmt.Errorf("dry run: %w", err)
	}
	return rep, nil
}

// dryOutcome is what the pass did with a record, for the dry run's samples.
type dryOutcome int

const (
	dryCreate dryOutcome = iota
	dryUpdate
	dryUnchanged
	drySkipped
)

// sample hands a dry run a sample row of a record the rehearsed pass
// applied; nothing outside dry runs.
func (s *session) sample(o dryOutcome, it *pullItem, cur, next contact.Contact) {
	if s.observe == nil {
		return
	}
	row := syncconf.DryRunRow{SalesforceID: it.sfID}
	if v := it.vals; len(v) > 0 {
		row.IdentityValue = v[0].v
	}
	if it.contactID != "" {
		row.PlatformContactIDs = []string{it.contactID}
	}
	if o == dryCreate || o == dryUpdate {
		for _, m := range s.maps {
			from, to := m.fromPlatform(cur), m.fromPlatform(next)
			if same(from, to) {
				continue
			}
			name := m.binding.Platform.Name
			if m.social != nil {
				name = "social." + m.social.ChannelType + "." + m.social.ChannelID
			}
			if o == dryCreate {
				from = nil
			}
			row.Changes = append(row.Changes, syncconf.FieldChange{PlatformField: name, From: jsonable(from), To: jsonable(to)})
		}
	}
	s.observe(o, row)
}
