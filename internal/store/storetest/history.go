package storetest

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
)

// testFieldHistoryStorage checks that recorded writes read back as they
// were written whatever form they are stored in: the compact one of a
// write whose changes share a side and the created flag (issue 14: a
// first sync's every entry), the array of any other write, and the array
// rows written before, with '>' escaped.
func testFieldHistoryStorage(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	created := []store.FieldChange{
		{Key: "identity:Member_Number__c>member_id", SFField: "Member_Number__c", Side: "salesforce", Value: "M1", Created: true},
		{Key: "field:Email>email", SFField: "Email", Side: "salesforce", Value: nil, Created: true},
		{Key: "name:FirstName+LastName>name/first_last", SFField: "LastName", Side: "salesforce", Value: "Lin Mei", Created: true},
	}
	mixed := []store.FieldChange{
		{Key: "field:LastName>name", SFField: "LastName", Side: "salesforce", Value: "Lin", Old: "Lim"},
		{Key: "field:MobilePhone>phone", SFField: "MobilePhone", Side: "platform", Value: "+886912345678", Old: "+886900000000", Rule: "conflict_newest_wins"},
	}
	one := []store.FieldChange{{Key: "field:LastName>name", SFField: "LastName", Side: "platform", Value: "Lin"}}
	if err := s.Tx(ctx, func(tx *sql.Tx) error {
		return s.AddFieldHistoryTx(ctx, tx, a.ID, []store.FieldHistoryEntry{
			{ContactID: "c_1", SalesforceID: "003A", RunID: 1, Direction: "to_platform", Changes: created},
			{ContactID: "c_1", SalesforceID: "003A", RunID: 2, Direction: "to_platform", Changes: mixed},
			{ContactID: "c_1", SalesforceID: "003A", RunID: 3, Direction: "to_salesforce", Changes: one},
		})
	}); err != nil {
		t.Fatal(err)
	}
	old := `[{"k":"field:LastName\u003ename","f":"LastName","s":"salesforce","v":"Old","c":true}]`
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO field_history (tenant_id, contact_id, salesforce_id, run_id, direction, at, changes)
		VALUES ($1, 'c_1', '003A', 4, 'to_platform', $2, $3)`, a.ID, now.UnixMicro(), old); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.DB.QueryRowContext(ctx, `SELECT changes FROM field_history WHERE run_id = 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Count(stored, `"salesforce"`) != 1 || strings.Contains(stored, `\u003e`) {
		t.Errorf("a created contact's changes stored as %s, want the side once and '>' unescaped", stored)
	}
	// The field a key names is not stored again, nor an empty side; a
	// field the key does not name as such is.
	if strings.Contains(stored, `"f":"Member_Number__c"`) || strings.Contains(stored, `"s":""`) || !strings.Contains(stored, `"f":"LastName"`) {
		t.Errorf("a created contact's changes stored as %s, want no field its key names, no empty side, the name mapping's field kept", stored)
	}
	got, err := s.FieldHistory(ctx, a.ID, "c_1", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]store.FieldChange{
		{{Key: "field:LastName>name", SFField: "LastName", Side: "salesforce", Value: "Old", Created: true}},
		one, mixed, created,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i, e := range got {
		if !reflect.DeepEqual(e.Changes, want[i]) {
			t.Errorf("entry %d (run %d): got %+v, want %+v", i, e.RunID, e.Changes, want[i])
		}
	}
}
