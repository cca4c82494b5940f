// Package store keeps sfsync's state in SQLite (embedded, the default) or
// PostgreSQL (for several worker processes). Both dialects run the same SQL
// through database/sql; they differ only in their migrations, connection
// setup and error codes. One conformance suite (storetest) runs against both.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names a database engine.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Store is sfsync's database.
type Store struct {
	DB      *sql.DB
	Dialect Dialect
	// Pool is the pgx pool behind DB on PostgreSQL (River uses it); nil on SQLite.
	Pool *pgxpool.Pool
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// Named errors that drivers' errors are turned into.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrBusy     = errors.New("database busy")
)

// Open connects to the database at dsn: "postgres://…" (or "postgresql://…")
// for PostgreSQL, otherwise a SQLite file path or "sqlite:PATH". It does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// One connection: SQLite has one writer, and River's SQLite driver
	// needs it (deps.md §1). WAL keeps readers cheap.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return &Store{DB: db, Dialect: SQLite, Now: time.Now}, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse database URL: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	// Plan every statement with its parameters: a generic plan made while
	// a table was empty scans the whole table for each lookup later.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &Store{DB: db, Dialect: Postgres, Pool: pool, Now: time.Now}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.DB.Close()
	if s.Pool != nil {
		s.Pool.Close()
	}
	return err
}

// Migrate applies every embedded migration that has not run yet. On
// PostgreSQL a session advisory lock lets several processes start at once.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.Dialect))
	if err != nil {
		return 0, err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if s.Dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return 0, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.DB, sub, opts...)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("store: migrate: %w", err)
	}
	return len(res), nil
}

// Tx runs fn in a transaction, committing when fn returns nil.
func (s *Store) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return mapErr(tx.Commit())
}

// UniqueViolation reports a unique-constraint failure, naming the
// constraint or index where the driver says it.
type UniqueViolation struct {
	Constraint string
	Err        error
}

func (u *UniqueViolation) Error() string { return "unique violation: " + u.Constraint }
func (u *UniqueViolation) Unwrap() error { return ErrConflict }

// mapErr turns driver errors into the package's named errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &UniqueViolation{Constraint: pgErr.ConstraintName, Err: err}
		case "40001", "40P01", "55P03":
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
		return err
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// modernc's message: "UNIQUE constraint failed: contacts.tenant_id, contacts.phone (2067)"
			msg := sqErr.Error()
			if i := strings.Index(msg, "failed: "); i >= 0 {
				msg = msg[i+len("failed: "):]
			}
			return &UniqueViolation{Constraint: msg, Err: err}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
	}
	return err
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
