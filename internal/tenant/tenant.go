// Package tenant holds merchants' accounts: tenants with their plan
// entitlements and defaults, their admin users, and their API keys.
package tenant

import (
	// Embedded zone data: a server image without /usr/share/zoneinfo
	// still shows Asia/Taipei times.
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/crypto/argon2"
)

// Tenant is one merchant account.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Plan Plan   `json:"plan"`
	// Language is the admin UI's default language: "zh-TW" or "en".
	Language string `json:"language"`
	// PhoneRegion is the default region for phone numbers written without
	// a country code, e.g. "TW". Empty (the default) means such numbers
	// are refused.
	PhoneRegion string `json:"phone_region"`
	// TimeZone is the IANA zone the admin UI shows times in, e.g.
	// "Asia/Taipei". Empty means the language's default (DefaultTimeZone).
	TimeZone string    `json:"time_zone,omitempty"`
	Created  time.Time `json:"created_at"`
}

// DefaultTimeZone is the zone of a tenant that set none: Asia/Taipei for
// a zh-TW tenant (the seed's merchants are in Taiwan), UTC otherwise.
func DefaultTimeZone(language string) string {
	if language == "zh-TW" {
		return "Asia/Taipei"
	}
	return "UTC"
}

// Location is the tenant's time zone: TimeZone, or the language's
// default. A zone that no longer loads falls back to UTC rather than
// failing a page.
func (t Tenant) Location() *time.Location {
	name := t.TimeZone
	if name == "" {
		name = DefaultTimeZone(t.Language)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Plan holds a tenant's entitlements.
type Plan struct {
	// SalesforceAddon is the "Salesforce member data integration" add-on (S1).
	SalesforceAddon bool `json:"salesforce_addon"`
	// SocialCDP allows several social identity mappings (S10).
	SocialCDP bool `json:"social_cdp"`
}

// Languages the admin UI speaks.
var Languages = []string{"zh-TW", "en"}

// Validate checks a tenant's settings.
func (t Tenant) Validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return errors.New("tenant name is required")
	}
	if t.Language != "zh-TW" && t.Language != "en" {
		return fmt.Errorf("language %q: must be zh-TW or en", t.Language)
	}
	if t.TimeZone != "" {
		if _, err := time.LoadLocation(t.TimeZone); err != nil || t.TimeZone == "Local" {
			return fmt.Errorf("time zone %q: not an IANA time zone (e.g. Asia/Taipei, UTC)", t.TimeZone)
		}
	}
	if t.PhoneRegion != "" && !ValidRegion(t.PhoneRegion) {
		return fmt.Errorf("phone region %q: not a region libphonenumber knows (e.g. TW, US)", t.PhoneRegion)
	}
	return nil
}

// ValidRegion reports whether r is a region code with phone metadata.
func ValidRegion(r string) bool {
	return phonenumbers.GetCountryCodeForRegion(r) != 0
}

// Admin is a person who signs in to a tenant's admin pages.
type Admin struct {
	ID       string    `json:"id"`
	TenantID string    `json:"tenant_id"`
	Email    string    `json:"email"`
	Language string    `json:"language,omitempty"`
	Created  time.Time `json:"created_at"`
}

// APIKey is a tenant's key for the JSON API. Only its hash is stored.
type APIKey struct {
	ID       string     `json:"id"`
	TenantID string     `json:"tenant_id"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created_at"`
	Revoked  *time.Time `json:"revoked_at,omitempty"`
}

// argon2id parameters (RFC 9106's second recommended option, with less memory).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id into a PHC-style string.
func HashPassword(password string) (string, error) {
	if len(password) < 8 {
		return "", errors.New("password must be at least 8 characters")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a HashPassword hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// APIKeyPrefix starts every API key, so leaked keys are easy to spot.
const APIKeyPrefix = "sfs_"

// NewAPIKey returns a fresh secret key (shown once) and the hash to store.
func NewAPIKey() (secret, hash string, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashAPIKey(secret), nil
}

// HashAPIKey hashes a key for storage and lookup. Keys carry 192 random
// bits, so a plain SHA-256 is enough (no salt or stretching is needed).
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
