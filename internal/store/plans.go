package store

import (
	"context"
	"database/sql"
)

// autoPlans runs fn inside tx with PostgreSQL's plan_cache_mode set to
// auto, and puts the store's own setting (force_custom_plan, see Open)
// back before anything else in the transaction runs. For inserts into
// a table with a foreign key: every row inserted fires the key's check,
// a prepared query that force_custom_plan plans again for each row,
// where auto keeps its plan (always a primary-key probe). 20,000 link
// rows took 0.9–1.5 s with force_custom_plan and 0.36–0.44 s with auto
// (psql, busy machine) (issue 14). The setting is local to the
// transaction either way; the one it replaced is kept in the
// transaction's sfsync.plan_cache_mode, so the switch back needs nothing
// from the client (autoPlansExec sends all three in one batch).
func autoPlans(ctx context.Context, tx *sql.Tx, fn func() error) error {
	if _, err := tx.ExecContext(ctx, autoPlansSet); err != nil {
		return mapErr(err)
	}
	if err := fn(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, autoPlansRestore)
	return mapErr(err)
}
