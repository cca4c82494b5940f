package syncer

import (
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// This file is the engine's one per-field decision (X1, X2): the pull,
// the push and the dry run all call decideField, so they cannot disagree
// about which side a value goes to. It does no I/O and reads no clock.

// Write says where one mapped value goes.
type Write uint8

// What decideField may ask for.
const (
	WriteNone         Write = iota // both sides stay as they are
	WriteToPlatform                // Salesforce's value replaces the platform's
	WriteToSalesforce              // the platform's value replaces Salesforce's
)

// Verdict says what a decision must leave in the run's log.
type Verdict uint8

// Verdicts of a decision.
const (
	VerdictQuiet      Verdict = iota // nothing to log
	VerdictConflict                  // both sides changed; the rule chose
	VerdictOverridden                // only the losing side changed; the rule reverted it
)

// Side is one side's current value of a mapping.
type Side struct {
	// Known is false when the side has no record yet: the decision is
	// then about creating one.
	Known bool
	// Canon is the value's comparable form (canon); "null" when blank.
	Canon string
	// Modified is when the record last changed (for newest wins).
	Modified time.Time
}

// FieldState is everything decideField looks at for one mapping of one
// record pair.
type FieldState struct {
	Pulls, Pushes bool                  // the mapping's direction
	Rule          syncconf.ConflictRule // decides two-way mappings; "" is newest wins
	SF, PF        Side                  // current values on each side
	// The values the link last synced on each side, if it holds any.
	LastSF, LastPF string
	HadSF, HadPF   bool
}

// FieldDecision is decideField's answer.
type FieldDecision struct {
	Write   Write
	Verdict Verdict
}

const blankCanon = "null"

// decideField decides one mapped value of one record pair.
//
// A side "changed" when its value differs from what the link last synced
// for it; without a synced value (a first match), when it holds one — a
// blank value at a first match tells nothing. Then:
//   - one-way mappings copy the source's value when the source changed;
//   - two-way, newest wins: the side that changed wins; when both did, the
//     later change (a tie goes to Salesforce), logged as a conflict;
//   - prefer Salesforce unless blank: Salesforce's value whenever it holds
//     one, else the platform's;
//   - always Salesforce / always platform: that side's value, always;
//     the field is never written to the other side, and an edit there is
//     reverted and logged as overridden.
//
// Creating a record (one side not Known) copies every value the mapping's
// direction lets through, whatever the rule: there is nothing on the new
// side to override yet (and Salesforce requires some of them, LastName).
func decideField(f FieldState) FieldDecision {
	rule := f.Rule
	if rule == "" {
		rule = syncconf.NewestWins
	}
	twoWay := f.Pulls && f.Pushes
	switch {
	case !f.SF.Known && !f.PF.Known:
		return FieldDecision{}
	case !f.PF.Known:
		if f.Pulls {
			return FieldDecision{Write: WriteToPlatform}
		}
		return FieldDecision{}
	case !f.SF.Known:
		if f.Pushes {
			return FieldDecision{Write: WriteToSalesforce}
		}
		return FieldDecision{}
	}
	if f.SF.Canon == f.PF.Canon {
		return FieldDecision{}
	}
	sfChanged := changed(f.SF.Canon, f.LastSF, f.HadSF)
	pfChanged := changed(f.PF.Canon, f.LastPF, f.HadPF)
	if !twoWay {
		switch {
		case f.Pulls && sfChanged:
			return FieldDecision{Write: WriteToPlatform}
		case f.Pushes && pfChanged:
			return FieldDecision{Write: WriteToSalesforce}
		}
		return FieldDecision{}
	}
	var sfWins bool
	switch rule {
	case syncconf.AlwaysSalesforce:
		sfWins = true
	case syncconf.AlwaysPlatform:
		sfWins = false
	case syncconf.PreferSalesforceUnlessBlank:
		sfWins = f.SF.Canon != blankCanon
	default: // newest wins
		switch {
		case sfChanged && pfChanged:
			sfWins = !f.PF.Modified.After(f.SF.Modified)
		case sfChanged:
			sfWins = true
		case pfChanged:
			sfWins = false
		default:
			return FieldDecision{} // neither changed since the last sync
		}
	}
	d := FieldDecision{Write: WriteToSalesforce}
	loserChanged := sfChanged
	if sfWins {
		d.Write, loserChanged = WriteToPlatform, pfChanged
	}
	switch {
	case sfChanged && pfChanged:
		d.Verdict = VerdictConflict
	case loserChanged:
		d.Verdict = VerdictOverridden
	}
	return d
}

func changed(cur, last string, had bool) bool {
	if had {
		return cur != last
	}
	return cur != blankCanon
}

// state is the FieldState of mapping m between a link's last-synced
// values and both sides' current values.
func (m mapping) state(l *store.Link, sf, pf Side) FieldState {
	f := FieldState{Pulls: m.pulls, Pushes: m.pushes, Rule: m.rule, SF: sf, PF: pf}
	if l != nil {
		var last any
		if last, f.HadSF = l.SFValues[m.key]; f.HadSF {
			f.LastSF = canon(last)
		}
		if last, f.HadPF = l.PFValues[m.key]; f.HadPF {
			f.LastPF = canon(last)
		}
	}
	return f
}

// settle records in the link what decision d leaves on each side, given
// the stored forms of both sides' current values. deferred marks a write
// to Salesforce that the pull leaves to the push: the link then records
// Salesforce's current value as synced on both sides, so that the push,
// deciding again with what it reads then, sees the platform's as the
// change.
func settle(l *store.Link, key string, f FieldState, d FieldDecision, sfJSON, pfJSON any, deferred bool) {
	switch {
	case d.Write == WriteToPlatform, d.Write == WriteToSalesforce && deferred:
		l.SFValues[key], l.PFValues[key] = sfJSON, sfJSON
	case d.Write == WriteToSalesforce:
		l.SFValues[key], l.PFValues[key] = pfJSON, pfJSON
	case f.SF.Known && f.PF.Known && f.SF.Canon == f.PF.Canon:
		l.SFValues[key], l.PFValues[key] = sfJSON, sfJSON
	default:
		// Nothing moves: the link keeps what it had, and learns a side it
		// had no value for.
		if f.SF.Known && !f.HadSF {
			l.SFValues[key] = sfJSON
		}
		if f.PF.Known && !f.HadPF {
			l.PFValues[key] = pfJSON
		}
	}
}

// verdictEntry is the log entry of a decision that must be logged: its
// reason code, reason and detail (both values).
func (m mapping) verdictEntry(f FieldState, d FieldDecision) (code, reason, detail string) {
	rule := f.Rule
	if rule == "" {
		rule = syncconf.NewestWins
	}
	winner, loser := "salesforce", "platform"
	if d.Write == WriteToSalesforce {
		winner, loser = loser, winner
	}
	detail = "salesforce=" + f.SF.Canon + " platform=" + f.PF.Canon
	if d.Verdict == VerdictOverridden {
		return "overridden_" + string(rule), "the " + loser + "'s edit was overridden; " + winner + " wins (" + string(rule) + ")", detail
	}
	return "conflict_" + string(rule), "changed on both sides; " + winner + " wins (" + string(rule) + ")", detail
}

// createsOnPlatform reports whether a platform contact created from a
// Salesforce record takes this mapping's value: decideField's answer for
// a record the platform does not have yet.
func (m mapping) createsOnPlatform() bool {
	return decideField(m.state(nil, Side{Known: true}, Side{})).Write == WriteToPlatform
}
