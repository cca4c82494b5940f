package contact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Opt is a JSON field that remembers whether it was present and whether it
// was null, so a partial update can tell "leave alone" from "clear".
type Opt[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records presence and nullness.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		var zero T
		o.Value = zero
		return nil
	}
	o.Null = false
	if p, ok := any(&o.Value).(*string); ok {
		if v, ok := plainJSONString(b); ok {
			*p = v
			return nil
		}
	}
	if p, ok := any(&o.Value).(*[]SocialIdentity); ok {
		if v, ok := plainSocialList(b); ok {
			*p = v
			return nil
		}
	}
	return json.Unmarshal(b, &o.Value)
}

// plainSocialList returns the social identities b lists when it is a JSON
// array of objects whose members are channel_type, channel_id and
// user_id, each at most once, spelt so, with plain string values
// (plainScanner.str); json.Unmarshal would decode them to the same.
// Anything else (other members, other spellings, escapes, null) reports
// false and is left to json.Unmarshal, which took two-fifths of a bulk
// request's decoding through reflection for these (issue 14).
func plainSocialList(b []byte) ([]SocialIdentity, bool) {
	p := plainScanner{b: b}
	p.ws()
	out, ok := p.socialList()
	p.ws()
	return out, ok && p.i == len(b)
}

// plainJSONString returns the value of b when it is a JSON string without
// escapes or control characters (plainScanner.str), which json.Unmarshal
// would decode to the bytes between the quotes; a bulk request holds a
// few per item and Unmarshal checks and decodes each again from the start.
func plainJSONString(b []byte) (string, bool) {
	p := plainScanner{b: b}
	s, ok := p.str()
	return s, ok && p.i == len(b)
}

// Some returns an Opt holding v.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, Value: v} }

// Input is a contact as written by a client: every field optional. On
// create an absent field is empty; on update it is left alone, and null
// clears it.
type Input struct {
	MemberID Opt[string]           `json:"member_id"`
	Name     Opt[string]           `json:"name"`
	Phone    Opt[string]           `json:"phone"`
	Email    Opt[string]           `json:"email"`
	Birthday Opt[string]           `json:"birthday"`
	Gender   Opt[string]           `json:"gender"`
	Tags     Opt[[]string]         `json:"tags"`
	Custom   map[string]Opt[any]   `json:"custom_fields"`
	Social   Opt[[]SocialIdentity] `json:"social_identities"`
}

// FieldError names one invalid field of a request and why.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// FieldErrors is a list of per-field problems; it is an error.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Reason
	}
	return "invalid contact: " + strings.Join(parts, "; ")
}

// DecodeInput decodes one JSON object into an Input, refusing unknown
// fields, wrong types and text that is not faithful Unicode (CheckJSONText)
// with an error naming the field.
func DecodeInput(data []byte) (Input, error) {
	if err := CheckJSONText(data); err != nil {
		return Input{}, err
	}
	if in, ok := plainInput(data); ok {
		return in, nil
	}
	var in Input
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Input{}, JSONError(err)
	}
	if dec.More() {
		return Input{}, FieldErrors{{Field: "", Reason: "body must hold exactly one JSON object"}}
	}
	return in, nil
}

// JSONError turns an encoding/json error into FieldErrors naming the field.
func JSONError(err error) error {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ute):
		field := ute.Field
		if field == "" {
			field = "(body)"
		}
		return FieldErrors{{Field: field, Reason: fmt.Sprintf("must be %s, not %s", jsonTypeName(ute.Type), ute.Value)}}
	case errors.As(err, &se):
		return FieldErrors{{Field: "(body)", Reason: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}}
	case strings.Contains(err.Error(), "json: unknown field "):
		_, name, _ := strings.Cut(err.Error(), "json: unknown field ")
		return FieldErrors{{Field: strings.Trim(name, `"`), Reason: "unknown field"}}
	case errors.Is(err, io.EOF):
		return FieldErrors{{Field: "(body)", Reason: "empty body; a JSON object is required"}}
	}
	return FieldErrors{{Field: "(body)", Reason: "malformed JSON: " + err.Error()}}
}

// jsonTypeName names the JSON type a Go type is decoded from, never the
// Go type itself (which means nothing to an API client).
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct, reflect.Interface:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return "a different type"
}

// Rules are the tenant settings that validation depends on.
type Rules struct {
	// PhoneRegion is the tenant's explicit default region ("" = none).
	PhoneRegion string
	// Fields are the tenant's custom field definitions, by key.
	Fields map[string]CustomFieldDef
}

var (
	dateRE      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	customKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// ValidCustomKey reports whether k can name a custom field.
func ValidCustomKey(k string) bool { return customKeyRE.MatchString(k) }

// Normalize validates in and returns it with identities normalised (phone
// to E.164, e-mail lower-cased, member ID trimmed) and empty strings turned
// into nulls. All problems are returned together, as TextErrors when any
// string cannot be stored (TextProblem), otherwise as FieldErrors.
func (r Rules) Normalize(in Input) (Input, error) {
	var errs, textErrs FieldErrors
	add := func(field, reason string) { errs = append(errs, FieldError{Field: field, Reason: reason}) }
	addText := func(field, reason string) { textErrs = append(textErrs, FieldError{Field: field, Reason: reason}) }
	str := func(o *Opt[string], field string, max int) {
		if !o.Set || o.Null {
			return
		}
		o.Value = strings.TrimSpace(o.Value)
		if o.Value == "" {
			o.Null = true
			return
		}
		if p := TextProblem(o.Value); p != "" {
			addText(field, p)
		} else if utf8.RuneCountInString(o.Value) > max {
			add(field, fmt.Sprintf("must be at most %d characters", max))
		}
	}
	str(&in.MemberID, "member_id", 255)
	str(&in.Name, "name", 255)
	str(&in.Phone, "phone", 64)
	str(&in.Email, "email", 254)
	str(&in.Birthday, "birthday", 10)
	str(&in.Gender, "gender", 16)
	if in.Phone.Set && !in.Phone.Null {
		p, err := NormalizePhone(in.Phone.Value, r.PhoneRegion)
		if err != nil {
			add("phone", fmt.Sprintf("%q: %v", in.Phone.Value, err))
		}
		in.Phone.Value = p
	}
	if in.Email.Set && !in.Email.Null {
		e, err := NormalizeEmail(in.Email.Value)
		if err != nil {
			add("email", fmt.Sprintf("%q: %v", in.Email.Value, err))
		}
		in.Email.Value = e
	}
	if in.Birthday.Set && !in.Birthday.Null && !validDate(in.Birthday.Value) {
		add("birthday", fmt.Sprintf("%q: must be a date written YYYY-MM-DD", in.Birthday.Value))
	}
	if in.Gender.Set && !in.Gender.Null && !Gender(in.Gender.Value).Valid() {
		add("gender", fmt.Sprintf("%q: must be one of female, male, other", in.Gender.Value))
	}
	if in.Tags.Set && !in.Tags.Null {
		seen := map[string]bool{}
		tags := make([]string, 0, len(in.Tags.Value))
		for i, t := range in.Tags.Value {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
				add(fmt.Sprintf("tags[%d]", i), "must not be empty")
			case TextProblem(t) != "":
				addText(fmt.Sprintf("tags[%d]", i), TextProblem(t))
			case utf8.RuneCountInString(t) > 64:
				add(fmt.Sprintf("tags[%d]", i), "must be at most 64 characters")
			case !seen[t]:
				seen[t] = true
				tags = append(tags, t)
			}
		}
		in.Tags.Value = tags
	}
	for _, k := range sortedKeys(in.Custom) {
		v := in.Custom[k]
		def, ok := r.Fields[k]
		field := "custom_fields." + k
		if p := TextProblem(k); p != "" {
			addText(field, "this key "+p)
			continue
		}
		if !ok {
			add(field, "no custom field with this key is defined")
			continue
		}
		if v.Null {
			continue
		}
		if str, ok := v.Value.(string); ok && TextProblem(str) != "" {
			addText(field, TextProblem(str))
			continue
		}
		nv, err := def.Coerce(v.Value)
		if err != nil {
			add(field, err.Error())
			continue
		}
		if nv == nil {
			v.Null = true
		}
		v.Value = nv
		in.Custom[k] = v
	}
	if in.Social.Set && !in.Social.Null {
		seen := map[string]bool{}
		for i, s := range in.Social.Value {
			f := fmt.Sprintf("social_identities[%d]", i)
			s.ChannelType = strings.ToLower(strings.TrimSpace(s.ChannelType))
			s.ChannelID = strings.TrimSpace(s.ChannelID)
			s.UserID = strings.TrimSpace(s.UserID)
			for _, part := range []struct{ name, v string }{{"channel_id", s.ChannelID}, {"user_id", s.UserID}} {
				if p := TextProblem(part.v); p != "" {
					addText(f+"."+part.name, p)
				}
			}
			if !validChannelType(s.ChannelType) {
				add(f+".channel_type", fmt.Sprintf("%q: must be a lower-case word such as line or facebook", s.ChannelType))
			}
			if s.ChannelID == "" || len(s.ChannelID) > 128 {
				add(f+".channel_id", "is required (at most 128 characters)")
			}
			if s.UserID == "" || len(s.UserID) > 128 {
				add(f+".user_id", "is required (at most 128 characters)")
			}
			if seen[s.Key()] {
				add(f, "is listed twice")
			}
			seen[s.Key()] = true
			in.Social.Value[i] = s
		}
	}
	if len(textErrs) > 0 {
		// Text that cannot be stored is its own kind of refusal (the API
		// answers 422); the other problems wait until it is fixed.
		return in, TextErrors(textErrs)
	}
	if len(errs) > 0 {
		return in, errs
	}
	return in, nil
}

func validChannelType(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validDate(s string) bool {
	if !dateRE.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Validate checks a custom field definition.
func (d CustomFieldDef) Validate() error {
	var errs FieldErrors
	if !ValidCustomKey(d.Key) {
		errs = append(errs, FieldError{"key", "must start with a lower-case letter and hold only a-z, 0-9 and _ (at most 63)"})
	}
	if strings.TrimSpace(d.Label) == "" {
		errs = append(errs, FieldError{"label", "is required"})
	}
	switch d.Type {
	case FieldText, FieldNumber, FieldDate, FieldBoolean:
		if len(d.Options) > 0 {
			errs = append(errs, FieldError{"options", "only a select field has options"})
		}
	case FieldSelect:
		if len(d.Options) == 0 {
			errs = append(errs, FieldError{"options", "a select field needs at least one option"})
		}
	default:
		errs = append(errs, FieldError{"type", fmt.Sprintf("%q: must be one of text, number, date, boolean, select", d.Type)})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Coerce checks v against the field's type and returns its canonical form:
// string for text, date ("YYYY-MM-DD") and select; float64 for number; bool
// for boolean. An empty text value becomes nil.
func (d CustomFieldDef) Coerce(v any) (any, error) {
	switch d.Type {
	case FieldText:
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("must be a string")
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		if p := TextProblem(s); p != "" {
			return nil, errors.New(p)
		}
		if utf8.RuneCountInString(s) > 1000 {
			return nil, errors.New("must be at most 1000 characters")
		}
		return s, nil
	case FieldNumber:
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("must be a number")
		}
		return f, nil
	case FieldDate:
		s, ok := v.(string)
		if !ok || !validDate(s) {
			return nil, errors.New("must be a date written YYYY-MM-DD")
		}
		return s, nil
	case FieldBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, errors.New("must be true or false")
		}
		return b, nil
	case FieldSelect:
		s, ok := v.(string)
		if !ok || !slices.Contains(d.Options, s) {
			return nil, fmt.Errorf("must be one of %s", strings.Join(d.Options, ", "))
		}
		return s, nil
	}
	return nil, fmt.Errorf("field has unknown type %q", d.Type)
}
