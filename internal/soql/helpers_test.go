package soql

import (
	"strings"
	"testing"
	"time"
)

// testSchema is a small Contact schema: a slice of fields with their
// describe types, resolved case-insensitively, plus parent relationships.
type testSchema struct {
	object string
	fields []FieldInfo
	rels   map[string]string // lower-case relationship path → target object
}

func (s *testSchema) Object() string { return s.object }

func (s *testSchema) Field(name string) (FieldInfo, bool) {
	for _, f := range s.fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return FieldInfo{}, false
}

func (s *testSchema) Relationship(path string) (string, bool) {
	obj, ok := s.rels[strings.ToLower(path)]
	return obj, ok
}

// Field indexes of contactSchema, in the order of contactFields.
const (
	fID = iota
	fIsDeleted
	fAccountID
	fLastName
	fFirstName
	fSalutation
	fEmail
	fPhone
	fBirthdate
	fDescription
	fCreatedDate
	fSystemModstamp
	fIsEmailBounced
	fMailingLatitude
	fNumberOfKids
	fOwnerEmail
	fAccountName
	fCount
)

var contactFields = []struct{ name, typ string }{
	{"Id", "id"},
	{"IsDeleted", "boolean"},
	{"AccountId", "reference"},
	{"LastName", "string"},
	{"FirstName", "string"},
	{"Salutation", "picklist"},
	{"Email", "email"},
	{"Phone", "phone"},
	{"Birthdate", "date"},
	{"Description", "textarea"},
	{"CreatedDate", "datetime"},
	{"SystemModstamp", "datetime"},
	{"IsEmailBounced", "boolean"},
	{"MailingLatitude", "double"},
	{"NumberOfKids__c", "int"},
	{"Owner.Email", "email"},
	{"Account.Name", "string"},
}

func contactSchema() *testSchema {
	s := &testSchema{object: "Contact", rels: map[string]string{"owner": "User", "account": "Account"}}
	for i, f := range contactFields {
		// Description is a long text area: neither filterable nor sortable.
		ok := f.name != "Description"
		// As in a real describe of Contact: booleans are groupable but not
		// aggregatable, doubles and dateTimes aggregatable but not
		// groupable, long text areas neither.
		s.fields = append(s.fields, FieldInfo{Name: f.name, Type: f.typ, Index: i, Filterable: ok, Sortable: ok,
			Groupable: ok && f.typ != "double" && f.typ != "datetime", Aggregatable: ok && f.typ != "boolean"})
	}
	return s
}

// rec is a record: values by field index.
type rec []any

func (r rec) Value(i int) any { return r[i] }

// contact builds a record from field name → value.
func contact(vals map[string]any) rec {
	r := make(rec, fCount)
	s := contactSchema()
	for k, v := range vals {
		f, ok := s.Field(k)
		if !ok {
			panic("unknown test field " + k)
		}
		r[f.Index] = v
	}
	return r
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// testNow is a Wednesday.
var testNow = ts("2024-05-15T13:45:00Z")

func mustParse(t *testing.T, src string) *Query {
	t.Helper()
	q, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return q
}

func mustCompile(t *testing.T, src string) *Plan {
	t.Helper()
	p, err := Compile(mustParse(t, src), contactSchema(), testNow)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return p
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got error %T %v, want *Error", err, err)
	}
	return e
}
