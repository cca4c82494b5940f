package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// ConfigExport is a tenant's sync configuration as a file, to import into
// another connection (a sandbox's configuration into production).
type ConfigExport struct {
	// Format is always 1; an import refuses any other.
	Format     int             `json:"sfsync_config_export"`
	ExportedAt time.Time       `json:"exported_at"`
	Source     ExportSource    `json:"source"`
	Version    int64           `json:"version"`
	Config     syncconf.Config `json:"config"`
}

// ExportSource names the org the configuration was made for.
type ExportSource struct {
	OrgID       string `json:"org_id,omitempty"`
	OrgName     string `json:"org_name,omitempty"`
	InstanceURL string `json:"instance_url,omitempty"`
}

// ExportConfig returns the configuration runs use now, with the org it was
// made for; store.ErrNotFound when none was saved.
func (e *Engine) ExportConfig(ctx context.Context, tenantID string) (ConfigExport, error) {
	cfg, v, err := e.CurrentConfig(ctx, tenantID)
	if err != nil {
		return ConfigExport{}, err
	}
	out := ConfigExport{Format: 1, ExportedAt: e.now().UTC(), Version: v, Config: cfg.Canonical()}
	if c, err := e.Store.GetConnection(ctx, tenantID); err == nil {
		out.Source = ExportSource{OrgID: c.OrgID, OrgName: c.OrgName, InstanceURL: c.InstanceURL}
	} else if !errors.Is(err, store.ErrNotFound) {
		return ConfigExport{}, err
	}
	return out, nil
}

// ImportError says why an export file cannot be read (not why its
// configuration does not fit the org: that is syncconf.ValidationErrors).
type ImportError struct{ Reason string }

func (e *ImportError) Error() string { return "syncer: import: " + e.Reason }

// DecodeExport reads an export file strictly: the format, then the
// configuration (unknown fields refused, naming them).
func DecodeExport(b []byte) (ConfigExport, error) {
	var doc struct {
		Format     *int            `json:"sfsync_config_export"`
		ExportedAt time.Time       `json:"exported_at"`
		Source     ExportSource    `json:"source"`
		Version    int64           `json:"version"`
		Config     json.RawMessage `json:"config"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return ConfigExport{}, &ImportError{Reason: "not an sfsync configuration export: " + err.Error()}
	}
	if doc.Format == nil || *doc.Format != 1 {
		return ConfigExport{}, &ImportError{Reason: "sfsync_config_export must be 1 (a file made by Export)"}
	}
	if len(doc.Config) == 0 {
		return ConfigExport{}, &ImportError{Reason: "the file has no config"}
	}
	cfg, err := syncconf.DecodeConfig(doc.Config)
	if err != nil {
		return ConfigExport{}, &ImportError{Reason: fmt.Sprintf("config: %v", err)}
	}
	return ConfigExport{Format: 1, ExportedAt: doc.ExportedAt, Source: doc.Source, Version: doc.Version, Config: cfg}, nil
}

// ImportConfig validates an export file's configuration against this
// tenant's org (its describe: the fields must exist here, with fitting
// types; errors name the field) and, unless validateOnly, saves it as a
// new version, as saving from the setup would.
func (e *Engine) ImportConfig(ctx context.Context, tenantID, adminID string, file []byte, validateOnly bool) (ConfigExport, store.SyncConfigVersion, error) {
	doc, err := DecodeExport(file)
	if err != nil {
		return doc, store.SyncConfigVersion{}, err
	}
	if validateOnly {
		return doc, store.SyncConfigVersion{}, e.ValidateConfig(ctx, tenantID, doc.Config)
	}
	v, err := e.SaveConfig(ctx, tenantID, adminID, doc.Config)
	return doc, v, err
}
