package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sfsync/sfsync/internal/store"
)

// moveJobsFromStore moves the jobs an earlier version left in the store's
// SQLite file (store.JobsDB: River's tables have a file of their own now)
// into the job queue's, and drops River's tables (river_*) from the
// store's file.
// Jobs that have not finished (available, scheduled, retryable, running,
// pending) keep their IDs, so that moving them again after a crash
// between the two steps inserts nothing twice (INSERT OR IGNORE); the
// finished ones, kept only for the job statistics, are left behind. It
// runs after River's migrations of the queue's file, before any client
// starts, and does nothing once the store's file has no River table.
func moveJobsFromStore(ctx context.Context, s *store.Store) error {
	if s.Dialect != store.SQLite {
		return nil
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'river_job'`).Scan(&n); err != nil {
		return fmt.Errorf("jobs: look for an earlier version's jobs: %w", err)
	}
	if n == 0 {
		return nil
	}
	cols, err := sharedColumns(ctx, s.DB, s.JobsDB())
	if err != nil {
		return err
	}
	list := strings.Join(cols, ", ")
	rows, err := s.DB.QueryContext(ctx, `SELECT `+list+` FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded') ORDER BY id`)
	if err != nil {
		return fmt.Errorf("jobs: read an earlier version's jobs: %w", err)
	}
	var pending [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return fmt.Errorf("jobs: read an earlier version's jobs: %w", err)
		}
		pending = append(pending, vals)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("jobs: read an earlier version's jobs: %w", err)
	}
	tx, err := s.JobsDB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: move an earlier version's jobs: %w", err)
	}
	defer tx.Rollback()
	ins := `INSERT OR IGNORE INTO river_job (` + list + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`
	for _, vals := range pending {
		if _, err := tx.ExecContext(ctx, ins, vals...); err != nil {
			return fmt.Errorf("jobs: move an earlier version's jobs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: move an earlier version's jobs: %w", err)
	}
	return s.Tx(ctx, func(tx *sql.Tx) error {
		var tables []string
		rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'river\_%' ESCAPE '\'`)
		if err != nil {
			return fmt.Errorf("jobs: list an earlier version's tables: %w", err)
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			tables = append(tables, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, t := range tables {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS "`+t+`"`); err != nil {
				return fmt.Errorf("jobs: drop an earlier version's %s: %w", t, err)
			}
		}
		return nil
	})
}

// sharedColumns are river_job's columns in both files (the earlier
// version's River may have had fewer).
func sharedColumns(ctx context.Context, from, to *sql.DB) ([]string, error) {
	read := func(db *sql.DB) ([]string, error) {
		rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info('river_job') ORDER BY cid`)
		if err != nil {
			return nil, fmt.Errorf("jobs: columns of river_job: %w", err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	a, err := read(from)
	if err != nil {
		return nil, err
	}
	b, err := read(to)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(a, func(c string) bool { return !slices.Contains(b, c) }), nil
}
