// Package sfapi holds the few facts about Salesforce's wire format that the
// client and the emulator must agree on by definition: the pinned API version
// and the public 15→18 character record ID algorithm. Everything else is
// written independently on each side, so that a mistake in one is caught by
// the other (and by the third-party client tests against the emulator).
package sfapi

import (
	"errors"
	"strings"
)

// Version is the REST API version sfsync speaks, without the leading "v".
// The emulator accepts MinVersion..MaxVersion; the client pins Version.
const Version = "62.0"

// MinVersion and MaxVersion bound the API versions the emulator serves:
// every version Salesforce still supports (31.0 and up, per its API
// end-of-life policy) through Spring '26, so clients that default to an
// older version (jsforce uses 50.0) work unchanged.
const (
	MinVersion = 31
	MaxVersion = 66
)

// VersionPath is the REST base path for Version, e.g. "/services/data/v62.0".
const VersionPath = "/services/data/v" + Version

const idSuffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// ErrBadID reports a record ID that is neither 15 nor 18 valid characters.
var ErrBadID = errors.New("invalid salesforce id")

// ID18 returns the 18-character, case-insensitive form of a 15- or
// 18-character Salesforce record ID. An 18-character ID has its suffix
// recomputed from the first 15 characters and checked.
func ID18(id string) (string, error) {
	if len(id) != 15 && len(id) != 18 {
		return "", ErrBadID
	}
	for i := 0; i < 15; i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", ErrBadID
		}
	}
	suffix := idSuffix(id[:15])
	if len(id) == 18 {
		if !strings.EqualFold(id[15:], suffix) {
			return "", ErrBadID
		}
	}
	return id[:15] + suffix, nil
}

func idSuffix(id15 string) string {
	var out [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		n := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		out[chunk] = idSuffixAlphabet[n]
	}
	return string(out[:])
}
