package syncconf

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/sfsync/sfsync/internal/contact"
)

// SalesforceDatetimeLayout is how Salesforce writes datetimes in REST
// responses ("2013-05-20T20:49:32.000+0000"); ToSalesforce writes them
// the same way so that a value read back compares equal.
const SalesforceDatetimeLayout = "2006-01-02T15:04:05.000-0700"

// tagSeparator joins tags in text fields, as Salesforce joins the values
// of a multi-select picklist.
const tagSeparator = ";"

// ToPlatform converts a value read from the binding's Salesforce field
// (as decoded from the REST API's JSON: string, float64 or json.Number,
// bool, nil; dates "2010-01-01", datetimes "2013-05-20T20:49:32.000+0000")
// into the platform field's value:
//
//	text    string (a datetime as RFC 3339 in UTC, a date as YYYY-MM-DD)
//	phone   E.164 string; the number must carry its country code (S12)
//	email   trimmed, lower-cased string
//	date    "YYYY-MM-DD" (a datetime's UTC date)
//	number  float64
//	boolean bool
//	select  the matching option, in the option's spelling
//	tags    []string, split on ";"
//
// A blank value is nil (the platform field is cleared). A value that does
// not fit is a *RecordError naming the Salesforce field and the value.
func ToPlatform(b Binding, sfValue any) (any, error) {
	field := b.Salesforce.Name
	if IsBlank(sfValue) {
		return nil, nil
	}
	sfValue = b.mapValue(sfValue, true)
	switch b.Platform.Kind {
	case KindText:
		switch b.Salesforce.Type {
		case sfDate:
			return parseDate(field, sfValue)
		case sfDatetime:
			t, err := parseDatetime(field, sfValue)
			if err != nil {
				return nil, err
			}
			return t.UTC().Format(time.RFC3339), nil
		}
		return textOf(field, sfValue)
	case KindPhone:
		s, err := textOf(field, sfValue)
		if err != nil {
			return nil, err
		}
		return normalizePhone(field, s)
	case KindEmail:
		s, err := textOf(field, sfValue)
		if err != nil {
			return nil, err
		}
		return normalizeEmail(field, s)
	case KindDate:
		if b.Salesforce.Type == sfDatetime {
			t, err := parseDatetime(field, sfValue)
			if err != nil {
				return nil, err
			}
			return t.UTC().Format(time.DateOnly), nil
		}
		return parseDate(field, sfValue)
	case KindNumber:
		return numberOf(field, sfValue)
	case KindBoolean:
		return boolOf(field, sfValue)
	case KindSelect:
		s, err := textOf(field, sfValue)
		if err != nil {
			return nil, err
		}
		return option(field, b.Platform.Options, s)
	case KindTags:
		s, err := textOf(field, sfValue)
		if err != nil {
			return nil, err
		}
		var tags []string
		for _, t := range strings.Split(s, tagSeparator) {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
		if len(tags) == 0 {
			return nil, nil
		}
		return tags, nil
	}
	return nil, fmt.Errorf("syncconf: binding of %s has no platform kind", field)
}

// ToSalesforce converts a platform field's value (string, contact.Gender,
// []string or []any for tags, float64 or another number, bool, nil) into
// the value to write to the binding's Salesforce field, ready for JSON:
// a string, float64, bool or nil. Dates are "YYYY-MM-DD", datetimes
// "2006-01-02T15:04:05.000+0000", tags are joined with ";", picklist
// values take the describe's spelling.
//
// Values Salesforce would refuse fail here, per record, as a *RecordError
// naming the Salesforce field: a phone that is not a valid international
// number, an invalid e-mail, a picklist value that does not exist, a text
// longer than the field's length (counted in UTF-16 code units, as
// Salesforce counts), a number with too many integer digits or a fraction
// for an integer field, clearing a required field.
func ToSalesforce(b Binding, platformValue any) (any, error) {
	sf := b.Salesforce
	field := sf.Name
	if IsBlank(platformValue) {
		if sf.Type == sfBoolean {
			return false, nil // Salesforce booleans are never null
		}
		if !sf.Nillable {
			return nil, recordError(field, platformValue, "required_value", nil)
		}
		return nil, nil
	}
	platformValue = b.mapValue(platformValue, false)
	switch {
	case sf.Type == sfBoolean:
		return boolOf(field, platformValue)
	case isNumberType(sf.Type):
		x, err := numberOf(field, platformValue)
		if err != nil {
			return nil, err
		}
		if err := checkNumber(b, platformValue, x); err != nil {
			return nil, err
		}
		return x, nil
	case sf.Type == sfDate:
		return parseDate(field, platformValue)
	case sf.Type == sfDatetime:
		t, err := parseDatetime(field, platformValue)
		if err != nil {
			return nil, err
		}
		return t.UTC().Format(SalesforceDatetimeLayout), nil
	case sf.Type == sfMultipicklist:
		tags, err := tagsOf(field, platformValue)
		if err != nil {
			return nil, err
		}
		for i, t := range tags {
			v, ok := picklistValue(sf, t)
			if !ok {
				return nil, recordError(field, t, "not_an_option", nil)
			}
			tags[i] = v
		}
		return checkLength(b, strings.Join(tags, tagSeparator))
	}
	// The Salesforce field holds text: string, textarea, phone, email,
	// picklist, url, combobox, encryptedstring.
	var s string
	var err error
	switch b.Platform.Kind {
	case KindTags:
		var tags []string
		if tags, err = tagsOf(field, platformValue); err == nil {
			s = strings.Join(tags, tagSeparator)
		}
	case KindPhone:
		if s, err = textOf(field, platformValue); err == nil {
			s, err = normalizePhone(field, s)
		}
	default:
		s, err = textOf(field, platformValue)
	}
	if err != nil {
		return nil, err
	}
	switch sf.Type {
	case sfEmail:
		if s, err = normalizeEmail(field, s); err != nil {
			return nil, err
		}
	case sfPicklist:
		v, ok := picklistValue(sf, s)
		if !ok {
			return nil, recordError(field, s, "not_an_option", nil)
		}
		s = v
	}
	return checkLength(b, s)
}

// mapValue translates a value through the binding's value map: a
// Salesforce value into the platform's spelling (toPlatform) or back.
// Text is matched case-insensitively (as Salesforce compares picklist
// values), each element of a list or of a ";"-joined multi-select on its
// own; values the map does not name pass unchanged.
func (b Binding) mapValue(v any, toPlatform bool) any {
	if len(b.ValueMap) == 0 {
		return v
	}
	one := func(s string) string {
		t := strings.TrimSpace(s)
		for _, p := range b.ValueMap {
			from, to := p.Platform, p.Salesforce
			if toPlatform {
				from, to = to, from
			}
			if strings.EqualFold(strings.TrimSpace(from), t) {
				return to
			}
		}
		return s
	}
	switch x := v.(type) {
	case string:
		if b.Salesforce.Type == sfMultipicklist || b.Platform.Kind == KindTags {
			parts := strings.Split(x, tagSeparator)
			for i := range parts {
				parts[i] = one(parts[i])
			}
			return strings.Join(parts, tagSeparator)
		}
		return one(x)
	case contact.Gender:
		return one(string(x))
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = one(s)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if s, ok := e.(string); ok {
				out[i] = one(s)
			} else {
				out[i] = e
			}
		}
		return out
	}
	return v
}

// IsBlank reports a value that holds nothing: nil, blank text, an empty
// list or gender. The engine and the configuration share it.
func IsBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case contact.Gender:
		return x == ""
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// textOf returns a text value as a string. Numbers and booleans are
// written the way Salesforce writes them in text.
func textOf(field string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case contact.Gender:
		return string(x), nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", recordError(field, v, "unsupported_type", nil, fmt.Sprintf("%T", v))
}

func normalizePhone(field, s string) (string, error) {
	p, err := contact.NormalizePhone(s, "")
	if err != nil {
		return "", recordError(field, s, "invalid_phone", err)
	}
	return p, nil
}

func normalizeEmail(field, s string) (string, error) {
	e, err := contact.NormalizeEmail(s)
	if err != nil {
		return "", recordError(field, s, "invalid_email", err)
	}
	return e, nil
}

// parseDate accepts "YYYY-MM-DD" (the form both sides use for dates).
func parseDate(field string, v any) (string, error) {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.DateOnly), nil
	}
	s, ok := v.(string)
	if !ok {
		return "", recordError(field, v, "invalid_date", nil)
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return "", recordError(field, s, "invalid_date", err)
	}
	return t.Format(time.DateOnly), nil
}

// datetimeLayouts are the datetime forms accepted from either side:
// Salesforce's own and RFC 3339 (with or without fractional seconds).
var datetimeLayouts = []string{SalesforceDatetimeLayout, "2006-01-02T15:04:05-0700", time.RFC3339Nano}

func parseDatetime(field string, v any) (time.Time, error) {
	if t, ok := v.(time.Time); ok {
		return t, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, recordError(field, v, "invalid_date", nil)
	}
	s = strings.TrimSpace(s)
	for _, l := range datetimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, recordError(field, s, "invalid_date", nil)
}

func numberOf(field string, v any) (float64, error) {
	var x float64
	switch n := v.(type) {
	case float64:
		x = n
	case float32:
		x = float64(n)
	case int:
		x = float64(n)
	case int64:
		x = float64(n)
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, recordError(field, v, "invalid_number", err)
		}
		x = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return 0, recordError(field, v, "invalid_number", err)
		}
		x = f
	default:
		return 0, recordError(field, v, "invalid_number", nil)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, recordError(field, v, "invalid_number", nil)
	}
	return x, nil
}

func boolOf(field string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, recordError(field, v, "invalid_boolean", nil)
}

func option(field string, options []string, s string) (string, error) {
	s = strings.TrimSpace(s)
	for _, o := range options {
		if strings.EqualFold(o, s) {
			return o, nil
		}
	}
	return "", recordError(field, s, "not_an_option", nil)
}

func tagsOf(field string, v any) ([]string, error) {
	var tags []string
	switch x := v.(type) {
	case []string:
		tags = append(tags, x...)
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, recordError(field, v, "unsupported_type", nil, fmt.Sprintf("%T", v))
			}
			tags = append(tags, s)
		}
	case string:
		tags = []string{x}
	default:
		return nil, recordError(field, v, "unsupported_type", nil, fmt.Sprintf("%T", v))
	}
	for _, t := range tags {
		if strings.Contains(t, tagSeparator) {
			return nil, recordError(field, t, "invalid_text", nil, tagSeparator)
		}
	}
	return tags, nil
}

// checkLength refuses a text longer than the Salesforce field, counting as
// Salesforce does (UTF-16 code units), so that Salesforce never has to
// answer STRING_TOO_LONG.
func checkLength(b Binding, s string) (any, error) {
	limit := b.Salesforce.Length
	if limit <= 0 {
		return s, nil
	}
	n := 0
	for _, r := range s {
		if l := utf16.RuneLen(r); l > 0 {
			n += l
		} else {
			n++
		}
	}
	if n > limit {
		e := recordError(b.Salesforce.Name, s, "too_long", nil, n, limit)
		e.Limit = limit
		return nil, e
	}
	return s, nil
}

// checkNumber refuses a number Salesforce would refuse for the field: a
// fraction in an int or long field, or more integer digits than the
// field's precision minus its scale (digits for int and long).
func checkNumber(b Binding, raw any, x float64) error {
	sf := b.Salesforce
	maxDigits := sf.Precision - sf.Scale
	if sf.Type == sfInt || sf.Type == sfLong {
		if x != math.Trunc(x) {
			return recordError(sf.Name, raw, "not_an_integer", nil)
		}
		maxDigits = sf.Digits
	}
	if maxDigits <= 0 {
		return nil
	}
	digits := 0
	if a := math.Trunc(math.Abs(x)); a >= 1 {
		digits = len(strconv.FormatFloat(a, 'f', 0, 64))
	}
	if digits > maxDigits {
		e := recordError(sf.Name, raw, "number_out_of_range", nil, maxDigits)
		e.Limit = maxDigits
		return e
	}
	return nil
}
