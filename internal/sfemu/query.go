package sfemu

import (
	"cmp"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/soql"
)

// maxCursorsPerUser is Salesforce's limit of open query cursors per user;
// opening one more closes the least recently used.
const maxCursorsPerUser = 10

// cursor is a query result snapshot that nextRecordsUrl pages through.
type cursor struct {
	id       string
	userID   string
	obj      *objectDef
	fields   []*fieldDef
	rs       *relResolver // non-nil when relationship fields are selected
	recs     []*record    // the whole result, fixed at the first page
	all      bool         // queryAll
	batch    int
	lastUsed time.Time
}

func invalidLocator() *apiError {
	return plainErr(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
}

func soqlErr(err error) *apiError {
	var se *soql.Error
	if errors.As(err, &se) {
		return plainErr(400, se.Code, se.Message)
	}
	return plainErr(400, "MALFORMED_QUERY", err.Error())
}

// batchSize reads Sforce-Query-Options: batchSize=N (200..2000, default 2000).
func batchSize(r *http.Request) int {
	for _, part := range strings.FieldsFunc(r.Header.Get("Sforce-Query-Options"), func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 2000
			}
			return min(max(n, 200), 2000)
		}
	}
	return 2000
}

func (s *Server) handleQuery(w http.ResponseWriter, c *call, all bool, segs []string) {
	if len(segs) == 1 {
		b, e := s.queryPage(c, segs[0])
		if e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		writeRaw(w, 200, b)
		return
	}
	if len(segs) > 1 {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	src := c.r.URL.Query().Get("q")
	if strings.TrimSpace(src) == "" {
		writeErrors(w, []*apiError{plainErr(400, "MALFORMED_QUERY", "A query string has to be specified")})
		return
	}
	if c.r.URL.Query().Get("columns") == "true" {
		b, e := c.queryColumns(src)
		if e != nil {
			writeErrors(w, []*apiError{e})
			return
		}
		writeRaw(w, 200, b)
		return
	}
	b, e := s.runQuery(c, src, all, batchSize(c.r))
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	writeRaw(w, 200, b)
}

// result is a query evaluated over a snapshot of an org's rows.
type result struct {
	obj    *objectDef
	plan   *soql.Plan
	fields []*fieldDef
	recs   []*record
	rs     *relResolver // non-nil when the query uses relationship fields
}

// compiled is a parsed query bound to the org's schema.
type compiled struct {
	q      *soql.Query
	obj    *objectDef
	schema *soqlSchema
	plan   *soql.Plan
}

// compile parses a query and binds it to the org's objects.
func (c *call) compile(src string) (*compiled, *apiError) {
	q, err := soql.Parse(src)
	if err != nil {
		return nil, soqlErr(err)
	}
	obj, ok := c.org.object(q.Object)
	if !ok {
		return nil, soqlErr(q.UnknownObjectError())
	}
	c.org.mu.RLock()
	objects := make(map[string]*objectDef, len(c.org.objects))
	for k, v := range c.org.objects {
		objects[k] = v
	}
	c.org.mu.RUnlock()
	schema := &soqlSchema{obj: obj, objects: objects}
	plan, err := soql.Compile(q, schema, c.s.Now())
	if err != nil {
		return nil, soqlErr(err)
	}
	return &compiled{q: q, obj: obj, schema: schema, plan: plan}, nil
}

// evaluate parses, compiles and runs a query (without paging).
func (c *call) evaluate(src string, all bool) (*result, *apiError) {
	cq, e := c.compile(src)
	if e != nil {
		return nil, e
	}
	q, obj, schema, plan := cq.q, cq.obj, cq.schema, cq.plan
	res := &result{obj: obj, plan: plan}
	for _, fi := range plan.Fields {
		res.fields = append(res.fields, schema.fieldFor(fi))
	}
	// pdqsort with the creation order (ids sort by creation) as the final
	// key: as deterministic as a stable sort, without its O(n log² n) moves.
	less := func(a, b *record) int {
		if c := plan.Compare(a, b); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	}
	if obj.Name == "UserPermissionAccess" {
		c.org.mu.RLock()
		u, _ := c.org.userByID(c.user.ID)
		p := c.org.permissions(u)
		c.org.mu.RUnlock()
		f := func(n string) int { x, _ := obj.field(n); return x.index }
		r := newRecord("", map[int]any{f("PermissionsModifyAllData"): p.ModifyAllData, f("PermissionsCustomizeApplication"): p.CustomizeApplication,
			f("PermissionsViewSetup"): p.ViewSetup, f("PermissionsApiEnabled"): p.APIEnabled})
		if plan.Match(r) {
			res.recs = []*record{r}
		}
	} else {
		if all {
			c.org.mu.Lock()
			c.org.purgeLocked(c.s.Now())
			c.org.mu.Unlock()
		}
		// Rows are immutable versions: the pointers collected under the
		// read lock stay a consistent snapshot after it is released.
		c.org.mu.RLock()
		t := c.org.tables[strings.ToLower(obj.Name)]
		res.obj = t.obj
		size := 64
		if q.Where == nil {
			size = len(t.recs) // one allocation instead of repeated growth
		}
		out := make([]*record, 0, size)
		if schema.usedRel {
			// Parent rows are read through the tables, so matching and
			// sorting stay under the read lock.
			res.rs = &relResolver{obj: t.obj, tables: map[string]*table{}}
			for k, v := range c.org.tables {
				res.rs.tables[k] = v
			}
			w := &relRecord{rs: res.rs}
			for _, r := range t.recs {
				if r == nil || (!all && r.deletedAt != 0) {
					continue
				}
				if w.r = r; plan.Match(w) {
					out = append(out, r)
				}
			}
			if plan.Compare != nil {
				wa, wb := &relRecord{rs: res.rs}, &relRecord{rs: res.rs}
				slices.SortFunc(out, func(a, b *record) int {
					wa.r, wb.r = a, b
					if c := plan.Compare(wa, wb); c != 0 {
						return c
					}
					return strings.Compare(a.id, b.id)
				})
			}
		} else if q.Where == nil {
			// No filter: pick live rows from the gone flags without
			// touching the records themselves.
			for i, r := range t.recs {
				if r != nil && (all || !t.gone[i]) {
					out = append(out, r)
				}
			}
		} else if lo, ok := modstampFloor(q.Where, t.obj); ok {
			// SystemModstamp is indexed in Salesforce; here its flat column
			// rules rows out before Match reads them.
			for i, st := range t.stamps {
				if st < lo || t.recs[i] == nil || (!all && t.gone[i]) {
					continue
				}
				if r := t.recs[i]; plan.Match(r) {
					out = append(out, r)
				}
			}
		} else {
			for _, r := range t.recs {
				if r == nil || (!all && r.deletedAt != 0) {
					continue
				}
				if plan.Match(r) {
					out = append(out, r)
				}
			}
		}
		c.org.mu.RUnlock()
		res.recs = out
	}
	if plan.Compare != nil && res.rs == nil {
		if len(res.recs) < 4096 || len(plan.Order) > len(keyed{}.idx) {
			slices.SortFunc(res.recs, less)
		} else {
			res.recs = sortKeyed(res.recs, plan, schema)
		}
	}
	if plan.Grouped {
		// OFFSET and LIMIT count groups, not records (runQuery).
		return res, nil
	}
	if plan.Offset > 0 {
		res.recs = res.recs[min(plan.Offset, len(res.recs)):]
	}
	if plan.Limit >= 0 && plan.Limit < len(res.recs) {
		res.recs = res.recs[:plan.Limit]
	}
	return res, nil
}

// runQuery answers the first page of a query.
func (s *Server) runQuery(c *call, src string, all bool, batch int) ([]byte, *apiError) {
	res, e := c.evaluate(src, all)
	if e != nil {
		return nil, e
	}
	if res.plan.Count {
		b := []byte(`{"totalSize":`)
		b = strconv.AppendInt(b, int64(len(res.recs)), 10)
		return append(b, `,"done":true,"records":[]}`...), nil
	}
	if res.plan.Grouped {
		return c.aggregateAnswer(res)
	}
	cur := &cursor{userID: c.user.ID, obj: res.obj, fields: res.fields, rs: res.rs, recs: res.recs, all: all, batch: batch, lastUsed: s.Now()}
	if len(res.recs) > batch {
		cur.id = makeID("01g", c.org.seq, s.nextSeq())
		c.org.openCursor(cur)
	}
	return c.page(cur, 0, batch), nil
}

// aggregateAnswer renders an aggregate query's AggregateResult records.
// All of them come in one response with done true: Salesforce does not
// page aggregate results (no query locator for GROUP BY queries, see
// https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_group_by_considerations.htm)
// and refuses more than 2,000 of them (soql.Aggregator.Rows), whatever
// the batch size asked for.
func (c *call) aggregateAnswer(res *result) ([]byte, *apiError) {
	g := res.plan.NewAggregator()
	if res.rs != nil {
		// Parent rows are read through the tables, under the read lock.
		c.org.mu.RLock()
		w := &relRecord{rs: res.rs}
		for _, r := range res.recs {
			w.r = r
			g.Add(w)
		}
		c.org.mu.RUnlock()
	} else {
		for _, r := range res.recs {
			g.Add(r)
		}
	}
	rows, err := g.Rows()
	if err != nil {
		return nil, soqlErr(err)
	}
	types := make([]*fieldDef, len(res.plan.Columns))
	for i, col := range res.plan.Columns {
		types[i] = &fieldDef{Name: col.Name, Type: col.Type}
	}
	b := make([]byte, 0, 64+len(rows)*64)
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(len(rows)), 10)
	b = append(b, `,"done":true,"records":[`...)
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"attributes":{"type":"AggregateResult"}`...)
		for j, v := range row {
			b = append(b, ',')
			b = appendJSONString(b, types[j].Name)
			b = append(b, ':')
			if f, ok := v.(float64); ok && types[j].Type == "double" {
				b = appendJavaDouble(b, f)
				continue
			}
			b = appendValue(b, types[j], v)
		}
		b = append(b, '}')
	}
	return append(b, `]}`...), nil
}

// appendJavaDouble writes a SUM or AVG the way Salesforce's serializer
// writes a double: a whole number keeps ".0" ("expr0" : 300.0 in restforce's
// spec/fixtures/sobject/query_aggregate_success_response.json).
func appendJavaDouble(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

func (o *Org) openCursor(cur *cursor) {
	o.curMu.Lock()
	defer o.curMu.Unlock()
	var mine []*cursor
	for _, x := range o.cursors {
		if x.userID == cur.userID {
			mine = append(mine, x)
		}
	}
	if len(mine) >= maxCursorsPerUser {
		slices.SortFunc(mine, func(a, b *cursor) int { return a.lastUsed.Compare(b.lastUsed) })
		for _, x := range mine[:len(mine)-maxCursorsPerUser+1] {
			delete(o.cursors, x.id)
		}
	}
	o.cursors[cur.id] = cur
}

// page renders records [from, from+batch) of a cursor.
func (c *call) page(cur *cursor, from, batch int) []byte {
	if cur.rs != nil {
		c.org.mu.RLock()
		defer c.org.mu.RUnlock()
		c.rs = cur.rs
		defer func() { c.rs = nil }()
	}
	to := min(from+batch, len(cur.recs))
	b := make([]byte, 0, 64+(to-from)*256)
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(len(cur.recs)), 10)
	if to < len(cur.recs) {
		b = append(b, `,"done":false,"nextRecordsUrl":`...)
		res := "/query/"
		if cur.all {
			res = "/queryAll/"
		}
		b = appendJSONString(b, c.vpath()+res+cur.id+"-"+strconv.Itoa(to))
	} else {
		b = append(b, `,"done":true`...)
	}
	b = append(b, `,"records":[`...)
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = c.appendRecord(b, cur.obj, cur.recs[i], cur.fields)
	}
	return append(b, `]}`...)
}

// queryPage answers GET /query/{locator}-{offset}.
func (s *Server) queryPage(c *call, loc string) ([]byte, *apiError) {
	id, off, ok := strings.Cut(loc, "-")
	from, err := strconv.Atoi(off)
	if !ok || err != nil || from < 0 || len(id) < 15 {
		return nil, invalidLocator()
	}
	now := s.Now()
	c.org.curMu.Lock()
	cur := c.org.cursors[id]
	if cur != nil && (cur.userID != c.user.ID || now.Sub(cur.lastUsed) > s.opts.QueryLocatorLifetime) {
		delete(c.org.cursors, id)
		cur = nil
	}
	if cur != nil {
		cur.lastUsed = now
	}
	c.org.curMu.Unlock()
	if cur == nil || from > len(cur.recs) {
		return nil, invalidLocator()
	}
	batch := cur.batch
	if c.r.Header.Get("Sforce-Query-Options") != "" {
		batch = batchSize(c.r)
	}
	return c.page(cur, from, batch), nil
}

// keyed is a row with its ORDER BY values pulled out, so a large sort
// compares compact structs instead of chasing every row's field list.
type keyed struct {
	r    *record
	n    int
	idx  [4]int
	vals [4]any
}

func (k *keyed) Value(i int) any {
	for j := 0; j < k.n; j++ {
		if k.idx[j] == i {
			return k.vals[j]
		}
	}
	return k.r.Value(i)
}

// sortKeyed sorts rows by the plan's ORDER BY (creation order breaking
// ties), extracting the sort keys once. Keys of date, time, number,
// boolean and id fields are compared natively from columns, which keeps a
// sort of a few hundred thousand rows in cache; string keys go through the
// plan's comparator (its case folding is the engine's to define).
func sortKeyed(recs []*record, plan *soql.Plan, schema *soqlSchema) []*record {
	type column struct {
		kind  byte // 'i' int64, 'f' float64, 's' id string
		desc  bool
		nullA int // result when only the left value is null
		nulls []bool
		ints  []int64
		flts  []float64
		strs  []string
	}
	var idx [4]int
	cols := make([]column, 0, len(plan.Order))
	native := true
	for j, o := range plan.Order {
		fi, ok := schema.Field(o.Field)
		if !ok {
			slices.SortFunc(recs, func(a, b *record) int { return plan.Compare(a, b) })
			return recs
		}
		idx[j] = fi.Index
		c := column{desc: o.Desc, nullA: -1, nulls: make([]bool, len(recs))}
		if o.NullsLast {
			c.nullA = 1
		}
		switch fi.Type {
		case "datetime", "date", "boolean":
			c.kind, c.ints = 'i', make([]int64, len(recs))
		case "double", "currency", "percent", "int", "long":
			c.kind, c.flts = 'f', make([]float64, len(recs))
		case "id", "reference":
			c.kind, c.strs = 's', make([]string, len(recs))
		default:
			native = false
		}
		cols = append(cols, c)
	}
	order := make([]int32, len(recs))
	for i := range order {
		order[i] = int32(i)
	}
	if !native {
		ks := make([]keyed, len(recs))
		for i, r := range recs {
			k := &ks[i]
			k.r, k.n, k.idx = r, len(cols), idx
			for j := range cols {
				k.vals[j] = r.Value(idx[j])
			}
		}
		slices.SortFunc(order, func(a, b int32) int {
			if c := plan.Compare(&ks[a], &ks[b]); c != 0 {
				return c
			}
			return strings.Compare(ks[a].r.id, ks[b].r.id)
		})
	} else {
		for i, r := range recs {
			for j := range cols {
				c := &cols[j]
				switch v := r.Value(idx[j]).(type) {
				case nil:
					c.nulls[i] = true
				case time.Time:
					c.ints[i] = v.UnixNano()
				case bool:
					if v {
						c.ints[i] = 1
					}
				case float64:
					c.flts[i] = v
				case string:
					if c.kind == 's' {
						c.strs[i] = v
					} else {
						c.nulls[i] = true
					}
				}
			}
		}
		slices.SortFunc(order, func(a, b int32) int {
			for j := range cols {
				c := &cols[j]
				na, nb := c.nulls[a], c.nulls[b]
				if na || nb {
					switch {
					case na && nb:
						continue
					case na:
						return c.nullA
					default:
						return -c.nullA
					}
				}
				var r int
				switch c.kind {
				case 'i':
					r = cmp.Compare(c.ints[a], c.ints[b])
				case 'f':
					r = cmp.Compare(c.flts[a], c.flts[b])
				default:
					r = strings.Compare(c.strs[a], c.strs[b])
				}
				if c.desc {
					r = -r
				}
				if r != 0 {
					return r
				}
			}
			return strings.Compare(recs[a].id, recs[b].id)
		})
	}
	out := make([]*record, len(recs))
	for i, j := range order {
		out[i] = recs[j]
	}
	return out
}

// modstampFloor finds a lower bound on SystemModstamp implied by a WHERE
// clause: a top-level (or AND-ed) `SystemModstamp > t` or `>= t` with a
// dateTime literal. Rows below it cannot match. It returns Unix nanoseconds.
func modstampFloor(e soql.Expr, obj *objectDef) (int64, bool) {
	switch x := e.(type) {
	case *soql.Comparison:
		if !strings.EqualFold(x.Field, "SystemModstamp") || x.Value.Kind != soql.KindDateTime || obj.modstampIdx < 0 {
			return 0, false
		}
		switch x.Op {
		case soql.OpGe:
			return x.Value.Time.UnixNano(), true
		case soql.OpGt:
			return x.Value.Time.UnixNano() + 1, true
		}
	case *soql.Logic:
		if x.Or {
			return 0, false
		}
		best, found := int64(math.MinInt64), false
		for _, term := range x.Terms {
			if lo, ok := modstampFloor(term, obj); ok {
				best, found = max(best, lo), true
			}
		}
		return best, found
	}
	return 0, false
}
