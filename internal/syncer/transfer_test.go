package syncer_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// TestExportImportConfig: a configuration exported from one connection
// (a sandbox) imports into another (production) after validation against
// the target org's describe; a target without a field the configuration
// uses refuses it, naming the field.
func TestExportImportConfig(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		sandbox := setup(t, d)
		sandbox.save(t, memberConfig())
		exp, err := sandbox.eng.ExportConfig(sandbox.ctx, sandbox.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if exp.Format != 1 || exp.Version != 1 || exp.Source.OrgID == "" || exp.Config.Identity.SalesforceField != "Member_Number__c" {
			t.Fatalf("export: got %+v, want format 1, version 1, the source org and the configuration", exp)
		}
		file, _ := json.Marshal(exp)

		// A production org without the LINE UID field.
		var fields []sfemu.CustomField
		for _, f := range sfemu.DefaultCustomFields() {
			if f.Name != "LINE_UID__c" {
				fields = append(fields, f)
			}
		}
		penv := testenv.New(t, testenv.Options{Dialect: d, CustomFields: fields})
		penv.Connect(t)
		prod := &syncer.Engine{Store: penv.Store, Conn: penv.Conn, Logger: slog.New(slog.DiscardHandler)}
		_, _, err = prod.ImportConfig(sandbox.ctx, penv.Tenant.ID, "u1", file, false)
		var ves syncconf.ValidationErrors
		if !errors.As(err, &ves) || len(ves) == 0 || !strings.HasPrefix(ves[0].Path, "social_mappings[0]") || !strings.Contains(ves[0].Message[syncconf.LangEN], "LINE_UID__c") {
			t.Fatalf("import into an org without LINE_UID__c: got %v, want a validation error naming the field", err)
		}
		if _, _, err := prod.CurrentConfig(sandbox.ctx, penv.Tenant.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after a refused import: got %v, want no configuration saved", err)
		}

		// An org with every field: validate only saves nothing; import saves.
		okEnv := testenv.New(t, testenv.Options{Dialect: d})
		okEnv.Connect(t)
		ok := &syncer.Engine{Store: okEnv.Store, Conn: okEnv.Conn, Logger: slog.New(slog.DiscardHandler)}
		if _, _, err := ok.ImportConfig(sandbox.ctx, okEnv.Tenant.ID, "u1", file, true); err != nil {
			t.Fatalf("validate only: %v", err)
		}
		if _, _, err := ok.CurrentConfig(sandbox.ctx, okEnv.Tenant.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after validate only: got %v, want nothing saved", err)
		}
		_, v, err := ok.ImportConfig(sandbox.ctx, okEnv.Tenant.ID, "u1", file, false)
		if err != nil || v.Version != 1 {
			t.Fatalf("import: got version %d, %v; want version 1", v.Version, err)
		}
		got, _, _ := ok.CurrentConfig(sandbox.ctx, okEnv.Tenant.ID)
		a, _ := got.CanonicalJSON()
		b, _ := memberConfig().CanonicalJSON()
		if string(a) != string(b) {
			t.Errorf("imported configuration:\n%s\nwant\n%s", a, b)
		}

		// Files that are not exports are refused with the reason.
		for name, bad := range map[string]string{
			"bare config":   `{"identity":{}}`,
			"wrong format":  `{"sfsync_config_export":2,"config":{}}`,
			"unknown field": strings.Replace(string(file), `"version"`, `"versoin"`, 1),
		} {
			var ie *syncer.ImportError
			if _, _, err := ok.ImportConfig(sandbox.ctx, okEnv.Tenant.ID, "u1", []byte(bad), true); !errors.As(err, &ie) {
				t.Errorf("%s: got %v, want an ImportError", name, err)
			}
		}
	})
}
