// Package cdc is the Change Data Capture client: it subscribes to a
// change event channel (e.g. /data/ContactChangeEvent) over Salesforce's
// Pub/Sub API (gRPC), resumes from a stored replay ID, and yields decoded
// events: the ChangeEventHeader with its field bitmaps expanded to field
// names, and the changed values under their REST field names.
//
// It is separate from package salesforce so that the REST client does not
// carry gRPC; the engine's syncer.Streamer holds the subscriptions.
package cdc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sfsync/sfsync/internal/pubsubapi/eventbusv1"
)

// DefaultEndpoint is Salesforce's Pub/Sub API endpoint.
const DefaultEndpoint = "api.pubsub.salesforce.com:7443"

// TopicContactChangeEvent is the channel of Contact change events.
const TopicContactChangeEvent = "/data/ContactChangeEvent"

// TopicFor is the change event channel of a standard object, e.g.
// "/data/LeadChangeEvent" for Lead (Person Accounts' changes come on
// Account's channel).
func TopicFor(object string) string { return "/data/" + object + "ChangeEvent" }

// batchSize is how many events the client keeps requested; 100 is the
// most Salesforce allows outstanding on one stream.
const batchSize = 100

// Credentials are what every call carries as metadata.
type Credentials struct {
	AccessToken string
	InstanceURL string
	TenantID    string // the 18-character org id
}

// Config configures a Client.
type Config struct {
	Endpoint string      // DefaultEndpoint when empty
	TLS      *tls.Config // system roots when nil
}

// Sentinel errors, matched with errors.Is on an *Error.
var (
	// ErrUnauthenticated: the access token is bad or expired; refresh it
	// and resubscribe from the last replay ID.
	ErrUnauthenticated = errors.New("cdc: unauthenticated")
	// ErrTopicNotFound: the org has no such channel — Change Data Capture
	// is not in its edition, or the entity is not selected in Setup.
	ErrTopicNotFound = errors.New("cdc: topic not found")
	// ErrReplayIDInvalid: the stored replay ID is past retention or
	// corrupted; catch up by polling, then subscribe from LATEST.
	ErrReplayIDInvalid = errors.New("cdc: replay id invalid")
)

// Error is a failed Pub/Sub call: the gRPC status and Salesforce's
// error-code trailer.
type Error struct {
	Code      codes.Code
	ErrorCode string // e.g. sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed
	Message   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cdc: %s: %s (%s)", e.Code, e.Message, e.ErrorCode)
}

// Is matches the sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthenticated:
		return e.Code == codes.Unauthenticated
	case ErrTopicNotFound:
		return e.Code == codes.NotFound && !strings.Contains(e.ErrorCode, "schema")
	case ErrReplayIDInvalid:
		return strings.Contains(e.ErrorCode, ".replayid.")
	}
	return false
}

func wrapErr(err error, trailer metadata.MD) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK || st.Code() == codes.Canceled && errors.Is(err, context.Canceled) {
		return err
	}
	e := &Error{Code: st.Code(), Message: st.Message()}
	if v := trailer.Get("error-code"); len(v) > 0 {
		e.ErrorCode = v[0]
	}
	return e
}

// Client is a Pub/Sub API connection. It is safe for concurrent use.
type Client struct {
	conn *grpc.ClientConn
	api  eventbusv1.PubSubClient

	mu      sync.Mutex
	schemas map[string]*schema // by schema id
}

// Dial connects (lazily, as gRPC does) to the Pub/Sub endpoint over TLS.
func Dial(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	tc := cfg.TLS
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	conn, err := grpc.NewClient(cfg.Endpoint, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		return nil, fmt.Errorf("cdc: dial %s: %w", cfg.Endpoint, err)
	}
	return &Client{conn: conn, api: eventbusv1.NewPubSubClient(conn), schemas: map[string]*schema{}}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func withCreds(ctx context.Context, cr Credentials) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "accesstoken", cr.AccessToken, "instanceurl", cr.InstanceURL, "tenantid", cr.TenantID)
}

// CheckTopic reports whether topic can be subscribed to: nil, or an error
// matching ErrTopicNotFound when the org does not publish it.
func (c *Client) CheckTopic(ctx context.Context, cr Credentials, topic string) error {
	var tr metadata.MD
	info, err := c.api.GetTopic(withCreds(ctx, cr), &eventbusv1.TopicRequest{TopicName: topic}, grpc.Trailer(&tr))
	if err != nil {
		return wrapErr(err, tr)
	}
	if !info.GetCanSubscribe() {
		return &Error{Code: codes.PermissionDenied, Message: "the user may not subscribe to " + topic}
	}
	return nil
}

// ChangeType is ChangeEventHeader.changeType.
type ChangeType string

// Change types; GAP_* and GAP_OVERFLOW mean "re-read by polling".
const (
	Create      ChangeType = "CREATE"
	Update      ChangeType = "UPDATE"
	Delete      ChangeType = "DELETE"
	Undelete    ChangeType = "UNDELETE"
	GapOverflow ChangeType = "GAP_OVERFLOW"
)

// IsGap reports whether the event carries no detail (GAP_* events).
func (t ChangeType) IsGap() bool { return strings.HasPrefix(string(t), "GAP_") }

// Event is one decoded change event.
type Event struct {
	ReplayID        []byte // opaque; store it and resume from it
	Entity          string
	Type            ChangeType
	RecordIDs       []string
	ChangeOrigin    string // "com/salesforce/api/rest/62.0;client=sfsync", "" for UI edits
	TransactionKey  string
	SequenceNumber  int
	CommitTimestamp time.Time
	CommitUser      string
	// ChangedFields, NulledFields and DiffFields are REST field names
	// (Name.FirstName → FirstName, MailingAddress.City → MailingCity).
	ChangedFields, NulledFields, DiffFields []string
	// Fields holds the event's non-null values by REST field name; an
	// UPDATE carries only changed fields (a field set to null is in
	// NulledFields, not here).
	Fields map[string]any
	// SchemaFields are the REST names of every field the event's schema
	// carries (shared by the events of one schema; do not modify): a
	// CREATE's or UNDELETE's field named here but absent from Fields is
	// null, one not named here (a formula, a field CDC leaves out) is
	// unknown.
	SchemaFields []string
}

// Client returns the client= part of ChangeOrigin ("sfsync"), "" if none:
// compare that, not the whole origin, whose API name and version vary.
func (e Event) Client() string {
	_, rest, ok := strings.Cut(e.ChangeOrigin, ";client=")
	if !ok {
		return ""
	}
	c, _, _ := strings.Cut(rest, ";")
	return c
}

// Batch is what one FetchResponse brought: events (none for a
// keep-alive) and the replay ID to store once they are applied.
type Batch struct {
	Events         []Event
	LatestReplayID []byte
}

// From says where a subscription starts.
type From struct {
	ReplayID []byte // resume after this stored id; nil: see Earliest
	Earliest bool   // without ReplayID: all retained events (else only new ones)
}

// Subscribe streams topic's events to handle until ctx ends or the stream
// fails; handle's error ends it too. Store Batch.LatestReplayID after
// handle has applied a batch: delivery is at least once.
//
// The stream is read ahead of handle: FetchResponses that arrive while a
// batch is being handled wait, decoded, and are handed over together as
// one batch (at most MaxBatch events) the next time. A subscriber that
// keeps up gets each response as it comes; one that falls behind gets
// larger batches, so its cost per event falls as its backlog grows.
func (c *Client) Subscribe(ctx context.Context, cr Credentials, topic string, from From, handle func(context.Context, Batch) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.api.Subscribe(withCreds(ctx, cr))
	if err != nil {
		return wrapErr(err, nil)
	}
	req := &eventbusv1.FetchRequest{TopicName: topic, NumRequested: batchSize, ReplayPreset: eventbusv1.ReplayPreset_LATEST}
	switch {
	case from.ReplayID != nil:
		req.ReplayPreset, req.ReplayId = eventbusv1.ReplayPreset_CUSTOM, from.ReplayID
	case from.Earliest:
		req.ReplayPreset = eventbusv1.ReplayPreset_EARLIEST
	}
	if err := st.Send(req); err != nil {
		return wrapErr(err, st.Trailer())
	}
	batches := make(chan Batch, readAhead)
	var recvErr error
	go func() {
		defer close(batches)
		recvErr = c.receive(ctx, cr, st, topic, batches)
	}()
	for b := range batches {
		b = merge(b, batches)
		if err := handle(ctx, b); err != nil {
			cancel()
			for range batches { // the receiver stops with ctx
			}
			return err
		}
	}
	return recvErr
}

// readAhead is how many FetchResponses a subscription holds decoded while
// its handler is busy; then it stops reading, and gRPC's flow control
// holds the server back.
const readAhead = 8

// MaxBatch is the most events Subscribe hands over at once.
const MaxBatch = 1000

// merge appends to b the batches already waiting, up to MaxBatch events.
func merge(b Batch, waiting <-chan Batch) Batch {
	for len(b.Events) < MaxBatch {
		select {
		case nb, ok := <-waiting:
			if !ok {
				return b
			}
			b.Events = append(b.Events, nb.Events...)
			if nb.LatestReplayID != nil {
				b.LatestReplayID = nb.LatestReplayID
			}
		default:
			return b
		}
	}
	return b
}

// receive reads and decodes FetchResponses into out until the stream or
// ctx ends, keeping the server's num_requested topped up.
func (c *Client) receive(ctx context.Context, cr Credentials, st eventbusv1.PubSub_SubscribeClient, topic string, out chan<- Batch) error {
	for {
		res, err := st.Recv()
		if err != nil {
			return wrapErr(err, st.Trailer())
		}
		b := Batch{LatestReplayID: res.GetLatestReplayId()}
		for _, ce := range res.GetEvents() {
			ev, err := c.decode(ctx, cr, ce)
			if err != nil {
				return err
			}
			b.Events = append(b.Events, ev)
		}
		if len(b.Events) > 0 {
			b.LatestReplayID = b.Events[len(b.Events)-1].ReplayID
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		// Top up so the server never runs dry while we keep up.
		if pending := res.GetPendingNumRequested(); pending < batchSize/2 {
			if err := st.Send(&eventbusv1.FetchRequest{TopicName: topic, NumRequested: batchSize - pending}); err != nil {
				return wrapErr(err, st.Trailer())
			}
		}
	}
}

// --- schemas and decoding ---

type schema struct {
	avro avro.Schema
	top  []avro.Field
	// rest maps an Avro field path ("Name.FirstName") to the REST field
	// name ("FirstName").
	rest map[string]string
	// names are the REST names of every field the schema carries.
	names []string
}

func (c *Client) schema(ctx context.Context, cr Credentials, id string) (*schema, error) {
	c.mu.Lock()
	s, ok := c.schemas[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	var tr metadata.MD
	info, err := c.api.GetSchema(withCreds(ctx, cr), &eventbusv1.SchemaRequest{SchemaId: id}, grpc.Trailer(&tr))
	if err != nil {
		return nil, wrapErr(err, tr)
	}
	parsed, err := avro.Parse(info.GetSchemaJson())
	if err != nil {
		return nil, fmt.Errorf("cdc: schema %s: %w", id, err)
	}
	rec, ok := parsed.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("cdc: schema %s is not a record", id)
	}
	s = &schema{avro: parsed, top: fieldsOf(rec), rest: map[string]string{}}
	for _, f := range s.top {
		sub := subRecord(f)
		if sub == nil {
			s.names = append(s.names, f.Name())
			continue
		}
		// Address compounds name their parts without the prefix
		// (MailingAddress.City is MailingCity); Name's parts are the
		// field names themselves.
		prefix := ""
		if strings.HasSuffix(f.Name(), "Address") {
			prefix = strings.TrimSuffix(f.Name(), "Address")
		}
		for _, sf := range sub.Fields() {
			s.rest[f.Name()+"."+sf.Name()] = prefix + sf.Name()
			if f.Name() != "ChangeEventHeader" {
				s.names = append(s.names, prefix+sf.Name())
			}
		}
	}
	c.mu.Lock()
	c.schemas[id] = s
	c.mu.Unlock()
	return s, nil
}

func fieldsOf(rec *avro.RecordSchema) []avro.Field {
	out := make([]avro.Field, 0, len(rec.Fields()))
	for _, f := range rec.Fields() {
		out = append(out, *f)
	}
	return out
}

// subRecord is the record inside a field of type ["null", record].
func subRecord(f avro.Field) *avro.RecordSchema {
	switch t := f.Type().(type) {
	case *avro.RecordSchema:
		return t
	case *avro.UnionSchema:
		for _, u := range t.Types() {
			if r, ok := u.(*avro.RecordSchema); ok {
				return r
			}
		}
	}
	return nil
}

func (c *Client) decode(ctx context.Context, cr Credentials, ce *eventbusv1.ConsumerEvent) (Event, error) {
	s, err := c.schema(ctx, cr, ce.GetEvent().GetSchemaId())
	if err != nil {
		return Event{}, err
	}
	var m map[string]any
	if err := avro.Unmarshal(s.avro, ce.GetEvent().GetPayload(), &m); err != nil {
		return Event{}, fmt.Errorf("cdc: decode event %s: %w", ce.GetEvent().GetId(), err)
	}
	h, _ := m["ChangeEventHeader"].(map[string]any)
	ev := Event{ReplayID: ce.GetReplayId(), Fields: map[string]any{}, SchemaFields: s.names}
	ev.Entity, _ = h["entityName"].(string)
	if t, ok := h["changeType"].(string); ok {
		ev.Type = ChangeType(t)
	}
	ev.RecordIDs = strs(h["recordIds"])
	ev.ChangeOrigin, _ = h["changeOrigin"].(string)
	ev.TransactionKey, _ = h["transactionKey"].(string)
	if n, ok := h["sequenceNumber"].(int); ok {
		ev.SequenceNumber = n
	}
	if ms, ok := h["commitTimestamp"].(int64); ok {
		ev.CommitTimestamp = time.UnixMilli(ms).UTC()
	}
	ev.CommitUser, _ = h["commitUser"].(string)
	for _, bm := range []struct {
		dst *[]string
		key string
	}{{&ev.ChangedFields, "changedFields"}, {&ev.NulledFields, "nulledFields"}, {&ev.DiffFields, "diffFields"}} {
		names, err := s.expand(strs(h[bm.key]))
		if err != nil {
			return Event{}, fmt.Errorf("cdc: event %s %s: %w", ce.GetEvent().GetId(), bm.key, err)
		}
		*bm.dst = names
	}
	for k, v := range m {
		if k == "ChangeEventHeader" || v == nil {
			continue
		}
		sub, ok := v.(map[string]any)
		if !ok {
			ev.Fields[k] = v
			continue
		}
		// hamba/avro wraps a union's record in a map keyed by its name.
		if len(sub) == 1 {
			for name, inner := range sub {
				if im, ok := inner.(map[string]any); ok && strings.Contains(name, ".") {
					sub = im
				}
			}
		}
		for sk, sv := range sub {
			if sv != nil {
				ev.Fields[s.restName(k+"."+sk)] = sv
			}
		}
	}
	return ev, nil
}

func (s *schema) restName(path string) string {
	if n, ok := s.rest[path]; ok {
		return n
	}
	return path
}

// expand decodes Salesforce's field bitmaps: "0x…" sets bit i for
// top-level field i; "p-0x…" for the sub-fields of compound field p.
func (s *schema) expand(bitmaps []string) ([]string, error) {
	var out []string
	for _, b := range bitmaps {
		fields, parent := s.top, ""
		if p, hex, ok := strings.Cut(b, "-"); ok {
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(s.top) || subRecord(s.top[i]) == nil {
				return nil, fmt.Errorf("bad compound bitmap %q", b)
			}
			fields, parent, b = fieldsOf(subRecord(s.top[i])), s.top[i].Name()+".", hex
		}
		n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.TrimPrefix(b, "0x"), "0X"), 16)
		if !ok || !strings.HasPrefix(strings.ToLower(b), "0x") {
			return nil, fmt.Errorf("bad bitmap %q", b)
		}
		for i := range n.BitLen() {
			if n.Bit(i) == 0 {
				continue
			}
			if i >= len(fields) {
				return nil, fmt.Errorf("bitmap %q names field %d of %d", b, i, len(fields))
			}
			out = append(out, s.restName(parent+fields[i].Name()))
		}
	}
	return out, nil
}

func strs(v any) []string {
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
