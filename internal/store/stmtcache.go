package store

import (
	"context"
	"database/sql"
)

// A write transaction (writeTx) runs its inserts and look-ups in chunks of
// identical text: a sync page is five chunks of 400 contacts, seven of 300
// links, and so on. SQLite parses every statement it is given, about 4 s
// of a 1M first sync, unless it is kept prepared: on SQLite each
// connection keeps the texts it ran (sqlitedriver.go), across
// transactions now that the writing connection runs with foreign-key
// enforcement off throughout (a change of that setting expired every
// kept statement, so each write transaction, which switched it off and on
// again, parsed its statements anew: 14 s of a 1M first sync's 182 s of
// CPU, and River's fetch after each page another 5 s).

// execTx runs q on tx.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, q, args...)
}

// queryTx is execTx for queries.
func (s *Store) queryTx(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(ctx, q, args...)
}
