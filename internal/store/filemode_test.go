package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestSQLiteFilesArePrivate: the database holds encrypted tokens and
// people's contact details, so its files are readable by the service's
// user only (0600), whatever the umask, and a file an older version left
// 0644 is tightened when it is opened; the job queue's file
// (store.JobsPath) too.
func TestSQLiteFilesArePrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "new.db"), old} {
		s, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// A write to each file, so the log files exist.
		if _, err := s.CreateTenant(ctx, tenant.Tenant{Name: "Acme", Language: "en"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.JobsDB().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS probe (x INTEGER)`); err != nil {
			t.Fatal(err)
		}
		jobs := store.JobsPath(path)
		for _, f := range []string{path, path + "-wal", path + "-shm", jobs, jobs + "-wal", jobs + "-shm"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: got mode %o, want 600", filepath.Base(f), got)
			}
		}
		s.Close()
	}
}
