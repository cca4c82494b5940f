// Package storetest opens test databases for both dialects and holds the
// conformance suite that every store driver must pass.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/sfsync/sfsync/internal/store"
)

// PostgresEnv names the variable holding the PostgreSQL server for tests.
const PostgresEnv = "SFSYNC_TEST_POSTGRES_URL"

// Dialects lists the dialects a test should run against.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// Open returns a migrated, empty store of the given dialect that is
// removed when the test ends. For PostgreSQL each call gets its own schema
// on the server at $SFSYNC_TEST_POSTGRES_URL. Without that variable the test
// is skipped loudly, except on CI (CI set), where it fails: PostgreSQL must
// run there.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	s, _ := OpenDSN(t, d)
	return s
}

// OpenDSN is Open, also returning the DSN, so a test can open more
// connections to the same database (several worker processes).
func OpenDSN(t testing.TB, d store.Dialect) (*store.Store, string) {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch d {
	case store.SQLite:
		dsn = filepath.Join(t.TempDir(), "sfsync.db")
	case store.Postgres:
		dsn = PostgresSchema(t)
	default:
		t.Fatalf("unknown dialect %q", d)
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() {
		// SQLite does not enforce the schema's foreign keys (store.writeTx):
		// the store's code keeps them, in every test (that has not closed
		// its store itself).
		if s.DB.PingContext(ctx) == nil {
			checkForeignKeys(t, s)
		}
		s.Close()
	})
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s store: %v", d, err)
	}
	return s, dsn
}

var warnOnce sync.Once

// PostgresSchema creates a fresh schema on the test server and returns a
// URL whose search_path points at it. It skips (or fails on CI) without a
// server.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		msg := fmt.Sprintf("PostgreSQL tests need %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresEnv)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; on CI PostgreSQL must run", msg)
		}
		warnOnce.Do(func() { fmt.Fprintf(os.Stderr, "\n*** SKIPPING PostgreSQL tests: %s ***\n\n", msg) })
		t.Skip("SKIPPING: " + msg)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable: %v", PostgresEnv, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		warnOnce.Do(func() { fmt.Fprintf(os.Stderr, "\n*** SKIPPING PostgreSQL tests: %s ***\n\n", msg) })
		t.Skip("SKIPPING: " + msg)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "sfsync_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		t.Fatalf("create schema: %v", err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
