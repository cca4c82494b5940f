package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// customFieldView is a custom field definition as the API returns it.
type customFieldView struct {
	Key       string            `json:"key"`
	Label     string            `json:"label"`
	Type      contact.FieldType `json:"type"`
	Options   []string          `json:"options"`
	CreatedAt time.Time         `json:"created_at"`
}

func viewCustomField(d contact.CustomFieldDef) customFieldView {
	v := customFieldView{Key: d.Key, Label: d.Label, Type: d.Type, Options: d.Options, CreatedAt: d.Created.UTC()}
	if v.Options == nil {
		v.Options = []string{}
	}
	return v
}

// customFieldBody is the body of POST /custom-fields.
type customFieldBody struct {
	Key     string            `json:"key"`
	Label   string            `json:"label"`
	Type    contact.FieldType `json:"type"`
	Options []string          `json:"options"`
}

func (s *server) listCustomFields(w http.ResponseWriter, r *http.Request) error {
	defs, err := s.store.ListCustomFields(r.Context(), tenantFrom(r.Context()))
	if err != nil {
		return err
	}
	out := struct {
		Data []customFieldView `json:"data"`
	}{Data: make([]customFieldView, 0, len(defs))}
	for _, d := range defs {
		out.Data = append(out.Data, viewCustomField(d))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) createCustomField(w http.ResponseWriter, r *http.Request) error {
	b, err := readObject(w, r, maxObjectBytes)
	if err != nil {
		return err
	}
	var body customFieldBody
	if err := decodeStrict(b, &body); err != nil {
		return err
	}
	d, err := s.store.CreateCustomField(r.Context(), tenantFrom(r.Context()), contact.CustomFieldDef{
		Key: body.Key, Label: body.Label, Type: body.Type, Options: body.Options,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewCustomField(d))
	return nil
}

func (s *server) deleteCustomField(w http.ResponseWriter, r *http.Request) error {
	err := s.store.DeleteCustomField(r.Context(), tenantFrom(r.Context()), r.PathValue("key"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no custom field with this key")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
