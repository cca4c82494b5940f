package cdc_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce/cdc"
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
	ts     *httptest.Server
	org    *sfemu.Org
	clock  *fakeClock
	client *cdc.Client
	creds  cdc.Credentials
}

// setup runs the emulator (REST and its Pub/Sub service over TLS) with
// Contact selected for CDC, and a cdc.Client that trusts its certificate.
func setup(t *testing.T) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	emu := sfemu.New(sfemu.Options{Now: clock.Now})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	emu.SetBaseURL(ts.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{Edition: sfemu.Enterprise})
	if err != nil {
		t.Fatal(err)
	}
	if err := org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}}); err != nil {
		t.Fatal(err)
	}
	tok, err := emu.IssueToken(org, org.Admin().Username)
	if err != nil {
		t.Fatal(err)
	}
	cert, certPEM, err := pubsub.SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- pubsub.Serve(ctx, lis, pubsub.New(emu, pubsub.Options{KeepAlive: 200 * time.Millisecond}), &tls.Config{Certificates: []tls.Certificate{cert}})
	}()
	t.Cleanup(func() { cancel(); <-done })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client, err := cdc.Dial(cdc.Config{Endpoint: lis.Addr().String(), TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return &env{t: t, emu: emu, ts: ts, org: org, clock: clock, client: client,
		creds: cdc.Credentials{AccessToken: tok.AccessToken, InstanceURL: ts.URL, TenantID: org.ID()}}
}

func (e *env) rest(method, path string, body any) string {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.ts.URL+sfapi.VersionPath+"/"+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+e.creds.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sforce-Call-Options", "client=sfsync")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		e.t.Fatalf("%s %s: got %d %s", method, path, res.StatusCode, out)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	id, _ := m["id"].(string)
	return id
}

var errEnough = errors.New("enough")

// collect subscribes until n events arrived.
func (e *env) collect(from cdc.From, n int) []cdc.Event {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []cdc.Event
	err := e.client.Subscribe(ctx, e.creds, cdc.TopicContactChangeEvent, from, func(_ context.Context, b cdc.Batch) error {
		got = append(got, b.Events...)
		if len(got) >= n {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		e.t.Fatalf("Subscribe: got %v after %d events, want %d events", err, len(got), n)
	}
	return got
}

func TestSubscribe_DecodesEventsAndResumes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.rest("POST", "sobjects/Contact", map[string]any{"LastName": "Lin", "FirstName": "Mei", "Phone": "+886912345678", "MailingCity": "Taipei"})
	e.rest("PATCH", "sobjects/Contact/"+id, map[string]any{"Email": "mei@example.com", "Phone": nil, "MailingCity": "Tainan"})
	got := e.collect(cdc.From{Earliest: true}, 2)

	c, u := got[0], got[1]
	if c.Type != cdc.Create || c.Entity != "Contact" || !slices.Equal(c.RecordIDs, []string{id}) || c.Client() != "sfsync" {
		t.Errorf("CREATE: got %s %s %v client %q, want CREATE Contact [%s] sfsync", c.Type, c.Entity, c.RecordIDs, c.Client(), id)
	}
	if c.Fields["FirstName"] != "Mei" || c.Fields["MailingCity"] != "Taipei" || c.Fields["Phone"] != "+886912345678" {
		t.Errorf("CREATE fields: got %v, want FirstName, MailingCity and Phone by REST name", c.Fields)
	}
	for _, name := range []string{"FirstName", "LastName", "MailingCity", "Email", "LastModifiedDate"} {
		if !slices.Contains(c.SchemaFields, name) {
			t.Errorf("SchemaFields: %s missing from %v", name, c.SchemaFields)
		}
	}
	for _, name := range []string{"ChangeEventHeader", "Name", "MailingAddress", "SystemModstamp", "entityName"} {
		if slices.Contains(c.SchemaFields, name) {
			t.Errorf("SchemaFields: got %s, want only REST field names the event carries", name)
		}
	}
	if !c.CommitTimestamp.Equal(e.clock.Now()) {
		t.Errorf("CommitTimestamp: got %v, want %v", c.CommitTimestamp, e.clock.Now())
	}
	slices.Sort(u.ChangedFields)
	if want := []string{"Email", "LastModifiedDate", "MailingCity", "Phone"}; !slices.Equal(u.ChangedFields, want) {
		t.Errorf("UPDATE ChangedFields: got %v, want %v", u.ChangedFields, want)
	}
	if !slices.Equal(u.NulledFields, []string{"Phone"}) || u.Fields["Email"] != "mei@example.com" || u.Fields["LastName"] != nil {
		t.Errorf("UPDATE: got nulled %v fields %v, want [Phone] and only changed values", u.NulledFields, u.Fields)
	}

	// A restarted subscriber resumes after its stored replay ID.
	e.rest("DELETE", "sobjects/Contact/"+id, nil)
	resumed := e.collect(cdc.From{ReplayID: c.ReplayID}, 2)
	if resumed[0].Type != cdc.Update || resumed[1].Type != cdc.Delete || !bytes.Equal(resumed[0].ReplayID, u.ReplayID) {
		t.Errorf("resumed: got %s, %s, want UPDATE (replay id %x) then DELETE", resumed[0].Type, resumed[1].Type, u.ReplayID)
	}
}

func TestSubscribe_KeepAliveBatchCarriesReplayID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b cdc.Batch
	err := e.client.Subscribe(ctx, e.creds, cdc.TopicContactChangeEvent, cdc.From{}, func(_ context.Context, got cdc.Batch) error {
		b = got
		return errEnough
	})
	if !errors.Is(err, errEnough) || len(b.Events) != 0 || len(b.LatestReplayID) != 8 {
		t.Fatalf("got %v, %d events, latest %x; want a keep-alive batch with an 8-byte replay id", err, len(b.Events), b.LatestReplayID)
	}
}

// before is the replay id just before id: a position whose next event
// was purged. (Only a test may do arithmetic on the emulator's ids.)
func before(id []byte) []byte {
	return pubsub.EncodeReplayID(int64(binary.BigEndian.Uint64(id)) - 1)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	bad := e.creds
	bad.AccessToken = "expired"
	if err := e.client.CheckTopic(ctx, bad, cdc.TopicContactChangeEvent); !errors.Is(err, cdc.ErrUnauthenticated) {
		t.Errorf("bad token: got %v, want ErrUnauthenticated", err)
	}
	if err := e.client.CheckTopic(ctx, e.creds, cdc.TopicContactChangeEvent); err != nil {
		t.Errorf("CheckTopic: got %v, want nil", err)
	}
	id := e.rest("POST", "sobjects/Contact", map[string]any{"LastName": "Old"})
	old := e.collect(cdc.From{Earliest: true}, 1)[0]
	e.clock.Advance(sfemu.ChangeEventRetention + time.Hour)
	tok, err := e.emu.IssueToken(e.org, e.org.Admin().Username)
	if err != nil {
		t.Fatal(err)
	}
	e.creds.AccessToken = tok.AccessToken
	e.rest("PATCH", "sobjects/Contact/"+id, map[string]any{"Title": "new"})
	err = e.client.Subscribe(ctx, e.creds, cdc.TopicContactChangeEvent, cdc.From{ReplayID: before(old.ReplayID)}, func(context.Context, cdc.Batch) error { return nil })
	if !errors.Is(err, cdc.ErrReplayIDInvalid) {
		t.Errorf("replay id past retention: got %v, want ErrReplayIDInvalid", err)
	}
	// The old event's own id is still a valid place to resume: the next
	// event is retained, nothing was lost.
	if got := e.collect(cdc.From{ReplayID: old.ReplayID}, 1); got[0].Type != cdc.Update {
		t.Errorf("resume at the purged event: got %s, want the retained UPDATE", got[0].Type)
	}
	e.org.SetEdition(sfemu.Professional)
	if err := e.client.CheckTopic(ctx, e.creds, cdc.TopicContactChangeEvent); !errors.Is(err, cdc.ErrTopicNotFound) {
		t.Errorf("Professional edition: got %v, want ErrTopicNotFound", err)
	}
}

// TestSubscribe_MergesResponsesThatWaited: responses that arrive while the
// handler is busy are handed over as one batch, so a subscriber that
// falls behind applies its backlog in few batches, not one per event.
func TestSubscribe_MergesResponsesThatWaited(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first := make(chan struct{})
	release := make(chan struct{})
	var batches []cdc.Batch
	done := make(chan error, 1)
	go func() {
		done <- e.client.Subscribe(ctx, e.creds, cdc.TopicContactChangeEvent, cdc.From{Earliest: true}, func(_ context.Context, b cdc.Batch) error {
			if len(b.Events) == 0 {
				return nil // keep-alive
			}
			batches = append(batches, b)
			if len(batches) == 1 {
				close(first)
				<-release // busy: the next responses wait
			}
			n := 0
			for _, b := range batches {
				n += len(b.Events)
			}
			if n >= 4 {
				return errEnough
			}
			return nil
		})
	}()
	e.rest("POST", "sobjects/Contact", map[string]any{"LastName": "One"})
	select {
	case <-first:
	case err := <-done:
		t.Fatalf("Subscribe ended before the first batch: %v", err)
	}
	// Three more writes, each its own FetchResponse (the server sends as
	// soon as an event is published).
	for _, name := range []string{"Two", "Three", "Four"} {
		e.rest("POST", "sobjects/Contact", map[string]any{"LastName": name})
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // for the client to have read them
	close(release)
	if err := <-done; !errors.Is(err, errEnough) {
		t.Fatalf("Subscribe: got %v, want errEnough", err)
	}
	if len(batches) != 2 || len(batches[1].Events) != 3 {
		sizes := []int{}
		for _, b := range batches {
			sizes = append(sizes, len(b.Events))
		}
		t.Fatalf("batch sizes: got %v, want [1 3] (the three that waited, as one)", sizes)
	}
	if last := batches[1].Events[2]; !bytes.Equal(batches[1].LatestReplayID, last.ReplayID) {
		t.Errorf("merged batch's latest replay id: got %x, want its last event's %x", batches[1].LatestReplayID, last.ReplayID)
	}
}
