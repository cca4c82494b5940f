package salesforce

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// BulkQueryOptions tune BulkQuery.
type BulkQueryOptions struct {
	// All includes deleted and archived records (operation queryAll).
	All bool
	// MaxRecords is the number of rows per results page (0: Salesforce
	// chooses, by size).
	MaxRecords int
}

// BulkJob is a Bulk API 2.0 job's status.
type BulkJob struct {
	ID                     string `json:"id"`
	Operation              string `json:"operation"`
	Object                 string `json:"object"`
	State                  string `json:"state"`
	ErrorMessage           string `json:"errorMessage"`
	NumberRecordsProcessed int64  `json:"numberRecordsProcessed"`
	// NumberRecordsFailed is an ingest job's count of refused records.
	NumberRecordsFailed int64 `json:"numberRecordsFailed"`
}

// Bulk API 2.0 job states.
const (
	BulkUploadComplete = "UploadComplete"
	BulkInProgress     = "InProgress"
	BulkJobComplete    = "JobComplete"
	BulkFailed         = "Failed"
	BulkAborted        = "Aborted"
)

// BulkQuery runs soql as a Bulk API 2.0 query job: it creates the job,
// polls its status with growing delays until it completes, and returns an
// iterator that streams the CSV results page by page (Sforce-Locator),
// parsing rows as they arrive. A job that ends Failed or Aborted gives a
// *BulkJobError. Bulk queries suit large first syncs: each results page is
// one API call however many rows it holds.
func (c *Client) BulkQuery(ctx context.Context, soql string, opts BulkQueryOptions) (*BulkRows, error) {
	op := "query"
	if opts.All {
		op = "queryAll"
	}
	body, err := json.Marshal(map[string]string{
		"operation": op, "query": soql, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF",
	})
	if err != nil {
		return nil, err
	}
	var job BulkJob
	if err := c.do(ctx, request{method: http.MethodPost, path: versionPath("jobs", "query"), body: body},
		decodeInto(&job)); err != nil {
		return nil, fmt.Errorf("salesforce: creating bulk query job: %w", err)
	}
	if job.ID == "" {
		return nil, errors.New("salesforce: bulk query job created without an id")
	}
	delay := c.bulkPoll
	for job.State != BulkJobComplete {
		switch job.State {
		case BulkFailed, BulkAborted:
			return nil, &BulkJobError{JobID: job.ID, State: job.State, Message: job.ErrorMessage}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("salesforce: waiting for bulk job %s: %w", job.ID, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 30*time.Second)
		if job, err = c.BulkJobStatus(ctx, job.ID); err != nil {
			return nil, err
		}
	}
	return &BulkRows{c: c, ctx: ctx, jobID: job.ID, maxRecords: opts.MaxRecords}, nil
}

// BulkJobStatus reads a query job's status.
func (c *Client) BulkJobStatus(ctx context.Context, jobID string) (BulkJob, error) {
	var job BulkJob
	err := c.do(ctx, request{method: http.MethodGet, path: versionPath("jobs", "query", jobID)}, func(resp *http.Response) error {
		job = BulkJob{}
		return json.NewDecoder(resp.Body).Decode(&job)
	})
	return job, err
}

// BulkRows streams a completed bulk query's CSV results. Only the current
// row is held, and one open response body. Use it as
//
//	for rows.Next() { cols, row := rows.Columns(), rows.Row() ... }
//	if err := rows.Err(); err != nil { ... }
//	rows.Close()
//
// If a results page's connection drops mid-way, the page is fetched again
// and the rows already returned are skipped.
type BulkRows struct {
	c          *Client
	ctx        context.Context
	jobID      string
	maxRecords int

	locator  string // of the page being read ("" for the first)
	next     string // locator of the following page ("null" when last)
	body     io.ReadCloser
	cr       *csv.Reader
	columns  []string
	row      []string
	pageRows int // rows returned from the current page
	pageWant int // the page's Sforce-NumberOfRecords, or -1 if not sent
	rows     int64
	pages    int
	reopens  int
	err      error
	done     bool
	// pre is the next page, requested as soon as the current one's
	// headers named it, so that the server prepares it while this one is
	// read (the same calls, overlapped).
	pre        *bulkPrefetch
	bodyCancel context.CancelFunc // of a page requested ahead, once closed
}

// bulkPage is a results page whose header row has been read.
type bulkPage struct {
	body    io.ReadCloser
	cr      *csv.Reader
	columns []string // nil for an empty page
	next    string
	want    int
}

type bulkPrefetch struct {
	locator string
	cancel  context.CancelFunc
	done    chan bulkFetched
}

type bulkFetched struct {
	page bulkPage
	err  error
}

// JobID returns the Bulk API 2.0 job's ID.
func (r *BulkRows) JobID() string { return r.jobID }

// Columns returns the CSV header (field names as selected, e.g.
// Account.Name), available after the first Next.
func (r *BulkRows) Columns() []string { return r.columns }

// Row returns the current row's values, in Columns order. Empty strings
// are nulls. The slice is reused by Next; copy it to keep it.
func (r *BulkRows) Row() []string { return r.row }

// Record returns the current row as a Record: column → string value, or nil
// for an empty (null) value.
func (r *BulkRows) Record() Record {
	rec := make(Record, len(r.columns))
	for i, col := range r.columns {
		if i < len(r.row) && r.row[i] != "" {
			rec[col] = r.row[i]
		} else {
			rec[col] = nil
		}
	}
	return rec
}

// Rows returns the number of rows returned so far.
func (r *BulkRows) Rows() int64 { return r.rows }

// Pages returns the number of results pages requested so far.
func (r *BulkRows) Pages() int { return r.pages }

// Err returns the error that stopped the iteration, if any.
func (r *BulkRows) Err() error { return r.err }

// Close releases the open results page, if any, and a page requested
// ahead.
func (r *BulkRows) Close() error {
	r.done = true
	if p := r.pre; p != nil {
		r.pre = nil
		p.cancel()
		go func() {
			if f := <-p.done; f.page.body != nil {
				f.page.body.Close()
			}
		}()
	}
	return r.closeBody()
}

// All returns a single-use iterator over the rows as Records; an error is
// yielded once, last. It closes r.
func (r *BulkRows) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		defer r.Close()
		for r.Next() {
			if !yield(r.Record(), nil) {
				return
			}
		}
		if r.err != nil {
			yield(nil, r.err)
		}
	}
}

// Next advances to the next row, fetching results pages as needed.
func (r *BulkRows) Next() bool {
	if r.err != nil || r.done {
		return false
	}
	for {
		if r.cr == nil {
			if r.pages > 0 && (r.next == "" || r.next == "null") {
				r.Close()
				return false
			}
			if r.pages > 0 {
				r.locator = r.next
			}
			if err := r.openNext(); err != nil {
				r.fail(err)
				return false
			}
		}
		row, err := r.cr.Read()
		if errors.Is(err, io.EOF) && r.pageWant >= 0 && r.pageRows < r.pageWant {
			// A body that ends early and cleanly (no chunked framing to
			// notice) is still a dropped connection.
			err = fmt.Errorf("page ended after %d of %d rows: %w", r.pageRows, r.pageWant, io.ErrUnexpectedEOF)
		}
		switch {
		case err == nil:
			r.row = row
			r.pageRows++
			r.rows++
			return true
		case errors.Is(err, io.EOF):
			_ = r.closeBody()
			continue
		case Retryable(err) && r.reopens < r.c.maxAttempts && r.ctx.Err() == nil:
			// The connection dropped mid-page: fetch the page again and
			// skip what was already returned.
			r.reopens++
			_ = r.closeBody()
			if err := r.open(r.pageRows); err != nil {
				r.fail(err)
				return false
			}
		default:
			r.fail(fmt.Errorf("salesforce: reading bulk results of job %s: %w", r.jobID, err))
			return false
		}
	}
}

func (r *BulkRows) fail(err error) {
	r.err = err
	r.Close()
}

// openNext opens the page at r.locator: the one requested ahead if it
// arrived whole, else afresh.
func (r *BulkRows) openNext() error {
	if p := r.pre; p != nil {
		r.pre = nil
		f := <-p.done
		if p.locator == r.locator && f.err == nil {
			r.use(f.page)
			r.bodyCancel = p.cancel // the body reads under the request's context
			r.pages++
			r.pageRows = 0
			r.ahead()
			return nil
		}
		if f.page.body != nil {
			f.page.body.Close()
		}
		p.cancel()
	}
	return r.open(0)
}

// open requests the results page at r.locator, reads its header row, and
// skips the first skip data rows (already returned before a drop).
func (r *BulkRows) open(skip int) error {
	p, err := r.fetch(r.ctx, r.locator, skip)
	if err != nil {
		return err
	}
	r.use(p)
	if skip == 0 {
		r.pages++
		r.pageRows = 0
		r.ahead()
	}
	return nil
}

// closeBody closes the current page's body.
func (r *BulkRows) closeBody() error {
	var err error
	if r.body != nil {
		err = r.body.Close()
	}
	if r.bodyCancel != nil {
		r.bodyCancel()
		r.bodyCancel = nil
	}
	r.body, r.cr = nil, nil
	return err
}

func (r *BulkRows) use(p bulkPage) {
	if p.columns != nil {
		r.columns = append(r.columns[:0], p.columns...)
	}
	r.body, r.cr, r.next, r.pageWant = p.body, p.cr, p.next, p.want
}

// ahead requests the page after the current one, if there is one.
func (r *BulkRows) ahead() {
	if r.next == "" || r.next == "null" || r.pre != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	p := &bulkPrefetch{locator: r.next, cancel: cancel, done: make(chan bulkFetched, 1)}
	go func() {
		page, err := r.fetch(ctx, p.locator, 0)
		p.done <- bulkFetched{page, err}
	}()
	r.pre = p
}

// fetch requests the results page at locator, reads its header row, and
// skips the first skip data rows. It leaves r as it is (a page requested
// ahead is fetched beside the one being read).
func (r *BulkRows) fetch(ctx context.Context, locator string, skip int) (bulkPage, error) {
	q := url.Values{}
	if locator != "" {
		q.Set("locator", locator)
	}
	if r.maxRecords > 0 {
		q.Set("maxRecords", strconv.Itoa(r.maxRecords))
	}
	var p bulkPage
	req := request{method: http.MethodGet, path: versionPath("jobs", "query", r.jobID, "results"), query: q, accept: "text/csv"}
	err := r.c.do(ctx, req, func(resp *http.Response) error {
		cr := csv.NewReader(resp.Body)
		cr.ReuseRecord = true
		cr.FieldsPerRecord = -1
		header, err := cr.Read()
		if errors.Is(err, io.EOF) {
			header, err = nil, nil // an empty page
		}
		if err != nil {
			return err
		}
		if header != nil {
			p.columns = append([]string(nil), header...)
		}
		for i := 0; i < skip; i++ {
			if _, err := cr.Read(); err != nil {
				if errors.Is(err, io.EOF) {
					return fmt.Errorf("salesforce: bulk results page shrank on refetch: %w", io.ErrUnexpectedEOF)
				}
				return err
			}
		}
		p.next = resp.Header.Get("Sforce-Locator")
		p.want = -1
		if n, err := strconv.Atoi(resp.Header.Get("Sforce-NumberOfRecords")); err == nil && n >= 0 {
			p.want = n
		}
		// Keep the body open for Next; do closes only what we leave.
		p.body = resp.Body
		resp.Body = http.NoBody
		p.cr = cr
		return nil
	})
	if err != nil {
		return bulkPage{}, fmt.Errorf("salesforce: bulk results of job %s: %w", r.jobID, err)
	}
	return p, nil
}
