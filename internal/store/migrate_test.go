package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestSocialKeyMigration upgrades a database that holds social identities
// to the key order of migration 7 and back: the rows survive both ways,
// the user-ID index goes and comes back, and the store finds the owners
// of user IDs afterwards.
func TestSocialKeyMigration(t *testing.T) {
	t.Parallel()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "sfsync.db")
			goDialect := goose.DialectSQLite3
			if d == store.Postgres {
				dsn, goDialect = storetest.PostgresSchema(t), goose.DialectPostgres
			}
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			p, err := goose.NewProvider(goDialect, s.DB, os.DirFS(filepath.Join("migrations", string(d))))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 6); err != nil {
				t.Fatal(err)
			}
			// The tenant row as migration 6 knows it: today's CreateTenant
			// writes columns later migrations add (time_zone, 9).
			tn := tenant.Tenant{ID: "t_migrate", Name: "A", Language: "en"}
			if _, err := s.DB.ExecContext(ctx, `INSERT INTO tenants (id, name, salesforce_addon, social_cdp, language, phone_region, created_at)
				VALUES ($1, $2, false, false, $3, '', 0)`, tn.ID, tn.Name, tn.Language); err != nil {
				t.Fatal(err)
			}
			in := contact.Input{MemberID: contact.Some("M1"), Social: contact.Some([]contact.SocialIdentity{
				{ChannelType: "line", ChannelID: "OA1", UserID: "U1"}, {ChannelType: "line", ChannelID: "OA2", UserID: "U1"}})}
			c, err := s.CreateContact(ctx, tn.ID, in, contact.OriginAPI)
			if err != nil {
				t.Fatal(err)
			}
			count := func() (n int) {
				if err := s.DB.QueryRow(`SELECT COUNT(*) FROM social_identities WHERE contact_id = $1`, c.ID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// userIndex reports whether social_identities_user exists.
			userIndex := func() bool {
				q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'social_identities_user'`
				if d == store.Postgres {
					q = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'social_identities_user'`
				}
				var n int
				if err := s.DB.QueryRow(q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n == 1
			}
			if !userIndex() {
				t.Fatal("no user-ID index before the upgrade")
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("migrate up: %v", err)
			}
			if n := count(); n != 2 {
				t.Fatalf("%d social identities after the upgrade, want 2", n)
			}
			if userIndex() {
				t.Error("the user-ID index is still there after the upgrade")
			}
			// The store finds the owner by user ID (the new key's prefix),
			// and refuses the same identity for another contact.
			res, err := s.BulkUpsert(ctx, tn.ID, []contact.Input{{MemberID: contact.Some("M2"), Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA1", UserID: "U1"}})}},
				contact.IdentityMemberID, contact.OriginAPI)
			if err != nil || res[0].Err == nil {
				t.Fatalf("a second contact with line/OA1/U1: %+v, %v; want a conflict", res, err)
			}
			if _, err := p.DownTo(ctx, 6); err != nil {
				t.Fatalf("migrate down: %v", err)
			}
			if n := count(); n != 2 {
				t.Fatalf("%d social identities after the downgrade, want 2", n)
			}
			if !userIndex() {
				t.Error("the user-ID index did not come back with the downgrade")
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("migrate up again: %v", err)
			}
			if n := count(); n != 2 {
				t.Fatalf("%d social identities after upgrading again, want 2", n)
			}
		})
	}
}

// TestRunGroupsMigration: migration 25 counts the log entries and pull
// retries written before it, so runs and tenants that existed show the
// same groups and open failures as they did when these were counted
// from the rows.
func TestRunGroupsMigration(t *testing.T) {
	t.Parallel()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "sfsync.db")
			goDialect := goose.DialectSQLite3
			if d == store.Postgres {
				dsn, goDialect = storetest.PostgresSchema(t), goose.DialectPostgres
			}
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			p, err := goose.NewProvider(goDialect, s.DB, os.DirFS(filepath.Join("migrations", string(d))))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 21); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`INSERT INTO tenants (id, name, created_at) VALUES ('t_a', 'A', 0), ('t_b', 'B', 0)`,
				`INSERT INTO sync_runs (id, tenant_id, direction, trigger, status, config_version, started_at) VALUES (7, 't_a', 'to_platform', 'initial', 'running', 1, 0)`,
				`INSERT INTO sync_run_records (run_id, tenant_id, kind, reason_code, reason, created_at) VALUES
					(7, 't_a', 'failed', 'invalid_phone', 'b', 0), (7, 't_a', 'failed', 'invalid_phone', 'a', 0), (7, 't_a', 'conflict', 'platform_wins', 'p', 0)`,
				`INSERT INTO pull_retries (tenant_id, salesforce_id, attempts, next_at, last_error) VALUES ('t_a', '003A', 1, 0, 'x'), ('t_a', '003B', 1, 0, 'x'), ('t_b', '003C', 1, 0, 'x')`,
			} {
				if _, err := s.DB.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := p.UpTo(ctx, 25); err != nil {
				t.Fatal(err)
			}
			groups, err := s.ReasonGroups(ctx, "t_a", 7)
			if err != nil || len(groups) != 2 || groups[0].ReasonCode != "invalid_phone" || groups[0].Count != 2 || groups[0].Example != "a" ||
				groups[1].ReasonCode != "platform_wins" || groups[1].Count != 1 {
				t.Errorf("groups after the migration = %+v, %v; want invalid_phone 2 (example a), platform_wins 1", groups, err)
			}
			for tn, want := range map[string]int64{"t_a": 2, "t_b": 1} {
				if pull, _, err := s.OpenFailures(ctx, tn); err != nil || pull != want {
					t.Errorf("open pull failures of %s after the migration = %d, %v; want %d", tn, pull, err, want)
				}
			}
		})
	}
}
