package sfemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

const benchContacts = 1_000_000

var (
	bigOnce sync.Once
	bigSrv  *Server
	bigOrg  *Org
	bigTok  Token
)

// bigEmulator is an emulator holding a million seeded contacts, shared by
// the benchmarks.
func bigEmulator(b *testing.B) (*Server, *Org, Token) {
	bigOnce.Do(func() {
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		bigSrv = New(Options{Now: func() time.Time { return now }, BaseURL: "http://emulator.test"})
		var err error
		if bigOrg, err = bigSrv.CreateOrg(OrgOptions{Edition: Unlimited, APIAllocation: 1 << 30}); err != nil {
			panic(err)
		}
		if _, err := bigOrg.SeedContacts(benchContacts, 1); err != nil {
			panic(err)
		}
		if bigTok, err = bigSrv.IssueToken(bigOrg, bigOrg.Admin().Username); err != nil {
			panic(err)
		}
	})
	return bigSrv, bigOrg, bigTok
}

func serve(b *testing.B, s *Server, tok, path string) []byte {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: got %d %.300s", path, rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes()
}

// BenchmarkQueryPage measures serving one 2,000-record page of a query
// over 1,000,000 contacts: "next" follows nextRecordsUrl into the result
// snapshot (the steady state of a full pull); "first" runs the query,
// which scans all rows and snapshots the result, and renders page one.
func BenchmarkQueryPage(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a million contacts")
	}
	s, _, tok := bigEmulator(b)
	q := sfapi.VersionPath + "/query?q=" + url.QueryEscape("SELECT Id, FirstName, LastName, Email, MobilePhone, LINE_UID__c, Birthdate, SystemModstamp FROM Contact")
	b.Run("next", func(b *testing.B) {
		var page struct {
			TotalSize      int    `json:"totalSize"`
			NextRecordsURL string `json:"nextRecordsUrl"`
		}
		if err := json.Unmarshal(serve(b, s, tok.AccessToken, q), &page); err != nil {
			b.Fatal(err)
		}
		if page.TotalSize != benchContacts || page.NextRecordsURL == "" {
			b.Fatalf("first page: totalSize %d next %q", page.TotalSize, page.NextRecordsURL)
		}
		loc := page.NextRecordsURL[:len(page.NextRecordsURL)-len("2000")]
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		n := 0
		for i := 0; b.Loop(); i++ {
			off := 2000 * (1 + i%400)
			serve(b, s, tok.AccessToken, loc+itoa(off))
			n++
		}
		reportCPU(b, cpu, n)
	})
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		n := 0
		for b.Loop() {
			serve(b, s, tok.AccessToken, q)
			n++
		}
		reportCPU(b, cpu, n)
	})
	// The incremental pull: a filter that reads every row, and a sort.
	inc := sfapi.VersionPath + "/query?q=" + url.QueryEscape("SELECT Id, LastName, Email, SystemModstamp FROM Contact WHERE SystemModstamp >= 2026-01-01T00:00:00Z ORDER BY SystemModstamp, Id")
	b.Run("incremental-first", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		n := 0
		for b.Loop() {
			serve(b, s, tok.AccessToken, inc)
			n++
		}
		reportCPU(b, cpu, n)
	})
}

// cpuTime is the process's user+system CPU time. On a machine shared with
// other work the wall-clock ns/op inflates; CPU time per op (all threads,
// GC included) stays close to what the code costs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration, n int) {
	if n > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(n)/1e6, "cpu-ms/op")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// BenchmarkMemoryPerContact reports the heap bytes one stored contact
// takes, measured after GC around seeding 1,000,000 contacts.
func BenchmarkMemoryPerContact(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a million contacts")
	}
	for b.Loop() {
		s := New(Options{})
		o, err := s.CreateOrg(OrgOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := o.SeedContacts(benchContacts, 1); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchContacts, "bytes/contact")
		runtime.KeepAlive(o)
	}
}
