package sfemu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bulkJob is a Bulk API 2.0 query job. Its result is evaluated when the
// job is created; status reads move it UploadComplete → InProgress →
// JobComplete (Options.BulkPollsToComplete).
type bulkJob struct {
	id        string
	operation string
	object    string
	query     string
	createdBy string
	created   time.Time
	modstamp  time.Time
	state     string
	version   string
	lineEnd   string
	delimiter string
	polls     int
	res       *result
	errMsg    string
}

var delimiters = map[string]string{"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "TAB": "\t"}

func (j *bulkJob) json(withStatus bool) orderedJSON {
	o := orderedJSON{{"id", j.id}, {"operation", j.operation}, {"object", j.object}, {"createdById", j.createdBy},
		{"createdDate", formatDateTime(j.created)}, {"systemModstamp", formatDateTime(j.modstamp)}, {"state", j.state},
		{"concurrencyMode", "Parallel"}, {"contentType", "CSV"}, {"apiVersion", json.Number(j.version)},
		{"lineEnding", j.lineEnd}, {"columnDelimiter", j.delimiter}}
	if withStatus {
		processed := 0
		if j.state == "JobComplete" && j.res != nil {
			processed = len(j.res.recs)
		}
		o = append(o, kv{"jobType", "V2Query"}, kv{"numberRecordsProcessed", processed}, kv{"retries", 0},
			kv{"totalProcessingTime", map[bool]int{true: 334, false: 0}[j.state == "JobComplete"]}, kv{"isPkChunkingSupported", true})
		if j.errMsg != "" {
			o = append(o, kv{"errorMessage", j.errMsg})
		}
	}
	return o
}

func bulkErr(status int, code, msg string) *apiError { return plainErr(status, code, msg) }

// handleBulkQuery routes /jobs/query[/{id}[/results]].
func (s *Server) handleBulkQuery(w http.ResponseWriter, c *call, method string, segs []string) {
	switch {
	case len(segs) == 0 && method == http.MethodPost:
		s.bulkCreate(w, c)
	case len(segs) == 0 && method == http.MethodGet:
		s.bulkList(w, c)
	case len(segs) == 0:
		methodNotAllowed(w, method, "GET,POST")
	case len(segs) == 1:
		s.bulkJobOp(w, c, method, segs[0])
	case len(segs) == 2 && segs[1] == "results":
		if method != http.MethodGet {
			methodNotAllowed(w, method, "GET")
			return
		}
		s.bulkResults(w, c, segs[0])
	default:
		writeErrors(w, []*apiError{errNotFound()})
	}
}

func (s *Server) bulkCreate(w http.ResponseWriter, c *call) {
	var body struct {
		Operation       string `json:"operation"`
		Query           string `json:"query"`
		ContentType     string `json:"contentType"`
		ColumnDelimiter string `json:"columnDelimiter"`
		LineEnding      string `json:"lineEnding"`
	}
	if e := readJSON(c, &body); e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	if body.Operation != "query" && body.Operation != "queryAll" {
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOB", "Invalid operation: "+body.Operation)})
		return
	}
	if body.ContentType != "" && body.ContentType != "CSV" {
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOB", "Invalid contentType: "+body.ContentType)})
		return
	}
	if body.ColumnDelimiter == "" {
		body.ColumnDelimiter = "COMMA"
	}
	if _, ok := delimiters[body.ColumnDelimiter]; !ok {
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOB", "Invalid columnDelimiter: "+body.ColumnDelimiter)})
		return
	}
	if body.LineEnding == "" {
		body.LineEnding = "LF"
	}
	if body.LineEnding != "LF" && body.LineEnding != "CRLF" {
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOB", "Invalid lineEnding: "+body.LineEnding)})
		return
	}
	if strings.TrimSpace(body.Query) == "" {
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOB", "The query is required")})
		return
	}
	res, e := c.evaluate(body.Query, body.Operation == "queryAll")
	if e != nil {
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOB", "Failed to process query: "+e.Code+": "+e.Message)})
		return
	}
	if res.plan.Count || res.plan.Grouped || res.plan.Offset > 0 {
		writeErrors(w, []*apiError{bulkErr(400, "API_ERROR", "Implementation restriction: aggregate queries and OFFSET are not supported by Bulk API 2.0 query")})
		return
	}
	for _, f := range res.fields {
		if f.Type == "address" {
			writeErrors(w, []*apiError{bulkErr(400, "API_ERROR", "Selecting compound data not supported in Bulk Query: "+f.Name)})
			return
		}
	}
	now := s.Now().Truncate(time.Second)
	j := &bulkJob{id: makeID("750", c.org.seq, s.nextSeq()), operation: body.Operation, object: res.obj.Name, query: body.Query,
		createdBy: c.user.ID, created: now, modstamp: now, state: "UploadComplete", version: c.version,
		lineEnd: body.LineEnding, delimiter: body.ColumnDelimiter, res: res}
	if s.opts.BulkPollsToComplete < 0 {
		j.state = "JobComplete"
	}
	c.org.mu.Lock()
	c.org.jobs[j.id[:15]] = j
	c.org.jobOrder = append(c.org.jobOrder, j.id[:15])
	c.org.mu.Unlock()
	writeRaw(w, 200, j.json(false).marshal())
}

func (c *call) job(id string) (*bulkJob, bool) {
	if len(id) < 15 {
		return nil, false
	}
	c.org.mu.RLock()
	defer c.org.mu.RUnlock()
	j, ok := c.org.jobs[id[:15]]
	return j, ok
}

func (s *Server) bulkList(w http.ResponseWriter, c *call) {
	c.org.mu.RLock()
	recs := []orderedJSON{}
	for _, id := range c.org.jobOrder {
		if j, ok := c.org.jobs[id]; ok {
			recs = append(recs, j.json(false))
		}
	}
	c.org.mu.RUnlock()
	writeRaw(w, 200, orderedJSON{{"done", true}, {"records", recs}, {"nextRecordsUrl", nil}}.marshal())
}

func (s *Server) bulkJobOp(w http.ResponseWriter, c *call, method, id string) {
	j, ok := c.job(id)
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	switch method {
	case http.MethodGet:
		c.org.mu.Lock()
		if j.state == "UploadComplete" || j.state == "InProgress" {
			j.polls++
			j.state = "InProgress"
			if j.polls >= s.opts.BulkPollsToComplete {
				j.state = "JobComplete"
			}
			j.modstamp = s.Now().Truncate(time.Second)
		}
		body := j.json(true).marshal()
		c.org.mu.Unlock()
		writeRaw(w, 200, body)
	case http.MethodPatch:
		var body struct {
			State string `json:"state"`
		}
		if e := readJSON(c, &body); e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		if body.State != "Aborted" {
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Invalid state: "+body.State)})
			return
		}
		c.org.mu.Lock()
		if j.state == "JobComplete" || j.state == "Failed" || j.state == "Aborted" {
			st := j.state
			c.org.mu.Unlock()
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Aborting already "+strings.TrimPrefix(st, "Job")+" Job not allowed")})
			return
		}
		j.state = "Aborted"
		j.modstamp = s.Now().Truncate(time.Second)
		out := j.json(false).marshal()
		c.org.mu.Unlock()
		writeRaw(w, 200, out)
	case http.MethodDelete:
		c.org.mu.Lock()
		if j.state == "UploadComplete" || j.state == "InProgress" {
			c.org.mu.Unlock()
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Deleting a job that is in progress is not allowed")})
			return
		}
		delete(c.org.jobs, j.id[:15])
		c.org.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, method, "GET,PATCH,DELETE")
	}
}

// defaultBulkPage is the rows per results page without maxRecords
// (Salesforce sizes pages by bytes; this stands in for that).
const defaultBulkPage = 50000

func (s *Server) bulkResults(w http.ResponseWriter, c *call, id string) {
	j, ok := c.job(id)
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	c.org.mu.RLock()
	state := j.state
	c.org.mu.RUnlock()
	if state != "JobComplete" {
		writeErrors(w, []*apiError{bulkErr(400, "INVALIDJOBSTATE", "Query job is not complete (state "+state+")")})
		return
	}
	if j.version != c.version {
		// Salesforce answers 409 when results are read with another API version.
		writeErrors(w, []*apiError{bulkErr(409, "INVALIDJOBSTATE", "Results must be retrieved with the API version the job was created with ("+j.version+")")})
		return
	}
	q := c.r.URL.Query()
	from := 0
	if loc := q.Get("locator"); loc != "" {
		b, err := base64.RawStdEncoding.DecodeString(loc)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(j.res.recs) {
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDLOCATOR", "Invalid locator: "+loc)})
			return
		}
		from = n
	}
	size := defaultBulkPage
	if m := q.Get("maxRecords"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n <= 0 {
			writeErrors(w, []*apiError{bulkErr(400, "INVALIDMAXRECORDS", "maxRecords must be a positive integer")})
			return
		}
		size = n
	}
	to := min(from+size, len(j.res.recs))
	delim := delimiters[j.delimiter]
	eol := "\n"
	if j.lineEnd == "CRLF" {
		eol = "\r\n"
	}
	next := "null"
	if to < len(j.res.recs) {
		next = base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Sforce-Locator", next)
	w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(to-from))
	w.WriteHeader(200)
	var b []byte
	for i, f := range j.res.fields {
		if i > 0 {
			b = append(b, delim...)
		}
		b = appendCSV(b, f.Name)
	}
	b = append(b, eol...)
	// The page is written as it is built, in chunks, so a client reads
	// (and asks for the next page) while the rest is rendered; a lock
	// taken for relationship fields is held per chunk, never while
	// writing to the network.
	const chunk = 2000
	for lo := from; lo < to; lo += chunk {
		hi := min(lo+chunk, to)
		if j.res.rs != nil {
			c.org.mu.RLock()
		}
		for _, r := range j.res.recs[lo:hi] {
			for i, f := range j.res.fields {
				if i > 0 {
					b = append(b, delim...)
				}
				v := r.Value(f.index)
				if j.res.rs != nil {
					v = j.res.rs.value(r, f.index)
				}
				b = appendCSV(b, csvValue(f, v))
			}
			b = append(b, eol...)
		}
		if j.res.rs != nil {
			c.org.mu.RUnlock()
		}
		if _, err := w.Write(b); err != nil {
			return // the client went away
		}
		b = b[:0]
	}
	if len(b) > 0 {
		_, _ = w.Write(b)
	}
}

func appendCSV(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// csvValue formats a value for Bulk CSV: datetimes as ...000Z, dates as
// YYYY-MM-DD, null as the empty string.
func csvValue(f *fieldDef, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if f.Type == "int" {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		if f.Type == "date" {
			return x.Format(sfDate)
		}
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return ""
}
