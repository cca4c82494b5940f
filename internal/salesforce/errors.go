package salesforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Salesforce error codes the client acts on. Others are carried verbatim in
// APIError.ErrorCode.
const (
	CodeInvalidSession       = "INVALID_SESSION_ID"
	CodeRequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
	CodeAPIDisabledForOrg    = "API_DISABLED_FOR_ORG"
	CodeAPICurrentlyDisabled = "API_CURRENTLY_DISABLED" // the user lacks the "API Enabled" permission
	CodeUnableToLockRow      = "UNABLE_TO_LOCK_ROW"
	CodeServerUnavailable    = "SERVER_UNAVAILABLE"
)

// ErrAPIDisabled matches (with errors.Is) an APIError whose code is
// API_DISABLED_FOR_ORG: the org has no API access (SPEC S2). Show
// APIDisabledMessage to the admin.
var ErrAPIDisabled = errors.New("salesforce: the REST API is not enabled for this organization")

// APIDisabledMessage is the text shown to an admin whose org answered
// API_DISABLED_FOR_ORG (SPEC S2).
const APIDisabledMessage = "This Salesforce org does not have API access (Salesforce answered API_DISABLED_FOR_ORG). " +
	"Enterprise, Unlimited and Performance editions include it; Professional Edition needs the Web Services API add-on."

// ErrNotFound matches (with errors.Is) an *APIError with HTTP status 404.
var ErrNotFound = errors.New("salesforce: not found")

// ErrRefreshRevoked matches (with errors.Is) a failed token refresh where the
// token endpoint answered invalid_grant: the refresh token was revoked or
// expired, or the user was deactivated. The connection must be marked broken
// and the admin asked to reconnect (SPEC X5). errors.As still finds the
// underlying *APIError.
var ErrRefreshRevoked = errors.New("salesforce: refresh token revoked or expired")

// ErrorItem is one entry of a Salesforce REST error array:
//
//	[{"message":"...","errorCode":"INVALID_FIELD","fields":["Email"]}]
type ErrorItem struct {
	ErrorCode string   `json:"errorCode"`
	Message   string   `json:"message"`
	Fields    []string `json:"fields,omitempty"`
	// DuplicateResut is the duplicate rule's answer of a single-record
	// DUPLICATES_DETECTED, under the key as real orgs spell it.
	DuplicateResut *DuplicateResult `json:"duplicateResut,omitempty"`
}

// DuplicateIDs lists the existing records a duplicate rule matched.
func (e ErrorItem) DuplicateIDs() []string {
	return RecordError{DuplicateResult: e.DuplicateResut}.DuplicateIDs()
}

// APIError is an error answer from Salesforce: a REST error array, an OAuth
// error body ({"error","error_description"}), or a non-JSON body (then
// ErrorCode is empty and Message holds the start of the body).
type APIError struct {
	StatusCode int    // HTTP status
	ErrorCode  string // first entry's errorCode, or the OAuth "error"
	Message    string // first entry's message, or the OAuth "error_description"
	Fields     []string
	// Errors holds every entry when Salesforce sent an array (usually one).
	Errors []ErrorItem
	// Method and Path identify the request (path only: queries can carry
	// personal data, so the query string is left out).
	Method string
	Path   string
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("salesforce: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Is reports ErrAPIDisabled for API_DISABLED_FOR_ORG and ErrNotFound for
// HTTP 404.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAPIDisabled:
		return e.ErrorCode == CodeAPIDisabledForOrg
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// LimitError is returned when Salesforce answers REQUEST_LIMIT_EXCEEDED: the
// org's API allocation (or its concurrent long-running request limit) is
// exhausted. It is not retried.
type LimitError struct {
	*APIError
	// Used and Max are the last Sforce-Limit-Info reading (0 if none).
	Used, Max int
}

func (e *LimitError) Error() string { return e.APIError.Error() }

// Unwrap returns the underlying *APIError.
func (e *LimitError) Unwrap() error { return e.APIError }

// BudgetError is returned, without calling Salesforce, when the share of the
// org's daily API allocation that sfsync may use is spent (SPEC X4).
type BudgetError struct {
	Used    int // calls used in the org's rolling 24 h window, at the last reading
	Max     int // the org's daily allocation
	Allowed int // the part of Max that sfsync may use
	// Until is the estimated time when enough calls leave Salesforce's rolling
	// 24 h window for usage to drop below Allowed (see Usage.Until).
	Until time.Time
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("salesforce: api budget spent until %s (used %d of %d, budget %d)",
		e.Until.UTC().Format(time.RFC3339), e.Used, e.Max, e.Allowed)
}

// BulkJobError reports a Bulk API 2.0 job that ended Failed or Aborted.
type BulkJobError struct {
	JobID   string
	State   string
	Message string
}

func (e *BulkJobError) Error() string {
	return fmt.Sprintf("salesforce: bulk job %s %s: %s", e.JobID, e.State, e.Message)
}

// Retryable reports whether err is transient: a 5xx or 420/429 answer,
// UNABLE_TO_LOCK_ROW or SERVER_UNAVAILABLE, a timeout, or a dropped
// connection. The client has already retried such errors up to its attempt
// limit; a caller (a job queue) may try again later.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var le *LimitError
	if errors.As(err, &le) {
		return false
	}
	var be *BudgetError
	if errors.As(err, &be) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return retryableAPIError(ae)
	}
	return retryableTransport(err)
}

func retryableAPIError(e *APIError) bool {
	switch e.ErrorCode {
	case CodeUnableToLockRow, CodeServerUnavailable:
		return true
	case CodeRequestLimitExceeded:
		return false
	}
	return e.StatusCode >= 500 || e.StatusCode == 420 || e.StatusCode == http.StatusTooManyRequests
}

// retryableTransport reports whether a transport (not HTTP status) error is
// worth retrying. Context cancellation is not: the caller gave up.
func retryableTransport(err error) bool {
	if errors.Is(err, errContextDone) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// net/http reports some drops only as text.
	msg := err.Error()
	return strings.Contains(msg, "server closed idle connection") ||
		strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "transport connection broken")
}

// errContextDone marks errors that come from the caller's context, so that
// they are never retried.
var errContextDone = errors.New("context done")

// decodeError builds an APIError from an error response body.
func decodeError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	trimmed := bytes.TrimSpace(body)
	var items []ErrorItem
	if len(trimmed) > 0 && trimmed[0] == '[' && json.Unmarshal(trimmed, &items) == nil && len(items) > 0 {
		e.Errors = items
		e.ErrorCode, e.Message, e.Fields = items[0].ErrorCode, items[0].Message, items[0].Fields
		return e
	}
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var obj struct {
			ErrorItem
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(trimmed, &obj) == nil {
			switch {
			case obj.ErrorCode != "":
				e.Errors = []ErrorItem{obj.ErrorItem}
				e.ErrorCode, e.Message, e.Fields = obj.ErrorCode, obj.Message, obj.Fields
				return e
			case obj.Error != "":
				e.ErrorCode, e.Message = obj.Error, obj.Description
				return e
			}
		}
	}
	e.Message = snippet(trimmed)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// snippet returns the start of a non-JSON body (an HTML error page from a
// proxy, say), safe for an error message.
func snippet(b []byte) string {
	const n = 200
	if len(b) > n {
		b = b[:n]
	}
	for !utf8.Valid(b) && len(b) > 0 {
		b = b[:len(b)-1]
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
