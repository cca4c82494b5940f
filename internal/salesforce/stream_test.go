package salesforce

import (
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// synthOrg serves total generated Contact rows both as REST query pages
// (2,000 a page) and as a Bulk API 2.0 query job (50,000 rows a page),
// writing them as it goes so that the server holds no result set.
type synthOrg struct{ total int }

func (s synthOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	vp := sfapi.VersionPath
	switch {
	case r.URL.Path == vp+"/query" || strings.HasPrefix(r.URL.Path, vp+"/query/"):
		offset := 0
		if loc, ok := strings.CutPrefix(r.URL.Path, vp+"/query/01gSYNTH-"); ok {
			offset, _ = strconv.Atoi(loc)
		}
		batch := 2000
		if v, ok := strings.CutPrefix(r.Header.Get("Sforce-Query-Options"), "batchSize="); ok {
			batch, _ = strconv.Atoi(v)
		}
		end := min(offset+batch, s.total)
		w.Header().Set("Content-Type", "application/json")
		b := make([]byte, 0, 64<<10)
		b = fmt.Appendf(b, `{"totalSize":%d,"done":%v,`, s.total, end == s.total)
		if end < s.total {
			b = fmt.Appendf(b, `"nextRecordsUrl":"%s/query/01gSYNTH-%d",`, vp, end)
		}
		b = append(b, `"records":[`...)
		for i := offset; i < end; i++ {
			if i > offset {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"attributes":{"type":"Contact","url":"%s/sobjects/Contact/003%015d"},"Id":"003%015d","FirstName":"First%d","LastName":"Last%d","Email":"user%d@example.com","Phone":"+8869%08d","SystemModstamp":"2024-03-05T09:12:44.000+0000"}`, vp, i, i, i, i, i, i)
			if len(b) > 32<<10 {
				w.Write(b)
				b = b[:0]
			}
		}
		b = append(b, `]}`...)
		w.Write(b)
	case r.Method == http.MethodPost && r.URL.Path == vp+"/jobs/query":
		writeJSON(w, 200, map[string]any{"id": "750SYNTH", "state": "UploadComplete"})
	case r.URL.Path == vp+"/jobs/query/750SYNTH":
		writeJSON(w, 200, map[string]any{"id": "750SYNTH", "state": "JobComplete"})
	case r.URL.Path == vp+"/jobs/query/750SYNTH/results":
		const page = 50000
		offset, _ := strconv.Atoi(r.URL.Query().Get("locator"))
		end := min(offset+page, s.total)
		next := "null"
		if end < s.total {
			next = strconv.Itoa(end)
		}
		w.Header().Set("Sforce-Locator", next)
		w.Header().Set("Content-Type", "text/csv")
		b := make([]byte, 0, 64<<10)
		b = append(b, `"Id","FirstName","LastName","Email","Phone","SystemModstamp"`+"\n"...)
		for i := offset; i < end; i++ {
			b = fmt.Appendf(b, `"003%015d","First%d","Last%d","user%d@example.com","+8869%08d","2024-03-05T09:12:44.000Z"`+"\n", i, i, i, i, i)
			if len(b) > 32<<10 {
				w.Write(b)
				b = b[:0]
			}
		}
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

// liveHeap returns the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestQueryStreamsWithFlatMemory reads 100,000 records and checks that the
// live heap does not grow with the number read. Not parallel: the heap
// figures must not include other tests' allocations (parallel tests wait
// until the sequential ones are done).
func TestQueryStreamsWithFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100k records")
	}
	c, _ := setup(t, synthOrg{total: 100_000})
	base := liveHeap()
	var samples []uint64
	for _, mode := range []string{"rest", "bulk"} {
		var n int
		check := func(rec Record) {
			if want := fmt.Sprintf("003%015d", n); rec["Id"] != want {
				t.Fatalf("%s record %d Id: got %v, want %s", mode, n, rec["Id"], want)
			}
			n++
			if n%20_000 == 1000 { // mid-page
				samples = append(samples, liveHeap())
			}
		}
		if mode == "rest" {
			it := c.Query(t.Context(), "SELECT Id FROM Contact", QueryOptions{BatchSize: 2000})
			for it.Next() {
				check(it.Record())
			}
			if err := it.Err(); err != nil || it.TotalSize() != 100_000 {
				t.Fatalf("rest: err %v, totalSize %d, want nil, 100000", err, it.TotalSize())
			}
		} else {
			rows, err := c.BulkQuery(t.Context(), "SELECT Id FROM Contact", BulkQueryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for rec, err := range rows.All() {
				if err != nil {
					t.Fatal(err)
				}
				check(rec)
			}
		}
		if n != 100_000 {
			t.Fatalf("%s: got %d records, want 100000", mode, n)
		}
	}
	// Retaining the records would take well over 50 MB; one page is
	// well under 4 MB.
	const slack = 8 << 20
	// Measure from the lowest point seen: data an earlier test left live
	// may be freed during this one.
	ref := base
	for _, s := range samples {
		ref = min(ref, s)
	}
	for i, s := range samples {
		if s > ref+slack {
			t.Errorf("sample %d: live heap %d KiB above the lowest point, want under %d KiB", i, (s-ref)>>10, slack>>10)
		}
	}
	t.Logf("live heap at start %d KiB, samples %v KiB", base>>10, kib(samples))
}

func kib(v []uint64) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = x >> 10
	}
	return out
}

// peakHeap samples HeapAlloc every few milliseconds until stop is closed,
// then returns the largest value seen.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var m runtime.MemStats
		var peak uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// BenchmarkStream1MSynthetic streams 1,000,000 records from an in-process
// server that generates them, REST query paging against Bulk API 2.0 CSV.
// It measures the client (decoding, paging) without an emulator; see
// BenchmarkStream1M for the emulator-backed figures.
func BenchmarkStream1MSynthetic(b *testing.B) {
	if testing.Short() {
		b.Skip("1M records")
	}
	const total = 1_000_000
	for _, mode := range []string{"REST", "Bulk2"} {
		b.Run(mode, func(b *testing.B) {
			c, _ := setup(b, synthOrg{total: total})
			runStreamBench(b, c, mode, total)
		})
	}
}

func streamAll(b *testing.B, c *Client, mode string, probe func()) int {
	n := 0
	step := func() {
		n++
		if probe != nil && n%250_000 == 0 {
			probe()
		}
	}
	const soql = "SELECT Id, FirstName, LastName, Email, Phone, SystemModstamp FROM Contact"
	if mode == "REST" {
		it := c.Query(b.Context(), soql, QueryOptions{BatchSize: 2000})
		for it.Next() {
			_ = it.Record()
			step()
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		return n
	}
	rows, err := c.BulkQuery(b.Context(), soql, BulkQueryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		_ = rows.Record()
		step()
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// runStreamBench streams total records once per iteration and reports
// records/s (probe time excluded), the process's peak HeapAlloc, and the
// live heap's growth over the starting point at 250k-record checkpoints:
// the part the stream itself keeps alive.
func runStreamBench(b *testing.B, c *Client, mode string, total int) {
	for b.Loop() {
		base := liveHeap()
		var growth uint64
		var probing time.Duration
		probe := func() {
			t := time.Now()
			if h := liveHeap(); h > base {
				growth = max(growth, h-base)
			}
			probing += time.Since(t)
		}
		stop := make(chan struct{})
		peak := peakHeap(stop)
		start := time.Now()
		n := streamAll(b, c, mode, probe)
		el := time.Since(start) - probing
		close(stop)
		if n != total {
			b.Fatalf("got %d records, want %d", n, total)
		}
		b.ReportMetric(float64(n)/el.Seconds(), "records/s")
		b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(base)/(1<<20), "base-heap-MiB")
		b.ReportMetric(float64(growth)/(1<<20), "live-growth-MiB")
	}
}
