package syncer

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// Pushes of a backlog (issue 14): a bulk import of platform contacts or a
// segment resync leaves tens of thousands of contacts to push at once.
// Through sObject Collections they cost two calls per 200 contacts (1,000
// calls for 100,000); above PushBulkThreshold contacts a pass reads their
// targets through one Bulk API 2.0 query and writes them through one
// Bulk API 2.0 ingest job per kind of write (updates, creates): about ten
// calls however many contacts. The decisions, the log entries and the
// links are those of the collections path (pushBatchOf does both).
//
// Crash safety: an ingest job's ID is stored (push_ingest_jobs) before
// any record is uploaded and forgotten in the transaction that records
// its results. A push that finds a job left by a crashed one waits for it
// to end (or aborts it, if its upload never closed) before it pushes
// anything: the changes it carried are still in the outbox, and the
// records it created are then found by their identity value and linked,
// not created a second time.

const (
	// DefaultPushBulkThreshold is Engine.PushBulkThreshold's default:
	// from 2,000 contacts (20 collections batches, 20 to 40 calls) a
	// pass goes through Bulk API 2.0 (about ten calls).
	DefaultPushBulkThreshold = 2000
	// pushBulkMax bounds the contacts of one bulk pass (its ingest CSV
	// stays far below the 150 MB a job takes).
	pushBulkMax = 100000
	// pushOutboxPage is how many outbox entries a pass reads; a full
	// page is read again up to pushBulkEntries, for a bulk pass.
	pushOutboxPage  = 2000
	pushBulkEntries = 2 * pushBulkMax
	// pushBulkQuiet and pushBulkWait bound the wait of a growing backlog
	// (with PushCoalesce on, as in the service): an import of 100,000
	// contacts in requests of 10,000 is one bulk pass, not ten.
	pushBulkQuiet = 2 * time.Second
	pushBulkWait  = 30 * time.Second
)

func (e *Engine) pushBulkThreshold() int {
	return orDefault(e.PushBulkThreshold, DefaultPushBulkThreshold)
}

// dueOutbox reads the entries due for a push: one page, or, when the page
// is full and bulk pushes are on, enough for a bulk pass.
func (e *Engine) dueOutbox(ctx context.Context, tenantID string) ([]store.OutboxEntry, error) {
	entries, err := e.Store.DueOutbox(ctx, tenantID, e.now(), pushOutboxPage)
	if err != nil || len(entries) < pushOutboxPage || e.pushBulkThreshold() <= 0 {
		return entries, err
	}
	return e.Store.DueOutbox(ctx, tenantID, e.now(), pushBulkEntries)
}

// findTargets reads the Salesforce records with these Ids or identity
// values through one SOQL query.
func findTargets(ctx context.Context, s *session, fields, linkedIDs, keyLits []string, add func(map[string]any)) error {
	q, err := syncconf.NewQuery(s.describe).Select(fields...).
		AnyOf(syncconf.Match{Field: "Id", Values: linkedIDs}, syncconf.Match{Field: s.maps[0].sfField, Values: keyLits}).Build()
	if err != nil {
		return err
	}
	it := s.client.Query(ctx, q, salesforce.QueryOptions{})
	for it.Next() {
		add(it.Record())
	}
	return it.Err()
}

// findTargetsBulk reads the same records as findTargets through one Bulk
// API 2.0 query: tens of thousands of Ids and values do not fit in a SOQL
// text, so the job reads the object's records and keeps those whose Id or
// identity value is wanted (compared as SOQL's IN compares text: without
// regard to case).
func (e *Engine) findTargetsBulk(ctx context.Context, s *session, fields, linkedIDs, keyLits []string, add func(map[string]any)) error {
	ids := make(map[string]bool, len(linkedIDs))
	for _, id := range linkedIDs {
		ids[id] = true
	}
	keys := make(map[string]bool, len(keyLits))
	for _, k := range keyLits {
		keys[strings.ToLower(k)] = true
	}
	q, err := syncconf.NewQuery(s.describe).Select(fields...).Build()
	if err != nil {
		return err
	}
	// Large pages: the rows are few columns, streamed, and each page is a
	// call.
	rows, err := s.client.BulkQuery(ctx, q, salesforce.BulkQueryOptions{MaxRecords: 250000})
	if err != nil {
		return err
	}
	defer rows.Close()
	idCol, keyCol := -1, -1
	for rows.Next() {
		if idCol < 0 {
			for i, c := range rows.Columns() {
				switch {
				case strings.EqualFold(c, "Id"):
					idCol = i
				case strings.EqualFold(c, s.maps[0].sfField):
					keyCol = i
				}
			}
		}
		// Only the wanted rows become records: the object may hold many
		// times the contacts pushed.
		row := rows.Row()
		want := idCol >= 0 && idCol < len(row) && ids[row[idCol]]
		if !want && keyCol >= 0 && keyCol < len(row) && row[keyCol] != "" {
			want = keys[strings.ToLower(row[keyCol])]
		}
		if want {
			add(rows.Record())
		}
	}
	return rows.Err()
}

// ingestWriter writes records through one Bulk API 2.0 ingest job,
// keyed by keyField in its results, with the signature of the collections
// calls pushBatchOf makes. The job's ID is stored before its records are
// uploaded and added to *jobs, which pushBatchOf forgets in the
// transaction that records the results. For inserts, records whose key
// another record of the job holds too (results could not tell them
// apart) go through rest instead, as do all when one collections call
// holds them (a job costs five calls or more).
func (e *Engine) ingestWriter(s *session, op, keyField string, rest func(context.Context, string, []salesforce.Record) ([]salesforce.SaveResult, error), jobs *[]string) func(context.Context, string, []salesforce.Record) ([]salesforce.SaveResult, error) {
	return func(ctx context.Context, sobject string, recs []salesforce.Record) ([]salesforce.SaveResult, error) {
		var inJob, other []int // indexes into recs
		seen := map[string]bool{}
		for i, r := range recs {
			k, _ := r[keyField].(string)
			if k == "" || seen[k] || len(recs) <= 200 {
				other = append(other, i)
				continue
			}
			seen[k] = true
			inJob = append(inJob, i)
		}
		out := make([]salesforce.SaveResult, len(recs))
		if len(inJob) > 0 {
			fields := []string{keyField}
			batch := make([]salesforce.Record, len(inJob))
			for j, i := range inJob {
				batch[j] = recs[i]
				for f := range recs[i] {
					if !slices.Contains(fields, f) {
						fields = append(fields, f)
					}
				}
			}
			slices.Sort(fields[1:])
			res, err := s.client.BulkIngest(ctx, sobject, batch, salesforce.IngestOptions{
				Operation: op, Fields: fields, KeyField: keyField,
				Created: func(jobID string) error {
					*jobs = append(*jobs, jobID)
					return e.Store.AddPushIngestJob(ctx, s.tenantID, store.PushIngestJob{JobID: jobID, Operation: op, Records: len(batch), Created: e.now()})
				},
			})
			if err != nil {
				return nil, err
			}
			for j, i := range inJob {
				out[i] = res[j]
				out[i].Index = i
			}
		}
		for chunk := range slices.Chunk(other, 200) {
			batch := make([]salesforce.Record, len(chunk))
			for j, i := range chunk {
				batch[j] = recs[i]
			}
			res, err := rest(ctx, sobject, batch)
			if err != nil {
				return nil, err
			}
			for _, r := range res {
				i := chunk[r.Index]
				out[i] = r
				out[i].Index = i
			}
		}
		return out, nil
	}
}

// settleIngestJobs sees the ingest jobs a crashed push left to their end
// before this pass pushes anything: a job still Open is aborted (none of
// its records is written), one closed is waited for. Its changes are
// still in the outbox; this pass pushes them again, and finds the records
// the job created by their identity value.
func (e *Engine) settleIngestJobs(ctx context.Context, s *session) error {
	jobs, err := e.Store.PushIngestJobs(ctx, s.tenantID)
	if err != nil || len(jobs) == 0 {
		return err
	}
	var settled []string
	for _, j := range jobs {
		job, err := s.client.AwaitIngestJob(ctx, j.JobID)
		var ae *salesforce.APIError
		if err != nil && !(errors.As(err, &ae) && ae.StatusCode == 404) {
			return err
		}
		e.log().InfoContext(ctx, "push: settled an ingest job left by an earlier pass", "job_id", j.JobID,
			"operation", j.Operation, "records", j.Records, "state", job.State, "processed", job.NumberRecordsProcessed, "failed", job.NumberRecordsFailed)
		settled = append(settled, j.JobID)
	}
	return e.Store.Tx(ctx, func(tx *sql.Tx) error {
		return e.Store.DeletePushIngestJobsTx(ctx, tx, s.tenantID, settled)
	})
}
