package productbench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfapi"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/testenv"
)

// BenchmarkProductBulkPush is a bulk import pushed to Salesforce as users
// run it (issue 14 item 5): `sfsync emulator` and `sfsync serve` in
// processes of their own, Salesforce connected through the JSON API and
// the emulator's login page, a configuration that creates platform
// contacts in Salesforce, a first sync of the (empty) org; then 100,000
// contacts are posted to POST /api/v1/contacts/bulk in requests of 10,000
// and the push runs by itself (the outbox dispatcher, River). The clock
// runs from the first request until the push runs have created or failed
// every contact (GET /api/v1/salesforce/runs?direction=to_salesforce).
// push_api_calls is the emulator's DailyApiRequests used meanwhile (read
// from its /limits, which the reads themselves are taken off); target
// ≤ 10 for 100k (a Bulk API 2.0 query and an ingest job). SQLite, and
// PostgreSQL with SFSYNC_TEST_POSTGRES_URL; SFSYNC_BENCH_CONTACTS changes
// the count.
func BenchmarkProductBulkPush(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	n := benchSizes()[0]
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(fmt.Sprintf("%s/%s", d, sizeName(n)), func(b *testing.B) {
			for range b.N {
				productBulkPush(b, d, n)
			}
		})
	}
}

// pushConfig matches by member ID and creates platform contacts in
// Salesforce, with their name and e-mail.
func pushConfig() syncconf.Config {
	return syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{
			{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth},
			{SalesforceField: "Email", PlatformField: "email", Direction: syncconf.DirBoth},
		},
	}
}

func productBulkPush(b *testing.B, d store.Dialect, n int) {
	b.StopTimer()
	p := newProduct(b, d, 1)
	p.setUp()
	p.connect()
	p.api("PUT", "/salesforce/config", pushConfig(), http.StatusOK)
	run := p.api("POST", "/salesforce/sync", map[string]string{"kind": "initial"}, http.StatusAccepted)
	p.waitRun(int64(run["id"].(float64)))
	bodies := importBodies(n)

	pid := p.serve.Process.Pid
	cpu0, _ := procStat(pid)
	calls0 := p.emuAPIUsed()
	start := time.Now()
	b.StartTimer()
	for _, body := range bodies {
		p.api("POST", "/contacts/bulk?match_by=member_id", body, http.StatusOK)
	}
	imported := time.Since(start)
	var created, failed float64
	deadline := time.Now().Add(time.Hour)
	for {
		created, failed = p.pushCounts()
		if created+failed >= float64(n) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("after an hour the push has created %v and failed %v of %d contacts", created, failed, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	wall := time.Since(start)
	calls := p.emuAPIUsed() - calls0 - 1 // the second /limits read counts itself
	cpu1, hwm := procStat(pid)
	b.ReportMetric(wall.Seconds(), "push_s")
	b.ReportMetric((wall - imported).Seconds(), "after_import_s")
	b.ReportMetric(float64(n)/wall.Seconds(), "contacts/s")
	b.ReportMetric(float64(calls), "push_api_calls")
	b.ReportMetric(failed, "failed")
	b.ReportMetric(cpu1-cpu0, "serve_cpu_s")
	b.ReportMetric(hwm, "serve_peak_rss_MB")
	testenv.ReportLoad(b)
	b.Logf("%s %s: imported in %.2fs, pushed %v (%v failed) by %.2fs, %d API calls", d, sizeName(n), imported.Seconds(), created, failed, wall.Seconds(), calls)
	if failed > 0 {
		b.Errorf("%v contacts failed to push", failed)
	}
}

// waitRun waits for a run to end.
func (p *product) waitRun(id int64) {
	deadline := time.Now().Add(time.Hour)
	for {
		r := p.api("GET", fmt.Sprintf("/salesforce/runs/%d", id), nil, http.StatusOK)
		switch r["status"] {
		case "succeeded", "partially_failed":
			return
		case "failed", "cancelled":
			p.tb.Fatalf("run %d ended %v", id, r)
		}
		if time.Now().After(deadline) {
			p.tb.Fatalf("run %d did not end within an hour: %v", id, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pushCounts sums the created and failed records of the push runs.
func (p *product) pushCounts() (created, failed float64) {
	out := p.api("GET", "/salesforce/runs?direction=to_salesforce", nil, http.StatusOK)
	runs, _ := out["data"].([]any)
	for _, r := range runs {
		c, _ := r.(map[string]any)["counts"].(map[string]any)
		n, _ := c["created"].(float64)
		f, _ := c["failed"].(float64)
		created, failed = created+n, failed+f
	}
	return created, failed
}

// emuAPIUsed reads the org's DailyApiRequests used from the emulator's
// /limits (a call itself).
func (p *product) emuAPIUsed() int {
	req, _ := http.NewRequest("GET", p.emu.url+"/services/data/v"+sfapi.Version+"/limits", nil)
	req.Header.Set("Authorization", "Bearer "+p.emu.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		DailyAPIRequests struct {
			Max       int `json:"Max"`
			Remaining int `json:"Remaining"`
		} `json:"DailyApiRequests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		p.tb.Fatalf("emulator /limits: %d, %v", resp.StatusCode, err)
	}
	return out.DailyAPIRequests.Max - out.DailyAPIRequests.Remaining
}
