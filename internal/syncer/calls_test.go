package syncer_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// callCounter counts the requests the engine sends to Salesforce, by kind.
// A Bulk API 2.0 job's status read (GET …/jobs/ingest/{id} or
// …/jobs/query/{id}) is a kind of its own: how many the engine sends
// depends on how soon the emulator, which runs a job in the background,
// finishes it on a loaded machine, where every other call of a pass is
// fixed by the work.
type callCounter struct {
	inner http.RoundTripper
	mu    sync.Mutex
	calls map[string]int // "GET /services/data/vXX.X/jobs/ingest/{id}" and so on
}

// countCalls routes the fixture's Salesforce requests through a counter
// from now on.
func (f *fixture) countCalls(t *testing.T) *callCounter {
	t.Helper()
	hc := *f.Conn.HTTPClient
	inner := hc.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	c := &callCounter{inner: inner, calls: map[string]int{}}
	hc.Transport = c
	f.Conn.HTTPClient = &hc
	return c
}

// A record or job ID: 15 or 18 letters and digits, with a digit (which
// "successfulResults" has not).
var callID = regexp.MustCompile(`^(?:[0-9A-Za-z]{15}|[0-9A-Za-z]{18})$`)

func (c *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	segs := strings.Split(r.URL.Path, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, "v") && strings.Contains(s, "."):
			segs[i] = "vXX.X"
		case callID.MatchString(s) && strings.ContainsAny(s, "0123456789"):
			segs[i] = "{id}"
		}
	}
	p := strings.Join(segs, "/")
	c.mu.Lock()
	c.calls[r.Method+" "+p]++
	c.mu.Unlock()
	return c.inner.RoundTrip(r)
}

// split returns the calls counted against the org's API limit, the Bulk
// API 2.0 job status reads among them, and the calls by kind.
func (c *callCounter) split() (api, statusReads int, byKind map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byKind = map[string]int{}
	for k, n := range c.calls {
		byKind[k] = n
		if strings.Contains(k, "/oauth2/") {
			continue // token refreshes are not API calls
		}
		api += n
		if strings.HasPrefix(k, "GET ") && (strings.HasSuffix(k, "/jobs/ingest/{id}") || strings.HasSuffix(k, "/jobs/query/{id}")) {
			statusReads += n
		}
	}
	return api, statusReads, byKind
}
