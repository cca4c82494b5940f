package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// code is the machine-readable kind of an API error. Each code maps to one
// HTTP status and one problem type URI, here and nowhere else.
type code string

const (
	codeInvalid          code = "invalid-request"
	codeInvalidText      code = "invalid-text"
	codeUnauthorized     code = "unauthorized"
	codeNotFound         code = "not-found"
	codeNoRoute          code = "no-such-route"
	codeMethodNotAllowed code = "method-not-allowed"
	codeConflict         code = "conflict"
	codeTooLarge         code = "too-large"
	codeUnsupportedMedia code = "unsupported-media-type"
	codeBusy             code = "busy"
	codeInternal         code = "internal"
	codeUnprocessable    code = "invalid-configuration"
	codeRefused          code = "refused"
	codeUnavailable      code = "unavailable"

	// The review queue's answers.
	codeUnprocessableInput code = "unprocessable"
	codeAlreadyResolved    code = "already-resolved"
)

var codeStatus = map[code]struct {
	status int
	title  string
}{
	codeInvalid:          {http.StatusBadRequest, "The request is not valid"},
	codeInvalidText:      {http.StatusUnprocessableEntity, "The request holds text that cannot be stored (a NUL character or bytes that are not UTF-8)"},
	codeUnauthorized:     {http.StatusUnauthorized, "A valid API key is required"},
	codeNotFound:         {http.StatusNotFound, "Not found"},
	codeNoRoute:          {http.StatusNotFound, "No such API route"},
	codeMethodNotAllowed: {http.StatusMethodNotAllowed, "Method not allowed"},
	codeConflict:         {http.StatusConflict, "A unique value already belongs to another record"},
	codeTooLarge:         {http.StatusRequestEntityTooLarge, "The request is too large"},
	codeUnsupportedMedia: {http.StatusUnsupportedMediaType, "Unsupported content type"},
	codeBusy:             {http.StatusServiceUnavailable, "The database is busy; retry shortly"},
	codeInternal:         {http.StatusInternalServerError, "Internal server error"},
	codeUnprocessable:    {http.StatusUnprocessableEntity, "The sync configuration is not valid"},
	codeRefused:          {http.StatusConflict, "Salesforce sync cannot do this now"},
	codeUnavailable:      {http.StatusServiceUnavailable, "Not available on this server"},

	codeUnprocessableInput: {http.StatusUnprocessableEntity, "The request cannot be carried out as sent"},
	codeAlreadyResolved:    {http.StatusConflict, "The review item is already resolved"},
}

// problemTypePrefix prefixes every problem "type" URI; the code follows it.
const problemTypePrefix = "urn:sfsync:problem:"

// fieldProblem is one entry of a problem's "errors" list.
type fieldProblem struct {
	Field                string `json:"field"`
	Reason               string `json:"reason"`
	ConflictingContactID string `json:"conflicting_contact_id,omitempty"`
	// For sync configuration errors: the setup step, a stable code and
	// the reason in Traditional Chinese.
	Step     string `json:"step,omitempty"`
	Code     string `json:"code,omitempty"`
	ReasonZH string `json:"reason_zh_tw,omitempty"`
}

// apiError is the one error type handlers return: a code, a message safe
// to show the client, per-field details, and for internal errors the
// cause, which is logged and never shown.
type apiError struct {
	code                 code
	detail               string
	fields               []fieldProblem
	conflictingContactID string
	cause                error
	// refusal and detailZH describe a Salesforce refusal (sfconn codes).
	refusal  string
	detailZH string
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return string(e.code) + ": " + e.detail + ": " + e.cause.Error()
	}
	return string(e.code) + ": " + e.detail
}

func (e *apiError) Unwrap() error { return e.cause }

func errorf(c code, format string, args ...any) *apiError {
	return &apiError{code: c, detail: fmt.Sprintf(format, args...)}
}

// invalidField is a 400 naming one field.
func invalidField(field, reason string) *apiError {
	return &apiError{code: codeInvalid, detail: field + ": " + reason, fields: []fieldProblem{{Field: field, Reason: reason}}}
}

// unprocessableField is a 422 naming one field: well-formed JSON whose
// value cannot be carried out.
func unprocessableField(field, reason string) *apiError {
	return &apiError{code: codeUnprocessableInput, detail: field + ": " + reason, fields: []fieldProblem{{Field: field, Reason: reason}}}
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type                 string         `json:"type"`
	Title                string         `json:"title"`
	Status               int            `json:"status"`
	Detail               string         `json:"detail,omitempty"`
	Errors               []fieldProblem `json:"errors,omitempty"`
	ConflictingContactID string         `json:"conflicting_contact_id,omitempty"`
	Refusal              string         `json:"refusal,omitempty"`
	DetailZH             string         `json:"detail_zh_tw,omitempty"`
}

// fieldProblems turns contact.FieldErrors into problem entries.
func fieldProblems(fe contact.FieldErrors) []fieldProblem {
	out := make([]fieldProblem, len(fe))
	for i, e := range fe {
		if e.Field == "" {
			e.Field = "(body)"
		}
		out[i] = fieldProblem{Field: e.Field, Reason: e.Reason}
	}
	return out
}

// conflictProblem describes a store conflict as a field problem.
func conflictProblem(cc *store.ContactConflict) fieldProblem {
	reason := fmt.Sprintf("%q already belongs to another contact", cc.Value)
	if cc.ContactID == "" {
		reason = fmt.Sprintf("%q is already taken", cc.Value)
	}
	return fieldProblem{Field: cc.Field, Reason: reason, ConflictingContactID: cc.ContactID}
}

// asAPIError classifies any error a handler returns.
func asAPIError(err error) *apiError {
	var ae *apiError
	var te contact.TextErrors
	var fe contact.FieldErrors
	var cc *store.ContactConflict
	var uv *store.UniqueViolation
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return errorf(codeTooLarge, "the request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &te):
		return fieldsError(codeInvalidText, contact.FieldErrors(te))
	case errors.As(err, &fe):
		return fieldsError(codeInvalid, fe)
	case errors.As(err, &cc):
		fp := conflictProblem(cc)
		return &apiError{code: codeConflict, detail: fp.Field + ": " + fp.Reason, fields: []fieldProblem{fp}, conflictingContactID: cc.ContactID}
	case errors.As(err, &uv):
		// A race the store's pre-checks did not see; name the field if the
		// constraint does.
		field := constraintField(uv.Constraint)
		return &apiError{code: codeConflict, detail: field + ": the value is already taken", fields: []fieldProblem{{Field: field, Reason: "the value is already taken"}}}
	case errors.Is(err, store.ErrNotFound):
		return errorf(codeNotFound, "not found")
	case errors.Is(err, store.ErrBusy):
		return &apiError{code: codeBusy, detail: "the database is busy; retry the request", cause: err}
	}
	return &apiError{code: codeInternal, detail: "an internal error occurred", cause: err}
}

// fieldsError is a problem of code listing every field of fe.
func fieldsError(c code, fe contact.FieldErrors) *apiError {
	fields := fieldProblems(fe)
	details := make([]string, len(fields))
	for i, f := range fields {
		details[i] = f.Field + ": " + f.Reason
	}
	return &apiError{code: c, detail: strings.Join(details, "; "), fields: fields}
}

func constraintField(constraint string) string {
	for _, f := range []string{"member_id", "phone", "email", "social_identities", "key"} {
		if strings.Contains(constraint, f) {
			return f
		}
	}
	return "(body)"
}

// writeError writes err as problem+json, logging only internal errors.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := asAPIError(err)
	if ae.code == codeInternal {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			// The client went away; there is nobody to answer.
			return
		}
		// Method, route and error only: never bodies, query values or keys.
		s.logger.ErrorContext(r.Context(), "api request failed", "method", r.Method, "route", r.Pattern,
			"tenant_id", tenantFrom(r.Context()), "code", string(ae.code), "err", err)
	}
	writeProblem(w, ae)
}

func writeProblem(w http.ResponseWriter, ae *apiError) {
	cs := codeStatus[ae.code]
	p := problem{
		Type:                 problemTypePrefix + string(ae.code),
		Title:                cs.title,
		Status:               cs.status,
		Detail:               ae.detail,
		Errors:               ae.fields,
		ConflictingContactID: ae.conflictingContactID,
		Refusal:              ae.refusal,
		DetailZH:             ae.detailZH,
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	switch ae.code {
	case codeUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="sfsync"`)
	case codeBusy:
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(cs.status)
	_ = json.NewEncoder(w).Encode(p) // fails only when the client has gone
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // fails only when the client has gone
}
