// Package api is the platform's tenant-scoped JSON API under /api/v1: contacts,
// their social identities, custom field definitions and bulk import (SPEC
// P1–P4). Every request but the OpenAPI document is authenticated with a
// tenant's API key and sees only that tenant's data (X10). Errors are RFC
// 9457 problem details.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// Prefix is the path every route of the API begins with.
const Prefix = "/api/v1"

// Request body limits.
const (
	maxObjectBytes = 1 << 20  // one contact, identity or field definition
	maxBulkBytes   = 64 << 20 // one bulk request
	maxBulkItems   = 10_000
)

// route is one operation of the API. The table below is the one list of
// routes: New registers it, and the tests check it against the OpenAPI
// document in both directions and call every entry for tenant isolation.
type route struct {
	method string
	path   string // below Prefix, in ServeMux and OpenAPI template syntax
	public bool   // served without an API key
	// rules: the handler validates contacts, so the tenant's contact rules
	// are read with the API key, in one statement (contactRules).
	rules  bool
	handle func(s *server, w http.ResponseWriter, r *http.Request) error
}

var routes = []route{
	{method: http.MethodGet, path: "/openapi.json", public: true, handle: (*server).getOpenAPI},
	{method: http.MethodGet, path: "/contacts", handle: (*server).listContacts},
	{method: http.MethodPost, path: "/contacts", rules: true, handle: (*server).createContact},
	{method: http.MethodPost, path: "/contacts/bulk", rules: true, handle: (*server).bulkUpsert},
	{method: http.MethodGet, path: "/contacts/{id}", handle: (*server).getContact},
	{method: http.MethodPatch, path: "/contacts/{id}", rules: true, handle: (*server).updateContact},
	{method: http.MethodDelete, path: "/contacts/{id}", handle: (*server).deleteContact},
	{method: http.MethodPost, path: "/contacts/{id}/social-identities", handle: (*server).addSocialIdentity},
	{method: http.MethodDelete, path: "/contacts/{id}/social-identities/{channel_type}/{channel_id}/{user_id}", handle: (*server).removeSocialIdentity},
	{method: http.MethodGet, path: "/custom-fields", handle: (*server).listCustomFields},
	{method: http.MethodPost, path: "/custom-fields", handle: (*server).createCustomField},
	{method: http.MethodDelete, path: "/custom-fields/{key}", handle: (*server).deleteCustomField},
	{method: http.MethodGet, path: "/salesforce/connection", handle: (*server).getConnection},
	{method: http.MethodPost, path: "/salesforce/connection", handle: (*server).startConnection},
	{method: http.MethodDelete, path: "/salesforce/connection", handle: (*server).deleteConnection},
	{method: http.MethodPost, path: "/salesforce/connection/callback", handle: (*server).finishConnection},
	{method: http.MethodPut, path: "/salesforce/connection/budget", handle: (*server).setBudget},
	{method: http.MethodGet, path: "/salesforce/objects", handle: (*server).listObjects},
	{method: http.MethodGet, path: "/salesforce/config", handle: (*server).getConfig},
	{method: http.MethodPut, path: "/salesforce/config", handle: (*server).putConfig},
	{method: http.MethodPost, path: "/salesforce/config/validate", handle: (*server).validateConfig},
	{method: http.MethodPost, path: "/salesforce/config/dry-run", handle: (*server).dryRun},
	{method: http.MethodPost, path: "/salesforce/sync", handle: (*server).startSync},
	{method: http.MethodGet, path: "/salesforce/runs", handle: (*server).listRuns},
	{method: http.MethodGet, path: "/salesforce/runs/{id}", handle: (*server).getRun},
	{method: http.MethodGet, path: "/salesforce/runs/{id}/records", handle: (*server).listRunRecords},
	{method: http.MethodGet, path: "/salesforce/review", handle: (*server).listReview},
	{method: http.MethodGet, path: "/salesforce/review/{id}", handle: (*server).getReview},
	{method: http.MethodPost, path: "/salesforce/review/{id}/resolve", handle: (*server).resolveReview},
	{method: http.MethodGet, path: "/salesforce/history", handle: (*server).getHistory},
	{method: http.MethodPost, path: "/salesforce/history/resync", handle: (*server).resyncContact},
	{method: http.MethodGet, path: "/salesforce/pause", handle: (*server).getPause},
	{method: http.MethodPut, path: "/salesforce/pause", handle: (*server).putPause},
	{method: http.MethodGet, path: "/salesforce/config/export", handle: (*server).exportConfig},
	{method: http.MethodPost, path: "/salesforce/config/import", handle: (*server).importConfig},
	{method: http.MethodGet, path: "/salesforce/alerts", handle: (*server).getAlerts},
	{method: http.MethodPut, path: "/salesforce/alerts", handle: (*server).putAlerts},
}

type server struct {
	store  *store.Store
	logger *slog.Logger
	mux    *http.ServeMux
	sf     Sync
}

// New returns the API's handler without the Salesforce routes' engine
// (they answer 503). It serves paths that begin with "/api/v1/"; mount it
// there in the main mux. Writes are recorded with origin contact.OriginAPI.
func New(s *store.Store, logger *slog.Logger) http.Handler {
	return NewWithSync(s, logger, Sync{})
}

// NewWithSync is New with the sync engine and connection service behind
// the /salesforce routes.
func NewWithSync(s *store.Store, logger *slog.Logger, sf Sync) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := &server{store: s, logger: logger, mux: http.NewServeMux(), sf: sf}
	for _, rt := range routes {
		srv.mux.Handle(rt.method+" "+Prefix+rt.path, srv.wrap(rt))
	}
	return srv
}

// ServeHTTP routes the request. The mux's own 404 and 405 answers are
// turned into problem documents.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.mux.ServeHTTP(&routeMissWriter{ResponseWriter: w, method: r.Method}, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// routeMissWriter replaces the mux's plain-text 404 and 405 with problem
// documents, keeping its Allow header; anything else (a redirect to a
// cleaned path) passes through.
type routeMissWriter struct {
	http.ResponseWriter
	method  string
	swallow bool
}

func (rw *routeMissWriter) WriteHeader(status int) {
	switch status {
	case http.StatusNotFound:
		rw.swallow = true
		writeProblem(rw.ResponseWriter, errorf(codeNoRoute, "no API route matches this path"))
	case http.StatusMethodNotAllowed:
		rw.swallow = true
		writeProblem(rw.ResponseWriter, errorf(codeMethodNotAllowed, "this path does not accept %s; it accepts %s", rw.method, rw.Header().Get("Allow")))
	default:
		rw.ResponseWriter.WriteHeader(status)
	}
}

func (rw *routeMissWriter) Write(b []byte) (int, error) {
	if rw.swallow {
		return len(b), nil
	}
	return rw.ResponseWriter.Write(b)
}

type tenantKey struct{}

type rulesKey struct{}

// contactRules returns the tenant's contact rules, read with the API key
// on routes marked rules (one statement instead of three before every
// contact write: issue 14's push stream on PostgreSQL), else now.
func (s *server) contactRules(r *http.Request) (contact.Rules, error) {
	if rules, ok := r.Context().Value(rulesKey{}).(contact.Rules); ok {
		return rules, nil
	}
	return s.store.ContactRules(r.Context(), tenantFrom(r.Context()))
}

func tenantFrom(ctx context.Context) string {
	id, _ := ctx.Value(tenantKey{}).(string)
	return id
}

// wrap authenticates the request (unless the route is public), runs the
// handler and writes its error, if any.
func (s *server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.public {
			tenantID, rules, err := s.authenticate(r, rt.rules)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			ctx := context.WithValue(r.Context(), tenantKey{}, tenantID)
			if rt.rules {
				ctx = context.WithValue(ctx, rulesKey{}, rules)
			}
			r = r.WithContext(ctx)
		}
		if err := rt.handle(s, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate returns the tenant of the request's API key and, with
// withRules, the tenant's contact rules, read in the same statement.
func (s *server) authenticate(r *http.Request, withRules bool) (string, contact.Rules, error) {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	key = strings.TrimSpace(key)
	if h == "" {
		return "", contact.Rules{}, errorf(codeUnauthorized, "send the tenant's API key as Authorization: Bearer <key>")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "", contact.Rules{}, errorf(codeUnauthorized, "the Authorization header must be Bearer <key>")
	}
	var tenantID string
	var rules contact.Rules
	var err error
	if withRules {
		tenantID, rules, err = s.store.ContactRulesForAPIKey(r.Context(), key)
	} else {
		tenantID, err = s.store.TenantForAPIKey(r.Context(), key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", contact.Rules{}, errorf(codeUnauthorized, "the API key is not valid or has been revoked")
	}
	if err != nil {
		return "", contact.Rules{}, err
	}
	return tenantID, rules, nil
}
