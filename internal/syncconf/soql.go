package syncconf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// maxLiteralLen is Salesforce's limit on a string literal in WHERE.
const maxLiteralLen = 4000

// conditionError builds a ValidationError of the conditions step.
func conditionError(path, code string, args ...any) ValidationError {
	return ValidationError{Step: StepConditions, Path: path, Code: code, Message: message(code, args...)}
}

// typeNames are the value kinds named in "invalid_value" messages.
var typeNames = map[string][2]string{
	sfDate:     {"date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"},
	sfDatetime: {"date and time (e.g. 2024-01-31T09:00:00+08:00)", "日期時間（例如 2024-01-31T09:00:00+08:00）"},
	sfBoolean:  {"boolean (true or false)", "布林（true 或 false）"},
	"number":   {"number", "數字"},
}

func invalidValue(path, raw, sfType string) ValidationError {
	kind := sfType
	if isNumberType(sfType) {
		kind = "number"
	}
	n := typeNames[kind]
	return ValidationError{Step: StepConditions, Path: path, Code: "invalid_value", Message: map[string]string{
		LangEN:   fmt.Sprintf(messages["invalid_value"].en, raw, n[0]),
		LangZHTW: fmt.Sprintf(messages["invalid_value"].zh, raw, n[1]),
	}}
}

// literal turns a condition value typed by the admin into a SOQL literal
// for a comparison with f. like gives the wildcards around a LIKE pattern.
// Text is quoted by the Salesforce client's QuoteString and
// QuoteLikePattern, so every query the project builds escapes alike.
func literal(path string, f salesforce.Field, raw string, like *[2]string) (string, *ValidationError) {
	fail := func(e ValidationError) (string, *ValidationError) { return "", &e }
	switch {
	case f.Type == sfBoolean:
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "true":
			return "true", nil
		case "false":
			return "false", nil
		}
		return fail(invalidValue(path, raw, f.Type))
	case isNumberType(f.Type):
		x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return fail(invalidValue(path, raw, f.Type))
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case f.Type == sfDate:
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(raw))
		if err != nil {
			return fail(invalidValue(path, raw, f.Type))
		}
		return salesforce.FormatDate(t), nil
	case f.Type == sfDatetime:
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(raw))
		if err != nil || t.Nanosecond() != 0 {
			return fail(invalidValue(path, raw, f.Type))
		}
		return salesforce.FormatDateTime(t), nil
	case f.Type == sfPicklist:
		v, ok := picklistValue(f, raw)
		if !ok {
			return fail(conditionError(path, "picklist_value_unknown", raw, f.Name))
		}
		return salesforce.QuoteString(v), nil
	}
	if raw == "" {
		return fail(conditionError(path, "required"))
	}
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, unusableControl) {
		return fail(conditionError(path, "value_control_character"))
	}
	if utf8.RuneCountInString(raw) > maxLiteralLen {
		return fail(conditionError(path, "value_too_long", maxLiteralLen))
	}
	if like != nil {
		return salesforce.QuoteLikePattern(like[0], raw, like[1]), nil
	}
	return salesforce.QuoteString(raw), nil
}

// unusableControl reports control characters a condition value may not
// hold: all but newline, carriage return, tab, backspace and form feed,
// which SOQL literals write as escapes. Admins do not type the others, and
// refusing them keeps raw control characters out of every query.
func unusableControl(r rune) bool {
	switch r {
	case '\n', '\r', '\t', '\b', '\f':
		return false
	}
	return r < 0x20 || r == 0x7f
}

// bindCondition validates condition i against the describe and compiles
// it to a SOQL boolean expression.
func bindCondition(i int, c Condition, d *salesforce.SObjectDescribe) (BoundCondition, ValidationErrors) {
	p := fmt.Sprintf("conditions[%d]", i)
	bc := BoundCondition{Condition: c}
	var errs ValidationErrors
	if strings.TrimSpace(c.SalesforceField) == "" {
		errs = append(errs, conditionError(p+".salesforce_field", "required"))
	}
	f, ok := d.Field(c.SalesforceField)
	if !ok && len(errs) == 0 {
		errs = append(errs, conditionError(p+".salesforce_field", "unknown_field", c.SalesforceField))
	}
	if c.Operator == "" {
		errs = append(errs, conditionError(p+".operator", "required"))
	} else if !knownOperator(c.Operator) {
		errs = append(errs, conditionError(p+".operator", "invalid_operator", string(c.Operator)))
	}
	if len(errs) > 0 {
		return bc, errs
	}
	bc.Salesforce = f
	if !f.Filterable {
		return bc, ValidationErrors{conditionError(p+".salesforce_field", "field_not_filterable", f.Name)}
	}
	if !operatorFits(c.Operator, f.Type) {
		return bc, ValidationErrors{conditionError(p+".operator", "operator_type", string(c.Operator), f.Name, f.Type)}
	}
	name := f.Name
	single := func(op string, like *[2]string) {
		if len(c.Values) > 0 {
			errs = append(errs, conditionError(p+".values", "value_not_allowed", string(c.Operator)))
		}
		lit, err := literal(p+".value", f, c.Value, like)
		if err != nil {
			errs = append(errs, *err)
			return
		}
		bc.SOQL = name + " " + op + " " + lit
	}
	list := func() string {
		if c.Value != "" {
			errs = append(errs, conditionError(p+".value", "value_not_allowed", string(c.Operator)))
		}
		if len(c.Values) == 0 {
			errs = append(errs, conditionError(p+".values", "required"))
			return ""
		}
		lits := make([]string, 0, len(c.Values))
		for j, raw := range c.Values {
			lit, err := literal(fmt.Sprintf("%s.values[%d]", p, j), f, raw, nil)
			if err != nil {
				errs = append(errs, *err)
				continue
			}
			lits = append(lits, lit)
		}
		return "(" + strings.Join(lits, ", ") + ")"
	}
	noValue := func(expr string) {
		if c.Value != "" {
			errs = append(errs, conditionError(p+".value", "value_not_allowed", string(c.Operator)))
		}
		if len(c.Values) > 0 {
			errs = append(errs, conditionError(p+".values", "value_not_allowed", string(c.Operator)))
		}
		bc.SOQL = expr
	}
	// orNull makes a negative operator hold for blank fields explicitly,
	// rather than relying on how Salesforce treats null under != and NOT.
	orNull := func() {
		if bc.SOQL != "" {
			bc.SOQL = "(" + name + " = null OR " + bc.SOQL + ")"
		}
	}
	switch c.Operator {
	case OpEquals:
		single("=", nil)
	case OpNotEquals:
		single("!=", nil)
		orNull()
	case OpGT:
		single(">", nil)
	case OpGTE:
		single(">=", nil)
	case OpLT:
		single("<", nil)
	case OpLTE:
		single("<=", nil)
	case OpContains:
		single("LIKE", &[2]string{"%", "%"})
	case OpStartsWith:
		single("LIKE", &[2]string{"", "%"})
	case OpNotContains:
		single("LIKE", &[2]string{"%", "%"})
		if bc.SOQL != "" {
			bc.SOQL = "(NOT " + bc.SOQL + ")"
		}
		orNull()
	case OpIsEmpty:
		noValue(name + " = null")
	case OpIsNotEmpty:
		noValue(name + " != null")
	case OpIn:
		if l := list(); len(errs) == 0 {
			bc.SOQL = name + " IN " + l
		}
	case OpNotIn:
		if l := list(); len(errs) == 0 {
			bc.SOQL = name + " NOT IN " + l
			orNull()
		}
	}
	if len(errs) > 0 {
		bc.SOQL = ""
	}
	return bc, errs
}

// WhereClause compiles the conditions, and "the identity field is not
// empty" (S14), to a SOQL boolean expression without the WHERE keyword,
// such as "Email != null AND LeadSource = 'Web'". Every term that is not
// a simple comparison is parenthesised, so the engine may append its own
// terms with " AND ". Field names are the describe's spelling; the error
// is ValidationErrors when a field or value does not fit the describe.
func (c *Config) WhereClause(d *salesforce.SObjectDescribe) (string, error) {
	var errs ValidationErrors
	f, ok := d.Field(c.Identity.SalesforceField)
	if !ok {
		errs = append(errs, ValidationError{Step: StepIdentity, Path: "identity.salesforce_field", Code: "unknown_field", Message: message("unknown_field", c.Identity.SalesforceField)})
	}
	terms := []string{f.Name + " != null"}
	if c.Choice() == ObjectPersonAccount {
		// Business accounts are never synced.
		pa, ok := d.Field(PersonAccountField)
		if !ok {
			errs = append(errs, ValidationError{Step: StepIdentity, Path: "object", Code: "person_accounts_disabled", Message: message("person_accounts_disabled")})
		}
		terms = append(terms, pa.Name+" = true")
	}
	for i, cond := range c.Conditions {
		bc, e := bindCondition(i, cond, d)
		errs = append(errs, e...)
		terms = append(terms, bc.SOQL)
	}
	if err := errs.err(); err != nil {
		return "", err
	}
	return strings.Join(terms, " AND "), nil
}

// SelectFields lists the fields the engine reads from each Salesforce
// contact, in the describe's spelling and without duplicates: Id,
// SystemModstamp, LastModifiedById, the identity field, the social
// mappings' fields, the field mappings' Salesforce fields, then extra.
func (c *Config) SelectFields(d *salesforce.SObjectDescribe, extra []string) ([]string, error) {
	var errs ValidationErrors
	var out []string
	seen := map[string]bool{}
	add := func(step Step, path, name string) {
		f, ok := d.Field(name)
		if !ok {
			errs = append(errs, ValidationError{Step: step, Path: path, Code: "unknown_field", Message: message("unknown_field", name)})
			return
		}
		if key := strings.ToLower(f.Name); !seen[key] {
			seen[key] = true
			out = append(out, f.Name)
		}
	}
	for _, n := range []string{"Id", "SystemModstamp", "LastModifiedById"} {
		add(StepIdentity, "", n)
	}
	add(StepIdentity, "identity.salesforce_field", c.Identity.SalesforceField)
	for i, m := range c.Social {
		add(StepSocial, fmt.Sprintf("social_mappings[%d].salesforce_field", i), m.SalesforceField)
	}
	for i, m := range c.Fields {
		add(StepFields, fmt.Sprintf("field_mappings[%d].salesforce_field", i), m.SalesforceField)
		if m.NameRule != "" {
			add(StepFields, fmt.Sprintf("field_mappings[%d].name_rule", i), FirstNameField)
		}
	}
	if c.Choice() == ObjectPersonAccount {
		// The scope says IsPersonAccount = true; an incremental pull
		// evaluates it on the records it reads, so it reads the field.
		if _, ok := d.Field(PersonAccountField); ok {
			add(StepIdentity, "object", PersonAccountField)
		}
	}
	if c.Choice().Leads() {
		// A converted lead is followed to its Contact (the engine moves
		// the link), so its conversion fields are read with it.
		for _, n := range LeadConversionFields {
			if _, ok := d.Field(n); ok {
				add(StepIdentity, "object", n)
			}
		}
	}
	for i, n := range extra {
		add("", fmt.Sprintf("extra[%d]", i), n)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SOQL returns the query that reads the Salesforce records this
// configuration syncs: ScopeQuery(d, extraSelect...).
func (c *Config) SOQL(d *salesforce.SObjectDescribe, extraSelect []string) (string, error) {
	return c.ScopeQuery(d, extraSelect...).Build()
}

// CountSOQL returns the query that counts them: ScopeCount(d).
func (c *Config) CountSOQL(d *salesforce.SObjectDescribe) (string, error) {
	return c.ScopeCount(d).Build()
}
