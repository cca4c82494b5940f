package sfemu

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// Side-door routes (JSON, unauthenticated, never faulted or counted).
// {org} is an org id (15 or 18 characters) or "default" (the first org).
//
//	GET    /__emulator__/                              this list
//	GET    /__emulator__/orgs                          orgs
//	POST   /__emulator__/orgs                          create an org {name, edition, apiAllocation, licenses, adminUsername, adminPassword, customFields}
//	GET    /__emulator__/orgs/{org}                    org summary
//	PUT    /__emulator__/orgs/{org}/edition            {edition}
//	POST   /__emulator__/orgs/{org}/seed               seed contacts {count, seed}
//	GET    /__emulator__/orgs/{org}/contacts           ?offset=&limit=&deleted=true
//	POST   /__emulator__/orgs/{org}/contacts           create as a human {field: value} (?user=username)
//	GET    /__emulator__/orgs/{org}/records/{id}       inspect any record (Recycle Bin rows too)
//	PATCH  /__emulator__/orgs/{org}/records/{id}       modify as a human (?user=username)
//	DELETE /__emulator__/orgs/{org}/records/{id}       delete as a human
//	POST   /__emulator__/orgs/{org}/records/{id}/touch move SystemModstamp only (automated process)
//	PUT    /__emulator__/orgs/{org}/records/{id}/timestamps set {lastModifiedDate, systemModstamp} (late commits, drift)
//	POST   /__emulator__/orgs/{org}/records/{id}/undelete restore from the Recycle Bin as a human
//	POST   /__emulator__/orgs/{org}/leads/{id}/convert convert a lead as a human {contactId, accountId, personAccount, convertedStatus, ownerId} (?user=)
//	GET    /__emulator__/orgs/{org}/objects/{Contact|Lead|Account} list, as /contacts does (?offset=&limit=&deleted=true)
//	POST   /__emulator__/orgs/{org}/objects/{Contact|Lead|Account} create as a human {field: value} (?user=username)
//	POST   /__emulator__/orgs/{org}/objects/{object}/fields add a custom field to Contact, Lead or Account
//	GET    /__emulator__/orgs/{org}/person-accounts    {enabled, recordTypes}
//	POST   /__emulator__/orgs/{org}/person-accounts    turn Person Accounts on (for good)
//	GET    /__emulator__/orgs/{org}/record-types       record types (?object=)
//	POST   /__emulator__/orgs/{org}/record-types       add one {sobjectType, developerName, name}
//	GET    /__emulator__/orgs/{org}/duplicate-rules    standard duplicate rules {Contact, Lead, PersonAccount, Account: "alert"|"block"|""}
//	PUT    /__emulator__/orgs/{org}/duplicate-rules    replace them
//	GET    /__emulator__/orgs/{org}/assignment-rules   Lead assignment rules
//	POST   /__emulator__/orgs/{org}/assignment-rules   add one {name, owners: [username or id], active}
//	POST   /__emulator__/orgs/{org}/seed/leads         seed leads {count, seed}
//	POST   /__emulator__/orgs/{org}/seed/person-accounts seed person accounts {count, seed}
//	POST   /__emulator__/orgs/{org}/leads/{id}/convert convert a lead as a human {contactId, accountId, personAccount, convertedStatus, ownerId} (?user=)
//	GET    /__emulator__/orgs/{org}/objects/{Contact|Lead|Account} list, as /contacts does (?offset=&limit=&deleted=true)
//	POST   /__emulator__/orgs/{org}/objects/{Contact|Lead|Account} create as a human {field: value} (?user=username)
//	POST   /__emulator__/orgs/{org}/objects/{object}/fields add a custom field to Contact, Lead or Account
//	GET    /__emulator__/orgs/{org}/person-accounts    {enabled, recordTypes}
//	POST   /__emulator__/orgs/{org}/person-accounts    turn Person Accounts on (for good)
//	GET    /__emulator__/orgs/{org}/record-types       record types (?object=)
//	POST   /__emulator__/orgs/{org}/record-types       add one {sobjectType, developerName, name}
//	GET    /__emulator__/orgs/{org}/duplicate-rules    standard duplicate rules {Contact, Lead, PersonAccount, Account: "alert"|"block"|""}
//	PUT    /__emulator__/orgs/{org}/duplicate-rules    replace them
//	GET    /__emulator__/orgs/{org}/assignment-rules   Lead assignment rules
//	POST   /__emulator__/orgs/{org}/assignment-rules   add one {name, owners: [username or id], active}
//	POST   /__emulator__/orgs/{org}/seed/leads         seed leads {count, seed}
//	POST   /__emulator__/orgs/{org}/seed/person-accounts seed person accounts {count, seed}
//	POST   /__emulator__/orgs/{org}/merge              merge Contacts as a human {master, losers: [1 or 2 ids], fields} (?user=username)
//	GET    /__emulator__/orgs/{org}/history            change history (?id=)
//	GET    /__emulator__/orgs/{org}/cdc                Change Data Capture settings {entities, gapEvents, available}
//	PUT    /__emulator__/orgs/{org}/cdc                {entities: ["Contact"], gapEvents}
//	POST   /__emulator__/orgs/{org}/cdc/overflow       publish a GAP_OVERFLOW event {entity}
//	GET    /__emulator__/orgs/{org}/cdc/events         retained change events, headers only (?after=replayId)
//	POST   /__emulator__/orgs/{org}/reset              delete contacts, history, cursors, jobs; zero usage
//	POST   /__emulator__/orgs/{org}/recycle-bin/empty  hard-delete Recycle Bin rows
//	GET    /__emulator__/orgs/{org}/api-usage          {used, max}
//	PUT    /__emulator__/orgs/{org}/api-usage          {used, max}
//	POST   /__emulator__/orgs/{org}/fields             add a Contact custom field {name, type, length, externalId, unique, picklist, restricted}
//	POST   /__emulator__/orgs/{org}/validation-rules   add a Contact validation rule {name, field, pattern, message, showOnField}
//	DELETE /__emulator__/orgs/{org}/validation-rules   remove all validation rules
//	POST   /__emulator__/orgs/{org}/users              add a user {username, password, firstName, lastName, profile, permissionSets}
//	POST   /__emulator__/orgs/{org}/tokens             issue a token {username} (admin when empty)
//	POST   /__emulator__/orgs/{org}/tokens/expire      expire the org's access tokens
//	POST   /__emulator__/orgs/{org}/refresh-tokens/expire revoke the org's refresh tokens
//	POST   /__emulator__/tokens/revoke                 {token}
//	GET    /__emulator__/apps                          connected apps
//	POST   /__emulator__/apps                          register {name, clientId, clientSecret, callbackUrls, ...}
//	GET    /__emulator__/faults                        current faults
//	PUT    /__emulator__/faults                        replace faults (Faults JSON; durations as "250ms")
//	GET    /__emulator__/clock                         {now}
//	POST   /__emulator__/clock/advance                 {duration: "1h30m"}
//	POST   /__emulator__/save                          write the --data file now
//	GET    /__emulator__/cert.pem                      the served TLS certificate (PEM), with --tls
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/__emulator__/"), "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	fail := func(status int, msg string) { writeJSON(w, status, map[string]string{"error": msg}) }
	decode := func(v any) bool {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err == nil && len(strings.TrimSpace(string(b))) > 0 {
			err = json.Unmarshal(b, v)
		}
		if err != nil {
			fail(400, "invalid JSON body: "+err.Error())
			return false
		}
		return true
	}
	route := r.Method + " " + strings.Join(segs, "/")
	switch {
	case len(segs) == 0:
		writeJSON(w, 200, map[string]any{"routes": adminRoutes})
		return
	case route == "GET orgs":
		var out []any
		for _, o := range s.Orgs() {
			out = append(out, s.orgSummary(o))
		}
		writeJSON(w, 200, out)
		return
	case route == "POST orgs":
		var body struct {
			OrgOptions
			CustomFields []CustomField `json:"customFields"`
		}
		if !decode(&body) {
			return
		}
		opts := body.OrgOptions
		if body.CustomFields != nil {
			opts.CustomFields = body.CustomFields
		}
		o, err := s.CreateOrg(opts)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, s.orgSummary(o))
		return
	case route == "POST tokens/revoke":
		var body struct {
			Token string `json:"token"`
		}
		if !decode(&body) {
			return
		}
		writeJSON(w, 200, map[string]bool{"revoked": s.RevokeToken(body.Token)})
		return
	case route == "GET apps":
		writeJSON(w, 200, s.ConnectedApps())
		return
	case route == "POST apps":
		var body ConnectedAppOptions
		if !decode(&body) {
			return
		}
		app, err := s.RegisterConnectedApp(body)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, app)
		return
	case route == "GET faults":
		writeJSON(w, 200, faultsJSON(s.CurrentFaults()))
		return
	case route == "PUT faults":
		var body faultsWire
		if !decode(&body) {
			return
		}
		f, err := body.faults()
		if err != nil {
			fail(400, err.Error())
			return
		}
		s.SetFaults(f)
		writeJSON(w, 200, faultsJSON(f))
		return
	case route == "GET clock":
		writeJSON(w, 200, map[string]string{"now": s.Now().Format(time.RFC3339Nano)})
		return
	case route == "POST clock/advance":
		var body struct {
			Duration string `json:"duration"`
		}
		if !decode(&body) {
			return
		}
		d, err := time.ParseDuration(body.Duration)
		if err != nil || d < 0 {
			fail(400, "duration must be a non-negative Go duration such as 90m")
			return
		}
		s.Advance(d)
		writeJSON(w, 200, map[string]string{"now": s.Now().Format(time.RFC3339Nano)})
		return
	case route == "GET cert.pem":
		s.mu.Lock()
		pem := s.certPEM
		s.mu.Unlock()
		if pem == nil {
			fail(404, "not serving TLS")
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(pem)
		return
	case route == "POST save":
		if err := s.Save(); err != nil {
			fail(500, err.Error())
			return
		}
		writeJSON(w, 200, map[string]bool{"saved": true})
		return
	}
	if len(segs) < 2 || segs[0] != "orgs" {
		fail(404, "no such route: "+route)
		return
	}
	var o *Org
	if segs[1] == "default" {
		if orgs := s.Orgs(); len(orgs) > 0 {
			o = orgs[0]
		}
	} else {
		o, _ = s.Org(segs[1])
	}
	if o == nil {
		fail(404, "no such org: "+segs[1])
		return
	}
	rest := strings.Join(segs[2:], "/")
	q := r.URL.Query()
	userFor := func() (string, bool) {
		name := q.Get("user")
		if name == "" {
			return o.humanID, true
		}
		u, ok := o.userByUsername(name)
		if !ok {
			fail(404, "no such user: "+name)
		}
		return u.ID, ok
	}
	switch {
	case rest == "cdc" || strings.HasPrefix(rest, "cdc/"):
		serveCDCAdmin(w, r, o, rest, decode, fail)
	case r.Method == "GET" && rest == "":
		writeJSON(w, 200, s.orgSummary(o))
	case r.Method == "PUT" && rest == "edition":
		var body struct {
			Edition string `json:"edition"`
		}
		if !decode(&body) {
			return
		}
		e, err := ParseEdition(body.Edition)
		if err != nil {
			fail(400, err.Error())
			return
		}
		o.SetEdition(e)
		writeJSON(w, 200, s.orgSummary(o))
	case r.Method == "POST" && rest == "seed":
		var body struct {
			Count int    `json:"count"`
			Seed  uint64 `json:"seed"`
		}
		if !decode(&body) {
			return
		}
		ids, err := o.SeedContacts(body.Count, body.Seed)
		if err != nil {
			fail(400, err.Error())
			return
		}
		first, last := "", ""
		if len(ids) > 0 {
			first, last = ids[0], ids[len(ids)-1]
		}
		writeJSON(w, 200, map[string]any{"created": len(ids), "firstId": first, "lastId": last})
	case r.Method == "GET" && (rest == "contacts" || len(segs) == 4 && segs[2] == "objects" && isDataObject(segs[3])):
		key := "contact"
		if rest != "contacts" {
			key = strings.ToLower(segs[3])
		}
		offset, _ := strconv.Atoi(q.Get("offset"))
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil || limit <= 0 {
			limit = 200
		}
		o.mu.RLock()
		t := o.tables[key]
		var b []byte
		b = append(b, `{"records":[`...)
		n, skipped, total := 0, 0, 0
		c := &call{version: sfapi.Version}
		for _, rec := range t.recs {
			if rec == nil || (rec.deleted() && q.Get("deleted") != "true") {
				continue
			}
			total++
			if skipped < offset {
				skipped++
				continue
			}
			if n >= limit {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = c.appendRecord(b, t.obj, rec, visibleFields(t.obj))
			n++
		}
		o.mu.RUnlock()
		b = append(b, `],"total":`...)
		b = strconv.AppendInt(b, int64(total), 10)
		writeRaw(w, 200, append(b, '}'))
	case r.Method == "POST" && rest == "contacts":
		uid, ok := userFor()
		if !ok {
			return
		}
		var body map[string]any
		if !decode(&body) {
			return
		}
		id, err := o.CreateAs(uid, body)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, map[string]string{"id": id})
	case len(segs) >= 4 && segs[2] == "records":
		id := segs[3]
		switch {
		case r.Method == "GET" && len(segs) == 4:
			o.mu.RLock()
			var found []byte
			for _, t := range o.tables {
				if t.obj.KeyPrefix != "" && strings.HasPrefix(id, t.obj.KeyPrefix) {
					if rec, _, ok := t.get(id); ok {
						c := &call{version: sfapi.Version}
						found = c.appendRecord(nil, t.obj, rec, visibleFields(t.obj))
					}
				}
			}
			o.mu.RUnlock()
			if found == nil {
				fail(404, "no such record: "+id)
				return
			}
			writeRaw(w, 200, found)
		case r.Method == "PATCH" && len(segs) == 4:
			uid, ok := userFor()
			if !ok {
				return
			}
			var body map[string]any
			if !decode(&body) {
				return
			}
			if err := o.ModifyAs(uid, id, body); err != nil {
				fail(400, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "DELETE" && len(segs) == 4:
			if err := o.DeleteAsHuman(id); err != nil {
				fail(400, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "POST" && len(segs) == 5 && segs[4] == "undelete":
			if err := o.UndeleteAsHuman(id); err != nil {
				fail(400, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "PUT" && len(segs) == 5 && segs[4] == "timestamps":
			// Sets the timestamps without a change event or history entry:
			// a write the API's readers by SystemModstamp cannot see (a late
			// commit, or drift for sfsync's drift check).
			var body struct {
				LastModifiedDate time.Time `json:"lastModifiedDate"`
				SystemModstamp   time.Time `json:"systemModstamp"`
			}
			if !decode(&body) {
				return
			}
			if err := o.SetTimestamps(id, body.LastModifiedDate, body.SystemModstamp); err != nil {
				fail(404, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "POST" && len(segs) == 5 && segs[4] == "touch":
			if err := o.TouchSystemModstamp(id); err != nil {
				fail(404, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			fail(404, "no such route: "+route)
		}
	case r.Method == "POST" && len(segs) == 5 && segs[2] == "leads" && segs[4] == "convert":
		uid, ok := userFor()
		if !ok {
			return
		}
		var body LeadConversion
		if !decode(&body) {
			return
		}
		body.LeadID = segs[3]
		res, err := o.ConvertLeadAs(uid, body)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 200, res)
	case r.Method == "POST" && len(segs) == 4 && segs[2] == "objects" && isDataObject(segs[3]):
		uid, ok := userFor()
		if !ok {
			return
		}
		var body map[string]any
		if !decode(&body) {
			return
		}
		id, err := o.CreateRecordAs(uid, segs[3], body)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, map[string]string{"id": id})
	case r.Method == "POST" && len(segs) == 5 && segs[2] == "objects" && segs[4] == "fields":
		var body CustomField
		if !decode(&body) {
			return
		}
		if err := o.AddCustomFieldTo(segs[3], body); err != nil {
			fail(400, err.Error())
			return
		}
		ob, _ := o.object(segs[3])
		writeJSON(w, 201, map[string]any{"object": ob.Name, "field": body.Name})
	case rest == "person-accounts" && (r.Method == "GET" || r.Method == "POST"):
		if r.Method == "POST" {
			o.EnablePersonAccounts()
		}
		writeJSON(w, 200, map[string]any{"enabled": o.PersonAccountsEnabled(), "recordTypes": nonNil(o.RecordTypes(ObjAccount))})
	case rest == "record-types" && r.Method == "GET":
		writeJSON(w, 200, nonNil(o.RecordTypes(q.Get("object"))))
	case rest == "record-types" && r.Method == "POST":
		var body RecordType
		if !decode(&body) {
			return
		}
		rt, err := o.AddRecordType(body.Object, body.DeveloperName, body.Name)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, rt)
	case rest == "duplicate-rules" && r.Method == "GET":
		writeJSON(w, 200, o.DuplicateRules())
	case rest == "duplicate-rules" && r.Method == "PUT":
		var body DuplicateRules
		if !decode(&body) {
			return
		}
		if err := o.SetDuplicateRules(body); err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 200, o.DuplicateRules())
	case rest == "assignment-rules" && r.Method == "GET":
		writeJSON(w, 200, o.AssignmentRules())
	case rest == "assignment-rules" && r.Method == "POST":
		var body AssignmentRule
		if !decode(&body) {
			return
		}
		ar, err := o.AddLeadAssignmentRule(body.Name, body.Owners, body.Active)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, ar)
	case r.Method == "POST" && (rest == "seed/leads" || rest == "seed/person-accounts"):
		var body struct {
			Count int    `json:"count"`
			Seed  uint64 `json:"seed"`
		}
		if !decode(&body) {
			return
		}
		seed := o.SeedLeads
		if rest == "seed/person-accounts" {
			seed = o.SeedPersonAccounts
		}
		ids, err := seed(body.Count, body.Seed)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"created": len(ids)})
	case r.Method == "POST" && rest == "merge":
		uid, ok := userFor()
		if !ok {
			return
		}
		var body struct {
			Master string         `json:"master"`
			Losers []string       `json:"losers"`
			Fields map[string]any `json:"fields"`
		}
		if !decode(&body) {
			return
		}
		if err := o.MergeContactsAs(uid, body.Master, body.Fields, body.Losers...); err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"id": body.Master, "mergedRecordIds": body.Losers})
	case r.Method == "GET" && rest == "history":
		writeJSON(w, 200, o.History(q.Get("id")))
	case r.Method == "POST" && rest == "reset":
		o.Reset()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "POST" && rest == "recycle-bin/empty":
		writeJSON(w, 200, map[string]int{"purged": o.EmptyRecycleBin()})
	case r.Method == "GET" && rest == "api-usage":
		used, max := o.APIUsage()
		writeJSON(w, 200, map[string]int{"used": used, "max": max})
	case r.Method == "PUT" && rest == "api-usage":
		var body struct {
			Used *int `json:"used"`
			Max  *int `json:"max"`
		}
		if !decode(&body) {
			return
		}
		if body.Max != nil {
			o.SetAPIAllocation(*body.Max)
		}
		if body.Used != nil {
			o.SetAPIUsage(*body.Used)
		}
		used, max := o.APIUsage()
		writeJSON(w, 200, map[string]int{"used": used, "max": max})
	case r.Method == "POST" && rest == "fields":
		var body CustomField
		if !decode(&body) {
			return
		}
		if err := o.AddCustomField(body); err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, map[string]any{"fields": o.ContactFields()})
	case r.Method == "POST" && rest == "validation-rules":
		var body ValidationRule
		if !decode(&body) {
			return
		}
		if err := o.AddValidationRule(body); err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, body)
	case r.Method == "DELETE" && rest == "validation-rules":
		o.ClearValidationRules()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "POST" && rest == "users":
		var body UserOptions
		if !decode(&body) {
			return
		}
		u, err := o.CreateUser(body)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, u)
	case r.Method == "POST" && rest == "tokens":
		var body struct {
			Username string `json:"username"`
		}
		if !decode(&body) {
			return
		}
		if body.Username == "" {
			body.Username = o.Admin().Username
		}
		if s.BaseURL() == "" {
			s.SetBaseURL(s.base(r))
		}
		t, err := s.IssueToken(o, body.Username)
		if err != nil {
			fail(400, err.Error())
			return
		}
		writeJSON(w, 201, t)
	case r.Method == "POST" && rest == "tokens/expire":
		writeJSON(w, 200, map[string]int{"expired": s.ExpireTokens(o)})
	case r.Method == "POST" && rest == "refresh-tokens/expire":
		writeJSON(w, 200, map[string]int{"revoked": s.ExpireRefreshTokens(o)})
	default:
		fail(404, "no such route: "+route)
	}
}

var adminRoutes = []string{
	"GET /__emulator__/orgs", "POST /__emulator__/orgs", "GET /__emulator__/orgs/{org}", "PUT /__emulator__/orgs/{org}/edition",
	"POST /__emulator__/orgs/{org}/seed", "GET /__emulator__/orgs/{org}/contacts", "POST /__emulator__/orgs/{org}/contacts",
	"GET|PATCH|DELETE /__emulator__/orgs/{org}/records/{id}", "POST /__emulator__/orgs/{org}/records/{id}/touch", "PUT /__emulator__/orgs/{org}/records/{id}/timestamps", "POST /__emulator__/orgs/{org}/records/{id}/undelete",
	"POST /__emulator__/orgs/{org}/merge", "POST /__emulator__/orgs/{org}/leads/{id}/convert", "GET|POST /__emulator__/orgs/{org}/objects/{object}",
	"POST /__emulator__/orgs/{org}/objects/{object}/fields", "GET|POST /__emulator__/orgs/{org}/person-accounts", "GET|POST /__emulator__/orgs/{org}/record-types",
	"GET|PUT /__emulator__/orgs/{org}/duplicate-rules", "GET|POST /__emulator__/orgs/{org}/assignment-rules",
	"POST /__emulator__/orgs/{org}/seed/leads", "POST /__emulator__/orgs/{org}/seed/person-accounts", "GET /__emulator__/orgs/{org}/history", "GET|PUT /__emulator__/orgs/{org}/cdc", "POST /__emulator__/orgs/{org}/cdc/overflow", "GET /__emulator__/orgs/{org}/cdc/events", "POST /__emulator__/orgs/{org}/reset", "POST /__emulator__/orgs/{org}/recycle-bin/empty",
	"GET|PUT /__emulator__/orgs/{org}/api-usage", "POST /__emulator__/orgs/{org}/fields", "POST|DELETE /__emulator__/orgs/{org}/validation-rules", "POST /__emulator__/orgs/{org}/users",
	"POST /__emulator__/orgs/{org}/tokens", "POST /__emulator__/orgs/{org}/tokens/expire",
	"POST /__emulator__/orgs/{org}/refresh-tokens/expire", "POST /__emulator__/tokens/revoke", "GET|POST /__emulator__/apps",
	"GET|PUT /__emulator__/faults", "GET /__emulator__/clock", "POST /__emulator__/clock/advance", "POST /__emulator__/save",
	"GET /__emulator__/cert.pem",
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func visibleFields(obj *objectDef) []*fieldDef {
	out := make([]*fieldDef, 0, len(obj.fields))
	for _, f := range obj.fields {
		if !f.Hidden {
			out = append(out, f)
		}
	}
	return out
}

func (s *Server) orgSummary(o *Org) map[string]any {
	used, max := o.APIUsage()
	admin := o.Admin()
	return map[string]any{
		"id": o.ID(), "name": o.Name(), "edition": o.Edition(), "apiEnabled": o.Edition().APIEnabled(),
		"apiUsage": map[string]int{"used": used, "max": max}, "contacts": o.ContactCount(),
		"admin":         map[string]string{"id": admin.ID, "username": admin.Username, "password": admin.Password},
		"human":         map[string]string{"id": o.humanID, "username": o.Human().Username},
		"contactFields": o.ContactFields(),
		"leads":         len(o.RecordIDs(ObjLead, false)), "accounts": len(o.RecordIDs(ObjAccount, false)),
		"personAccounts": o.PersonAccountsEnabled(), "duplicateRules": o.DuplicateRules(),
	}
}

// faultsWire is Faults with durations as strings ("250ms").
type faultsWire struct {
	Seed            uint64          `json:"seed"`
	PathPrefix      string          `json:"pathPrefix,omitempty"`
	Latency         string          `json:"latency,omitempty"`
	ServerErrorRate float64         `json:"serverErrorRate,omitempty"`
	UnavailableRate float64         `json:"unavailableRate,omitempty"`
	DropRate        float64         `json:"dropRate,omitempty"`
	SlowBodyRate    float64         `json:"slowBodyRate,omitempty"`
	SlowBodyDelay   string          `json:"slowBodyDelay,omitempty"`
	Errors          []InjectedError `json:"errors,omitempty"`
}

func (fw faultsWire) faults() (Faults, error) {
	f := Faults{Seed: fw.Seed, PathPrefix: fw.PathPrefix, ServerErrorRate: fw.ServerErrorRate, UnavailableRate: fw.UnavailableRate,
		DropRate: fw.DropRate, SlowBodyRate: fw.SlowBodyRate, Errors: fw.Errors}
	var err error
	if fw.Latency != "" {
		if f.Latency, err = time.ParseDuration(fw.Latency); err != nil {
			return Faults{}, err
		}
	}
	if fw.SlowBodyDelay != "" {
		if f.SlowBodyDelay, err = time.ParseDuration(fw.SlowBodyDelay); err != nil {
			return Faults{}, err
		}
	}
	return f, nil
}

func faultsJSON(f Faults) faultsWire {
	fw := faultsWire{Seed: f.Seed, PathPrefix: f.PathPrefix, ServerErrorRate: f.ServerErrorRate, UnavailableRate: f.UnavailableRate,
		DropRate: f.DropRate, SlowBodyRate: f.SlowBodyRate, Errors: f.Errors}
	if f.Latency > 0 {
		fw.Latency = f.Latency.String()
	}
	if f.SlowBodyDelay > 0 {
		fw.SlowBodyDelay = f.SlowBodyDelay.String()
	}
	return fw
}
