package syncer

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
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
// links are those of the collections path (pushItems, decidePush,
// pushResult, commitPush). Its memory does not grow with the contacts
// (pushBulk): they are read, decided and recorded in chunks, and the
// decisions wait for the results in a spool file.
//
// Crash safety: an ingest job's ID is stored (push_ingest_jobs) before
// any record is uploaded and forgotten in the transaction that records
// the results of the pass's last chunk. A push that finds a job left by a crashed one waits for it
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

// bulkTargets are the Salesforce records a bulk pass may push to, as a
// Bulk API 2.0 query returned them (rows of text; an empty value is
// null), found by Id and by identity value (lower-cased).
type bulkTargets struct {
	cols  []string
	rows  [][]string
	byID  map[string]int
	byKey map[string][]int
}

// add passes the records with these Ids or identity literals to add, each
// once.
func (t *bulkTargets) add(linkedIDs, keyLits []string, add func(map[string]any)) {
	seen := map[int]bool{}
	use := func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		rec := make(map[string]any, len(t.cols))
		for j, col := range t.cols {
			if v := t.rows[i][j]; v != "" {
				rec[col] = v
			} else {
				rec[col] = nil
			}
		}
		add(rec)
	}
	for _, id := range linkedIDs {
		if i, ok := t.byID[id]; ok {
			use(i)
		}
	}
	for _, k := range keyLits {
		for _, i := range t.byKey[strings.ToLower(k)] {
			use(i)
		}
	}
}

// findTargetsBulk reads the records findTargets would read for a whole
// bulk pass through one Bulk API 2.0 query: tens of thousands of Ids and
// values do not fit in a SOQL text, so the job reads the object's records
// and keeps those whose Id is in ids or whose identity value is in keys
// (lower-cased: SOQL's IN compares text without regard to case).
func (e *Engine) findTargetsBulk(ctx context.Context, s *session, ids, keys map[string]bool) (*bulkTargets, error) {
	t := &bulkTargets{byID: map[string]int{}, byKey: map[string][]int{}}
	q, err := syncconf.NewQuery(s.describe).Select(s.targetFields()...).Build()
	if err != nil {
		return nil, err
	}
	// Large pages: the rows are few columns, streamed, and each page is a
	// call.
	rows, err := s.client.BulkQuery(ctx, q, salesforce.BulkQueryOptions{MaxRecords: 250000})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	idCol, keyCol := -1, -1
	for rows.Next() {
		if idCol < 0 {
			t.cols = slices.Clone(rows.Columns())
			for i, c := range t.cols {
				switch {
				case strings.EqualFold(c, "Id"):
					idCol = i
				case strings.EqualFold(c, s.maps[0].sfField):
					keyCol = i
				}
			}
		}
		// Only the wanted rows are kept, as text: the object may hold
		// many times the contacts pushed.
		row := rows.Row()
		want := idCol >= 0 && idCol < len(row) && ids[row[idCol]]
		key := ""
		if keyCol >= 0 && keyCol < len(row) && row[keyCol] != "" {
			key = strings.ToLower(row[keyCol])
			want = want || keys[key]
		}
		if !want || len(row) < len(t.cols) {
			continue
		}
		i := len(t.rows)
		t.rows = append(t.rows, slices.Clone(row))
		if idCol >= 0 {
			t.byID[row[idCol]] = i
		}
		if key != "" {
			t.byKey[key] = append(t.byKey[key], i)
		}
	}
	return t, rows.Err()
}

// pushBulkChunk is how many contacts of a bulk pass are read, decided and
// recorded at a time: the pass holds one chunk's contacts, links and
// decisions, not all of them.
const pushBulkChunk = 2000

// pushBulk pushes a backlog of contacts (ids) through Bulk API 2.0: one
// query job for their targets, one ingest job for the updates and one for
// the creates, whatever their number, with the decisions, results and
// records of the collections path (pushItems, decidePush, pushResult,
// commitPush). Its memory does not grow with the pass: the contacts are
// read and decided pushBulkChunk at a time, and each chunk's decisions
// (items, their records, new links and history, and its log) are written
// to a spool file, read again to upload the jobs' CSV (which the client
// holds as text) and, once the jobs ended, chunk by chunk to map their
// results back and record them, one transaction a chunk. The ingest jobs
// are forgotten in the last chunk's transaction: a push that dies between
// two chunks leaves them stored, and the next one settles them and finds
// the records they created by their identity value, as after any crash
// between an upload and its results.
func (e *Engine) pushBulk(ctx context.Context, s *session, ids []string, byContact map[string][]int64) error {
	// The targets: the pass's links and identity values, chunk by chunk.
	wantIDs, wantKeys := map[string]bool{}, map[string]bool{}
	for chunk := range slices.Chunk(ids, pushBulkChunk) {
		_, linkedIDs, keyLits, err := e.pushItems(ctx, s, chunk, byContact, newPushLog())
		if err != nil {
			return err
		}
		for _, id := range linkedIDs {
			wantIDs[id] = true
		}
		for _, k := range keyLits {
			wantKeys[strings.ToLower(k)] = true
		}
	}
	targets := &bulkTargets{}
	if len(wantIDs)+len(wantKeys) > 0 {
		var err error
		if targets, err = e.findTargetsBulk(ctx, s, wantIDs, wantKeys); err != nil {
			return err
		}
	}
	// wantIDs and wantKeys are not used again: the collector may free them.

	sp, err := newPushSpool()
	if err != nil {
		return err
	}
	defer sp.close()
	updates, err := newIngestJob(jobUpdates, "update", "Id", s.client.UpdateRecords, true)
	if err != nil {
		return err
	}
	defer updates.spool.close()
	// Bulk API 2.0 cannot ask for the default assignment rule (only for a
	// rule by its Id): such creates stay on REST.
	creates, err := newIngestJob(jobCreates, "insert", s.maps[0].sfField, s.createRecords, s.writeOptions() == (salesforce.WriteOptions{}))
	if err != nil {
		return err
	}
	defer creates.spool.close()
	for chunk := range slices.Chunk(ids, pushBulkChunk) {
		pl := newPushLog()
		items, linkedIDs, keyLits, err := e.pushItems(ctx, s, chunk, byContact, pl)
		if err != nil {
			return err
		}
		found := map[string]map[string]any{}
		byKey := map[string][]map[string]any{}
		targets.add(linkedIDs, keyLits, addTarget(s, found, byKey))
		upd, cre, err := e.decidePush(ctx, s, items, found, byKey, pl)
		if err != nil {
			return err
		}
		c := spoolChunk{Log: pl}
		for _, it := range upd {
			si, err := updates.add(it)
			if err != nil {
				return err
			}
			c.Items = append(c.Items, si)
		}
		for _, it := range cre {
			si, err := creates.add(it)
			if err != nil {
				return err
			}
			c.Items = append(c.Items, si)
		}
		if err := writeChunk(sp, c); err != nil {
			return err
		}
	}
	targets, updates.seen, creates.seen = nil, nil, nil

	// The writes: the updates, then the creates, each one ingest job (or
	// collections calls, for few records).
	var jobs []string // ingest jobs to forget once their results are recorded
	for _, j := range []*ingestJob{updates, creates} {
		if err := e.writeJob(ctx, s, j, &jobs); err != nil {
			return err
		}
	}

	// The results, chunk by chunk.
	results := [...][]salesforce.SaveResult{jobUpdates: updates.results, jobCreates: creates.results}
	return eachChunk(sp, func(c spoolChunk, last bool) error {
		var done []*pushItem
		var dups []dupItem
		for _, si := range c.Items {
			it := si.item(s)
			if si.Job == jobNone {
				done = append(done, it)
				continue
			}
			if err := e.pushResult(ctx, s, it, results[si.Job][si.Pos], si.Job == jobCreates, c.Log, &done, &dups); err != nil {
				return err
			}
		}
		if len(dups) > 0 {
			// The review item a duplicate rule's refusal leads to shows
			// the contact's values: the spool kept only its ID.
			var ids []string
			for _, d := range dups {
				ids = append(ids, d.it.c.ID)
			}
			contacts, err := e.Store.GetContacts(ctx, s.tenantID, ids)
			if err != nil {
				return err
			}
			for _, d := range dups {
				if c, ok := contacts[d.it.c.ID]; ok && !d.it.pfChanged {
					d.it.c = c
				}
			}
		}
		var forget []string
		if last {
			forget = jobs
		}
		return e.commitPush(ctx, s, c.Log, done, dups, forget)
	})
}

// ingestJob is one kind of write of a bulk pass (updates or creates): the
// records it sends, spooled as the decisions are made (each with its
// position among them), keyed by keyField in the results. A record whose
// key another record of the job holds too (results could not tell them
// apart) goes through rest, as do all when one collections call holds
// them (a job costs five calls or more), or when bulk is off.
type ingestJob struct {
	kind     jobKind
	op       string
	keyField string
	rest     func(context.Context, string, []salesforce.Record) ([]salesforce.SaveResult, error)
	bulk     bool
	spool    *pushSpool      // a jobRecord a record
	n        int             // records to send
	restN    int             // of them, those that go through rest however many they are
	fields   []string        // their fields, keyField first
	seen     map[string]bool // their keys
	results  []salesforce.SaveResult
}

// jobRecord is a record an ingest job sends, as its spool holds it.
type jobRecord struct {
	Pos    int               `json:"p"`
	Rest   bool              `json:"r,omitempty"`
	Record salesforce.Record `json:"v"`
}

type jobKind int8

const (
	jobNone jobKind = iota // no call: nothing to write to Salesforce
	jobUpdates
	jobCreates
)

func newIngestJob(kind jobKind, op, keyField string, rest func(context.Context, string, []salesforce.Record) ([]salesforce.SaveResult, error), bulk bool) (*ingestJob, error) {
	sp, err := newPushSpool()
	if err != nil {
		return nil, err
	}
	return &ingestJob{kind: kind, op: op, keyField: keyField, rest: rest, bulk: bulk, spool: sp, seen: map[string]bool{}}, nil
}

// add makes the spooled form of the item it, and spools its record, if it
// has one, as the job's next.
func (j *ingestJob) add(it *pushItem) (spooledItem, error) {
	si := spoolItem(it)
	if it.record == nil {
		return si, nil
	}
	si.Job, si.Pos = j.kind, j.n
	j.n++
	jr := jobRecord{Pos: si.Pos, Record: it.record}
	k, _ := it.record[j.keyField].(string)
	if k == "" || j.seen[k] {
		jr.Rest = true
		j.restN++
	} else {
		j.seen[k] = true
	}
	if len(j.fields) == 0 {
		j.fields = []string{j.keyField}
	}
	for f := range it.record {
		if !slices.Contains(j.fields, f) {
			j.fields = append(j.fields, f)
		}
	}
	return si, j.spool.add(jr)
}

// writeJob sends the job's records, read from its spool, and keeps their
// results by position. An ingest job's ID is stored before its records
// are uploaded and added to *jobs, which the pass forgets in the
// transaction that records the results.
func (e *Engine) writeJob(ctx context.Context, s *session, j *ingestJob, jobs *[]string) error {
	if j.n == 0 {
		return nil
	}
	j.results = make([]salesforce.SaveResult, j.n)
	bulk := j.bulk && j.n > 200
	if bulk {
		slices.Sort(j.fields[1:])
		var pos []int32 // the position of each record uploaded
		err := s.client.BulkIngestFunc(ctx, s.describe.Name, salesforce.IngestOptions{
			Operation: j.op, Fields: j.fields, KeyField: j.keyField,
			Created: func(jobID string) error {
				*jobs = append(*jobs, jobID)
				return e.Store.AddPushIngestJob(ctx, s.tenantID, store.PushIngestJob{JobID: jobID, Operation: j.op, Records: len(pos), Created: e.now()})
			},
		}, func(add func(salesforce.Record) error) error {
			return eachJobRecord(j.spool, func(jr *jobRecord) error {
				if jr.Rest {
					return nil
				}
				pos = append(pos, int32(jr.Pos))
				return add(jr.Record)
			})
		}, func(i int, r salesforce.SaveResult) {
			r.Index = int(pos[i])
			j.results[pos[i]] = r
		})
		if err != nil {
			return err
		}
		if j.restN == 0 {
			return nil
		}
	}
	// The rest, through collections, 200 at a time.
	var batch []salesforce.Record
	var pos []int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := j.rest(ctx, s.describe.Name, batch)
		if err != nil {
			return err
		}
		for _, r := range res {
			i := pos[r.Index]
			r.Index = i
			j.results[i] = r
		}
		batch, pos = batch[:0], pos[:0]
		return nil
	}
	err := eachJobRecord(j.spool, func(jr *jobRecord) error {
		if bulk && !jr.Rest {
			return nil
		}
		batch = append(batch, jr.Record)
		pos = append(pos, jr.Pos)
		if len(batch) == 200 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func eachJobRecord(sp *pushSpool, fn func(jr *jobRecord) error) error {
	return sp.read(func(dec *json.Decoder) error {
		for range sp.n {
			var jr jobRecord
			if err := dec.Decode(&jr); err != nil {
				return fmt.Errorf("push spool: %w", err)
			}
			if err := fn(&jr); err != nil {
				return err
			}
		}
		return nil
	})
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

// pushSpool is a file a bulk pass keeps what it decided in, between the
// decisions and the results: JSON values, one a line, read from the start
// as often as needed. It is removed when the pass ends.
type pushSpool struct {
	f *os.File
	w *bufio.Writer
	n int // values written
}

func newPushSpool() (*pushSpool, error) {
	f, err := os.CreateTemp("", "sfsync-push-*.json")
	if err != nil {
		return nil, fmt.Errorf("push spool: %w", err)
	}
	return &pushSpool{f: f, w: bufio.NewWriter(f)}, nil
}

func (sp *pushSpool) add(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("push spool: %w", err)
	}
	if _, err := sp.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("push spool: %w", err)
	}
	sp.n++
	return nil
}

// read calls fn with a decoder of the values written so far, from the
// first.
func (sp *pushSpool) read(fn func(dec *json.Decoder) error) error {
	if err := sp.w.Flush(); err != nil {
		return fmt.Errorf("push spool: %w", err)
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("push spool: %w", err)
	}
	if err := fn(json.NewDecoder(bufio.NewReader(sp.f))); err != nil {
		return err
	}
	// Writes go on at the end.
	_, err := sp.f.Seek(0, io.SeekEnd)
	return err
}

func (sp *pushSpool) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// spoolChunk is one chunk of a bulk pass: its items and its log so far.
type spoolChunk struct {
	Log   *pushLog
	Items []spooledItem
}

// spooledItem is a pushItem as a bulk pass spools it once decided, with
// the job its record went to (none: nothing to write to Salesforce) and
// its position among the job's records, where its result is found. It
// keeps what recording the result needs: the contact's ID (the whole
// contact when the platform takes values), the new link (its values
// encoded when both sides hold the same, as the store writes them), the
// history, a create's record. Values are JSON values only (jsonable,
// syncconf's conversions), so they read back as they were.
type spooledItem struct {
	ID            string              // the contact's
	C             *contact.Contact    `json:",omitempty"` // the contact, when the platform takes values
	PFUpdates     *contact.Contact    `json:",omitempty"` // the platform's new values then
	EntryIDs      []int64             `json:",omitempty"`
	Key           string              `json:",omitempty"`
	SFID          string              `json:",omitempty"`
	Record        salesforce.Record   `json:",omitempty"` // a create's
	Link          spooledLink         // the new link
	Create        bool                `json:",omitempty"`
	Hist          []store.FieldChange `json:",omitempty"`
	MovesIdentity bool                `json:",omitempty"`
	Job           jobKind             `json:",omitempty"`
	Pos           int                 `json:",omitempty"`
}

// spooledLink is a store.Link of a spooled item (whose contact it names).
type spooledLink struct {
	SalesforceID string         `json:",omitempty"`
	ValuesJSON   string         `json:",omitempty"`
	SFValues     map[string]any `json:",omitempty"`
	PFValues     map[string]any `json:",omitempty"`
	OutOfScope   bool           `json:",omitempty"`
	SFModstamp   time.Time      `json:",omitzero"`
}

func spoolItem(it *pushItem) spooledItem {
	l := it.newLink
	si := spooledItem{ID: it.c.ID, EntryIDs: it.entryIDs, Key: it.key, SFID: it.sfID, Create: it.create, Hist: it.hist, MovesIdentity: it.movesIdentity,
		Link: spooledLink{SalesforceID: l.SalesforceID, ValuesJSON: l.ValuesJSON, SFValues: l.SFValues, PFValues: l.PFValues, OutOfScope: l.OutOfScope, SFModstamp: l.SFModstamp}}
	if it.pfChanged {
		c, pf := it.c, it.pfUpdates
		si.C, si.PFUpdates = &c, &pf
	}
	if it.create {
		// A create a duplicate rule refuses may be sent again alone
		// (pushResult); an update's record is in its job's spool only.
		si.Record = it.record
	}
	if sf := encodeValues(l.SFValues); sf != "" && l.ValuesJSON == "" && sf == encodeValues(l.PFValues) {
		si.Link.ValuesJSON, si.Link.SFValues, si.Link.PFValues = sf, nil, nil
	}
	return si
}

// encodeValues is a link's values as the store writes them (unescaped:
// '>' in every mapping key stays one byte), or "" if they do not encode.
func encodeValues(v map[string]any) string {
	if v == nil {
		v = map[string]any{}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// item is the pushItem si was spooled from, as far as recording its result
// needs it.
func (si spooledItem) item(s *session) *pushItem {
	l := si.Link
	it := &pushItem{c: contact.Contact{ID: si.ID}, entryIDs: si.EntryIDs, key: si.Key, sfID: si.SFID, record: si.Record,
		create: si.Create, hist: si.Hist, movesIdentity: si.MovesIdentity,
		newLink: store.Link{SalesforceID: l.SalesforceID, ContactID: si.ID, SFValues: l.SFValues, PFValues: l.PFValues,
			OutOfScope: l.OutOfScope, SFModstamp: l.SFModstamp, ValuesJSON: l.ValuesJSON}}
	if si.C != nil && si.PFUpdates != nil {
		it.c, it.pfUpdates, it.pfChanged = *si.C, *si.PFUpdates, true
		it.pfUpdates.TenantID = s.tenantID
	}
	it.c.TenantID = s.tenantID
	return it
}

// writeChunk spools a chunk: a line for its log and its number of items,
// then a line an item.
func writeChunk(sp *pushSpool, c spoolChunk) error {
	if err := sp.add(spoolHeader{Log: c.Log, Items: len(c.Items)}); err != nil {
		return err
	}
	for i := range c.Items {
		if err := sp.add(&c.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

type spoolHeader struct {
	Log   *pushLog
	Items int
}

// eachChunk reads the chunks again from the first and calls fn with each
// (its items are reused for the next); last is set for the last.
func eachChunk(sp *pushSpool, fn func(c spoolChunk, last bool) error) error {
	return sp.read(func(dec *json.Decoder) error {
		var c spoolChunk
		for read := 0; read < sp.n; {
			var h spoolHeader
			if err := dec.Decode(&h); err != nil {
				return fmt.Errorf("push spool: %w", err)
			}
			if h.Log == nil {
				h.Log = newPushLog()
			}
			if h.Log.Failed == nil {
				h.Log.Failed = map[int64]string{}
			}
			c.Log, c.Items = h.Log, c.Items[:0]
			for range h.Items {
				var si spooledItem
				if err := dec.Decode(&si); err != nil {
					return fmt.Errorf("push spool: %w", err)
				}
				c.Items = append(c.Items, si)
			}
			read += 1 + h.Items
			if err := fn(c, read == sp.n); err != nil {
				return err
			}
		}
		return nil
	})
}
