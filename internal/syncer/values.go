package syncer

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// mapping is one value that flows between the two sides: the identity,
// a social identity or a mapped field. key names it in a link's
// last-synced values, so it stays stable across configuration versions.
type mapping struct {
	key     string
	sfField string
	pulls   bool
	pushes  bool
	rule    syncconf.ConflictRule
	binding syncconf.Binding      // identity and fields
	social  *syncconf.BoundSocial // social identities
	ident   bool
}

func mappingsOf(b *syncconf.Bound) []mapping {
	var out []mapping
	ib := b.Identity.Binding()
	out = append(out, mapping{key: "identity:" + ib.Salesforce.Name + ">" + ib.Platform.Name, sfField: ib.Salesforce.Name,
		pulls: true, pushes: true, rule: syncconf.NewestWins, binding: ib, ident: true})
	for i := range b.Social {
		s := b.Social[i]
		out = append(out, mapping{key: "social:" + s.Salesforce.Name + ">" + s.ChannelType + "/" + s.ChannelID, sfField: s.Salesforce.Name,
			pulls: s.Direction.Pulls(), pushes: s.Direction.Pushes(), rule: s.ConflictRule(), social: &b.Social[i]})
	}
	for _, f := range b.Fields {
		key := "field:" + f.Salesforce.Name + ">" + f.Platform.Name
		if f.NameRule != "" {
			// Another rule gives other values: a key of its own, so a
			// changed rule is a first match for the name, not an edit.
			key = "name:" + f.First.Name + "+" + f.Salesforce.Name + ">" + f.Platform.Name + "/" + string(f.NameRule)
		}
		out = append(out, mapping{key: key, sfField: f.Salesforce.Name,
			pulls: f.Direction.Pulls(), pushes: f.Direction.Pushes(), rule: f.ConflictRule(), binding: f})
	}
	return out
}

// fromSalesforce reads the mapping's value from a Salesforce record, in
// the platform's form.
func (m mapping) fromSalesforce(rec map[string]any) (any, error) {
	raw := fieldValue(rec, m.sfField)
	if m.social != nil {
		id, ok, err := m.social.ToPlatform(raw)
		if err != nil || !ok {
			return nil, err
		}
		return id.UserID, nil
	}
	if m.ident {
		if isBlank(raw) {
			return nil, nil
		}
		s, _ := raw.(string)
		return syncconf.IdentityKey(contact.Identity(m.binding.Platform.Name), s)
	}
	if m.binding.NameRule != "" {
		first, _ := fieldValue(rec, m.binding.First.Name).(string)
		last, _ := raw.(string)
		raw = syncconf.JoinName(m.binding.NameRule, first, last)
	}
	return syncconf.ToPlatform(m.binding, raw)
}

// sfFields are the Salesforce fields the mapping reads and writes: its
// field, and FirstName beside LastName under a name rule.
func (m mapping) sfFields() []string {
	if m.binding.NameRule != "" {
		return []string{m.sfField, m.binding.First.Name}
	}
	return []string{m.sfField}
}

// writeSalesforce converts the platform's value and sets it in rec: one
// field, or FirstName and LastName split by the name rule.
func (m mapping) writeSalesforce(rec map[string]any, c contact.Contact) error {
	if m.binding.NameRule == "" || m.social != nil {
		v, err := m.toSalesforce(c)
		if err != nil {
			return err
		}
		rec[m.sfField] = v
		return nil
	}
	name, _ := m.fromPlatform(c).(string)
	first, last := syncconf.SplitName(m.binding.NameRule, name)
	lv, err := syncconf.ToSalesforce(m.binding, last)
	if err != nil {
		return err
	}
	fb := m.binding
	fb.Salesforce, fb.NameRule = m.binding.First, ""
	fv, err := syncconf.ToSalesforce(fb, first)
	if err != nil {
		return err
	}
	rec[m.sfField], rec[m.binding.First.Name] = lv, fv
	return nil
}

// fromPlatform reads the mapping's value from a platform contact.
func (m mapping) fromPlatform(c contact.Contact) any {
	if m.social != nil {
		for _, s := range c.Social {
			if s.ChannelType == m.social.ChannelType && s.ChannelID == m.social.ChannelID {
				return s.UserID
			}
		}
		return nil
	}
	return syncconf.PlatformValue(c, m.binding.Platform.Name)
}

// setPlatform writes v (platform form) into c.
func (m mapping) setPlatform(c *contact.Contact, v any) error {
	if m.social != nil {
		c.Social = slices.DeleteFunc(slices.Clone(c.Social), func(s contact.SocialIdentity) bool {
			return s.ChannelType == m.social.ChannelType && s.ChannelID == m.social.ChannelID
		})
		if uid, _ := v.(string); uid != "" {
			c.Social = append(c.Social, contact.SocialIdentity{ChannelType: m.social.ChannelType, ChannelID: m.social.ChannelID, UserID: uid})
		}
		return nil
	}
	return syncconf.SetPlatformValue(c, m.binding.Platform.Name, v)
}

// toSalesforce converts a platform value into the value to write.
func (m mapping) toSalesforce(c contact.Contact) (any, error) {
	if m.social != nil {
		return m.social.ToSalesforce(c.Social)
	}
	return syncconf.ToSalesforce(m.binding, m.fromPlatform(c))
}

// fieldValue reads a record field by its describe name, case-insensitively.
func fieldValue(rec map[string]any, name string) any {
	if v, ok := rec[name]; ok {
		return v
	}
	for k, v := range rec {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func isBlank(v any) bool { return syncconf.IsBlank(v) }

// canon is a value's comparable form; equal values have equal forms
// whether they came from a record, a contact or a stored link.
func canon(v any) string {
	if isBlank(v) {
		return "null"
	}
	if s, ok := v.(string); ok && plainJSON(s) {
		return `"` + s + `"` // what json.Marshal writes, without its reflection (issue 14)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "!" + err.Error()
	}
	return string(b)
}

func same(a, b any) bool { return canon(a) == canon(b) }

// plainJSON reports whether json.Marshal writes s as s between quotes:
// printable ASCII with nothing it escapes (the quote, the backslash, and
// <, > and & for HTML). Most values are (names, phone numbers, IDs); the
// first sync's records spent 6% of serve's CPU in canon and jsonable's
// round trips through encoding/json (issue 14).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// jsonable turns a value into what a link stores (and reads back).
func jsonable(v any) any {
	if isBlank(v) {
		return nil
	}
	switch x := v.(type) {
	case string:
		if utf8.ValidString(x) {
			return x // a valid string comes back from the round trip as it went in
		}
	case bool:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	json.Unmarshal(b, &out)
	return out
}

// inputFrom describes the change from old to next as a contact.Input that
// sets exactly the fields that differ (null for cleared ones).
func inputFrom(old, next contact.Contact) contact.Input {
	var in contact.Input
	str := func(o *contact.Opt[string], a, b string) {
		if a != b {
			*o = contact.Opt[string]{Set: true, Null: b == "", Value: b}
		}
	}
	str(&in.MemberID, old.MemberID, next.MemberID)
	str(&in.Name, old.Name, next.Name)
	str(&in.Phone, old.Phone, next.Phone)
	str(&in.Email, old.Email, next.Email)
	str(&in.Birthday, old.Birthday, next.Birthday)
	str(&in.Gender, string(old.Gender), string(next.Gender))
	if !slices.Equal(old.Tags, next.Tags) && !(len(old.Tags) == 0 && len(next.Tags) == 0) {
		in.Tags = contact.Opt[[]string]{Set: true, Value: slices.Clone(next.Tags)}
		if len(next.Tags) == 0 {
			in.Tags.Value = []string{}
		}
	}
	for k, v := range next.Custom {
		if !same(old.Custom[k], v) {
			if in.Custom == nil {
				in.Custom = map[string]contact.Opt[any]{}
			}
			in.Custom[k] = contact.Opt[any]{Set: true, Null: v == nil, Value: v}
		}
	}
	for k := range old.Custom {
		if _, ok := next.Custom[k]; !ok {
			if in.Custom == nil {
				in.Custom = map[string]contact.Opt[any]{}
			}
			in.Custom[k] = contact.Opt[any]{Set: true, Null: true}
		}
	}
	if !sameSocial(old.Social, next.Social) {
		in.Social = contact.Opt[[]contact.SocialIdentity]{Set: true, Value: slices.Clone(next.Social)}
		if next.Social == nil {
			in.Social.Value = []contact.SocialIdentity{}
		}
	}
	return in
}

func sameSocial(a, b []contact.SocialIdentity) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

func cloneContact(c contact.Contact) contact.Contact {
	c.Tags = slices.Clone(c.Tags)
	c.Social = slices.Clone(c.Social)
	custom := make(map[string]any, len(c.Custom))
	for k, v := range c.Custom {
		custom[k] = v
	}
	c.Custom = custom
	return c
}

func inputEmpty(in contact.Input) bool {
	return !in.MemberID.Set && !in.Name.Set && !in.Phone.Set && !in.Email.Set && !in.Birthday.Set &&
		!in.Gender.Set && !in.Tags.Set && len(in.Custom) == 0 && !in.Social.Set
}

// cloneLink copies a link with its value maps, so a decision that is later
// rolled back (a failed record) leaves the loaded link as it was.
func cloneLink(l store.Link) store.Link {
	l.SFValues = maps.Clone(l.SFValues)
	l.PFValues = maps.Clone(l.PFValues)
	if l.SFValues == nil {
		l.SFValues = map[string]any{}
	}
	if l.PFValues == nil {
		l.PFValues = map[string]any{}
	}
	return l
}
