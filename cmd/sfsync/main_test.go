package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
)

// cli runs the sfsync command in-process against a fresh data directory.
func cli(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	env := map[string]string{"SFSYNC_DATA_DIR": dataDir, "SFSYNC_ADMIN_PASSWORD": "demo-pass-123"}
	err := run(context.Background(), args, &out, func(k string) string { return env[k] })
	return out.String(), err
}

func TestAdminCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := cli(t, dir, "tenant", "create", "--name", "Acme", "--language", "en", "--salesforce-addon=true")
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`t_[0-9a-z]+`).FindString(out)
	if id == "" {
		t.Fatalf("tenant create printed %q, want a tenant ID", out)
	}
	if _, err := cli(t, dir, "tenant", "set-plan", "--tenant", id, "--social-cdp=true"); err != nil {
		t.Fatal(err)
	}
	out, _ = cli(t, dir, "tenant", "list")
	if !strings.Contains(out, id) || !regexp.MustCompile(`Acme\s+true\s+true\s+en`).MatchString(out) {
		t.Errorf("tenant list = %q, want Acme with both entitlements", out)
	}
	if out, err := cli(t, dir, "admin", "create", "--tenant", id, "--email", "boss@acme.test"); err != nil || !strings.Contains(out, "boss@acme.test") {
		t.Errorf("admin create = %q, %v", out, err)
	}
	key, err := cli(t, dir, "apikey", "create", "--tenant", id, "--name", "ci")
	if err != nil || !strings.HasPrefix(key, "sfs_") {
		t.Fatalf("apikey create = %q, %v; want a key starting sfs_", key, err)
	}
	if _, err := cli(t, dir, "apikey", "revoke", "--id", "k_missing"); err == nil {
		t.Error("revoking an unknown key succeeded, want an error")
	}
	if _, err := cli(t, dir, "tenant", "set-plan", "--tenant", id, "--social-cdp=maybe"); err == nil || !strings.Contains(err.Error(), "--social-cdp") {
		t.Errorf("bad boolean error = %v, want one naming --social-cdp", err)
	}
	// The time zone the admin UI shows times in: UTC for an English
	// tenant until one is set.
	if out, _ := cli(t, dir, "tenant", "list"); !regexp.MustCompile(`Acme\s+true\s+true\s+en\s+UTC`).MatchString(out) {
		t.Errorf("tenant list = %q, want Acme's time zone UTC", out)
	}
	if _, err := cli(t, dir, "tenant", "set-plan", "--tenant", id, "--time-zone", "Asia/Taipei"); err != nil {
		t.Fatal(err)
	}
	if out, _ := cli(t, dir, "tenant", "list"); !regexp.MustCompile(`Acme\s+true\s+true\s+en\s+Asia/Taipei`).MatchString(out) {
		t.Errorf("tenant list = %q, want Acme's time zone Asia/Taipei", out)
	}
	if _, err := cli(t, dir, "tenant", "create", "--name", "Mars", "--time-zone", "Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "time zone") {
		t.Errorf("bad time zone error = %v, want one naming the time zone", err)
	}
	if _, err := cli(t, dir, "tenant", "set-budget", "--tenant", id, "--share", "1.5"); err == nil || !strings.Contains(err.Error(), "--share") {
		t.Errorf("out-of-range budget error = %v, want one naming --share", err)
	}
	if _, err := cli(t, dir, "tenant", "set-budget", "--tenant", id, "--share", "0.3"); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Errorf("budget of an unconnected tenant: error = %v, want one saying Salesforce is not connected", err)
	}
	if _, err := cli(t, dir, "tenant", "drift-check", "--tenant", id); err == nil || !strings.Contains(err.Error(), "first sync") {
		t.Errorf("drift check of a tenant that never synced: error = %v, want one naming the first sync", err)
	}
	if _, err := cli(t, dir, "tenant", "create"); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("missing name error = %v, want one naming --name", err)
	}
}

// TestMigrateCreatesEveryTable: sfsync migrate leaves nothing for the
// first process to migrate, River's job table included.
func TestMigrateCreatesEveryTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out, err := cli(t, dir, "migrate"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate = %q, %v", out, err)
	}
	s, err := store.Open(context.Background(), filepath.Join(dir, "sfsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// River's tables in a file of their own (store.JobsDB), sfsync's in
	// sfsync.db.
	for _, tt := range []struct {
		db    *sql.DB
		table string
		want  int
	}{{s.DB, "tenants", 1}, {s.DB, "sync_runs", 1}, {s.JobsDB(), "river_job", 1}, {s.DB, "river_job", 0}} {
		var n int
		if err := tt.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1`, tt.table).Scan(&n); err != nil || n != tt.want {
			t.Errorf("after migrate, table %s: got %d (%v), want %d", tt.table, n, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sfsync-jobs.db")); err != nil {
		t.Errorf("the job queue's file: %v", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	if _, err := cli(t, t.TempDir(), "frobnicate"); err == nil {
		t.Error("unknown command succeeded, want an error")
	}
	out, err := cli(t, t.TempDir(), "version")
	if err != nil || !strings.HasPrefix(out, "sfsync ") {
		t.Errorf("version = %q, %v", out, err)
	}
}
