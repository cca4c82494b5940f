package sfemu

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

// cdcEvent is a decoded change event header plus its replay ID.
type cdcEvent struct {
	replay int64
	typ    string
	ids    []any
	origin string
	key    string
	fields map[string]any
}

// cdcEvents decodes the org's retained change events with the schema each
// names, using an Avro library independent of the emulator's encoder.
func (e *env) cdcEvents() []cdcEvent {
	e.t.Helper()
	var out []cdcEvent
	for _, ev := range e.org.ChangeEventsAfter(-1, 1000).Events {
		js, ok := e.org.SchemaByID(ev.SchemaID)
		if !ok {
			e.t.Fatalf("event %d: schema %s unknown", ev.ReplayID, ev.SchemaID)
		}
		var m map[string]any
		if err := avro.Unmarshal(avro.MustParse(js), ev.Payload, &m); err != nil {
			e.t.Fatalf("event %d: decode: %v", ev.ReplayID, err)
		}
		h := m["ChangeEventHeader"].(map[string]any)
		ids, _ := h["recordIds"].([]any)
		out = append(out, cdcEvent{replay: ev.ReplayID, typ: h["changeType"].(string), ids: ids, origin: h["changeOrigin"].(string),
			key: h["transactionKey"].(string), fields: m})
	}
	return out
}

func (e *env) selectContactForCDC() {
	e.t.Helper()
	r := e.doToken("", "PUT", "/__emulator__/orgs/default/cdc", map[string]any{"entities": []string{"Contact"}})
	wantStatus(e.t, r, 200)
	if !strings.Contains(string(r.body), `"entities":["Contact"]`) || !strings.Contains(string(r.body), `"available":true`) {
		e.t.Fatalf("PUT cdc: got %s", r.body)
	}
}

func types(evs []cdcEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.typ)
	}
	return out
}

func TestCDC_EveryWritePathPublishes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.create(map[string]any{"LastName": "Before"}) // not selected yet: no event
	if n := len(e.cdcEvents()); n != 0 {
		t.Fatalf("before selection: got %d events, want 0", n)
	}
	e.selectContactForCDC()

	// REST, a composite request, a Bulk API 2.0 ingest job, and the side
	// door's modify, delete, undelete and merge.
	b := e.create(map[string]any{"LastName": "Rest"})
	r := e.do("POST", "composite", map[string]any{"allOrNone": true, "compositeRequest": []any{
		map[string]any{"method": "PATCH", "url": "/services/data/v62.0/sobjects/Contact/" + a, "referenceId": "u", "body": map[string]any{"Title": "CEO"}},
	}}, "Sforce-Call-Options", "client=composer")
	wantStatus(t, r, 200)
	_, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert", "lineEnding": "LF"}, "LastName\nBulk1\nBulk2\n",
		"Sforce-Call-Options", "client=bulker")
	wantCounts(t, info, 2, 0)
	wantStatus(t, e.doToken("", "PATCH", "/__emulator__/orgs/default/records/"+b, map[string]any{"Title": "CTO"}), 204)
	wantStatus(t, e.doToken("", "DELETE", "/__emulator__/orgs/default/records/"+b, nil), 204)
	wantStatus(t, e.doToken("", "POST", "/__emulator__/orgs/default/records/"+b+"/undelete", nil), 204)
	wantStatus(t, e.doToken("", "POST", "/__emulator__/orgs/default/merge", map[string]any{"master": a, "losers": []string{b}}), 200)

	got := e.cdcEvents()
	want := []string{"CREATE", "UPDATE", "CREATE", "CREATE", "UPDATE", "DELETE", "UNDELETE"}
	if len(got) < len(want) || !slices.Equal(types(got[:len(want)]), want) {
		t.Fatalf("event types: got %v, want %v then the merge's", types(got), want)
	}
	merge := types(got[len(want):])
	if !slices.Contains(merge, "DELETE") {
		t.Errorf("merge: got %v, want the loser's DELETE", merge)
	}
	origins := []string{"com/salesforce/api/rest/62.0", "com/salesforce/api/rest/62.0;client=composer",
		"com/salesforce/api/bulkapi/62.0;client=bulker", "com/salesforce/api/bulkapi/62.0;client=bulker", "", "", ""}
	for i, w := range origins {
		if got[i].origin != w {
			t.Errorf("event %d (%s): got changeOrigin %q, want %q", i, got[i].typ, got[i].origin, w)
		}
	}
	if got[2].key != got[3].key {
		t.Errorf("bulk batch: got transaction keys %s and %s, want one", got[2].key, got[3].key)
	}
	if got[5].ids[0] != b || got[6].fields["Title"] == nil {
		t.Errorf("DELETE ids %v, UNDELETE Title %v: want [%s] and all fields on UNDELETE", got[5].ids, got[6].fields["Title"], b)
	}
	for i := 1; i < len(got); i++ {
		if got[i].replay <= got[i-1].replay {
			t.Errorf("replay ids: got %d after %d, want increasing", got[i].replay, got[i-1].replay)
		}
	}
}

func TestCDC_SideDoorSettingsAndOverflow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	wantStatus(t, e.doToken("", "PUT", "/__emulator__/orgs/default/cdc", map[string]any{"entities": []string{"Opportunity"}}), 400) // Contact, Lead and Account only
	wantStatus(t, e.doToken("", "POST", "/__emulator__/orgs/default/cdc/overflow", map[string]any{}), 400)                          // not selected
	e.selectContactForCDC()
	wantStatus(t, e.doToken("", "POST", "/__emulator__/orgs/default/cdc/overflow", map[string]any{"entity": "Contact"}), 200)
	wantStatus(t, e.doToken("", "PUT", "/__emulator__/orgs/default/cdc", map[string]any{"entities": []string{"Contact"}, "gapEvents": true}), 200)
	e.create(map[string]any{"LastName": "Gap"})
	if got, want := types(e.cdcEvents()), []string{"GAP_OVERFLOW", "GAP_CREATE"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	r := e.doToken("", "GET", "/__emulator__/orgs/default/cdc/events", nil)
	wantStatus(t, r, 200)
	var list struct {
		Events []struct {
			ChangeType string   `json:"changeType"`
			RecordIDs  []string `json:"recordIds"`
		} `json:"events"`
	}
	r.json(t, &list)
	if len(list.Events) != 2 || list.Events[1].ChangeType != "GAP_CREATE" || len(list.Events[1].RecordIDs) != 1 || len(list.Events[0].RecordIDs) != 0 {
		t.Errorf("GET cdc/events: got %s", r.body)
	}
	e.org.SetEdition(Professional)
	e.create(map[string]any{"LastName": "NoCDC"})
	if got := len(e.cdcEvents()); got != 2 {
		t.Errorf("Professional edition: got %d events, want still 2", got)
	}
}

func TestCDC_SelectionSurvivesTheDataFile(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.selectContactForCDC()
	e.create(map[string]any{"LastName": "Saved"})
	path := filepath.Join(t.TempDir(), "data.json")
	e.srv.SetDataFile(path)
	if err := e.srv.Save(); err != nil {
		t.Fatal(err)
	}
	s2 := New(Options{Now: e.clock.Now})
	if err := s2.Load(path); err != nil {
		t.Fatal(err)
	}
	o2 := s2.Orgs()[0]
	if got := o2.CDCSettings().Entities; !slices.Equal(got, []string{"Contact"}) {
		t.Errorf("entities after load: got %v, want [Contact]", got)
	}
	if n := len(o2.ChangeEventsAfter(-1, 10).Events); n != 0 {
		t.Errorf("events after load: got %d, want 0 (restoring contacts publishes nothing)", n)
	}
}

func TestCDC_UpdateWithoutChangesPublishesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.selectContactForCDC()
	id := e.create(map[string]any{"LastName": "Same"})
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"LastName": "Same"}), 204)
	if err := e.org.TouchSystemModstamp(id); err != nil {
		t.Fatal(err)
	}
	if got, want := types(e.cdcEvents()), []string{"CREATE"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCDC_NewFieldNewSchemaOldEventsKeepTheirs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.selectContactForCDC()
	e.create(map[string]any{"LastName": "Before"})
	if err := e.org.AddCustomField(CustomField{Name: "Tier_Level__c", Type: "double"}); err != nil {
		t.Fatal(err)
	}
	e.create(map[string]any{"LastName": "After", "Tier_Level__c": 3, "Birthdate": "1990-05-17"})
	evs := e.org.ChangeEventsAfter(-1, 10).Events
	if len(evs) != 2 || evs[0].SchemaID == evs[1].SchemaID {
		t.Fatalf("got %d events with schemas %v, want 2 with different schemas", len(evs), evs)
	}
	got := e.cdcEvents() // decodes each with its own schema
	if got[1].fields["Tier_Level__c"] != 3.0 || got[1].fields["Birthdate"] != 7441 {
		t.Errorf("new fields: got Tier_Level__c %v (%T), Birthdate %v (%T), want 3 and 7441 (days since 1970-01-01)",
			got[1].fields["Tier_Level__c"], got[1].fields["Tier_Level__c"], got[1].fields["Birthdate"], got[1].fields["Birthdate"])
	}
	if id, _, _ := e.org.ChangeEventSchema("Contact"); id != evs[1].SchemaID {
		t.Errorf("current schema: got %s, want %s", id, evs[1].SchemaID)
	}
}

func TestCDC_CompositeAllOrNone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.selectContactForCDC()
	sub := func(ref, last string) map[string]any {
		body := map[string]any{"LastName": last}
		if last == "" {
			body = map[string]any{"Email": "not-an-email"}
		}
		return map[string]any{"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": ref, "body": body}
	}
	r := e.do("POST", "composite", map[string]any{"allOrNone": true, "compositeRequest": []any{sub("a", "One"), sub("b", "")}})
	wantStatus(t, r, 200)
	if n := len(e.cdcEvents()); n != 0 {
		t.Fatalf("rolled-back composite: got %d events, want 0", n)
	}
	wantStatus(t, e.do("POST", "composite", map[string]any{"allOrNone": true, "compositeRequest": []any{sub("a", "One"), sub("b", "Two")}}), 200)
	got := e.cdcEvents()
	if len(got) != 2 || got[0].key != got[1].key {
		t.Fatalf("committed composite: got %d events (keys %v), want 2 sharing one transactionKey", len(got), got)
	}
}
