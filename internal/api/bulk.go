package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// bulkResult reports what happened to one item of a bulk request.
type bulkResult struct {
	Index  int            `json:"index"`
	Status string         `json:"status"`
	ID     string         `json:"id,omitempty"`
	Errors []fieldProblem `json:"errors,omitempty"`
}

type bulkCounts struct {
	Total     int `json:"total"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
}

type bulkResponse struct {
	Results []bulkResult `json:"results"`
	Counts  bulkCounts   `json:"counts"`
}

var matchByValues = []contact.Identity{contact.IdentityMemberID, contact.IdentityPhone, contact.IdentityEmail}

// bulkUpsert creates or updates up to maxBulkItems contacts, matched by
// member ID, phone or e-mail. Items are decoded and normalised one by one,
// so a bad item fails alone; the valid ones go to the store in one call
// and one transaction, a chunk at a time while the next chunk is being
// decoded (prepareBulk), and every item is reported in order.
func (s *server) bulkUpsert(w http.ResponseWriter, r *http.Request) error {
	ctx, tenantID := r.Context(), tenantFrom(r.Context())
	q := r.URL.Query()
	for k := range q {
		if k != "match_by" {
			return invalidField(k, "unknown query parameter; the only one is match_by")
		}
	}
	matchBy := contact.Identity(q.Get("match_by"))
	if !slices.Contains(matchByValues, matchBy) {
		return invalidField("match_by", fmt.Sprintf("%q: must be member_id, phone or email", q.Get("match_by")))
	}
	ndjson, err := bulkFormat(r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	rules, err := s.contactRules(r)
	if err != nil {
		return err
	}

	raws, err := readBulkItems(w, r, ndjson)
	if err != nil {
		return err
	}
	results := make([]bulkResult, len(raws))
	chunks := prepareBulk(raws, rules, results)
	defer chunks.stop()
	first, more := <-chunks.ready
	if more {
		var validIndex []int
		next := func() ([]contact.Input, error) {
			c, ok := first, true
			if c.inputs == nil {
				c, ok = <-chunks.ready
			}
			first = bulkChunk{}
			if !ok {
				return nil, nil
			}
			validIndex = append(validIndex, c.index...)
			return c.inputs, nil
		}
		out, err := s.store.BulkUpsertChunks(ctx, tenantID, len(raws), next, matchBy, contact.OriginAPI)
		if err != nil {
			return err
		}
		for j, res := range out {
			br := &results[validIndex[j]]
			br.Status = res.Outcome
			if res.Err != nil {
				br.Status = store.OutcomeFailed
				br.Errors = s.storeItemProblems(r, res.Err)
				continue
			}
			br.ID = res.Contact.ID
		}
	}

	resp := bulkResponse{Results: results, Counts: bulkCounts{Total: len(results)}}
	if resp.Results == nil {
		resp.Results = []bulkResult{}
	}
	for _, br := range results {
		switch br.Status {
		case store.OutcomeCreated:
			resp.Counts.Created++
		case store.OutcomeUpdated:
			resp.Counts.Updated++
		case store.OutcomeUnchanged:
			resp.Counts.Unchanged++
		default:
			resp.Counts.Failed++
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// bulkChunkSize is how many items prepareBulk decodes before it hands
// them to the store. The store loads, decides and writes a chunk at a
// time, so a chunk is a few of its statements (500 values an IN query,
// 400 contacts an INSERT on SQLite); the first chunk's decoding is the
// only one nothing overlaps.
const bulkChunkSize = 1000

// bulkChunk is the valid items of one chunk, normalised, and their
// indexes in the request.
type bulkChunk struct {
	inputs []contact.Input
	index  []int
}

// bulkPrep hands out a request's chunks as they are decoded.
type bulkPrep struct {
	ready   <-chan bulkChunk // closed after the last chunk
	stopped chan struct{}
}

// stop ends the decoding of chunks nobody will ask for (the store
// failed).
func (p *bulkPrep) stop() { close(p.stopped) }

// prepareBulk decodes and normalises raws (phone numbers above all; most
// of the CPU a bulk request costs, and every item is independent) a chunk
// at a time on its own goroutine, setting results[i] for an item that
// fails, and sends each chunk's valid items to ready, skipping chunks
// with none. The store writes chunk k, on one core (SQLite has one
// writer; PostgreSQL's inserts are the server's), while chunk k+1 is
// decoded: decoded in full first, a 10,000-item request left a core idle
// through its write, about a third of serve's CPU (issue 14). The first
// chunk, which nothing overlaps, is decoded on every core; the others on
// one, beside the writer.
func prepareBulk(raws [][]byte, rules contact.Rules, results []bulkResult) *bulkPrep {
	ready := make(chan bulkChunk, (len(raws)+bulkChunkSize-1)/bulkChunkSize) // never blocks: a failed store leaves no goroutine behind
	p := &bulkPrep{ready: ready, stopped: make(chan struct{})}
	go func() {
		defer close(ready)
		for lo := 0; lo < len(raws); lo += bulkChunkSize {
			select {
			case <-p.stopped:
				return
			default:
			}
			hi := min(lo+bulkChunkSize, len(raws))
			inputs := make([]contact.Input, hi-lo)
			ok := make([]bool, hi-lo)
			decode := func(j int) {
				i := lo + j
				results[i].Index = i
				in, err := decodeContact(raws[i])
				if err == nil {
					in, err = rules.Normalize(in)
				}
				if err != nil {
					results[i].Status = store.OutcomeFailed
					results[i].Errors = itemProblems(err)
					return
				}
				inputs[j], ok[j] = in, true
			}
			if lo == 0 {
				parallelFor(hi-lo, decode)
			} else {
				for j := range hi - lo {
					decode(j)
				}
			}
			var c bulkChunk
			for j := range hi - lo {
				if ok[j] {
					c.inputs = append(c.inputs, inputs[j])
					c.index = append(c.index, lo+j)
				}
			}
			if len(c.inputs) > 0 {
				ready <- c
			}
		}
	}()
	return p
}

// bulkFormat tells NDJSON from a JSON array by the Content-Type.
func bulkFormat(ct string) (ndjson bool, err error) {
	if ct == "" {
		return false, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mt == "application/json":
		return false, nil
	case mt == "application/x-ndjson", mt == "application/ndjson", mt == "application/jsonl":
		return true, nil
	}
	return false, errorf(codeUnsupportedMedia, "send a JSON array as application/json or one object per line as application/x-ndjson, not %q", ct)
}

// itemProblems describes why one item could not be decoded or normalised.
// Its field names are relative to the item.
func itemProblems(err error) []fieldProblem {
	var fe contact.FieldErrors
	if !errors.As(err, &fe) {
		return []fieldProblem{{Field: "(item)", Reason: err.Error()}}
	}
	out := fieldProblems(fe)
	for i := range out {
		if out[i].Field == "(body)" || out[i].Field == "" {
			out[i].Field = "(item)"
		}
	}
	return out
}

// storeItemProblems describes why the store refused one item.
func (s *server) storeItemProblems(r *http.Request, err error) []fieldProblem {
	var fe contact.FieldErrors
	var cc *store.ContactConflict
	switch {
	case errors.As(err, &cc):
		return []fieldProblem{conflictProblem(cc)}
	case errors.As(err, &fe):
		return itemProblems(fe)
	}
	s.logger.ErrorContext(r.Context(), "bulk item refused by the store", "tenant_id", tenantFrom(r.Context()), "err", err)
	return []fieldProblem{{Field: "(item)", Reason: "could not be stored"}}
}

// readBulkItems reads the body and splits it into items, refusing more
// than maxBulkItems.
func readBulkItems(w http.ResponseWriter, r *http.Request, ndjson bool) ([][]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBulkBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(codeTooLarge, "a bulk request body is at most %d bytes; split it", mbe.Limit)
		}
		return nil, err
	}
	var items [][]byte
	add := func(raw []byte) error {
		if len(items) == maxBulkItems {
			return errorf(codeTooLarge, "a bulk request holds at most %d items; split it", maxBulkItems)
		}
		items = append(items, raw)
		return nil
	}
	if ndjson {
		err = splitNDJSON(body, add)
	} else if elems, ok := splitValidArray(body); ok {
		for _, e := range elems {
			if err := add(e); err != nil {
				return items, err
			}
		}
	} else {
		err = splitJSONArray(body, add)
	}
	return items, err
}

// splitValidArray returns the elements of body when it is a valid JSON
// array, as splitJSONArray would hand them on (each element's bytes,
// without the white space around it): one pass finds where the elements
// end, and each is checked on every core. Anything else (malformed JSON,
// content after the array, not an array) reports false, and
// splitJSONArray reads the body again to say what is wrong. splitJSONArray
// alone decoded every element into a copy one by one, 5-9% of serve's
// CPU during a bulk import, all before the items could be decoded in
// parallel (issue 14).
func splitValidArray(body []byte) ([][]byte, bool) {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '[' {
		return nil, false
	}
	i = skipSpace(body, i+1)
	var elems [][]byte
	if i < len(body) && body[i] == ']' {
		return elems, skipSpace(body, i+1) == len(body)
	}
	for {
		start, depth := i, 0
	scan:
		for ; i < len(body); i++ {
			switch body[i] {
			case '"':
				for i++; i < len(body) && body[i] != '"'; i++ {
					if body[i] == '\\' {
						i++
					}
				}
				if i >= len(body) {
					return nil, false
				}
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					break scan
				}
				depth--
			case ',':
				if depth == 0 {
					break scan
				}
			}
		}
		if i == len(body) {
			return nil, false
		}
		end := i
		for end > start && isSpace(body[end-1]) {
			end--
		}
		if end == start {
			return nil, false
		}
		elems = append(elems, body[start:end:end])
		if body[i] == ']' {
			break
		}
		if body[i] != ',' {
			return nil, false
		}
		i = skipSpace(body, i+1)
	}
	if skipSpace(body, i+1) != len(body) {
		return nil, false
	}
	var invalid atomic.Bool
	parallelFor(len(elems), func(k int) {
		if !json.Valid(elems[k]) {
			invalid.Store(true)
		}
	})
	return elems, !invalid.Load()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// splitJSONArray calls item with each element of a JSON array. A syntax
// error breaks the stream, so it fails the whole request; type errors and
// unknown fields inside an element are the element's own problem.
func splitJSONArray(body []byte, item func([]byte) error) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return arrayError(err, 0)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return invalidField("(body)", "must be a JSON array of contacts (or NDJSON sent as application/x-ndjson)")
	}
	for n := 0; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return arrayError(err, n)
		}
		if err := item(raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return arrayError(err, -1)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return invalidField("(body)", "unexpected content after the JSON array")
		}
		return arrayError(err, -1)
	}
	return nil
}

func arrayError(err error, index int) error {
	where := "the body"
	if index >= 0 {
		where = fmt.Sprintf("item %d", index)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalidField("(body)", where+": the JSON array is cut short; nothing was imported")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalidField("(body)", fmt.Sprintf("%s: malformed JSON at byte %d (%v); nothing was imported", where, se.Offset, se))
	}
	return err
}

// splitNDJSON calls item with each non-blank line. A malformed line is
// that item's own failure, found when it is decoded.
func splitNDJSON(body []byte, item func([]byte) error) error {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		if err := item(line); err != nil {
			return err
		}
	}
	return nil
}

// parallelFor calls fn(i) for every i in [0, n), spread over the CPUs in
// contiguous ranges.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+255)/256)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				fn(i)
			}
		})
	}
	wg.Wait()
}
