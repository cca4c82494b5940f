package sfemu

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// usageWindow counts API requests over a rolling 24 hours in one-minute
// buckets, following the emulator clock.
type usageWindow struct {
	mu      sync.Mutex
	max     int
	buckets [1440]int
	last    int64 // unix minute of the newest bucket
	total   int
}

func (u *usageWindow) roll(now time.Time) {
	m := now.Unix() / 60
	if u.last == 0 {
		u.last = m
		return
	}
	if m <= u.last {
		return
	}
	steps := m - u.last
	if steps >= int64(len(u.buckets)) {
		u.buckets = [1440]int{}
		u.total = 0
	} else {
		for i := int64(1); i <= steps; i++ {
			b := (u.last + i) % int64(len(u.buckets))
			u.total -= u.buckets[b]
			u.buckets[b] = 0
		}
	}
	u.last = m
}

// take counts one request unless the allocation is spent; it returns the
// usage after counting and whether the request may proceed.
func (u *usageWindow) take(now time.Time) (used, max int, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.roll(now)
	if u.total >= u.max {
		return u.total, u.max, false
	}
	u.buckets[u.last%int64(len(u.buckets))]++
	u.total++
	return u.total, u.max, true
}

func (u *usageWindow) read(now time.Time) (used, max int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.roll(now)
	return u.total, u.max
}

// APIUsage returns the requests counted in the last 24 hours and the
// allocation (DailyApiRequests Max).
func (o *Org) APIUsage() (used, max int) { return o.usage.read(o.srv.Now()) }

// SetAPIUsage sets the rolling usage to n, as if n requests had just been
// made; SetAPIUsage(max) makes the next counted call REQUEST_LIMIT_EXCEEDED.
func (o *Org) SetAPIUsage(n int) {
	now := o.srv.Now()
	o.usage.mu.Lock()
	defer o.usage.mu.Unlock()
	o.usage.roll(now)
	o.usage.buckets = [1440]int{}
	o.usage.last = now.Unix() / 60
	o.usage.buckets[o.usage.last%1440] = n
	o.usage.total = n
}

// SetAPIAllocation changes the daily allocation.
func (o *Org) SetAPIAllocation(max int) {
	o.mu.Lock()
	o.allocOverride = true
	o.mu.Unlock()
	o.usage.mu.Lock()
	o.usage.max = max
	o.usage.mu.Unlock()
}

func limitInfo(used, max int) string { return fmt.Sprintf("api-usage=%d/%d", used, max) }

type limitEntry struct {
	Max       int `json:"Max"`
	Remaining int `json:"Remaining"`
}

// handleLimits answers GET /limits.
func (s *Server) handleLimits(w http.ResponseWriter, c *call) {
	used, max := c.org.APIUsage()
	remaining := max - used
	if remaining < 0 {
		remaining = 0
	}
	c.org.mu.RLock()
	var contacts int
	for _, key := range dataObjects {
		for _, r := range c.org.tables[key].recs {
			if r != nil {
				contacts++
			}
		}
	}
	jobs := len(c.org.jobs)
	c.org.mu.RUnlock()
	batchesUsed, _ := c.org.BulkIngestUsage()
	c.org.ingest.mu.Lock()
	batchesMax := c.org.ingest.batches
	c.org.ingest.mu.Unlock()
	batchesLeft := batchesMax - batchesUsed
	if batchesLeft < 0 {
		batchesLeft = 0
	}
	storageMax := 5
	if c.org.Edition() != Developer {
		storageMax = 10240
	}
	storageUsed := contacts * 2 / 1024 // Salesforce counts 2 KB per record
	api := map[string]any{"Max": max, "Remaining": remaining}
	for _, app := range s.ConnectedApps() {
		api[app.Name] = limitEntry{Max: 0, Remaining: 0}
	}
	body := map[string]any{
		"ActiveScratchOrgs":                   limitEntry{3, 3},
		"ConcurrentAsyncGetReportInstances":   limitEntry{200, 200},
		"ConcurrentSyncReportRuns":            limitEntry{20, 20},
		"DailyAnalyticsDataflowJobExecutions": limitEntry{60, 60},
		"DailyApiRequests":                    api,
		"DailyAsyncApexExecutions":            limitEntry{250000, 250000},
		"DailyBulkApiBatches":                 limitEntry{batchesMax, batchesLeft},
		"DailyBulkV2QueryFileStorageMB":       limitEntry{976562, 976562},
		"DailyBulkV2QueryJobs":                limitEntry{10000, 10000 - jobs},
		"DailyDurableStreamingApiEvents":      limitEntry{10000, 10000},
		"DailyStreamingApiEvents":             limitEntry{10000, 10000},
		"DataStorageMB":                       limitEntry{storageMax, storageMax - storageUsed},
		"FileStorageMB":                       limitEntry{20, 20},
		"HourlyODataCallout":                  limitEntry{20000, 20000},
		"MassEmail":                           limitEntry{10, 10},
		"SingleEmail":                         limitEntry{15, 15},
		"StreamingApiConcurrentClients":       limitEntry{20, 20},
	}
	writeJSON(w, 200, body)
}
