package syncer

import (
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/soql"
)

// scope decides whether a Salesforce record satisfies the configuration's
// conditions plus "identity field not empty" (S14), on the client. The
// incremental pull reads every changed record in one query, so that a
// record that stopped matching is noticed (it stays linked and is logged
// as out of scope) — the WHERE clause cannot tell it apart from an
// unchanged one. The same clause the full sync sends to Salesforce is
// compiled with the SOQL evaluator, so both paths agree on its meaning.
type scope struct {
	plan   *soql.Plan
	fields []salesforce.Field
}

type describeSchema struct{ d *salesforce.SObjectDescribe }

func (s describeSchema) Object() string { return s.d.Name }

func (s describeSchema) Field(name string) (soql.FieldInfo, bool) {
	for i, f := range s.d.Fields {
		if strings.EqualFold(f.Name, name) {
			return soql.FieldInfo{Name: f.Name, Type: f.Type, Index: i, Filterable: f.Filterable, Sortable: f.Sortable}, true
		}
	}
	return soql.FieldInfo{}, false
}

// newScope compiles query, the configuration's scope as syncconf.Query
// builds it, for the client-side evaluator.
func newScope(d *salesforce.SObjectDescribe, query string, now time.Time) (*scope, error) {
	q, err := soql.Parse(query)
	if err != nil {
		return nil, err
	}
	plan, err := soql.Compile(q, describeSchema{d}, now)
	if err != nil {
		return nil, err
	}
	return &scope{plan: plan, fields: d.Fields}, nil
}

// match reports whether rec (as decoded from the REST API) is in scope.
func (s *scope) match(rec map[string]any) bool {
	return s.plan.Match(recordView{rec: rec, fields: s.fields})
}

type recordView struct {
	rec    map[string]any
	fields []salesforce.Field
}

// Value converts a JSON value into the evaluator's types by describe type.
func (r recordView) Value(i int) any {
	f := r.fields[i]
	v := fieldValue(r.rec, f.Name)
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		switch f.Type {
		case "date":
			if t, err := time.Parse(time.DateOnly, x); err == nil {
				return t
			}
			return nil
		case "datetime":
			if t := parseSFTime(x); !t.IsZero() {
				return t
			}
			return nil
		case "double", "currency", "percent", "int", "long":
			return nil
		case "boolean":
			return x == "true"
		}
		if x == "" {
			return nil
		}
		return x
	case float64, bool:
		return x
	}
	return nil
}
