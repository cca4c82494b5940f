package soql

import (
	"strconv"
	"strings"
	"time"
)

// Pos is a position in the query text.
type Pos struct {
	Offset int // byte offset
	Row    int // 1-based line
	Column int // 1-based, in UTF-16 code units
}

// Query is a parsed SOQL statement. Names are kept as written; Compile binds
// them to a Schema.
type Query struct {
	Source    string
	Count     bool         // SELECT COUNT() FROM ...
	CountPos  Pos          // position of COUNT when Count
	Select    []SelectItem // empty when Count
	Object    string       // the FROM object as written
	ObjectPos Pos
	Where     Expr // nil when absent
	GroupBy   []GroupItem
	GroupPos  Pos  // position of GROUP when GroupBy is set
	Having    Expr // nil when absent; its terms may be aggregate calls
	OrderBy   []OrderItem
	Limit     int // -1 when absent
	Offset    int // 0 when absent
}

// SelectItem is one SELECT list entry: a field path, or an aggregate
// function of one, e.g. COUNT(Id) or MAX(CreatedDate) latest.
type SelectItem struct {
	Path     string // e.g. "Email", "Owner.Email"
	Pos      Pos
	Func     string // upper-case aggregate function ("COUNT", "SUM", ...); "" for a plain field
	FuncPos  Pos    // position of the function name when Func is set
	Alias    string // alias as written; "" when none
	AliasPos Pos
}

// Aggregate reports whether the item is an aggregate function call.
func (it SelectItem) Aggregate() bool { return it.Func != "" }

// GroupItem is one GROUP BY field as written.
type GroupItem struct {
	Path string
	Pos  Pos
}

// OrderItem is one ORDER BY entry as written: a field, or (in an
// aggregate query) an aggregate function of one.
type OrderItem struct {
	Path      string
	Pos       Pos
	Func      string // "" unless ORDER BY COUNT(Id) and the like
	FuncPos   Pos
	Desc      bool
	NullsLast bool // defaulted when not written: ASC → false, DESC → true
}

// Expr is a WHERE condition: *Logic, *Not, *Comparison or *In.
type Expr interface{ expr() }

// Logic is a run of conditions joined by one connective. Salesforce refuses
// to mix AND and OR without parentheses, so a Logic node never mixes them.
type Logic struct {
	Or    bool // false: AND
	Terms []Expr
}

// Not negates a condition.
type Not struct {
	X Expr
}

// Op is a comparison operator.
type Op int

// Comparison operators.
const (
	OpEq Op = iota
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpLike
)

var opText = [...]string{OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=", OpLike: "LIKE"}

func (o Op) String() string {
	if int(o) < len(opText) {
		return opText[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Comparison is `field op value`, including `field LIKE 'pattern'`. In a
// HAVING clause the left side may be an aggregate call: Func is then its
// upper-case name (e.g. COUNT(Id) > 1) and Field its argument.
type Comparison struct {
	Func     string
	FuncPos  Pos
	Field    string
	FieldPos Pos
	Op       Op
	OpPos    Pos
	Value    Value
}

// In is `field IN (values)` or `field NOT IN (values)`; Func as in
// Comparison.
type In struct {
	Func     string
	FuncPos  Pos
	Field    string
	FieldPos Pos
	Not      bool
	Values   []Value
}

func (*Logic) expr()      {}
func (*Not) expr()        {}
func (*Comparison) expr() {}
func (*In) expr()         {}

// ValueKind is the lexical kind of a literal.
type ValueKind int

// Literal kinds.
const (
	KindNull ValueKind = iota
	KindString
	KindNumber
	KindBool
	KindDate        // 2024-01-31
	KindDateTime    // 2024-01-31T10:00:00Z
	KindDateLiteral // TODAY, LAST_N_DAYS:7, ...
)

// Value is a literal in a WHERE clause.
type Value struct {
	Kind ValueKind
	Pos  Pos
	Text string // the literal as written, e.g. `'O\'Brien'`, `-1.5`, `LAST_N_DAYS:7`

	Str  string    // KindString: the decoded text (in a LIKE pattern, \% and \_ decode to % and _)
	Num  float64   // KindNumber
	Bool bool      // KindBool
	Time time.Time // KindDate (midnight UTC) and KindDateTime (UTC)
	// DateLiteral is the upper-case keyword of a KindDateLiteral, without
	// its argument (e.g. "LAST_N_DAYS"); N is the argument (0 when none).
	DateLiteral string
	N           int

	like *likePattern // set for LIKE values
}

// String renders the query as canonical SOQL: keywords upper case, one
// space between tokens, every nested condition parenthesised. Parsing the
// result yields an equivalent Query.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if q.Count {
		b.WriteString("COUNT()")
	}
	for i, it := range q.Select {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(operand(it.Func, it.Path))
		if it.Alias != "" {
			b.WriteString(" " + it.Alias)
		}
	}
	b.WriteString(" FROM " + q.Object)
	if q.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(&b, q.Where, false)
	}
	for i, g := range q.GroupBy {
		if i == 0 {
			b.WriteString(" GROUP BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(g.Path)
	}
	if q.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(&b, q.Having, false)
	}
	for i, o := range q.OrderBy {
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(operand(o.Func, o.Path))
		if o.Desc {
			b.WriteString(" DESC")
		} else {
			b.WriteString(" ASC")
		}
		if o.NullsLast {
			b.WriteString(" NULLS LAST")
		} else {
			b.WriteString(" NULLS FIRST")
		}
	}
	if q.Limit >= 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		b.WriteString(" OFFSET " + strconv.Itoa(q.Offset))
	}
	return b.String()
}

// ExprString renders a condition as canonical SOQL (see Query.String).
func ExprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, false)
	return b.String()
}

// operand renders a field path, or an aggregate call of one.
func operand(fn, path string) string {
	if fn == "" {
		return path
	}
	return fn + "(" + path + ")"
}

func writeExpr(b *strings.Builder, e Expr, nested bool) {
	switch e := e.(type) {
	case *Logic:
		if nested {
			b.WriteByte('(')
		}
		for i, t := range e.Terms {
			if i > 0 {
				if e.Or {
					b.WriteString(" OR ")
				} else {
					b.WriteString(" AND ")
				}
			}
			writeExpr(b, t, true)
		}
		if nested {
			b.WriteByte(')')
		}
	case *Not:
		if nested {
			b.WriteByte('(')
		}
		b.WriteString("NOT ")
		writeExpr(b, e.X, true)
		if nested {
			b.WriteByte(')')
		}
	case *Comparison:
		b.WriteString(operand(e.Func, e.Field) + " " + e.Op.String() + " ")
		writeValue(b, e.Value)
	case *In:
		b.WriteString(operand(e.Func, e.Field))
		if e.Not {
			b.WriteString(" NOT IN (")
		} else {
			b.WriteString(" IN (")
		}
		for i, v := range e.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, v)
		}
		b.WriteByte(')')
	}
}

func writeValue(b *strings.Builder, v Value) {
	switch v.Kind {
	case KindNull:
		b.WriteString("null")
	case KindString:
		// The raw text keeps the distinction between an escaped and a
		// wildcard % in LIKE patterns.
		if v.Text != "" {
			b.WriteString(v.Text)
		} else {
			b.WriteString(QuoteString(v.Str))
		}
	case KindNumber:
		b.WriteString(strconv.FormatFloat(v.Num, 'f', -1, 64))
	case KindBool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case KindDate:
		b.WriteString(v.Time.Format(time.DateOnly))
	case KindDateTime:
		if y := v.Time.Year(); y < 0 || y > 9999 {
			// In UTC the year left the four digits the syntax allows
			// (0000-01-01T00:00:00+01:00): keep the text as written.
			b.WriteString(v.Text)
		} else {
			b.WriteString(v.Time.Format("2006-01-02T15:04:05.999999999Z"))
		}
	case KindDateLiteral:
		b.WriteString(v.DateLiteral)
		if dateLiterals[v.DateLiteral].takesN {
			b.WriteString(":" + strconv.Itoa(v.N))
		}
	}
}
