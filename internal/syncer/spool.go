package syncer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// spool keeps a Bulk API query's results in a temporary file (CSV, as
// they came), so that the identity census and the full pass read one job:
// the census looks at every record before anything is applied, and the
// pass then replays the file. It lives as long as the pass; a crash loses
// it with the pass, which starts over (a Bulk API read has no checkpoint).
type spool struct {
	f       *os.File
	columns []string
}

// spoolRows writes rows to a new spool, calling each for every row on the
// way (with the columns; the row slice is reused). It closes rows.
func spoolRows(rows *salesforce.BulkRows, each func(columns, row []string)) (*spool, error) {
	defer rows.Close()
	f, err := os.CreateTemp("", "sfsync-bulk-*.csv")
	if err != nil {
		return nil, fmt.Errorf("syncer: spool bulk results: %w", err)
	}
	sp := &spool{f: f}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	header := false
	for rows.Next() {
		if !header {
			sp.columns = append([]string(nil), rows.Columns()...)
			if err := w.Write(sp.columns); err != nil {
				return nil, sp.fail(err)
			}
			header = true
		}
		if err := w.Write(rows.Row()); err != nil {
			return nil, sp.fail(err)
		}
		each(sp.columns, rows.Row())
	}
	if err := rows.Err(); err != nil {
		return nil, sp.fail(err)
	}
	w.Flush()
	if err := errors.Join(w.Error(), bw.Flush()); err != nil {
		return nil, sp.fail(err)
	}
	return sp, nil
}

func (sp *spool) fail(err error) error {
	sp.Close()
	return fmt.Errorf("syncer: spool bulk results: %w", err)
}

// replay calls emit for every spooled record, in order, as
// salesforce.BulkRows.Record gives them (an empty value is nil).
func (sp *spool) replay(emit func(map[string]any) error) error {
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := csv.NewReader(bufio.NewReaderSize(sp.f, 1<<20))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // no records
		}
		return err
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("syncer: read spooled bulk results: %w", err)
		}
		rec := make(map[string]any, len(sp.columns))
		for i, col := range sp.columns {
			if i < len(row) && row[i] != "" {
				rec[col] = row[i]
			} else {
				rec[col] = nil
			}
		}
		if err := emit(rec); err != nil {
			return err
		}
	}
}

// Close removes the spool's file.
func (sp *spool) Close() error {
	if sp == nil || sp.f == nil {
		return nil
	}
	err := errors.Join(sp.f.Close(), os.Remove(sp.f.Name()))
	sp.f = nil
	return err
}
