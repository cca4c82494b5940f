package sfemu

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// maxBody bounds request bodies (Salesforce allows about 50 MB for REST).
const maxBody = 50 << 20

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if strings.HasPrefix(r.URL.Path, "//") {
		// Salesforce answers //services/data/... as /services/data/...:
		// `sf org login access-token` stores the instance URL with a
		// trailing slash (URL.href) and its jsforce joins it to
		// "services/data" with another, so every REST call the sf CLI
		// makes after such a login starts with a doubled slash, and they
		// work against real orgs. An empty segment further in stays a
		// 404 (hasEmptySegment).
		r.URL.Path = "/" + strings.TrimLeft(r.URL.Path, "/")
		if r.URL.RawPath != "" {
			r.URL.RawPath = "/" + strings.TrimLeft(r.URL.RawPath, "/")
		}
	}
	if strings.HasPrefix(r.URL.Path, "/__emulator__/") {
		s.serveAdmin(w, r)
		return
	}
	if status := requestTooLarge(r); status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w, answered := s.applyFaults(w, r)
	if answered {
		s.logger.Debug("fault injected", "method", r.Method, "path", r.URL.Path)
		return
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeErrors(w, []*apiError{plainErr(400, "JSON_PARSER_ERROR", "Invalid gzip request body")})
			return
		}
		r.Body = io.NopCloser(zr)
		r.Header.Del("Content-Encoding")
	}
	limit := int64(maxBody)
	if r.Method == http.MethodPut && strings.HasSuffix(strings.TrimRight(r.URL.Path, "/"), "/batches") {
		limit = s.maxIngestRequest() // Bulk API 2.0 job data
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.Close()
		w = gw
	}
	s.route(w, r)
	s.logger.Debug("request", "method", r.Method, "path", r.URL.Path, "elapsed", time.Since(start))
}

// maxURIAndHeaders is Salesforce's limit on the request line plus headers.
const maxURIAndHeaders = 16384

// requestTooLarge answers 414 for a request URI over the limit and 431
// when URI and headers together are, as Salesforce's edge does.
func requestTooLarge(r *http.Request) int {
	n := len(r.RequestURI)
	if n > maxURIAndHeaders {
		return http.StatusRequestURITooLong
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	if n > maxURIAndHeaders {
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return 0
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/services/oauth2/authorize":
		s.handleAuthorize(w, r)
	case p == "/services/oauth2/token":
		s.handleToken(w, r)
	case p == "/services/oauth2/revoke":
		s.handleRevoke(w, r)
	case p == "/services/oauth2/userinfo":
		s.handleUserinfo(w, r)
	case p == "/services/oauth2/introspect":
		s.handleIntrospect(w, r)
	case p == "/id/keys":
		s.handleKeys(w, r)
	case strings.HasPrefix(p, "/id/"):
		s.handleIdentity(w, r)
	case p == "/.well-known/openid-configuration":
		s.handleOpenIDConfig(w, r)
	case p == "/services/data" || p == "/services/data/":
		s.handleVersions(w, r)
	case strings.HasPrefix(p, "/services/data/"):
		s.serveREST(w, r, nil)
	default:
		writeErrors(w, []*apiError{errNotFound()})
	}
}

// call is one authenticated REST request.
type call struct {
	s       *Server
	r       *http.Request
	org     *Org
	user    User
	tok     *token
	version string // "62.0"
	vnum    int
	path    string // after /services/data/vXX.X, e.g. "/sobjects/Contact"
	segs    []string
	client  string
	inner   bool   // a composite subrequest
	api     string // the API a write goes through for the change history; "rest" when empty
	now     time.Time
	rs      *relResolver // set while rendering relationship fields
}

func (c *call) actor() actor {
	api := c.api
	if api == "" {
		api = "rest"
	}
	a := actor{userID: c.user.ID, api: api, version: c.version, client: c.client}
	if c.r != nil {
		a.assign = strings.TrimSpace(c.r.Header.Get("Sforce-Auto-Assign"))
		a.allowDupSave = duplicateAllowSave(c.r.Header.Get("Sforce-Duplicate-Rule-Header"))
	}
	return a
}

func (c *call) vpath() string { return "/services/data/v" + c.version }

// parseVersion splits "/services/data/v62.0/rest" into 62, "62.0", "/rest".
func parseVersion(p string) (int, string, string, bool) {
	rest := strings.TrimPrefix(p, "/services/data/")
	seg, tail, _ := strings.Cut(rest, "/")
	tail = "/" + tail
	if !strings.HasPrefix(seg, "v") || !strings.HasSuffix(seg, ".0") {
		return 0, "", "", false
	}
	n, err := strconv.Atoi(seg[1 : len(seg)-2])
	if err != nil || n < sfapi.MinVersion || n > sfapi.MaxVersion {
		return 0, "", "", false
	}
	return n, seg[1:], tail, true
}

// authenticate finds the live access token of a request.
func (s *Server) authenticate(r *http.Request) (*token, bool) {
	h := r.Header.Get("Authorization")
	var v string
	switch {
	case strings.HasPrefix(h, "Bearer "):
		v = strings.TrimSpace(h[len("Bearer "):])
	case strings.HasPrefix(h, "OAuth "):
		v = strings.TrimSpace(h[len("OAuth "):])
	default:
		v = r.URL.Query().Get("oauth_token")
	}
	if v == "" {
		return nil, false
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[v]
	if !ok || t.refresh || t.revoked || !now.Before(t.expires) {
		return nil, false
	}
	return t, true
}

func invalidSession(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Token`)
	writeErrors(w, []*apiError{plainErr(401, "INVALID_SESSION_ID", "Session expired or invalid")})
}

// serveREST answers /services/data/vXX.X/...; parent is set for composite
// subrequests, which are neither authenticated nor counted again.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, parent *call) {
	vnum, version, tail, ok := parseVersion(r.URL.EscapedPath())
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	c := &call{s: s, r: r, version: version, vnum: vnum, path: tail, client: callClient(r.Header.Get("Sforce-Call-Options")), now: s.Now().Truncate(time.Second)}
	if parent != nil {
		c.org, c.user, c.tok, c.inner = parent.org, parent.user, parent.tok, true
		if c.client == "" {
			c.client = parent.client
		}
	} else {
		tok, ok := s.authenticate(r)
		if !ok {
			invalidSession(w)
			return
		}
		c.tok, c.org = tok, tok.org
		u, ok := c.org.userByIDLocking(tok.userID)
		if !ok || !u.Active {
			invalidSession(w)
			return
		}
		c.user = u
		if !c.org.Edition().APIEnabled() {
			writeErrors(w, []*apiError{plainErr(403, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.")})
			return
		}
		c.org.mu.RLock()
		perms := c.org.permissions(&u)
		c.org.mu.RUnlock()
		if !perms.APIEnabled {
			writeErrors(w, []*apiError{plainErr(403, "API_CURRENTLY_DISABLED", "API is disabled for this User")})
			return
		}
		used, max, ok := c.org.usage.take(s.Now())
		w.Header().Set("Sforce-Limit-Info", limitInfo(used, max))
		if !ok {
			writeErrors(w, []*apiError{plainErr(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")})
			return
		}
	}
	if hasEmptySegment(c.path) {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	segs := strings.Split(strings.Trim(c.path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	c.segs = segs
	s.dispatch(w, c)
}

// hasEmptySegment reports whether a REST path has a doubled slash (an
// empty segment) anywhere but as one trailing slash. Salesforce answers
// 404 NOT_FOUND for such paths: restforce's get_updated sent
// /services/data/vXX.X//sobjects/... and got 404 until it dropped the
// extra slash (https://github.com/restforce/restforce/pull/366).
func hasEmptySegment(path string) bool {
	p := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
	return p != "" && strings.Contains("/"+p+"/", "//") || p == "" && len(path) > 1
}

func (s *Server) dispatch(w http.ResponseWriter, c *call) {
	segs := c.segs
	method := c.r.Method
	if method == http.MethodPost && c.r.URL.Query().Get("_HttpMethod") == "PATCH" {
		method = http.MethodPatch
	}
	if len(segs) == 0 {
		if method != http.MethodGet {
			methodNotAllowed(w, method, "GET,HEAD")
			return
		}
		s.handleResources(w, c)
		return
	}
	switch segs[0] {
	case "sobjects":
		s.handleSObjects(w, c, method, segs[1:])
	case "query", "queryAll":
		if method != http.MethodGet {
			methodNotAllowed(w, method, "GET,HEAD")
			return
		}
		s.handleQuery(w, c, segs[0] == "queryAll", segs[1:])
	case "composite":
		s.handleComposite(w, c, method, segs[1:])
	case "limits":
		if method != http.MethodGet {
			methodNotAllowed(w, method, "GET,HEAD")
			return
		}
		if len(segs) == 2 && segs[1] == "recordCount" {
			s.handleRecordCount(w, c)
			return
		}
		if len(segs) != 1 {
			writeErrors(w, []*apiError{errNotFound()})
			return
		}
		s.handleLimits(w, c)
	case "jobs":
		if len(segs) >= 2 && segs[1] == "query" {
			s.handleBulkQuery(w, c, method, segs[2:])
			return
		}
		if len(segs) >= 2 && segs[1] == "ingest" {
			s.handleBulkIngest(w, c, method, segs[2:])
			return
		}
		writeErrors(w, []*apiError{errNotFound()})
	default:
		writeErrors(w, []*apiError{errNotFound()})
	}
}

func methodNotAllowed(w http.ResponseWriter, method, allowed string) {
	w.Header().Set("Allow", allowed)
	writeErrors(w, []*apiError{plainErr(405, "METHOD_NOT_ALLOWED", fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", method, allowed))})
}

// callClient extracts client= from Sforce-Call-Options
// ("client=sfsync; defaultNamespace=x", older docs use a comma).
func callClient(h string) string {
	for _, part := range strings.FieldsFunc(h, func(r rune) bool { return r == ';' || r == ',' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "client") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// readBody reads a JSON request body; gzip was undone in ServeHTTP.
func readJSON(c *call, v any) *apiError {
	b, err := io.ReadAll(c.r.Body)
	if err != nil {
		return plainErr(400, "JSON_PARSER_ERROR", "Unable to read request body: "+err.Error())
	}
	return decodeJSON(b, v)
}

func decodeJSON(b []byte, v any) *apiError {
	if len(bytes.TrimSpace(b)) == 0 {
		return plainErr(400, "JSON_PARSER_ERROR", "The request body is either invalid or incomplete.")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		line, col := 1, 1
		var se *json.SyntaxError
		off := int64(len(b))
		if ok := asSyntax(err, &se); ok {
			off = se.Offset
		}
		for i := int64(0); i < off && i < int64(len(b)); i++ {
			if b[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return plainErr(400, "JSON_PARSER_ERROR", fmt.Sprintf("%s at [line:%d, column:%d]", jsonErrText(err), line, col))
	}
	return nil
}

func asSyntax(err error, se **json.SyntaxError) bool {
	s, ok := err.(*json.SyntaxError)
	if ok {
		*se = s
	}
	return ok
}

func jsonErrText(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return "Unexpected character: " + e.Error()
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("Cannot deserialize instance of %s from %s value", e.Type, e.Value)
	}
	return "Unexpected end-of-input"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`[{"message":"encoding failed","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErrors(w http.ResponseWriter, errs []*apiError) {
	writeRaw(w, errs[0].Status, []byte(errorBody(errs, false)))
}

// errorBody renders Salesforce's error array; statusCode selects the
// SaveResult spelling ("statusCode", always with "fields").
func errorBody(errs []*apiError, statusCode bool) string {
	b := []byte{'['}
	for i, e := range errs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendError(b, e, statusCode)
	}
	return string(append(b, ']'))
}

func appendError(b []byte, e *apiError, statusCode bool) []byte {
	if statusCode {
		b = append(b, `{"statusCode":`...)
		b = appendJSONString(b, e.Code)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, e.Message)
	} else if e.dup != nil {
		// Salesforce's order and spelling: duplicateResut, errorCode, message.
		b = append(b, `{"duplicateResut":`...)
		b = appendDuplicateResult(b, e.dup)
		b = append(b, `,"errorCode":`...)
		b = appendJSONString(b, e.Code)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, e.Message)
		return append(b, '}')
	} else {
		b = append(b, `{"message":`...)
		b = appendJSONString(b, e.Message)
		b = append(b, `,"errorCode":`...)
		b = appendJSONString(b, e.Code)
	}
	if !e.noFields || statusCode {
		b = append(b, `,"fields":[`...)
		for i, f := range e.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const sfDate = "2006-01-02"

func formatDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+0000") }

// appendValue appends a stored value as JSON for field f.
func appendValue(b []byte, f *fieldDef, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		if f.Type == "int" || f.Type == "long" {
			return strconv.AppendInt(b, int64(x), 10)
		}
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case time.Time:
		b = append(b, '"')
		if f.Type == "date" {
			b = x.AppendFormat(b, sfDate)
		} else {
			b = x.UTC().AppendFormat(b, "2006-01-02T15:04:05.000+0000")
		}
		return append(b, '"')
	}
	return appendJSONString(b, fmt.Sprint(v))
}

// appendRecord writes {"attributes":{...}, fields...}. Address fields are
// built from their components; dotted (relationship) fields are nested.
func (c *call) appendRecord(b []byte, obj *objectDef, r *record, fields []*fieldDef) []byte {
	b = append(b, `{"attributes":{"type":`...)
	b = appendJSONString(b, obj.Name)
	if obj.KeyPrefix != "" {
		b = append(b, `,"url":"/services/data/v`...)
		b = append(b, c.version...)
		b = append(b, "/sobjects/"...)
		b = append(b, obj.Name...)
		b = append(b, '/')
		b = append(b, r.id...)
		b = append(b, '"')
	}
	b = append(b, '}')
	var done map[string]bool
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if rel, _, dotted := strings.Cut(f.Name, "."); dotted {
			if done[rel] {
				continue
			}
			if done == nil {
				done = map[string]bool{}
			}
			done[rel] = true
			var group []*fieldDef
			for _, g := range fields[i:] {
				if strings.HasPrefix(g.Name, rel+".") {
					group = append(group, g)
				}
			}
			b = c.appendRelated(b, obj, r, rel, group)
			continue
		}
		b = append(b, ',')
		b = appendJSONString(b, f.Name)
		b = append(b, ':')
		if f.Type == "address" {
			b = appendAddress(b, obj, r, f.Name)
			continue
		}
		b = appendValue(b, f, r.Value(f.index))
	}
	return append(b, '}')
}

func (c *call) appendRelated(b []byte, obj *objectDef, r *record, rel string, fields []*fieldDef) []byte {
	b = append(b, ',')
	b = appendJSONString(b, rel)
	b = append(b, ':')
	var refID any
	var target string
	for _, f := range obj.fields {
		if f.Relationship == rel {
			refID, target = r.Value(f.index), f.ReferenceTo[0]
		}
	}
	if refID == nil {
		return append(b, "null"...)
	}
	if c.rs != nil {
		if t := c.rs.tables[strings.ToLower(target)]; t != nil {
			if _, _, ok := t.get(refID.(string)); !ok {
				return append(b, "null"...)
			}
		}
	}
	b = append(b, `{"attributes":{"type":`...)
	b = appendJSONString(b, target)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, c.vpath()+"/sobjects/"+target+"/"+refID.(string))
	b = append(b, '}')
	for _, f := range fields {
		b = append(b, ',')
		b = appendJSONString(b, strings.TrimPrefix(f.Name, rel+"."))
		b = append(b, ':')
		v := r.Value(f.index)
		if c.rs != nil {
			v = c.rs.value(r, f.index)
		}
		b = appendValue(b, f, v)
	}
	return append(b, '}')
}

// appendAddress renders a compound address from its component fields.
func appendAddress(b []byte, obj *objectDef, r *record, name string) []byte {
	prefix := strings.TrimSuffix(name, "Address")
	parts := []struct{ key, field string }{
		{"city", "City"}, {"country", "Country"}, {"geocodeAccuracy", "GeocodeAccuracy"}, {"latitude", "Latitude"},
		{"longitude", "Longitude"}, {"postalCode", "PostalCode"}, {"state", "State"}, {"street", "Street"},
	}
	any := false
	for _, p := range parts {
		if f, ok := obj.field(prefix + p.field); ok && r.Value(f.index) != nil {
			any = true
		}
	}
	if !any {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, p.key)
		b = append(b, ':')
		f, _ := obj.field(prefix + p.field)
		b = appendValue(b, f, r.Value(f.index))
	}
	return append(b, '}')
}

// gzipWriters are the compressors of gzipped answers, at gzip's fastest
// level and reused: at the default level, with a new writer (about 800 KB
// of state) for each answer, compressing a 1M-contact org's Bulk API
// results took most of the emulator's CPU and was the pace of a first
// sync's download (issue 14). Clients read any level alike.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// gzipWriter compresses the body when there is one; 204/304 answers and
// empty bodies go out untouched.
type gzipWriter struct {
	http.ResponseWriter
	status  int
	zw      *gzip.Writer
	started bool
}

func (g *gzipWriter) WriteHeader(status int) {
	if g.status == 0 {
		g.status = status
	}
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if g.status == 0 {
		g.status = 200
	}
	if !g.started {
		g.started = true
		if g.status == http.StatusNoContent || g.status == http.StatusNotModified {
			g.ResponseWriter.WriteHeader(g.status)
			return len(b), nil
		}
		g.Header().Set("Content-Encoding", "gzip")
		g.Header().Del("Content-Length")
		g.Header().Add("Vary", "Accept-Encoding")
		g.ResponseWriter.WriteHeader(g.status)
		g.zw = gzipWriters.Get().(*gzip.Writer)
		g.zw.Reset(g.ResponseWriter)
	}
	if g.zw == nil {
		return len(b), nil
	}
	return g.zw.Write(b)
}

func (g *gzipWriter) Flush() {
	if g.zw != nil {
		_ = g.zw.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (g *gzipWriter) Close() {
	if g.zw != nil {
		_ = g.zw.Close()
		g.zw.Reset(io.Discard) // drops the response writer
		gzipWriters.Put(g.zw)
		g.zw = nil
		return
	}
	if !g.started && g.status != 0 {
		g.ResponseWriter.WriteHeader(g.status)
	}
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// recorder captures a composite subrequest's answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder            { return &recorder{header: http.Header{}} }
func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// handleVersions answers GET /services/data/ (no authentication).
func (s *Server) handleVersions(w http.ResponseWriter, r *http.Request) {
	type version struct {
		Label   string `json:"label"`
		URL     string `json:"url"`
		Version string `json:"version"`
	}
	var out []version
	for v := sfapi.MinVersion; v <= sfapi.MaxVersion; v++ {
		out = append(out, version{Label: releaseName(v), URL: fmt.Sprintf("/services/data/v%d.0", v), Version: fmt.Sprintf("%d.0", v)})
	}
	writeJSON(w, 200, out)
}

// releaseName maps an API version to its release (§0.2): v62.0 is
// Winter '25, three releases a year.
func releaseName(v int) string {
	seasons := []string{"Winter", "Spring", "Summer"}
	k := v - 62 // Winter '25
	idx := ((k % 3) + 3) % 3
	year := 25 + (k-idx)/3
	return fmt.Sprintf("%s '%02d", seasons[idx], year)
}

// handleResources answers GET /services/data/vXX.X/.
func (s *Server) handleResources(w http.ResponseWriter, c *call) {
	v := c.vpath()
	out := map[string]string{
		"tooling": v + "/tooling", "metadata": v + "/metadata", "eclair": v + "/eclair", "folders": v + "/folders",
		"prechatForms": v + "/prechatForms", "contact-tracing": v + "/contact-tracing", "jobs": v + "/jobs",
		"tabs": v + "/tabs", "quickActions": v + "/quickActions", "queryAll": v + "/queryAll", "analytics": v + "/analytics",
		"search": v + "/search", "identity": s.base(c.r) + "/id/" + c.org.ID() + "/" + c.user.ID,
		"composite": v + "/composite", "parameterizedSearch": v + "/parameterizedSearch", "recent": v + "/recent",
		"process": v + "/process", "limits": v + "/limits", "query": v + "/query", "sobjects": v + "/sobjects",
		"actions": v + "/actions", "support": v + "/support", "ui-api": v + "/ui-api",
	}
	writeJSON(w, 200, out)
}

type kv struct {
	k string
	v any
}

// orderedJSON is a JSON object whose keys keep the given order.
type orderedJSON []kv

func (o orderedJSON) marshal() []byte {
	b := []byte{'{'}
	for i, p := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, p.k)
		b = append(b, ':')
		v, err := json.Marshal(p.v)
		if err != nil {
			v = []byte("null")
		}
		b = append(b, v...)
	}
	return append(b, '}')
}

func (o orderedJSON) MarshalJSON() ([]byte, error) { return o.marshal(), nil }

func maxAPIVersion() int { return sfapi.MaxVersion }
