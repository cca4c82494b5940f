package sfemu

import (
	"fmt"
	"regexp"
)

// ValidationRule is a Contact validation rule, standing in for the
// formula rules admins write: when a write leaves Field non-null and its
// value does not match Pattern, the write fails with
// FIELD_CUSTOM_VALIDATION_EXCEPTION and Message. Rules apply to API and
// side-door (UI) writes alike, as real validation rules do.
type ValidationRule struct {
	Name    string `json:"name"`
	Field   string `json:"field"`
	Pattern string `json:"pattern"` // Go regular expression the value must match
	Message string `json:"message"`
	// ShowOnField puts Field in the error's fields (the rule's error
	// location is the field rather than the top of the page).
	ShowOnField bool `json:"showOnField"`
}

type compiledRule struct {
	ValidationRule
	field *fieldDef
	re    *regexp.Regexp
}

// AddValidationRule adds a Contact validation rule.
func (o *Org) AddValidationRule(r ValidationRule) error {
	re, err := regexp.Compile(r.Pattern)
	if err != nil {
		return fmt.Errorf("validation rule %s: %w", r.Name, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	f, ok := o.tables["contact"].obj.field(r.Field)
	if !ok {
		return fmt.Errorf("validation rule %s: no Contact field %s", r.Name, r.Field)
	}
	if r.Message == "" {
		r.Message = r.Name + " failed"
	}
	o.rules = append(o.rules, compiledRule{ValidationRule: r, field: f, re: re})
	return nil
}

// ClearValidationRules removes every validation rule.
func (o *Org) ClearValidationRules() {
	o.mu.Lock()
	o.rules = nil
	o.mu.Unlock()
}

// checkRules runs the validation rules against the record as it would be
// after the write. Locked.
func (o *Org) checkRules(obj *objectDef, old *record, changes map[int]any) []*apiError {
	if obj.Name != "Contact" {
		return nil
	}
	var errs []*apiError
	for _, r := range o.rules {
		v, set := changes[r.field.index]
		if !set && old != nil {
			v = old.Value(r.field.index)
		}
		if v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		default:
			s = csvValue(r.field, v)
		}
		if r.re.MatchString(s) {
			continue
		}
		var fields []string
		if r.ShowOnField {
			fields = []string{r.field.Name}
		}
		errs = append(errs, fieldErr("FIELD_CUSTOM_VALIDATION_EXCEPTION", r.Message, fields...))
	}
	return errs
}
