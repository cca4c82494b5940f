package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/web/chart"
)

// The sync health charts (issue 17): 7 days of hourly API usage with
// today's forecast, and 14 days of runs and failures.
const (
	usageDays   = 7
	historyDays = 14
	topReasons  = 4
)

// dayStart is local midnight of the day holding t.
func dayStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// healthCharts draws the sync information page's charts.
func (s *server) healthCharts(ctx context.Context, rc *reqCtx, h syncer.Health) ([]chart.Bars, error) {
	loc := rc.Tenant.Location()
	now := s.opts.Now()
	today := dayStart(now, loc)
	hist, err := s.opts.Engine.History(ctx, rc.Tenant.ID, today.AddDate(0, 0, -(historyDays-1)))
	if err != nil {
		return nil, err
	}
	lang, platform := rc.Lang, s.platformName(rc.Lang)
	t := func(key string, args ...any) string {
		msg, _ := translate(lang, key, args...)
		return withPlatform(msg, platform)
	}
	g := chart.Group
	table := t("chart.table")
	// Times are the tenant's; the tables' headers name the zone.
	zone := formatTime(now, loc)
	zone = zone[strings.LastIndex(zone, " ")+1:]
	hourHeader, dayHeader := t("chart.hour")+" ("+zone+")", t("chart.day")+" ("+zone+")"

	// API calls per hour, 7 days, with the rest of today forecast.
	usage := map[int64]store.APIUsageHour{}
	for _, u := range hist.Usage {
		usage[u.Hour.Unix()] = u
	}
	first := today.AddDate(0, 0, -(usageDays - 1))
	hours := int(today.AddDate(0, 0, 1).Sub(first) / time.Hour) // 23 or 25 on a DST day
	fc := syncer.ForecastDay(hist.Usage, now, loc, usageDays)
	forecast := map[int64]int64{}
	for _, f := range fc.ByHour {
		forecast[f.Hour.Unix()] = f.Calls
	}
	calls := chart.Bars{ID: "chart-calls", Title: t("chart.calls_title"), LabelEvery: 24, TableSummary: table, CategoryHeader: hourHeader,
		SkipEmptyRows: true, Series: []chart.Series{{Name: t("chart.series_calls"), Class: "s-calls"}, {Name: t("chart.series_forecast"), Class: "s-forecast"}}}
	org := chart.Bars{ID: "chart-org", Title: t("chart.org_title"), LabelEvery: 24, TableSummary: table, CategoryHeader: hourHeader,
		SkipEmptyRows: true, Series: []chart.Series{{Name: t("chart.series_org"), Class: "s-org"}}}
	var total, peak, lastUsed, lastMax int64
	for i := range hours {
		at := first.Add(time.Duration(i) * time.Hour)
		label := at.In(loc).Format("01/02 15:00")
		axis := at.In(loc).Format("01/02")
		u := usage[at.Unix()]
		calls.Labels, calls.AxisLabels = append(calls.Labels, label), append(calls.AxisLabels, axis)
		calls.Series[0].Values = append(calls.Series[0].Values, float64(u.Calls))
		calls.Series[1].Values = append(calls.Series[1].Values, float64(forecast[at.Unix()]))
		total += u.Calls
		peak = max(peak, u.Calls)
		org.Labels, org.AxisLabels = append(org.Labels, label), append(org.AxisLabels, axis)
		org.Series[0].Values = append(org.Series[0].Values, float64(u.OrgUsed))
		if u.OrgMax > 0 {
			lastUsed, lastMax = u.OrgUsed, u.OrgMax
		}
	}
	if h.APIMax > 0 { // the connection's reading is the newest
		lastUsed, lastMax = h.APIUsed, h.APIMax
	}
	budget := int64(float64(lastMax) * h.Budget)
	var share string
	if budget > 0 {
		share = strconv.FormatFloat(float64(fc.Total())*100/float64(budget), 'f', 1, 64)
		calls.Desc = t("chart.calls_desc", g(total), g(peak), g(fc.SoFar), g(fc.Total()), g(budget), share)
	} else {
		calls.Desc = t("chart.calls_desc_nobudget", g(total), g(peak), g(fc.SoFar), g(fc.Total()))
	}
	charts := []chart.Bars{calls}
	if lastMax > 0 {
		org.Lines = []chart.Line{{Name: t("chart.line_limit"), Class: "line-limit", Value: float64(lastMax)},
			{Name: t("chart.line_budget"), Class: "line-budget", Value: float64(budget)}}
		org.Desc = t("chart.org_desc", g(lastMax), g(budget), g(lastUsed))
		charts = append(charts, org)
	}

	// Runs and failures per day, 14 days.
	dayIndex := func(at time.Time) int {
		d := dayStart(at, loc)
		for i := range historyDays {
			if d.Equal(today.AddDate(0, 0, -(historyDays - 1 - i))) {
				return i
			}
		}
		return -1
	}
	var days []string
	for i := range historyDays {
		days = append(days, today.AddDate(0, 0, -(historyDays-1-i)).Format("01/02"))
	}
	runs := chart.Bars{ID: "chart-runs", Title: t("chart.runs_title"), Labels: days, LabelEvery: 2, TableSummary: table, CategoryHeader: dayHeader, SkipEmptyRows: true,
		Series: []chart.Series{
			{Name: t("counts.created"), Class: "s-created", Values: make([]float64, historyDays)},
			{Name: t("counts.updated"), Class: "s-updated", Values: make([]float64, historyDays)},
			{Name: t("counts.failed"), Class: "s-failed", Values: make([]float64, historyDays)},
		}}
	var created, updated, failed int64
	for _, r := range hist.Runs {
		i := dayIndex(r.StartedAt)
		if i < 0 {
			continue
		}
		runs.Series[0].Values[i] += float64(r.Counts.Created)
		runs.Series[1].Values[i] += float64(r.Counts.Updated)
		runs.Series[2].Values[i] += float64(r.Counts.Failed)
		created, updated, failed = created+r.Counts.Created, updated+r.Counts.Updated, failed+r.Counts.Failed
	}
	runs.Desc = t("chart.runs_desc", len(hist.Runs), g(created), g(updated), g(failed))
	charts = append(charts, runs)

	byReason := map[string]int64{}
	for _, f := range hist.Failures {
		byReason[f.ReasonCode] += f.Count
	}
	reasons := make([]string, 0, len(byReason))
	var failures int64
	for code, n := range byReason {
		reasons = append(reasons, code)
		failures += n
	}
	slices.SortFunc(reasons, func(a, b string) int {
		if byReason[a] != byReason[b] {
			return int(byReason[b] - byReason[a])
		}
		return strings.Compare(a, b)
	})
	fails := chart.Bars{ID: "chart-failures", Title: t("chart.failures_title"), Labels: days, LabelEvery: 2, TableSummary: table, CategoryHeader: dayHeader, SkipEmptyRows: true}
	slot := map[string]int{}
	for i, code := range reasons {
		if i == topReasons && len(reasons) > topReasons+1 {
			fails.Series = append(fails.Series, chart.Series{Name: t("chart.other"), Class: "s-r" + strconv.Itoa(i), Values: make([]float64, historyDays)})
			for _, rest := range reasons[i:] {
				slot[rest] = i
			}
			break
		}
		slot[code] = i
		fails.Series = append(fails.Series, chart.Series{Name: s.reasonText(lang, code), Class: "s-r" + strconv.Itoa(i), Values: make([]float64, historyDays)})
	}
	for _, f := range hist.Failures {
		if i := dayIndex(f.Hour); i >= 0 {
			fails.Series[slot[f.ReasonCode]].Values[i] += float64(f.Count)
		}
	}
	if failures == 0 {
		fails.Desc = t("chart.failures_none")
	} else {
		var top []string
		for _, code := range reasons[:min(len(reasons), 3)] {
			top = append(top, fmt.Sprintf("%s (%s)", s.reasonText(lang, code), g(byReason[code])))
		}
		fails.Desc = t("chart.failures_desc", g(failures), strings.Join(top, t("chart.list_sep")))
	}
	charts = append(charts, fails)
	return charts, nil
}

// reasonText is a reason code as a sentence in the admin's language; a
// code without one reads as the generic failure, never as the code.
func (s *server) reasonText(lang, code string) string {
	msg, err := translate(lang, "reason."+code)
	if err != nil {
		msg, _ = translate(lang, "reason.unknown")
	}
	return withPlatform(msg, s.platformName(lang))
}

// fixText says what to fix and where for a failed record: the catalogue's
// "fix.<code>" with the side that holds the value (the run's source) and
// the field.
func (s *server) fixText(lang string, dir syncer.Direction, code, field string) string {
	msg, err := translate(lang, "fix."+code)
	if err != nil {
		msg, _ = translate(lang, "fix.unknown")
	}
	where := "Salesforce"
	if dir == syncer.DirToSalesforce {
		where = s.platformName(lang)
	}
	if field == "" {
		field, _ = translate(lang, "fix.this_field")
	}
	msg = strings.ReplaceAll(msg, "{where}", where)
	msg = strings.ReplaceAll(msg, "{field}", field)
	return withPlatform(msg, s.platformName(lang))
}

// salesforceRecordURL is a record's page in the org (instance URL + Id);
// "" when the Id or the instance is unknown.
func salesforceRecordURL(instance, id string) string {
	if instance == "" || id == "" {
		return ""
	}
	u, err := url.Parse(instance)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return strings.TrimSuffix(instance, "/") + "/" + url.PathEscape(id)
}

// contactURL is a platform contact's page (Options.ContactURL with {id}
// replaced); "" when none is configured.
func (s *server) contactURL(id string) string {
	if s.opts.ContactURL == "" || id == "" {
		return ""
	}
	return strings.ReplaceAll(s.opts.ContactURL, "{id}", url.PathEscape(id))
}

// recordView is a run's log entry with where to see and fix it.
type recordView struct {
	syncer.RunRecord
	SalesforceURL string
	ContactURL    string
	Fix           string
}

// groupView is a reason group with what to fix.
type groupView struct {
	syncer.ReasonGroup
	Fix string
}

// retryView is the page shown before a retry runs (issue 17): how many of
// the failed records changed since they failed.
type retryView struct {
	Run     *syncer.Run // nil: every failed record
	Reason  string
	Action  string // where the confirming form posts
	Back    string
	Check   syncer.RetryCheck
	Error   string // the check could not be made
	Reasons []retryReason
}

type retryReason struct {
	Code, Text, Fix string
	Count           int
}

// retryCheckPage shows what a retry would do before it runs: GET on the
// retry routes (the POST starts it).
func (s *server) retryCheckPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	v := retryView{Action: "/admin/salesforce/retry-failed", Back: "/admin/salesforce/info", Reason: r.URL.Query().Get("reason")}
	var runID int64
	if r.PathValue("id") != "" {
		run, ok := s.runID(w, r, rc)
		if !ok {
			return
		}
		v.Run, runID = &run, run.ID
		v.Action = fmt.Sprintf("/admin/salesforce/runs/%d/retry", run.ID)
		v.Back = fmt.Sprintf("/admin/salesforce/runs/%d?kind=failed#records", run.ID)
	}
	check, err := s.opts.Engine.CheckRetry(ctx, rc.Tenant.ID, runID, v.Reason)
	var ref interface{ Message(string) string }
	switch {
	case err == nil:
	case errors.As(err, &ref):
		v.Error = ref.Message(rc.Lang)
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, rc, err)
		return
	default:
		s.log.WarnContext(ctx, "retry check failed", "tenant_id", rc.Tenant.ID, "error", err)
		v.Error, _ = translate(rc.Lang, "retry.check_failed")
	}
	v.Check = check
	dir := check.Direction
	if dir == "" {
		dir = syncer.DirToPlatform // every failed record: the pull's are the ones checked in Salesforce
	}
	for code, n := range check.Reasons {
		v.Reasons = append(v.Reasons, retryReason{Code: code, Text: s.reasonText(rc.Lang, code), Fix: s.fixText(rc.Lang, dir, code, ""), Count: n})
	}
	slices.SortFunc(v.Reasons, func(a, b retryReason) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Code, b.Code)
	})
	s.renderPage(w, r, rc, http.StatusOK, "retry", v)
}
