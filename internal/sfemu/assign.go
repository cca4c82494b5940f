package sfemu

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// Lead assignment rules (issue 16). A new org has none. The side door
// adds one that hands leads to its users in turn (round robin), as a rule
// entry "assign to queue/user" would. REST applies the active rule to
// leads it creates or updates unless Sforce-Auto-Assign is FALSE; a valid
// AssignmentRule id in the header applies that rule, active or not
// (Assignment Rule Header, REST API Developer Guide). Bulk API 2.0 applies
// a rule only when the job names it (assignmentRuleId). UI edits through
// the side door apply none (the UI's "Assign using active assignment
// rule" box is off by default). Account territory rules are not emulated.

// AssignmentRule is a Lead assignment rule.
type AssignmentRule struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Active bool     `json:"active"`
	Owners []string `json:"owners"` // user ids, in turn
}

type assignRule struct {
	AssignmentRule
	next int
}

// AddLeadAssignmentRule adds a Lead assignment rule that assigns leads to
// owners (user ids or usernames) in turn. An active rule deactivates the
// one active before it, as Salesforce allows one active rule per object.
func (o *Org) AddLeadAssignmentRule(name string, owners []string, active bool) (AssignmentRule, error) {
	return o.addLeadAssignmentRule(name, owners, active, "")
}

func (o *Org) addLeadAssignmentRule(name string, owners []string, active bool, id string) (AssignmentRule, error) {
	if name == "" || len(owners) == 0 {
		return AssignmentRule{}, fmt.Errorf("an assignment rule needs a name and at least one owner")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var ids []string
	for _, w := range owners {
		var u *User
		for _, x := range o.users {
			if strings.EqualFold(x.Username, w) || len(w) >= 15 && x.ID[:15] == w[:15] {
				u = x
			}
		}
		if u == nil || !u.Active {
			return AssignmentRule{}, fmt.Errorf("no active user %q", w)
		}
		ids = append(ids, u.ID)
	}
	t := o.tables["assignmentrule"]
	if id == "" {
		id = o.nextID(t)
	} else if seq := decodeSeq(id); seq > t.seq {
		t.seq = seq
	}
	now := o.srv.Now().Truncate(time.Second)
	if active {
		af, _ := t.obj.field("Active")
		for p, r := range t.recs {
			if r != nil {
				t.set(int32(p), r.with(map[int]any{af.index: false}))
			}
		}
		for _, r := range o.assignRules {
			r.Active = false
		}
	}
	vals := map[int]any{}
	set := func(n string, v any) { f, _ := t.obj.field(n); vals[f.index] = v }
	set("Id", id)
	set("Name", name)
	set("SobjectType", ObjLead)
	set("Active", active)
	set("CreatedById", o.adminID)
	set("CreatedDate", now)
	set("LastModifiedById", o.adminID)
	set("LastModifiedDate", now)
	set("SystemModstamp", now)
	t.add(newRecord(id, vals))
	r := &assignRule{AssignmentRule: AssignmentRule{ID: id, Name: name, Active: active, Owners: ids}}
	o.assignRules = append(o.assignRules, r)
	return r.AssignmentRule, nil
}

// AssignmentRules returns the org's Lead assignment rules.
func (o *Org) AssignmentRules() []AssignmentRule {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := []AssignmentRule{}
	for _, r := range o.assignRules {
		out = append(out, r.AssignmentRule)
	}
	return out
}

// applyAssignmentLocked sets a lead's owner from an assignment rule when
// the write asks for one (see the comment at the top).
func (o *Org) applyAssignmentLocked(obj *objectDef, a actor, changes map[int]any) *apiError {
	if obj.Name != ObjLead || a.api == "" || obj.ownerIdx < 0 {
		return nil
	}
	var rule *assignRule
	switch h := strings.ToLower(a.assign); h {
	case "false":
		return nil
	case "", "true":
		if a.api == "bulkapi" {
			return nil
		}
		for _, r := range o.assignRules {
			if r.Active {
				rule = r
			}
		}
	default:
		id, err := sfapi.ID18(a.assign)
		if err != nil {
			return fieldErr("MALFORMED_ID", "Invalid assignment rule id: "+a.assign)
		}
		for _, r := range o.assignRules {
			if r.ID[:15] == id[:15] {
				rule = r
			}
		}
		if rule == nil {
			return fieldErr("INVALID_CROSS_REFERENCE_KEY", "invalid assignment rule id: "+a.assign)
		}
	}
	if rule == nil {
		return nil
	}
	owner := rule.Owners[rule.next%len(rule.Owners)]
	rule.next++
	changes[obj.ownerIdx] = o.intern(owner)
	return nil
}

// bulkAssignHeader is the Sforce-Auto-Assign equivalent of a Bulk API 2.0
// job's assignmentRuleId.
func bulkAssignHeader(ruleID string) http.Header {
	h := http.Header{}
	if ruleID != "" {
		h.Set("Sforce-Auto-Assign", ruleID)
	}
	return h
}
