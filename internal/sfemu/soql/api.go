// Package soql parses and evaluates the subset of SOQL that the Salesforce
// emulator serves. It is the emulator's query engine and the reference the
// sync configuration's SOQL compiler is tested against.
//
// Contract (relied on by internal/sfemu and internal/syncconf):
//
//	q, err := soql.Parse(src)              // syntax only; err is *Error (MALFORMED_QUERY)
//	plan, err := soql.Compile(q, schema, now) // binds names and types; err is *Error (INVALID_FIELD, INVALID_TYPE ...)
//	plan.Match(rec), plan.Less(a, b), plan.Fields, plan.Limit, plan.Offset, plan.Count
//
// Record values, by describe type:
//
//	nil                            null
//	string                         id, reference, string, textarea, email, phone, url, picklist, multipicklist, combobox
//	float64                        double, currency, percent, int, long
//	bool                           boolean
//	time.Time (UTC)                datetime; date is midnight UTC of that day
package soql

import "time"

// FieldInfo describes one queryable field, as a Schema resolves it.
type FieldInfo struct {
	Name       string // canonical spelling, e.g. "LastName"
	Type       string // Salesforce describe type: "string", "email", "date", "datetime", "double", "boolean", "picklist", ...
	Index      int    // position passed to Record.Value
	Filterable bool
	Sortable   bool
}

// Schema resolves field names (case-insensitively) for one sObject.
type Schema interface {
	// Object is the sObject's API name, e.g. "Contact".
	Object() string
	// Field resolves a field name as written in the query.
	Field(name string) (FieldInfo, bool)
}

// Record gives the evaluator a record's values by FieldInfo.Index.
type Record interface {
	Value(index int) any
}

// Error is a SOQL error carrying Salesforce's errorCode and message. For
// syntax errors Row and Column are 1-based positions in the query text.
type Error struct {
	Code    string // "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", ...
	Message string // Salesforce's full message text, as sent in the error body
	Row     int
	Column  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Order is one ORDER BY item.
type Order struct {
	Field     string
	Desc      bool
	NullsLast bool
}

// Plan is a compiled query, ready to run over records.
type Plan struct {
	Object string
	Fields []FieldInfo // SELECT list in order; empty when Count
	Count  bool        // SELECT COUNT() FROM ...
	// Match reports whether a record satisfies the WHERE clause (true when there is none).
	Match func(Record) bool
	// Less orders two records by ORDER BY; nil when the query has none.
	Less   func(a, b Record) bool
	Limit  int // -1 when absent
	Offset int // 0 when absent
}

var _ = time.Time{}
