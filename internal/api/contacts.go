package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// contactView is a contact as the API returns it: every field present,
// null when empty, so that a client sees what PATCH with null cleared.
type contactView struct {
	ID               string                   `json:"id"`
	MemberID         *string                  `json:"member_id"`
	Name             *string                  `json:"name"`
	Phone            *string                  `json:"phone"`
	Email            *string                  `json:"email"`
	Birthday         *string                  `json:"birthday"`
	Gender           *string                  `json:"gender"`
	Tags             []string                 `json:"tags"`
	CustomFields     map[string]any           `json:"custom_fields"`
	SocialIdentities []contact.SocialIdentity `json:"social_identities"`
	CreatedAt        time.Time                `json:"created_at"`
	UpdatedAt        time.Time                `json:"updated_at"`
	Version          int64                    `json:"version"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func viewContact(c contact.Contact) contactView {
	v := contactView{
		ID:               c.ID,
		MemberID:         nullable(c.MemberID),
		Name:             nullable(c.Name),
		Phone:            nullable(c.Phone),
		Email:            nullable(c.Email),
		Birthday:         nullable(c.Birthday),
		Gender:           nullable(string(c.Gender)),
		Tags:             c.Tags,
		CustomFields:     c.Custom,
		SocialIdentities: c.Social,
		CreatedAt:        c.Created.UTC(),
		UpdatedAt:        c.Updated.UTC(),
		Version:          c.Version,
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.CustomFields == nil {
		v.CustomFields = map[string]any{}
	}
	if v.SocialIdentities == nil {
		v.SocialIdentities = []contact.SocialIdentity{}
	}
	return v
}

func contactLocation(id string) string {
	return Prefix + "/contacts/" + url.PathEscape(id)
}

// readObject reads a JSON request body of at most limit bytes.
func readObject(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
			return nil, errorf(codeUnsupportedMedia, "send the body as application/json, not %q", ct)
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(codeTooLarge, "the request body is larger than %d bytes", limit)
		}
		return nil, err
	}
	return b, nil
}

var customFieldsKey = []byte(`"custom_fields"`)

// decodeContact decodes one contact object strictly. A whole
// "custom_fields": null is refused rather than silently ignored: each
// field is cleared by setting it to null.
func decodeContact(b []byte) (contact.Input, error) {
	// DecodeInput would take null for an empty object.
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return contact.Input{}, contact.FieldErrors{{Field: "(body)", Reason: "must be a JSON object, not null"}}
	}
	in, err := contact.DecodeInput(b)
	if err != nil {
		return in, err
	}
	if in.Custom == nil && bytes.Contains(b, customFieldsKey) {
		var top map[string]json.RawMessage
		if json.Unmarshal(b, &top) == nil && string(bytes.TrimSpace(top["custom_fields"])) == "null" {
			return in, contact.FieldErrors{{Field: "custom_fields", Reason: `must be an object; to clear a custom field set it to null, e.g. {"custom_fields":{"tier":null}}`}}
		}
	}
	return in, nil
}

func (s *server) createContact(w http.ResponseWriter, r *http.Request) error {
	ctx, tenantID := r.Context(), tenantFrom(r.Context())
	body, err := readObject(w, r, maxObjectBytes)
	if err != nil {
		return err
	}
	in, err := decodeContact(body)
	if err != nil {
		return err
	}
	rules, err := s.contactRules(r)
	if err != nil {
		return err
	}
	if in, err = rules.Normalize(in); err != nil {
		return err
	}
	c, err := s.store.CreateContact(ctx, tenantID, in, contact.OriginAPI)
	if err != nil {
		return err
	}
	w.Header().Set("Location", contactLocation(c.ID))
	writeJSON(w, http.StatusCreated, viewContact(c))
	return nil
}

func (s *server) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.store.GetContact(r.Context(), tenantFrom(r.Context()), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no contact with this ID")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewContact(c))
	return nil
}

func (s *server) updateContact(w http.ResponseWriter, r *http.Request) error {
	ctx, tenantID := r.Context(), tenantFrom(r.Context())
	body, err := readObject(w, r, maxObjectBytes)
	if err != nil {
		return err
	}
	in, err := decodeContact(body)
	if err != nil {
		return err
	}
	rules, err := s.contactRules(r)
	if err != nil {
		return err
	}
	if in, err = rules.Normalize(in); err != nil {
		return err
	}
	c, _, err := s.store.UpdateContact(ctx, tenantID, r.PathValue("id"), in, contact.OriginAPI)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no contact with this ID")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewContact(c))
	return nil
}

func (s *server) deleteContact(w http.ResponseWriter, r *http.Request) error {
	err := s.store.DeleteContact(r.Context(), tenantFrom(r.Context()), r.PathValue("id"), contact.OriginAPI)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no contact with this ID")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// List paging.
const (
	defaultLimit = 50
	maxLimit     = 500
	cursorPrefix = "c1:"
)

func encodeCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + lastID))
}

func decodeCursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !bytes.HasPrefix(b, []byte(cursorPrefix)) || len(b) == len(cursorPrefix) {
		return "", false
	}
	return string(b[len(cursorPrefix):]), true
}

var listParams = []string{"limit", "cursor", "member_id", "phone", "email", "social", "updated_since"}

// contactPage is the response of GET /contacts.
type contactPage struct {
	Data       []contactView `json:"data"`
	NextCursor *string       `json:"next_cursor"`
}

func (s *server) listContacts(w http.ResponseWriter, r *http.Request) error {
	ctx, tenantID := r.Context(), tenantFrom(r.Context())
	q := r.URL.Query()
	for k, vs := range q {
		if !slices.Contains(listParams, k) {
			return invalidField(k, "unknown query parameter; known are "+strings.Join(listParams, ", "))
		}
		if len(vs) > 1 {
			return invalidField(k, "give this parameter at most once")
		}
	}
	f := store.ContactFilter{Limit: defaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return invalidField("limit", fmt.Sprintf("%q: must be a whole number from 1 to %d", v, maxLimit))
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		after, ok := decodeCursor(v)
		if !ok {
			return invalidField("cursor", "not a cursor this API returned; pass next_cursor unchanged")
		}
		f.After = after
	}
	f.MemberID = contact.NormalizeMemberID(q.Get("member_id"))
	if v := q.Get("phone"); strings.TrimSpace(v) != "" {
		t, err := s.store.GetTenant(ctx, tenantID)
		if err != nil {
			return err
		}
		p, err := contact.NormalizePhone(v, t.PhoneRegion)
		if err != nil {
			return invalidField("phone", fmt.Sprintf("%q: %v", v, err))
		}
		f.Phone = p
	}
	if v := q.Get("email"); strings.TrimSpace(v) != "" {
		e, err := contact.NormalizeEmail(v)
		if err != nil {
			return invalidField("email", fmt.Sprintf("%q: %v", v, err))
		}
		f.Email = e
	}
	if v := q.Get("social"); v != "" {
		si, err := parseSocialFilter(v)
		if err != nil {
			return err
		}
		f.Social = &si
	}
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return invalidField("updated_since", fmt.Sprintf("%q: must be an RFC 3339 time such as 2026-01-02T15:04:05Z", v))
		}
		f.UpdatedSince = t
	}
	// One more than asked for tells whether another page follows, so the
	// last page never points at an empty one.
	limit := f.Limit
	f.Limit++
	list, err := s.store.ListContacts(ctx, tenantID, f)
	if err != nil {
		return err
	}
	page := contactPage{Data: make([]contactView, 0, min(len(list), limit))}
	if len(list) > limit {
		list = list[:limit]
		next := encodeCursor(list[len(list)-1].ID)
		page.NextCursor = &next
	}
	for _, c := range list {
		page.Data = append(page.Data, viewContact(c))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// parseSocialFilter reads "channel_type:user_id" or
// "channel_type:channel_id:user_id".
func parseSocialFilter(v string) (contact.SocialIdentity, error) {
	parts := strings.Split(v, ":")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	var si contact.SocialIdentity
	switch len(parts) {
	case 2:
		si = contact.SocialIdentity{ChannelType: parts[0], UserID: parts[1]}
	case 3:
		si = contact.SocialIdentity{ChannelType: parts[0], ChannelID: parts[1], UserID: parts[2]}
		if si.ChannelID == "" {
			return si, invalidField("social", fmt.Sprintf("%q: the channel ID between the colons is empty", v))
		}
	default:
		return si, invalidField("social", fmt.Sprintf("%q: must be channel_type:user_id or channel_type:channel_id:user_id", v))
	}
	si.ChannelType = strings.ToLower(si.ChannelType)
	if si.ChannelType == "" || si.UserID == "" {
		return si, invalidField("social", fmt.Sprintf("%q: channel type and user ID are both required", v))
	}
	return si, nil
}

// socialIdentityBody is the body of POST /contacts/{id}/social-identities.
type socialIdentityBody struct {
	ChannelType string `json:"channel_type"`
	ChannelID   string `json:"channel_id"`
	UserID      string `json:"user_id"`
}

// decodeStrict decodes one JSON object into v, refusing text that cannot
// be stored (contact.CheckJSONText), unknown fields and anything after the
// object.
func decodeStrict(b []byte, v any) error {
	if err := contact.CheckJSONText(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return contact.JSONError(err)
	}
	if dec.More() {
		return invalidField("(body)", "body must hold exactly one JSON object")
	}
	return nil
}

func decodeSocialIdentity(b []byte) (contact.SocialIdentity, error) {
	var body socialIdentityBody
	if err := decodeStrict(b, &body); err != nil {
		return contact.SocialIdentity{}, err
	}
	in, err := contact.Rules{}.Normalize(contact.Input{Social: contact.Some([]contact.SocialIdentity{contact.SocialIdentity(body)})})
	var fe contact.FieldErrors
	if errors.As(err, &fe) {
		// The body is the identity itself: name its fields, not the list's.
		for i := range fe {
			fe[i].Field = strings.TrimPrefix(strings.TrimPrefix(fe[i].Field, "social_identities[0]"), ".")
			if fe[i].Field == "" {
				fe[i].Field = "(body)"
			}
		}
		return contact.SocialIdentity{}, fe
	}
	if err != nil {
		return contact.SocialIdentity{}, err
	}
	return in.Social.Value[0], nil
}

// addSocialIdentity attaches one social identity to a contact. Adding one
// the contact already has is a no-op answered with 200.
//
// The store has no single-identity write, so this reads the contact and
// writes its whole list back; two concurrent writes to the same contact's
// identities can lose one of them (see the package report).
func (s *server) addSocialIdentity(w http.ResponseWriter, r *http.Request) error {
	ctx, tenantID, id := r.Context(), tenantFrom(r.Context()), r.PathValue("id")
	body, err := readObject(w, r, maxObjectBytes)
	if err != nil {
		return err
	}
	si, err := decodeSocialIdentity(body)
	if err != nil {
		return err
	}
	c, err := s.store.GetContact(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no contact with this ID")
	}
	if err != nil {
		return err
	}
	location := contactLocation(c.ID) + "/social-identities/" + url.PathEscape(si.ChannelType) + "/" + url.PathEscape(si.ChannelID) + "/" + url.PathEscape(si.UserID)
	if slices.Contains(c.Social, si) {
		w.Header().Set("Location", location)
		writeJSON(w, http.StatusOK, viewContact(c))
		return nil
	}
	list := append(slices.Clone(c.Social), si)
	upd, _, err := s.store.UpdateContact(ctx, tenantID, id, contact.Input{Social: contact.Some(list)}, contact.OriginAPI)
	var cc *store.ContactConflict
	switch {
	case errors.As(err, &cc):
		fp := conflictProblem(cc)
		fp.Field = "user_id"
		return &apiError{code: codeConflict, detail: fmt.Sprintf("%s:%s:%s already belongs to another contact", si.ChannelType, si.ChannelID, si.UserID),
			fields: []fieldProblem{fp}, conflictingContactID: cc.ContactID}
	case errors.Is(err, store.ErrNotFound):
		return errorf(codeNotFound, "no contact with this ID")
	case err != nil:
		return err
	}
	w.Header().Set("Location", location)
	writeJSON(w, http.StatusCreated, viewContact(upd))
	return nil
}

func (s *server) removeSocialIdentity(w http.ResponseWriter, r *http.Request) error {
	ctx, tenantID, id := r.Context(), tenantFrom(r.Context()), r.PathValue("id")
	si := contact.SocialIdentity{
		ChannelType: strings.ToLower(strings.TrimSpace(r.PathValue("channel_type"))),
		ChannelID:   strings.TrimSpace(r.PathValue("channel_id")),
		UserID:      strings.TrimSpace(r.PathValue("user_id")),
	}
	c, err := s.store.GetContact(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no contact with this ID")
	}
	if err != nil {
		return err
	}
	if !slices.Contains(c.Social, si) {
		return errorf(codeNotFound, "the contact has no such social identity")
	}
	list := slices.DeleteFunc(slices.Clone(c.Social), func(x contact.SocialIdentity) bool { return x == si })
	_, _, err = s.store.UpdateContact(ctx, tenantID, id, contact.Input{Social: contact.Some(list)}, contact.OriginAPI)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no contact with this ID")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
