package soql

import (
	"cmp"
	"strings"
	"time"
)

// NotEqualMatchesNull records this package's choice for `field != value`
// and `field NOT IN (...)` when the field is null: they match, unlike SQL.
// Salesforce is believed to behave so (research §4.2/§10) but it is not
// verified for every type. `field = value`, IN, LIKE and the ordering
// operators never match a null field; `= null` and `!= null` test for null.
const NotEqualMatchesNull = true

// Messages Salesforce uses, with %s-free building blocks.
const (
	noSuchColumnTail = ". If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	noSuchRelTail    = " in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
	noSuchTypeTail   = " is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
)

// UnknownObjectError is the INVALID_TYPE error Salesforce returns when the
// FROM object does not exist, positioned at the object name.
func (q *Query) UnknownObjectError() *Error {
	return posError(q.Source, q.ObjectPos.Offset, CodeInvalidType, "sObject type '"+q.Object+"'"+noSuchTypeTail)
}

// Compile binds a parsed query to the schema of its FROM object and builds
// the evaluator. now (taken in UTC) resolves relative date literals such
// as TODAY and LAST_N_DAYS:7. Errors are *Error: INVALID_TYPE when the
// schema is not the FROM object's, INVALID_FIELD for unknown, non-filterable
// or non-sortable fields and for literals of the wrong type,
// INVALID_QUERY_FILTER_OPERATOR for an operator the field type does not
// support or a malformed ID literal, MALFORMED_QUERY otherwise.
func Compile(q *Query, s Schema, now time.Time) (*Plan, error) {
	p, err := compile(q, s, now)
	if err != nil {
		return nil, err
	}
	return p, nil
}

type compiler struct {
	q   *Query
	s   Schema
	now time.Time
	// agg is set while compiling the HAVING clause of an aggregate query:
	// operands then resolve to the columns of a group (see aggregate.go).
	agg *aggPlan
}

// compareAll chains comparators, the first deciding; nil when there are none.
func compareAll(cmps []func(a, b Record) int) func(a, b Record) int {
	switch len(cmps) {
	case 0:
		return nil
	case 1:
		return cmps[0]
	}
	return func(a, b Record) int {
		for _, c := range cmps {
			if r := c(a, b); r != 0 {
				return r
			}
		}
		return 0
	}
}

func compile(q *Query, s Schema, now time.Time) (*Plan, *Error) {
	if !strings.EqualFold(q.Object, s.Object()) {
		return nil, q.UnknownObjectError()
	}
	c := &compiler{q: q, s: s, now: now.UTC()}
	plan := &Plan{Object: s.Object(), Count: q.Count, Limit: q.Limit, Offset: q.Offset, Query: q}

	if q.grouped() {
		if q.Count {
			// COUNT() counts records; with GROUP BY Salesforce wants
			// COUNT(field) (SOQL reference, COUNT()).
			pos := q.GroupPos
			if len(q.GroupBy) == 0 {
				pos = q.CountPos
			}
			return nil, posError(q.Source, pos.Offset, CodeMalformedQuery, "unexpected token: '"+tokenAt(q.Source, pos.Offset)+"'")
		}
		if err := c.compileGrouped(plan); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, it := range q.Select {
		if plan.Grouped {
			break
		}
		if it.Alias != "" {
			// Aliases name the columns of aggregate queries only.
			return nil, posError(q.Source, it.AliasPos.Offset, CodeMalformedQuery, "unexpected token: '"+it.Alias+"'")
		}
		fi, err := c.field(it.Path, it.Pos)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(fi.Name)
		if seen[key] {
			return nil, plainError(CodeInvalidField, "duplicate field selected: "+fi.Name)
		}
		seen[key] = true
		plan.Fields = append(plan.Fields, fi)
	}

	plan.Match = func(Record) bool { return true }
	if q.Where != nil {
		m, err := c.expr(q.Where)
		if err != nil {
			return nil, err
		}
		plan.Match = m
	}

	if plan.Grouped {
		// HAVING and ORDER BY apply to the groups (see compileGrouped).
		return plan, nil
	}
	var cmps []func(a, b Record) int
	for _, o := range q.OrderBy {
		fi, err := c.field(o.Path, o.Pos)
		if err != nil {
			return nil, err
		}
		if !fi.Sortable {
			return nil, posError(q.Source, o.Pos.Offset, CodeInvalidField, "field '"+fi.Name+"' can not be sorted in a query call")
		}
		plan.Order = append(plan.Order, Order{Field: fi.Name, Desc: o.Desc, NullsLast: o.NullsLast})
		cmps = append(cmps, orderCompare(fi, o.Desc, o.NullsLast))
	}
	plan.Compare = compareAll(cmps)
	if compare := plan.Compare; compare != nil {
		plan.Less = func(a, b Record) bool { return compare(a, b) < 0 }
	}
	return plan, nil
}

// field resolves a field path, producing Salesforce's INVALID_FIELD wording.
func (c *compiler) field(path string, pos Pos) (FieldInfo, *Error) {
	if fi, ok := c.s.Field(path); ok {
		return fi, nil
	}
	entity, column := c.s.Object(), path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		if rs, ok := c.s.(RelationshipSchema); ok {
			parts := strings.Split(path, ".")
			for j := 1; j < len(parts); j++ {
				rel := strings.Join(parts[:j], ".")
				obj, ok := rs.Relationship(rel)
				if !ok {
					return FieldInfo{}, posError(c.q.Source, pos.Offset, CodeInvalidField, "Didn't understand relationship '"+parts[j-1]+"'"+noSuchRelTail)
				}
				entity = obj
			}
			column = path[i+1:]
		}
	}
	return FieldInfo{}, posError(c.q.Source, pos.Offset, CodeInvalidField, "No such column '"+column+"' on entity '"+entity+"'"+noSuchColumnTail)
}

// fieldKind groups describe types by how their values compare.
type fieldKind int

const (
	kOther fieldKind = iota
	kString
	kID
	kNumber
	kBool
	kDate
	kDateTime
)

func kindOf(typ string) fieldKind {
	switch strings.ToLower(typ) {
	case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring":
		return kString
	case "id", "reference":
		return kID
	case "double", "currency", "percent", "int", "long":
		return kNumber
	case "boolean":
		return kBool
	case "date":
		return kDate
	case "datetime":
		return kDateTime
	}
	return kOther
}

// soapTypeName is the type name Salesforce uses in filter-criterion errors.
func soapTypeName(typ string) string {
	switch k := kindOf(typ); k {
	case kString:
		return "string"
	case kID:
		return "id"
	case kBool:
		return "boolean"
	case kDate:
		return "date"
	case kDateTime:
		return "dateTime"
	case kNumber:
		switch strings.ToLower(typ) {
		case "int":
			return "int"
		case "long":
			return "long"
		}
		return "double"
	}
	return typ
}

// criterionError is Salesforce's error for a literal of the wrong type.
func (c *compiler) criterionError(fi FieldInfo, v Value) *Error {
	k := kindOf(fi.Type)
	quotes := "should not be enclosed in quotes"
	if k == kString || k == kID {
		quotes = "should be enclosed in quotes"
	}
	return posError(c.q.Source, v.Pos.Offset, CodeInvalidField,
		"value of filter criterion for field '"+fi.Name+"' must be of type "+soapTypeName(fi.Type)+" and "+quotes)
}

func (c *compiler) operatorError(fi FieldInfo, pos Pos) *Error {
	return posError(c.q.Source, pos.Offset, CodeInvalidFilterOp, "invalid operator on "+strings.ToLower(fi.Type)+" field")
}

// checkValue verifies that a non-null literal suits the field's type.
func (c *compiler) checkValue(fi FieldInfo, v Value) *Error {
	if v.Kind == KindNull {
		return nil
	}
	ok := false
	switch kindOf(fi.Type) {
	case kString:
		ok = v.Kind == KindString
	case kID:
		if v.Kind == KindString {
			if v.Str != "" && !validID(v.Str) {
				return posError(c.q.Source, v.Pos.Offset, CodeInvalidFilterOp, "invalid ID field: "+v.Str)
			}
			ok = true
		}
	case kNumber:
		ok = v.Kind == KindNumber
	case kBool:
		ok = v.Kind == KindBool
	case kDate:
		ok = v.Kind == KindDate || v.Kind == KindDateLiteral
	case kDateTime:
		ok = v.Kind == KindDateTime || v.Kind == KindDateLiteral
	}
	if !ok {
		return c.criterionError(fi, v)
	}
	return nil
}

// filterField resolves the left operand of a condition. In a HAVING clause
// it is a grouped field or an aggregate call, resolved to a group column.
func (c *compiler) filterField(fn string, fnPos Pos, path string, pos Pos) (FieldInfo, *Error) {
	if c.agg != nil {
		return c.agg.operand(c, fn, fnPos, path, pos, "Field must be grouped or aggregated: ")
	}
	if fn != "" {
		// Only a hand-built WHERE can hold an aggregate call; the parser
		// refuses one there, at its "(".
		return FieldInfo{}, posError(c.q.Source, fnPos.Offset, CodeMalformedQuery, "unexpected token: '"+fn+"'")
	}
	fi, err := c.field(path, pos)
	if err != nil {
		return fi, err
	}
	if !fi.Filterable {
		return fi, posError(c.q.Source, pos.Offset, CodeInvalidField, "field '"+fi.Name+"' can not be filtered in a query call")
	}
	return fi, nil
}

func (c *compiler) expr(e Expr) (func(Record) bool, *Error) {
	switch e := e.(type) {
	case *Logic:
		fs := make([]func(Record) bool, len(e.Terms))
		for i, t := range e.Terms {
			f, err := c.expr(t)
			if err != nil {
				return nil, err
			}
			fs[i] = f
		}
		return logic(e.Or, fs), nil
	case *Not:
		f, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		return func(r Record) bool { return !f(r) }, nil
	case *Comparison:
		return c.comparison(e)
	case *In:
		return c.in(e)
	}
	return nil, plainError(CodeMalformedQuery, "unsupported condition")
}

func logic(or bool, fs []func(Record) bool) func(Record) bool {
	if len(fs) == 2 {
		a, b := fs[0], fs[1]
		if or {
			return func(r Record) bool { return a(r) || b(r) }
		}
		return func(r Record) bool { return a(r) && b(r) }
	}
	if or {
		return func(r Record) bool {
			for _, f := range fs {
				if f(r) {
					return true
				}
			}
			return false
		}
	}
	return func(r Record) bool {
		for _, f := range fs {
			if !f(r) {
				return false
			}
		}
		return true
	}
}

func never(Record) bool { return false }

func (c *compiler) comparison(e *Comparison) (func(Record) bool, *Error) {
	fi, err := c.filterField(e.Func, e.FuncPos, e.Field, e.FieldPos)
	if err != nil {
		return nil, err
	}
	k, idx, v := kindOf(fi.Type), fi.Index, e.Value

	if e.Op == OpLike {
		if k != kString {
			return nil, c.operatorError(fi, e.OpPos)
		}
		if v.Kind != KindString {
			return nil, c.criterionError(fi, v)
		}
		pat := v.like
		if pat == nil { // a Value built by hand rather than parsed
			_, pat, _ = decodeString(EscapeString(v.Str), true)
		}
		return func(r Record) bool {
			s, ok := r.Value(idx).(string)
			return ok && s != "" && pat.match(s)
		}, nil
	}
	if err := c.checkValue(fi, v); err != nil {
		return nil, err
	}
	if k == kBool && e.Op != OpEq && e.Op != OpNe {
		return nil, c.operatorError(fi, e.OpPos)
	}
	// The empty string is null in Salesforce, in data and in literals.
	if v.Kind == KindNull || v.Kind == KindString && v.Str == "" {
		isNull := nullTest(k, idx)
		switch e.Op {
		case OpEq:
			return isNull, nil
		case OpNe:
			return func(r Record) bool { return !isNull(r) }, nil
		}
		return never, nil // ordering against null matches nothing
	}

	f, err := c.valueCompare(fi, e.Op, v)
	if err != nil {
		return nil, err
	}
	if e.Op == OpNe && !NotEqualMatchesNull {
		isNull := nullTest(k, idx)
		return func(r Record) bool { return !isNull(r) && f(r) }, nil
	}
	return f, nil
}

// valueCompare compares a field with a non-null literal of a suitable type.
func (c *compiler) valueCompare(fi FieldInfo, op Op, v Value) (func(Record) bool, *Error) {
	k, idx := kindOf(fi.Type), fi.Index
	switch k {
	case kString:
		return stringCompare(idx, op, v.Str), nil
	case kID:
		return idCompare(idx, op, canonicalID15(v.Str)), nil
	case kNumber:
		return numberCompare(idx, op, v.Num), nil
	case kBool:
		lit := v.Bool
		if op == OpEq {
			return func(r Record) bool { b, ok := r.Value(idx).(bool); return ok && b == lit }, nil
		}
		return func(r Record) bool { b, ok := r.Value(idx).(bool); return !ok || b != lit }, nil
	case kDate, kDateTime:
		start, end := c.timeRange(v)
		return timeCompare(idx, op, start, end), nil
	}
	return nil, c.criterionError(fi, v)
}

// timeRange gives the [start, end) range a date or dateTime literal stands
// for: one instant for fixed literals, whole days for relative ones.
func (c *compiler) timeRange(v Value) (time.Time, time.Time) {
	if v.Kind == KindDateLiteral {
		return dateRange(v.DateLiteral, v.N, c.now)
	}
	return v.Time, v.Time.Add(time.Nanosecond)
}

// nullTest returns a predicate reporting whether the field is null.
func nullTest(k fieldKind, idx int) func(Record) bool {
	switch k {
	case kString, kID:
		return func(r Record) bool { s, ok := r.Value(idx).(string); return !ok || s == "" }
	case kNumber:
		return func(r Record) bool { _, ok := r.Value(idx).(float64); return !ok }
	case kBool:
		return func(r Record) bool { _, ok := r.Value(idx).(bool); return !ok }
	case kDate, kDateTime:
		return func(r Record) bool { _, ok := r.Value(idx).(time.Time); return !ok }
	}
	return func(r Record) bool { return r.Value(idx) == nil }
}

func stringCompare(idx int, op Op, lit string) func(Record) bool {
	switch op {
	case OpEq:
		return func(r Record) bool { s, ok := r.Value(idx).(string); return ok && strings.EqualFold(s, lit) }
	case OpNe:
		return func(r Record) bool { s, ok := r.Value(idx).(string); return !ok || !strings.EqualFold(s, lit) }
	}
	want := orderWant(op)
	return func(r Record) bool {
		s, ok := r.Value(idx).(string)
		return ok && s != "" && want(compareFold(s, lit))
	}
}

// orderWant turns an ordering operator into a test on a comparison result.
func orderWant(op Op) func(int) bool {
	switch op {
	case OpLt:
		return func(c int) bool { return c < 0 }
	case OpLe:
		return func(c int) bool { return c <= 0 }
	case OpGt:
		return func(c int) bool { return c > 0 }
	}
	return func(c int) bool { return c >= 0 }
}

func idCompare(idx int, op Op, lit string) func(Record) bool {
	switch op {
	case OpEq:
		return func(r Record) bool { s, ok := r.Value(idx).(string); return ok && idKey(s) == lit }
	case OpNe:
		return func(r Record) bool { s, ok := r.Value(idx).(string); return !ok || s == "" || idKey(s) != lit }
	}
	want := orderWant(op)
	return func(r Record) bool {
		s, ok := r.Value(idx).(string)
		return ok && s != "" && want(strings.Compare(idKey(s), lit))
	}
}

func numberCompare(idx int, op Op, lit float64) func(Record) bool {
	switch op {
	case OpEq:
		return func(r Record) bool { f, ok := r.Value(idx).(float64); return ok && f == lit }
	case OpNe:
		return func(r Record) bool { f, ok := r.Value(idx).(float64); return !ok || f != lit }
	case OpLt:
		return func(r Record) bool { f, ok := r.Value(idx).(float64); return ok && f < lit }
	case OpLe:
		return func(r Record) bool { f, ok := r.Value(idx).(float64); return ok && f <= lit }
	case OpGt:
		return func(r Record) bool { f, ok := r.Value(idx).(float64); return ok && f > lit }
	}
	return func(r Record) bool { f, ok := r.Value(idx).(float64); return ok && f >= lit }
}

// timeCompare compares a date or dateTime field with the range
// [start, end): a single instant for fixed literals (end = start+1ns), a
// span of days for relative date literals, where `<` means before the
// span and `>` after it.
func timeCompare(idx int, op Op, start, end time.Time) func(Record) bool {
	switch op {
	case OpEq:
		return func(r Record) bool {
			t, ok := r.Value(idx).(time.Time)
			return ok && !t.Before(start) && t.Before(end)
		}
	case OpNe:
		return func(r Record) bool {
			t, ok := r.Value(idx).(time.Time)
			return !ok || t.Before(start) || !t.Before(end)
		}
	case OpLt:
		return func(r Record) bool { t, ok := r.Value(idx).(time.Time); return ok && t.Before(start) }
	case OpLe:
		return func(r Record) bool { t, ok := r.Value(idx).(time.Time); return ok && t.Before(end) }
	case OpGt:
		return func(r Record) bool { t, ok := r.Value(idx).(time.Time); return ok && !t.Before(end) }
	}
	return func(r Record) bool { t, ok := r.Value(idx).(time.Time); return ok && !t.Before(start) }
}

func (c *compiler) in(e *In) (func(Record) bool, *Error) {
	fi, err := c.filterField(e.Func, e.FuncPos, e.Field, e.FieldPos)
	if err != nil {
		return nil, err
	}
	k, idx := kindOf(fi.Type), fi.Index
	hasNull := false
	for _, v := range e.Values {
		if err := c.checkValue(fi, v); err != nil {
			return nil, err
		}
		if v.Kind == KindNull || v.Kind == KindString && v.Str == "" {
			hasNull = true
		}
	}
	var member func(Record) (isNull, in bool)
	switch k {
	case kOther: // only null literals get past checkValue
		member = func(r Record) (bool, bool) { return r.Value(idx) == nil, false }
	case kString:
		set := newFoldSet()
		for _, v := range e.Values {
			if v.Kind == KindString && v.Str != "" {
				set.add(v.Str)
			}
		}
		member = func(r Record) (bool, bool) {
			s, ok := r.Value(idx).(string)
			if !ok || s == "" {
				return true, false
			}
			return false, set.has(s)
		}
	case kID:
		set := map[string]bool{}
		for _, v := range e.Values {
			if v.Kind == KindString && v.Str != "" {
				set[canonicalID15(v.Str)] = true
			}
		}
		member = func(r Record) (bool, bool) {
			s, ok := r.Value(idx).(string)
			if !ok || s == "" {
				return true, false
			}
			return false, set[idKey(s)]
		}
	case kNumber:
		set := map[float64]bool{}
		for _, v := range e.Values {
			if v.Kind == KindNumber {
				set[v.Num] = true
			}
		}
		member = func(r Record) (bool, bool) {
			f, ok := r.Value(idx).(float64)
			return !ok, ok && set[f]
		}
	case kBool:
		var want [2]bool
		for _, v := range e.Values {
			if v.Kind == KindBool {
				want[b2i(v.Bool)] = true
			}
		}
		member = func(r Record) (bool, bool) {
			b, ok := r.Value(idx).(bool)
			return !ok, ok && want[b2i(b)]
		}
	case kDate, kDateTime:
		var ranges [][2]time.Time
		for _, v := range e.Values {
			if v.Kind != KindNull {
				s, end := c.timeRange(v)
				ranges = append(ranges, [2]time.Time{s, end})
			}
		}
		member = func(r Record) (bool, bool) {
			t, ok := r.Value(idx).(time.Time)
			if !ok {
				return true, false
			}
			for _, rg := range ranges {
				if !t.Before(rg[0]) && t.Before(rg[1]) {
					return false, true
				}
			}
			return false, false
		}
	}
	if e.Not {
		return func(r Record) bool {
			isNull, in := member(r)
			if isNull {
				return !hasNull && NotEqualMatchesNull
			}
			return !in
		}, nil
	}
	return func(r Record) bool {
		isNull, in := member(r)
		if isNull {
			return hasNull
		}
		return in
	}, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// foldSet is a set of strings compared ignoring case.
type foldSet struct {
	small []string // up to 8 entries: linear EqualFold
	m     map[string]struct{}
}

func newFoldSet() *foldSet { return &foldSet{} }

func (f *foldSet) add(s string) {
	if f.m == nil && len(f.small) < 8 {
		f.small = append(f.small, s)
		return
	}
	if f.m == nil {
		f.m = make(map[string]struct{})
		for _, x := range f.small {
			f.m[foldString(x)] = struct{}{}
		}
		f.small = nil
	}
	f.m[foldString(s)] = struct{}{}
}

func (f *foldSet) has(s string) bool {
	if f.m == nil {
		for _, x := range f.small {
			if strings.EqualFold(s, x) {
				return true
			}
		}
		return false
	}
	var buf [64]byte
	if len(s) <= len(buf) {
		ascii := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 0x80 {
				ascii = false
				break
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			_, ok := f.m[string(buf[:len(s)])] // no allocation for a map index
			return ok
		}
	}
	_, ok := f.m[foldString(s)]
	return ok
}

func foldString(s string) string { return strings.Map(foldRune, s) }

// validID reports whether s has the shape of a Salesforce record id: 15
// alphanumeric characters, or 18 whose last three are a valid case suffix.
func validID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) {
			return false
		}
	}
	if len(s) == 18 {
		for i := 15; i < 18; i++ {
			if suffixValue(s[i]) < 0 {
				return false
			}
		}
	}
	return true
}

func suffixValue(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c - 'a')
	case c >= '0' && c <= '5':
		return int(c-'0') + 26
	}
	return -1
}

// canonicalID15 returns the case-sensitive 15-character form of an id. For
// 18-character ids the case of the first 15 characters is taken from the
// checksum suffix, so an 18-character id matches in any case, as in
// Salesforce.
func canonicalID15(s string) string {
	if len(s) != 18 {
		return s
	}
	b := []byte(s[:15])
	for chunk := 0; chunk < 3; chunk++ {
		bits := suffixValue(s[15+chunk])
		for i := 0; i < 5; i++ {
			c := &b[chunk*5+i]
			if !isLetter(*c) {
				continue
			}
			if bits>>i&1 == 1 {
				*c = byte(strings.ToUpper(string(*c))[0])
			} else {
				*c = byte(strings.ToLower(string(*c))[0])
			}
		}
	}
	return string(b)
}

// idKey is the comparison key of a stored id: its first 15 characters.
func idKey(s string) string {
	if len(s) >= 15 {
		return s[:15]
	}
	return s
}

// orderCompare builds an ORDER BY comparator for one field.
func orderCompare(fi FieldInfo, desc, nullsLast bool) func(a, b Record) int {
	idx := fi.Index
	switch kindOf(fi.Type) {
	case kString:
		return orderBy(idx, desc, nullsLast, func(v any) (string, bool) { s, ok := v.(string); return s, ok && s != "" }, compareFold)
	case kID:
		return orderBy(idx, desc, nullsLast, func(v any) (string, bool) { s, ok := v.(string); return idKey(s), ok && s != "" }, strings.Compare)
	case kNumber:
		return orderBy(idx, desc, nullsLast, func(v any) (float64, bool) { f, ok := v.(float64); return f, ok }, cmp.Compare[float64])
	case kBool:
		return orderBy(idx, desc, nullsLast, func(v any) (int, bool) { b, ok := v.(bool); return b2i(b), ok }, cmp.Compare[int])
	case kDate, kDateTime:
		return orderBy(idx, desc, nullsLast, func(v any) (time.Time, bool) { t, ok := v.(time.Time); return t, ok }, time.Time.Compare)
	}
	return orderBy(idx, desc, nullsLast, func(v any) (any, bool) { return v, v != nil }, compareAny)
}

// orderBy builds a comparator from a typed getter (false for null) and a
// typed comparison, placing nulls first or last whatever the direction.
func orderBy[T any](idx int, desc, nullsLast bool, get func(any) (T, bool), compare func(a, b T) int) func(a, b Record) int {
	nullA := -1 // result when only a is null
	if nullsLast {
		nullA = 1
	}
	return func(a, b Record) int {
		va, okA := get(a.Value(idx))
		vb, okB := get(b.Value(idx))
		switch {
		case !okA && !okB:
			return 0
		case !okA:
			return nullA
		case !okB:
			return -nullA
		}
		if desc {
			return compare(vb, va)
		}
		return compare(va, vb)
	}
}

// compareAny orders values of types the describe type does not predict.
func compareAny(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return compareFold(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp.Compare(b2i(x), b2i(y))
		}
	}
	return 0
}
