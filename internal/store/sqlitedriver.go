package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"iter"
	"math/bits"
	"reflect"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"
)

// SQLite parses every statement it is given unless the statement is kept
// prepared, and database/sql's plain QueryContext and ExecContext keep
// nothing: River's fetch of available jobs (four queues, every 100 ms on
// SQLite, each an UPDATE on the one writing connection) parsed its
// statement each time — 6% of serve's CPU during a first sync, on the
// connection the sync writes with (issue 14) — and every API and admin
// page read parsed its look-ups again. The store's SQLite connections
// therefore keep, each, the last stmtCacheSize statement texts they ran
// outside an explicit Prepare, prepared, and run them again with the kept
// statement. modernc keeps a statement's compiled form only for a single
// statement (a script is compiled on each run, as before), and SQLite
// recompiles a kept statement itself when the schema or a setting changes.

// stmtCacheSize is how many statement texts a connection keeps prepared.
const stmtCacheSize = 128

// stmtParses counts the statements the caching connections prepared (for
// tests: a text run again is not prepared again).
var stmtParses atomic.Int64

// openSQLiteDB is sql.Open("sqlite", dsn) with connections that keep their
// statements (cachingConn).
func openSQLiteDB(dsn string) *sql.DB {
	return sql.OpenDB(cachingConnector{dsn: dsn, d: &sqlite.Driver{}})
}

type cachingConnector struct {
	dsn string
	d   *sqlite.Driver
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.d.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.d }

// cachingConn is a modernc connection that keeps the statements it ran by
// text (at most stmtCacheSize, the least recently used go first). A kept
// statement whose rows are still open is not used again until they are
// closed: the text is then prepared afresh, and that statement closed
// with its rows. database/sql uses a connection from one goroutine at a
// time, so the cache needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]*list.Element // text → element of lru holding *keptStmt
	lru   *list.List
}

type keptStmt struct {
	text    string
	st      driver.Stmt
	busy    bool // rows open
	evicted bool // close when the rows are
}

// cacheable: a single statement (a script's statements are compiled on
// each run anyway, and its text may be long and seen once).
func cacheable(q string) bool {
	return !strings.Contains(strings.TrimRight(q, "; \t\n"), ";")
}

// kept returns the kept statement of q, preparing and keeping it the first
// time; nil when its rows are open.
func (c *cachingConn) kept(ctx context.Context, q string) (*keptStmt, error) {
	if e, ok := c.stmts[q]; ok {
		k := e.Value.(*keptStmt)
		if k.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return k, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	stmtParses.Add(1)
	k := &keptStmt{text: q, st: st}
	c.stmts[q] = c.lru.PushFront(k)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Back()
		ok := old.Value.(*keptStmt)
		c.lru.Remove(old)
		delete(c.stmts, ok.text)
		if ok.busy {
			ok.evicted = true
		} else {
			ok.st.Close()
		}
	}
	return k, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if cacheable(q) {
		k, err := c.kept(ctx, q)
		if err != nil {
			return nil, err
		}
		if k != nil {
			return k.st.(driver.StmtExecContext).ExecContext(ctx, args)
		}
	}
	stmtParses.Add(1)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if cacheable(q) {
		k, err := c.kept(ctx, q)
		if err != nil {
			return nil, err
		}
		if k != nil {
			rows, err := k.st.(driver.StmtQueryContext).QueryContext(ctx, args)
			if err != nil {
				return nil, err
			}
			k.busy = true
			return &keptRows{Rows: rows, k: k}, nil
		}
	}
	stmtParses.Add(1)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

// keptRows frees its kept statement for the next run when closed.
type keptRows struct {
	driver.Rows
	k *keptStmt
}

func (r *keptRows) Close() error {
	err := r.Rows.Close()
	if r.k != nil {
		r.k.busy = false
		if r.k.evicted {
			r.k.st.Close()
		}
		r.k = nil
	}
	return err
}

// The column type interfaces modernc's rows answer, passed through.
func (r *keptRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *keptRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *keptRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *keptRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *keptRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (c *cachingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	stmtParses.Add(1)
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*keptStmt).st.Close()
	}
	c.stmts, c.lru = nil, list.New()
	return c.Conn.Close()
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// A statement's text names each of its parameters, so a multi-row INSERT
// of n rows or an IN list of n values is a text of its own for every n.
// A first sync's pages vary in size (PageTime's adapt), and so did every
// insert and look-up of each page: all were parsed again, about 700 of a
// 100k first sync's statements (issue 14). Rows and values therefore go
// in statements of a few sizes only, which the connections keep: at most
// max rows, and below max a power of two (stmtChunks); an IN list is
// padded up to a power of two with its last value again (padIn), which
// matches nothing more.

// stmtChunks is slices.Chunk with statement-sized chunks: max while at
// least max items are left, then the largest power of two that fits,
// down to 1 (n items below max take as many statements as n has bits).
func stmtChunks[S ~[]E, E any](s S, max int) iter.Seq[S] {
	return func(yield func(S) bool) {
		for len(s) > 0 {
			k := max
			if len(s) < max {
				k = 1 << (bits.Len(uint(len(s))) - 1)
			}
			if !yield(s[:k:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// padIn pads the IN list args[from-1:] (from is the list's first
// parameter number, as in Store.in) to a power of two by repeating its
// last value. An empty list is left as it is.
func padIn(args []any, from int) []any {
	n := len(args) - (from - 1)
	if n <= 1 {
		return args
	}
	want := 1 << bits.Len(uint(n-1))
	last := args[len(args)-1]
	for range want - n {
		args = append(args, last)
	}
	return args
}
