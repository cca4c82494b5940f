package contact

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// ErrPhoneNoCountry reports a phone number written without a country code
// when no default region was set explicitly.
var ErrPhoneNoCountry = errors.New("phone number has no country code (write it as +886912345678 or 886912345678)")

// ErrPhoneInvalid reports a phone number that is not a valid number under
// libphonenumber's rules.
var ErrPhoneInvalid = errors.New("not a valid international phone number")

// ErrEmailInvalid reports a malformed e-mail address.
var ErrEmailInvalid = errors.New("not a valid e-mail address")

// NormalizePhone returns raw as E.164. The number must carry its country
// code, with or without a leading "+"; spaces, dots, dashes and brackets are
// allowed. A number without a country code is accepted only when
// defaultRegion (an ISO 3166 code such as "TW") is set, and a country is
// never guessed otherwise.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	return normalizePhone(raw, defaultRegion, true)
}

// normalizePhone is NormalizePhone; without fast it asks libphonenumber
// about every number (the reference the fast path is tested against).
func normalizePhone(raw, defaultRegion string, fast bool) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ErrPhoneInvalid
	}
	if fast && s[0] == '+' && recentPhones.has(s) {
		return s, nil
	}
	digits := make([]byte, 0, len(s))
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && len(digits) == 0 && !plus:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t':
		default:
			return "", fmt.Errorf("%w: unexpected character %q", ErrPhoneInvalid, c)
		}
	}
	if len(digits) < 4 || len(digits) > 17 {
		return "", ErrPhoneInvalid
	}
	var candidates []string
	if plus {
		candidates = []string{"+" + string(digits)}
	} else if digits[0] == '0' {
		// A leading 0 is a national trunk prefix or an international
		// dialling prefix; both need a region to mean anything.
		if defaultRegion == "" {
			return "", ErrPhoneNoCountry
		}
		candidates = []string{string(digits)}
	} else {
		// "886912345678": the country code without "+". With a region set,
		// a national number ("912345678") is also tried, second.
		candidates = []string{"+" + string(digits)}
		if defaultRegion != "" {
			candidates = append(candidates, string(digits))
		}
	}
	region := defaultRegion
	if region == "" {
		region = "ZZ"
	}
	for _, c := range candidates {
		out, valid := phoneCandidate(c, region, fast)
		if valid {
			recentPhones.add(out)
			return out, nil
		}
	}
	return "", ErrPhoneInvalid
}

// phoneCandidate returns c (digits, "+"-prefixed or not) in E.164 and
// whether libphonenumber takes it as a valid number with region as the
// default. With fast, the common forms skip the library (fastPhone) and
// give its answer.
func phoneCandidate(c, region string, fast bool) (string, bool) {
	if fast {
		digits, plus := strings.CutPrefix(c, "+")
		if out, valid, certain := fastPhone(digits, plus, region); certain {
			return out, valid
		}
	}
	num, err := phonenumbers.Parse(c, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// recentPhones and recentEmails remember what NormalizePhone and
// NormalizeEmail returned lately. A result normalises to itself (a valid
// E.164 number whatever the region), so when one comes back (the sync
// engine normalises a Salesforce value in its transform, then the store's
// rules normalise the result again) the second call skips the parsing:
// libphonenumber costs ≈14 µs a number.
var (
	recentPhones = recentSet{max: 1 << 14}
	recentEmails = recentSet{max: 1 << 14}
)

type recentSet struct {
	mu  sync.Mutex
	max int
	m   map[string]struct{}
}

func (c *recentSet) has(s string) bool {
	c.mu.Lock()
	_, ok := c.m[s]
	c.mu.Unlock()
	return ok
}

func (c *recentSet) add(s string) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]struct{}, c.max) // forget all: bounded memory
	}
	c.m[s] = struct{}{}
	c.mu.Unlock()
}

// NormalizeEmail trims and lower-cases an e-mail address and checks its
// syntax.
func NormalizeEmail(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" || len(s) > 254 {
		return "", ErrEmailInvalid
	}
	if s == raw && recentEmails.has(s) {
		return s, nil
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", ErrEmailInvalid
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", ErrEmailInvalid
	}
	recentEmails.add(s)
	return s, nil
}

// NormalizeMemberID trims a member ID; matching on it is otherwise exact.
func NormalizeMemberID(raw string) string {
	return strings.TrimSpace(raw)
}
