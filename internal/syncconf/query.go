package syncconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// DefaultObject is the Salesforce object a configuration syncs with
// unless the admin chooses another (ObjectChoice); the one place its name
// is written (the describe carries it from there).
const DefaultObject = "Contact"

// Object is the API name of the Salesforce object this configuration
// syncs with: Contact, Lead, or Account for Person Accounts.
func (c *Config) Object() string { return c.SyncObject.SObject() }

// Query is a SOQL query the engine sends. Every SOQL string sfsync sends
// is built here (or by the conditions' compiler in soql.go): field names
// only from the object's describe, literals only through
// salesforce.QuoteString and FormatDateTime, and the object's name only
// from the describe. Nothing else concatenates SOQL.
type Query struct {
	d       *salesforce.SObjectDescribe
	fields  []string
	where   []string
	orderBy []string
	limit   int
	count   bool
	err     error
}

// NewQuery starts a query on the described object.
func NewQuery(d *salesforce.SObjectDescribe) *Query { return &Query{d: d} }

// ScopeQuery reads the records the configuration syncs: its select list
// (SelectFields) plus extra, where its conditions hold and the identity
// field holds a value (WhereClause).
func (c *Config) ScopeQuery(d *salesforce.SObjectDescribe, extra ...string) *Query {
	q := NewQuery(d)
	fields, err := c.SelectFields(d, extra)
	if err != nil {
		q.err = err
		return q
	}
	q.fields = fields
	return q.inScope(c)
}

// ScopeSelect reads only these fields of the records the configuration
// syncs.
func (c *Config) ScopeSelect(d *salesforce.SObjectDescribe, fields ...string) *Query {
	return NewQuery(d).Select(fields...).inScope(c)
}

// ScopeCount counts the records the configuration syncs.
func (c *Config) ScopeCount(d *salesforce.SObjectDescribe) *Query {
	q := NewQuery(d)
	q.count = true
	return q.inScope(c)
}

func (q *Query) inScope(c *Config) *Query {
	where, err := c.WhereClause(q.d)
	if err != nil && q.err == nil {
		q.err = err
	}
	q.where = append(q.where, where)
	return q
}

// field returns name in the describe's spelling, or records an error.
func (q *Query) field(name string) string {
	f, ok := q.d.Field(name)
	if !ok {
		if q.err == nil {
			q.err = fmt.Errorf("syncconf: %s has no field %q", q.d.Name, name)
		}
		return name
	}
	return f.Name
}

// Select adds fields to the select list.
func (q *Query) Select(names ...string) *Query {
	for _, n := range names {
		q.fields = append(q.fields, q.field(n))
	}
	return q
}

// IDAfter keeps records whose Id sorts after id (a checkpoint).
func (q *Query) IDAfter(id string) *Query {
	q.where = append(q.where, q.field("Id")+" > "+salesforce.QuoteString(id))
	return q
}

// IDAtMost keeps records whose Id sorts at or before id (the end of a
// range of Ids).
func (q *Query) IDAtMost(id string) *Query {
	q.where = append(q.where, q.field("Id")+" <= "+salesforce.QuoteString(id))
	return q
}

// IDIn keeps the records with these Ids.
func (q *Query) IDIn(ids []string) *Query { return q.FieldIn("Id", ids) }

// FieldIn keeps records whose field equals one of values. Several In and
// Like calls on one query are joined with OR into one condition by AnyOf.
func (q *Query) FieldIn(name string, values []string) *Query {
	q.where = append(q.where, q.in(name, values))
	return q
}

func (q *Query) in(name string, values []string) string {
	lits := make([]string, len(values))
	for i, v := range values {
		lits[i] = salesforce.QuoteString(v)
	}
	return q.field(name) + " IN (" + strings.Join(lits, ", ") + ")"
}

// Match is one alternative of AnyOf: a field equal to one of Values, or
// LIKE one of Patterns (escaped as literals; % and _ keep their meaning).
type Match struct {
	Field    string
	Values   []string
	Patterns []string
}

// AnyOf keeps records that satisfy at least one of the matches.
func (q *Query) AnyOf(ms ...Match) *Query {
	var alts []string
	for _, m := range ms {
		if len(m.Values) > 0 {
			alts = append(alts, q.in(m.Field, m.Values))
		}
		for _, p := range m.Patterns {
			alts = append(alts, q.field(m.Field)+" LIKE "+salesforce.QuoteString(p))
		}
	}
	if len(alts) == 0 {
		alts = append(alts, q.field("Id")+" = null") // matches nothing
	}
	q.where = append(q.where, "("+strings.Join(alts, " OR ")+")")
	return q
}

// ModifiedAfter keeps records whose SystemModstamp is after t.
func (q *Query) ModifiedAfter(t time.Time) *Query {
	q.where = append(q.where, q.field("SystemModstamp")+" > "+salesforce.FormatDateTime(t))
	return q
}

// MergedAway keeps records that a merge deleted (IsDeleted, with
// MasterRecordId naming the survivor); only queryAll returns them.
func (q *Query) MergedAway() *Query {
	q.where = append(q.where, q.field("IsDeleted")+" = true", q.field("MasterRecordId")+" != null")
	return q
}

// OrderBy sorts by these fields, ascending.
func (q *Query) OrderBy(names ...string) *Query {
	for _, n := range names {
		q.orderBy = append(q.orderBy, q.field(n))
	}
	return q
}

// Limit caps the number of records.
func (q *Query) Limit(n int) *Query {
	q.limit = n
	return q
}

// Build returns the SOQL text, or the first error met while building it.
func (q *Query) Build() (string, error) {
	if q.err != nil {
		return "", q.err
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	switch {
	case q.count:
		b.WriteString("COUNT()")
	case len(q.fields) == 0:
		b.WriteString(q.field("Id"))
	default:
		b.WriteString(strings.Join(q.fields, ", "))
	}
	b.WriteString(" FROM ")
	b.WriteString(q.d.Name)
	switch len(q.where) {
	case 0:
	case 1:
		b.WriteString(" WHERE ")
		b.WriteString(q.where[0])
	default:
		// Each condition in parentheses: an OR inside one stays inside.
		b.WriteString(" WHERE (")
		b.WriteString(strings.Join(q.where, ") AND ("))
		b.WriteString(")")
	}
	if len(q.orderBy) > 0 {
		b.WriteString(" ORDER BY ")
		b.WriteString(strings.Join(q.orderBy, ", "))
	}
	if q.limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(q.limit))
	}
	if q.err != nil {
		return "", q.err
	}
	return b.String(), nil
}
