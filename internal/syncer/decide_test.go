package syncer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/syncconf"
)

// The mapping kinds of the decision table: the two one-way directions and
// the four rules of a two-way mapping.
var decideKinds = []struct {
	name           string
	pulls, pushes  bool
	rule           syncconf.ConflictRule
	expectedColumn int
}{
	{"to_platform", true, false, "", 0},
	{"to_salesforce", false, true, "", 1},
	{"newest_wins", true, true, syncconf.NewestWins, 2},
	{"prefer_sf", true, true, syncconf.PreferSalesforceUnlessBlank, 3},
	{"always_sf", true, true, syncconf.AlwaysSalesforce, 4},
	{"always_pf", true, true, syncconf.AlwaysPlatform, 5},
}

// TestDecideField is the decision table: every mapping kind × which side
// changed since the last sync (Salesforce only, the platform only, both,
// neither) × blank or non-blank values, plus first matches (no synced
// values) and creates, which copy what the direction lets through. Each row lists the expected outcome per kind, in
// decideKinds' order: "-" nothing, "P" Salesforce's value to the
// platform, "S" the platform's value to Salesforce; "c" logs a conflict,
// "o" an overridden edit. Values are written as: L = the last synced
// value, S / P = a new non-blank value on that side, 0 = blank.
func TestDecideField(t *testing.T) {
	t.Parallel()
	early, late := time.Unix(1000, 0), time.Unix(2000, 0)
	rows := []struct {
		name     string
		sf, pf   string // current values; "?" = no record on that side
		linked   bool   // the link holds L on both sides
		sfNewer  bool   // Salesforce changed later than the platform
		expected string // per kind
	}{
		// Linked, values as last synced or changed since.
		{"neither changed", "L", "L", true, true, "- - - - - -"},
		{"platform changed", "L", "P", true, true, "- S S Po Po S"},
		{"platform cleared", "L", "0", true, true, "- S S Po Po S"},
		{"salesforce changed", "S", "L", true, true, "P - P P P So"},
		{"salesforce cleared", "0", "L", true, true, "P - P So P So"},
		{"both changed, salesforce later", "S", "P", true, true, "P S Pc Pc Pc Sc"},
		{"both changed, platform later", "S", "P", true, false, "P S Sc Pc Pc Sc"},
		{"salesforce changed, platform cleared, salesforce later", "S", "0", true, true, "P S Pc Pc Pc Sc"},
		{"salesforce changed, platform cleared, platform later", "S", "0", true, false, "P S Sc Pc Pc Sc"},
		{"salesforce cleared, platform changed, salesforce later", "0", "P", true, true, "P S Pc Sc Pc Sc"},
		{"salesforce cleared, platform changed, platform later", "0", "P", true, false, "P S Sc Sc Pc Sc"},
		{"both cleared", "0", "0", true, true, "- - - - - -"},
		{"both changed alike", "S", "S", true, true, "- - - - - -"},
		// First match: no synced values; a blank value tells nothing.
		{"first match, both hold values, salesforce later", "S", "P", false, true, "P S Pc Pc Pc Sc"},
		{"first match, both hold values, platform later", "S", "P", false, false, "P S Sc Pc Pc Sc"},
		{"first match, platform blank", "S", "0", false, true, "P - P P P So"},
		{"first match, salesforce blank", "0", "P", false, true, "- S S S Po S"},
		{"first match, both blank", "0", "0", false, true, "- - - - - -"},
		{"first match, same value", "S", "S", false, true, "- - - - - -"},
		// Creates: one side has no record yet; nothing is overridden.
		{"create on the platform", "S", "?", false, true, "P - P P P P"},
		{"create in salesforce", "?", "P", false, true, "- S S S S S"},
	}
	val := func(s string) Side {
		switch s {
		case "?":
			return Side{}
		case "0":
			return Side{Known: true, Canon: blankCanon}
		}
		return Side{Known: true, Canon: `"` + s + `"`}
	}
	for _, row := range rows {
		want := strings.Fields(row.expected)
		if len(want) != len(decideKinds) {
			t.Fatalf("%s: %d expectations, want %d", row.name, len(want), len(decideKinds))
		}
		for _, k := range decideKinds {
			f := FieldState{Pulls: k.pulls, Pushes: k.pushes, Rule: k.rule, SF: val(row.sf), PF: val(row.pf)}
			f.SF.Modified, f.PF.Modified = early, late
			if row.sfNewer {
				f.SF.Modified, f.PF.Modified = late, early
			}
			if row.linked {
				f.LastSF, f.LastPF, f.HadSF, f.HadPF = `"L"`, `"L"`, true, true
			}
			got := describeDecision(decideField(f))
			if got != want[k.expectedColumn] {
				t.Errorf("%s, %s: got %s, want %s", row.name, k.name, got, want[k.expectedColumn])
			}
		}
	}
}

// TestDecideFieldTie: a tie in newest wins goes to Salesforce.
func TestDecideFieldTie(t *testing.T) {
	t.Parallel()
	at := time.Unix(1000, 0)
	f := FieldState{Pulls: true, Pushes: true, SF: Side{Known: true, Canon: `"a"`, Modified: at}, PF: Side{Known: true, Canon: `"b"`, Modified: at},
		LastSF: `"x"`, LastPF: `"x"`, HadSF: true, HadPF: true}
	if got := describeDecision(decideField(f)); got != "Pc" {
		t.Errorf("got %s, want Pc", got)
	}
}

// TestDecideFieldStaleLink: values that differ while neither side changed
// since the last sync (a write that failed) are left to newest wins, but
// the always/prefer rules still enforce their side, without a log entry.
func TestDecideFieldStaleLink(t *testing.T) {
	t.Parallel()
	for _, k := range decideKinds {
		f := FieldState{Pulls: k.pulls, Pushes: k.pushes, Rule: k.rule, SF: Side{Known: true, Canon: `"a"`}, PF: Side{Known: true, Canon: `"b"`},
			LastSF: `"a"`, LastPF: `"b"`, HadSF: true, HadPF: true}
		want := map[string]string{"to_platform": "-", "to_salesforce": "-", "newest_wins": "-", "prefer_sf": "P", "always_sf": "P", "always_pf": "S"}[k.name]
		if got := describeDecision(decideField(f)); got != want {
			t.Errorf("%s: got %s, want %s", k.name, got, want)
		}
	}
}

func describeDecision(d FieldDecision) string {
	s := map[Write]string{WriteNone: "-", WriteToPlatform: "P", WriteToSalesforce: "S"}[d.Write]
	switch d.Verdict {
	case VerdictConflict:
		s += "c"
	case VerdictOverridden:
		s += "o"
	case VerdictQuiet:
	default:
		s += fmt.Sprint(d.Verdict)
	}
	return s
}

// TestNextPollSpreads: scheduled pulls are spread over a minute after the
// poll interval, so 10,000 tenants do not wake in the same second.
func TestNextPollSpreads(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0).UTC()
	e := &Engine{Now: func() time.Time { return now }}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := e.nextPoll().Sub(now)
		if d < 15*time.Minute || d >= 16*time.Minute {
			t.Fatalf("next poll in %v, want within a minute after 15 minutes", d)
		}
		seen[d.Truncate(time.Second)] = true
	}
	if len(seen) < 20 {
		t.Errorf("200 next polls fell on %d distinct seconds, want them spread", len(seen))
	}
}
