package syncconf

// CreateOptions say what sfsync sets on the Salesforce records it creates
// when a platform contact matches nothing and the no-match policy is
// create (issue 16 item 4). The mapped values come first; these fill in
// what the platform does not hold.
type CreateOptions struct {
	// Constants are fixed values written on every new record, e.g.
	// LeadSource = LINE; a picklist's value must be one of its values.
	Constants []ConstantValue `json:"constants,omitempty"`
	// Owner chooses who owns new records; empty is OwnerDefault.
	Owner OwnerPolicy `json:"owner,omitempty"`
	// OwnerID is the User who owns new records when Owner is OwnerUser.
	OwnerID string `json:"owner_id,omitempty"`
	// RecordTypeID is the record type of new records; empty leaves
	// Salesforce's default (for Person Accounts: the org's person record
	// type, which sfsync looks up).
	RecordTypeID string `json:"record_type_id,omitempty"`
	// AccountID is the Account new Contacts belong to (Contact only).
	AccountID string `json:"account_id,omitempty"`
	// OnDuplicate says what a duplicate rule's refusal
	// (DUPLICATES_DETECTED) does; empty is DuplicateReview.
	OnDuplicate DuplicatePolicy `json:"on_duplicate,omitempty"`
}

// ConstantValue is one fixed value of a new record.
type ConstantValue struct {
	SalesforceField string `json:"salesforce_field"`
	Value           string `json:"value"`
}

// OwnerPolicy chooses the owner of the records sfsync creates.
type OwnerPolicy string

// Owner policies.
const (
	// OwnerDefault leaves the owner to Salesforce: the connected user,
	// with no assignment rule run (Sforce-Auto-Assign: FALSE).
	OwnerDefault OwnerPolicy = "default"
	// OwnerUser makes a fixed user the owner.
	OwnerUser OwnerPolicy = "user"
	// OwnerAssignmentRules lets the org's active assignment rule choose
	// (Sforce-Auto-Assign: TRUE); Salesforce runs them for Leads (and
	// Cases), so the choice is offered for Leads.
	OwnerAssignmentRules OwnerPolicy = "assignment_rules"
)

// DuplicatePolicy says what happens when Salesforce's duplicate rules
// refuse a record sfsync creates, naming the existing record they match.
type DuplicatePolicy string

// Duplicate policies.
const (
	// DuplicateReview: nothing is created; the existing record is offered
	// in the review queue as the platform contact's match.
	DuplicateReview DuplicatePolicy = "review"
	// DuplicateLink: nothing is created; the platform contact is linked
	// to the existing record at once (when exactly one is named and it is
	// not linked to another contact), and the log says so.
	DuplicateLink DuplicatePolicy = "link"
)

// Duplicates is the policy, DuplicateReview when unset.
func (o CreateOptions) Duplicates() DuplicatePolicy {
	if o.OnDuplicate == "" {
		return DuplicateReview
	}
	return o.OnDuplicate
}

// AutoAssign is the value of the Sforce-Auto-Assign header for creates:
// TRUE when assignment rules choose the owner, FALSE otherwise (a fixed
// owner must not be replaced by a rule, and the default keeps the
// connected user, as sfsync did before the choice existed).
func (o CreateOptions) AutoAssign() bool { return o.Owner == OwnerAssignmentRules }
