package pubsub_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sfsync/sfsync/internal/pubsubapi/eventbusv1"
	"github.com/sfsync/sfsync/internal/sfapi"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	emu    *sfemu.Server
	svc    *pubsub.Service
	ts     *httptest.Server
	org    *sfemu.Org
	token  string
	clock  *fakeClock
	client eventbusv1.PubSubClient
}

// setup starts an emulator (REST over httptest) with one Developer org
// whose Contact is selected for CDC, and its Pub/Sub service over TLS
// with a generated certificate that the client trusts.
func setup(t *testing.T) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	emu := sfemu.New(sfemu.Options{Now: clock.Now})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	emu.SetBaseURL(ts.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{Edition: sfemu.Developer})
	if err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	if err := org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}}); err != nil {
		t.Fatalf("SetCDCSettings: %v", err)
	}
	tok, err := emu.IssueToken(org, org.Admin().Username)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	cert, certPEM, err := pubsub.SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatalf("SelfSignedCert: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := pubsub.New(emu, pubsub.Options{KeepAlive: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pubsub.Serve(ctx, lis, svc, &tls.Config{Certificates: []tls.Certificate{cert}}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &env{t: t, emu: emu, svc: svc, ts: ts, org: org, token: tok.AccessToken, clock: clock, client: eventbusv1.NewPubSubClient(conn)}
}

// ctx is a call context with the auth metadata of the env's token.
func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	e.t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "accesstoken", e.token, "instanceurl", e.ts.URL, "tenantid", e.org.ID())
}

// rest makes a REST call with Sforce-Call-Options client=sfsync.
func (e *env) rest(method, path string, body any) map[string]any {
	e.t.Helper()
	var rdr io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rdr = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+sfapi.VersionPath+"/"+path, rdr)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sforce-Call-Options", "client=sfsync")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		e.t.Fatalf("%s %s: got status %d (%s), want 2xx", method, path, res.StatusCode, b)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func (e *env) createContact(fields map[string]any) string {
	e.t.Helper()
	id, _ := e.rest("POST", "sobjects/Contact", fields)["id"].(string)
	if id == "" {
		e.t.Fatal("create: no id")
	}
	return id
}

// event is a decoded change event.
type event struct {
	replayID int64
	header   map[string]any
	fields   map[string]any
	changed  []string
	nulled   []string
}

// subscribe opens a stream and sends the first FetchRequest.
func (e *env) subscribe(req *eventbusv1.FetchRequest) eventbusv1.PubSub_SubscribeClient {
	e.t.Helper()
	st, err := e.client.Subscribe(e.ctx())
	if err != nil {
		e.t.Fatalf("Subscribe: %v", err)
	}
	if req.TopicName == "" {
		req.TopicName = pubsub.TopicContactChangeEvent
	}
	if err := st.Send(req); err != nil {
		e.t.Fatalf("Send: %v", err)
	}
	return st
}

// receive reads responses until n events arrived, decoding each with the
// schema fetched by its id.
func (e *env) receive(st eventbusv1.PubSub_SubscribeClient, n int) []event {
	e.t.Helper()
	var out []event
	for len(out) < n {
		res, err := st.Recv()
		if err != nil {
			e.t.Fatalf("Recv after %d of %d events: %v", len(out), n, err)
		}
		for _, ce := range res.Events {
			out = append(out, e.decode(ce))
		}
	}
	return out
}

func (e *env) decode(ce *eventbusv1.ConsumerEvent) event {
	e.t.Helper()
	info, err := e.client.GetSchema(e.ctx(), &eventbusv1.SchemaRequest{SchemaId: ce.Event.SchemaId})
	if err != nil {
		e.t.Fatalf("GetSchema: %v", err)
	}
	sch, err := avro.Parse(info.SchemaJson)
	if err != nil {
		e.t.Fatalf("parse schema: %v", err)
	}
	var m map[string]any
	if err := avro.Unmarshal(sch, ce.Event.Payload, &m); err != nil {
		e.t.Fatalf("decode payload: %v", err)
	}
	h := m["ChangeEventHeader"].(map[string]any)
	delete(m, "ChangeEventHeader")
	// hamba/avro decodes a union of null and a named record as a map
	// keyed by the record's full name; unwrap it.
	for k, v := range m {
		if u, ok := v.(map[string]any); ok && len(u) == 1 {
			for name, inner := range u {
				if strings.HasPrefix(name, "com.sforce.eventbus.") {
					m[k] = inner
				}
			}
		}
	}
	if len(ce.ReplayId) != 8 {
		e.t.Fatalf("replay id: got %d bytes, want 8", len(ce.ReplayId))
	}
	rec := sch.(*avro.RecordSchema)
	return event{replayID: int64(binary.BigEndian.Uint64(ce.ReplayId)), header: h, fields: m,
		changed: expandBitmap(e.t, rec, h["changedFields"]), nulled: expandBitmap(e.t, rec, h["nulledFields"])}
}

// expandBitmap decodes Salesforce's field bitmaps the way forcedotcom's
// ChangeEventHeaderUtility.py does: bit i of the hex number names
// top-level field i; "p-0x…" names the sub-fields of field p.
func expandBitmap(t *testing.T, rec *avro.RecordSchema, v any) []string {
	t.Helper()
	var out []string
	items, _ := v.([]any)
	for _, it := range items {
		s := it.(string)
		fields := rec.Fields()
		prefix := ""
		if p, hex, ok := strings.Cut(s, "-"); ok {
			i, err := strconv.Atoi(p)
			if err != nil {
				t.Fatalf("bitmap %q: %v", s, err)
			}
			parent := fields[i]
			sub := parent.Type().(*avro.UnionSchema).Types()[1].(*avro.RecordSchema)
			fields, prefix, s = sub.Fields(), parent.Name()+".", hex
		}
		if !strings.HasPrefix(s, "0x") || strings.ToUpper(s[2:]) != s[2:] {
			t.Fatalf("bitmap %q: want 0x and upper-case hex", s)
		}
		n, ok := new(big.Int).SetString(s[2:], 16)
		if !ok {
			t.Fatalf("bitmap %q: bad hex", s)
		}
		for i := 0; i < n.BitLen(); i++ {
			if n.Bit(i) == 1 {
				out = append(out, prefix+fields[i].Name())
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestSubscribe_RESTWritesArriveAsChangeEvents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	st := e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_LATEST, NumRequested: 10})
	// The first keep-alive tells us the subscription is live.
	if _, err := st.Recv(); err != nil {
		t.Fatalf("first Recv: %v", err)
	}
	id := e.createContact(map[string]any{"LastName": "Lin", "FirstName": "Mei", "Phone": "+886912345678", "MailingCity": "Taipei"})
	e.rest("PATCH", "sobjects/Contact/"+id, map[string]any{"Email": "mei@example.com", "Phone": nil, "FirstName": "May"})
	e.rest("DELETE", "sobjects/Contact/"+id, nil)
	got := e.receive(st, 3)

	wantOrigin := "com/salesforce/api/rest/" + sfapi.Version + ";client=sfsync"
	for i, want := range []string{"CREATE", "UPDATE", "DELETE"} {
		h := got[i].header
		if h["changeType"] != want || h["entityName"] != "Contact" || h["changeOrigin"] != wantOrigin {
			t.Errorf("event %d: got %v %v %q, want %s Contact %q", i, h["changeType"], h["entityName"], h["changeOrigin"], want, wantOrigin)
		}
		if ids, _ := h["recordIds"].([]any); len(ids) != 1 || ids[0] != id {
			t.Errorf("event %d: got recordIds %v, want [%s]", i, h["recordIds"], id)
		}
		if h["commitTimestamp"] != e.clock.Now().UnixMilli() {
			t.Errorf("event %d: got commitTimestamp %v, want %d", i, h["commitTimestamp"], e.clock.Now().UnixMilli())
		}
		if k, _ := h["transactionKey"].(string); len(k) != 36 || h["sequenceNumber"] != 1 {
			t.Errorf("event %d: got transactionKey %q sequenceNumber %v, want a 36-character key and 1", i, k, h["sequenceNumber"])
		}
		if i > 0 && got[i].replayID <= got[i-1].replayID {
			t.Errorf("event %d: got replay id %d after %d, want increasing", i, got[i].replayID, got[i-1].replayID)
		}
	}
	create, update, del := got[0], got[1], got[2]
	if name, _ := create.fields["Name"].(map[string]any); name["LastName"] != "Lin" || name["FirstName"] != "Mei" {
		t.Errorf("CREATE Name: got %v, want FirstName Mei, LastName Lin", create.fields["Name"])
	}
	if addr, _ := create.fields["MailingAddress"].(map[string]any); addr["City"] != "Taipei" {
		t.Errorf("CREATE MailingAddress: got %v, want City Taipei", create.fields["MailingAddress"])
	}
	if create.fields["Phone"] != "+886912345678" || len(create.changed) != 0 {
		t.Errorf("CREATE: got Phone %v changed %v, want +886912345678 and no changed fields", create.fields["Phone"], create.changed)
	}
	if want := []string{"Email", "LastModifiedDate", "Name.FirstName", "Phone"}; !slices.Equal(update.changed, want) {
		t.Errorf("UPDATE changedFields: got %v, want %v", update.changed, want)
	}
	if want := []string{"Phone"}; !slices.Equal(update.nulled, want) {
		t.Errorf("UPDATE nulledFields: got %v, want %v", update.nulled, want)
	}
	if update.fields["Email"] != "mei@example.com" || update.fields["Phone"] != nil || update.fields["Title"] != nil {
		t.Errorf("UPDATE values: got Email %v Phone %v Title %v, want mei@example.com, nil, nil", update.fields["Email"], update.fields["Phone"], update.fields["Title"])
	}
	if update.fields["LastModifiedDate"] != e.clock.Now().UnixMilli() {
		t.Errorf("UPDATE LastModifiedDate: got %v, want %d (epoch ms)", update.fields["LastModifiedDate"], e.clock.Now().UnixMilli())
	}
	for k, v := range del.fields {
		if v != nil {
			t.Errorf("DELETE: got %s = %v, want header only", k, v)
		}
	}
	// The last top-level field index the bitmap can name matches the schema.
	if strings.Contains(strings.Join(update.changed, ","), "ChangeEventHeader") {
		t.Errorf("changedFields named the header: %v", update.changed)
	}
}

func TestSubscribe_ReplayFromStoredID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, n := range []string{"A", "B", "C"} {
		e.createContact(map[string]any{"LastName": n})
	}
	all := e.receive(e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_EARLIEST, NumRequested: 100}), 3)
	st := e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_CUSTOM, ReplayId: pubsub.EncodeReplayID(all[0].replayID), NumRequested: 100})
	got := e.receive(st, 2)
	for i, ev := range got {
		name := ev.fields["Name"].(map[string]any)["LastName"]
		if want := []string{"B", "C"}[i]; name != want || ev.replayID != all[i+1].replayID {
			t.Errorf("replayed event %d: got %v (replay id %d), want %s (%d)", i, name, ev.replayID, want, all[i+1].replayID)
		}
	}
}

func TestSubscribe_FlowControlByNumRequested(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for range 5 {
		e.createContact(map[string]any{"LastName": "X"})
	}
	st := e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_EARLIEST, NumRequested: 2})
	res, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 || res.PendingNumRequested != 0 {
		t.Fatalf("first response: got %d events, pending %d, want 2 and 0", len(res.Events), res.PendingNumRequested)
	}
	// With nothing requested the server owes nothing: the next message is
	// a keep-alive with no events, carrying the position delivered so far.
	res, err = st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 0 || len(res.LatestReplayId) != 8 {
		t.Fatalf("keep-alive: got %d events, latest_replay_id %x, want none and 8 bytes", len(res.Events), res.LatestReplayId)
	}
	if err := st.Send(&eventbusv1.FetchRequest{NumRequested: 3}); err != nil {
		t.Fatal(err)
	}
	if got := e.receive(st, 3); len(got) != 3 {
		t.Fatalf("after top-up: got %d events, want 3", len(got))
	}
}

func TestSubscribe_KeepAliveCarriesLatestReplayID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.createContact(map[string]any{"LastName": "Old"})
	all := e.receive(e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_EARLIEST, NumRequested: 1}), 1)
	st := e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_LATEST, NumRequested: 100})
	res, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 0 || int64(binary.BigEndian.Uint64(res.LatestReplayId)) != all[0].replayID {
		t.Fatalf("keep-alive: got %d events, latest %x, want none and %d", len(res.Events), res.LatestReplayId, all[0].replayID)
	}
}

func TestSubscribe_TransactionsAndSideDoor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	st := e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_EARLIEST, NumRequested: 100})
	// An all-or-none collection that fails publishes nothing; one that
	// succeeds publishes one event per record in one transaction.
	req := map[string]any{"allOrNone": true, "records": []any{
		map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "Ok"},
		map[string]any{"attributes": map[string]any{"type": "Contact"}, "Email": "no-last-name@example.com"},
	}}
	body, _ := json.Marshal(req)
	hreq, _ := http.NewRequest("POST", e.ts.URL+sfapi.VersionPath+"/composite/sobjects", bytes.NewReader(body))
	hreq.Header.Set("Authorization", "Bearer "+e.token)
	hreq.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	req["records"] = []any{
		map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "One"},
		map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "Two"},
	}
	e.rest("POST", "composite/sobjects", req)
	id, err := e.org.CreateAsHuman(map[string]any{"LastName": "Human"})
	if err != nil {
		t.Fatal(err)
	}
	got := e.receive(st, 3)
	k0, k1 := got[0].header["transactionKey"], got[1].header["transactionKey"]
	if k0 != k1 || got[0].header["sequenceNumber"] != 1 || got[1].header["sequenceNumber"] != 2 {
		t.Errorf("collection: got keys %v %v sequence %v %v, want one key and 1, 2", k0, k1, got[0].header["sequenceNumber"], got[1].header["sequenceNumber"])
	}
	for i, want := range []string{"One", "Two", "Human"} {
		if name := got[i].fields["Name"].(map[string]any)["LastName"]; name != want {
			t.Errorf("event %d: got LastName %v, want %s (a rolled-back write must publish nothing)", i, name, want)
		}
	}
	if h := got[2].header; h["changeOrigin"] != "" || h["recordIds"].([]any)[0] != id || h["transactionKey"] == k0 {
		t.Errorf("side-door create: got origin %q ids %v key %v, want empty origin, [%s], a new key", h["changeOrigin"], h["recordIds"], h["transactionKey"], id)
	}
}

func TestSubscribe_GapAndOverflowSwitches(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.createContact(map[string]any{"LastName": "Gap"})
	if err := e.org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}, GapEvents: true}); err != nil {
		t.Fatal(err)
	}
	e.rest("PATCH", "sobjects/Contact/"+id, map[string]any{"Title": "CTO"})
	if err := e.org.PublishGapOverflow("Contact"); err != nil {
		t.Fatal(err)
	}
	got := e.receive(e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_EARLIEST, NumRequested: 100}), 3)
	for i, want := range []string{"CREATE", "GAP_UPDATE", "GAP_OVERFLOW"} {
		if got[i].header["changeType"] != want {
			t.Errorf("event %d: got %v, want %s", i, got[i].header["changeType"], want)
		}
	}
	if got[1].fields["Title"] != nil || len(got[1].changed) != 0 {
		t.Errorf("GAP_UPDATE: got Title %v changed %v, want a header-only event", got[1].fields["Title"], got[1].changed)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.createContact(map[string]any{"LastName": "Old"})
	trailerCode := func(md metadata.MD) string {
		if v := md.Get("error-code"); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	md := func(tok, tenant string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "accesstoken", tok, "instanceurl", e.ts.URL, "tenantid", tenant)
	}
	tests := []struct {
		name     string
		ctx      context.Context
		topic    string
		code     codes.Code
		errCode  string
		contains string
	}{
		{"bad token", md("nope", e.org.ID()), pubsub.TopicContactChangeEvent, codes.Unauthenticated, pubsub.ErrCodeAuth, "Provide valid authentication via metadata headers"},
		{"other tenant", md(e.token, "00D000000000001AAA"), pubsub.TopicContactChangeEvent, codes.Unauthenticated, pubsub.ErrCodeAuth, "authentication exception"},
		{"unknown topic", e.ctx(), "/data/LeadChangeEvent", codes.NotFound, pubsub.ErrCodeTopicNotFound, "topic /data/LeadChangeEvent not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trailer metadata.MD
			_, err := e.client.GetTopic(tt.ctx, &eventbusv1.TopicRequest{TopicName: tt.topic}, grpc.Trailer(&trailer))
			if status.Code(err) != tt.code || trailerCode(trailer) != tt.errCode || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("GetTopic: got %v (error-code %q), want %v %q containing %q", err, trailerCode(trailer), tt.code, tt.errCode, tt.contains)
			}
		})
	}

	subErr := func(req *eventbusv1.FetchRequest) (error, string) {
		st := e.subscribe(req)
		_, err := st.Recv()
		return err, trailerCode(st.Trailer())
	}
	t.Run("corrupted replay id", func(t *testing.T) {
		err, code := subErr(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_CUSTOM, ReplayId: []byte{1, 2, 3}, NumRequested: 1})
		if status.Code(err) != codes.InvalidArgument || code != pubsub.ErrCodeReplayIDCorrupt {
			t.Errorf("got %v (%q), want InvalidArgument %q", err, code, pubsub.ErrCodeReplayIDCorrupt)
		}
	})
	t.Run("replay id past retention", func(t *testing.T) {
		first := e.receive(e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_EARLIEST, NumRequested: 1}), 1)[0]
		e.clock.Advance(sfemu.ChangeEventRetention + time.Hour)
		tok, err := e.emu.IssueToken(e.org, e.org.Admin().Username) // the old one expired
		if err != nil {
			t.Fatal(err)
		}
		e.token = tok.AccessToken
		e.createContact(map[string]any{"LastName": "New"})
		err, code := subErr(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_CUSTOM, ReplayId: pubsub.EncodeReplayID(first.replayID - 1), NumRequested: 1})
		if status.Code(err) != codes.InvalidArgument || code != pubsub.ErrCodeReplayIDInvalid {
			t.Errorf("got %v (%q), want InvalidArgument %q", err, code, pubsub.ErrCodeReplayIDInvalid)
		}
		// EARLIEST now starts after the purged event.
		if got := e.receive(e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_EARLIEST, NumRequested: 1}), 1)[0]; got.fields["Name"].(map[string]any)["LastName"] != "New" {
			t.Errorf("EARLIEST after purge: got %v, want the New contact", got.fields["Name"])
		}
	})
}

func TestGetTopic_CDCAvailabilityAndSelection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	info, err := e.client.GetTopic(e.ctx(), &eventbusv1.TopicRequest{TopicName: pubsub.TopicChangeEvents})
	if err != nil || !info.CanSubscribe || info.CanPublish || info.SchemaId == "" || info.TenantGuid != e.org.ID() {
		t.Fatalf("GetTopic: got %v, %v, want a subscribable topic with a schema id", info, err)
	}
	e.org.SetEdition(sfemu.Professional)
	if _, err := e.client.GetTopic(e.ctx(), &eventbusv1.TopicRequest{TopicName: pubsub.TopicContactChangeEvent}); status.Code(err) != codes.NotFound {
		t.Errorf("Professional edition: got %v, want NotFound (no Change Data Capture)", err)
	}
	e.org.SetEdition(sfemu.Enterprise)
	if err := e.org.SetCDCSettings(sfemu.CDCSettings{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetTopic(e.ctx(), &eventbusv1.TopicRequest{TopicName: pubsub.TopicContactChangeEvent}); status.Code(err) != codes.NotFound {
		t.Errorf("Contact not selected: got %v, want NotFound", err)
	}
	e.createContact(map[string]any{"LastName": "Unselected"})
	if l := e.org.ChangeEventsAfter(-1, 10); len(l.Events) != 0 {
		t.Errorf("Contact not selected: got %d events, want none", len(l.Events))
	}
}

func TestDropStreams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	st := e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_LATEST, NumRequested: 1})
	if _, err := st.Recv(); err != nil { // keep-alive: the stream is registered
		t.Fatal(err)
	}
	if n := e.svc.DropStreams(); n != 1 {
		t.Fatalf("DropStreams: got %d, want 1", n)
	}
	if _, err := st.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("after drop: got %v, want Unavailable", err)
	}
}

func TestSubscribe_TopicMismatchInALaterRequest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	st := e.subscribe(&eventbusv1.FetchRequest{ReplayPreset: eventbusv1.ReplayPreset_LATEST, NumRequested: 1})
	if err := st.Send(&eventbusv1.FetchRequest{TopicName: pubsub.TopicChangeEvents, NumRequested: 1}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := st.Recv()
		if err == nil {
			continue // a keep-alive before the request was read
		}
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("got %v, want InvalidArgument", err)
		}
		return
	}
}

func TestGetTopic_LeadAndAccountChannels(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, topic := range []string{pubsub.TopicLeadChangeEvent, pubsub.TopicAccountChangeEvent, "/data/OpportunityChangeEvent"} {
		if _, err := e.client.GetTopic(e.ctx(), &eventbusv1.TopicRequest{TopicName: topic}); status.Code(err) != codes.NotFound {
			t.Errorf("%s not selected: got %v, want NotFound", topic, err)
		}
	}
	if err := e.org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Lead", "Account"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ topic, entity string }{{pubsub.TopicLeadChangeEvent, "Lead"}, {pubsub.TopicAccountChangeEvent, "Account"}} {
		info, err := e.client.GetTopic(e.ctx(), &eventbusv1.TopicRequest{TopicName: c.topic})
		if err != nil {
			t.Fatalf("%s: %v", c.topic, err)
		}
		id, _, _ := e.org.ChangeEventSchema(c.entity)
		if info.SchemaId != id {
			t.Errorf("%s schema: got %s, want %s", c.topic, info.SchemaId, id)
		}
	}
	if _, err := e.client.GetTopic(e.ctx(), &eventbusv1.TopicRequest{TopicName: "/data/OpportunityChangeEvent"}); status.Code(err) != codes.NotFound {
		t.Errorf("Opportunity: got %v, want NotFound", err)
	}
}
