package store

import (
	"context"
	"database/sql"
	"sync"
)

// A write transaction (writeTx) runs its inserts and look-ups in chunks of
// identical text: a sync page is five chunks of 400 contacts, seven of 300
// links, and so on. SQLite parses every statement it is given, about 4 s
// of a 1M first sync, so on SQLite a write transaction keeps the
// statements it prepared and runs each text's later chunks with them.
// Statements prepared on a transaction are closed with it.
type txStatements struct {
	mu sync.Mutex
	m  map[*sql.Tx]map[string]*sql.Stmt
}

func (c *txStatements) begin(tx *sql.Tx) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[*sql.Tx]map[string]*sql.Stmt{}
	}
	c.m[tx] = map[string]*sql.Stmt{}
	c.mu.Unlock()
}

func (c *txStatements) end(tx *sql.Tx) {
	c.mu.Lock()
	delete(c.m, tx)
	c.mu.Unlock()
}

// stmt returns tx's prepared statement for q, preparing it the first
// time; nil if tx keeps none (not a write transaction).
func (c *txStatements) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	stmts := c.m[tx]
	c.mu.Unlock()
	if stmts == nil {
		return nil, nil
	}
	if st := stmts[q]; st != nil {
		return st, nil
	}
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	stmts[q] = st // one goroutine uses a transaction at a time
	return st, nil
}

// execTx runs q on tx, with its prepared statement if tx keeps them.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.stmts.stmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// queryTx is execTx for queries.
func (s *Store) queryTx(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmts.stmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}
