package syncconf

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/soql"
)

// The tests in this file check the SOQL compiler against the emulator's
// SOQL engine: the query a Config compiles to must select exactly the
// records that refMatch, written from the Config's meaning and not from
// SOQL, selects.

// describeSchema resolves field names against a describe, the way the
// emulator serves Contact; a record's values sit at the describe's field
// positions.
type describeSchema struct{ d *salesforce.SObjectDescribe }

func (s describeSchema) Object() string { return "Contact" }

func (s describeSchema) Field(name string) (soql.FieldInfo, bool) {
	for i, f := range s.d.Fields {
		if strings.EqualFold(f.Name, name) {
			return soql.FieldInfo{Name: f.Name, Type: f.Type, Index: i, Filterable: f.Filterable, Sortable: f.Sortable}, true
		}
	}
	return soql.FieldInfo{}, false
}

// testRecord is a Salesforce contact in the emulator's value types, keyed
// by field name.
type testRecord struct {
	d      *salesforce.SObjectDescribe
	values map[string]any
}

func (r testRecord) Value(i int) any { return r.values[r.d.Fields[i].Name] }

// compilePlan compiles cfg's SOQL and runs it through the emulator's
// parser and compiler.
func compilePlan(t testing.TB, cfg *Config, d *salesforce.SObjectDescribe) (string, *soql.Plan) {
	t.Helper()
	q, err := cfg.SOQL(d, nil)
	if err != nil {
		t.Fatalf("SOQL() error: %v\nconditions: %#v", err, cfg.Conditions)
	}
	parsed, err := soql.Parse(q)
	if err != nil {
		t.Fatalf("soql.Parse(%q) error: %v", q, err)
	}
	plan, err := soql.Compile(parsed, describeSchema{d}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("soql.Compile(%q) error: %v", q, err)
	}
	return q, plan
}

// refMatch is the reference evaluator: whether a Salesforce contact
// (values in the emulator's types) is synced under cfg, decided from the
// Config directly with Salesforce's semantics: the identity field must
// have a value and every condition must hold; "" is null; text compares
// ignoring case; negative operators hold for null, the others do not.
func refMatch(t testing.TB, cfg *Config, d *salesforce.SObjectDescribe, rec map[string]any) bool {
	idf, _ := d.Field(cfg.Identity.SalesforceField)
	if refNull(rec[idf.Name]) {
		return false
	}
	for _, c := range cfg.Conditions {
		f, _ := d.Field(c.SalesforceField)
		if !refCondition(t, c, f, rec[f.Name]) {
			return false
		}
	}
	return true
}

func refNull(v any) bool { return v == nil || v == "" }

func refCondition(t testing.TB, c Condition, f salesforce.Field, v any) bool {
	null := refNull(v)
	eq := func(raw string) bool { return !null && refEqual(t, f, v, raw) }
	switch c.Operator {
	case OpIsEmpty:
		return null
	case OpIsNotEmpty:
		return !null
	case OpEquals:
		return eq(c.Value)
	case OpNotEquals:
		return !eq(c.Value)
	case OpIn, OpNotIn:
		any := false
		for _, raw := range c.Values {
			any = any || eq(raw)
		}
		return any == (c.Operator == OpIn)
	case OpContains, OpNotContains, OpStartsWith:
		if null {
			return c.Operator == OpNotContains
		}
		s, p := refFold(v.(string)), refFold(c.Value)
		switch c.Operator {
		case OpContains:
			return strings.Contains(s, p)
		case OpNotContains:
			return !strings.Contains(s, p)
		}
		return strings.HasPrefix(s, p)
	case OpGT, OpGTE, OpLT, OpLTE:
		if null {
			return false
		}
		cmp := refCompare(t, f, v, c.Value)
		switch c.Operator {
		case OpGT:
			return cmp > 0
		case OpGTE:
			return cmp >= 0
		case OpLT:
			return cmp < 0
		}
		return cmp <= 0
	}
	t.Fatalf("reference evaluator: operator %q not handled", c.Operator)
	return false
}

// refFold maps every rune to the smallest rune it case-folds with, so
// that two strings equal ignoring case fold to the same string.
func refFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

func refEqual(t testing.TB, f salesforce.Field, v any, raw string) bool {
	switch f.Type {
	case "double", "currency", "int", "percent", "long", "date", "datetime":
		return refCompare(t, f, v, raw) == 0
	case "boolean":
		return v.(bool) == (strings.ToLower(raw) == "true")
	}
	return refFold(v.(string)) == refFold(raw)
}

func refCompare(t testing.TB, f salesforce.Field, v any, raw string) int {
	switch f.Type {
	case "double", "currency", "int", "percent", "long":
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Fatalf("reference evaluator: number %q: %v", raw, err)
		}
		return cmpFloat(v.(float64), x)
	case "date":
		x, err := time.Parse("2006-01-02", raw)
		if err != nil {
			t.Fatalf("reference evaluator: date %q: %v", raw, err)
		}
		return v.(time.Time).Compare(x)
	case "datetime":
		x, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			t.Fatalf("reference evaluator: datetime %q: %v", raw, err)
		}
		return v.(time.Time).Compare(x)
	}
	t.Fatalf("reference evaluator: no ordering for %s", f.Type)
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// trickyStrings are text values that break naive SOQL building.
var trickyStrings = []string{
	"O'Brien", `back\slash`, `\'`, `\\'`, `'`, `"quoted"`, "50%_off", "%", "_", `\%`, `a\_b`,
	"new\nline", "cr\rlf", "tab\tbed", "bell\x07", "\x1f", "SELECT", "and", "OR", "null", "NULL",
	"' OR Email != null OR Title = '", "') OR (Title LIKE '%", "台北市", "王小明", "ÉCOLE", "école",
	"naïve", "Straße", "STRASSE", "😀 smile", "İstanbul", "x", "X", "ab", "AB", " padded ",
}

func randomText(r *rand.Rand) string {
	s := trickyStrings[r.IntN(len(trickyStrings))]
	switch r.IntN(4) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return s + trickyStrings[r.IntN(len(trickyStrings))]
	}
	return s
}

// randomCondition draws a valid condition on one of the test describe's
// filterable fields, with an operand drawn from the same pools the
// records' values come from.
func randomCondition(r *rand.Rand, d *salesforce.SObjectDescribe) Condition {
	fields := []string{"Title", "Department", "Email", "LeadSource", "Points__c", "Birthdate", "Last_Purchase__c", "Opt_In__c", "MobilePhone", "Interests__c"}
	name := fields[r.IntN(len(fields))]
	f, _ := d.Field(name)
	ops := operatorsByType[f.Type]
	c := Condition{SalesforceField: name, Operator: ops[r.IntN(len(ops))]}
	value := func() string {
		switch f.Type {
		case "picklist":
			return f.PicklistValues[r.IntN(len(f.PicklistValues))].Value
		case "double":
			return strconv.Itoa(r.IntN(7) - 3)
		case "date":
			return fmt.Sprintf("2024-01-%02d", 1+r.IntN(5))
		case "datetime":
			return time.Date(2024, 1, 1, r.IntN(5), 0, 0, 0, time.UTC).In(time.FixedZone("", 3600*(r.IntN(5)-2))).Format(time.RFC3339)
		case "boolean":
			return []string{"true", "false", "TRUE"}[r.IntN(3)]
		}
		for {
			// Control characters other than \n, \r, \t, \b and \f are refused at save.
			if s := randomText(r); !strings.ContainsFunc(s, unusableControl) {
				return s
			}
		}
	}
	switch c.Operator {
	case OpIsEmpty, OpIsNotEmpty:
	case OpIn, OpNotIn:
		for range 1 + r.IntN(3) {
			c.Values = append(c.Values, value())
		}
	default:
		c.Value = value()
	}
	return c
}

// randomRecord draws a Salesforce contact whose values sometimes equal,
// contain or start with the conditions' operands, in other cases.
func randomRecord(r *rand.Rand, d *salesforce.SObjectDescribe, conds []Condition) map[string]any {
	rec := map[string]any{}
	for _, f := range d.Fields {
		var v any
		switch f.Type {
		case "picklist":
			v = f.PicklistValues[r.IntN(len(f.PicklistValues))].Value
			if r.IntN(2) == 0 {
				v = strings.ToLower(v.(string))
			}
		case "multipicklist":
			v = "Music;Travel"
		case "double", "currency", "int":
			v = float64(r.IntN(7) - 3)
		case "date":
			v = time.Date(2024, 1, 1+r.IntN(5), 0, 0, 0, 0, time.UTC)
		case "datetime":
			v = time.Date(2024, 1, 1, r.IntN(5), 0, 0, 0, time.UTC)
		case "boolean":
			rec[f.Name] = r.IntN(2) == 0
			continue
		default:
			v = randomText(r)
		}
		switch r.IntN(6) {
		case 0:
			v = nil
		case 1:
			if v, ok := v.(string); ok && v != "" {
				rec[f.Name] = ""
				continue
			}
		}
		rec[f.Name] = v
	}
	// Make conditions on text hold or nearly hold.
	for _, c := range conds {
		f, _ := d.Field(c.SalesforceField)
		if !isStringType(f.Type) || c.Value == "" || r.IntN(2) == 0 {
			continue
		}
		switch r.IntN(4) {
		case 0:
			rec[f.Name] = strings.ToUpper(c.Value)
		case 1:
			rec[f.Name] = "pre" + c.Value + "post"
		case 2:
			rec[f.Name] = c.Value + "post"
		case 3:
			if n := utf8.RuneCountInString(c.Value); n > 1 {
				rec[f.Name] = string([]rune(c.Value)[:n-1])
			}
		}
	}
	return rec
}

func TestSOQLSelectsWhatTheConfigMeans(t *testing.T) {
	t.Parallel()
	d := testDescribe(t)
	iterations := 400
	if testing.Short() {
		iterations = 50
	}
	matched, total := 0, 0
	for i := range iterations {
		r := rand.New(rand.NewPCG(uint64(i), 0x5f5f))
		cfg := validConfig()
		cfg.Conditions = nil
		for range r.IntN(4) {
			cfg.Conditions = append(cfg.Conditions, randomCondition(r, d))
		}
		q, plan := compilePlan(t, &cfg, d)
		for range 40 {
			rec := randomRecord(r, d, cfg.Conditions)
			got := plan.Match(testRecord{d, rec})
			want := refMatch(t, &cfg, d, rec)
			if got != want {
				t.Fatalf("iteration %d: query %q selects record %#v: got %v, want %v (conditions %#v)", i, q, rec, got, want, cfg.Conditions)
			}
			total++
			if want {
				matched++
			}
		}
	}
	// Guard against a generator that never (or always) matches.
	if matched < total/20 || matched > total*19/20 {
		t.Errorf("got %d of %d records selected, want between 5%% and 95%% for a meaningful test", matched, total)
	}
}

// FuzzSOQLEscaping compiles one text condition with a fuzzed operand and
// checks, through the emulator's parser, that the query selects exactly
// the records the reference evaluator selects: the operand itself, its
// upper-case form, the operand inside and before other text, the fuzzed
// record value, and a blank field.
func FuzzSOQLEscaping(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s, "x"+s, uint8(0))
		f.Add(s, s, uint8(2))
	}
	f.Add(`\`, `\\`, uint8(4))
	f.Add("%", "anything", uint8(3))
	f.Add("_", "a", uint8(2))
	f.Add("\\u0041", "A", uint8(0))
	d := testDescribe(f)
	textOps := operatorsByType["string"]
	f.Fuzz(func(t *testing.T, value, other string, op uint8) {
		if !utf8.ValidString(other) {
			return // Salesforce stores valid UTF-8 only
		}
		c := Condition{SalesforceField: "Title", Operator: textOps[int(op)%len(textOps)]}
		switch c.Operator {
		case OpIsEmpty, OpIsNotEmpty:
		case OpIn, OpNotIn:
			c.Values = []string{value, other}
		default:
			c.Value = value
		}
		if _, errs := bindCondition(0, c, d); len(errs) > 0 {
			return // invalid operands (NUL, invalid UTF-8, too long, empty) are refused at save
		}
		cfg := validConfig()
		cfg.Conditions = []Condition{c}
		q, plan := compilePlan(t, &cfg, d)
		upper := strings.ToUpper(value)
		if !utf8.ValidString(upper) {
			upper = ""
		}
		for _, title := range []any{value, upper, "pre" + value + "post", value + "post", other, "", nil} {
			rec := map[string]any{"Email": "a@example.com", "Title": title}
			got := plan.Match(testRecord{d, rec})
			want := refMatch(t, &cfg, d, rec)
			if got != want {
				t.Fatalf("query %q on Title %q: got match %v, want %v", q, title, got, want)
			}
		}
	})
}
