package syncconf

import (
	"errors"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
)

func TestBoundIdentityBinding(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	tests := []struct {
		sf       string
		identity contact.Identity
		platform string // the platform's value, pushed to Salesforce
		want     any
		reason   string
	}{
		{"Email", contact.IdentityEmail, "Amy@Example.com", "amy@example.com", ""},
		{"MobilePhone", contact.IdentityPhone, "+886912345678", "+886912345678", ""},
		{"MobilePhone", contact.IdentityPhone, "0912345678", nil, "invalid_phone"},
		{"Member_No__c", contact.IdentityMemberID, "M-1", "M-1", ""},
		{"Member_No__c", contact.IdentityMemberID, strings.Repeat("9", 41), nil, "too_long"},
	}
	for _, tt := range tests {
		cfg := validConfig()
		cfg.Identity.SalesforceField, cfg.Identity.PlatformIdentity = tt.sf, tt.identity
		cfg.Fields = nil
		b, err := cfg.Bind(env)
		if err != nil {
			t.Fatalf("Bind(identity %s ↔ %s) = %v", tt.sf, tt.identity, err)
		}
		got, err := ToSalesforce(b.Identity.Binding(), tt.platform)
		var re *RecordError
		switch {
		case tt.reason == "" && (err != nil || got != tt.want):
			t.Errorf("identity %s ↔ %s: ToSalesforce(%q) = %#v, %v; want %#v", tt.sf, tt.identity, tt.platform, got, err, tt.want)
		case tt.reason != "" && (!errors.As(err, &re) || re.Reason != tt.reason):
			t.Errorf("identity %s ↔ %s: ToSalesforce(%q) error = %v, want %s", tt.sf, tt.identity, tt.platform, err, tt.reason)
		}
	}
}

func TestBoundSocial(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	b, err := cfg.Bind(testEnv(t))
	if err != nil {
		t.Fatalf("Bind = %v", err)
	}
	s := b.Social[0]
	id, ok, err := s.ToPlatform(" U123 ")
	if want := (contact.SocialIdentity{ChannelType: "line", ChannelID: "oa-1", UserID: "U123"}); err != nil || !ok || id != want {
		t.Errorf("ToPlatform(\" U123 \") = %+v, %v, %v; want %+v", id, ok, err, want)
	}
	if _, ok, err := s.ToPlatform(""); ok || err != nil {
		t.Errorf("ToPlatform(\"\") = ok %v, %v; want not ok, nil", ok, err)
	}
	ids := []contact.SocialIdentity{
		{ChannelType: "line", ChannelID: "oa-2", UserID: "U-other-oa"},
		{ChannelType: "facebook", ChannelID: "oa-1", UserID: "P-1"},
		{ChannelType: "line", ChannelID: "oa-1", UserID: "U-mine"},
	}
	if got, err := s.ToSalesforce(ids); err != nil || got != "U-mine" {
		t.Errorf("ToSalesforce = %#v, %v; want U-mine", got, err)
	}
	if got, err := s.ToSalesforce(ids[:2]); err != nil || got != nil {
		t.Errorf("ToSalesforce without the channel = %#v, %v; want nil", got, err)
	}
	long := []contact.SocialIdentity{{ChannelType: "line", ChannelID: "oa-1", UserID: strings.Repeat("U", 65)}}
	var re *RecordError
	if _, err := s.ToSalesforce(long); !errors.As(err, &re) || re.Reason != "too_long" || re.Limit != 64 {
		t.Errorf("ToSalesforce(65 characters) error = %v, want too_long with limit 64", err)
	}
}
