package sfemu

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Bulk API 2.0 ingest jobs (/jobs/ingest). A job is created Open, takes
// its CSV in a PUT to /batches, and is processed in the background once
// the client sets it to UploadComplete: 200 records per transaction,
// through the same per-record writes as sObject Collections (saveOne,
// deleteOne), so validation rules, duplicate checks, derived fields and
// the change history are the same as for REST writes. Shapes and texts
// follow the Bulk API 2.0 developer guide (api_asynch, "Bulk API 2.0
// Ingest" and its walkthroughs); where a text is not documented the
// comment says so.

// ingestState is the state of an ingest job.
type ingestState string

// Ingest job states (developer guide, "Job States").
const (
	ingestOpen           ingestState = "Open"
	ingestUploadComplete ingestState = "UploadComplete"
	ingestInProgress     ingestState = "InProgress"
	ingestJobComplete    ingestState = "JobComplete"
	ingestFailed         ingestState = "Failed"
	ingestAborted        ingestState = "Aborted"
)

func (s ingestState) terminal() bool {
	return s == ingestJobComplete || s == ingestFailed || s == ingestAborted
}

// ingestOp is the operation of an ingest job.
type ingestOp string

// Ingest operations.
const (
	opInsert     ingestOp = "insert"
	opUpdate     ingestOp = "update"
	opUpsert     ingestOp = "upsert"
	opDelete     ingestOp = "delete"
	opHardDelete ingestOp = "hardDelete"
)

// Ingest limits (Salesforce Developer Limits and Allocations, "Bulk API
// and Bulk API 2.0 Limits and Allocations"; developer guide "Understanding
// Bulk API 2.0 Ingest").
const (
	// DefaultBulkIngestMaxUpload is the job data limit: 150 MB once
	// base64-encoded (Options.BulkIngestMaxUpload).
	DefaultBulkIngestMaxUpload = 150 << 20
	// ingestChunk is the records per transaction.
	ingestChunk = 200
	// ingestBatchRecords is the records per internal batch; every batch
	// counts against DailyBulkApiBatches (the job's initial empty batch
	// does not: guide, "Limits and Allocations").
	ingestBatchRecords = 10000
	// DefaultBulkBatchAllocation is DailyBulkApiBatches.Max: batches per
	// rolling 24 hours, shared by Bulk API and Bulk API 2.0 ingest.
	DefaultBulkBatchAllocation = 15000
	// DefaultBulkRecordAllocation is the Bulk API 2.0 ingest records per
	// rolling 24 hours.
	DefaultBulkRecordAllocation = 150000000
	// maxIngestListPage is the jobs per Get All Jobs page.
	maxIngestListPage = 1000
)

// ingestJob is one Bulk API 2.0 ingest job. Fields after mu are guarded
// by it; the rest never change after creation.
type ingestJob struct {
	id        string
	op        ingestOp
	obj       *objectDef
	extField  *fieldDef // upsert key
	extName   string    // externalIdFieldName as the client sent it
	creator   User
	assign    string // assignmentRuleId of the create request
	client    string // Sforce-Call-Options client= of the create request
	version   string
	vnum      int
	created   time.Time
	lineEnd   string
	delimiter string

	mu        sync.Mutex
	state     ingestState
	modstamp  time.Time
	uploads   [][]byte
	size      int // base64 size of the uploads
	polls     int
	done      bool        // background processing finished
	outcome   ingestState // JobComplete or Failed, once done
	errMsg    string
	stop      bool // aborted or deleted: processing stops between chunks
	processed int
	failed    int
	elapsed   time.Duration
	header    []string   // the CSV header as uploaded
	rows      [][]string // the CSV records
	results   []ingestResult
	next      int // rows[:next] have a result
}

// ingestResult is the outcome of one CSV record.
type ingestResult struct {
	id      string
	created bool
	err     *apiError
}

// ingestStore holds an org's ingest jobs and its rolling Bulk usage.
type ingestStore struct {
	mu      sync.Mutex
	jobs    map[string]*ingestJob // key: 15-char id
	order   []string
	usage   []ingestUsage
	batches int // DailyBulkApiBatches Max
	records int // records per rolling 24 hours
}

// ingestUsage is one job's consumption of the Bulk allocations.
type ingestUsage struct {
	at      time.Time
	batches int
	records int
}

func newIngestStore() *ingestStore {
	return &ingestStore{jobs: map[string]*ingestJob{}, batches: DefaultBulkBatchAllocation, records: DefaultBulkRecordAllocation}
}

// reset deletes every job and forgets the usage (Org.Reset).
func (st *ingestStore) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, j := range st.jobs {
		j.mu.Lock()
		j.stop = true
		j.mu.Unlock()
	}
	st.jobs, st.order, st.usage = map[string]*ingestJob{}, nil, nil
}

// usedLocked returns the batches and records consumed in the 24 hours before
// now, dropping older entries. Locked.
func (st *ingestStore) usedLocked(now time.Time) (batches, records int) {
	horizon := now.Add(-24 * time.Hour)
	keep := st.usage[:0]
	for _, u := range st.usage {
		if u.at.After(horizon) {
			keep = append(keep, u)
			batches += u.batches
			records += u.records
		}
	}
	st.usage = keep
	return batches, records
}

// BulkIngestUsage returns the Bulk batches and Bulk API 2.0 ingest records
// consumed in the last 24 hours.
func (o *Org) BulkIngestUsage() (batches, records int) {
	st := o.ingest
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.usedLocked(o.srv.Now())
}

// SetBulkIngestAllocation changes the daily Bulk batch allocation
// (DailyBulkApiBatches) and the Bulk API 2.0 ingest record allocation;
// zero keeps a value. A job that would pass either fails.
func (o *Org) SetBulkIngestAllocation(batches, records int) {
	st := o.ingest
	st.mu.Lock()
	defer st.mu.Unlock()
	if batches > 0 {
		st.batches = batches
	}
	if records > 0 {
		st.records = records
	}
}

func (st *ingestStore) job(id string) (*ingestJob, bool) {
	if len(id) < 15 {
		return nil, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	j, ok := st.jobs[id[:15]]
	return j, ok
}

// handleBulkIngest routes /jobs/ingest[/{id}[/batches|successfulResults|failedResults|unprocessedrecords]].
func (s *Server) handleBulkIngest(w http.ResponseWriter, c *call, method string, segs []string) {
	switch {
	case len(segs) == 0 && method == http.MethodPost:
		s.ingestCreate(w, c)
	case len(segs) == 0 && method == http.MethodGet:
		s.ingestList(w, c)
	case len(segs) == 0:
		methodNotAllowed(w, method, "GET,POST")
	case len(segs) == 1:
		s.ingestJobOp(w, c, method, segs[0])
	case len(segs) == 2 && segs[1] == "batches":
		if method != http.MethodPut {
			methodNotAllowed(w, method, "PUT")
			return
		}
		s.ingestUpload(w, c, segs[0])
	case len(segs) == 2 && (segs[1] == "successfulResults" || segs[1] == "failedResults" || segs[1] == "unprocessedrecords"):
		if method != http.MethodGet {
			methodNotAllowed(w, method, "GET")
			return
		}
		s.ingestResults(w, c, segs[0], segs[1])
	default:
		writeErrors(w, []*apiError{errNotFound()})
	}
}

// ingestJobBody is the Create a Job request.
type ingestJobBody struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName"`
	ContentType         string `json:"contentType"`
	ColumnDelimiter     string `json:"columnDelimiter"`
	LineEnding          string `json:"lineEnding"`
	AssignmentRuleID    string `json:"assignmentRuleId"`
}

// maxMultipartContent is the CSV a multipart create request may carry
// (guide, "Create a Job", usage notes: 100,000 characters).
const maxMultipartContent = 100000

func (s *Server) ingestCreate(w http.ResponseWriter, c *call) {
	var body ingestJobBody
	var content []byte
	multipartCreate := strings.HasPrefix(c.r.Header.Get("Content-Type"), "multipart/form-data")
	if multipartCreate {
		var e *apiError
		if content, e = readMultipartJob(c, &body); e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
	} else if e := readJSON(c, &body); e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	j, e := s.newIngestJob(c, body)
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	if multipartCreate {
		// The job is closed at once (guide, "Bulk Insert with a Multipart
		// Request"): its answer is UploadComplete, without contentUrl.
		j.uploads, j.state = [][]byte{content}, ingestUploadComplete
	}
	st := c.org.ingest
	st.mu.Lock()
	st.jobs[j.id[:15]] = j
	st.order = append(st.order, j.id[:15])
	st.mu.Unlock()
	j.mu.Lock()
	out := j.createJSON()
	if multipartCreate {
		out = append(j.head(), kv{"lineEnding", j.lineEnd}, kv{"columnDelimiter", j.delimiter})
	}
	j.mu.Unlock()
	if multipartCreate {
		go s.processIngest(c.org, j)
	}
	writeRaw(w, 200, out.marshal())
}

// readMultipartJob reads a multipart create request: a "job" part with
// the JSON job and a "content" part with the CSV.
func readMultipartJob(c *call, body *ingestJobBody) ([]byte, *apiError) {
	r, err := c.r.MultipartReader()
	if err != nil {
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Invalid multipart request: "+err.Error())
	}
	var job, content []byte
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Invalid multipart request: "+err.Error())
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Invalid multipart request: "+err.Error())
		}
		switch part.FormName() {
		case "job":
			job = b
		case "content":
			content = b
		}
	}
	if job == nil || content == nil {
		// Not documented: the guide names both parts as required.
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : A multipart request needs a job part and a content part")
	}
	if utf8.RuneCount(content) > maxMultipartContent {
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : The content of a multipart request is limited to 100,000 characters")
	}
	if e := decodeJSON(job, body); e != nil {
		return nil, e
	}
	return content, nil
}

// newIngestJob validates a Create a Job request and returns the Open job.
func (s *Server) newIngestJob(c *call, body ingestJobBody) (*ingestJob, *apiError) {
	// Texts of the create errors below are not in the developer guide;
	// the codes are its InvalidJob family.
	op := ingestOp(body.Operation)
	switch op {
	case opInsert, opUpdate, opUpsert, opDelete, opHardDelete:
	case "":
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Operation is required")
	default:
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Invalid operation: "+body.Operation)
	}
	if body.Object == "" {
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Object is required")
	}
	obj, ok := c.org.object(body.Object)
	if !ok {
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : sObject type '"+body.Object+"' is not supported.")
	}
	deleting := op == opDelete || op == opHardDelete
	if (!deleting && !obj.Createable) || (deleting && !obj.Deletable) {
		return nil, bulkErr(400, "INVALIDENTITY", "InvalidEntity : Entity '"+obj.Name+"' is not supported by the Bulk API.")
	}
	if body.ContentType != "" && body.ContentType != "CSV" {
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Invalid contentType: "+body.ContentType)
	}
	if body.ColumnDelimiter == "" {
		body.ColumnDelimiter = "COMMA"
	}
	if _, ok := delimiters[body.ColumnDelimiter]; !ok {
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Invalid columnDelimiter: "+body.ColumnDelimiter)
	}
	if body.LineEnding == "" {
		body.LineEnding = "LF"
	}
	if body.LineEnding != "LF" && body.LineEnding != "CRLF" {
		return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : Invalid lineEnding: "+body.LineEnding)
	}
	var ext *fieldDef
	if op == opUpsert {
		if body.ExternalIDFieldName == "" {
			// The Bulk API's InvalidJob text for an upsert without a key.
			return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : External ID was blank for "+obj.Name+". An External ID must be specified for upsert.")
		}
		f, e := externalField(obj, body.ExternalIDFieldName)
		if e != nil {
			return nil, bulkErr(400, "INVALIDJOB", "InvalidJob : "+e.Message)
		}
		ext = f
	}
	if op == opHardDelete {
		c.org.mu.RLock()
		perms := c.org.permissions(&c.user)
		c.org.mu.RUnlock()
		// "Bulk API Hard Delete" stands with Modify All Data here.
		if !perms.ModifyAllData {
			return nil, bulkErr(400, "FEATURENOTENABLED", "FeatureNotEnabled : Bulk API Hard Delete permission is required for hardDelete")
		}
	}
	now := s.Now().Truncate(time.Second)
	return &ingestJob{
		id: makeID("750", c.org.seq, s.nextSeq()), op: op, obj: obj, extField: ext, extName: body.ExternalIDFieldName,
		creator: c.user, assign: body.AssignmentRuleID, client: c.client, version: c.version, vnum: c.vnum, created: now,
		lineEnd: body.LineEnding, delimiter: body.ColumnDelimiter, state: ingestOpen, modstamp: now,
	}, nil
}

func (j *ingestJob) contentURL() string {
	return "services/data/v" + j.version + "/jobs/ingest/" + j.id + "/batches"
}

// head is the part every job view starts with. Locked.
func (j *ingestJob) head() orderedJSON {
	o := orderedJSON{{"id", j.id}, {"operation", string(j.op)}, {"object", j.obj.Name}, {"createdById", j.creator.ID},
		{"createdDate", formatDateTime(j.created)}, {"systemModstamp", formatDateTime(j.modstamp)}, {"state", string(j.state)}}
	if j.extField != nil {
		o = append(o, kv{"externalIdFieldName", j.extName})
	}
	return append(o, kv{"concurrencyMode", "Parallel"}, kv{"contentType", "CSV"}, kv{"apiVersion", jsonNumber(j.version)})
}

// createJSON is the Create a Job answer (the guide's "Bulk Insert" and
// "Bulk Upsert" walkthroughs). Locked.
func (j *ingestJob) createJSON() orderedJSON {
	return append(j.head(), kv{"contentUrl", j.contentURL()}, kv{"lineEnding", j.lineEnd}, kv{"columnDelimiter", j.delimiter})
}

// patchJSON is the Upload Complete and Abort answer: the walkthroughs
// show it without jobType, contentUrl, line ending and delimiter. Locked.
func (j *ingestJob) patchJSON() orderedJSON { return j.head() }

// listJSON is one record of Get Information About All Ingest Jobs. Locked.
func (j *ingestJob) listJSON() orderedJSON {
	o := append(j.head(), kv{"jobType", "V2Ingest"})
	if j.state == ingestOpen {
		o = append(o, kv{"contentUrl", j.contentURL()})
	}
	return append(o, kv{"lineEnding", j.lineEnd}, kv{"columnDelimiter", j.delimiter})
}

// infoJSON is Get Information About an Ingest Job: record counts appear
// once the job is closed (the guide's Open example has none). Locked.
func (j *ingestJob) infoJSON() orderedJSON {
	o := j.listJSON()
	if j.state != ingestOpen {
		o = append(o, kv{"numberRecordsProcessed", j.processed}, kv{"numberRecordsFailed", j.failed})
	}
	ms := int(j.elapsed / time.Millisecond)
	o = append(o, kv{"retries", 0}, kv{"totalProcessingTime", ms}, kv{"apiActiveProcessingTime", ms}, kv{"apexProcessingTime", 0})
	if j.errMsg != "" && j.state == ingestFailed {
		o = append(o, kv{"errorMessage", j.errMsg})
	}
	return o
}

// jsonNumber renders "62.0" as the JSON number 62.0, as Salesforce does.
type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

func (s *Server) ingestList(w http.ResponseWriter, c *call) {
	q := c.r.URL.Query()
	from := 0
	if loc := q.Get("queryLocator"); loc != "" {
		_, off, ok := strings.Cut(loc, "-")
		n, err := strconv.Atoi(off)
		if !ok || err != nil || n < 0 {
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDLOCATOR", "Invalid query locator: "+loc)})
			return
		}
		from = n
	}
	// Bulk API 2.0 ingest jobs are never PK-chunked and are all V2Ingest.
	none := strings.EqualFold(q.Get("isPkChunkingEnabled"), "true") ||
		(q.Get("jobType") != "" && q.Get("jobType") != "V2Ingest")
	st := c.org.ingest
	st.mu.Lock()
	var all []*ingestJob
	if !none {
		for _, id := range st.order {
			if j, ok := st.jobs[id]; ok {
				all = append(all, j)
			}
		}
	}
	st.mu.Unlock()
	from = min(from, len(all))
	to := min(from+maxIngestListPage, len(all))
	recs := make([]orderedJSON, 0, to-from)
	for _, j := range all[from:to] {
		j.mu.Lock()
		recs = append(recs, j.listJSON())
		j.mu.Unlock()
	}
	var next any
	if to < len(all) {
		next = c.vpath() + "/jobs/ingest?queryLocator=" + makeID("01g", c.org.seq, 1) + "-" + strconv.Itoa(to)
	}
	writeRaw(w, 200, orderedJSON{{"done", next == nil}, {"records", recs}, {"nextRecordsUrl", next}}.marshal())
}

func (s *Server) ingestJobOp(w http.ResponseWriter, c *call, method, id string) {
	st := c.org.ingest
	j, ok := st.job(id)
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	switch method {
	case http.MethodGet:
		j.mu.Lock()
		if j.state == ingestUploadComplete || j.state == ingestInProgress {
			// Status reads move the job on, as for query jobs: it shows
			// InProgress until processing is done and the reads reach
			// Options.BulkPollsToComplete.
			j.polls++
			j.state = ingestInProgress
			if j.done && (s.opts.BulkPollsToComplete < 0 || j.polls >= s.opts.BulkPollsToComplete) {
				j.state = j.outcome
			}
			j.modstamp = s.Now().Truncate(time.Second)
		}
		out := j.infoJSON()
		j.mu.Unlock()
		writeRaw(w, 200, out.marshal())
	case http.MethodPatch:
		var body struct {
			State string `json:"state"`
		}
		if e := readJSON(c, &body); e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		switch ingestState(body.State) {
		case ingestUploadComplete:
			s.ingestClose(w, c, j)
		case ingestAborted:
			j.mu.Lock()
			if j.state.terminal() {
				st := j.state
				j.mu.Unlock()
				// The guide's text for aborting a finished job.
				writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Aborting already "+strings.TrimPrefix(string(st), "Job")+" Job not allowed")})
				return
			}
			j.state, j.stop = ingestAborted, true
			j.modstamp = s.Now().Truncate(time.Second)
			out := j.patchJSON()
			j.mu.Unlock()
			writeRaw(w, 200, out.marshal())
		default:
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Invalid state: "+body.State)})
		}
	case http.MethodDelete:
		j.mu.Lock()
		// Deletable states per the guide: UploadComplete, JobComplete,
		// Aborted, Failed.
		if j.state == ingestOpen || j.state == ingestInProgress {
			st := j.state
			j.mu.Unlock()
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Deleting a job in state "+string(st)+" is not allowed")})
			return
		}
		j.stop = true
		j.mu.Unlock()
		st.mu.Lock()
		delete(st.jobs, j.id[:15])
		st.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, method, "GET,PATCH,DELETE")
	}
}

// ingestUpload answers PUT .../batches: the data is kept as sent and
// parsed when the job is processed. Like Salesforce, a second PUT is
// accepted and the job then refuses UploadComplete.
func (s *Server) ingestUpload(w http.ResponseWriter, c *call, id string) {
	j, ok := c.org.ingest.job(id)
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	data, err := io.ReadAll(c.r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeErrors(w, []*apiError{tooLarge()})
			return
		}
		writeErrors(w, []*apiError{bulkErr(400, "CLIENTINPUTERROR", "ClientInputError : Unable to read the request body: "+err.Error())})
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != ingestOpen {
		// Not documented; the code is the guide's InvalidJobState family.
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Unable to upload data to a job in state "+string(j.state))})
		return
	}
	size := j.size + (len(data)+2)/3*4
	if size > s.opts.BulkIngestMaxUpload {
		writeErrors(w, []*apiError{tooLarge()})
		return
	}
	j.size = size
	j.uploads = append(j.uploads, data)
	j.modstamp = s.Now().Truncate(time.Second)
	w.WriteHeader(http.StatusCreated)
}

// maxIngestRequest bounds one PUT body: the largest raw CSV whose base64
// form fits the upload limit.
func (s *Server) maxIngestRequest() int64 { return int64(s.opts.BulkIngestMaxUpload) / 4 * 3 }

// tooLarge answers an upload over the limit (150 MB base64). The
// developer guide gives the limit, not the error's text.
func tooLarge() *apiError {
	return bulkErr(400, "INVALIDJOB", "InvalidJob : The job data exceeds the upload limit (150 MB base64 encoded)")
}

// ingestClose sets the job to UploadComplete and starts processing it.
func (s *Server) ingestClose(w http.ResponseWriter, c *call, j *ingestJob) {
	j.mu.Lock()
	if j.state != ingestOpen {
		st := j.state
		j.mu.Unlock()
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Unable to close a job in state "+string(st))})
		return
	}
	if len(j.uploads) > 1 {
		j.mu.Unlock()
		// Salesforce's answer, typo included, to a job with more than
		// one PUT (salesforce.stackexchange.com/questions/231917).
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOB", "Found multipe contents for job: <"+j.id[:15]+">, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.")})
		return
	}
	j.state = ingestUploadComplete
	j.modstamp = s.Now().Truncate(time.Second)
	out := j.patchJSON()
	j.mu.Unlock()
	org := c.org
	go s.processIngest(org, j)
	writeRaw(w, 200, out.marshal())
}

// processIngest parses the job's CSV and writes its records, 200 per
// transaction, recording one result per record.
func (s *Server) processIngest(org *Org, j *ingestJob) {
	start := time.Now()
	j.mu.Lock()
	var data []byte
	if len(j.uploads) == 1 {
		data = j.uploads[0]
	}
	j.mu.Unlock()
	header, rows, msg := parseIngestCSV(data, j)
	var cols []ingestColumn
	if msg == "" {
		cols, msg = ingestColumns(org, j, header)
	}
	j.mu.Lock()
	j.header, j.rows = header, rows
	if header != nil {
		j.uploads = nil // the parsed rows stand for the data from now on
	}
	j.results = make([]ingestResult, len(rows))
	j.mu.Unlock()
	if msg == "" {
		msg = s.reserveIngest(org, len(rows))
	}
	if msg == "" {
		s.writeIngest(org, j, cols)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done, j.outcome, j.errMsg = true, ingestJobComplete, msg
	if msg != "" {
		j.outcome = ingestFailed
	}
	j.elapsed = time.Since(start)
	if s.opts.BulkPollsToComplete < 0 && j.state != ingestAborted {
		j.state = j.outcome
	}
	j.modstamp = s.Now().Truncate(time.Second)
}

// reserveIngest counts the job's batches and records against the rolling
// allocations, or returns why the job fails. The texts are the Bulk API's
// ExceededQuota family; their wording is not documented.
func (s *Server) reserveIngest(org *Org, records int) string {
	batches := (records + ingestBatchRecords - 1) / ingestBatchRecords
	st := org.ingest
	st.mu.Lock()
	defer st.mu.Unlock()
	now := s.Now()
	usedB, usedR := st.usedLocked(now)
	switch {
	case usedB+batches > st.batches:
		return "ExceededQuota : Exceeded the daily limit of " + strconv.Itoa(st.batches) + " Bulk API batches"
	case usedR+records > st.records:
		return "ExceededQuota : Exceeded the daily limit of " + strconv.Itoa(st.records) + " Bulk API 2.0 ingest records"
	}
	if records > 0 {
		st.usage = append(st.usage, ingestUsage{at: now, batches: batches, records: records})
	}
	return ""
}

// writeIngest writes the job's records through the REST write path, until
// they are all written or the job is aborted or deleted.
func (s *Server) writeIngest(org *Org, j *ingestJob, cols []ingestColumn) {
	c := &call{
		s: s, r: &http.Request{URL: &url.URL{}, Header: bulkAssignHeader(j.assign)}, org: org, user: j.creator, version: j.version, vnum: j.vnum,
		client: j.client, api: "bulkapi",
	}
	var key *upsertKey
	if j.op == opUpsert {
		key = &upsertKey{obj: j.obj, field: j.extField}
	}
	j.mu.Lock()
	rows := j.rows
	j.mu.Unlock()
	for from := 0; from < len(rows); from += ingestChunk {
		j.mu.Lock()
		stop := j.stop
		if !stop && j.state == ingestUploadComplete {
			j.state = ingestInProgress
		}
		j.mu.Unlock()
		if stop {
			return
		}
		to := min(from+ingestChunk, len(rows))
		res := make([]ingestResult, to-from)
		c.now = s.Now().Truncate(time.Second)
		org.withTx(context.Background(), func(t *tx) {
			seen := map[string]bool{}
			for i, row := range rows[from:to] {
				res[i] = c.ingestOne(t, j, key, cols, row, seen)
			}
		})
		j.mu.Lock()
		copy(j.results[from:to], res)
		j.next = to
		for _, r := range res {
			if r.err != nil {
				j.failed++
			}
		}
		j.processed = to
		j.mu.Unlock()
		if d := s.opts.BulkIngestChunkDelay; d > 0 && to < len(rows) {
			time.Sleep(d)
		}
	}
}

// ingestOne writes one CSV record. Locked (inside withTx).
func (c *call) ingestOne(t *tx, j *ingestJob, key *upsertKey, cols []ingestColumn, row []string, seen map[string]bool) ingestResult {
	in := writeInput{}
	for i, col := range cols {
		v := row[i]
		switch {
		case v == "":
			// Empty values are ignored (guide, "Prepare CSV Files").
		case v == "#N/A":
			in[col.f.Name] = nil
		case col.lookup != nil:
			tb := c.org.tables[strings.ToLower(col.parent.Name)]
			switch m := c.org.matchExternal(tb, col.lookup, v); len(m) {
			case 0:
				// The Bulk and REST text for a missing parent.
				return ingestResult{err: fieldErr("INVALID_FIELD", "Foreign key external ID: "+v+" not found for field "+col.lookup.Name+" in entity "+col.parent.Name)}
			case 1:
				in[col.f.Name] = m[0].id
			default:
				// Not documented; the code is the one for ambiguous keys.
				return ingestResult{err: fieldErr("DUPLICATE_EXTERNAL_ID", "Foreign key external ID: "+v+" matched more than one record for field "+col.lookup.Name+" in entity "+col.parent.Name)}
			}
		default:
			in[col.f.Name] = csvInput(col.f, v)
		}
	}
	switch j.op {
	case opDelete, opHardDelete:
		raw, _ := idOf(in)
		if raw == "" {
			return ingestResult{err: fieldErr("MISSING_ARGUMENT", "Id not specified in a delete call")}
		}
		if !strings.HasPrefix(raw, j.obj.KeyPrefix) {
			return ingestResult{err: fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")}
		}
		id, e := c.deleteOne(t, raw)
		if e != nil {
			return ingestResult{id: failedID(id, e), err: e}
		}
		if j.op == opHardDelete {
			tb := c.org.tables[strings.ToLower(j.obj.Name)]
			if _, p, ok := tb.get(id); ok {
				c.org.hardDeleteLocked(tb, p)
			}
		}
		return ingestResult{id: id}
	}
	op := map[ingestOp]string{opInsert: "create", opUpdate: "update", opUpsert: "upsert"}[j.op]
	out := c.saveOne(t, j.obj, op, key, in, seen)
	r := ingestResult{id: out.id, created: j.op == opInsert || out.created != nil && *out.created}
	if len(out.errs) > 0 {
		// The results name the first error, as Salesforce's do. A failed
		// insert has no id.
		r.err, r.created = out.errs[0], false
		if j.op == opInsert {
			r.id = ""
		}
		r.id = failedID(r.id, r.err)
	}
	return r
}

// failedID is the sf__Id of a failed record: the record's id, but none
// when no record has it (a failed update of an unknown id shows "" in
// real orgs' failedResults: "","INVALID_CROSS_REFERENCE_KEY:invalid cross
// reference id:--").
func failedID(id string, e *apiError) string {
	if e.Code == "INVALID_CROSS_REFERENCE_KEY" || e.Code == "MALFORMED_ID" {
		return ""
	}
	return id
}

// csvInput turns a CSV value into what the JSON write path expects:
// booleans as JSON booleans, dates without the "Z" the Bulk API allows
// (guide, "Sample CSV Files": 1940-06-07Z), everything else as a string.
func csvInput(f *fieldDef, v string) any {
	switch f.Type {
	case "boolean":
		switch strings.ToLower(v) {
		case "true", "1", "yes":
			return true
		case "false", "0", "no":
			return false
		}
	case "date":
		return strings.TrimSuffix(v, "Z")
	}
	return v
}

// parseIngestCSV splits the job data into its header and records, or
// returns the job's errorMessage.
func parseIngestCSV(data []byte, j *ingestJob) (header []string, rows [][]string, msg string) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, ""
	}
	if !utf8.Valid(data) {
		return nil, nil, "ClientInputError : The job data is not valid UTF-8"
	}
	// Salesforce checks the header's line ending against the job's.
	if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
		crlf := nl > 0 && data[nl-1] == '\r'
		if crlf != (j.lineEnd == "CRLF") {
			return nil, nil, "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is " + j.lineEnd
		}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma, _ = utf8.DecodeRuneInString(delimiters[j.delimiter])
	r.ReuseRecord = false
	all, err := r.ReadAll()
	if err != nil {
		return nil, nil, "ClientInputError : Unable to parse the job data: " + err.Error()
	}
	if len(all) == 0 {
		return nil, nil, ""
	}
	return all[0], all[1:], ""
}

// ingestColumn is one CSV column: a field, or a relationship column
// (ReportsTo.Email) that sets the reference field f to the parent whose
// lookup field holds the value.
type ingestColumn struct {
	f      *fieldDef
	lookup *fieldDef
	parent *objectDef
}

// ingestColumns maps the header to fields, or returns the job's
// errorMessage for an unknown one (Salesforce's text, e.g.
// "InvalidBatch : Field name not found : Foo__c"). A relationship column
// (guide, "Relationship Fields in a Header Row") names a reference
// field's relationship and an idLookup or external id field of the
// parent; polymorphic "Type:Rel.Field" columns are not emulated.
func ingestColumns(org *Org, j *ingestJob, header []string) ([]ingestColumn, string) {
	cols := make([]ingestColumn, len(header))
	seen := map[int]bool{}
	for i, name := range header {
		col, ok := ingestColumnOf(org, j.obj, name)
		if !ok {
			return nil, "InvalidBatch : Field name not found : " + name
		}
		if seen[col.f.index] {
			return nil, "InvalidBatch : Duplicate field name found : " + name
		}
		seen[col.f.index] = true
		cols[i] = col
	}
	return cols, ""
}

func ingestColumnOf(org *Org, obj *objectDef, name string) (ingestColumn, bool) {
	if name != strings.TrimSpace(name) {
		return ingestColumn{}, false
	}
	rel, lookup, isRel := strings.Cut(name, ".")
	if !isRel {
		f, ok := obj.field(name)
		return ingestColumn{f: f}, ok && !f.Hidden
	}
	for _, f := range obj.fields {
		if f.Type != "reference" || f.Hidden || !strings.EqualFold(f.Relationship, rel) || len(f.ReferenceTo) != 1 {
			continue
		}
		org.mu.RLock()
		parent, ok := org.objects[strings.ToLower(f.ReferenceTo[0])]
		org.mu.RUnlock()
		if !ok {
			return ingestColumn{}, false
		}
		lf, ok := parent.field(lookup)
		if !ok || lf.Hidden || !(lf.IDLookup || lf.ExternalID) {
			return ingestColumn{}, false
		}
		return ingestColumn{f: f, lookup: lf, parent: parent}, true
	}
	return ingestColumn{}, false
}

// ingestResults answers successfulResults, failedResults and
// unprocessedrecords: CSV in the job's delimiter and line ending, header
// columns as uploaded, every value quoted (the guide's examples).
func (s *Server) ingestResults(w http.ResponseWriter, c *call, id, kind string) {
	j, ok := c.org.ingest.job(id)
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.state.terminal() && !(kind == "unprocessedrecords" && j.state == ingestOpen) {
		// Not documented; results exist once the job is JobComplete,
		// Failed or Aborted.
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Results are not available for a job in state "+string(j.state))})
		return
	}
	delim := delimiters[j.delimiter]
	eol := "\n"
	if j.lineEnd == "CRLF" {
		eol = "\r\n"
	}
	header, rows := j.header, j.rows
	if header == nil && len(j.uploads) == 1 {
		// Aborted before processing: the rows were never parsed.
		header, rows, _ = parseIngestCSV(j.uploads[0], j)
	}
	var b []byte
	switch kind {
	case "successfulResults":
		b = append(b, `"sf__Id"`+delim+`"sf__Created"`...)
	case "failedResults":
		b = append(b, `"sf__Id"`+delim+`"sf__Error"`...)
	}
	for i, h := range header {
		if i > 0 || kind != "unprocessedrecords" {
			b = append(b, delim...)
		}
		b = append(b, h...)
	}
	if len(b) > 0 {
		b = append(b, eol...)
	}
	row := func(prefix []string, rec []string) {
		for i, v := range prefix {
			if i > 0 {
				b = append(b, delim...)
			}
			b = appendCSV(b, v)
		}
		for i, v := range rec {
			if i > 0 || len(prefix) > 0 {
				b = append(b, delim...)
			}
			b = appendCSV(b, v)
		}
		b = append(b, eol...)
	}
	for i, rec := range rows {
		done := j.results != nil && i < j.next
		switch {
		case kind == "unprocessedrecords" && !done:
			row(nil, rec)
		case kind == "successfulResults" && done && j.results[i].err == nil:
			row([]string{j.results[i].id, strconv.FormatBool(j.results[i].created)}, rec)
		case kind == "failedResults" && done && j.results[i].err != nil:
			row([]string{j.results[i].id, bulkError(j.results[i].err)}, rec)
		}
	}
	w.Header().Set("Content-Type", "text/csv")
	w.WriteHeader(200)
	_, _ = w.Write(b)
}

// bulkError renders an error as the sf__Error column does:
// "CODE:message:Field1,Field2 --" ("CODE:message:--" without fields), as
// in jsforce's bulk2 tests against real orgs
// ("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --").
func bulkError(e *apiError) string {
	f := strings.Join(e.Fields, ",")
	if f != "" {
		f += " "
	}
	return e.Code + ":" + e.Message + ":" + f + "--"
}
