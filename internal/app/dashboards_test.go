package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/sfsync/sfsync/internal/store"
)

// metricName finds the metric names a PromQL expression uses: ours, and
// the Go client's process and runtime metrics.
var metricName = regexp.MustCompile(`\b(?:sfsync|process|go)_[a-zA-Z0-9_]+\b`)

// TestDashboardAndAlertsUseExportedMetrics parses the Grafana dashboard and
// the Prometheus rules in deploy/ and checks that every metric their
// expressions name is one the service exports.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	t.Parallel()
	a := openDialect(t, store.SQLite)
	populate(t, a)
	// Requests through the service and through the Salesforce transport,
	// so their counters have series.
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	sf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer sf.Close()
	for _, c := range []struct {
		client *http.Client
		url    string
	}{{http.DefaultClient, srv.URL + "/healthz"}, {a.Conn.HTTPClient, sf.URL}} {
		resp, err := c.client.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	exported := map[string]bool{}
	for _, f := range gather(t, a) {
		exported[f.GetName()] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			exported[f.GetName()+"_bucket"], exported[f.GetName()+"_sum"], exported[f.GetName()+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			exported[f.GetName()+"_sum"], exported[f.GetName()+"_count"] = true, true
		}
	}

	exprs := map[string]string{} // where → expression
	var dash struct {
		Panels []panel `json:"panels"`
	}
	b, err := os.ReadFile("../../deploy/grafana/sfsync.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("sfsync.json: %v", err)
	}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				exprs["dashboard panel "+p.Title+" "+tg.RefID] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err = os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("alerts.yaml: a rule without a name or expression: %+v", r)
			}
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	if len(exprs) < 20 {
		t.Fatalf("found %d expressions in the dashboard and rules, want the 20 and more they hold", len(exprs))
	}
	var where []string
	for w := range exprs {
		where = append(where, w)
	}
	sort.Strings(where)
	used := map[string]bool{}
	for _, w := range where {
		names := metricName.FindAllString(exprs[w], -1)
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", w, exprs[w])
		}
		for _, n := range names {
			used[n] = true
			if !exported[n] {
				t.Errorf("%s uses %s, which the service does not export", w, n)
			}
		}
	}
	// Every operator metric is shown or alerted on somewhere.
	for n := range exported {
		if strings.HasPrefix(n, "sfsync_") && !strings.HasSuffix(n, "_sum") && !strings.HasSuffix(n, "_count") && !strings.HasSuffix(n, "_bucket") &&
			!used[n] && !used[n+"_bucket"] {
			t.Errorf("%s is exported but neither the dashboard nor an alert uses it", n)
		}
	}
}

type panel struct {
	Title   string `json:"title"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}
