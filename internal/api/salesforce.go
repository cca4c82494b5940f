package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// The Salesforce part of the API: the connection (start, callback,
// status, disconnect), the sync configuration (read, save, validate, dry
// run), manual syncs and the run logs. It needs the engine and the
// connection service; without them these routes answer 503.

// Sync is what the Salesforce routes drive.
type Sync struct {
	Engine *syncer.Engine
	Conn   *sfconn.Service
	// Alerts keeps the alert settings (nil: those routes answer 503).
	Alerts *alert.Service
}

func (s *server) sync() (*syncer.Engine, *sfconn.Service, error) {
	if s.sf.Engine == nil || s.sf.Conn == nil {
		return nil, nil, errorf(codeUnavailable, "Salesforce sync is not configured on this server")
	}
	return s.sf.Engine, s.sf.Conn, nil
}

// keyBinding binds an OAuth state to the API key that started it, as the
// admin UI binds it to the admin's session.
func keyBinding(r *http.Request) string {
	_, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return "api-key:" + hex.EncodeToString(sum[:8])
}

// refusalError turns the connection service's refusals into problems that
// carry the refusal's code and both languages' messages.
func refusalError(err error) error {
	var ref *sfconn.Refusal
	if errors.As(err, &ref) {
		return &apiError{code: codeRefused, detail: ref.MessageEN, refusal: ref.Code, detailZH: ref.MessageZH}
	}
	switch {
	case errors.Is(err, syncer.ErrNotConfigured):
		return &apiError{code: codeRefused, detail: "no sync configuration has been saved; PUT /salesforce/config first", refusal: "not_configured"}
	case errors.Is(err, syncer.ErrNoPull):
		return &apiError{code: codeRefused, detail: "the configuration syncs nothing from Salesforce to the platform", refusal: "no_pull"}
	}
	var paused *syncer.PausedError
	switch {
	case errors.As(err, &paused):
		return &apiError{code: codeRefused, detail: fmt.Sprintf("run %d is paused until %s: %s", paused.Run.ID, paused.Until.UTC().Format(time.RFC3339), paused.Why), refusal: "paused"}
	case errors.Is(err, syncer.ErrNothingToRetry):
		return &apiError{code: codeRefused, detail: "there are no failed records to retry; no run started", refusal: "nothing_to_retry"}
	}
	var ves syncconf.ValidationErrors
	if errors.As(err, &ves) {
		ae := &apiError{code: codeUnprocessable, detail: "the configuration is not valid"}
		var details []string
		for _, ve := range ves {
			ae.fields = append(ae.fields, fieldProblem{Field: ve.Path, Reason: ve.Message[syncconf.LangEN], ReasonZH: ve.Message[syncconf.LangZHTW],
				Step: string(ve.Step), Code: ve.Code})
			details = append(details, ve.Path+": "+ve.Message[syncconf.LangEN])
		}
		ae.detail = strings.Join(details, "; ")
		return ae
	}
	return err
}

func (s *server) getConnection(w http.ResponseWriter, r *http.Request) error {
	_, conn, err := s.sync()
	if err != nil {
		return err
	}
	c, err := conn.Status(r.Context(), tenantFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// setBudget sets the share of the org's daily API allocation sfsync may
// use (X4).
func (s *server) setBudget(w http.ResponseWriter, r *http.Request) error {
	_, conn, err := s.sync()
	if err != nil {
		return err
	}
	var body struct {
		Share *float64 `json:"share"`
	}
	if err := decodeOptionalObject(w, r, &body); err != nil {
		return err
	}
	if body.Share == nil {
		return invalidField("share", "is required: the share of the daily API allocation sfsync may use, more than 0 and at most 1")
	}
	c, err := conn.SetBudget(r.Context(), tenantFrom(r.Context()), *body.Share)
	if errors.Is(err, sfconn.ErrBadBudget) {
		return invalidField("share", "must be more than 0 and at most 1")
	}
	if err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *server) startConnection(w http.ResponseWriter, r *http.Request) error {
	_, conn, err := s.sync()
	if err != nil {
		return err
	}
	var body struct {
		LoginURL string `json:"login_url"`
	}
	if err := decodeOptionalObject(w, r, &body); err != nil {
		return err
	}
	u, err := conn.Start(r.Context(), tenantFrom(r.Context()), keyBinding(r), body.LoginURL)
	if err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"authorize_url": u})
	return nil
}

func (s *server) finishConnection(w http.ResponseWriter, r *http.Request) error {
	_, conn, err := s.sync()
	if err != nil {
		return err
	}
	var body struct {
		Code             string `json:"code"`
		State            string `json:"state"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := decodeOptionalObject(w, r, &body); err != nil {
		return err
	}
	if body.State == "" {
		return invalidField("state", "is required: the state from Salesforce's redirect")
	}
	c, err := conn.Finish(r.Context(), tenantFrom(r.Context()), keyBinding(r),
		sfconn.CallbackParams{State: body.State, Code: body.Code, Error: body.Error, ErrorDescription: body.ErrorDescription})
	if err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	if err := eng.Disconnect(r.Context(), tenantFrom(r.Context())); err != nil {
		return refusalError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type configResponse struct {
	Version int64           `json:"version"`
	Config  syncconf.Config `json:"config"`
}

func (s *server) getConfig(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	cfg, v, err := eng.CurrentConfig(r.Context(), tenantFrom(r.Context()))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(codeNotFound, "no sync configuration has been saved")
		}
		return err
	}
	writeJSON(w, http.StatusOK, configResponse{Version: v, Config: cfg.Canonical()})
	return nil
}

// listObjects lists the Salesforce objects a configuration may sync in
// this org (issue 16): Contact, Lead and the pair LeadContact always,
// PersonAccount when the
// org has Person Accounts enabled.
func (s *server) listObjects(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	env, err := eng.EnvFor(r.Context(), tenantFrom(r.Context()), syncconf.ObjectContact)
	if err != nil {
		return refusalError(err)
	}
	type object struct {
		Object  syncconf.ObjectChoice `json:"object"`
		SObject string                `json:"sobject"`
		// Converted is, for the pair LeadContact, the object converted
		// Leads go on as.
		Converted string `json:"converted_sobject,omitempty"`
	}
	out := struct {
		Objects []object `json:"objects"`
	}{Objects: []object{}}
	for _, o := range env.Objects() {
		out.Objects = append(out.Objects, object{Object: o, SObject: o.SObject(), Converted: o.ConvertedObject()})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// readConfig decodes a syncconf.Config body strictly.
func readConfig(w http.ResponseWriter, r *http.Request) (syncconf.Config, error) {
	b, err := readObject(w, r, maxObjectBytes)
	if err != nil {
		return syncconf.Config{}, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return syncconf.Config{}, invalidField("(body)", "a sync configuration object is required")
	}
	if err := contact.CheckJSONText(b); err != nil {
		return syncconf.Config{}, err
	}
	cfg, err := syncconf.DecodeConfig(b)
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case err == nil:
		return cfg, nil
	case errors.As(err, &ute), errors.As(err, &se), strings.Contains(err.Error(), "json: unknown field "):
		// In the client's terms, naming the field; never Go's message.
		return syncconf.Config{}, contact.JSONError(err)
	}
	// Only the schema version is checked past decoding.
	return syncconf.Config{}, invalidField("schema_version", strings.TrimPrefix(err.Error(), "syncconf: "))
}

func (s *server) putConfig(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	cfg, err := readConfig(w, r)
	if err != nil {
		return err
	}
	v, err := eng.SaveConfig(r.Context(), tenantFrom(r.Context()), keyBinding(r), cfg)
	if err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusOK, configResponse{Version: v.Version, Config: cfg.Canonical()})
	return nil
}

func (s *server) validateConfig(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	cfg, err := readConfig(w, r)
	if err != nil {
		return err
	}
	if err := eng.ValidateConfig(r.Context(), tenantFrom(r.Context()), cfg); err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": true})
	return nil
}

func (s *server) dryRun(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	cfg, err := readConfig(w, r)
	if err != nil {
		return err
	}
	rep, err := eng.DryRun(r.Context(), tenantFrom(r.Context()), cfg)
	if err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// startSync runs a manual sync (S20): "changes" pulls Salesforce's changes
// now, "full" re-reads everything, "initial" starts the first sync,
// "retry_failed" retries every failed record, "drift_check" checks for
// and repairs drift (Y2).
func (s *server) startSync(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	var body struct {
		Kind string `json:"kind"`
	}
	if err := decodeOptionalObject(w, r, &body); err != nil {
		return err
	}
	ctx, t := r.Context(), tenantFrom(r.Context())
	var run syncer.Run
	switch body.Kind {
	case "changes", "":
		run, err = eng.SyncNow(ctx, t)
	case "full":
		run, err = eng.FullResync(ctx, t)
	case "initial":
		run, err = eng.StartInitialSync(ctx, t)
	case "retry_failed":
		run, err = eng.RetryFailed(ctx, t, 0, "")
	case "drift_check":
		run, err = eng.DriftCheck(ctx, t)
	default:
		return invalidField("kind", "must be changes, full, initial, retry_failed or drift_check")
	}
	if err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

func (s *server) listRuns(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := syncer.RunFilter{Direction: syncer.Direction(q.Get("direction"))}
	switch f.Direction {
	case "", "both":
		f.Direction = ""
	case syncer.DirToPlatform, syncer.DirToSalesforce:
	default:
		return invalidField("direction", "must be to_platform, to_salesforce or both")
	}
	if f.Limit, err = intParam(q.Get("limit"), 50, 1, 500, "limit"); err != nil {
		return err
	}
	before, err := intParam(q.Get("before"), 0, 0, 1<<62, "before")
	if err != nil {
		return err
	}
	f.BeforeID = int64(before)
	runs, err := eng.ListRuns(r.Context(), tenantFrom(r.Context()), f)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []syncer.Run{}
	}
	out := map[string]any{"data": runs}
	if len(runs) == f.Limit {
		out["next_before"] = runs[len(runs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func intParam(v string, def, lo, hi int, name string) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalidField(name, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// pathID reads the {id} of a route whose resource is what ("run", "review
// item"): anything but a positive integer is no such resource.
func pathID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(codeNotFound, "no such %s", what)
	}
	return id, nil
}

func (s *server) getRun(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	id, err := pathID(r, "run")
	if err != nil {
		return err
	}
	run, err := eng.GetRun(r.Context(), tenantFrom(r.Context()), id)
	if err != nil {
		return err
	}
	groups, err := eng.ReasonGroups(r.Context(), tenantFrom(r.Context()), id)
	if err != nil {
		return err
	}
	if groups == nil {
		groups = []syncer.ReasonGroup{}
	}
	writeJSON(w, http.StatusOK, struct {
		syncer.Run
		Percent float64              `json:"percent"`
		Groups  []syncer.ReasonGroup `json:"groups"`
	}{run, run.Percent(), groups})
	return nil
}

func (s *server) listRunRecords(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	id, err := pathID(r, "run")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), 500, 1, 10000, "limit")
	if err != nil {
		return err
	}
	if q.Get("format") == "csv" {
		var buf bytes.Buffer
		if err := eng.WriteRunCSV(r.Context(), tenantFrom(r.Context()), id, syncer.RecordKind(q.Get("kind")), q.Get("reason"), &buf); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="sfsync-run-`+strconv.FormatInt(id, 10)+`.csv"`)
		w.Write(buf.Bytes())
		return nil
	}
	recs, err := eng.RunRecords(r.Context(), tenantFrom(r.Context()), id, syncer.RecordKind(q.Get("kind")), q.Get("reason"), limit)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []syncer.RunRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": recs})
	return nil
}

// decodeOptionalObject decodes a JSON object body into v, strictly; an
// empty body leaves v as it is.
func decodeOptionalObject(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readObject(w, r, maxObjectBytes)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return decodeStrict(b, v)
}
