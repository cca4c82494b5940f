package sfemu

import (
	"fmt"
	"strings"
	"unicode"
)

// Duplicate rules (issue 16). A new org has none active here; the side
// door turns Salesforce's standard rules on per object, with the action
// "alert" (Allow, with an alert) or "block". An API create that a rule
// matches fails with DUPLICATES_DETECTED unless the rule allows saving and
// the request sends Sforce-Duplicate-Rule-Header: allowSave=true; a UI
// create through the side door is stopped only by "block". The single
// record REST answer carries the matches under "duplicateResut" (sic: the
// spelling real orgs send, seen in client code that parses it), e.g.
//
//	[{"duplicateResut":{"allowSave":true,"duplicateRule":"Standard_Contact_Duplicate_Rule",
//	  "duplicateRuleEntityType":"Contact","errorMessage":"You're creating a duplicate record. We recommend you use an existing record instead.",
//	  "matchResults":[{"entityType":"Contact","errors":[],"matchEngine":"FuzzyMatchEngine",
//	  "matchRecords":[{"additionalInformation":[],"fieldDiffs":[],"matchConfidence":100.0,
//	  "record":{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003…"},"Id":"003…"}}],
//	  "rule":"Standard_Contact_Match_Rule_v1_1","size":1,"success":true}]},
//	  "errorCode":"DUPLICATES_DETECTED","message":"You're creating a duplicate record. We recommend you use an existing record instead."}]
//
// sObject Collections and Bulk API 2.0 report the bare error (statusCode,
// message, fields), as the Collections page of the REST API guide shows.
//
// The matching is a simplification of the standard matching rules (which
// are fuzzy): same last name (case-insensitive), first names equal or one
// blank, and the same e-mail (case-insensitive) or the same mobile or
// phone number (digits only, last nine compared); business accounts match
// on the same Name. Rules run on create only.

// Duplicate rule actions.
const (
	DuplicateAlert = "alert"
	DuplicateBlock = "block"
)

// DuplicateRules are the standard duplicate rules an org has on: an
// action per object ("" = off).
type DuplicateRules struct {
	Contact       string `json:"Contact,omitempty"`
	Lead          string `json:"Lead,omitempty"`
	PersonAccount string `json:"PersonAccount,omitempty"`
	Account       string `json:"Account,omitempty"` // business accounts
}

func (d DuplicateRules) validate() error {
	for _, v := range []string{d.Contact, d.Lead, d.PersonAccount, d.Account} {
		if v != "" && v != DuplicateAlert && v != DuplicateBlock {
			return fmt.Errorf("duplicate rule action %q: want %q, %q or empty", v, DuplicateAlert, DuplicateBlock)
		}
	}
	return nil
}

// SetDuplicateRules replaces the org's duplicate rules.
func (o *Org) SetDuplicateRules(d DuplicateRules) error {
	if err := d.validate(); err != nil {
		return err
	}
	o.mu.Lock()
	o.dupRules = d
	o.mu.Unlock()
	return nil
}

// DuplicateRules returns the org's duplicate rules.
func (o *Org) DuplicateRules() DuplicateRules {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.dupRules
}

// duplicateInfo is a DuplicateResult: the rule and the records it matched.
type duplicateInfo struct {
	allowSave     bool
	rule, match   string
	entity        string
	matchedIDs    []string
	message       string
	versionPrefix string // "/services/data/v62.0"
}

// The standard rules' alert texts as real answers carry them: the Contact
// rule's (a v54.0 answer quoted in client code), and the Lead and Account
// rules' (a Lead test against a real org, a MuleSoft connector answer).
const (
	duplicateMessage        = "Use one of these records?"
	contactDuplicateMessage = "You're creating a duplicate record. We recommend you use an existing record instead."
)

// checkDuplicatesLocked runs the object's duplicate rule against a
// create's values. Locked.
func (o *Org) checkDuplicatesLocked(t *table, a actor, old *record, changes map[int]any) *apiError {
	if old != nil {
		return nil
	}
	obj := t.obj
	person := obj.Name == ObjAccount && isPersonRecord(obj, nil, changes)
	var action, rule, match string
	message := duplicateMessage
	switch {
	case obj.Name == ObjContact:
		action, rule, match = o.dupRules.Contact, "Standard_Contact_Duplicate_Rule", "Standard_Contact_Match_Rule_v1_1"
		message = contactDuplicateMessage
	case obj.Name == ObjLead:
		action, rule, match = o.dupRules.Lead, "Standard_Lead_Duplicate_Rule", "Standard_Lead_Match_Rule_v1_0"
	case person:
		action, rule, match = o.dupRules.PersonAccount, "Standard_Person_Account_Duplicate_Rule", "Standard_Person_Account_Match_Rule_v1_0"
	case obj.Name == ObjAccount:
		action, rule, match = o.dupRules.Account, "Standard_Account_Duplicate_Rule", "Standard_Account_Match_Rule_v1_0"
	}
	if action == "" {
		return nil
	}
	allow := action == DuplicateAlert
	if allow && (a.api == "" || a.allowDupSave) {
		return nil
	}
	get := func(r *record, name string) string {
		if f, ok := obj.field(name); ok {
			var v any
			if r == nil {
				v = changes[f.index]
			} else {
				v = r.Value(f.index)
			}
			s, _ := v.(string)
			return s
		}
		return ""
	}
	names := struct{ email, mobile string }{"Email", "MobilePhone"}
	if person {
		names.email, names.mobile = "PersonEmail", "PersonMobilePhone"
	}
	var ids []string
	for _, r := range t.recs {
		if r == nil || r.deleted() {
			continue
		}
		if obj.Name == ObjAccount && isPersonRecord(obj, r, nil) != person {
			continue
		}
		if obj.Name == ObjContact && isPersonRecord(obj, r, nil) {
			continue // person contacts match through the person account rule
		}
		if obj.Name == ObjAccount && !person {
			if n := get(nil, "Name"); n != "" && strings.EqualFold(n, get(r, "Name")) {
				ids = append(ids, r.id)
			}
			continue
		}
		if !strings.EqualFold(get(nil, "LastName"), get(r, "LastName")) {
			continue
		}
		f1, f2 := get(nil, "FirstName"), get(r, "FirstName")
		if f1 != "" && f2 != "" && !strings.EqualFold(f1, f2) {
			continue
		}
		e1 := get(nil, names.email)
		same := e1 != "" && strings.EqualFold(e1, get(r, names.email))
		for _, pn := range []string{names.mobile, "Phone"} {
			p1 := phoneKey(get(nil, pn))
			if p1 != "" && (p1 == phoneKey(get(r, names.mobile)) || p1 == phoneKey(get(r, "Phone"))) {
				same = true
			}
		}
		if same {
			ids = append(ids, r.id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	e := fieldErr("DUPLICATES_DETECTED", message)
	e.dup = &duplicateInfo{allowSave: allow, rule: rule, match: match, entity: obj.Name, matchedIDs: ids, message: message,
		versionPrefix: "/services/data/v" + a.version}
	return e
}

// phoneKey is the last nine digits of a phone number ("" with fewer than
// seven): +886 912-345-678 and 0912345678 meet.
func phoneKey(s string) string {
	var b []rune
	for _, r := range s {
		if unicode.IsDigit(r) {
			b = append(b, r)
		}
	}
	if len(b) < 7 {
		return ""
	}
	if len(b) > 9 {
		b = b[len(b)-9:]
	}
	return string(b)
}

// duplicateAllowSave reads Sforce-Duplicate-Rule-Header (allowSave=true).
func duplicateAllowSave(h string) bool {
	for _, part := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "allowSave") && strings.EqualFold(strings.TrimSpace(v), "true") {
			return true
		}
	}
	return false
}

// appendDuplicateResult renders the single-record REST form (see above).
func appendDuplicateResult(b []byte, d *duplicateInfo) []byte {
	b = append(b, `{"allowSave":`...)
	if d.allowSave {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `,"duplicateRule":`...)
	b = appendJSONString(b, d.rule)
	b = append(b, `,"duplicateRuleEntityType":`...)
	b = appendJSONString(b, d.entity)
	b = append(b, `,"errorMessage":`...)
	b = appendJSONString(b, d.message)
	b = append(b, `,"matchResults":[{"entityType":`...)
	b = appendJSONString(b, d.entity)
	b = append(b, `,"errors":[],"matchEngine":"FuzzyMatchEngine","matchRecords":[`...)
	for i, id := range d.matchedIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"additionalInformation":[],"fieldDiffs":[],"matchConfidence":100.0,"record":{"attributes":{"type":`...)
		b = appendJSONString(b, d.entity)
		b = append(b, `,"url":`...)
		b = appendJSONString(b, d.versionPrefix+"/sobjects/"+d.entity+"/"+id)
		b = append(b, `},"Id":`...)
		b = appendJSONString(b, id)
		b = append(b, `}}`...)
	}
	b = append(b, `],"rule":`...)
	b = appendJSONString(b, d.match)
	b = append(b, `,"size":`...)
	b = append(b, fmt.Sprint(len(d.matchedIDs))...)
	return append(b, `,"success":true}]}`...)
}
