package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
	"github.com/sfsync/sfsync/internal/testenv"
)

// BenchmarkWriteCeiling is the floor under a first sync's writing (issue
// 14): the rows the product benchmark's 100k first sync writes (69,844
// records read: 49,106 contacts created, each with its link and its
// field-history entry, half with a LINE identity; 20,738 records failed,
// each with a log row and a retry row), inserted bare into the store's
// schema with its indexes and settings — no look-up, no decision, no
// encoding — in transactions of a page (1,550 records, about what
// PageTime's 60 ms gives), 256 rows a statement. Values have the sizes
// and randomness of the synced ones (random phones, e-mails and LINE UIDs
// in the unique indexes; link values of 252 bytes and history of 346, as
// dbstat counted them). SFSYNC_CEILING_RECORDS sets the records read;
// SFSYNC_CEILING_SKIP=field_history,pull_retries leaves tables out, to
// see what each costs.
//
// us/record (wall) against the product's apply time per record (its sync
// less the census, BenchmarkProductFirstSync) says how much of the
// apply is the storage itself: a first sync cannot be faster than its
// census plus this.
func BenchmarkWriteCeiling(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	n := 69_844
	if v, err := strconv.Atoi(os.Getenv("SFSYNC_CEILING_RECORDS")); err == nil && v > 0 {
		n = v
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			for range b.N {
				writeCeiling(b, d, n)
			}
		})
	}
}

func writeCeiling(b *testing.B, d store.Dialect, n int) {
	b.StopTimer()
	ctx := context.Background()
	s := storetest.Open(b, d)
	tn, err := s.CreateTenant(ctx, tenant.Tenant{Name: "ceiling", Language: "en", Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		b.Fatal(err)
	}
	run, err := s.CreateRun(ctx, store.SyncRun{TenantID: tn.ID, Direction: "to_platform", Trigger: "initial", Status: "running"})
	if err != nil {
		b.Fatal(err)
	}
	rows := ceilingRows(tn.ID, run.ID, n)
	const page = 1550
	cpu0 := testenv.CPUSeconds()
	start := time.Now()
	b.StartTimer()
	for lo := 0; lo < n; lo += page {
		hi := min(lo+page, n)
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if d == store.Postgres {
			// The server's default, not the store's force_custom_plan: a
			// foreign key's check keeps its plan (as store.autoPlans).
			if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = auto`); err != nil {
				b.Fatal(err)
			}
		}
		for _, t := range rows.tables {
			if err := insertRows(ctx, tx, d, t, rows.of(t, lo, hi)); err != nil {
				tx.Rollback()
				b.Fatalf("%s: %v", t.name, err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	wall, cpu := time.Since(start).Seconds(), testenv.CPUSeconds()-cpu0
	b.ReportMetric(wall/float64(n)*1e6, "us/record")
	b.ReportMetric(cpu/float64(n)*1e6, "cpu_us/record")
	b.ReportMetric(float64(n)/wall, "records/s")
	b.ReportMetric(float64(rows.count), "rows")
	testenv.ReportLoad(b)
	b.Logf("%s: %d records (%d rows) in %.2f s: %.1f µs a record (CPU %.1f µs, both cores)", d, n, rows.count, wall, wall/float64(n)*1e6, cpu/float64(n)*1e6)
}

// ceilingTable is a table's columns and its rows, each with the index of
// the record it belongs to.
type ceilingTable struct {
	name    string
	columns []string
	rows    [][]any
	record  []int
}

type ceilingSet struct {
	tables []*ceilingTable
	count  int
}

// of returns t's rows of records lo..hi (rows are in record order):
// two binary searches, so that finding a page's rows costs nothing
// beside its inserts at any size.
func (c *ceilingSet) of(t *ceilingTable, lo, hi int) [][]any {
	return t.rows[sort.SearchInts(t.record, lo):sort.SearchInts(t.record, hi)]
}

func ceilingRows(tenantID string, runID int64, n int) *ceilingSet {
	r := rand.New(rand.NewPCG(14, 14))
	now := time.Now().UnixMicro()
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		var sb strings.Builder
		for range k {
			sb.WriteByte(digits[r.IntN(16)])
		}
		return sb.String()
	}
	contacts := &ceilingTable{name: "contacts", columns: []string{"tenant_id", "id", "member_id", "name", "phone", "email", "birthday", "gender", "tags", "custom", "created_at", "updated_at", "version"}}
	links := &ceilingTable{name: "links", columns: []string{"tenant_id", "salesforce_id", "contact_id", "sf_values", "pf_values", "out_of_scope", "sf_modstamp", "created_at", "updated_at"}}
	social := &ceilingTable{name: "social_identities", columns: []string{"tenant_id", "contact_id", "channel_type", "channel_id", "user_id", "created_at"}}
	history := &ceilingTable{name: "field_history", columns: []string{"tenant_id", "contact_id", "salesforce_id", "run_id", "direction", "at", "changes"}}
	logs := &ceilingTable{name: "sync_run_records", columns: []string{"run_id", "tenant_id", "kind", "salesforce_id", "contact_id", "field", "reason_code", "reason", "detail", "created_at"}}
	retries := &ceilingTable{name: "pull_retries", columns: []string{"tenant_id", "salesforce_id", "attempts", "next_at", "last_error"}}
	add := func(t *ceilingTable, rec int, row ...any) {
		t.rows = append(t.rows, row)
		t.record = append(t.record, rec)
	}
	for i := range n {
		sfID := fmt.Sprintf("003%012dAAA", i+1)
		if i%1000 < 297 { // 29.7% failed: a log row and a retry row
			reason := fmt.Sprintf(`MobilePhone: "09%02d-%03d-%03d" is not a valid international phone number (include the country code, e.g. 886912345678)`, r.IntN(100), r.IntN(1000), r.IntN(1000))
			add(logs, i, runID, tenantID, "failed", sfID, "", "MobilePhone", "invalid_phone", reason, "", now)
			add(retries, i, tenantID, sfID, 1, now+60_000_000, reason)
			continue
		}
		cid := fmt.Sprintf("c_%020d%s", now+int64(i), hex(6)) // time-ordered, as the store's IDs
		member := fmt.Sprintf("M%08d", i+1)
		// Unique, in no order: i times a prime, modulo 10⁸.
		scrambled := (int64(i)*48271 + 12345) % 100_000_000
		phone := fmt.Sprintf("+8869%08d", scrambled)
		var email any
		if r.IntN(2) == 0 {
			email = fmt.Sprintf("%08x.%s@example.com", scrambled*2654435761%(1<<32), hex(4))
		}
		uid := "U" + hex(32)
		add(contacts, i, tenantID, cid, member, "Johnson", phone, email, nil, nil, "[]", "{}", now, now, 1)
		values := fmt.Sprintf(`{"field:Birthdate>birthday":null,"field:Email>email":null,"field:LastName>name":"Johnson","field:MobilePhone>phone":%q,"identity:Member_Number__c>member_id":%q,"social:LINE_UID__c>line/OA1":%q}`, phone, member, uid)
		add(links, i, tenantID, sfID, cid, values, "", false, now-int64(r.IntN(1e12)), now, now)
		if r.IntN(2) == 0 {
			add(social, i, tenantID, cid, "line", "OA1", uid, now)
		}
		changes := fmt.Sprintf(`{"s":"salesforce","c":true,"ch":[{"k":"identity:Member_Number__c>member_id","v":%q},{"k":"social:LINE_UID__c>line/OA1","v":%q},{"k":"field:LastName>name","v":"Johnson"},{"k":"field:Email>email","v":null},{"k":"field:MobilePhone>phone","v":%q},{"k":"field:Birthdate>birthday","v":null}]}`, member, uid, phone)
		add(history, i, tenantID, cid, sfID, runID, "to_platform", now, changes)
	}
	set := &ceilingSet{}
	skip := strings.Split(os.Getenv("SFSYNC_CEILING_SKIP"), ",") // what a table costs
	for _, t := range []*ceilingTable{contacts, social, links, history, logs, retries} {
		if !slices.Contains(skip, t.name) {
			set.tables = append(set.tables, t)
			set.count += len(t.rows)
		}
	}
	return set
}

// insertRows inserts rows into t: on SQLite 256 a statement, a column
// with one value in every row bound once (store.sharedValues, the store's
// own builder); on PostgreSQL all in one, as arrays (unnest), as the
// store does.
func insertRows(ctx context.Context, tx *sql.Tx, d store.Dialect, t *ceilingTable, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if d == store.Postgres {
		return insertUnnest(ctx, tx, t, rows)
	}
	const per = 256
	for lo := 0; lo < len(rows); lo += per {
		chunk := rows[lo:min(lo+per, len(rows))]
		flat := make([]any, 0, len(chunk)*len(t.columns))
		for _, row := range chunk {
			flat = append(flat, row...)
		}
		values, args := store.SharedValues(len(t.columns), flat)
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+t.name+" ("+strings.Join(t.columns, ", ")+") VALUES "+values, args...); err != nil {
			return err
		}
	}
	return nil
}

// insertUnnest inserts rows into t in one statement, a typed array a
// column (text, bigint or boolean by the first row's value).
func insertUnnest(ctx context.Context, tx *sql.Tx, t *ceilingTable, rows [][]any) error {
	var casts []string
	var args []any
	for j := range t.columns {
		n := strconv.Itoa(j + 1)
		switch rows[0][j].(type) {
		case int, int64:
			col := make([]int64, len(rows))
			for i, row := range rows {
				switch v := row[j].(type) {
				case int:
					col[i] = int64(v)
				case int64:
					col[i] = v
				}
			}
			casts, args = append(casts, "$"+n+"::bigint[]"), append(args, col)
		case bool:
			col := make([]bool, len(rows))
			for i, row := range rows {
				col[i] = row[j].(bool)
			}
			casts, args = append(casts, "$"+n+"::boolean[]"), append(args, col)
		default:
			col := make([]*string, len(rows))
			for i, row := range rows {
				if v, ok := row[j].(string); ok {
					col[i] = &v
				}
			}
			casts, args = append(casts, "$"+n+"::text[]"), append(args, col)
		}
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO "+t.name+" ("+strings.Join(t.columns, ", ")+") SELECT * FROM unnest("+strings.Join(casts, ", ")+")", args...)
	return err
}
