package tenant

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("got hash %q, want an argon2id PHC string", h)
	}
	if !CheckPassword(h, "correct horse") {
		t.Error("got mismatch for the right password, want match")
	}
	if CheckPassword(h, "correct horsf") {
		t.Error("got match for a wrong password, want mismatch")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("got no error for a 5-character password, want one")
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	k1, h1, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, _, _ := NewAPIKey()
	if k1 == k2 || !strings.HasPrefix(k1, APIKeyPrefix) {
		t.Fatalf("got keys %q and %q, want two different keys with prefix %q", k1, k2, APIKeyPrefix)
	}
	if HashAPIKey(k1) != h1 || strings.Contains(h1, k1) {
		t.Errorf("got hash %q, want the SHA-256 of the key", h1)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t  Tenant
		ok bool
	}{
		{Tenant{Name: "Acme", Language: "zh-TW"}, true},
		{Tenant{Name: "Acme", Language: "en", PhoneRegion: "TW"}, true},
		{Tenant{Name: "", Language: "en"}, false},
		{Tenant{Name: "Acme", Language: "fr"}, false},
		{Tenant{Name: "Acme", Language: "en", PhoneRegion: "XX"}, false},
	}
	for _, tt := range tests {
		if err := tt.t.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.t, err, tt.ok)
		}
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tenant Tenant
		want   string
	}{
		{Tenant{Language: "zh-TW"}, "Asia/Taipei"},
		{Tenant{Language: "en"}, "UTC"},
		{Tenant{Language: "zh-TW", TimeZone: "Asia/Tokyo"}, "Asia/Tokyo"},
		{Tenant{Language: "en", TimeZone: "Mars/Olympus"}, "UTC"},
	} {
		if got := tc.tenant.Location().String(); got != tc.want {
			t.Errorf("%+v: got location %s, want %s", tc.tenant, got, tc.want)
		}
	}
	for _, tc := range []struct {
		zone  string
		valid bool
	}{{"", true}, {"Asia/Taipei", true}, {"UTC", true}, {"Mars/Olympus", false}, {"Local", false}} {
		err := Tenant{Name: "Shop", Language: "zh-TW", TimeZone: tc.zone}.Validate()
		if (err == nil) != tc.valid {
			t.Errorf("Validate with time zone %q: got error %v, want valid=%v", tc.zone, err, tc.valid)
		}
	}
}
