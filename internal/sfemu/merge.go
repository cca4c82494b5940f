package sfemu

import (
	"context"
	"time"
)

// maxMergeLosers is how many records Salesforce merges into one master in
// one request: "up to three records including the master", in the UI and
// in the SOAP merge() call alike.
const maxMergeLosers = 2

// MergeContacts merges up to two Contacts into masterID as the org's human
// user does in the UI; see MergeContactsAs.
func (o *Org) MergeContacts(masterID string, loserIDs ...string) error {
	return o.MergeContactsAs(o.humanID, masterID, nil, loserIDs...)
}

// MergeContactsAs merges the losers into the master as Salesforce's merge
// does (the UI's Merge Contacts and SOAP merge(); the REST API has no merge):
// in one transaction the master is updated (with fields, which supersede its
// values as a MergeRequest's masterRecord fields do, or with none: its
// LastModifiedDate and SystemModstamp still advance), and each loser gets
// MasterRecordId = the master's Id and goes to the Recycle Bin (IsDeleted),
// where queryAll and getDeleted see it. The change history records an UPDATE
// of the master and a DELETE of each loser, as Change Data Capture does.
// Nothing is written when any record is unknown, deleted or repeated.
func (o *Org) MergeContactsAs(userID, masterID string, fields map[string]any, loserIDs ...string) error {
	if len(loserIDs) == 0 || len(loserIDs) > maxMergeLosers {
		return &apiError{Status: 400, Code: "INVALID_OPERATION", Message: "a merge takes one master and one or two records to merge into it", Fields: []string{}}
	}
	now := o.srv.Now().Truncate(time.Second)
	var errs []*apiError
	o.withTx(context.Background(), func(tx *tx) {
		t := o.tables["contact"]
		master, _, ok := t.get(masterID)
		switch {
		case !ok:
			errs = []*apiError{errNotFound()}
			return
		case master.deleted():
			errs = []*apiError{{Status: 404, Code: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}}
			return
		}
		seen := map[string]bool{master.id: true}
		losers := make([]int32, 0, len(loserIDs))
		for _, id := range loserIDs {
			r, p, ok := t.get(id)
			switch {
			case !ok:
				errs = []*apiError{errNotFound()}
				return
			case r.deleted():
				errs = []*apiError{{Status: 404, Code: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}}
				return
			case seen[r.id]:
				errs = []*apiError{{Status: 400, Code: "INVALID_ID_FIELD", Message: "duplicate id in merge: " + r.id, Fields: []string{}}}
				return
			}
			seen[r.id] = true
			losers = append(losers, p)
		}
		mark := len(tx.undo)
		// The losers leave first so that a unique value they hold may move
		// to the master through fields, as it may in Salesforce.
		masterIdx := -1
		if f, ok := t.obj.field("MasterRecordId"); ok {
			masterIdx = f.index
		}
		a := o.sideActor(userID)
		for _, p := range losers {
			changes := map[int]any{}
			if masterIdx >= 0 {
				changes[masterIdx] = master.id
			}
			o.applyLocked(tx, t, a, p, changes, now, "DELETE", true)
		}
		if errs = o.updateLocked(tx, t, a, master.id, writeInput(normalizeInput(fields)), now, ""); len(errs) > 0 {
			tx.rollbackTo(mark)
		}
	})
	return joinErrs(errs)
}
