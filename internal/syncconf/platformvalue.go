package syncconf

import (
	"fmt"
	"strings"

	"github.com/sfsync/sfsync/internal/contact"
)

// PlatformValue returns a platform field's value on c, in the form
// ToPlatform produces and ToSalesforce takes: strings, []string for tags,
// the custom field's stored value, nil when unset.
func PlatformValue(c contact.Contact, field string) any {
	var s string
	switch field {
	case "member_id":
		s = c.MemberID
	case "name":
		s = c.Name
	case "phone":
		s = c.Phone
	case "email":
		s = c.Email
	case "birthday":
		s = c.Birthday
	case "gender":
		s = string(c.Gender)
	case "tags":
		if len(c.Tags) == 0 {
			return nil
		}
		return c.Tags
	default:
		if key, ok := strings.CutPrefix(field, CustomFieldPrefix); ok {
			return c.Custom[key]
		}
		return nil
	}
	if s == "" {
		return nil
	}
	return s
}

// SetPlatformValue writes a value ToPlatform produced into a platform
// field of c: strings for the built-in fields (gender must be one of
// contact's genders), []string for tags, the value itself for custom
// fields. nil clears the field.
func SetPlatformValue(c *contact.Contact, field string, v any) error {
	if field == "tags" {
		switch x := v.(type) {
		case nil:
			c.Tags = nil
		case []string:
			c.Tags = append([]string(nil), x...)
		default:
			return fmt.Errorf("syncconf: tags value of type %T", v)
		}
		return nil
	}
	if key, ok := strings.CutPrefix(field, CustomFieldPrefix); ok {
		if v == nil {
			delete(c.Custom, key)
			return nil
		}
		if c.Custom == nil {
			c.Custom = map[string]any{}
		}
		c.Custom[key] = v
		return nil
	}
	s, ok := v.(string)
	if v != nil && !ok {
		return fmt.Errorf("syncconf: %s value of type %T", field, v)
	}
	switch field {
	case "member_id":
		c.MemberID = s
	case "name":
		c.Name = s
	case "phone":
		c.Phone = s
	case "email":
		c.Email = s
	case "birthday":
		c.Birthday = s
	case "gender":
		if g := contact.Gender(s); g.Valid() {
			c.Gender = g
		} else {
			return fmt.Errorf("syncconf: gender %q is not one of female, male, other", s)
		}
	default:
		return fmt.Errorf("syncconf: unknown platform field %q", field)
	}
	return nil
}
