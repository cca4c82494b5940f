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
	// Fields are the CSV columns, in order; every record's values for
	// them are sent (a missing or nil value sets the field to null, #N/A).
	Fields []string
	// KeyField is the column that identifies each input record in the
	// results: "Id" for updates; for inserts a field whose values are
	// unique among the records (the sync's identity field). Salesforce
	// returns results in no promised order, so they are matched back to
	// the input by this column.
	KeyField string
}

// BulkIngest writes records through one Bulk API 2.0 ingest job: it creates
// the job, uploads the records as one CSV, closes the upload, polls the
// job with growing delays until it ends, and reads its successful and
// failed results. It returns one SaveResult per record, in input order,
// as the collections calls do, so callers map them back the same way. A
// record in neither result (the job stopped before it) fails with
// UNPROCESSED. A job that ends Failed or Aborted gives a *BulkJobError;
// results it holds for records it did process are returned with it. Five
// calls plus the polls, however many records (at most 150 MB of CSV).
func (c *Client) BulkIngest(ctx context.Context, sobject string, records []Record, o IngestOptions) ([]SaveResult, error) {
	keyCol := -1
	for i, f := range o.Fields {
		if f == o.KeyField {
			keyCol = i
		}
	}
	if keyCol < 0 {
		return nil, fmt.Errorf("salesforce: bulk ingest: the key field %q is not among the fields", o.KeyField)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := make([]string, len(o.Fields))
	byKey := make(map[string]int, len(records))
	if err := w.Write(o.Fields); err != nil {
		return nil, err
	}
	for i, r := range records {
		for j, f := range o.Fields {
			row[j] = ingestValue(r[f])
		}
		k := row[keyCol]
		if _, dup := byKey[k]; dup || k == "" || k == "#N/A" {
			return nil, fmt.Errorf("salesforce: bulk ingest: record %d's %s %q is empty or not unique", i, o.KeyField, k)
		}
		byKey[k] = i
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}

	spec := map[string]string{"object": sobject, "operation": o.Operation, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
	if o.ExternalIDField != "" {
		spec["externalIdFieldName"] = o.ExternalIDField
	}
	body, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var job BulkJob
	if err := c.do(ctx, request{method: http.MethodPost, path: versionPath("jobs", "ingest"), body: body, unsafe: true},
		decodeInto(&job)); err != nil {
		return nil, fmt.Errorf("salesforce: creating bulk ingest job: %w", err)
	}
	if job.ID == "" {
		return nil, errors.New("salesforce: bulk ingest job created without an id")
	}
	if err := c.do(ctx, request{method: http.MethodPut, path: versionPath("jobs", "ingest", job.ID, "batches"), body: buf.Bytes(),
		contentType: "text/csv"}, func(*http.Response) error { return nil }); err != nil {
		return nil, fmt.Errorf("salesforce: uploading bulk ingest job %s: %w", job.ID, err)
	}
	if err := c.do(ctx, request{method: http.MethodPatch, path: versionPath("jobs", "ingest", job.ID), body: []byte(`{"state":"UploadComplete"}`),
		unsafe: true}, decodeInto(&job)); err != nil {
		return nil, fmt.Errorf("salesforce: closing bulk ingest job %s: %w", job.ID, err)
	}
	delay := c.bulkPoll
	for job.State != BulkJobComplete && job.State != BulkFailed && job.State != BulkAborted {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("salesforce: waiting for bulk ingest job %s: %w", job.ID, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 30*time.Second)
		id := job.ID
		job = BulkJob{}
		if err := c.do(ctx, request{method: http.MethodGet, path: versionPath("jobs", "ingest", id)}, decodeInto(&job)); err != nil {
			return nil, fmt.Errorf("salesforce: bulk ingest job %s: %w", id, err)
		}
		if job.ID == "" {
			job.ID = id
		}
	}
	results := make([]SaveResult, len(records))
	seen := make([]bool, len(records))
	for _, kind := range []string{"successfulResults", "failedResults"} {
		err := c.do(ctx, request{method: http.MethodGet, path: versionPath("jobs", "ingest", job.ID, kind), accept: "text/csv"},
			func(resp *http.Response) error {
				return readIngestResults(resp.Body, kind, o.KeyField, byKey, results, seen)
			})
		if err != nil {
			return nil, fmt.Errorf("salesforce: reading %s of bulk ingest job %s: %w", kind, job.ID, err)
		}
	}
	for i := range results {
		results[i].Index = i
		if !seen[i] {
			results[i].Errors = []RecordError{{StatusCode: "UNPROCESSED", Message: "the bulk ingest job ended before this record was processed"}}
		}
	}
	if job.State != BulkJobComplete {
		return results, &BulkJobError{JobID: job.ID, State: job.State, Message: job.ErrorMessage}
	}
	return results, nil
}

// ingestValue is a value as Bulk API 2.0 CSV takes it: #N/A sets null.
func ingestValue(v any) string {
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
func readIngestResults(body io.Reader, kind, keyField string, byKey map[string]int, results []SaveResult, seen []bool) error {
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
		r := SaveResult{ID: get("sf__Id")}
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
		results[i] = r
	}
}
