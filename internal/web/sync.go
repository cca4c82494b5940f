package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/web/chart"
)

// startView is step 6 (設定完成，開始同步).
type startView struct {
	Pulls, Pushes bool
	HasRun        bool
	Run           syncer.Run
	Done          bool
	DryRun        *syncconf.DryRunReport
	DryRunError   string
	// ReviewOpen is how many review items wait, shown once the first sync is done.
	ReviewOpen int64
	// Pace is the running sync's records/s and time left, in words.
	Pace string
}

// runDone reports whether a run has ended. A paused run (the API budget
// was reached, X4) goes on later, so it is not done.
func runDone(r syncer.Run) bool {
	return r.Status != syncer.StatusRunning && r.Status != syncer.StatusPaused
}

func (s *server) startPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	cfg, _, err := s.opts.Engine.CurrentConfig(ctx, rc.Tenant.ID)
	if errors.Is(err, store.ErrNotFound) {
		http.Redirect(w, r, "/admin/salesforce/setup/identity", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	v := startView{Pulls: cfg.PullsFromSalesforce(), Pushes: cfg.PushesToSalesforce()}
	if v.Pulls {
		run, ok, err := s.opts.Engine.InitialRun(ctx, rc.Tenant.ID)
		if err != nil {
			s.fail(w, r, rc, err)
			return
		}
		v.HasRun, v.Run, v.Done = ok, run, ok && runDone(run)
		v.Pace = paceText(rc.Lang, run, s.opts.Now())
		if v.Done {
			if v.ReviewOpen, err = s.opts.Engine.CountOpenReview(ctx, rc.Tenant.ID); err != nil {
				s.fail(w, r, rc, err)
				return
			}
		}
		if !ok {
			// The dry run comes before the first sync (X8).
			rep, err := s.opts.Engine.DryRun(ctx, rc.Tenant.ID, cfg)
			var ref interface{ Message(string) string }
			switch {
			case err == nil:
				v.DryRun = &rep
			case errors.As(err, &ref):
				v.DryRunError = ref.Message(rc.Lang)
			default:
				s.log.WarnContext(ctx, "dry run failed", "tenant_id", rc.Tenant.ID, "error", err)
				v.DryRunError, _ = translate(rc.Lang, "start.dry_run_failed")
			}
		}
	}
	s.renderPage(w, r, rc, http.StatusOK, "start", v)
}

func (s *server) startSync(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	if _, ok, err := s.opts.Engine.InitialRun(ctx, rc.Tenant.ID); err != nil {
		s.fail(w, r, rc, err)
		return
	} else if !ok {
		if _, err := s.opts.Engine.StartInitialSync(ctx, rc.Tenant.ID); err != nil {
			s.fail(w, r, rc, err)
			return
		}
		s.log.InfoContext(ctx, "first sync started", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID)
	}
	// A second click (or a reload of the POST) shows the running sync.
	http.Redirect(w, r, "/admin/salesforce/start", http.StatusSeeOther)
}

// progress is what the progress stream and JSON report (S18). It comes
// from the engine's record of the first sync, never from page state, so a
// page opened later shows the same percentage.
type progress struct {
	Found     bool    `json:"found"`
	Status    string  `json:"status"`
	Percent   float64 `json:"percent"`
	Processed int64   `json:"processed"`
	Total     int64   `json:"total"`
	Done      bool    `json:"done"`
	Label     string  `json:"label"`
	// Rate is records per second since the run started; ETASeconds the
	// time left at that rate (0 when unknown). Pace says both in words.
	Rate       float64 `json:"rate"`
	ETASeconds int64   `json:"eta_seconds"`
	Pace       string  `json:"pace"`
}

// minPaceWindow is how long a run must have gone before its rate means
// anything; earlier, the page says nothing rather than a wild estimate.
const minPaceWindow = 5 * time.Second

// pace is a running run's throughput and the time left at that rate,
// from what the engine records (StartedAt, Processed, Total).
func pace(run syncer.Run, now time.Time) (rate float64, eta time.Duration, ok bool) {
	elapsed := now.Sub(run.StartedAt)
	if run.Status != syncer.StatusRunning || run.StartedAt.IsZero() || elapsed < minPaceWindow || run.Processed <= 0 {
		return 0, 0, false
	}
	rate = float64(run.Processed) / elapsed.Seconds()
	if run.Total > run.Processed {
		// Rounded up: a run with records left never reads "0 s left".
		eta = time.Duration(math.Ceil(float64(run.Total-run.Processed)/rate)) * time.Second
	}
	return rate, eta, true
}

// paceText says a run's pace in the admin's language: "1,234 筆/秒 · 約剩 3 分鐘".
func paceText(lang string, run syncer.Run, now time.Time) string {
	rate, eta, ok := pace(run, now)
	if !ok {
		return ""
	}
	r, _ := translate(lang, "progress.rate", groupDigits(int64(rate+0.5)))
	if eta <= 0 {
		return r
	}
	var left string
	switch {
	case eta < time.Minute:
		left, _ = translate(lang, "progress.eta_under_minute")
	case eta < time.Hour:
		left, _ = translate(lang, "progress.eta_minutes", int((eta+time.Minute-1)/time.Minute))
	default:
		left, _ = translate(lang, "progress.eta_hours", int(eta/time.Hour), int(eta%time.Hour/time.Minute))
	}
	return r + " · " + left
}

// groupDigits writes n with thousands separators (12,345).
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (s *server) progressOf(r *http.Request, rc *reqCtx) (progress, error) {
	run, ok, err := s.opts.Engine.InitialRun(r.Context(), rc.Tenant.ID)
	if err != nil || !ok {
		// Nothing to follow: the stream ends rather than idling.
		return progress{Done: true}, err
	}
	p := progress{Found: true, Status: string(run.Status), Percent: run.Percent(), Processed: run.Processed, Total: run.Total, Done: runDone(run)}
	now := s.opts.Now()
	if rate, eta, ok := pace(run, now); ok {
		p.Rate, p.ETASeconds = math.Round(rate*10)/10, int64(eta/time.Second)
		p.Pace = paceText(rc.Lang, run, now)
	}
	p.Label, err = translate(rc.Lang, "status."+string(run.Status))
	return p, err
}

func (s *server) progressJSON(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, err := s.progressOf(r, rc)
	if err != nil {
		s.log.ErrorContext(r.Context(), "reading progress failed", "tenant_id", rc.Tenant.ID, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(p) // fails only when the browser has gone
}

const maxStream = 10 * time.Minute

// progressEvents streams the first sync's progress as server-sent events
// until it finishes or the page goes away.
func (s *server) progressEvents(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	rcw := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(s.opts.ProgressInterval)
	defer tick.Stop()
	// A stream lasts at most maxStream; the page then polls (app.js), so
	// a forgotten tab does not hold a connection for a day-long sync.
	end := time.After(maxStream)
	var last []byte
	for {
		p, err := s.progressOf(r, rc)
		if err != nil {
			s.log.ErrorContext(r.Context(), "reading progress failed", "tenant_id", rc.Tenant.ID, "error", err)
			fmt.Fprint(w, "event: error\ndata: {}\n\n")
			rcw.Flush()
			return
		}
		b, _ := json.Marshal(p)
		if !bytes.Equal(b, last) {
			fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b)
		} else {
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err := rcw.Flush(); err != nil {
			return
		}
		last = b
		if p.Done {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-end:
			return
		case <-tick.C:
		}
	}
}

// infoView is the sync information page (S19–S21).
type infoView struct {
	Direction string
	Filters   []filterLink
	Runs      []syncer.Run
	Older     string
	Used, Max int
	Budget    float64
	BudgetMax int
	UsageErr  string
	Pulls     bool
	// ResyncAdvised: the identity or conditions changed since the last
	// full sync, so a full resync is offered.
	ResyncAdvised bool
	// ReviewOpen is how many review items wait for a decision.
	ReviewOpen int64
	// Share is the budget share in whole percent, for its form.
	Share int
	// Health and Charts are the sync health at a glance (issue 17).
	Health syncer.Health
	Charts []chart.Bars
	// Arrival: how Salesforce changes arrive (issue 15); nil when nothing
	// is pulled.
	Arrival *arrivalView
}

type filterLink struct {
	Key, Href string
	Current   bool
}

const runsPerPage = 25

func (s *server) infoPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	q := r.URL.Query()
	dir := syncer.Direction(q.Get("direction"))
	if dir != syncer.DirToPlatform && dir != syncer.DirToSalesforce {
		dir = ""
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	runs, err := s.opts.Engine.ListRuns(ctx, rc.Tenant.ID, syncer.RunFilter{Direction: dir, Limit: runsPerPage + 1, BeforeID: before})
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	v := infoView{Direction: string(dir)}
	for _, f := range []struct {
		dir syncer.Direction
		key string
	}{{"", "info.filter_both"}, {syncer.DirToPlatform, "dir.to_platform"}, {syncer.DirToSalesforce, "dir.to_salesforce"}} {
		href := "/admin/salesforce/info"
		if f.dir != "" {
			href += "?direction=" + string(f.dir)
		}
		v.Filters = append(v.Filters, filterLink{Key: f.key, Href: href, Current: f.dir == dir})
	}
	if len(runs) > runsPerPage {
		runs = runs[:runsPerPage]
		v.Older = fmt.Sprintf("/admin/salesforce/info?before=%d", runs[len(runs)-1].ID)
		if dir != "" {
			v.Older += "&direction=" + string(dir)
		}
	}
	v.Runs = runs
	if cfg, _, err := s.opts.Engine.CurrentConfig(ctx, rc.Tenant.ID); err == nil {
		v.Pulls = cfg.PullsFromSalesforce()
		if v.Pulls {
			if v.ResyncAdvised, err = s.opts.Engine.ResyncAdvised(ctx, rc.Tenant.ID); err != nil {
				s.fail(w, r, rc, err)
				return
			}
			if v.Arrival, err = s.arrival(ctx, rc.Tenant.ID); err != nil {
				s.fail(w, r, rc, err)
				return
			}
		}
	}
	if v.ReviewOpen, err = s.opts.Engine.CountOpenReview(ctx, rc.Tenant.ID); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if v.Health, err = s.opts.Engine.Health(ctx, rc.Tenant.ID); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if v.Charts, err = s.healthCharts(ctx, rc, v.Health); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	used, max, budget, err := s.opts.Engine.Usage(ctx, rc.Tenant.ID)
	if err != nil {
		var ref interface{ Message(string) string }
		if errors.As(err, &ref) {
			v.UsageErr = ref.Message(rc.Lang)
		} else {
			s.log.WarnContext(ctx, "reading API usage failed", "tenant_id", rc.Tenant.ID, "error", err)
			v.UsageErr, _ = translate(rc.Lang, "info.usage_unavailable")
		}
	} else {
		v.Used, v.Max, v.Budget, v.BudgetMax = used, max, budget*100, int(float64(max)*budget)
	}
	if c, err := s.opts.Store.GetConnection(ctx, rc.Tenant.ID); err == nil {
		v.Share = int(c.APIBudget*100 + 0.5)
	}
	s.renderPage(w, r, rc, http.StatusOK, "info", v)
}

// manualSync serves the three buttons of the sync information page.
func (s *server) manualSync(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx, tid := r.Context(), rc.Tenant.ID
	var err error
	var done string
	switch r.URL.Path {
	case "/admin/salesforce/sync-now":
		_, err = s.opts.Engine.SyncNow(ctx, tid)
		done = "sync_started"
	case "/admin/salesforce/full-resync":
		_, err = s.opts.Engine.FullResync(ctx, tid)
		done = "full_resync_started"
	case "/admin/salesforce/drift-check":
		var run syncer.Run
		run, err = s.opts.Engine.DriftCheck(ctx, tid)
		done = "drift_check_started"
		if err == nil && run.Trigger != syncer.TriggerDrift {
			done = "drift_check_busy" // another pull runs: one at a time
		}
	default:
		_, err = s.opts.Engine.RetryFailed(ctx, tid, 0, "")
		done = "retry_started"
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.log.InfoContext(ctx, "manual sync requested", "tenant_id", tid, "admin_id", rc.Admin.ID, "kind", done)
	http.Redirect(w, r, "/admin/salesforce/info?done="+done, http.StatusSeeOther)
}

// setBudget saves the share of the org's daily API allocation sfsync may
// use (X4, Y4), in whole percent from 1 to 100.
func (s *server) setBudget(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	share, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("share")))
	if err != nil || share < 1 || share > 100 {
		s.renderError(w, r, rc, http.StatusUnprocessableEntity, "info.budget_invalid")
		return
	}
	if _, err := s.opts.Conn.SetBudget(r.Context(), rc.Tenant.ID, float64(share)/100); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.log.InfoContext(r.Context(), "API budget share set", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID, "share_percent", share)
	http.Redirect(w, r, "/admin/salesforce/info?done=budget_saved", http.StatusSeeOther)
}

type runView struct {
	// Drift is a drift check's report (nil for other runs).
	Drift   *store.DriftReport
	Run     syncer.Run
	Groups  []groupView
	Records []recordView
	Kind    string
	Reason  string
	Limit   int
	// Rate is the run's records per second in words: while it runs, with
	// the time left; once finished, over its whole duration.
	Rate string
}

// finishedRate is a finished run's records per second over its duration,
// "" when it processed nothing or took no measurable time.
func finishedRate(lang string, run syncer.Run) string {
	if run.FinishedAt == nil || run.Processed <= 0 {
		return ""
	}
	d := run.FinishedAt.Sub(run.StartedAt)
	if d < time.Second {
		return ""
	}
	r, _ := translate(lang, "progress.rate", groupDigits(int64(float64(run.Processed)/d.Seconds()+0.5)))
	return r
}

const recordsPerPage = 200

func (s *server) runID(w http.ResponseWriter, r *http.Request, rc *reqCtx) (syncer.Run, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
		return syncer.Run{}, false
	}
	// The engine looks the run up within the signed-in tenant only.
	run, err := s.opts.Engine.GetRun(r.Context(), rc.Tenant.ID, id)
	if err == nil && run.TenantID != "" && run.TenantID != rc.Tenant.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return syncer.Run{}, false
	}
	return run, true
}

func (s *server) runPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	run, ok := s.runID(w, r, rc)
	if !ok {
		return
	}
	ctx := r.Context()
	v := runView{Run: run, Kind: r.URL.Query().Get("kind"), Reason: r.URL.Query().Get("reason"), Limit: recordsPerPage}
	if v.Rate = paceText(rc.Lang, run, s.opts.Now()); v.Rate == "" {
		v.Rate = finishedRate(rc.Lang, run)
	}
	groups, err := s.opts.Engine.ReasonGroups(ctx, rc.Tenant.ID, run.ID)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	for _, g := range groups {
		gv := groupView{ReasonGroup: g}
		if g.Kind == syncer.KindFailed {
			// The group's fix names the field of its first record.
			first, err := s.opts.Engine.RunRecords(ctx, rc.Tenant.ID, run.ID, g.Kind, g.ReasonCode, 1)
			if err != nil {
				s.fail(w, r, rc, err)
				return
			}
			var field string
			if len(first) == 1 {
				field = first[0].Field
			}
			gv.Fix = s.fixText(rc.Lang, run.Direction, g.ReasonCode, field)
		}
		v.Groups = append(v.Groups, gv)
	}
	recs, err := s.opts.Engine.RunRecords(ctx, rc.Tenant.ID, run.ID, syncer.RecordKind(v.Kind), v.Reason, recordsPerPage)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if run.Trigger == syncer.TriggerDrift {
		if rep, err := s.opts.Engine.DriftReport(ctx, rc.Tenant.ID, run.ID); err == nil {
			v.Drift = &rep
		}
	}
	// Each record links to its Salesforce record (the org's instance URL
	// and the Id) and to its platform contact, and says what to fix.
	conn, err := s.opts.Conn.Status(ctx, rc.Tenant.ID)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	for _, rec := range recs {
		rv := recordView{RunRecord: rec, SalesforceURL: salesforceRecordURL(conn.InstanceURL, rec.SalesforceID), ContactURL: s.contactURL(rec.ContactID)}
		if rec.Kind == syncer.KindFailed {
			rv.Fix = s.fixText(rc.Lang, run.Direction, rec.ReasonCode, rec.Field)
		}
		v.Records = append(v.Records, rv)
	}
	s.renderPage(w, r, rc, http.StatusOK, "run", v)
}

func (s *server) retryRun(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	run, ok := s.runID(w, r, rc)
	if !ok {
		return
	}
	// The form names a reason to retry one group of the run's failures.
	if _, err := s.opts.Engine.RetryFailed(r.Context(), rc.Tenant.ID, run.ID, r.PostForm.Get("reason")); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	http.Redirect(w, r, "/admin/salesforce/info?done=retry_started", http.StatusSeeOther)
}

func (s *server) exportRun(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	run, ok := s.runID(w, r, rc)
	if !ok {
		return
	}
	// Buffer the CSV so a failure midway is an error page, not half a file.
	var buf bytes.Buffer
	q := r.URL.Query()
	if err := s.opts.Engine.WriteRunCSV(r.Context(), rc.Tenant.ID, run.ID, syncer.RecordKind(q.Get("kind")), q.Get("reason"), &buf); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="sfsync-run-%d.csv"`, run.ID))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
