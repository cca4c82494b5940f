package soql

// FieldInfo describes one queryable field, as a Schema resolves it.
type FieldInfo struct {
	// Name is the canonical spelling, e.g. "LastName". For a parent
	// relationship path it is the canonical dotted path, e.g. "Owner.Email".
	Name       string
	Type       string // Salesforce describe type: "string", "email", "date", "datetime", "double", "boolean", "picklist", ...
	Index      int    // position passed to Record.Value
	Filterable bool
	Sortable   bool
	// Groupable and Aggregatable are the describe attributes of the same
	// names: a field may be a GROUP BY key only when groupable, and an
	// aggregate function's argument only when aggregatable.
	Groupable    bool
	Aggregatable bool
}

// Schema resolves field names (case-insensitively) for one sObject.
type Schema interface {
	// Object is the sObject's API name, e.g. "Contact".
	Object() string
	// Field resolves a field name as written in the query. Parent
	// relationship paths are passed whole, e.g. "owner.email".
	Field(name string) (FieldInfo, bool)
}

// RelationshipSchema may be implemented by a Schema that knows parent
// relationships. Compile uses it only to word errors for dotted paths the
// way Salesforce does ("Didn't understand relationship 'X' in field path"
// versus "No such column 'Y' on entity 'User'").
type RelationshipSchema interface {
	Schema
	// Relationship resolves a relationship path as written in the query
	// (e.g. "Owner" or "Account.Owner") to the API name of its target
	// sObject (e.g. "User").
	Relationship(path string) (object string, ok bool)
}

// Record gives the evaluator a record's values by FieldInfo.Index, with
// these Go types by describe type:
//
//	nil             null
//	string          id, reference, string, textarea, email, phone, url, picklist, multipicklist, combobox, encryptedstring
//	float64         double, currency, percent, int, long
//	bool            boolean
//	time.Time (UTC) datetime; date is midnight UTC of that day
//
// A value whose Go type does not match its field's describe type, and the
// empty string, are evaluated as null.
type Record interface {
	Value(index int) any
}

// Error codes produced by this package.
const (
	CodeMalformedQuery     = "MALFORMED_QUERY"
	CodeInvalidField       = "INVALID_FIELD"
	CodeInvalidType        = "INVALID_TYPE"
	CodeInvalidFilterOp    = "INVALID_QUERY_FILTER_OPERATOR"
	CodeNumberOutsideRange = "NUMBER_OUTSIDE_VALID_RANGE"
)

const (
	maxOffset      = 2000   // OFFSET above this is NUMBER_OUTSIDE_VALID_RANGE
	maxQueryLength = 100000 // characters (UTF-16 units) in one statement
)

// Error is a SOQL error carrying Salesforce's errorCode and message.
//
// Row and Column are the 1-based position of the offending token in the
// query text (Column counts UTF-16 code units, as Salesforce's Java parser
// does); both are 0 when the error has no position. For most errors Message
// carries Salesforce's position prefix:
//
//	"\n" + <query line> + "\n" + <Column-1 spaces> + "^\nERROR at Row:<r>:Column:<c>\n" + <text>
//
// Text is the bare text after the prefix (e.g. "unexpected token: 'OR'").
type Error struct {
	Code    string // "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", ...
	Message string // Salesforce's full message text, as sent in the error body
	Row     int
	Column  int
	Text    string // the message without the position prefix
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Order is one ORDER BY item, bound to its field.
type Order struct {
	Field     string // canonical field name
	Desc      bool
	NullsLast bool // explicit or defaulted: ASC → NULLS FIRST, DESC → NULLS LAST
}

// Column is one SELECT item of an aggregate query, a key of the
// AggregateResult records it answers.
type Column struct {
	// Name is the key: the alias when there is one, else "expr0", "expr1",
	// ... for aggregate functions (numbered in select order, skipping
	// aliased ones) and the field's own name for a grouped field (the last
	// part of a relationship path: Account.Name answers "Name").
	Name string
	// Func is the aggregate function ("COUNT", "COUNT_DISTINCT", "MIN",
	// "MAX", "SUM", "AVG"); "" for a grouped field.
	Func  string
	Field FieldInfo // the function's argument, or the grouped field
	// Type is the describe type of the values: "int" for COUNT and
	// COUNT_DISTINCT, "double" for SUM and AVG, the field's own for MIN,
	// MAX and grouped fields.
	Type string
	slot int // index of the value in a group row (see aggregate.go)
}

// Plan is a compiled query, ready to run over records. Its functions are
// safe for concurrent use.
type Plan struct {
	Object string      // canonical sObject name, from Schema.Object
	Fields []FieldInfo // SELECT list in order; empty when Count or Grouped
	Count  bool        // SELECT COUNT() FROM ...: the answer is totalSize only
	// Grouped marks an aggregate query: one with aggregate functions,
	// GROUP BY or HAVING. It answers AggregateResult records, one per group
	// (one in all when there is no GROUP BY), computed by an Aggregator;
	// Columns lists their keys in select order. Less, Compare and Order are
	// then nil: HAVING, ORDER BY, OFFSET and LIMIT apply to the groups, in
	// Aggregator.Rows, and callers must not apply Limit and Offset to the
	// records.
	Grouped bool
	Columns []Column
	agg     *aggPlan
	// Match reports whether a record satisfies the WHERE clause (true when there is none).
	Match func(Record) bool
	// Less orders two records by ORDER BY; nil when the query has none.
	// It is a strict weak ordering: records equal on every ORDER BY field
	// are equivalent, so callers wanting a deterministic order should sort
	// stably (Salesforce itself does not promise one).
	Less func(a, b Record) bool
	// Compare is the three-way form of Less, for slices.SortStableFunc;
	// nil when the query has no ORDER BY.
	Compare func(a, b Record) int
	Order   []Order // the ORDER BY items, bound; empty when none
	Limit   int     // -1 when absent
	Offset  int     // 0 when absent
	Query   *Query  // the parsed query this plan was compiled from
}
