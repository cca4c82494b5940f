package sfemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkBulkIngest100k inserts 100,000 Contacts through a Bulk API 2.0
// ingest job over HTTP (create, one PUT of the CSV, UploadComplete, polls
// until JobComplete) into an empty org, and reports records/s and the
// heap the org holds afterwards. SFEMU_BENCH_INGEST_RECORDS overrides the
// record count (a small one checks that the benchmark runs).
func BenchmarkBulkIngest100k(b *testing.B) {
	records := 100_000
	if v := os.Getenv("SFEMU_BENCH_INGEST_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SFEMU_BENCH_INGEST_RECORDS=%q: want a positive number", v)
		}
		records = n
	}
	var csv strings.Builder
	csv.WriteString("FirstName,LastName,Email,Phone,Title,Member_Number__c\n")
	for i := range records {
		fmt.Fprintf(&csv, "Bench%d,Ingest %d,bench%d@example.com,+886 2 %07d,\"Buyer, level %d\",BENCH-%d\n", i, i%997, i, i, i%5, i)
	}
	data := csv.String()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var heap uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := New(Options{BulkPollsToComplete: -1})
		ts := httptest.NewServer(srv)
		srv.SetBaseURL(ts.URL)
		org, err := srv.CreateOrg(OrgOptions{Edition: Unlimited, APIAllocation: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := srv.IssueToken(org, org.Admin().Username)
		if err != nil {
			b.Fatal(err)
		}
		call := func(method, path, contentType, body string, want int) []byte {
			req, err := http.NewRequest(method, ts.URL+"/services/data/v62.0/jobs/ingest"+path, strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			req.Header.Set("Content-Type", contentType)
			res, err := ts.Client().Do(req)
			if err != nil {
				b.Fatal(err)
			}
			defer res.Body.Close()
			out, err := io.ReadAll(res.Body)
			if err != nil || res.StatusCode != want {
				b.Fatalf("%s %s: got %d %.300s (%v), want %d", method, path, res.StatusCode, out, err, want)
			}
			return out
		}
		b.StartTimer()

		var job struct {
			ID                     string `json:"id"`
			State                  string `json:"state"`
			NumberRecordsProcessed int    `json:"numberRecordsProcessed"`
			NumberRecordsFailed    int    `json:"numberRecordsFailed"`
		}
		if err := json.Unmarshal(call("POST", "", "application/json", `{"object":"Contact","operation":"insert","lineEnding":"LF"}`, 200), &job); err != nil {
			b.Fatal(err)
		}
		id := job.ID
		call("PUT", "/"+id+"/batches", "text/csv", data, 201)
		call("PATCH", "/"+id, "application/json", `{"state":"UploadComplete"}`, 200)
		for job.State != "JobComplete" {
			time.Sleep(time.Millisecond)
			if err := json.Unmarshal(call("GET", "/"+id, "", "", 200), &job); err != nil {
				b.Fatal(err)
			}
			if job.State == "Failed" || job.State == "Aborted" {
				b.Fatalf("job %s: got %s", id, job.State)
			}
		}

		b.StopTimer()
		if job.NumberRecordsProcessed != records || job.NumberRecordsFailed != 0 || org.ContactCount() != records {
			b.Fatalf("job: got %d processed, %d failed, %d contacts, want %d, 0, %d", job.NumberRecordsProcessed, job.NumberRecordsFailed, org.ContactCount(), records, records)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = ms.HeapAlloc
		ts.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}
