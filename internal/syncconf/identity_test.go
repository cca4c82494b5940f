package syncconf

import (
	"errors"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
)

func TestIdentityKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		identity   contact.Identity
		raw        string
		want       string
		wantReason string
		wantErr    error
	}{
		{identity: contact.IdentityEmail, raw: "  Amy@Example.COM ", want: "amy@example.com"},
		{identity: contact.IdentityEmail, raw: "amy@example.com", want: "amy@example.com"},
		{identity: contact.IdentityEmail, raw: "not an e-mail", wantReason: "invalid_email", wantErr: contact.ErrEmailInvalid},
		{identity: contact.IdentityEmail, raw: "   ", wantReason: "required", wantErr: ErrEmptyIdentity},
		{identity: contact.IdentityPhone, raw: "886912345678", want: "+886912345678"},
		{identity: contact.IdentityPhone, raw: "+886 912-345-678", want: "+886912345678"},
		{identity: contact.IdentityPhone, raw: "+886 912 345 67a", wantReason: "invalid_phone", wantErr: contact.ErrPhoneInvalid},
		{identity: contact.IdentityPhone, raw: "+1 650 253 0000", want: "+16502530000"},
		{identity: contact.IdentityPhone, raw: "0912345678", wantReason: "invalid_phone", wantErr: contact.ErrPhoneNoCountry},
		{identity: contact.IdentityPhone, raw: "4155551212", wantReason: "invalid_phone", wantErr: contact.ErrPhoneInvalid},
		{identity: contact.IdentityPhone, raw: "", wantReason: "required", wantErr: ErrEmptyIdentity},
		{identity: contact.IdentityMemberID, raw: " M-0001 ", want: "M-0001"},
		{identity: contact.IdentityMemberID, raw: "m-0001", want: "m-0001"},
		{identity: contact.IdentityMemberID, raw: "\t", wantReason: "required", wantErr: ErrEmptyIdentity},
	}
	for _, tt := range tests {
		got, err := IdentityKey(tt.identity, tt.raw)
		if tt.wantReason == "" {
			if err != nil || got != tt.want {
				t.Errorf("IdentityKey(%s, %q) = %q, %v; want %q", tt.identity, tt.raw, got, err, tt.want)
			}
			continue
		}
		var re *RecordError
		if !errors.As(err, &re) || re.Reason != tt.wantReason || re.Value != tt.raw {
			t.Errorf("IdentityKey(%s, %q) error = %v, want a RecordError %s with the value", tt.identity, tt.raw, err, tt.wantReason)
			continue
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("IdentityKey(%s, %q) error = %v, want it to wrap %v", tt.identity, tt.raw, err, tt.wantErr)
		}
	}
	if _, err := IdentityKey("fax", "1"); err == nil {
		t.Errorf("IdentityKey(fax) error = nil, want an error")
	}
}

func TestIdentityKeySameOnBothSides(t *testing.T) {
	t.Parallel()
	// A Salesforce value and the platform's stored value of one person.
	pairs := []struct {
		identity       contact.Identity
		salesforce, pf string
	}{
		{contact.IdentityEmail, "Amy.Chen@Example.com ", "amy.chen@example.com"},
		{contact.IdentityPhone, "886-912-345-678", "+886912345678"},
		{contact.IdentityMemberID, "A123 ", "A123"},
	}
	for _, p := range pairs {
		a, err1 := IdentityKey(p.identity, p.salesforce)
		b, err2 := IdentityKey(p.identity, p.pf)
		if err1 != nil || err2 != nil || a != b {
			t.Errorf("IdentityKey(%s): Salesforce %q → %q, %v; platform %q → %q, %v; want equal keys", p.identity, p.salesforce, a, err1, p.pf, b, err2)
		}
	}
}
