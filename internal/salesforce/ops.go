package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// APIVersion is one entry of GET /services/data/.
type APIVersion struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the API versions the org serves, oldest first. It needs no
// authentication.
func (c *Client) Versions(ctx context.Context) ([]APIVersion, error) {
	var out []APIVersion
	err := c.do(ctx, request{method: http.MethodGet, path: "/services/data/", noAuth: true}, decodeInto(&out))
	return out, err
}

// CheckAPIAccess makes one cheap authenticated REST call (GET
// /services/data/vXX.X/, the resource list) so that an org without API
// access shows itself at connect time: the error then matches
// ErrAPIDisabled (SPEC S2).
func (c *Client) CheckAPIAccess(ctx context.Context) error {
	var resources map[string]any
	return c.do(ctx, request{method: http.MethodGet, path: versionPath() + "/"}, decodeInto(&resources))
}

// Limit is one entry of GET /limits.
type Limit struct {
	Max       int64 `json:"Max"`
	Remaining int64 `json:"Remaining"`
}

// Limits returns the org's limits keyed by name (DailyApiRequests, …).
// Per-app sub-entries are ignored. It goes through a spent budget: it is
// the one call that reads the org's usage again (its answer's
// Sforce-Limit-Info updates Usage).
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	var raw map[string]json.RawMessage
	if err := c.do(ctx, request{method: http.MethodGet, path: versionPath("limits"), recheck: true}, decodeInto(&raw)); err != nil {
		return nil, err
	}
	out := make(map[string]Limit, len(raw))
	for k, v := range raw {
		var l Limit
		if json.Unmarshal(v, &l) == nil {
			out[k] = l
		}
	}
	return out, nil
}

// UserInfo is the OpenID Connect userinfo of the authorized user.
type UserInfo struct {
	Sub               string `json:"sub"`
	UserID            string `json:"user_id"`
	OrganizationID    string `json:"organization_id"`
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	Email             string `json:"email"`
	EmailVerified     bool   `json:"email_verified"`
	GivenName         string `json:"given_name"`
	FamilyName        string `json:"family_name"`
	ZoneInfo          string `json:"zoneinfo"`
	Active            bool   `json:"active"`
	UserType          string `json:"user_type"`
	Language          string `json:"language"`
	Locale            string `json:"locale"`
}

// UserInfo calls {instance}/services/oauth2/userinfo.
func (c *Client) UserInfo(ctx context.Context) (UserInfo, error) {
	var out UserInfo
	err := c.do(ctx, request{method: http.MethodGet, path: "/services/oauth2/userinfo"}, decodeInto(&out))
	return out, err
}

// Identity is the identity service's answer about the authorized user.
type Identity struct {
	ID             string `json:"id"`
	UserID         string `json:"user_id"`
	OrganizationID string `json:"organization_id"`
	Username       string `json:"username"`
	NickName       string `json:"nick_name"`
	DisplayName    string `json:"display_name"`
	Email          string `json:"email"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Timezone       string `json:"timezone"`
	Active         bool   `json:"active"`
	UserType       string `json:"user_type"`
	Language       string `json:"language"`
	Locale         string `json:"locale"`
	// URLs holds the service URLs ("rest", "sobjects", "query", …) with
	// {version} filled in.
	URLs map[string]string `json:"urls"`
}

// Identity calls the identity URL (Token.IdentityURL, on the login host).
// The URL must be https on a Salesforce domain or on the instance's host.
func (c *Client) Identity(ctx context.Context, idURL string) (Identity, error) {
	u, err := url.Parse(idURL)
	if err != nil || u.Host == "" {
		return Identity{}, fmt.Errorf("salesforce: bad identity url %q", idURL)
	}
	q := u.Query()
	q.Set("version", sfapi.Version)
	u.RawQuery = ""
	var out Identity
	err = c.do(ctx, request{method: http.MethodGet, path: u.String(), query: q}, decodeInto(&out))
	return out, err
}

// AdminQuery is the SOQL IsAdmin runs.
const AdminQuery = "SELECT PermissionsModifyAllData, PermissionsCustomizeApplication FROM UserPermissionAccess"

// IsAdmin reports whether the authorized user is an administrator (SPEC
// S5): the user's effective permissions (profile and permission sets) grant
// Modify All Data or Customize Application.
func (c *Client) IsAdmin(ctx context.Context) (bool, error) {
	it := c.Query(ctx, AdminQuery, QueryOptions{})
	admin := false
	for it.Next() {
		r := it.Record()
		if b, _ := r["PermissionsModifyAllData"].(bool); b {
			admin = true
		}
		if b, _ := r["PermissionsCustomizeApplication"].(bool); b {
			admin = true
		}
	}
	if err := it.Err(); err != nil {
		return false, fmt.Errorf("salesforce: checking admin permissions: %w", err)
	}
	return admin, nil
}

// Updated is the answer of the replication API's getUpdated.
type Updated struct {
	IDs []string
	// LatestDateCovered is the next call's start.
	LatestDateCovered time.Time
}

// Deleted is the answer of the replication API's getDeleted.
type Deleted struct {
	Records []DeletedRecord
	// EarliestDateAvailable after the requested start means deletions
	// before it are no longer known: a full reconciliation is needed.
	EarliestDateAvailable time.Time
	LatestDateCovered     time.Time
}

// DeletedRecord is one deleted record's ID and deletion time.
type DeletedRecord struct {
	ID          string
	DeletedDate time.Time
}

// GetUpdated lists IDs of sobject records changed (by SystemModstamp) in
// [start, end) within the last 30 days; Salesforce ignores seconds.
func (c *Client) GetUpdated(ctx context.Context, sobject string, start, end time.Time) (Updated, error) {
	if !ValidObjectName(sobject) {
		return Updated{}, fmt.Errorf("salesforce: invalid object name %q", sobject)
	}
	var wire struct {
		IDs               []string `json:"ids"`
		LatestDateCovered sfTime   `json:"latestDateCovered"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: versionPath("sobjects", sobject, "updated") + "/",
		query: replicationWindow(start, end)}, decodeInto(&wire))
	return Updated{IDs: wire.IDs, LatestDateCovered: time.Time(wire.LatestDateCovered)}, err
}

// GetDeleted lists sobject records deleted in [start, end) within the last
// 15 days.
func (c *Client) GetDeleted(ctx context.Context, sobject string, start, end time.Time) (Deleted, error) {
	if !ValidObjectName(sobject) {
		return Deleted{}, fmt.Errorf("salesforce: invalid object name %q", sobject)
	}
	var wire struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate sfTime `json:"deletedDate"`
		} `json:"deletedRecords"`
		EarliestDateAvailable sfTime `json:"earliestDateAvailable"`
		LatestDateCovered     sfTime `json:"latestDateCovered"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: versionPath("sobjects", sobject, "deleted") + "/",
		query: replicationWindow(start, end)}, decodeInto(&wire))
	out := Deleted{EarliestDateAvailable: time.Time(wire.EarliestDateAvailable), LatestDateCovered: time.Time(wire.LatestDateCovered)}
	for _, d := range wire.DeletedRecords {
		out.Records = append(out.Records, DeletedRecord{ID: d.ID, DeletedDate: time.Time(d.DeletedDate)})
	}
	return out, err
}

func replicationWindow(start, end time.Time) url.Values {
	const layout = "2006-01-02T15:04:05-07:00"
	return url.Values{"start": {start.UTC().Format(layout)}, "end": {end.UTC().Format(layout)}}
}

// sfTime decodes Salesforce's dateTime format (2024-03-05T09:12:44.000+0000)
// and RFC 3339.
type sfTime time.Time

func (t *sfTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		*t = sfTime{}
		return nil
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*t = sfTime(v)
	return nil
}

// ParseDateTime parses a Salesforce dateTime value as sent in JSON
// (2024-03-05T09:12:44.000+0000) or CSV (2024-03-05T09:12:44.000Z).
func ParseDateTime(s string) (time.Time, error) {
	if t, ok := parseDateTimeFast(s); ok {
		return t, nil
	}
	return parseDateTimeLayouts(s)
}

// parseDateTimeLayouts is ParseDateTime through time.Parse, layout after
// layout.
func parseDateTimeLayouts(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("salesforce: bad dateTime %q", s)
}

// parseDateTimeFast reads the two forms Salesforce sends every dateTime
// in, 2024-03-05T09:12:44.000Z (Bulk API CSV) and
// 2024-03-05T09:12:44.000+0000 (JSON), without time.Parse: a Bulk API
// record's SystemModstamp failed two layouts before the third matched,
// each failure an error allocated, about 3% of serve's CPU in a first
// sync (issue 14). ok is false for anything else, and for values
// time.Parse would reject (a 31st of April, an hour of 24), which
// parseDateTimeLayouts then reports.
func parseDateTimeFast(s string) (time.Time, bool) {
	if len(s) != 24 && len(s) != 28 {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		return time.Time{}, false
	}
	var f [7]int
	for i, p := range [7][2]int{{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}, {20, 3}} {
		v, ok := num(p[0], p[1])
		if !ok {
			return time.Time{}, false
		}
		f[i] = v
	}
	offset := 0
	switch {
	case len(s) == 24 && s[23] == 'Z':
	case len(s) == 28 && (s[23] == '+' || s[23] == '-'):
		hh, ok1 := num(24, 2)
		mm, ok2 := num(26, 2)
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		offset = hh*3600 + mm*60
		if s[23] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	year, month, day, hour, minute, sec, milli := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, milli*int(time.Millisecond), time.UTC)
	if t.Day() != day { // past the month's end: time.Parse says "day out of range"
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// DescribeSObject returns sobject's describe, cached for the Client's life
// (describes change only when an admin edits the schema; call
// RefreshDescribe then). The result is shared: do not modify it.
func (c *Client) DescribeSObject(ctx context.Context, sobject string) (*SObjectDescribe, error) {
	key := strings.ToLower(sobject)
	c.describeMu.Lock()
	d := c.describes[key]
	c.describeMu.Unlock()
	if d != nil {
		return d, nil
	}
	return c.RefreshDescribe(ctx, sobject)
}

// RefreshDescribe fetches sobject's describe again and replaces the cached
// one.
func (c *Client) RefreshDescribe(ctx context.Context, sobject string) (*SObjectDescribe, error) {
	if !ValidObjectName(sobject) {
		return nil, fmt.Errorf("salesforce: invalid object name %q", sobject)
	}
	d := new(SObjectDescribe)
	err := c.do(ctx, request{method: http.MethodGet, path: versionPath("sobjects", sobject, "describe")}, func(resp *http.Response) error {
		*d = SObjectDescribe{}
		return json.NewDecoder(resp.Body).Decode(d)
	})
	if err != nil {
		return nil, err
	}
	c.describeMu.Lock()
	c.describes[strings.ToLower(sobject)] = d
	c.describeMu.Unlock()
	return d, nil
}

func decodeInto(v any) func(*http.Response) error {
	return func(resp *http.Response) error { return json.NewDecoder(resp.Body).Decode(v) }
}
