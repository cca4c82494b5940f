package soql

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const benchRecords = 1_000_000

// table is a column store of test contacts: column f holds every record's
// value of field f, boxed once, in record order. Scanning it streams
// through memory, so BenchmarkMatch measures the evaluator rather than
// cache misses; benchRowData gives the row layout for comparison.
type table struct {
	cols [fCount][]any
}

// colRec is one record of a table.
type colRec struct {
	t *table
	i int
}

func (r colRec) Value(f int) any { return r.t.cols[f][r.i] }

// benchValues gives record i's values: SystemModstamp spread over ~11.5
// days from 2024-01-01, every fourth email null.
func benchValues(i, n int) (id, lastName, email any, stamp time.Time) {
	id = fmt.Sprintf("003%012dAAA", i)
	lastName = fmt.Sprintf("Name%07d", (i*7919)%n)
	if i%4 != 0 {
		email = fmt.Sprintf("user%d@example.com", i)
	}
	return id, lastName, email, ts("2024-01-01T00:00:00Z").Add(time.Duration(i) * time.Second)
}

// benchData builds n contacts in a column store.
func benchData(n int) []Record {
	t := &table{}
	for f := range t.cols {
		t.cols[f] = make([]any, n)
	}
	// Box column by column so each column's values are contiguous.
	for _, f := range []int{fID, fLastName, fEmail, fSystemModstamp} {
		for i := 0; i < n; i++ {
			id, lastName, email, stamp := benchValues(i, n)
			switch f {
			case fID:
				t.cols[f][i] = id
			case fLastName:
				t.cols[f][i] = lastName
			case fEmail:
				t.cols[f][i] = email
			case fSystemModstamp:
				t.cols[f][i] = stamp
			}
		}
	}
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = colRec{t: t, i: i}
	}
	return recs
}

// benchRowData builds n contacts as one []any per record.
func benchRowData(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		r := make(rec, fCount)
		id, lastName, email, stamp := benchValues(i, n)
		r[fID], r[fLastName], r[fEmail], r[fSystemModstamp] = id, lastName, email, stamp
		recs[i] = r
	}
	return recs
}

const incrementalQuery = "SELECT Id, Email, SystemModstamp FROM Contact WHERE SystemModstamp >= 2024-01-06T00:00:00Z AND Email != null"

func benchMatch(b *testing.B, recs []Record, src string) int {
	p, err := Compile(mustParseB(b, src), contactSchema(), testNow)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	matched := 0
	for b.Loop() {
		matched = 0
		for _, r := range recs {
			if p.Match(r) {
				matched++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
	return matched
}

// BenchmarkMatch runs the incremental-sync query's WHERE clause
// (SystemModstamp >= <datetime> AND Email != null) over one million
// in-memory records and reports ns per record.
func BenchmarkMatch(b *testing.B) {
	matched := benchMatch(b, benchData(benchRecords), incrementalQuery)
	if want := (benchRecords - 432000) * 3 / 4; matched != want {
		b.Fatalf("matched %d, want %d", matched, want)
	}
}

// BenchmarkMatchRowLayout is BenchmarkMatch over records stored as one
// []any each: the difference is the cost of the scattered memory layout.
func BenchmarkMatchRowLayout(b *testing.B) {
	matched := benchMatch(b, benchRowData(benchRecords), incrementalQuery)
	if want := (benchRecords - 432000) * 3 / 4; matched != want {
		b.Fatalf("matched %d, want %d", matched, want)
	}
}

// BenchmarkMatchInCache is BenchmarkMatch over 10,000 records, which stay
// in the CPU cache: the evaluator's own cost.
func BenchmarkMatchInCache(b *testing.B) {
	benchMatch(b, benchData(10_000), incrementalQuery)
}

// BenchmarkMatchLike measures a LIKE prefix filter per record.
func BenchmarkMatchLike(b *testing.B) {
	benchMatch(b, benchData(benchRecords), "SELECT Id FROM Contact WHERE LastName LIKE 'name00%'")
}

// BenchmarkMatchIn measures a 300-id IN list per record.
func BenchmarkMatchIn(b *testing.B) {
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = QuoteString(fmt.Sprintf("003%012dAAA", i*3000))
	}
	benchMatch(b, benchData(benchRecords), "SELECT Id FROM Contact WHERE Id IN ("+strings.Join(ids, ",")+")")
}

// BenchmarkSort sorts 100,000 records by a case-insensitive string and Id.
func BenchmarkSort(b *testing.B) {
	recs := benchData(100_000)
	p, err := Compile(mustParseB(b, "SELECT Id FROM Contact ORDER BY LastName DESC, Id"), contactSchema(), testNow)
	if err != nil {
		b.Fatal(err)
	}
	work := make([]Record, len(recs))
	for b.Loop() {
		copy(work, recs)
		slices.SortStableFunc(work, p.Compare)
	}
}

func mustParseB(b *testing.B, src string) *Query {
	b.Helper()
	q, err := Parse(src)
	if err != nil {
		b.Fatal(err)
	}
	return q
}

// duplicateQuery is the sync engine's duplicate-identity query.
const duplicateQuery = "SELECT Email, COUNT(Id) FROM Contact WHERE Email != null GROUP BY Email HAVING COUNT(Id) > 1"

// BenchmarkAggregateDuplicates runs duplicateQuery over one million
// records (750,000 distinct emails, none shared: the common case of a
// clean org) and reports ns per record: WHERE, grouping and HAVING in one
// pass.
func BenchmarkAggregateDuplicates(b *testing.B) {
	recs := benchData(benchRecords)
	p, err := Compile(mustParseB(b, duplicateQuery), contactSchema(), testNow)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		g := p.NewAggregator()
		for _, r := range recs {
			if p.Match(r) {
				g.Add(r)
			}
		}
		rows, err := g.Rows()
		if err != nil || len(rows) != 0 {
			b.Fatalf("got %d rows, %v; want none", len(rows), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
}
