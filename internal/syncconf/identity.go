package syncconf

import (
	"errors"
	"fmt"

	"github.com/sfsync/sfsync/internal/contact"
)

// ErrEmptyIdentity reports an identity value that is blank after trimming;
// such records cannot be matched.
var ErrEmptyIdentity = errors.New("identity value is empty")

// IdentityKey normalises an identity value read from either side into the
// key two records are matched on (S6): e-mail trimmed and lower-cased,
// phone as E.164 (the number must carry its country code; no country is
// ever guessed), member ID trimmed and otherwise exact. The engine calls
// it with the Salesforce identity field's value and with the platform
// contact's value, and treats equal keys as the same person. The error is
// a *RecordError (Reason "invalid_phone", "invalid_email" or "required")
// wrapping ErrEmptyIdentity or the contact package's error.
func IdentityKey(identity contact.Identity, raw string) (string, error) {
	field := "identity " + string(identity)
	switch identity {
	case contact.IdentityMemberID:
		key := contact.NormalizeMemberID(raw)
		if key == "" {
			return "", emptyIdentity(field, raw)
		}
		return key, nil
	case contact.IdentityPhone:
		if contact.NormalizeMemberID(raw) == "" {
			return "", emptyIdentity(field, raw)
		}
		key, err := contact.NormalizePhone(raw, "")
		if err != nil {
			return "", recordError(field, raw, "invalid_phone", err)
		}
		return key, nil
	case contact.IdentityEmail:
		if contact.NormalizeMemberID(raw) == "" {
			return "", emptyIdentity(field, raw)
		}
		key, err := contact.NormalizeEmail(raw)
		if err != nil {
			return "", recordError(field, raw, "invalid_email", err)
		}
		return key, nil
	}
	return "", fmt.Errorf("syncconf: unknown identity %q", identity)
}

func emptyIdentity(field, raw string) *RecordError {
	return &RecordError{
		Field:  field,
		Value:  raw,
		Reason: "required",
		Message: map[string]string{
			LangEN:   field + ": " + messages["required"].en,
			LangZHTW: field + "：" + messages["required"].zh,
		},
		Err: ErrEmptyIdentity,
	}
}
