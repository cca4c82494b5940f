package syncer

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// The drift check (SPEC Y2) finds what the incremental pulls missed — a
// SystemModstamp equal to the cursor's at a page boundary, a write that
// committed later than the lookback, a trigger's write, a record restored
// from the Recycle Bin, a record deleted or purged unseen — and repairs
// it through the pull's own decision path (applyPage).
//
// It never reads a record in full to find drift. Salesforce's side is
// read as (Id, SystemModstamp) only — through REST queries of 2,000 a
// page, or one Bulk API 2.0 job above the bulk threshold — and compared
// with what the links last saw, in ranges of Ids: the links, in Id order,
// are cut into ranges of DriftRangeSize (2,000), and each range's count and
// checksum (a sum of FNV-64a hashes of Id and SystemModstamp) are compared
// with those of Salesforce's records that fall in it. Only a range that
// differs is read again (one REST call per range, Id and SystemModstamp)
// and compared record by record; only the records that differ are read
// in full and applied. At 1M contacts a clean check should cost about 25
// calls through the Bulk API (1 count, 1 job, a few polls, 20 result
// pages); BenchmarkDriftCheck measures it. Records that wait anyway
// (failed, held, unlinked under the skip policy) are remembered as the
// check saw them (drift_waiting) and counted into the links' side next
// time, so their ranges are not read again while they do not change.

// Drift modes and triggers.
const (
	// ModeDrift is a drift check and repair.
	ModeDrift PullMode = "drift"
)

// DefaultDriftRangeSize is the number of links per range a drift check
// compares.
const DefaultDriftRangeSize = 2000

func (e *Engine) driftRangeSize() int { return orDefault(e.DriftRangeSize, DefaultDriftRangeSize) }

// DefaultDriftInterval is how often each tenant's drift check runs.
const DefaultDriftInterval = 24 * time.Hour

func (e *Engine) driftInterval() time.Duration {
	return orDefault(e.DriftInterval, DefaultDriftInterval)
}

// DriftCheck starts a drift check and repair of the tenant now (the
// admin's button, the JSON API, the CLI); it runs as a pull run with
// trigger drift_check, one at a time with the tenant's other pulls.
func (e *Engine) DriftCheck(ctx context.Context, tenantID string) (Run, error) {
	return e.startPull(ctx, tenantID, ModeDrift, TriggerDrift)
}

// DriftReport returns a drift check run's report; store.ErrNotFound for
// another kind of run or one still running.
func (e *Engine) DriftReport(ctx context.Context, tenantID string, runID int64) (store.DriftReport, error) {
	return e.Store.GetDriftReport(ctx, tenantID, runID)
}

// ScheduleDriftChecks starts the drift check of every tenant whose check
// is due (daily by default). A tenant seen for the first time is
// scheduled one interval on; a tenant busy with another pull is tried
// again in an hour.
func (e *Engine) ScheduleDriftChecks(ctx context.Context) (int, error) {
	due, err := e.Store.DriftSchedules(ctx, e.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for t, next := range due {
		now := e.now()
		switch {
		case next.IsZero():
			if err := e.Store.SetNextDriftCheck(ctx, t, now.Add(e.driftInterval())); err != nil {
				return n, err
			}
			continue
		case next.After(now):
			continue
		}
		retry := now.Add(e.driftInterval())
		run, err := e.DriftCheck(ctx, t)
		switch {
		case err != nil:
			e.log().WarnContext(ctx, "starting the drift check failed", "tenant_id", t, "error", err)
			retry = now.Add(time.Hour)
		case run.Trigger != TriggerDrift:
			retry = now.Add(time.Hour) // another pull is running
		default:
			n++
		}
		if err := e.Store.SetNextDriftCheck(ctx, t, retry); err != nil {
			return n, err
		}
	}
	return n, nil
}

// driftRange is one range of Ids: the links' side and Salesforce's side.
type driftRange struct {
	hi             string // the range's last link Id; "" for the last range (no upper bound)
	links, sf      int64
	linkSum, sfSum uint64
}

func digest(id string, modstamp time.Time) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, modstamp.UnixMilli(), 10))
	return h.Sum64()
}

// driftCandidate is a record whose two sides differ.
type driftCandidate struct {
	id       string
	code     string
	reason   string
	inSF     bool      // in scope in Salesforce
	modstamp time.Time // Salesforce's SystemModstamp when inSF
	counted  bool      // linked and in scope on the links' side
	linkMs   time.Time // the link's SystemModstamp when counted
}

// driftCheck runs one check and repair (the run's whole work).
func (e *Engine) driftCheck(ctx context.Context, s *session) error {
	t := s.tenantID
	countQ, err := s.cfg.ScopeCount(s.describe).Build()
	if err != nil {
		return err
	}
	n, err := s.client.Count(ctx, countQ)
	if err != nil {
		return err
	}
	total := int64(n)
	if err := e.Store.UpdateRun(ctx, t, s.run.ID, RunProgress{Total: &total, Restart: true}); err != nil {
		return err
	}
	bulk, err := e.planPass(ctx, s, "drift check", total, 2000, total > e.bulkThreshold())
	if err != nil {
		return err
	}
	rep := store.DriftReport{RunID: s.run.ID, Method: "rest", RecordsChecked: total}
	if bulk {
		rep.Method = "bulk"
	}

	// The links' side, in Id order, cut into ranges.
	var ranges []driftRange
	size := e.driftRangeSize()
	cur := driftRange{}
	inRange := 0
	err = e.Store.EachLinkDigest(ctx, t, func(d store.LinkDigest) error {
		if !s.ofObject(d.SalesforceID) {
			// A converted Lead's link names its Contact: not this
			// object's to check (the pair's Contacts are read by the pulls).
			return nil
		}
		if !d.OutOfScope {
			cur.links++
			cur.linkSum += digest(d.SalesforceID, d.SFModstamp)
		}
		inRange++
		if inRange == size {
			cur.hi = d.SalesforceID
			ranges = append(ranges, cur)
			cur, inRange = driftRange{}, 0
		}
		return nil
	})
	if err != nil {
		return err
	}
	ranges = append(ranges, cur) // the last range has no upper bound
	his := make([]string, 0, len(ranges)-1)
	for _, r := range ranges[:len(ranges)-1] {
		his = append(his, r.hi)
	}
	rangeOf := func(id string) int { return sort.SearchStrings(his, id) }
	// Records the last check left waiting count as it saw them, so their
	// ranges match while nothing about them changes.
	err = e.Store.EachDriftWaiting(ctx, t, func(w store.DriftWaiting) error {
		r := &ranges[rangeOf(w.SalesforceID)]
		if w.InSF {
			r.links++
			r.linkSum += digest(w.SalesforceID, w.SFModstamp)
		}
		if w.Counted {
			r.links--
			r.linkSum -= digest(w.SalesforceID, w.LinkModstamp)
		}
		return nil
	})
	if err != nil {
		return err
	}

	// Salesforce's side: Id and SystemModstamp of every record in scope.
	q := s.cfg.ScopeSelect(s.describe, s.driftSelect()...)
	add := func(rec map[string]any) {
		id, _ := rec["Id"].(string)
		if _, conv := convertedTo(s, rec); id == "" || conv {
			return // a converted Lead is nobody's link (convert.go)
		}
		r := &ranges[rangeOf(id)]
		r.sf++
		r.sfSum += digest(id, parseSFTime(fieldValue(rec, "SystemModstamp")))
	}
	if bulk {
		soql, err := q.Build()
		if err != nil {
			return err
		}
		rows, err := s.client.BulkQuery(ctx, soql, salesforce.BulkQueryOptions{})
		if err != nil {
			return err
		}
		for rows.Next() {
			add(rows.Record())
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	} else {
		soql, err := q.OrderBy("Id").Build()
		if err != nil {
			return err
		}
		it := s.client.Query(ctx, soql, salesforce.QueryOptions{BatchSize: 2000})
		for it.Next() {
			add(it.Record())
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	rep.RangesChecked = int64(len(ranges))

	// Ranges that differ are compared record by record.
	var cands []driftCandidate
	candRange := map[string]int{}
	drifted := map[int]bool{}
	var compared []int
	bounds := func(i int) (lo, hi string) {
		if i > 0 {
			lo = ranges[i-1].hi
		}
		return lo, ranges[i].hi
	}
	for i, r := range ranges {
		if r.links == r.sf && r.linkSum == r.sfSum {
			continue
		}
		compared = append(compared, i)
		lo, hi := bounds(i)
		found, err := e.driftInRange(ctx, s, lo, hi)
		if err != nil {
			return err
		}
		for _, c := range found {
			candRange[c.id] = i
		}
		cands = append(cands, found...)
	}
	cands, waiting, err := e.dropWaiting(ctx, s, cands)
	if err != nil {
		return err
	}
	// What waits is remembered per compared range, for the next check.
	waitingIn := map[int][]store.DriftWaiting{}
	for _, c := range waiting {
		i := candRange[c.id]
		waitingIn[i] = append(waitingIn[i], store.DriftWaiting{SalesforceID: c.id, InSF: c.inSF, SFModstamp: c.modstamp, Counted: c.counted, LinkModstamp: c.linkMs})
	}
	for _, i := range compared {
		lo, hi := bounds(i)
		if err := e.Store.ReplaceDriftWaiting(ctx, t, lo, hi, waitingIn[i]); err != nil {
			return err
		}
	}
	for _, c := range cands {
		drifted[candRange[c.id]] = true
	}
	rep.RangesDrifted = int64(len(drifted))
	rep.RecordsDrifted = int64(len(cands))

	if len(cands) > 0 {
		logs := make([]RunRecord, 0, len(cands))
		for _, c := range cands {
			logs = append(logs, RunRecord{RunID: s.run.ID, Kind: KindDrift, SalesforceID: c.id, ReasonCode: c.code, Reason: c.reason})
		}
		if err := e.Store.AddRunRecords(ctx, t, logs); err != nil {
			return err
		}
		if err := e.repairDrift(ctx, s, cands); err != nil {
			return err
		}
		failedRanges := map[int]bool{}
		for _, c := range cands {
			ok, err := e.driftRepaired(ctx, t, c)
			if err != nil {
				return err
			}
			if ok {
				rep.RecordsRepaired++
			} else {
				failedRanges[candRange[c.id]] = true
			}
		}
		rep.RangesRepaired = int64(len(drifted) - len(failedRanges))
	}
	if err := e.Store.SaveDriftReport(ctx, t, rep); err != nil {
		return err
	}
	msg := fmt.Sprintf("drift check (%s): %d ranges of up to %d records checked, %d drifted, %d repaired; %d records checked, %d drifted, %d repaired",
		rep.Method, rep.RangesChecked, size, rep.RangesDrifted, rep.RangesRepaired, rep.RecordsChecked, rep.RecordsDrifted, rep.RecordsRepaired)
	if err := e.Store.UpdateRun(ctx, t, s.run.ID, RunProgress{Message: &msg}); err != nil {
		return err
	}
	e.log().InfoContext(ctx, "drift check finished", "tenant_id", t, "run_id", s.run.ID, "method", rep.Method,
		"ranges", rep.RangesChecked, "ranges_drifted", rep.RangesDrifted, "records_drifted", rep.RecordsDrifted,
		"records_repaired", rep.RecordsRepaired, "api_calls", s.calls())
	return nil
}

// driftInRange compares one range record by record: Salesforce's records
// in scope with Ids in (lo, hi] (one REST call per 2,000) against the
// links of the range.
func (e *Engine) driftInRange(ctx context.Context, s *session, lo, hi string) ([]driftCandidate, error) {
	q := s.cfg.ScopeSelect(s.describe, s.driftSelect()...)
	if lo != "" {
		q.IDAfter(lo)
	}
	if hi != "" {
		q.IDAtMost(hi)
	}
	soql, err := q.OrderBy("Id").Build()
	if err != nil {
		return nil, err
	}
	sf := map[string]time.Time{}
	it := s.client.Query(ctx, soql, salesforce.QueryOptions{BatchSize: 2000})
	for it.Next() {
		rec := it.Record()
		id, _ := rec["Id"].(string)
		if _, conv := convertedTo(s, rec); conv {
			continue
		}
		if id != "" && id > lo && (hi == "" || id <= hi) {
			sf[id] = parseSFTime(fieldValue(rec, "SystemModstamp"))
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	links, err := e.Store.LinkDigestsBetween(ctx, s.tenantID, lo, hi)
	if err != nil {
		return nil, err
	}
	var out []driftCandidate
	for _, l := range links {
		if !s.ofObject(l.SalesforceID) {
			continue // a converted Lead's link, as above
		}
		ms, inSF := sf[l.SalesforceID]
		delete(sf, l.SalesforceID)
		switch {
		case !inSF && !l.OutOfScope:
			out = append(out, driftCandidate{id: l.SalesforceID, counted: true, linkMs: l.SFModstamp, code: "drift_missing",
				reason: "linked, but no longer among Salesforce's contacts in scope (deleted, purged or changed unseen)"})
		case inSF && l.OutOfScope:
			out = append(out, driftCandidate{id: l.SalesforceID, inSF: true, modstamp: ms, code: "drift_back_in_scope",
				reason: "matches the sync conditions again, unseen by the incremental pulls"})
		case inSF && ms.UnixMilli() != l.SFModstamp.UnixMilli():
			out = append(out, driftCandidate{id: l.SalesforceID, inSF: true, modstamp: ms, counted: true, linkMs: l.SFModstamp, code: "drift_changed",
				reason: fmt.Sprintf("changed in Salesforce (SystemModstamp %s) since the link last saw it (%s), unseen by the incremental pulls",
					ms.Format(time.RFC3339Nano), l.SFModstamp.Format(time.RFC3339Nano))})
		}
	}
	for id, ms := range sf {
		out = append(out, driftCandidate{id: id, inSF: true, modstamp: ms, code: "drift_unlinked",
			reason: "in scope in Salesforce but not linked (restored from the Recycle Bin or created unseen)"})
	}
	slices.SortFunc(out, func(a, b driftCandidate) int { return cmpString(a.id, b.id) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dropWaiting tells apart records whose difference is known and waiting:
// failed records in the retry list (X7), records held in the review queue
// (Y5), and — when the configuration creates no platform contact for an
// unmatched record — unlinked records, which the pull leaves unlinked.
func (e *Engine) dropWaiting(ctx context.Context, s *session, cands []driftCandidate) (drift, waiting []driftCandidate, err error) {
	if len(cands) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.id
	}
	retry, err := e.Store.PullRetryIDs(ctx, s.tenantID, ids)
	if err != nil {
		return nil, nil, err
	}
	held, err := e.Store.HeldSalesforceIDs(ctx, s.tenantID, ids)
	if err != nil {
		return nil, nil, err
	}
	creates := s.cfg.Identity.ToPlatformNoMatch == syncconf.NoMatchCreate
	for _, c := range cands {
		_, isHeld := held[c.id]
		if retry[c.id] || isHeld || (c.code == "drift_unlinked" && !creates) {
			waiting = append(waiting, c)
		} else {
			drift = append(drift, c)
		}
	}
	return drift, waiting, nil
}

// repairDrift reads the drifted records in full (queryAll: a deleted one
// is seen as deleted, a merged one with its survivor) and applies them
// through the pull's decision path; a record Salesforce no longer has at
// all (purged) is settled as the full pass settles unseen links.
func (e *Engine) repairDrift(ctx context.Context, s *session, cands []driftCandidate) error {
	fields, sc, err := e.changeFields(s)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(cands, 200) {
		ids := make([]string, len(chunk))
		for i, c := range chunk {
			ids[i] = c.id
		}
		q, err := syncconf.NewQuery(s.describe).Select(fields...).IDIn(ids).Build()
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		err = e.pipeline(ctx, s, sc, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
			it := s.client.QueryAll(ctx, q, salesforce.QueryOptions{})
			for it.Next() {
				rec := it.Record()
				id, _ := rec["Id"].(string)
				seen[id] = true
				if err := emit(rec); err != nil {
					return err
				}
			}
			return it.Err()
		})
		if err != nil {
			return err
		}
		var gone []string
		for _, id := range ids {
			if !seen[id] {
				gone = append(gone, id)
			}
		}
		if len(gone) == 0 {
			continue
		}
		links, err := e.Store.LinksBySalesforceID(ctx, s.tenantID, gone)
		if err != nil {
			return err
		}
		var unseen []store.Link
		for _, l := range links {
			unseen = append(unseen, l)
		}
		if len(unseen) > 0 {
			if err := e.settleUnseen(ctx, s, unseen); err != nil {
				return err
			}
		}
	}
	return nil
}

// driftRepaired tells whether a drifted record's link now agrees with
// Salesforce's side as the check read it.
func (e *Engine) driftRepaired(ctx context.Context, tenantID string, c driftCandidate) (bool, error) {
	links, err := e.Store.LinksBySalesforceID(ctx, tenantID, []string{c.id})
	if err != nil {
		return false, err
	}
	l, linked := links[c.id]
	if !c.inSF {
		return !linked || l.OutOfScope, nil
	}
	return linked && !l.OutOfScope && l.SFModstamp.UnixMilli() == c.modstamp.UnixMilli(), nil
}

// changeFields is what a pull reads of a changed record — the select list
// with IsDeleted, MasterRecordId and the conditions' fields — and the
// scope that evaluates the conditions on it.
func (e *Engine) changeFields(s *session) ([]string, *scope, error) {
	scopeQ, err := s.cfg.ScopeSelect(s.describe, "Id").Build()
	if err != nil {
		return nil, nil, err
	}
	sc, err := newScope(s.describe, scopeQ, e.now())
	if err != nil {
		return nil, nil, err
	}
	// The conditions are evaluated here, so their fields are read too.
	extra := []string{"IsDeleted"}
	if _, ok := s.describe.Field("MasterRecordId"); ok {
		extra = append(extra, "MasterRecordId") // merges are followed
	}
	for _, c := range s.cfg.Conditions {
		extra = append(extra, c.SalesforceField)
	}
	fields, err := s.selectList(extra...)
	if err != nil {
		return nil, nil, err
	}
	return fields, sc, nil
}
