package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Record is one sObject record as decoded from JSON: field API name →
// value. Values are nil, string, float64, bool, or Record (a parent
// relationship such as Account.Name, itself with "attributes").
type Record = map[string]any

// QueryOptions tune Query and QueryAll.
type QueryOptions struct {
	// BatchSize asks for pages of this many records (Salesforce allows 200
	// to 2,000 and may send fewer). 0 lets Salesforce choose (2,000).
	BatchSize int
}

// QueryIterator streams a query's records page by page, holding one page in
// memory. Use it as
//
//	it := c.Query(ctx, soql, salesforce.QueryOptions{BatchSize: 2000})
//	for it.Next() { rec := it.Record() ... }
//	if err := it.Err(); err != nil { ... }
//
// or `for rec, err := range it.All()`. It is not safe for concurrent use.
type QueryIterator struct {
	c       *Client
	ctx     context.Context
	header  map[string]string
	first   request
	started bool

	page      queryPage
	pos       int
	rec       Record
	err       error
	total     int
	pages     int
	done      bool
	totalSeen bool
}

type queryPage struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl"`
	// Records are decoded straight from the body: one pass, half the CPU
	// of keeping raw JSON and decoding each record on Next, for a page of
	// maps (a few MB at 2,000 records) instead of a page of bytes.
	Records []Record `json:"records"`
}

// Query runs a SOQL query (GET /query). Nothing is sent until the first
// Next.
func (c *Client) Query(ctx context.Context, soql string, opts QueryOptions) *QueryIterator {
	return c.query(ctx, "query", soql, opts)
}

// QueryAll is Query including deleted and archived records (GET /queryAll).
func (c *Client) QueryAll(ctx context.Context, soql string, opts QueryOptions) *QueryIterator {
	return c.query(ctx, "queryAll", soql, opts)
}

func (c *Client) query(ctx context.Context, resource, soql string, opts QueryOptions) *QueryIterator {
	it := &QueryIterator{c: c, ctx: ctx}
	if opts.BatchSize != 0 {
		if opts.BatchSize < 200 || opts.BatchSize > 2000 {
			it.err = fmt.Errorf("salesforce: query batch size %d outside 200..2000", opts.BatchSize)
			return it
		}
		it.header = map[string]string{"Sforce-Query-Options": "batchSize=" + strconv.Itoa(opts.BatchSize)}
	}
	it.first = request{method: http.MethodGet, path: versionPath(resource), query: url.Values{"q": {soql}}, header: it.header}
	return it
}

// Next advances to the next record, fetching the next page when needed. It
// returns false at the end or on an error (see Err).
func (it *QueryIterator) Next() bool {
	if it.err != nil {
		return false
	}
	for it.pos >= len(it.page.Records) {
		var r request
		switch {
		case !it.started:
			it.started = true
			r = it.first
		case it.done || it.page.NextRecordsURL == "":
			it.page.Records, it.rec = nil, nil
			return false
		default:
			r = request{method: http.MethodGet, path: it.page.NextRecordsURL, header: it.header}
		}
		if err := it.fetch(r); err != nil {
			it.err = err
			it.page.Records, it.rec = nil, nil
			return false
		}
	}
	it.rec = it.page.Records[it.pos]
	it.page.Records[it.pos] = nil // let the page's memory go as we walk it
	it.pos++
	return true
}

func (it *QueryIterator) fetch(r request) error {
	err := it.c.do(it.ctx, r, func(resp *http.Response) error {
		var p queryPage
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			return fmt.Errorf("decoding query page: %w", err)
		}
		it.page = p
		return nil
	})
	if err != nil {
		return err
	}
	it.pos = 0
	it.pages++
	it.done = it.page.Done
	if !it.totalSeen {
		it.total, it.totalSeen = it.page.TotalSize, true
	}
	return nil
}

// Record returns the current record. It stays valid after Next.
func (it *QueryIterator) Record() Record { return it.rec }

// Err returns the error that stopped the iteration, if any.
func (it *QueryIterator) Err() error { return it.err }

// TotalSize returns the query's total row count, as Salesforce reported it
// on the first page (0 before the first Next).
func (it *QueryIterator) TotalSize() int { return it.total }

// Pages returns the number of pages fetched so far (each is one API call).
func (it *QueryIterator) Pages() int { return it.pages }

// All returns a single-use iterator over the records; an error is yielded
// once, last.
func (it *QueryIterator) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for it.Next() {
			if !yield(it.Record(), nil) {
				return
			}
		}
		if it.err != nil {
			yield(nil, it.err)
		}
	}
}

// Count runs a SELECT COUNT() query and returns its count (Salesforce puts
// it in totalSize). One API call.
func (c *Client) Count(ctx context.Context, soql string) (int, error) {
	var p queryPage
	err := c.do(ctx, request{method: http.MethodGet, path: versionPath("query"), query: url.Values{"q": {soql}}},
		func(resp *http.Response) error { return json.NewDecoder(resp.Body).Decode(&p) })
	if err != nil {
		return 0, err
	}
	return p.TotalSize, nil
}

// GetRecord reads one record by ID (GET /sobjects/{sobject}/{id}). With no
// fields, Salesforce returns every field. A missing record is an *APIError
// with StatusCode 404.
func (c *Client) GetRecord(ctx context.Context, sobject, id string, fields ...string) (Record, error) {
	if !ValidObjectName(sobject) {
		return nil, fmt.Errorf("salesforce: invalid object name %q", sobject)
	}
	if !validID(id) {
		return nil, fmt.Errorf("salesforce: invalid record id %q", id)
	}
	var q url.Values
	if len(fields) > 0 {
		for _, f := range fields {
			if !ValidFieldName(f) {
				return nil, fmt.Errorf("salesforce: invalid field name %q", f)
			}
		}
		q = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	var rec Record
	err := c.do(ctx, request{method: http.MethodGet, path: versionPath("sobjects", sobject, id), query: q},
		func(resp *http.Response) error { return json.NewDecoder(resp.Body).Decode(&rec) })
	return rec, err
}

func validID(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
			return false
		}
	}
	return true
}
