package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// CollectionLimit is the most records one sObject Collections call takes;
// the Create/Update/Upsert methods split larger inputs into calls of this
// size (SPEC X4: writes batched up to 200 a call).
const CollectionLimit = 200

// SaveResult is Salesforce's outcome for one record of a collection write,
// mapped back to the record's position in the caller's slice.
type SaveResult struct {
	Index   int    // index of the record in the input slice
	ID      string // the record's ID; empty when a create failed
	Success bool
	Created bool // upsert: true if inserted, false if updated
	Errors  []RecordError
}

// RecordError is one error of a failed record (a SaveResult error uses
// "statusCode", not "errorCode").
type RecordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
	// DuplicateResult comes with DUPLICATES_DETECTED: the duplicate rule
	// that refused the record and the existing records it matched.
	DuplicateResult *DuplicateResult `json:"duplicateResult,omitempty"`
}

// CodeDuplicatesDetected is the statusCode of a record a duplicate rule
// refused.
const CodeDuplicatesDetected = "DUPLICATES_DETECTED"

// DuplicateResult is the "duplicateResult" of a DUPLICATES_DETECTED
// error: the rule and, per matching rule, the records it matched.
type DuplicateResult struct {
	AllowSave     bool   `json:"allowSave"`
	DuplicateRule string `json:"duplicateRule"`
	MatchResults  []struct {
		EntityType   string `json:"entityType"`
		MatchRecords []struct {
			Record map[string]any `json:"record"`
		} `json:"matchRecords"`
	} `json:"matchResults"`
}

// DuplicateIDs lists the Ids of the existing records a duplicate rule
// matched, each once, in the order Salesforce named them.
func (e RecordError) DuplicateIDs() []string {
	if e.DuplicateResult == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, mr := range e.DuplicateResult.MatchResults {
		for _, r := range mr.MatchRecords {
			id, _ := lookupFold(r.Record, "Id")
			if s, ok := id.(string); ok && s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func (e RecordError) Error() string { return e.StatusCode + ": " + e.Message }

type wireSaveResult struct {
	ID      string        `json:"id"`
	Success bool          `json:"success"`
	Created bool          `json:"created"`
	Errors  []RecordError `json:"errors"`
}

// CreateRecords inserts records of type sobject (POST /composite/sobjects,
// allOrNone=false), 200 per call. Records must not contain Id. The result
// has one SaveResult per input record, in input order. If a call fails as a
// whole, the results of the chunks before it are returned with the error.
//
// Records that fail only with UNABLE_TO_LOCK_ROW are sent again (see
// collectionChunk); the same holds for UpdateRecords and UpsertRecords.
// A create whose connection drops after sending is not retried (Salesforce
// may have committed it): the caller gets the transport error and must
// reconcile, e.g. by querying for the records or by upserting instead.
func (c *Client) CreateRecords(ctx context.Context, sobject string, records []Record) ([]SaveResult, error) {
	return c.CreateRecordsWith(ctx, sobject, records, WriteOptions{})
}

// WriteOptions are the request headers of a collection write.
type WriteOptions struct {
	// AutoAssign, when set, sends Sforce-Auto-Assign: TRUE or FALSE, which
	// turns the org's active assignment rules on or off for the Leads (and
	// Cases) written; unset sends no header, and Salesforce applies them.
	AutoAssign *bool
}

func (o WriteOptions) header() map[string]string {
	if o.AutoAssign == nil {
		return nil
	}
	v := "FALSE"
	if *o.AutoAssign {
		v = "TRUE"
	}
	return map[string]string{"Sforce-Auto-Assign": v}
}

// CreateRecord inserts one record (POST /sobjects/{sobject}/) and returns
// its Id. A refusal is an *APIError; a duplicate rule's names the records
// it matched (ErrorItem.DuplicateIDs), which sObject Collections may leave
// out. Like CreateRecords, it is not retried after a dropped connection.
func (c *Client) CreateRecord(ctx context.Context, sobject string, rec Record, opts WriteOptions) (string, error) {
	if !ValidObjectName(sobject) {
		return "", fmt.Errorf("salesforce: invalid object name %q", sobject)
	}
	if _, ok := lookupFold(rec, "Id"); ok {
		return "", fmt.Errorf("salesforce: create record has an Id")
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	var out struct {
		ID string `json:"id"`
	}
	err = c.do(ctx, request{method: http.MethodPost, path: versionPath("sobjects", sobject) + "/", body: body, unsafe: true, header: opts.header()},
		func(resp *http.Response) error { return json.NewDecoder(resp.Body).Decode(&out) })
	return out.ID, err
}

// CreateRecordsWith is CreateRecords with request headers.
func (c *Client) CreateRecordsWith(ctx context.Context, sobject string, records []Record, opts WriteOptions) ([]SaveResult, error) {
	for i, r := range records {
		if _, ok := lookupFold(r, "Id"); ok {
			return nil, fmt.Errorf("salesforce: create record %d has an Id", i)
		}
	}
	return c.collectionWith(ctx, sobject, records, http.MethodPost, versionPath("composite", "sobjects"), true, opts.header())
}

// UpdateRecords updates records of type sobject (PATCH /composite/sobjects,
// allOrNone=false), 200 per call. Each record must carry its Id; fields not
// present are left unchanged, null clears a field.
func (c *Client) UpdateRecords(ctx context.Context, sobject string, records []Record) ([]SaveResult, error) {
	for i, r := range records {
		if id, ok := lookupFold(r, "Id"); !ok || id == nil || id == "" {
			return nil, fmt.Errorf("salesforce: update record %d has no Id", i)
		}
	}
	return c.collection(ctx, sobject, records, http.MethodPatch, versionPath("composite", "sobjects"), false)
}

// UpsertRecords inserts or updates records of type sobject matched on the
// external ID field extIDField (PATCH /composite/sobjects/{sobject}/{field},
// allOrNone=false), 200 per call. Each record must carry extIDField.
// SaveResult.Created tells inserts from updates.
func (c *Client) UpsertRecords(ctx context.Context, sobject, extIDField string, records []Record) ([]SaveResult, error) {
	if !ValidFieldName(extIDField) || strings.Contains(extIDField, ".") {
		return nil, fmt.Errorf("salesforce: invalid external id field %q", extIDField)
	}
	for i, r := range records {
		if v, ok := lookupFold(r, extIDField); !ok || v == nil || v == "" {
			return nil, fmt.Errorf("salesforce: upsert record %d has no %s", i, extIDField)
		}
	}
	return c.collection(ctx, sobject, records, http.MethodPatch, versionPath("composite", "sobjects", sobject, extIDField), false)
}

func (c *Client) collection(ctx context.Context, sobject string, records []Record, method, path string, unsafe bool) ([]SaveResult, error) {
	return c.collectionWith(ctx, sobject, records, method, path, unsafe, nil)
}

func (c *Client) collectionWith(ctx context.Context, sobject string, records []Record, method, path string, unsafe bool, header map[string]string) ([]SaveResult, error) {
	if !ValidObjectName(sobject) {
		return nil, fmt.Errorf("salesforce: invalid object name %q", sobject)
	}
	results := make([]SaveResult, 0, len(records))
	for start := 0; start < len(records); start += CollectionLimit {
		end := min(start+CollectionLimit, len(records))
		chunk, err := c.collectionChunk(ctx, sobject, records, start, end, method, path, unsafe, header)
		if err != nil {
			return results, fmt.Errorf("salesforce: records %d..%d: %w", start, end-1, err)
		}
		results = append(results, chunk...)
	}
	return results, nil
}

// collectionChunk writes records[start:end] in one call. Records that fail
// only with UNABLE_TO_LOCK_ROW (another transaction held the row) are sent
// again on their own, with backoff, up to the Client's attempt limit: with
// allOrNone=false they were not written, so this is safe even for creates.
func (c *Client) collectionChunk(ctx context.Context, sobject string, records []Record, start, end int, method, path string, unsafe bool, header map[string]string) ([]SaveResult, error) {
	out := make([]SaveResult, end-start)
	pending := make([]int, 0, end-start)
	for i := start; i < end; i++ {
		pending = append(pending, i)
	}
	for round := 1; len(pending) > 0; round++ {
		if round > 1 {
			if err := c.backoff(ctx, round-1, 0); err != nil {
				break // keep the lock errors as the records' results
			}
		}
		batch := make([]Record, len(pending))
		for j, i := range pending {
			batch[j] = records[i]
		}
		body, err := collectionBody(sobject, batch)
		if err != nil {
			return nil, err
		}
		var wire []wireSaveResult
		err = c.do(ctx, request{method: method, path: path, body: body, unsafe: unsafe, header: header}, func(resp *http.Response) error {
			wire = nil
			return json.NewDecoder(resp.Body).Decode(&wire)
		})
		if err != nil {
			return nil, err
		}
		if len(wire) != len(batch) {
			return nil, fmt.Errorf("got %d results for %d records", len(wire), len(batch))
		}
		var again []int
		for j, w := range wire {
			i := pending[j]
			out[i-start] = SaveResult{Index: i, ID: w.ID, Success: w.Success, Created: w.Created, Errors: w.Errors}
			if lockedOnly(w) && round < c.maxAttempts {
				again = append(again, i)
			}
		}
		pending = again
	}
	return out, nil
}

func lockedOnly(w wireSaveResult) bool {
	if w.Success || len(w.Errors) == 0 {
		return false
	}
	for _, e := range w.Errors {
		if e.StatusCode != CodeUnableToLockRow {
			return false
		}
	}
	return true
}

// collectionBody encodes {"allOrNone":false,"records":[...]} with each
// record's attributes.type set, without touching the caller's maps.
func collectionBody(sobject string, records []Record) ([]byte, error) {
	type attrs struct {
		Type string `json:"type"`
	}
	out := make([]map[string]any, len(records))
	for i, r := range records {
		m := make(map[string]any, len(r)+1)
		for k, v := range r {
			if k != "attributes" {
				m[k] = v
			}
		}
		m["attributes"] = attrs{Type: sobject}
		out[i] = m
	}
	return json.Marshal(struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}{false, out})
}

// lookupFold finds a field case-insensitively, as Salesforce matches names.
func lookupFold(r Record, name string) (any, bool) {
	if v, ok := r[name]; ok {
		return v, true
	}
	for k, v := range r {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}
