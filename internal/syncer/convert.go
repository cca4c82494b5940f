package syncer

import (
	"strings"
)

// Lead conversion (issue 16 item 3). A Lead converted in Salesforce is
// read-only, and the person lives on as the Contact (or Person Account)
// it became. The pull moves the lead's link to that record, like a
// merge's to its survivor (followMerges), and logs it; the lead is never
// matched again, so no platform contact is created for it and none is
// pushed as a new Lead. A configuration that syncs Leads does not update
// Contacts: the push acknowledges changes of a contact whose link moved,
// logged as skipped.

// convertedTo reports a converted Lead and the record it became:
// ConvertedContactId, else ConvertedAccountId.
func convertedTo(s *session, rec map[string]any) (string, bool) {
	if !s.cfg.Choice().Leads() || !isTrue(fieldValue(rec, "IsConverted")) {
		return "", false
	}
	if id, _ := fieldValue(rec, "ConvertedContactId").(string); id != "" {
		return id, true
	}
	id, _ := fieldValue(rec, "ConvertedAccountId").(string)
	return id, true
}

// isTrue reads a boolean as REST (true) or Bulk API CSV ("true") send it.
func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// ofObject reports whether a record Id belongs to the session's object,
// by its key prefix; without a prefix in the describe, every Id does.
func (s *session) ofObject(id string) bool {
	p := s.describe.KeyPrefix
	return p == "" || len(id) < 3 || strings.HasPrefix(id, p)
}

// driftSelect is what a drift check reads of each record in scope: Id and
// SystemModstamp, and for Leads IsConverted, since a converted Lead is
// linked to nothing (its link moved to the record it became).
func (s *session) driftSelect() []string {
	if s.cfg.Choice().Leads() {
		return []string{"Id", "SystemModstamp", "IsConverted"}
	}
	return []string{"Id", "SystemModstamp"}
}
