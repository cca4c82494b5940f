package productbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/testenv"
)

// BenchmarkProductBulkImport sends 100,000 contacts (member ID, phone,
// e-mail and a LINE identity each) to `sfsync serve` in another process
// through POST /api/v1/contacts/bulk, 10 requests of 10,000, one after
// another, the way an import script would (issue 14 item 1; targets
// ≥ 40,000/s on SQLite, ≥ 25,000/s on PostgreSQL). SFSYNC_BENCH_CONTACTS
// changes the count. The bodies are built before the clock starts.
func BenchmarkProductBulkImport(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	n := benchSizes()[0]
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(fmt.Sprintf("%s/%s", d, sizeName(n)), func(b *testing.B) {
			for range b.N {
				productBulkImport(b, d, n)
			}
		})
	}
}

func productBulkImport(b *testing.B, d store.Dialect, n int) {
	b.StopTimer()
	p := newProduct(b, d, 0)
	p.setUp()
	bodies := importBodies(n)
	client := &http.Client{}
	pid := p.serve.Process.Pid
	cpu0, _ := procStat(pid)
	stopProfile := p.profileServe() // with SFSYNC_BENCH_PROFILE
	start := time.Now()
	b.StartTimer()
	created := 0
	for _, body := range bodies {
		req, _ := http.NewRequest("POST", p.base+"/api/v1/contacts/bulk?match_by=member_id", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Counts struct {
				Created int `json:"created"`
			} `json:"counts"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			b.Fatalf("bulk request: status %d, decode %v", resp.StatusCode, err)
		}
		created += out.Counts.Created
	}
	b.StopTimer()
	wall := time.Since(start)
	stopProfile()
	cpu1, hwm := procStat(pid)
	if created != n {
		b.Fatalf("%d contacts created, want %d", created, n)
	}
	b.ReportMetric(float64(n)/wall.Seconds(), "contacts/s")
	b.ReportMetric(wall.Seconds(), "wall_s")
	b.ReportMetric(cpu1-cpu0, "serve_cpu_s")
	b.ReportMetric(hwm, "serve_peak_rss_MB")
	testenv.ReportLoad(b)
}

// importBodies are the bulk requests of n contacts, 10,000 a request:
// member ID, name, phone, e-mail and a LINE identity each.
func importBodies(n int) [][]byte {
	const perReq = 10_000
	var bodies [][]byte
	for start := 0; start < n; start += perReq {
		var buf bytes.Buffer
		buf.WriteByte('[')
		for i := start; i < min(n, start+perReq); i++ {
			if i > start {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"member_id":"M%07d","name":"Contact %d","phone":"+8869%08d","email":"user%d@bench.example.com",`+
				`"social_identities":[{"channel_type":"line","channel_id":"@bench-oa","user_id":"U%032x"}]}`, i, i, 10_000_000+i, i, i)
		}
		buf.WriteByte(']')
		bodies = append(bodies, buf.Bytes())
	}
	return bodies
}
