package sfemu

import (
	"net/http"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

func (o *Org) object(name string) (*objectDef, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	obj, ok := o.objects[strings.ToLower(name)]
	return obj, ok
}

// objectOrder is the Describe Global order.
var objectOrder = []string{"account", "assignmentrule", "contact", "lead", "organization", "permissionset", "permissionsetassignment", "profile",
	"recordtype", "user", "userpermissionaccess"}

func (s *Server) handleSObjects(w http.ResponseWriter, c *call, method string, segs []string) {
	if len(segs) == 0 {
		if method != http.MethodGet {
			methodNotAllowed(w, method, "GET,HEAD")
			return
		}
		s.describeGlobal(w, c)
		return
	}
	obj, ok := c.org.object(segs[0])
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	switch len(segs) {
	case 1:
		switch method {
		case http.MethodGet:
			writeRaw(w, 200, orderedJSON{{"objectDescribe", globalEntry(c, obj)}, {"recentItems", []any{}}}.marshal())
		case http.MethodPost:
			s.createOne(w, c, obj)
		default:
			methodNotAllowed(w, method, "GET,HEAD,POST")
		}
		return
	case 2:
		switch segs[1] {
		case "describe":
			if method != http.MethodGet {
				methodNotAllowed(w, method, "GET,HEAD")
				return
			}
			c.org.mu.RLock()
			changed := c.org.schemaAt
			c.org.mu.RUnlock()
			w.Header().Set("Last-Modified", changed.UTC().Format(http.TimeFormat))
			if ims, err := http.ParseTime(c.r.Header.Get("If-Modified-Since")); err == nil && !changed.After(ims) {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			writeJSON(w, 200, describeObject(c, obj))
			return
		case "updated", "deleted":
			if method != http.MethodGet {
				methodNotAllowed(w, method, "GET,HEAD")
				return
			}
			s.handleReplication(w, c, obj, segs[1] == "deleted")
			return
		}
		if strings.EqualFold(segs[1], "Id") && method == http.MethodPost {
			s.createOne(w, c, obj)
			return
		}
		s.recordByID(w, c, obj, method, segs[1])
	case 3:
		if segs[1] == "describe" {
			writeErrors(w, []*apiError{errNotFound()})
			return
		}
		s.byExternalID(w, c, obj, method, segs[1], segs[2])
	default:
		writeErrors(w, []*apiError{errNotFound()})
	}
}

func readOnly(w http.ResponseWriter, obj *objectDef) {
	writeErrors(w, []*apiError{plainErr(403, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object "+obj.Name)})
}

// createOne answers POST /sobjects/{obj}/.
func (s *Server) createOne(w http.ResponseWriter, c *call, obj *objectDef) {
	if !obj.Createable {
		readOnly(w, obj)
		return
	}
	var in writeInput
	if e := readJSON(c, &in); e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	if in == nil {
		writeErrors(w, []*apiError{plainErr(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")})
		return
	}
	id, errs := c.insert(obj, in)
	if len(errs) > 0 {
		writeErrors(w, errs)
		return
	}
	w.Header().Set("Location", c.vpath()+"/sobjects/"+obj.Name+"/"+id)
	writeRaw(w, http.StatusCreated, saveResult(id, nil, nil))
}

func (c *call) insert(obj *objectDef, in writeInput) (string, []*apiError) {
	var id string
	var errs []*apiError
	c.org.withTx(c.r.Context(), func(t *tx) {
		id, errs = c.org.insertLocked(t, c.org.tables[strings.ToLower(obj.Name)], c.actor(), in, c.now)
	})
	return id, errs
}

func (c *call) update(obj *objectDef, id string, in writeInput, skip string) []*apiError {
	var errs []*apiError
	c.org.withTx(c.r.Context(), func(t *tx) {
		errs = c.org.updateLocked(t, c.org.tables[strings.ToLower(obj.Name)], c.actor(), id, in, c.now, skip)
	})
	return errs
}

func (c *call) delete(obj *objectDef, id string) *apiError {
	var err *apiError
	c.org.withTx(c.r.Context(), func(t *tx) {
		err = c.org.deleteLocked(t, c.org.tables[strings.ToLower(obj.Name)], c.actor(), id, c.now)
	})
	return err
}

// saveResult renders {"id":...,"success":...,"errors":[...]} and, when
// created is non-nil, "created".
func saveResult(id string, errs []*apiError, created *bool) []byte {
	b := []byte{'{'}
	if id != "" {
		b = append(b, `"id":`...)
		b = appendJSONString(b, id)
		b = append(b, ',')
	}
	if len(errs) == 0 {
		b = append(b, `"success":true,"errors":[]`...)
	} else {
		b = append(b, `"success":false,"errors":[`...)
		for i, e := range errs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendError(b, e, true)
		}
		b = append(b, ']')
	}
	if created != nil {
		if *created {
			b = append(b, `,"created":true`...)
		} else {
			b = append(b, `,"created":false`...)
		}
	}
	return append(b, '}')
}

// checkID validates a record id in a URL for obj.
func checkID(obj *objectDef, id string) (string, *apiError) {
	id18, err := sfapi.ID18(id)
	if err != nil {
		return "", errNotFound()
	}
	if obj.KeyPrefix != "" && id18[:3] != obj.KeyPrefix {
		return "", &apiError{Status: 400, Code: "MALFORMED_ID", Message: obj.Label + " ID: id value of incorrect type: " + id, Fields: []string{"Id"}}
	}
	return id18, nil
}

func (s *Server) recordByID(w http.ResponseWriter, c *call, obj *objectDef, method, rawID string) {
	id, e := checkID(obj, rawID)
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		s.getRecord(w, c, obj, id)
	case http.MethodPatch:
		if !obj.Updateable {
			readOnly(w, obj)
			return
		}
		var in writeInput
		if e := readJSON(c, &in); e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		if errs := c.update(obj, id, in, ""); len(errs) > 0 {
			writeErrors(w, errs)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		if !obj.Deletable {
			readOnly(w, obj)
			return
		}
		if e := c.delete(obj, id); e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, method, "GET,HEAD,PATCH,DELETE")
	}
}

func invalidColumn(obj *objectDef, name string) *apiError {
	return plainErr(400, "INVALID_FIELD", "No such column '"+name+"' on entity '"+obj.Name+"'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.")
}

// selectFields resolves the fields= parameter (all visible fields when empty).
func selectFields(obj *objectDef, list string) ([]*fieldDef, *apiError) {
	if strings.TrimSpace(list) == "" {
		var out []*fieldDef
		for _, f := range obj.fields {
			if !f.Hidden {
				out = append(out, f)
			}
		}
		return out, nil
	}
	var out []*fieldDef
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		f, ok := obj.field(n)
		if !ok || f.Hidden {
			return nil, invalidColumn(obj, n)
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *Server) getRecord(w http.ResponseWriter, c *call, obj *objectDef, id string) {
	fields, e := selectFields(obj, c.r.URL.Query().Get("fields"))
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	c.org.mu.RLock()
	r, _, ok := c.org.tables[strings.ToLower(obj.Name)].get(id)
	c.org.mu.RUnlock()
	if !ok || r.deleted() {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	if obj.modifiedIdx >= 0 {
		if t, ok := r.Value(obj.modifiedIdx).(time.Time); ok {
			w.Header().Set("Last-Modified", t.UTC().Format(http.TimeFormat))
		}
	}
	writeRaw(w, 200, c.appendRecord(nil, obj, r, fields))
}

// externalField resolves an upsert key: Id, a custom externalId field or
// a standard idLookup field.
func externalField(obj *objectDef, name string) (*fieldDef, *apiError) {
	f, ok := obj.field(name)
	if !ok || f.Hidden || !(f.ExternalID || (f.IDLookup && !f.Custom)) {
		return nil, plainErr(404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+name)
	}
	return f, nil
}

// matchExternal finds live records whose field equals value (case-
// insensitively unless the field is case-sensitive). Locked (read).
func (o *Org) matchExternal(t *table, f *fieldDef, value string) []*record {
	if f.Type == "id" {
		if r, _, ok := t.get(value); ok && !r.deleted() {
			return []*record{r}
		}
		return nil
	}
	if idx, ok := t.uniq[f.index]; ok {
		if p, ok := idx[uniqKey(f, value)]; ok && t.recs[p] != nil && !t.recs[p].deleted() {
			return []*record{t.recs[p]}
		}
		return nil
	}
	var out []*record
	for _, r := range t.recs {
		if r == nil || r.deleted() {
			continue
		}
		v, ok := r.Value(f.index).(string)
		if ok && (v == value || (!f.CaseSensitive && strings.EqualFold(v, value))) {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) byExternalID(w http.ResponseWriter, c *call, obj *objectDef, method, fieldName, value string) {
	f, e := externalField(obj, fieldName)
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	if f.Type == "id" {
		id, e := checkID(obj, value)
		if e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		value = id
	}
	t := c.org.tables[strings.ToLower(obj.Name)]
	switch method {
	case http.MethodGet, http.MethodDelete:
		c.org.mu.RLock()
		matches := c.org.matchExternal(t, f, value)
		c.org.mu.RUnlock()
		switch {
		case len(matches) == 0:
			writeErrors(w, []*apiError{errNotFound()})
		case len(matches) > 1:
			multipleChoices(w, c, obj, matches)
		case method == http.MethodGet:
			s.getRecord(w, c, obj, matches[0].id)
		default:
			if e := c.delete(obj, matches[0].id); e != nil {
				writeErrors(w, []*apiError{e})
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case http.MethodPatch, http.MethodPost:
		if !obj.Updateable {
			readOnly(w, obj)
			return
		}
		var in writeInput
		if e := readJSON(c, &in); e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		res := c.upsert(obj, f, value, in)
		switch {
		case res.multiple != nil:
			multipleChoices(w, c, obj, res.multiple)
		case len(res.errs) > 0:
			writeErrors(w, res.errs)
		case res.created:
			w.Header().Set("Location", c.vpath()+"/sobjects/"+obj.Name+"/"+res.id)
			yes := true
			writeRaw(w, http.StatusCreated, saveResult(res.id, nil, &yes))
		case c.vnum <= 45:
			w.WriteHeader(http.StatusNoContent)
		default:
			no := false
			writeRaw(w, http.StatusOK, saveResult(res.id, nil, &no))
		}
	default:
		methodNotAllowed(w, method, "GET,HEAD,PATCH,DELETE")
	}
}

func multipleChoices(w http.ResponseWriter, c *call, obj *objectDef, recs []*record) {
	urls := make([]string, len(recs))
	for i, r := range recs {
		urls[i] = c.vpath() + "/sobjects/" + obj.Name + "/" + r.id
	}
	writeJSON(w, http.StatusMultipleChoices, urls)
}

type upsertResult struct {
	id       string
	created  bool
	errs     []*apiError
	multiple []*record
}

// upsert inserts or updates by an external id value, in the caller's
// transaction when there is one.
func (c *call) upsert(obj *objectDef, f *fieldDef, value string, in writeInput) upsertResult {
	var res upsertResult
	c.org.withTx(c.r.Context(), func(t *tx) {
		res = c.upsertLocked(t, obj, f, value, in)
	})
	return res
}

func (c *call) upsertLocked(t *tx, obj *objectDef, f *fieldDef, value string, in writeInput) upsertResult {
	tb := c.org.tables[strings.ToLower(obj.Name)]
	for k, v := range in {
		if strings.EqualFold(k, f.Name) {
			if s, ok := v.(string); !ok || !strings.EqualFold(s, value) {
				return upsertResult{errs: []*apiError{fieldErr("INVALID_FIELD", "The value of the external ID field in the request body does not match the value in the URL", f.Name)}}
			}
		}
	}
	if f.Type == "id" && value == "" {
		id, errs := c.org.insertLocked(t, tb, c.actor(), in, c.now)
		return upsertResult{id: id, created: len(errs) == 0, errs: errs}
	}
	matches := c.org.matchExternal(tb, f, value)
	switch len(matches) {
	case 0:
		if f.Type == "id" || c.r.URL.Query().Get("updateOnly") == "true" {
			return upsertResult{errs: []*apiError{errNotFound()}}
		}
		body := writeInput{}
		for k, v := range in {
			if !strings.EqualFold(k, f.Name) {
				body[k] = v
			}
		}
		body[f.Name] = value
		id, errs := c.org.insertLocked(t, tb, c.actor(), body, c.now)
		return upsertResult{id: id, created: len(errs) == 0, errs: errs}
	case 1:
		errs := c.org.updateLocked(t, tb, c.actor(), matches[0].id, in, c.now, f.Name)
		return upsertResult{id: matches[0].id, errs: errs}
	default:
		return upsertResult{multiple: matches}
	}
}

// handleRecordCount answers GET /limits/recordCount?sObjects=Contact,...
func (s *Server) handleRecordCount(w http.ResponseWriter, c *call) {
	type count struct {
		Count int    `json:"count"`
		Name  string `json:"name"`
	}
	out := []count{}
	want := c.r.URL.Query().Get("sObjects")
	c.org.mu.RLock()
	for _, key := range objectOrder {
		t := c.org.tables[key]
		if want != "" && !containsFold(strings.Split(want, ","), t.obj.Name) {
			continue
		}
		n := 0
		for _, r := range t.recs {
			if r != nil && !r.deleted() {
				n++
			}
		}
		if n > 0 {
			out = append(out, count{n, t.obj.Name})
		}
	}
	c.org.mu.RUnlock()
	writeRaw(w, 200, orderedJSON{{"sObjects", out}}.marshal())
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}
