package store

import (
	"slices"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
)

// TestCreatedFields checks the shortcut against changedFields from an
// empty contact, which it replaces for new contacts' outbox rows.
func TestCreatedFields(t *testing.T) {
	t.Parallel()
	line := contact.SocialIdentity{ChannelType: "line", ChannelID: "OA", UserID: "U1"}
	for _, c := range []contact.Contact{
		{},
		{Tags: []string{}, Custom: map[string]any{}, Social: []contact.SocialIdentity{}},
		{MemberID: "M1", Name: "A", Phone: "+886911000001", Email: "a@example.com", Birthday: "2000-01-02", Gender: "female"},
		{Name: "B", Tags: []string{"vip"}},
		{Email: "c@example.com", Custom: map[string]any{"tier": "gold", "age": 3.0, "gone": nil, "flag": false}},
		{Phone: "+886911000002", Social: []contact.SocialIdentity{line}},
	} {
		if got, want := createdFields(&c), changedFields(contact.Contact{}, c); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%+v: got %q, want %q", c, got, want)
		}
	}
}
