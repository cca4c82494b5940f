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
	"slices"
	"strings"
	"sync/atomic"
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

	ckpt *checkpointer // SQLite only
	// reader, on SQLite, is a pool of read-only connections: statements
	// outside a transaction that only read (SELECT) run there, so the
	// API, the admin UI and the engine's look-ups do not queue behind a
	// sync's write transaction on the one writing connection (issue 14).
	reader *sql.DB
	// jobs, on SQLite, is the job queue's database (JobsDB).
	jobs *sql.DB
	// pgConns are the pgx connections of PostgreSQL write transactions
	// (pgtx.go).
	pgConns pgTxConns
	// trips counts what a PostgreSQL Store sends to the server (pgtx.go).
	trips *roundTrips
	// rehearsal, when set, is the one transaction every statement of this
	// Store runs in; see Rehearse.
	rehearsal *sql.Tx
	// writes counts committed write transactions; see Writes.
	writes atomic.Int64
	// comb combines concurrent single-contact updates (combine.go).
	comb combiner
}

// Writes counts the write transactions this Store has committed: each
// transaction it ran (Tx, the contact write path), and each write
// statement it ran outside one. The engine's tests bound the transactions
// of a real-time batch with it.
func (s *Store) Writes() int64 { return s.writes.Load() }

// db is what a statement outside a transaction runs on.
// JobsDB is the database River's tables are in. On PostgreSQL that is DB.
// On SQLite it is a file of its own beside the store's (JobsPath), with
// its own connection: SQLite has one writer per file, and in the store's
// file River's fetch of the next jobs waited behind every page a first
// sync wrote, which bounded the sync's pages to PageTime and still put
// River's job start p99 at 215–274 ms during a 1M first sync (issue 14).
// No job is inserted in a transaction of the store's, so nothing needs
// the two in one file.
func (s *Store) JobsDB() *sql.DB {
	if s.jobs != nil {
		return s.jobs
	}
	return s.DB
}

// JobsPath is the SQLite file of the job queue (JobsDB) for the store's
// file path: "sfsync.db" → "sfsync-jobs.db".
func JobsPath(path string) string {
	return strings.TrimSuffix(path, ".db") + "-jobs.db"
}

func (s *Store) db() querier {
	if s.rehearsal != nil {
		return s.rehearsal
	}
	if s.reader != nil {
		return splitDB{w: s.DB, r: s.reader, writes: &s.writes}
	}
	return splitDB{w: s.DB, r: s.DB, writes: &s.writes}
}

// splitDB sends statements that begin with SELECT to the read-only pool
// and everything else to the writer. Outside a transaction a read on
// another connection sees every committed write (WAL), as it would on
// the writer.
//
// It counts the statements it sends to the writer (Store.Writes).
type splitDB struct {
	w, r   *sql.DB
	writes *atomic.Int64
}

func isSelect(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

func (d splitDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if isSelect(q) {
		return d.r.QueryContext(ctx, q, args...)
	}
	d.writes.Add(1)
	return d.w.QueryContext(ctx, q, args...)
}

func (d splitDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if isSelect(q) {
		return d.r.QueryRowContext(ctx, q, args...)
	}
	d.writes.Add(1)
	return d.w.QueryRowContext(ctx, q, args...)
}

func (d splitDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	d.writes.Add(1)
	return d.w.ExecContext(ctx, q, args...)
}

// Rehearse runs fn with a Store whose every read and write happens in one
// transaction that is rolled back at the end, whatever fn returns: fn sees
// its own writes, nobody else does, and nothing stays. The dry run is the
// sync engine itself rehearsing a pass. Each transaction fn opens on the
// rehearsal Store (Tx, and the contact write path) is a savepoint inside
// it, undone if it fails. While it runs, the rehearsal holds a connection
// (SQLite's only one) and the tenant's write lock once it has written.
func (s *Store) Rehearse(ctx context.Context, fn func(r *Store) error) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	r := &Store{DB: s.DB, Dialect: s.Dialect, Pool: s.Pool, Now: s.Now, rehearsal: tx}
	return fn(r)
}

// savepoint runs fn in a savepoint of the rehearsal transaction.
func (s *Store) savepoint(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx := s.rehearsal
	if _, err := tx.ExecContext(ctx, `SAVEPOINT rehearsal`); err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		if _, rerr := tx.ExecContext(context.WithoutCancel(ctx), `ROLLBACK TO SAVEPOINT rehearsal`); rerr != nil {
			return errors.Join(err, mapErr(rerr))
		}
		if _, rerr := tx.ExecContext(context.WithoutCancel(ctx), `RELEASE SAVEPOINT rehearsal`); rerr != nil {
			return errors.Join(err, mapErr(rerr))
		}
		return err
	}
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT rehearsal`)
	return mapErr(err)
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

// SQLite's page cache. A first sync's page of 2,000 contacts dirties
// about 8,000 pages (each unique index takes its inserts at random
// places); with SQLite's default 2 MB cache most were spilled to the log
// mid-transaction and written again at commit. 16 MB of clean pages are
// kept, and dirty ones may grow to spillPages (64 MB) before spilling, so
// a page's transaction is written once; the memory is held only while
// such a transaction runs.
const (
	cacheKiB   = 16 << 10
	spillPages = 16384

	readerConns    = 4
	readerCacheKiB = 4 << 10
)

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	db, err := openSQLiteWriter(ctx, path, []string{"journal_mode(WAL)", "synchronous(NORMAL)", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS), "foreign_keys(OFF)",
		fmt.Sprintf("wal_autocheckpoint(%d)", walAutoCheckpoint), fmt.Sprintf("journal_size_limit(%d)", walSizeLimit),
		fmt.Sprintf("cache_size(%d)", -cacheKiB), fmt.Sprintf("cache_spill(%d)", spillPages)})
	if err != nil {
		return nil, err
	}
	ckpt, err := startCheckpointer(path, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// The read-only pool: a smaller page cache each (4 MB), at most
	// readerConns connections.
	reader := openSQLiteDB(sqliteDSN(path, []string{fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS), "query_only(1)", fmt.Sprintf("cache_size(%d)", -readerCacheKiB)}))
	reader.SetMaxOpenConns(readerConns)
	reader.SetMaxIdleConns(readerConns)
	jobs, err := openSQLiteJobs(ctx, JobsPath(path))
	if err != nil {
		ckpt.close()
		db.Close()
		reader.Close()
		return nil, err
	}
	return &Store{DB: db, Dialect: SQLite, Now: time.Now, ckpt: ckpt, reader: reader, jobs: jobs}, nil
}

// openSQLiteJobs opens the job queue's file (JobsDB): WAL, one connection
// (River's SQLite driver needs it, deps.md §1), SQLite's own checkpoints
// (its log stays small: a few rows a job).
func openSQLiteJobs(ctx context.Context, path string) (*sql.DB, error) {
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	db, err := openSQLiteWriter(ctx, path, []string{"journal_mode(WAL)", "synchronous(NORMAL)", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS)})
	return db, err
}

// openSQLiteWriter opens the one writing connection of the SQLite file at
// path, with pragmas and immediate transactions, once it answers. One connection: SQLite has one writer
// per file; WAL keeps readers cheap.
func openSQLiteWriter(ctx context.Context, path string, pragmas []string) (*sql.DB, error) {
	db := openSQLiteDB(sqliteDSN(path, pragmas) + "&_txlock=immediate")
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return db, nil
}

// sqliteDSN is the DSN of the SQLite file at path with pragmas, run on
// each connection as it opens.
func sqliteDSN(path string, pragmas []string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

// makePrivate creates the database file readable by this user only
// (0600) before SQLite opens it, and tightens one an older version left
// 0644: it holds encrypted tokens and people's contact details. SQLite
// gives the -wal and -shm files the database file's mode; those left
// behind are tightened too.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: make %s private: %w", p, err)
		}
	}
	return nil
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
	// No JIT compilation: with every statement planned anew, each run of a
	// statement the planner thought costly was compiled anew, for a
	// statement that takes milliseconds (libLLVM was 15% of the server's
	// CPU in a window of a 1M first sync, issue 14).
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	trips := &roundTrips{}
	if cfg.ConnConfig.Tracer == nil {
		cfg.ConnConfig.Tracer = trips
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
	return &Store{DB: db, Dialect: Postgres, Pool: pool, Now: time.Now, trips: trips}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.ckpt != nil {
		s.ckpt.close()
	}
	err := s.DB.Close()
	if s.reader != nil {
		s.reader.Close()
	}
	if s.jobs != nil {
		s.jobs.Close()
	}
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
	if s.rehearsal != nil {
		return s.savepoint(ctx, fn)
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback() // a no-op after Commit; ends the transaction on a panic
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	s.writes.Add(1)
	return nil
}

// in turns `col IN (…)` over args[from-1:] (the values, numbered from
// $from) into SQL and its arguments. SQLite gets placeholders. PostgreSQL
// gets one array, unnested: with an IN list of values and no statistics
// yet (a table filling during a first sync, before autovacuum analyses
// it) the planner scanned every row of the tenant for each look-up, 430 ms
// instead of 0.7 ms at 700,000 links, which made a 1M first sync
// quadratic.
func (s *Store) in(col string, args []any, from int) (string, []any) {
	if s.Dialect != Postgres {
		args = padIn(args, from) // a few texts, kept prepared (sqlitedriver.go)
		return col + " IN (" + s.ph(from, len(args)-from+1) + ")", args
	}
	vals := args[from-1:]
	typ := "text"
	if len(vals) > 0 {
		if _, ok := vals[0].(int64); ok {
			typ = "bigint"
		}
	}
	var arr any
	if typ == "bigint" {
		ints := make([]int64, len(vals))
		for i, v := range vals {
			ints[i] = v.(int64)
		}
		arr = ints
	} else {
		arr = anyStrings(vals)
	}
	return fmt.Sprintf("%s IN (SELECT unnest($%d::%s[]))", col, from, typ), append(slices.Clip(args[:from-1]), arr)
}

// probeQuery is a PostgreSQL query reading cols of the tenant's rows of
// table whose col equals one of the values in the array $2 (the tenant
// is $1): one index probe per value, through a LATERAL subquery that
// OFFSET 0 keeps from being flattened into a join. The IN (SELECT
// unnest(…)) form of in left the join's shape to the planner, and without
// statistics (autovacuum off, or a tenant filling during its first sync
// before the next ANALYZE) it took the tenant's rows for a few and
// hash-joined every one of them: at 100,000 contacts a look-up of 500
// member numbers read the whole tenant, 16 ms, four times a page, and
// growing with the tenant (issue 14). A probe reads the same three or
// four index pages per value at any size. cols are the inner query's
// columns, named without a table.
func probeQuery(cols, table, col string) string {
	return `SELECT x.* FROM unnest($2::text[]) AS k(v), LATERAL (SELECT ` + cols + ` FROM ` + table + ` WHERE tenant_id = $1 AND ` + col + ` = k.v OFFSET 0) x`
}

// distinct returns vals without repeats (a probe returns a row once per
// value it is given, where IN returned it once).
func distinct(vals []string) []string {
	seen := make(map[string]struct{}, len(vals))
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if _, ok := seen[v]; !ok {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}

// eachByKeys reads cols of the tenant's rows of table whose col is one of
// keys and calls scan for every row: on PostgreSQL in one statement that
// probes the index a key at a time (probeQuery), on SQLite with an IN
// list of at most 500 keys a statement. Outside any transaction.
func (s *Store) eachByKeys(ctx context.Context, tenantID string, keys []string, cols, table, col string, scan func(*sql.Rows) error) error {
	if len(keys) == 0 {
		return nil
	}
	chunkSize := 500
	if s.Dialect == Postgres {
		chunkSize = len(keys)
	}
	for chunk := range slices.Chunk(keys, chunkSize) {
		var q string
		var args []any
		if s.Dialect == Postgres {
			q, args = probeQuery(cols, table, col), []any{tenantID, distinct(chunk)}
		} else {
			args = make([]any, 0, len(chunk)+1)
			args = append(args, tenantID)
			for _, k := range chunk {
				args = append(args, k)
			}
			var cond string
			cond, args = s.in(col, args, 2)
			q = `SELECT ` + cols + ` FROM ` + table + ` WHERE tenant_id = $1 AND ` + cond
		}
		rows, err := s.db().QueryContext(ctx, q, args...)
		if err != nil {
			return mapErr(err)
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// insertInto starts a multi-row INSERT. On SQLite it is INSERT OR FAIL:
// a multi-row statement that may abort makes SQLite keep a statement
// journal (a copy of every page the statement changes that the
// transaction had changed already), which was a tenth of a first sync's
// time; FAIL needs none. Every caller returns the error and rolls the
// whole transaction back, so the rows a failed statement did write never
// land. (Foreign keys need the journal too; see writeTx.)
func (s *Store) insertInto() string {
	if s.Dialect == SQLite {
		return "INSERT OR FAIL INTO"
	}
	return "INSERT INTO"
}

// updateVerb is UPDATE OR FAIL on SQLite, for the same reason.
func (s *Store) updateVerb() string {
	if s.Dialect == SQLite {
		return "UPDATE OR FAIL"
	}
	return "UPDATE"
}

// writeTx runs fn in a transaction for the contact write path (contacts,
// their social identities and outbox rows, and the sync engine's links,
// logs and retries written with them). It checks that the tenant exists.
//
// On SQLite foreign keys are not enforced, on any connection: SQLite
// checks them with a statement journal on every multi-row insert (a tenth
// of a first sync's time), and switching enforcement off for this path
// alone and on again expired every kept statement of the connection
// (sqlitedriver.go), River's fetch included. The store cannot break them:
// this path inserts social identities only for contacts of its batch or
// loaded with it and log entries only after updating their run (which
// fails if the run is gone); the one parent row ever deleted, a contact,
// has its social identities deleted first (DeleteContact), so no cascade
// is missed; the tests check every SQLite store they used with PRAGMA
// foreign_key_check (storetest.Open).
//
// With lockContacts the transaction also takes the tenant's contact write
// lock (lockTenant) in the same statement as the check on PostgreSQL: one
// round trip fewer in every transaction of the API's combined updates,
// each of which holds the lock until its commit (issue 14).
func (s *Store) writeTx(ctx context.Context, tenantID string, lockContacts bool, fn func(tx *sql.Tx) error) error {
	withTenant := func(tx *sql.Tx) error {
		q := `SELECT 1 FROM tenants WHERE id = $1`
		args := []any{tenantID}
		if lockContacts && s.Dialect == Postgres {
			q = `SELECT 1 FROM tenants, pg_advisory_xact_lock(hashtext($2)) WHERE tenants.id = $1`
			args = append(args, contactLockKey(tenantID))
		}
		var one int
		if err := tx.QueryRowContext(ctx, q, args...).Scan(&one); err != nil {
			return mapErr(err)
		}
		return fn(tx)
	}
	if s.Dialect == Postgres && s.rehearsal == nil {
		return s.pgWriteTx(ctx, withTenant)
	}
	return s.Tx(ctx, withTenant)
}

// busyTimeoutMS is how long a SQLite connection waits for a lock.
const busyTimeoutMS = 10000

// yieldCap bounds how long YieldWriter waits for others' writes, and
// pauseCap how long it waits for the log's restart (checkpointer.restart).
const (
	yieldCap = 25 * time.Millisecond
	pauseCap = time.Second
)

// YieldWriter lets whoever uses SQLite's one writing connection finish,
// and whoever queued for it go first, before a bulk writer (a first
// sync's next page) asks for it again; it returns at once when the
// connection is free, after yieldCap at most, and at once on PostgreSQL.
// database/sql gives a released connection to one of its waiters at
// random, so a sync taking its next page straight away would often go
// before an API write (or, when River's tables were in this file, River's
// fetch) which had waited a whole page already (issue 14). While the
// checkpointer restarts the write-ahead log it also waits, for pauseCap at
// most: the restart needs no commit to come while it copies the log's end
// (checkpointer.restart).
func (s *Store) YieldWriter(ctx context.Context) {
	if s.Dialect != SQLite || s.rehearsal != nil {
		return
	}
	waitWhile(ctx, yieldCap, 200*time.Microsecond, func() bool { return s.DB.Stats().InUse > 0 })
	if s.ckpt != nil {
		waitWhile(ctx, pauseCap, time.Millisecond, s.ckpt.pausing.Load)
	}
}

// waitWhile sleeps a step at a time while busy holds, for d at most and
// until ctx ends.
func waitWhile(ctx context.Context, d, step time.Duration, busy func() bool) {
	for end := time.Now().Add(d); busy() && time.Now().Before(end) && ctx.Err() == nil; {
		time.Sleep(step)
	}
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
