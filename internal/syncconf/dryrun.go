package syncconf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
)

// DryRunSource is the Salesforce side of a dry run: the REST client, or
// the emulator, or a fake in tests.
type DryRunSource interface {
	// Count runs a "SELECT COUNT() ..." query and returns totalSize (one
	// API call).
	Count(ctx context.Context, soql string) (int, error)
	// Query runs a query and calls each for every record, in order,
	// following nextRecordsUrl (one API call per page of up to 2,000). A
	// record maps field names, as Salesforce spells them, to values as
	// decoded from JSON. Query stops and returns each's error when it
	// returns one.
	Query(ctx context.Context, soql string, each func(record map[string]any) error) error
}

// PlatformLookup finds platform contacts by identity key (IdentityKey's
// result): none, one, or several when the platform's data is ambiguous.
type PlatformLookup interface {
	FindByIdentity(ctx context.Context, identity contact.Identity, key string) ([]contact.Contact, error)
}

// DryRunOptions tune a dry run. Zero values take the defaults.
type DryRunOptions struct {
	// MaxRecords caps the Salesforce contacts scanned (default 10,000).
	// The report says when the cap cut the scan short.
	MaxRecords int
	// Samples is the number of sample rows kept per outcome (default 20).
	Samples int
}

// Dry-run defaults and the page size cost is estimated with.
const (
	DefaultDryRunMaxRecords = 10000
	DefaultDryRunSamples    = 20
	queryPageSize           = 2000
)

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
	// APICalls is the number of Salesforce API calls the dry run made:
	// one count, one per page of 2,000 scanned records.
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

type outcome int

const (
	outCreate outcome = iota
	outUpdate
	outUnchanged
	outSkipped
	outRejected
)

type dryRow struct {
	row DryRunRow
	key string
	out outcome
}

var errStopScan = errors.New("dry run record cap reached")

// DryRun validates cfg against env and previews its Salesforce → platform
// pass: how many Salesforce contacts match the conditions and, for each
// scanned one, whether it would create a platform contact, update one,
// leave one unchanged, be skipped by the no-match policy, or be rejected
// (an identity value that does not normalise, such as a phone without a
// country code; an ambiguous match; a mapped value that does not fit).
//
// Cost: one COUNT query plus one query page per 2,000 records scanned,
// with the scan stopping at opts.MaxRecords. Two-way fields are judged as
// the engine would with no sync history (firstMatchSalesforceWins):
// newest_wins compares the Salesforce contact's LastModifiedDate with the
// platform contact's updated time. An invalid cfg returns ValidationErrors.
func DryRun(ctx context.Context, cfg *Config, env Env, src DryRunSource, platform PlatformLookup, opts DryRunOptions) (DryRunReport, error) {
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultDryRunMaxRecords
	}
	if opts.Samples <= 0 {
		opts.Samples = DefaultDryRunSamples
	}
	b, err := cfg.Bind(env)
	if err != nil {
		return DryRunReport{}, err
	}
	countQ, err := cfg.CountSOQL(env.Describe)
	if err != nil {
		return DryRunReport{}, err
	}
	rep := DryRunReport{Pulls: cfg.PullsFromSalesforce(), RejectedByReason: map[string]int{}}
	if rep.Matching, err = src.Count(ctx, countQ); err != nil {
		return DryRunReport{}, fmt.Errorf("dry run: count matching contacts: %w", err)
	}
	rep.APICalls = 1
	if !rep.Pulls || rep.Matching == 0 {
		return rep, nil
	}
	q, err := cfg.SOQL(env.Describe, []string{"LastModifiedDate"})
	if err != nil {
		return DryRunReport{}, err
	}
	q += fmt.Sprintf(" LIMIT %d", opts.MaxRecords)
	var rows []dryRow
	err = src.Query(ctx, q, func(rec map[string]any) error {
		if len(rows) >= opts.MaxRecords {
			return errStopScan
		}
		r, err := classify(ctx, b, rec, platform)
		if err != nil {
			return err
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return DryRunReport{}, fmt.Errorf("dry run: read contacts: %w", err)
	}
	rep.Scanned = len(rows)
	rep.Truncated = rep.Scanned >= opts.MaxRecords && rep.Matching > rep.Scanned
	rep.APICalls += max(1, (rep.Scanned+queryPageSize-1)/queryPageSize)

	// Several Salesforce contacts with one identity are held, never guessed (X3).
	perKey := map[string]int{}
	for _, r := range rows {
		if r.key != "" {
			perKey[r.key]++
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.key != "" && perKey[r.key] > 1 && r.out != outRejected {
			r.out = outRejected
			r.row.Reason = ReasonAmbiguousSalesforce
			r.row.Message = map[string]string{
				LangEN:   fmt.Sprintf("%d Salesforce contacts have the identity value %q", perKey[r.key], r.key),
				LangZHTW: fmt.Sprintf("有 %d 筆 Salesforce 聯絡人的身份識別值皆為「%s」", perKey[r.key], r.key),
			}
			r.row.Changes = nil
		}
		o := rep.outcome(r.out)
		o.Count++
		if len(o.Samples) < opts.Samples {
			o.Samples = append(o.Samples, r.row)
		}
		if r.out == outRejected {
			rep.RejectedByReason[r.row.Reason]++
		}
	}
	return rep, nil
}

func (rep *DryRunReport) outcome(o outcome) *DryRunOutcome {
	switch o {
	case outCreate:
		return &rep.Create
	case outUpdate:
		return &rep.Update
	case outUnchanged:
		return &rep.Unchanged
	case outSkipped:
		return &rep.SkippedByPolicy
	}
	return &rep.Rejected
}

func reject(r dryRow, err error) (dryRow, error) {
	var re *RecordError
	if !errors.As(err, &re) {
		return r, err
	}
	r.out = outRejected
	r.row.Reason = re.Reason
	r.row.Message = re.Message
	r.row.Changes = nil
	return r, nil
}

// classify decides one Salesforce contact's outcome, apart from
// duplicates among the Salesforce contacts, which DryRun finds after the
// scan.
func classify(ctx context.Context, b *Bound, rec map[string]any, platform PlatformLookup) (dryRow, error) {
	id := b.Identity
	r := dryRow{}
	r.row.SalesforceID, _ = recordValue(rec, "Id").(string)
	raw := recordValue(rec, id.Salesforce.Name)
	r.row.IdentityValue = raw
	s, _ := raw.(string)
	key, err := IdentityKey(id.PlatformIdentity, s)
	if err != nil {
		return reject(r, err)
	}
	r.key = key
	matches, err := platform.FindByIdentity(ctx, id.PlatformIdentity, key)
	if err != nil {
		return r, fmt.Errorf("find platform contact by %s: %w", id.PlatformIdentity, err)
	}
	for _, c := range matches {
		r.row.PlatformContactIDs = append(r.row.PlatformContactIDs, c.ID)
	}
	switch {
	case len(matches) > 1:
		r.out = outRejected
		r.row.Reason = ReasonAmbiguousPlatform
		r.row.Message = map[string]string{
			LangEN:   fmt.Sprintf("%d platform contacts have the identity value %q", len(matches), key),
			LangZHTW: fmt.Sprintf("有 %d 位平台聯絡人的身份識別值皆為「%s」", len(matches), key),
		}
		return r, nil
	case len(matches) == 0 && id.ToPlatformNoMatch != NoMatchCreate:
		r.out = outSkipped
		return r, nil
	}
	var current *contact.Contact
	if len(matches) == 1 {
		current = &matches[0]
	}
	sfModified := sfTime(recordValue(rec, "LastModifiedDate"))
	for _, fb := range b.Fields {
		if !fb.Direction.Pulls() {
			continue
		}
		raw := recordValue(rec, fb.Salesforce.Name)
		if current != nil && !firstMatchSalesforceWins(fb, raw, PlatformValue(*current, fb.Platform.Name), sfModified, current.Updated) {
			continue // the platform's value stands, whatever Salesforce holds
		}
		to, err := ToPlatform(fb, raw)
		if err != nil {
			return reject(r, err)
		}
		var from any
		if current != nil {
			from = PlatformValue(*current, fb.Platform.Name)
			if samePlatformValue(fb.Platform.Kind, from, to) {
				continue
			}
		} else if to == nil {
			continue
		}
		r.row.Changes = append(r.row.Changes, FieldChange{PlatformField: fb.Platform.Name, From: from, To: to})
	}
	for _, sb := range b.Social {
		if !sb.Direction.Pulls() {
			continue
		}
		uid, _ := recordValue(rec, sb.Salesforce.Name).(string)
		if uid = strings.TrimSpace(uid); uid == "" {
			continue
		}
		si := contact.SocialIdentity{ChannelType: sb.ChannelType, ChannelID: sb.ChannelID, UserID: uid}
		if current != nil && slices.ContainsFunc(current.Social, func(x contact.SocialIdentity) bool { return x.Key() == si.Key() }) {
			continue
		}
		r.row.Changes = append(r.row.Changes, FieldChange{PlatformField: "social." + sb.ChannelType + "." + sb.ChannelID, To: uid})
	}
	switch {
	case current == nil:
		r.out = outCreate
	case len(r.row.Changes) > 0:
		r.out = outUpdate
	default:
		r.out = outUnchanged
	}
	return r, nil
}

// SalesforceWins applies a two-way field's conflict rule (X2) to a
// Salesforce value sfv and a different platform value: true if
// Salesforce's stands. Newest wins compares Salesforce's LastModifiedDate
// with the platform contact's updated time; a tie goes to Salesforce. The
// sync engine and the dry run both decide with it.
func SalesforceWins(rule ConflictRule, sfv any, sfModified, platformModified time.Time) bool {
	switch rule {
	case AlwaysSalesforce:
		return true
	case AlwaysPlatform:
		return false
	case PreferSalesforceUnlessBlank:
		return !IsBlank(sfv)
	}
	return !platformModified.After(sfModified)
}

// firstMatchSalesforceWins is what the engine does with a pulled field at
// a first match, when no sync history says which side changed: a blank
// Salesforce value tells nothing and the platform's stands; a blank
// platform value takes Salesforce's; a two-way field holding values on
// both sides goes by its conflict rule; a one-way field takes Salesforce's.
func firstMatchSalesforceWins(b Binding, raw, platform any, sfModified, platformModified time.Time) bool {
	switch {
	case IsBlank(raw):
		return false
	case b.Direction != DirBoth || IsBlank(platform):
		return true
	}
	return SalesforceWins(b.ConflictRule(), raw, sfModified, platformModified)
}

func sfTime(v any) time.Time {
	t, err := parseDatetime("LastModifiedDate", v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// recordValue reads a field of a Salesforce record, whose keys are in the
// describe's spelling; other spellings are tried case-insensitively.
func recordValue(rec map[string]any, name string) any {
	if v, ok := rec[name]; ok {
		return v
	}
	for k, v := range rec {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// samePlatformValue compares two values of a platform field of kind k:
// blank equals blank, e-mail and select values ignore case, tags ignore
// order, numbers compare numerically.
func samePlatformValue(k PlatformKind, a, b any) bool {
	if IsBlank(a) || IsBlank(b) {
		return IsBlank(a) && IsBlank(b)
	}
	switch k {
	case KindTags:
		x, err1 := tagsOf("", a)
		y, err2 := tagsOf("", b)
		if err1 != nil || err2 != nil {
			return false
		}
		slices.Sort(x)
		slices.Sort(y)
		return slices.Equal(x, y)
	case KindNumber:
		x, err1 := numberOf("", a)
		y, err2 := numberOf("", b)
		return err1 == nil && err2 == nil && x == y
	case KindBoolean:
		x, err1 := boolOf("", a)
		y, err2 := boolOf("", b)
		return err1 == nil && err2 == nil && x == y
	}
	x, err1 := textOf("", a)
	y, err2 := textOf("", b)
	if err1 != nil || err2 != nil {
		return false
	}
	if k == KindEmail || k == KindSelect {
		return strings.EqualFold(x, y)
	}
	return x == y
}
