package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// The SQLite connections keep the statements they run: a text run again is
// not parsed again (River's fetch runs the same UPDATE every 100 ms per
// queue on the writing connection); a text whose rows are still open is
// run on a statement of its own; more texts than the cache holds push
// the oldest out, also while its rows are open.
func TestSQLiteConnectionsKeepStatements(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "keep.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB.ExecContext(ctx, `CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	before := stmtParses.Load()
	for i := range 20 {
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		var v string
		if err := s.DB.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = $1`, i).Scan(&v); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("row %d: %q, %v", i, v, err)
		}
	}
	if got := stmtParses.Load() - before; got != 2 {
		t.Errorf("40 runs of 2 texts parsed %d statements, want 2", got)
	}

	// The same text while its rows are open (on one connection: in a
	// transaction): a statement of its own.
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	q := `SELECT k FROM kv WHERE k < $1 ORDER BY k`
	outer, err := tx.QueryContext(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for outer.Next() {
		var k int
		if err := outer.Scan(&k); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.QueryContext(ctx, q, k)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for inner.Next() {
			n++
		}
		inner.Close()
		seen = append(seen, fmt.Sprintf("%d:%d", k, n))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(seen) != "[0:0 1:1 2:2]" {
		t.Errorf("nested runs of one text: %v, want [0:0 1:1 2:2]", seen)
	}

	// More texts than a connection keeps, the first one's rows open
	// meanwhile: every answer still right.
	open, err := tx.QueryContext(ctx, `SELECT v FROM kv WHERE k >= $1 ORDER BY k`, 18)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stmtCacheSize + 10 {
		var n int
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) + %d FROM kv`, i)).Scan(&n); err != nil || n != 20+i {
			t.Fatalf("text %d: %d, %v", i, n, err)
		}
	}
	var vs []string
	for open.Next() {
		var v string
		if err := open.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	open.Close()
	if fmt.Sprint(vs) != "[v18 v19]" {
		t.Errorf("rows read across the cache's turnover: %v", vs)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// A script is run whole, as before.
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES (100, 'a'); INSERT INTO kv (k, v) VALUES (101, 'b')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM kv WHERE k >= 100`).Scan(&n); err != nil || n != 2 {
		t.Errorf("a script of two inserts wrote %d rows (%v), want 2", n, err)
	}
}
