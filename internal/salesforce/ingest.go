package salesforce

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// IngestOptions describe one Bulk API 2.0 ingest job.
type IngestOptions struct {
	// Operation is "insert", "update" or "upsert".
	Operation string
	// ExternalIDField is upsert's externalIdFieldName.
	ExternalIDField string
	// Fields are the CSV columns, in order. A record without a value for
	// a column leaves that field as it is (an empty CSV value); a nil or
	// empty string value sets it to null (#N/A). So records that change
	// different fields share one job, as they share a collections call.
	Fields []string
	// KeyField is the column that identifies each input record in the
	// results: "Id" for updates; for inserts a field whose values are
	// unique among the records (the sync's identity field). Salesforce
	// returns results in no promised order, so they are matched back to
	// the input by this column.
	KeyField string
	// Created, when set, is called with the job's ID once the job exists
	// and before any record is uploaded: a caller that keeps the ID
	// durably can, after a crash, wait for the job (AwaitIngestJob)
	// instead of writing its records a second time. An error stops the
	// call before the upload.
	Created func(jobID string) error
}

// BulkIngest writes records through one Bulk API 2.0 ingest job: it creates
// the job, uploads the records as one CSV, closes the upload, polls the
// job with growing delays until it ends, and reads its successful and
// failed results. It returns one SaveResult per record, in input order,
// as the collections calls do, so callers map them back the same way. A
// record in neither result (the job stopped before it) fails with
// UNPROCESSED. A job that ends Failed or Aborted gives a *BulkJobError;
// results it holds for records it did process are returned with it. Five
// calls plus the status reads, however many records (at most 150 MB of CSV);
// four when no record failed and the results name nothing the caller does
// not know (updates keyed by Id: the failed and successful results are
// then not downloaded).
func (c *Client) BulkIngest(ctx context.Context, sobject string, records []Record, o IngestOptions) ([]SaveResult, error) {
	results := make([]SaveResult, len(records))
	err := c.BulkIngestFunc(ctx, sobject, o,
		func(add func(Record) error) error {
			for _, r := range records {
				if err := add(r); err != nil {
					return err
				}
			}
			return nil
		},
		func(i int, r SaveResult) { results[i] = r })
	var je *BulkJobError
	if err != nil && !errors.As(err, &je) {
		return nil, err
	}
	return results, err
}

// BulkIngestFunc is BulkIngest for a caller that does not hold its records
// at once: records calls add with each record in turn (their CSV is all the
// upload keeps of them), and result receives each record's SaveResult by
// its position among them, in no particular order, once the job ended. A
// record's values may be given as IngestValue renders them.
func (c *Client) BulkIngestFunc(ctx context.Context, sobject string, o IngestOptions, records func(add func(Record) error) error, result func(i int, r SaveResult)) error {
	keyCol := -1
	for i, f := range o.Fields {
		if f == o.KeyField {
			keyCol = i
		}
	}
	if keyCol < 0 {
		return fmt.Errorf("salesforce: bulk ingest: the key field %q is not among the fields", o.KeyField)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := make([]string, len(o.Fields))
	byKey := map[string]int{}
	if err := w.Write(o.Fields); err != nil {
		return err
	}
	n := 0
	err := records(func(r Record) error {
		for j, f := range o.Fields {
			if v, ok := r[f]; ok {
				row[j] = IngestValue(v)
			} else {
				row[j] = "" // left as it is
			}
		}
		k := row[keyCol]
		if _, dup := byKey[k]; dup || k == "" || k == "#N/A" {
			return fmt.Errorf("salesforce: bulk ingest: record %d's %s %q is empty or not unique", n, o.KeyField, k)
		}
		byKey[k] = n
		n++
		return w.Write(row)
	})
	if err != nil {
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}

	spec := map[string]string{"object": sobject, "operation": o.Operation, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
	if o.ExternalIDField != "" {
		spec["externalIdFieldName"] = o.ExternalIDField
	}
	body, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	var job BulkJob
	if err := c.do(ctx, request{method: http.MethodPost, path: versionPath("jobs", "ingest"), body: body, unsafe: true},
		decodeInto(&job)); err != nil {
		return fmt.Errorf("salesforce: creating bulk ingest job: %w", err)
	}
	if job.ID == "" {
		return errors.New("salesforce: bulk ingest job created without an id")
	}
	if o.Created != nil {
		if err := o.Created(job.ID); err != nil {
			return err
		}
	}
	if err := c.do(ctx, request{method: http.MethodPut, path: versionPath("jobs", "ingest", job.ID, "batches"), body: buf.Bytes(),
		contentType: "text/csv"}, func(*http.Response) error { return nil }); err != nil {
		return fmt.Errorf("salesforce: uploading bulk ingest job %s: %w", job.ID, err)
	}
	buf = bytes.Buffer{} // uploaded: the CSV is not needed any more
	if err := c.do(ctx, request{method: http.MethodPatch, path: versionPath("jobs", "ingest", job.ID), body: []byte(`{"state":"UploadComplete"}`),
		unsafe: true}, decodeInto(&job)); err != nil {
		return fmt.Errorf("salesforce: closing bulk ingest job %s: %w", job.ID, err)
	}
	// The first status read waits about as long as the records take at
	// 50,000 a second (at least the poll interval). Later reads wait for
	// the end the job's progress so far foretells (numberRecordsProcessed
	// since the upload closed), or, with no progress to go by, twice the
	// last wait: a large job is seen complete in two or three reads
	// rather than five or more doubling from 100 ms.
	closed := time.Now()
	delay := min(max(c.bulkPoll, time.Duration(n)*20*time.Microsecond), 30*time.Second)
	for job.State != BulkJobComplete && job.State != BulkFailed && job.State != BulkAborted {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("salesforce: waiting for bulk ingest job %s: %w", job.ID, ctx.Err())
		case <-t.C:
		}
		id := job.ID
		job = BulkJob{}
		if err := c.do(ctx, request{method: http.MethodGet, path: versionPath("jobs", "ingest", id)}, decodeInto(&job)); err != nil {
			return fmt.Errorf("salesforce: bulk ingest job %s: %w", id, err)
		}
		if job.ID == "" {
			job.ID = id
		}
		delay = nextIngestPoll(delay, time.Since(closed), job.NumberRecordsProcessed, int64(n), c.bulkPoll)
	}
	seen := make([]bool, n)
	kinds := []string{"successfulResults", "failedResults"}
	if job.State == BulkJobComplete && job.NumberRecordsFailed == 0 && job.NumberRecordsProcessed == int64(n) {
		// Every record succeeded: the failures need no download, and
		// for updates keyed by Id neither do the successes.
		kinds = kinds[:1]
		if o.KeyField == "Id" && o.Operation == "update" {
			kinds = nil
			for id, i := range byKey {
				result(i, SaveResult{Index: i, ID: id, Success: true})
				seen[i] = true
			}
		}
	}
	for _, kind := range kinds {
		err := c.do(ctx, request{method: http.MethodGet, path: versionPath("jobs", "ingest", job.ID, kind), accept: "text/csv"},
			func(resp *http.Response) error {
				return readIngestResults(resp.Body, kind, o.KeyField, byKey, seen, result)
			})
		if err != nil {
			return fmt.Errorf("salesforce: reading %s of bulk ingest job %s: %w", kind, job.ID, err)
		}
	}
	for i, ok := range seen {
		if !ok {
			result(i, SaveResult{Index: i, Errors: []RecordError{{StatusCode: "UNPROCESSED", Message: "the bulk ingest job ended before this record was processed"}}})
		}
	}
	if job.State != BulkJobComplete {
		return &BulkJobError{JobID: job.ID, State: job.State, Message: job.ErrorMessage}
	}
	return nil
}

// nextIngestPoll is the wait before the next status read of an ingest job
// of n records that has processed done of them in elapsed: the time the
// rest take at the rate so far, a quarter and half a floor more (a loaded
// server slows down; a read too early costs a call), at least floor; floor when
// all are processed; twice the last wait when none is yet. At most 30 s.
func nextIngestPoll(last, elapsed time.Duration, done, n int64, floor time.Duration) time.Duration {
	next := 2 * last
	switch {
	case done >= n && n > 0:
		next = floor // processed: the state is about to follow
	case done > 0:
		next = time.Duration(float64(elapsed)*float64(n-done)/float64(done)*1.25) + floor/2
	}
	return min(max(next, floor), 30*time.Second)
}

// AwaitIngestJob settles an ingest job that an earlier process created
// and may not have seen to its end (IngestOptions.Created): a job still
// Open (its upload never closed) is aborted, so none of its records will
// be written; one closed is polled until it ends. It returns the job's
// last status. A job Salesforce no longer knows gives a *APIError
// NOT_FOUND.
func (c *Client) AwaitIngestJob(ctx context.Context, jobID string) (BulkJob, error) {
	var job BulkJob
	get := func() error {
		job = BulkJob{}
		err := c.do(ctx, request{method: http.MethodGet, path: versionPath("jobs", "ingest", jobID)}, decodeInto(&job))
		if err != nil {
			return fmt.Errorf("salesforce: bulk ingest job %s: %w", jobID, err)
		}
		if job.ID == "" {
			job.ID = jobID
		}
		return nil
	}
	if err := get(); err != nil {
		return job, err
	}
	if job.State == "Open" {
		if err := c.do(ctx, request{method: http.MethodPatch, path: versionPath("jobs", "ingest", jobID), body: []byte(`{"state":"Aborted"}`),
			unsafe: true}, decodeInto(&job)); err != nil {
			return job, fmt.Errorf("salesforce: aborting bulk ingest job %s: %w", jobID, err)
		}
		return job, nil
	}
	delay := c.bulkPoll
	for job.State != BulkJobComplete && job.State != BulkFailed && job.State != BulkAborted {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return job, fmt.Errorf("salesforce: waiting for bulk ingest job %s: %w", jobID, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 30*time.Second)
		if err := get(); err != nil {
			return job, err
		}
	}
	return job, nil
}

// IngestValue is a value as Bulk API 2.0 CSV takes it: #N/A sets null.
// A value it returned is rendered as itself again.
func IngestValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "#N/A"
	case string:
		if x == "" {
			return "#N/A"
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return fmt.Sprint(v)
}

// readIngestResults reads a successfulResults or failedResults CSV
// (sf__Id, sf__Created or sf__Error, then the uploaded columns) into
// results, matching each row to its input record by keyField.
func readIngestResults(body io.Reader, kind, keyField string, byKey map[string]int, seen []bool, result func(int, SaveResult)) error {
	cr := csv.NewReader(body)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	key, ok := col[keyField]
	if !ok && keyField == "Id" {
		key, ok = col["sf__Id"]
	}
	if !ok {
		return fmt.Errorf("the results have no %s column", keyField)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if key >= len(rec) {
			continue
		}
		i, ok := byKey[rec[key]]
		if !ok {
			continue // not one of ours (Salesforce would not send it)
		}
		seen[i] = true
		// A copy: a substring would keep the row's text alive while the
		// caller holds the result.
		r := SaveResult{Index: i, ID: strings.Clone(get("sf__Id"))}
		if kind == "successfulResults" {
			r.Success = true
			r.Created = strings.EqualFold(get("sf__Created"), "true")
		} else {
			code, msg, _ := strings.Cut(get("sf__Error"), ":")
			if i := strings.LastIndexByte(msg, ':'); i >= 0 {
				msg = msg[:i] // the last part names the fields
			}
			r.Errors = []RecordError{{StatusCode: code, Message: msg}}
		}
		result(i, r)
	}
}
