package sfemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/sfsync/sfsync/internal/sfapi"
)

const (
	maxCollection   = 200
	maxSubrequests  = 25
	rolledBackMsg   = "Record rolled back because not all records were valid and the request was using AllOrNone header"
	processingHalt  = "The transaction was rolled back since another operation in the same transaction failed."
	tooManyRecsText = "record limit reached. cannot submit more than 200 records into this call"
)

func (s *Server) handleComposite(w http.ResponseWriter, c *call, method string, segs []string) {
	if len(segs) == 0 {
		if method != http.MethodPost {
			methodNotAllowed(w, method, "POST")
			return
		}
		s.composite(w, c)
		return
	}
	if segs[0] != "sobjects" {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	switch len(segs) {
	case 1:
		switch method {
		case http.MethodPost:
			s.collectionWrite(w, c, "create", nil)
		case http.MethodPatch:
			s.collectionWrite(w, c, "update", nil)
		case http.MethodDelete:
			s.collectionDelete(w, c)
		default:
			methodNotAllowed(w, method, "POST,PATCH,DELETE")
		}
	case 2:
		if method != http.MethodGet && method != http.MethodPost {
			methodNotAllowed(w, method, "GET,POST")
			return
		}
		s.collectionRetrieve(w, c, segs[1], method)
	case 3:
		if method != http.MethodPatch {
			methodNotAllowed(w, method, "PATCH")
			return
		}
		obj, ok := c.org.object(segs[1])
		if !ok {
			writeErrors(w, []*apiError{errNotFound()})
			return
		}
		f, e := externalField(obj, segs[2])
		if e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		s.collectionWrite(w, c, "upsert", &upsertKey{obj: obj, field: f})
	default:
		writeErrors(w, []*apiError{errNotFound()})
	}
}

type upsertKey struct {
	obj   *objectDef
	field *fieldDef
}

type collectionBody struct {
	AllOrNone bool         `json:"allOrNone"`
	Records   []writeInput `json:"records"`
}

func rolledBack() *apiError { return fieldErr("ALL_OR_NONE_OPERATION_ROLLED_BACK", rolledBackMsg) }

// recordType reads attributes.type of a collection record.
func recordType(in writeInput) string {
	attrs, _ := in["attributes"].(map[string]any)
	t, _ := attrs["type"].(string)
	return t
}

func idOf(in writeInput) (string, bool) {
	for k, v := range in {
		if strings.EqualFold(k, "id") {
			s, ok := v.(string)
			return s, ok && s != ""
		}
	}
	return "", false
}

// collectionWrite runs sObject Collections create, update and upsert.
func (s *Server) collectionWrite(w http.ResponseWriter, c *call, op string, key *upsertKey) {
	var body collectionBody
	if e := readJSON(c, &body); e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	if len(body.Records) > maxCollection {
		writeErrors(w, []*apiError{plainErr(400, "EXCEEDED_ID_LIMIT", tooManyRecsText)})
		return
	}
	results := make([]saveOutcome, len(body.Records))
	failed := false
	c.org.withTx(c.r.Context(), func(t *tx) {
		mark := len(t.undo)
		seen := map[string]bool{}
		for i, in := range body.Records {
			typ := recordType(in)
			obj, ok := c.org.objects[strings.ToLower(typ)]
			switch {
			case typ == "":
				results[i].errs = []*apiError{fieldErr("INVALID_TYPE", "Must send a concrete entity type.")}
			case !ok:
				results[i].errs = []*apiError{fieldErr("INVALID_TYPE", "sObject type '"+typ+"' is not supported.")}
			default:
				results[i] = c.saveOne(t, obj, op, key, in, seen)
			}
			if len(results[i].errs) > 0 {
				failed = true
			}
		}
		if body.AllOrNone && failed {
			t.rollbackTo(mark)
		}
	})
	b := []byte{'['}
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		id := r.id
		errs := r.errs
		created := r.created
		if body.AllOrNone && failed {
			created = nil
			if len(errs) == 0 {
				errs = []*apiError{rolledBack()}
			}
			if op == "create" || (op == "upsert" && r.created != nil && *r.created) {
				id = ""
			}
		}
		if len(errs) > 0 && op == "create" {
			id = ""
		}
		b = append(b, saveResult(id, errs, created)...)
	}
	writeRaw(w, 200, append(b, ']'))
}

// saveOutcome is what one record of a collection or Bulk ingest write did.
type saveOutcome struct {
	id      string
	errs    []*apiError
	created *bool // set for upserts that succeeded
}

// saveOne creates ("create"), updates ("update") or upserts ("upsert" by
// key) one record of obj inside t. sObject Collections and Bulk API 2.0
// ingest both write through it, so both apply the same validation rules,
// duplicate checks and derived fields and log the same change history.
// seen holds the external id values already upserted in the same request.
func (c *call) saveOne(t *tx, obj *objectDef, op string, key *upsertKey, in writeInput, seen map[string]bool) saveOutcome {
	tb := c.org.tables[strings.ToLower(obj.Name)]
	if !obj.Createable {
		return saveOutcome{errs: []*apiError{fieldErr("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object "+obj.Name)}}
	}
	fields := writeInput{}
	for k, v := range in {
		if !strings.EqualFold(k, "id") || op == "upsert" && key.field.Type != "id" {
			fields[k] = v
		}
	}
	switch op {
	case "create":
		if _, has := idOf(in); has {
			return saveOutcome{errs: []*apiError{fieldErr("INVALID_FIELD", "cannot specify Id in an insert call", "Id")}}
		}
		id, errs := c.org.insertLocked(t, tb, c.actor(), fields, c.now)
		return saveOutcome{id: id, errs: errs}
	case "update":
		raw, has := idOf(in)
		if !has {
			return saveOutcome{errs: []*apiError{fieldErr("MISSING_ARGUMENT", "Id not specified in an update call")}}
		}
		id, err := sfapi.ID18(raw)
		if err != nil || id[:3] != obj.KeyPrefix {
			return saveOutcome{errs: []*apiError{fieldErr("MALFORMED_ID", "malformed id "+raw)}}
		}
		if _, _, exists := tb.get(id); !exists {
			return saveOutcome{id: id, errs: []*apiError{fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")}}
		}
		return saveOutcome{id: id, errs: c.org.updateLocked(t, tb, c.actor(), id, fields, c.now, "")}
	}
	// upsert
	if obj != key.obj {
		return saveOutcome{errs: []*apiError{fieldErr("INVALID_TYPE", "Record type "+obj.Name+" does not match the URL's sObject "+key.obj.Name)}}
	}
	var value string
	if key.field.Type == "id" {
		value, _ = idOf(in)
	} else {
		for k, v := range in {
			if strings.EqualFold(k, key.field.Name) {
				value = fmt.Sprint(v)
			}
		}
		if value == "" {
			return saveOutcome{errs: []*apiError{fieldErr("MISSING_ARGUMENT", key.field.Name+" not specified", key.field.Name)}}
		}
		lk := uniqKey(key.field, value)
		if seen[lk] {
			return saveOutcome{errs: []*apiError{fieldErr("DUPLICATE_EXTERNAL_ID", "Duplicate external id specified: "+value, key.field.Name)}}
		}
		seen[lk] = true
	}
	if key.field.Type == "id" && value != "" {
		id, err := sfapi.ID18(value)
		if err != nil {
			return saveOutcome{errs: []*apiError{fieldErr("MALFORMED_ID", "malformed id "+value)}}
		}
		value = id
	}
	u := c.upsertLocked(t, obj, key.field, value, fields)
	if u.multiple != nil {
		ids := make([]string, len(u.multiple))
		for k, r := range u.multiple {
			ids[k] = r.id
		}
		return saveOutcome{errs: []*apiError{fieldErr("DUPLICATE_EXTERNAL_ID", obj.Name+": more than one record found for external id field: ["+strings.Join(ids, ", ")+"]", key.field.Name)}}
	}
	res := saveOutcome{id: u.id, errs: u.errs}
	if len(u.errs) == 0 {
		created := u.created
		res.created = &created
	}
	return res
}

// deleteOne moves the record with id raw to the Recycle Bin inside t, for
// sObject Collections and Bulk ingest deletes. It returns the 18-character
// id ("" when raw is malformed).
func (c *call) deleteOne(t *tx, raw string) (string, *apiError) {
	id, err := sfapi.ID18(raw)
	if err != nil {
		return "", fieldErr("MALFORMED_ID", "malformed id "+raw)
	}
	var tb *table
	for _, x := range c.org.tables {
		if x.obj.KeyPrefix == id[:3] {
			tb = x
		}
	}
	if tb == nil || !tb.obj.Deletable {
		return id, fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
	}
	if e := c.org.deleteLocked(t, tb, c.actor(), id, c.now); e != nil {
		if e.Code == "NOT_FOUND" {
			e = fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
		}
		return id, e
	}
	return id, nil
}

// collectionDelete answers DELETE /composite/sobjects?ids=...&allOrNone=.
func (s *Server) collectionDelete(w http.ResponseWriter, c *call) {
	q := c.r.URL.Query()
	var ids []string
	for _, id := range strings.Split(q.Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		writeErrors(w, []*apiError{plainErr(400, "MISSING_ARGUMENT", "ids parameter is required")})
		return
	}
	if len(ids) > maxCollection {
		writeErrors(w, []*apiError{plainErr(400, "EXCEEDED_ID_LIMIT", tooManyRecsText)})
		return
	}
	allOrNone := strings.EqualFold(q.Get("allOrNone"), "true")
	out := make([]*apiError, len(ids))
	norm := make([]string, len(ids))
	failed := false
	c.org.withTx(c.r.Context(), func(t *tx) {
		mark := len(t.undo)
		for i, raw := range ids {
			norm[i], out[i] = c.deleteOne(t, raw)
			if out[i] != nil {
				failed = true
			}
		}
		if allOrNone && failed {
			t.rollbackTo(mark)
		}
	})
	b := []byte{'['}
	for i := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		var errs []*apiError
		if out[i] != nil {
			errs = []*apiError{out[i]}
		}
		if allOrNone && failed && len(errs) == 0 {
			errs = []*apiError{rolledBack()}
		}
		b = append(b, saveResult(norm[i], errs, nil)...)
	}
	writeRaw(w, 200, append(b, ']'))
}

// collectionRetrieve answers GET/POST /composite/sobjects/{obj}.
func (s *Server) collectionRetrieve(w http.ResponseWriter, c *call, objName, method string) {
	obj, ok := c.org.object(objName)
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	var ids, fieldNames []string
	if method == http.MethodGet {
		q := c.r.URL.Query()
		ids = strings.Split(q.Get("ids"), ",")
		fieldNames = strings.Split(q.Get("fields"), ",")
	} else {
		var body struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if e := readJSON(c, &body); e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		ids, fieldNames = body.IDs, body.Fields
	}
	if len(ids) == 0 || (len(ids) == 1 && ids[0] == "") || len(fieldNames) == 0 || fieldNames[0] == "" {
		writeErrors(w, []*apiError{plainErr(400, "MISSING_ARGUMENT", "ids and fields are required")})
		return
	}
	if len(ids) > 2000 {
		writeErrors(w, []*apiError{plainErr(400, "EXCEEDED_ID_LIMIT", "Too many ids")})
		return
	}
	fields, e := selectFields(obj, strings.Join(fieldNames, ","))
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	b := []byte{'['}
	c.org.mu.RLock()
	t := c.org.tables[strings.ToLower(obj.Name)]
	for i, raw := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		id, err := sfapi.ID18(strings.TrimSpace(raw))
		r, _, ok := t.get(id)
		if err != nil || !ok || r.deleted() {
			b = append(b, "null"...)
			continue
		}
		b = c.appendRecord(b, obj, r, fields)
	}
	c.org.mu.RUnlock()
	writeRaw(w, 200, append(b, ']'))
}

type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

var (
	refIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)
	refUseRE = regexp.MustCompile(`@\{([A-Za-z0-9_]+)\.([^}]+)\}`)
)

// composite answers POST /composite.
func (s *Server) composite(w http.ResponseWriter, c *call) {
	var body struct {
		AllOrNone          bool         `json:"allOrNone"`
		CollateSubrequests bool         `json:"collateSubrequests"`
		CompositeRequest   []subrequest `json:"compositeRequest"`
	}
	if e := readJSON(c, &body); e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	subs := body.CompositeRequest
	if len(subs) == 0 {
		writeErrors(w, []*apiError{plainErr(400, "INVALID_API_INPUT", "compositeRequest is required")})
		return
	}
	if len(subs) > maxSubrequests {
		writeErrors(w, []*apiError{plainErr(400, "INVALID_API_INPUT", "Limit Exceeded: The number of subrequests in a composite request is limited to 25")})
		return
	}
	refs := map[string]bool{}
	for _, sr := range subs {
		if !refIDRE.MatchString(sr.ReferenceID) {
			writeErrors(w, []*apiError{plainErr(400, "INVALID_API_INPUT", "Invalid referenceId: "+sr.ReferenceID)})
			return
		}
		if refs[sr.ReferenceID] {
			writeErrors(w, []*apiError{plainErr(400, "INVALID_API_INPUT", "Duplicate ReferenceId provided in the request: "+sr.ReferenceID)})
			return
		}
		refs[sr.ReferenceID] = true
		if _, _, _, ok := parseVersion(strings.SplitN(sr.URL, "?", 2)[0]); !ok {
			writeErrors(w, []*apiError{plainErr(400, "INVALID_API_INPUT", "The url must start with /services/data/vXX.X/: "+sr.URL)})
			return
		}
		for h := range sr.HTTPHeaders {
			switch strings.ToLower(h) {
			case "accept", "authorization", "content-type":
				writeErrors(w, []*apiError{plainErr(400, "INVALID_API_INPUT", "The httpHeaders may not set "+h)})
				return
			}
		}
	}
	ctx := c.r.Context()
	var t *tx
	if body.AllOrNone {
		c.org.txMu.Lock()
		defer c.org.txMu.Unlock()
		t = &tx{}
		ctx = context.WithValue(ctx, txKey{}, &ctxTx{org: c.org, tx: t})
		defer func() { // publish the change events of a committed composite (cdc.go)
			c.org.mu.Lock()
			c.org.publishLocked(t)
			c.org.mu.Unlock()
		}()
	}
	type subResult struct {
		status  int
		body    json.RawMessage
		headers map[string]string
		parsed  any
		failed  bool
	}
	results := make([]*subResult, len(subs))
	halted := -1
	for i, sr := range subs {
		if halted >= 0 {
			break
		}
		url, err1 := s.resolveRefs(sr.URL, subs[:i], func(j int) (any, bool) { return results[j].parsed, !results[j].failed }, true)
		payload := string(sr.Body)
		var err2 error
		if len(sr.Body) > 0 && string(sr.Body) != "null" {
			payload, err2 = s.resolveRefs(payload, subs[:i], func(j int) (any, bool) { return results[j].parsed, !results[j].failed }, false)
		}
		if err1 != nil || err2 != nil {
			msg := err1
			if msg == nil {
				msg = err2
			}
			results[i] = &subResult{status: 400, body: json.RawMessage(errorBody([]*apiError{plainErr(400, "PROCESSING_HALTED", msg.Error())}, false)), failed: true}
			if body.AllOrNone {
				halted = i
			}
			continue
		}
		var rdr *bytes.Reader
		if len(sr.Body) > 0 && string(sr.Body) != "null" {
			rdr = bytes.NewReader([]byte(payload))
		} else {
			rdr = bytes.NewReader(nil)
		}
		req, err := http.NewRequestWithContext(ctx, strings.ToUpper(sr.Method), url, rdr)
		if err != nil {
			results[i] = &subResult{status: 400, body: json.RawMessage(errorBody([]*apiError{plainErr(400, "INVALID_API_INPUT", "invalid url: "+sr.URL)}, false)), failed: true}
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		for _, h := range []string{"Sforce-Call-Options", "Sforce-Query-Options", "Sforce-Auto-Assign", "Sforce-Duplicate-Rule-Header"} {
			if v := c.r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
		for k, v := range sr.HTTPHeaders {
			req.Header.Set(k, v)
		}
		rec := newRecorder()
		s.serveREST(rec, req, c)
		res := &subResult{status: rec.status, headers: map[string]string{}}
		if res.status == 0 {
			res.status = 200
		}
		if loc := rec.header.Get("Location"); loc != "" {
			res.headers["Location"] = loc
		}
		if rec.body.Len() > 0 {
			res.body = json.RawMessage(bytes.Clone(rec.body.Bytes()))
			d := json.NewDecoder(bytes.NewReader(res.body))
			d.UseNumber()
			_ = d.Decode(&res.parsed)
		}
		res.failed = res.status >= 400
		results[i] = res
		if res.failed && body.AllOrNone {
			halted = i
		}
	}
	if body.AllOrNone && halted >= 0 {
		c.org.mu.Lock()
		t.rollback()
		c.org.mu.Unlock()
	}
	out := make([]any, len(subs))
	for i, sr := range subs {
		r := results[i]
		if halted >= 0 && i != halted {
			r = &subResult{status: 400, body: json.RawMessage(`[{"errorCode":"PROCESSING_HALTED","message":"` + processingHalt + `"}]`)}
		}
		var hdr any = map[string]string{}
		if len(r.headers) > 0 {
			hdr = r.headers
		}
		var b any = r.body
		if r.body == nil {
			b = nil
		}
		out[i] = orderedJSON{{"body", b}, {"httpHeaders", hdr}, {"httpStatusCode", r.status}, {"referenceId", sr.ReferenceID}}
	}
	writeRaw(w, 200, orderedJSON{{"compositeResponse", out}}.marshal())
}

// resolveRefs replaces @{ref.path} with values from earlier subrequests.
func (s *Server) resolveRefs(text string, earlier []subrequest, result func(int) (any, bool), inURL bool) (string, error) {
	var firstErr error
	out := refUseRE.ReplaceAllStringFunc(text, func(m string) string {
		parts := refUseRE.FindStringSubmatch(m)
		ref, path := parts[1], parts[2]
		idx := -1
		for j, e := range earlier {
			if e.ReferenceID == ref {
				idx = j
			}
		}
		fail := func() string {
			if firstErr == nil {
				firstErr = fmt.Errorf("Invalid reference specified. No value for %s found in %s. Provided referenceId ('%s') refers to a subrequest that failed or was not processed", path, ref, ref)
			}
			return m
		}
		if idx < 0 {
			return fail()
		}
		v, ok := result(idx)
		if !ok {
			return fail()
		}
		val, ok := walkPath(v, path)
		if !ok {
			return fail()
		}
		var str string
		switch x := val.(type) {
		case string:
			str = x
		case json.Number:
			str = x.String()
		default:
			str = fmt.Sprint(x)
		}
		if inURL {
			return str
		}
		enc, _ := json.Marshal(str)
		return string(enc[1 : len(enc)-1])
	})
	return out, firstErr
}

var pathPartRE = regexp.MustCompile(`^([A-Za-z0-9_]+)(?:\[(\d+)\])?$`)

func walkPath(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		m := pathPartRE.FindStringSubmatch(part)
		if m == nil {
			return nil, false
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = obj[m[1]]
		if !ok {
			return nil, false
		}
		if m[2] != "" {
			arr, ok := v.([]any)
			n, _ := strconv.Atoi(m[2])
			if !ok || n >= len(arr) {
				return nil, false
			}
			v = arr[n]
		}
	}
	return v, v != nil
}
