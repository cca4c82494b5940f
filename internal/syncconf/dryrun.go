package syncconf

// The dry run's report (X8). The sync engine fills it by rehearsing a full
// pass of the configuration (syncer.Engine.DryRun), so the preview and the
// run cannot disagree.

// Reasons a dry-run row is rejected, beside RecordError reasons of the
// identity value or of a mapped field ("invalid_phone", "too_long"…).
const (
	ReasonAmbiguousSalesforce = "ambiguous_salesforce" // several Salesforce contacts share the identity
	ReasonAmbiguousPlatform   = "ambiguous_platform"   // several platform contacts share the identity
)

// DryRunReport previews what the Salesforce → platform pass of a
// configuration would do (X8), without writing anything.
type DryRunReport struct {
	// Matching is the number of Salesforce contacts the conditions select.
	Matching int `json:"matching"`
	// Scanned is the number of them read and classified; less than
	// Matching when Truncated (or when records changed between the count
	// and the read).
	Scanned   int  `json:"scanned"`
	Truncated bool `json:"truncated"`
	// Pulls is false when the configuration moves nothing to the platform;
	// then only Matching is filled in.
	Pulls           bool          `json:"pulls"`
	Create          DryRunOutcome `json:"create"`
	Update          DryRunOutcome `json:"update"`
	Unchanged       DryRunOutcome `json:"unchanged"`
	SkippedByPolicy DryRunOutcome `json:"skipped_by_policy"`
	Rejected        DryRunOutcome `json:"rejected"`
	// RejectedByReason counts rejected rows per reason code.
	RejectedByReason map[string]int `json:"rejected_by_reason"`
	// Failed, Ambiguous and Conflicts are the run's counts behind
	// Rejected (failed plus ambiguous) and its logged conflicts.
	Failed    int `json:"failed"`
	Ambiguous int `json:"ambiguous"`
	Conflicts int `json:"conflicts"`
	// APICalls is the number of Salesforce API calls the dry run made.
	APICalls int `json:"api_calls"`
}

// DryRunOutcome counts the rows with one outcome and keeps a few samples.
type DryRunOutcome struct {
	Count   int         `json:"count"`
	Samples []DryRunRow `json:"samples"`
}

// DryRunRow is one Salesforce contact in a dry-run report.
type DryRunRow struct {
	SalesforceID  string `json:"salesforce_id"`
	IdentityValue any    `json:"identity_value"`
	// PlatformContactIDs are the matching platform contacts (none when
	// the row would create one; several when ambiguous).
	PlatformContactIDs []string `json:"platform_contact_ids,omitempty"`
	// Reason and Message explain a rejected row.
	Reason  string            `json:"reason,omitempty"`
	Message map[string]string `json:"message,omitempty"`
	// Changes lists the platform fields that would be written.
	Changes []FieldChange `json:"changes,omitempty"`
}

// FieldChange is one platform value a dry run would write. Social
// identities appear as "social.<channel type>.<channel id>".
type FieldChange struct {
	PlatformField string `json:"platform_field"`
	From          any    `json:"from"`
	To            any    `json:"to"`
}
