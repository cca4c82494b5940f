package soql

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Aggregate queries (SELECT ... GROUP BY ... HAVING ...).
//
// Sources for the rules below:
//   - Aggregate functions, aliases (expr0, expr1, ... for unaliased
//     aggregates, counted in select order) and AggregateResult:
//     https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_agg_functions.htm
//     https://developer.salesforce.com/docs/atlas.en-us.apexcode.meta/apexcode/langCon_apex_SOQL_agg_fns.htm
//   - HAVING (aggregate calls and grouped fields; "SELECT Name, Count(Id)
//     FROM Account GROUP BY Name HAVING Count(Id) > 1" finds duplicates):
//     https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_having.htm
//   - GROUP BY takes groupable fields only, and a GROUP BY query cannot be
//     paged with queryMore or a REST query locator:
//     https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_group_by_considerations.htm
//   - The shape of an answer (attributes.type "AggregateResult", grouped
//     fields by name, null groups as null, expr0 for an unaliased SUM):
//     restforce spec/fixtures/sobject/query_aggregate_success_response.json
//     (https://github.com/restforce/restforce, MIT licence).
//   - Real error texts seen in client code and notes written against live
//     orgs: "Field must be grouped or aggregated: X", "field 'X' can not be
//     grouped in a query call", "field X does not support aggregate
//     operator COUNT" (MALFORMED_QUERY), and for a GROUP BY past 2,000 rows
//     "Aggregate query does not support queryMore(), use LIMIT to restrict
//     the results to a single batch".

// maxAggregateRows is the most AggregateResult records one query answers:
// aggregate queries cannot be paged, and past 2,000 groups Salesforce
// refuses the query rather than truncating it.
const maxAggregateRows = 2000

// aggregateQueryTooLarge is the error for more than maxAggregateRows
// groups. The text is Salesforce's; its errorCode is not recorded in any
// source found, and MALFORMED_QUERY is this package's choice.
const aggregateQueryTooLarge = "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single batch"

// grouped reports whether q is an aggregate query.
func (q *Query) grouped() bool {
	if len(q.GroupBy) > 0 || q.Having != nil {
		return true
	}
	for _, it := range q.Select {
		if it.Func != "" {
			return true
		}
	}
	for _, o := range q.OrderBy {
		if o.Func != "" {
			return true
		}
	}
	return false
}

// tokenAt returns the identifier-like word at a byte offset, for
// "unexpected token" errors built after parsing.
func tokenAt(src string, off int) string {
	end := off
	for end < len(src) && (isLetter(src[end]) || isDigit(src[end]) || src[end] == '_') {
		end++
	}
	if end == off {
		return "<EOF>"
	}
	return src[off:end]
}

// aggFunc is one aggregate function applied to a field, with its
// accumulator slot.
type aggFunc struct {
	fn    string
	field FieldInfo
	kind  fieldKind
}

// aggPlan is the compiled form of an aggregate query. A group row holds
// the GROUP BY values in slots [0, len(groups)) and the aggregate results
// in the slots after them; HAVING, ORDER BY and the columns read rows by
// slot.
type aggPlan struct {
	groups  []FieldInfo
	gkinds  []fieldKind
	aggs    []aggFunc
	slots   []FieldInfo // slot i as a field: Index i, the result's Type
	having  func(Record) bool
	compare func(a, b Record) int // ORDER BY, else the GROUP BY values ascending
	limit   int
	offset  int
}

func (a *aggPlan) groupSlot(fi FieldInfo) (int, bool) {
	for i, g := range a.groups {
		if strings.EqualFold(g.Name, fi.Name) {
			return i, true
		}
	}
	return 0, false
}

// aggregatable reports whether fn accepts a field of this kind.
func aggregatable(fn string, fi FieldInfo) bool {
	if !fi.Aggregatable {
		return false
	}
	switch k := kindOf(fi.Type); fn {
	case "SUM", "AVG":
		return k == kNumber
	case "MIN", "MAX":
		return k == kString || k == kID || k == kNumber || k == kDate || k == kDateTime
	}
	return true // COUNT, COUNT_DISTINCT
}

// aggSlot resolves an aggregate call to its slot, adding one when the
// call is new. The same call written twice (COUNT(Id) in SELECT and in
// HAVING) shares a slot.
func (a *aggPlan) aggSlot(c *compiler, fn string, fnPos Pos, path string, pos Pos) (int, *Error) {
	fi, err := c.field(path, pos)
	if err != nil {
		return 0, err
	}
	if !aggregatable(fn, fi) {
		return 0, posError(c.q.Source, fnPos.Offset, CodeMalformedQuery, "field "+fi.Name+" does not support aggregate operator "+fn)
	}
	for i, x := range a.aggs {
		if x.fn == fn && strings.EqualFold(x.field.Name, fi.Name) {
			return len(a.groups) + i, nil
		}
	}
	a.aggs = append(a.aggs, aggFunc{fn: fn, field: fi, kind: kindOf(fi.Type)})
	return len(a.groups) + len(a.aggs) - 1, nil
}

// resultType is the describe type of an aggregate function's values.
func resultType(fn string, fi FieldInfo) string {
	switch fn {
	case "COUNT", "COUNT_DISTINCT":
		return "int"
	case "SUM", "AVG":
		return "double"
	}
	return fi.Type
}

// operand resolves an operand of HAVING or ORDER BY to its slot, as a
// field whose Index is the slot. ungrouped prefixes the error for a plain
// field that is not grouped.
func (a *aggPlan) operand(c *compiler, fn string, fnPos Pos, path string, pos Pos, ungrouped string) (FieldInfo, *Error) {
	if fn != "" {
		slot, err := a.aggSlot(c, fn, fnPos, path, pos)
		if err != nil {
			return FieldInfo{}, err
		}
		x := a.aggs[slot-len(a.groups)]
		return FieldInfo{Name: fn + "(" + x.field.Name + ")", Type: resultType(fn, x.field), Index: slot, Filterable: true, Sortable: true}, nil
	}
	fi, err := c.field(path, pos)
	if err != nil {
		return FieldInfo{}, err
	}
	slot, ok := a.groupSlot(fi)
	if !ok {
		return FieldInfo{}, posError(c.q.Source, pos.Offset, CodeMalformedQuery, ungrouped+path)
	}
	g := a.groups[slot]
	return FieldInfo{Name: g.Name, Type: g.Type, Index: slot, Filterable: true, Sortable: g.Sortable}, nil
}

// compileGrouped compiles the SELECT list, GROUP BY, HAVING and ORDER BY
// of an aggregate query into plan.Columns and plan.agg.
func (c *compiler) compileGrouped(plan *Plan) *Error {
	q := c.q
	a := &aggPlan{limit: q.Limit, offset: q.Offset}
	plan.Grouped, plan.agg = true, a
	for _, g := range q.GroupBy {
		fi, err := c.field(g.Path, g.Pos)
		if err != nil {
			return err
		}
		if !fi.Groupable {
			return posError(q.Source, g.Pos.Offset, CodeInvalidField, "field '"+fi.Name+"' can not be grouped in a query call")
		}
		if _, dup := a.groupSlot(fi); !dup {
			a.groups = append(a.groups, fi)
			a.gkinds = append(a.gkinds, kindOf(fi.Type))
		}
	}

	// The columns: aggregate slots are numbered after the group slots, so
	// they are fixed up once every aggregate is known.
	type pending struct {
		col   Column
		agg   bool
		index int // group slot, or aggregate number
	}
	var cols []pending
	seen := map[string]bool{}
	expr := 0
	for _, it := range q.Select {
		var p pending
		if it.Func != "" {
			slot, err := a.aggSlot(c, it.Func, it.FuncPos, it.Path, it.Pos)
			if err != nil {
				return err
			}
			x := a.aggs[slot-len(a.groups)]
			p = pending{col: Column{Name: it.Alias, Func: it.Func, Field: x.field, Type: resultType(it.Func, x.field)}, agg: true, index: slot - len(a.groups)}
			if p.col.Name == "" {
				p.col.Name = "expr" + strconv.Itoa(expr)
				expr++
			}
		} else {
			fi, err := c.field(it.Path, it.Pos)
			if err != nil {
				return err
			}
			slot, ok := a.groupSlot(fi)
			if !ok {
				return posError(q.Source, it.Pos.Offset, CodeMalformedQuery, "Field must be grouped or aggregated: "+it.Path)
			}
			name := it.Alias
			if name == "" {
				name = fi.Name[strings.LastIndexByte(fi.Name, '.')+1:]
			}
			p = pending{col: Column{Name: name, Field: fi, Type: fi.Type}, index: slot}
		}
		key := strings.ToLower(p.col.Name)
		if seen[key] {
			if it.Func == "" && it.Alias == "" {
				return plainError(CodeInvalidField, "duplicate field selected: "+p.col.Field.Name)
			}
			return plainError(CodeInvalidField, "duplicate alias: "+p.col.Name)
		}
		seen[key] = true
		cols = append(cols, p)
	}

	if q.Having != nil {
		c.agg = a
		f, err := c.expr(q.Having)
		c.agg = nil
		if err != nil {
			return err
		}
		a.having = f
	}

	var cmps []func(a, b Record) int
	var order []OrderItem
	for _, o := range q.OrderBy {
		fi, err := a.operand(c, o.Func, o.FuncPos, o.Path, o.Pos, "Ordered field must be grouped or aggregated: ")
		if err != nil {
			return err
		}
		order = append(order, o)
		cmps = append(cmps, orderCompare(fi, o.Desc, o.NullsLast))
	}
	if len(order) == 0 {
		// Salesforce promises no order without ORDER BY; groups come out
		// by their GROUP BY values ascending, nulls first, so that answers
		// are stable.
		for i, g := range a.groups {
			cmps = append(cmps, orderCompare(FieldInfo{Name: g.Name, Type: g.Type, Index: i}, false, false))
		}
	}
	a.compare = compareAll(cmps)

	a.slots = make([]FieldInfo, len(a.groups)+len(a.aggs))
	for i, g := range a.groups {
		a.slots[i] = FieldInfo{Name: g.Name, Type: g.Type, Index: i}
	}
	for i, x := range a.aggs {
		a.slots[len(a.groups)+i] = FieldInfo{Name: x.fn + "(" + x.field.Name + ")", Type: resultType(x.fn, x.field), Index: len(a.groups) + i}
	}
	for _, p := range cols {
		p.col.slot = p.index
		if p.agg {
			p.col.slot += len(a.groups)
		}
		plan.Columns = append(plan.Columns, p.col)
	}
	return nil
}

// Aggregator computes the groups of an aggregate query in one pass over
// the matching records: memory grows with the number of groups (and of
// distinct values under COUNT_DISTINCT), time with the number of records.
// An Aggregator is not safe for concurrent use.
type Aggregator struct {
	p     *Plan
	a     *aggPlan
	index map[string]int32 // group key → group number
	keys  []any            // group g's GROUP BY values at [g*len(groups), ...)
	accs  []accumulator    // group g's accumulators at [g*len(aggs), ...)
	n     int              // groups so far
	buf   []byte
}

// accumulator holds one aggregate function's running state for a group.
type accumulator struct {
	n   int64   // non-null values seen
	sum float64 // SUM and AVG
	v   any     // MIN and MAX
	set map[string]struct{}
}

// NewAggregator returns an empty Aggregator for a Grouped plan; it
// panics when the plan is not Grouped.
func (p *Plan) NewAggregator() *Aggregator {
	if !p.Grouped {
		panic("soql: NewAggregator on a plan that is not Grouped")
	}
	return &Aggregator{p: p, a: p.agg, index: map[string]int32{}}
}

// Add counts a record that matched the WHERE clause into its group.
func (g *Aggregator) Add(r Record) {
	a := g.a
	b := g.buf[:0]
	for i, fi := range a.groups {
		b = appendKey(b, a.gkinds[i], r.Value(fi.Index))
	}
	g.buf = b
	id, ok := g.index[string(b)] // no allocation for a lookup
	if !ok {
		id = int32(g.n)
		g.index[string(b)] = id
		g.n++
		for _, fi := range a.groups {
			g.keys = append(g.keys, normalNull(r.Value(fi.Index)))
		}
		for range a.aggs {
			g.accs = append(g.accs, accumulator{})
		}
	}
	accs := g.accs[int(id)*len(a.aggs) : (int(id)+1)*len(a.aggs)]
	for i := range a.aggs {
		x := &a.aggs[i]
		v := r.Value(x.field.Index)
		if isNullValue(x.kind, v) {
			continue
		}
		acc := &accs[i]
		acc.n++
		switch x.fn {
		case "COUNT_DISTINCT":
			if acc.set == nil {
				acc.set = map[string]struct{}{}
			}
			k := appendKey(nil, x.kind, v)
			acc.set[string(k)] = struct{}{}
		case "SUM", "AVG":
			acc.sum += v.(float64)
		case "MIN":
			if acc.v == nil || compareValues(x.kind, v, acc.v) < 0 {
				acc.v = v
			}
		case "MAX":
			if acc.v == nil || compareValues(x.kind, v, acc.v) > 0 {
				acc.v = v
			}
		}
	}
}

// Rows returns the AggregateResult records: one []any per group, with the
// values of Plan.Columns in order, after HAVING, ORDER BY, OFFSET and
// LIMIT. Values have the Go types of Record (counts are float64). A query
// without GROUP BY answers exactly one row, even over no records. More
// than 2,000 rows is an *Error, as aggregate results cannot be paged.
func (g *Aggregator) Rows() ([][]any, error) {
	a, p := g.a, g.p
	n := g.n
	if n == 0 && len(a.groups) == 0 {
		n = 1
		g.accs = make([]accumulator, len(a.aggs))
	}
	width := len(a.groups) + len(a.aggs)
	row := make(groupRow, width)
	var kept []groupRow
	for id := 0; id < n; id++ {
		if len(a.groups) > 0 {
			copy(row, g.keys[id*len(a.groups):(id+1)*len(a.groups)])
		}
		for i := range a.aggs {
			row[len(a.groups)+i] = a.aggs[i].result(&g.accs[id*len(a.aggs)+i])
		}
		if a.having != nil && !a.having(row) {
			continue
		}
		kept = append(kept, slices.Clone(row))
		// Without LIMIT every group past OFFSET is answered: refuse early
		// rather than sort a result that cannot be sent.
		if a.limit < 0 && len(kept)-a.offset > maxAggregateRows {
			return nil, plainError(CodeMalformedQuery, aggregateQueryTooLarge)
		}
	}
	if a.compare != nil {
		slices.SortStableFunc(kept, func(x, y groupRow) int { return a.compare(x, y) })
	}
	kept = kept[min(a.offset, len(kept)):]
	if a.limit >= 0 && a.limit < len(kept) {
		kept = kept[:a.limit]
	}
	if len(kept) > maxAggregateRows {
		return nil, plainError(CodeMalformedQuery, aggregateQueryTooLarge)
	}
	out := make([][]any, len(kept))
	for i, r := range kept {
		vals := make([]any, len(p.Columns))
		for j, col := range p.Columns {
			vals[j] = r[col.slot]
		}
		out[i] = vals
	}
	return out, nil
}

// groupRow is a group's values by slot, read by HAVING and ORDER BY.
type groupRow []any

func (r groupRow) Value(i int) any { return r[i] }

// result is the value of an aggregate function over a group: null for
// SUM, AVG, MIN and MAX of no values, 0 for the counts.
func (x *aggFunc) result(acc *accumulator) any {
	switch x.fn {
	case "COUNT":
		return float64(acc.n)
	case "COUNT_DISTINCT":
		return float64(len(acc.set))
	case "SUM":
		if acc.n == 0 {
			return nil
		}
		return acc.sum
	case "AVG":
		if acc.n == 0 {
			return nil
		}
		return acc.sum / float64(acc.n)
	}
	return acc.v
}

// isNullValue reports whether a record value is null for its field kind
// (the empty string is null, as everywhere in this package).
func isNullValue(k fieldKind, v any) bool {
	switch k {
	case kString, kID:
		s, ok := v.(string)
		return !ok || s == ""
	case kNumber:
		_, ok := v.(float64)
		return !ok
	case kBool:
		_, ok := v.(bool)
		return !ok
	case kDate, kDateTime:
		_, ok := v.(time.Time)
		return !ok
	}
	return v == nil
}

// normalNull turns the empty string into nil, so a group of nulls answers
// null.
func normalNull(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return nil
	}
	return v
}

// appendKey appends an unambiguous encoding of a value as a grouping key.
// Strings group ignoring case (as = compares them) and ids by their
// 15-character form; null is its own group.
func appendKey(b []byte, k fieldKind, v any) []byte {
	if isNullValue(k, v) {
		return append(b, 'n')
	}
	switch k {
	case kString:
		s := v.(string)
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				f := foldString(s)
				b = append(b, 'S')
				b = binary.AppendUvarint(b, uint64(len(f)))
				return append(b, f...)
			}
		}
		b = append(b, 'S')
		b = binary.AppendUvarint(b, uint64(len(s)))
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		return b
	case kID:
		s := idKey(v.(string))
		b = append(b, 'i')
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	case kNumber:
		f := v.(float64)
		if f == 0 {
			f = 0 // -0 groups with 0
		}
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(f))
	case kBool:
		if v.(bool) {
			return append(b, 't')
		}
		return append(b, 'F')
	case kDate, kDateTime:
		return binary.BigEndian.AppendUint64(append(b, 'd'), uint64(v.(time.Time).UnixNano()))
	}
	s := fmt.Sprint(v)
	b = append(b, 'o')
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// compareValues orders two non-null values of a field kind, as ORDER BY
// does (MIN and MAX of strings ignore case).
func compareValues(k fieldKind, x, y any) int {
	switch k {
	case kString:
		return compareFold(x.(string), y.(string))
	case kID:
		return strings.Compare(idKey(x.(string)), idKey(y.(string)))
	case kNumber:
		return cmp.Compare(x.(float64), y.(float64))
	case kDate, kDateTime:
		return x.(time.Time).Compare(y.(time.Time))
	}
	return compareAny(x, y)
}
