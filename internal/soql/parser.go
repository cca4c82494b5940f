package soql

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// reserved words cannot be field or object names.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true,
	"IN": true, "LIKE": true, "ORDER": true, "BY": true, "GROUP": true, "HAVING": true,
	"LIMIT": true, "OFFSET": true, "NULL": true, "TRUE": true, "FALSE": true,
	"ASC": true, "DESC": true, "NULLS": true, "INCLUDES": true, "EXCLUDES": true,
	"WITH": true, "FOR": true, "USING": true, "TYPEOF": true,
}

// Parse parses a SOQL SELECT statement of the supported subset (see the
// package documentation). Errors are *Error: MALFORMED_QUERY for syntax,
// NUMBER_OUTSIDE_VALID_RANGE for an OFFSET above 2,000.
func Parse(src string) (*Query, error) {
	q, err := parse(src)
	if err != nil {
		return nil, err
	}
	return q, nil
}

func parse(src string) (*Query, *Error) {
	if utf16Len(src) > maxQueryLength {
		return nil, plainError(CodeMalformedQuery, "SOQL statements cannot be longer than 100,000 characters.")
	}
	p := &parser{src: src, lx: lexer{src: src}, cur: Pos{Row: 1, Column: 1}}
	return p.query()
}

func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		n += utf16.RuneLen(r)
		i += w
	}
	return n
}

// parser is a recursive-descent parser over a lazily lexed token stream:
// like Salesforce's, it reports the first unexpected token even when a
// lexical error lies further on (WHERE Name = 'O'Brien' fails at Brien).
type parser struct {
	src    string
	lx     lexer
	toks   []token // tokens lexed so far; the last may be tEOF or tError
	lexErr *Error  // the error behind a tError token
	i      int
	cur    Pos  // position cache: positions are asked for mostly in order
	having bool // parsing a HAVING condition: aggregate calls may be operands
}

// fill lexes until token i exists, or the stream has ended.
func (p *parser) fill(i int) {
	for len(p.toks) <= i {
		if n := len(p.toks); n > 0 && (p.toks[n-1].kind == tEOF || p.toks[n-1].kind == tError) {
			return
		}
		t, err := p.lx.next()
		if err != nil {
			p.lexErr = err
			t = token{kind: tError, off: p.lx.off}
		}
		p.toks = append(p.toks, t)
	}
}

func (p *parser) tok() token { return p.peek(0) }

func (p *parser) peek(n int) token {
	p.fill(p.i + n)
	return p.toks[min(p.i+n, len(p.toks)-1)]
}

func (p *parser) advance() {
	p.fill(p.i + 1)
	p.i = min(p.i+1, len(p.toks)-1)
}

// pos returns the position of a byte offset, scanning forward from the
// last position computed.
func (p *parser) pos(off int) Pos {
	if off < p.cur.Offset {
		p.cur = Pos{Row: 1, Column: 1}
	}
	c := p.cur
	for c.Offset < off {
		b := p.src[c.Offset]
		switch {
		case b == '\n':
			c.Row++
			c.Column = 1
			c.Offset++
		case b < utf8.RuneSelf:
			c.Column++
			c.Offset++
		default:
			r, w := utf8.DecodeRuneInString(p.src[c.Offset:])
			c.Column += utf16.RuneLen(r)
			c.Offset += w
		}
	}
	p.cur = c
	return c
}

func (p *parser) isKw(word string) bool {
	t := p.tok()
	return t.kind == tIdent && strings.EqualFold(t.text, word)
}

func (p *parser) isPunct(s string) bool {
	t := p.tok()
	return t.kind == tPunct && t.text == s
}

// unexpected reports the current token as unexpected.
func (p *parser) unexpected() *Error {
	return p.unexpectedAt(p.tok())
}

func (p *parser) unexpectedAt(t token) *Error {
	if t.kind == tError {
		return p.lexErr
	}
	text := t.text
	if t.kind == tEOF {
		text = "<EOF>"
	}
	return posError(p.src, t.off, CodeMalformedQuery, "unexpected token: '"+text+"'")
}

func (p *parser) expectKw(word string) *Error {
	if !p.isKw(word) {
		return p.unexpected()
	}
	p.advance()
	return nil
}

func (p *parser) expectPunct(s string) *Error {
	if !p.isPunct(s) {
		return p.unexpected()
	}
	p.advance()
	return nil
}

func (p *parser) query() (*Query, *Error) {
	q := &Query{Source: p.src, Limit: -1}
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	if err := p.selectList(q); err != nil {
		return nil, err
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	t := p.tok()
	if up := strings.ToUpper(t.text); t.kind != tIdent || reserved[up] && up != "ORDER" && up != "GROUP" {
		// Order and Group are standard objects: FROM Order is a query.
		return nil, p.unexpected()
	}
	q.Object, q.ObjectPos = t.text, p.pos(t.off)
	p.advance()

	if p.isKw("WHERE") {
		p.advance()
		e, err := p.cond()
		if err != nil {
			return nil, err
		}
		q.Where = e
	}
	if p.isKw("GROUP") {
		q.GroupPos = p.pos(p.tok().off)
		p.advance()
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			path, pos, err := p.path()
			if err != nil {
				return nil, err
			}
			q.GroupBy = append(q.GroupBy, GroupItem{Path: path, Pos: pos})
			if !p.isPunct(",") {
				break
			}
			p.advance()
		}
	}
	if p.isKw("HAVING") {
		p.advance()
		p.having = true
		e, err := p.cond()
		p.having = false
		if err != nil {
			return nil, err
		}
		q.Having = e
	}
	if p.isKw("ORDER") {
		p.advance()
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			it, err := p.orderItem()
			if err != nil {
				return nil, err
			}
			q.OrderBy = append(q.OrderBy, it)
			if !p.isPunct(",") {
				break
			}
			p.advance()
		}
	}
	if p.isKw("LIMIT") {
		p.advance()
		n, err := p.integer()
		if err != nil {
			return nil, err
		}
		q.Limit = n
	}
	if p.isKw("OFFSET") {
		p.advance()
		t := p.tok()
		n, err := p.integer()
		if err != nil {
			return nil, err
		}
		if n > maxOffset {
			e := plainError(CodeNumberOutsideRange, "Maximum SOQL offset allowed is 2000")
			pos := p.pos(t.off)
			e.Row, e.Column = pos.Row, pos.Column
			return nil, e
		}
		q.Offset = n
	}
	if p.tok().kind != tEOF {
		return nil, p.unexpected()
	}
	return q, nil
}

// aggregateFuncs are the aggregate functions of the supported subset.
var aggregateFuncs = map[string]bool{"COUNT": true, "COUNT_DISTINCT": true, "MIN": true, "MAX": true, "SUM": true, "AVG": true}

// isAggregateCall reports whether the current token starts an aggregate
// function call: its name followed by "(".
func (p *parser) isAggregateCall() bool {
	t, n := p.tok(), p.peek(1)
	return t.kind == tIdent && aggregateFuncs[strings.ToUpper(t.text)] && n.kind == tPunct && n.text == "("
}

// aggregateCall parses FUNC(path); the current token is FUNC.
func (p *parser) aggregateCall() (fn string, fnPos Pos, path string, pos Pos, err *Error) {
	t := p.tok()
	fn, fnPos = strings.ToUpper(t.text), p.pos(t.off)
	p.advance()
	p.advance()
	if path, pos, err = p.path(); err != nil {
		return "", Pos{}, "", Pos{}, err
	}
	if err := p.expectPunct(")"); err != nil {
		return "", Pos{}, "", Pos{}, err
	}
	return fn, fnPos, path, pos, nil
}

func (p *parser) selectList(q *Query) *Error {
	for first := true; ; first = false {
		var it SelectItem
		if p.isAggregateCall() && strings.EqualFold(p.tok().text, "COUNT") && p.peek(2).kind == tPunct && p.peek(2).text == ")" {
			countTok := p.tok()
			p.advance()
			p.advance()
			if !first {
				return p.unexpected()
			}
			p.advance()
			q.Count, q.CountPos = true, p.pos(countTok.off)
			// COUNT() stands alone.
			return nil
		}
		if p.isAggregateCall() {
			fn, fnPos, path, pos, err := p.aggregateCall()
			if err != nil {
				return err
			}
			it = SelectItem{Path: path, Pos: pos, Func: fn, FuncPos: fnPos}
		} else {
			path, pos, err := p.path()
			if err != nil {
				return err
			}
			it = SelectItem{Path: path, Pos: pos}
		}
		// An alias follows the item. On a plain field it is taken only
		// when the list goes on, so `SELECT Id Contact` still fails at
		// Contact (the FROM that is missing).
		if t := p.tok(); t.kind == tIdent && !reserved[strings.ToUpper(t.text)] {
			n := p.peek(1)
			if it.Func != "" || n.kind == tPunct && n.text == "," || n.kind == tIdent && strings.EqualFold(n.text, "FROM") {
				it.Alias, it.AliasPos = t.text, p.pos(t.off)
				p.advance()
			}
		}
		q.Select = append(q.Select, it)
		if !p.isPunct(",") {
			break
		}
		p.advance()
	}
	return nil
}

// path parses ident {"." ident}.
func (p *parser) path() (string, Pos, *Error) {
	t := p.tok()
	if t.kind != tIdent || reserved[strings.ToUpper(t.text)] {
		return "", Pos{}, p.unexpected()
	}
	pos := p.pos(t.off)
	p.advance()
	path := t.text
	for p.isPunct(".") {
		p.advance()
		t := p.tok()
		if t.kind != tIdent || reserved[strings.ToUpper(t.text)] {
			return "", Pos{}, p.unexpected()
		}
		path += "." + t.text
		p.advance()
	}
	return path, pos, nil
}

func (p *parser) orderItem() (OrderItem, *Error) {
	var it OrderItem
	if p.isAggregateCall() {
		fn, fnPos, path, pos, err := p.aggregateCall()
		if err != nil {
			return OrderItem{}, err
		}
		it = OrderItem{Path: path, Pos: pos, Func: fn, FuncPos: fnPos}
	} else {
		path, pos, err := p.path()
		if err != nil {
			return OrderItem{}, err
		}
		it = OrderItem{Path: path, Pos: pos}
	}
	switch {
	case p.isKw("ASC"):
		p.advance()
	case p.isKw("DESC"):
		it.Desc = true
		p.advance()
	}
	it.NullsLast = it.Desc
	if p.isKw("NULLS") {
		p.advance()
		switch {
		case p.isKw("FIRST"):
			it.NullsLast = false
		case p.isKw("LAST"):
			it.NullsLast = true
		default:
			return OrderItem{}, p.unexpected()
		}
		p.advance()
	}
	return it, nil
}

// integer parses a non-negative 32-bit integer literal.
func (p *parser) integer() (int, *Error) {
	t := p.tok()
	if t.kind != tNumber || strings.IndexByte(t.text, '.') >= 0 {
		return 0, p.unexpected()
	}
	n, err := strconv.ParseInt(t.text, 10, 32)
	if err != nil {
		return 0, posError(p.src, t.off, CodeMalformedQuery, "numeric value out of range: "+t.text)
	}
	p.advance()
	return int(n), nil
}

// cond parses a condition. A run of conditions is joined by one connective
// only: mixing AND and OR without parentheses is an error in Salesforce,
// reported at the first connective of the other kind.
func (p *parser) cond() (Expr, *Error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	if !p.isKw("AND") && !p.isKw("OR") {
		return first, nil
	}
	l := &Logic{Or: p.isKw("OR"), Terms: []Expr{first}}
	for p.isKw("AND") || p.isKw("OR") {
		if p.isKw("OR") != l.Or {
			return nil, p.unexpected()
		}
		p.advance()
		t, err := p.unary()
		if err != nil {
			return nil, err
		}
		l.Terms = append(l.Terms, t)
	}
	return l, nil
}

func (p *parser) unary() (Expr, *Error) {
	switch {
	case p.isKw("NOT"):
		p.advance()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case p.isPunct("("):
		p.advance()
		x, err := p.cond()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.simple()
}

var comparisonOps = map[string]Op{"=": OpEq, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe}

func (p *parser) simple() (Expr, *Error) {
	var fn string
	var fnPos Pos
	var field string
	var fpos Pos
	var err *Error
	if p.having && p.isAggregateCall() {
		fn, fnPos, field, fpos, err = p.aggregateCall()
	} else {
		field, fpos, err = p.path()
	}
	if err != nil {
		return nil, err
	}
	e, err := p.predicate(field, fpos)
	if err != nil {
		return nil, err
	}
	switch x := e.(type) {
	case *Comparison:
		x.Func, x.FuncPos = fn, fnPos
	case *In:
		x.Func, x.FuncPos = fn, fnPos
	}
	return e, nil
}

// predicate parses what follows the left operand of a condition.
func (p *parser) predicate(field string, fpos Pos) (Expr, *Error) {
	t := p.tok()
	switch {
	case t.kind == tOp:
		op, ok := comparisonOps[t.text]
		if !ok { // "<>"
			return nil, p.unexpected()
		}
		p.advance()
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		return &Comparison{Field: field, FieldPos: fpos, Op: op, OpPos: p.pos(t.off), Value: v}, nil
	case p.isKw("LIKE"):
		p.advance()
		v, err := p.value(true)
		if err != nil {
			return nil, err
		}
		return &Comparison{Field: field, FieldPos: fpos, Op: OpLike, OpPos: p.pos(t.off), Value: v}, nil
	case p.isKw("IN"):
		p.advance()
		vs, err := p.valueList()
		if err != nil {
			return nil, err
		}
		return &In{Field: field, FieldPos: fpos, Values: vs}, nil
	case p.isKw("NOT"):
		p.advance()
		if err := p.expectKw("IN"); err != nil {
			return nil, err
		}
		vs, err := p.valueList()
		if err != nil {
			return nil, err
		}
		return &In{Field: field, FieldPos: fpos, Not: true, Values: vs}, nil
	}
	return nil, p.unexpected()
}

func (p *parser) valueList() ([]Value, *Error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var vs []Value
	for {
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
		if !p.isPunct(",") {
			break
		}
		p.advance()
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	return vs, nil
}

// value parses a literal. like selects LIKE-pattern decoding of strings.
func (p *parser) value(like bool) (Value, *Error) {
	t := p.tok()
	v := Value{Pos: p.pos(t.off), Text: t.text}
	switch t.kind {
	case tString:
		s, pat, bad := decodeString(t.text[1:len(t.text)-1], like)
		if bad != "" {
			return Value{}, posError(p.src, t.off, CodeMalformedQuery,
				"Invalid string literal "+t.text+". Illegal character sequence '"+bad+"' in string literal.")
		}
		v.Kind, v.Str, v.like = KindString, s, pat
		p.advance()
		return v, nil
	case tNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return Value{}, posError(p.src, t.off, CodeMalformedQuery, "numeric value out of range: "+t.text)
		}
		v.Kind, v.Num = KindNumber, n
		p.advance()
		return v, nil
	case tDate:
		tm, _ := parseDate(t.text)
		v.Kind, v.Time = KindDate, tm
		p.advance()
		return v, nil
	case tDateTime:
		tm, _ := parseDateTime(t.text)
		v.Kind, v.Time = KindDateTime, tm
		p.advance()
		return v, nil
	case tPunct:
		switch t.text {
		case "-", "+":
			// A signed number: the sign must touch the digits.
			n := p.peek(1)
			if n.kind != tNumber || n.off != t.off+1 {
				return Value{}, p.unexpected()
			}
			f, err := strconv.ParseFloat(t.text+n.text, 64)
			if err != nil {
				return Value{}, posError(p.src, t.off, CodeMalformedQuery, "numeric value out of range: "+t.text+n.text)
			}
			v.Kind, v.Num, v.Text = KindNumber, f, t.text+n.text
			p.advance()
			p.advance()
			return v, nil
		case ":":
			if n := p.peek(1); n.kind == tIdent && n.off == t.off+1 {
				return Value{}, posError(p.src, t.off, CodeMalformedQuery, "Bind variables only allowed in Apex code")
			}
		}
		return Value{}, p.unexpected()
	case tIdent:
		word := strings.ToUpper(t.text)
		switch word {
		case "NULL":
			v.Kind = KindNull
		case "TRUE", "FALSE":
			v.Kind, v.Bool = KindBool, word == "TRUE"
		default:
			def, ok := dateLiterals[word]
			if !ok {
				return Value{}, p.unexpected()
			}
			v.Kind, v.DateLiteral = KindDateLiteral, word
			if def.takesN {
				p.advance()
				if err := p.expectPunct(":"); err != nil {
					return Value{}, err
				}
				nt := p.tok()
				if nt.kind != tNumber || strings.IndexByte(nt.text, '.') >= 0 {
					return Value{}, p.unexpected()
				}
				n, err := strconv.Atoi(nt.text)
				if err != nil || n > maxDateLiteralN {
					return Value{}, posError(p.src, nt.off, CodeMalformedQuery, "numeric value out of range: "+nt.text)
				}
				v.N = n
				v.Text = t.text + ":" + nt.text
			}
		}
		p.advance()
		return v, nil
	}
	return Value{}, p.unexpected()
}
