package soql

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file checks the compiled closures against a deliberately naive
// tree-walking evaluator written from the package documentation, over
// random queries and records drawn from small domains (so that values
// collide with literals often). LIKE is checked against regexp.

var (
	refStrings = []string{"", "a", "A", "ab", "AB", "b", "a%b", "a_b", "a\\b", "it's", "%", "_"}
	refNumbers = []float64{-1, 0, 1.5, 2}
	refDays    = []string{"2024-05-13", "2024-05-14", "2024-05-15", "2024-05-16", "2023-12-31"}
	refStamps  = []string{"2024-05-14T23:59:59Z", "2024-05-15T00:00:00Z", "2024-05-15T13:45:00Z", "2024-05-16T00:00:00Z", "2024-01-01T00:00:00Z"}
	refIDs     = []string{"003000000000001AAA", "003000000000002AAA", "003000000000003AAA"}
	refDateLit = []string{"TODAY", "YESTERDAY", "TOMORROW", "THIS_WEEK", "LAST_N_DAYS:1", "NEXT_N_DAYS:1", "N_DAYS_AGO:1", "THIS_MONTH", "LAST_YEAR"}
)

// refFields are the fields the generator filters on, by kind.
var refFields = []struct {
	name string
	kind fieldKind
}{
	{"LastName", kString}, {"Email", kString}, {"Id", kID}, {"AccountId", kID},
	{"MailingLatitude", kNumber}, {"IsDeleted", kBool}, {"Birthdate", kDate}, {"SystemModstamp", kDateTime},
}

func randomRecord(rng *rand.Rand) rec {
	r := make(rec, fCount)
	pick := func() bool { return rng.IntN(5) != 0 } // 1 in 5 null
	if pick() {
		r[fLastName] = refStrings[rng.IntN(len(refStrings))]
	}
	if pick() {
		r[fEmail] = refStrings[rng.IntN(len(refStrings))]
	}
	if pick() {
		r[fID] = refIDs[rng.IntN(len(refIDs))]
	}
	if pick() {
		r[fAccountID] = refIDs[rng.IntN(len(refIDs))]
	}
	if pick() {
		r[fMailingLatitude] = refNumbers[rng.IntN(len(refNumbers))]
	}
	if pick() {
		r[fIsDeleted] = rng.IntN(2) == 0
	}
	if pick() {
		r[fBirthdate] = day(refDays[rng.IntN(len(refDays))])
	}
	if pick() {
		r[fSystemModstamp] = ts(refStamps[rng.IntN(len(refStamps))])
	}
	return r
}

// randomLiteral returns SOQL text for a literal suited to kind.
func randomLiteral(rng *rand.Rand, k fieldKind) string {
	if rng.IntN(8) == 0 {
		return "null"
	}
	switch k {
	case kString:
		s := refStrings[rng.IntN(len(refStrings))]
		if rng.IntN(2) == 0 {
			s = strings.ToUpper(s)
		}
		return QuoteString(s)
	case kID:
		id := refIDs[rng.IntN(len(refIDs))]
		switch rng.IntN(3) {
		case 0:
			id = id[:15]
		case 1:
			id = strings.ToLower(id)
		}
		return QuoteString(id)
	case kNumber:
		return strconv.FormatFloat(refNumbers[rng.IntN(len(refNumbers))], 'f', -1, 64)
	case kBool:
		return strconv.FormatBool(rng.IntN(2) == 0)
	case kDate:
		if rng.IntN(2) == 0 {
			return refDateLit[rng.IntN(len(refDateLit))]
		}
		return refDays[rng.IntN(len(refDays))]
	default:
		if rng.IntN(2) == 0 {
			return refDateLit[rng.IntN(len(refDateLit))]
		}
		return refStamps[rng.IntN(len(refStamps))]
	}
}

// randomPattern returns a LIKE pattern body over a small alphabet.
func randomPattern(rng *rand.Rand) string {
	parts := []string{"a", "A", "b", "%", "_", `\%`, `\_`, `\\`, `\'`, "s"}
	var b strings.Builder
	for n := rng.IntN(5); n > 0; n-- {
		b.WriteString(parts[rng.IntN(len(parts))])
	}
	return b.String()
}

func randomCond(rng *rand.Rand, depth int) string {
	if depth > 0 && rng.IntN(3) == 0 {
		op := " AND "
		if rng.IntN(2) == 0 {
			op = " OR "
		}
		terms := make([]string, 2+rng.IntN(2))
		for i := range terms {
			terms[i] = "(" + randomCond(rng, depth-1) + ")"
		}
		return strings.Join(terms, op)
	}
	if depth > 0 && rng.IntN(6) == 0 {
		return "NOT (" + randomCond(rng, depth-1) + ")"
	}
	f := refFields[rng.IntN(len(refFields))]
	switch x := rng.IntN(10); {
	case x == 0 && f.kind == kString:
		return f.name + " LIKE '" + randomPattern(rng) + "'"
	case x <= 2:
		vals := make([]string, 1+rng.IntN(3))
		for i := range vals {
			vals[i] = randomLiteral(rng, f.kind)
		}
		in := " IN ("
		if x == 2 {
			in = " NOT IN ("
		}
		return f.name + in + strings.Join(vals, ", ") + ")"
	}
	ops := []string{"=", "!="}
	if f.kind != kBool {
		ops = append(ops, "<", "<=", ">", ">=")
	}
	return f.name + " " + ops[rng.IntN(len(ops))] + " " + randomLiteral(rng, f.kind)
}

// refEval evaluates a condition naively, straight from the documented rules.
func refEval(t *testing.T, e Expr, r rec) bool {
	switch e := e.(type) {
	case *Logic:
		for _, x := range e.Terms {
			if v := refEval(t, x, r); v == e.Or {
				return v
			}
		}
		return !e.Or
	case *Not:
		return !refEval(t, e.X, r)
	case *Comparison:
		fi, _ := contactSchema().Field(e.Field)
		v := r[fi.Index]
		if e.Op == OpLike {
			s, _ := v.(string)
			return s != "" && refLike(e.Value.Text).MatchString(s)
		}
		return refCompare(fi, v, e.Op, e.Value)
	case *In:
		fi, _ := contactSchema().Field(e.Field)
		v := r[fi.Index]
		any, hasNull := false, false
		for _, lit := range e.Values {
			if refLiteralNull(lit) {
				hasNull = true
			}
			if refCompare(fi, v, OpEq, lit) {
				any = true
			}
		}
		if e.Not {
			if refValueNull(v) {
				return !hasNull
			}
			return !any
		}
		return any
	}
	t.Fatalf("unknown expression %T", e)
	return false
}

func refValueNull(v any) bool { return v == nil || v == "" }

func refLiteralNull(lit Value) bool {
	return lit.Kind == KindNull || lit.Kind == KindString && lit.Str == ""
}

func refCompare(fi FieldInfo, v any, op Op, lit Value) bool {
	valNull, litNull := refValueNull(v), refLiteralNull(lit)
	switch op {
	case OpEq:
		if litNull || valNull {
			return litNull && valNull
		}
	case OpNe:
		if litNull || valNull {
			return litNull != valNull
		}
	default:
		if litNull || valNull {
			return false
		}
	}
	var c int
	switch kindOf(fi.Type) {
	case kString:
		c = strings.Compare(strings.ToLower(v.(string)), strings.ToLower(lit.Str))
	case kID:
		c = strings.Compare(v.(string)[:15], refID15(lit.Str))
	case kNumber:
		c = cmpFloat(v.(float64), lit.Num)
	case kBool:
		if v.(bool) == lit.Bool {
			c = 0
		} else {
			c = 1
		}
	case kDate, kDateTime:
		start, end := lit.Time, lit.Time.Add(time.Nanosecond)
		if lit.Kind == KindDateLiteral {
			start, end = dateRange(lit.DateLiteral, lit.N, testNow)
		}
		tm := v.(time.Time)
		switch {
		case tm.Before(start):
			c = -1
		case tm.Before(end):
			c = 0
		default:
			c = 1
		}
	}
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	}
	return c >= 0
}

// refID15: the test ids are 003...AAA, all digits before the suffix, so
// the 15-character form is just the prefix whatever the case.
func refID15(s string) string { return strings.ToUpper(s[:15]) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// refLike translates a LIKE literal (with quotes, as written) into an
// anchored, case-insensitive regexp.
func refLike(text string) *regexp.Regexp {
	body := []rune(text[1 : len(text)-1])
	var re strings.Builder
	re.WriteString(`(?is)^`)
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '\\':
			i++
			re.WriteString(regexp.QuoteMeta(string(body[i])))
		case '%':
			re.WriteString(`.*`)
		case '_':
			re.WriteString(`.`)
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString(`$`)
	return regexp.MustCompile(re.String())
}

func TestMatchAgainstReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	recs := make([]rec, 200)
	for i := range recs {
		recs[i] = randomRecord(rng)
	}
	for i := 0; i < 3000; i++ {
		where := randomCond(rng, 3)
		src := "SELECT Id FROM Contact WHERE " + where
		q, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		p, err := Compile(q, contactSchema(), testNow)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		for _, r := range recs {
			if got, want := p.Match(r), refEval(t, q.Where, r); got != want {
				t.Fatalf("WHERE %s on %v: got %v, want %v", where, []any(r), got, want)
			}
		}
	}
}

// TestLikeAgainstRegexp compares the LIKE matcher with regexp over random
// patterns and strings of a small alphabet, including non-ASCII runes.
func TestLikeAgainstRegexp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	alphabet := []string{"a", "A", "b", "%", "_", "\\", "é", "É", "ß", "k", "\u212a"} // U+212A KELVIN SIGN folds to k
	pparts := []string{"a", "A", "b", "%", "_", `\%`, `\_`, `\\`, "é", "É", "K"}
	for i := 0; i < 20000; i++ {
		var pb, sb strings.Builder
		for n := rng.IntN(6); n > 0; n-- {
			pb.WriteString(pparts[rng.IntN(len(pparts))])
		}
		for n := rng.IntN(7); n > 0; n-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		lit := "'" + pb.String() + "'"
		s := sb.String()
		q, err := Parse("SELECT Id FROM Contact WHERE LastName LIKE " + lit)
		if err != nil {
			t.Fatalf("pattern %s: %v", lit, err)
		}
		got := q.Where.(*Comparison).Value.like.match(s)
		if want := refLike(lit).MatchString(s); got != want {
			t.Fatalf("%q LIKE %s: got %v, want %v", s, lit, got, want)
		}
	}
}
