package sfemu

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// maxCSVErrors bounds how many bad rows LoadContactsCSV reports at once.
const maxCSVErrors = 20

// LoadContactsCSV creates one Contact per row of a CSV file whose header
// names API fields (LastName, Email, Member_Number__c, …; case-insensitive),
// as `sfsync emulator --seed FILE.csv` does. Every row goes through the
// same validation as a REST create (types, lengths, e-mail format,
// restricted picklists, required fields, unique and external-id fields,
// validation rules), made by the org's admin as a UI user would, so the
// rows are in the change history. An empty cell leaves the field unset.
// Checkbox cells take true or false. All rows are created or none: on any
// problem nothing is kept and the error names the file, line and field of
// each bad row (up to 20). name labels the errors, e.g. the file path.
func (o *Org) LoadContactsCSV(r io.Reader, name string) (int, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("%s: empty file: want a header row of Contact field names", name)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM from spreadsheet exports
	}
	obj, _ := o.object("Contact")
	cols := make([]*fieldDef, len(header))
	seen := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		f, ok := obj.field(h)
		if !ok || f.Hidden {
			return 0, fmt.Errorf("%s:1: column %d %q: no such field on Contact", name, i+1, h)
		}
		if !f.Createable {
			return 0, fmt.Errorf("%s:1: column %d %q: field is not createable", name, i+1, h)
		}
		if prev, dup := seen[f.Name]; dup {
			return 0, fmt.Errorf("%s:1: columns %d and %d both name %s", name, prev, i+1, f.Name)
		}
		seen[f.Name] = i + 1
		cols[i] = f
	}
	type row struct {
		line int
		in   writeInput
	}
	var rows []row
	var problems []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		in := writeInput{}
		for i, cell := range rec {
			if cell == "" {
				continue
			}
			v, perr := csvCell(cols[i], cell)
			if perr != "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", name, line, cols[i].Name, perr))
				continue
			}
			in[cols[i].Name] = v
		}
		rows = append(rows, row{line, in})
	}
	if len(problems) > 0 {
		return 0, csvErrors(problems)
	}
	admin := o.sideActor(o.adminID)
	now := o.srv.Now().Truncate(time.Second)
	o.withTx(context.Background(), func(t *tx) {
		tb := o.tables["contact"]
		for _, rw := range rows {
			_, errs := o.insertLocked(t, tb, admin, rw.in, now)
			for _, e := range errs {
				where := fmt.Sprintf("%s:%d: ", name, rw.line)
				if len(e.Fields) > 0 {
					where += strings.Join(e.Fields, ", ") + ": "
				}
				problems = append(problems, fmt.Sprintf("%s%s (%s)", where, e.Message, e.Code))
			}
		}
		if len(problems) > 0 {
			t.rollback()
		}
	})
	if len(problems) > 0 {
		return 0, csvErrors(problems)
	}
	return len(rows), nil
}

// csvCell turns a CSV cell into the JSON-like value prepare expects: text
// stays text (convert parses numbers, dates and date-times from it);
// checkboxes need true or false, since convert takes only a JSON boolean.
func csvCell(f *fieldDef, cell string) (any, string) {
	if f.Type != "boolean" {
		return cell, ""
	}
	switch strings.ToLower(strings.TrimSpace(cell)) {
	case "true":
		return true, ""
	case "false":
		return false, ""
	}
	return nil, fmt.Sprintf("%q is not a checkbox value (want true or false)", cell)
}

func csvErrors(problems []string) error {
	more := ""
	if len(problems) > maxCSVErrors {
		more = fmt.Sprintf("\n(and %d more)", len(problems)-maxCSVErrors)
		problems = problems[:maxCSVErrors]
	}
	return fmt.Errorf("seed CSV refused, nothing loaded:\n%s%s", strings.Join(problems, "\n"), more)
}
