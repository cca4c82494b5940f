// Package pubsub serves the emulator's change events over Salesforce's
// Pub/Sub API (gRPC, package eventbus.v1): GetTopic, GetSchema and
// Subscribe, with the metadata auth and the errors real Salesforce gives.
//
// Wiring it into a process:
//
//	svc := pubsub.New(emu, pubsub.Options{})
//	cert, certPEM, _ := pubsub.SelfSignedCert("127.0.0.1", "localhost") // give clients certPEM to trust
//	lis, _ := net.Listen("tcp", "127.0.0.1:7443")
//	go pubsub.Serve(ctx, lis, svc, &tls.Config{Certificates: []tls.Certificate{cert}})
package pubsub

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/google/uuid"

	"github.com/sfsync/sfsync/internal/pubsubapi/eventbusv1"
	"github.com/sfsync/sfsync/internal/sfemu"
)

// Topic names of the change event channels.
const (
	TopicContactChangeEvent = "/data/ContactChangeEvent"
	TopicLeadChangeEvent    = "/data/LeadChangeEvent"
	TopicAccountChangeEvent = "/data/AccountChangeEvent"
	TopicChangeEvents       = "/data/ChangeEvents"
)

// MaxNumRequested is the most events a subscriber may have outstanding;
// larger num_requested values count as this.
const MaxNumRequested = 100

// Error codes sent in the "error-code" trailer, as Salesforce does.
const (
	ErrCodeAuth             = "sfdc.platform.eventbus.grpc.service.auth.error"
	ErrCodeTopicNotFound    = "sfdc.platform.eventbus.grpc.service.topic.notfound" // unverified spelling
	ErrCodeSchemaNotFound   = "sfdc.platform.eventbus.grpc.schema.notfound"        // unverified spelling
	ErrCodeReplayIDInvalid  = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed"
	ErrCodeReplayIDCorrupt  = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
	ErrCodeInvalidRequest   = "sfdc.platform.eventbus.grpc.fetch.invalid.request" // unverified spelling
	ErrCodeServiceUnavailab = "sfdc.platform.eventbus.grpc.service.unavailable"
)

// Options tune the service.
type Options struct {
	// KeepAlive is how long an idle subscription waits before an empty
	// FetchResponse carrying latest_replay_id (Salesforce: within 270 s).
	// 60 s when zero.
	KeepAlive time.Duration
	Logger    *slog.Logger
}

// Service implements eventbus.v1.PubSub over an emulator.
type Service struct {
	eventbusv1.UnimplementedPubSubServer
	emu  *sfemu.Server
	opts Options

	mu      sync.Mutex
	streams map[*subscription]struct{}
}

type subscription struct {
	drop chan struct{}
}

// New returns the Pub/Sub service of emu.
func New(emu *sfemu.Server, opts Options) *Service {
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{emu: emu, opts: opts, streams: map[*subscription]struct{}{}}
}

// Serve runs a gRPC server with svc on lis until ctx ends. With a nil
// tlsConfig it serves plaintext (real clients insist on TLS).
func Serve(ctx context.Context, lis net.Listener, svc *Service, tlsConfig *tls.Config) error {
	var opts []grpc.ServerOption
	if tlsConfig != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConfig)))
	}
	g := grpc.NewServer(opts...)
	eventbusv1.RegisterPubSubServer(g, svc)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			g.Stop()
		case <-done:
		}
	}()
	err := g.Serve(lis)
	close(done)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// DropStreams ends every open Subscribe stream with UNAVAILABLE, as when
// Salesforce restarts a server: a fault switch for reconnect logic.
func (s *Service) DropStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for sub := range s.streams {
		close(sub.drop)
		delete(s.streams, sub)
		n++
	}
	return n
}

// rpcError is a gRPC status with Salesforce's message suffix and the
// error-code trailer.
func rpcError(ctx context.Context, c codes.Code, errCode, msg string) error {
	_ = grpc.SetTrailer(ctx, metadata.Pairs("error-code", errCode))
	return status.Error(c, msg+" rpcId: "+uuid.NewString())
}

// auth checks the accesstoken, instanceurl and tenantid metadata.
func (s *Service) auth(ctx context.Context) (*sfemu.Org, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	get := func(k string) string {
		if v := md.Get(k); len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	deny := func() error {
		return rpcError(ctx, codes.Unauthenticated, ErrCodeAuth, "An authentication exception occurred. Provide valid authentication via metadata headers.")
	}
	org, _, ok := s.emu.AccessTokenOrg(get("accesstoken"))
	if !ok || get("instanceurl") == "" {
		return nil, deny()
	}
	tenant := get("tenantid")
	if len(tenant) < 15 || tenant[:15] != org.ID()[:15] {
		return nil, deny()
	}
	return org, nil
}

// topicEntities returns the entities a topic carries, or a NOT_FOUND
// error when the org has no such topic (CDC off or entity not selected).
func (s *Service) topicEntities(ctx context.Context, org *sfemu.Org, topic string) ([]string, error) {
	notFound := func() ([]string, error) {
		return nil, rpcError(ctx, codes.NotFound, ErrCodeTopicNotFound, "The topic information for org "+org.ID()+" and topic "+topic+
			" not found. Ensure the topic name is correct and that the topic exists.")
	}
	var ents []string
	switch {
	case topic == TopicChangeEvents:
		ents = org.CDCSettings().Entities
	case strings.HasPrefix(topic, "/data/") && strings.HasSuffix(topic, "ChangeEvent"):
		// /data/ContactChangeEvent, /data/LeadChangeEvent, /data/AccountChangeEvent
		name := strings.TrimSuffix(strings.TrimPrefix(topic, "/data/"), "ChangeEvent")
		if !slices.Contains(sfemu.CDCEntities, name) {
			return notFound()
		}
		ents = []string{name}
	default:
		return notFound()
	}
	var out []string
	for _, e := range ents {
		if org.CDCSelected(e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return notFound()
	}
	return out, nil
}

// GetTopic describes a change event channel.
func (s *Service) GetTopic(ctx context.Context, req *eventbusv1.TopicRequest) (*eventbusv1.TopicInfo, error) {
	org, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	ents, err := s.topicEntities(ctx, org, req.GetTopicName())
	if err != nil {
		return nil, err
	}
	id, _, _ := org.ChangeEventSchema(ents[0])
	return &eventbusv1.TopicInfo{TopicName: req.GetTopicName(), TenantGuid: org.ID(), CanPublish: false, CanSubscribe: true,
		SchemaId: id, RpcId: uuid.NewString()}, nil
}

// GetSchema returns a schema by id.
func (s *Service) GetSchema(ctx context.Context, req *eventbusv1.SchemaRequest) (*eventbusv1.SchemaInfo, error) {
	org, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	js, ok := org.SchemaByID(req.GetSchemaId())
	if !ok {
		return nil, rpcError(ctx, codes.NotFound, ErrCodeSchemaNotFound, "The schema "+req.GetSchemaId()+" was not found.")
	}
	return &eventbusv1.SchemaInfo{SchemaJson: js, SchemaId: req.GetSchemaId(), RpcId: uuid.NewString()}, nil
}

// EncodeReplayID is the wire form of a replay ID: 8 bytes, big-endian.
func EncodeReplayID(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// Subscribe streams change events with flow control by num_requested.
func (s *Service) Subscribe(stream eventbusv1.PubSub_SubscribeServer) error {
	ctx := stream.Context()
	org, err := s.auth(ctx)
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	topic := first.GetTopicName()
	ents, err := s.topicEntities(ctx, org, topic)
	if err != nil {
		return err
	}
	log := org.ChangeEventsAfter(0, 0)
	var cursor int64
	switch first.GetReplayPreset() {
	case eventbusv1.ReplayPreset_LATEST:
		cursor = log.Latest
	case eventbusv1.ReplayPreset_EARLIEST:
		cursor = log.Earliest
	case eventbusv1.ReplayPreset_CUSTOM:
		b := first.GetReplayId()
		if len(b) != 8 {
			return rpcError(ctx, codes.InvalidArgument, ErrCodeReplayIDCorrupt, "The Replay ID is corrupted. Provide a valid Replay ID.")
		}
		cursor = int64(binary.BigEndian.Uint64(b))
		if cursor < log.Earliest || cursor > log.Latest {
			return rpcError(ctx, codes.InvalidArgument, ErrCodeReplayIDInvalid,
				"The Replay ID validation failed. Ensure that the Replay ID is valid and within the retention window.")
		}
	default:
		return rpcError(ctx, codes.InvalidArgument, ErrCodeInvalidRequest, "The replay preset is invalid.")
	}

	sub := &subscription{drop: make(chan struct{})}
	s.mu.Lock()
	s.streams[sub] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, sub)
		s.mu.Unlock()
	}()

	type topUp struct {
		n   int32
		err error
	}
	reqs := make(chan topUp, 8)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				return // closed send side or ended stream: no more top-ups
			}
			if r.GetTopicName() != "" && r.GetTopicName() != topic {
				select {
				case reqs <- topUp{err: rpcError(ctx, codes.InvalidArgument, ErrCodeInvalidRequest,
					"The topic name in a FetchRequest must match the topic of the subscription.")}:
				case <-ctx.Done():
				}
				return
			}
			select {
			case reqs <- topUp{n: r.GetNumRequested()}:
			case <-ctx.Done():
				return
			}
		}
	}()

	pending := clampRequested(0, first.GetNumRequested())
	idle := time.NewTimer(s.opts.KeepAlive)
	defer idle.Stop()
	for {
		log := org.ChangeEventsAfter(cursor, int(max(pending, 1)))
		if pending > 0 && len(log.Events) > 0 {
			resp := &eventbusv1.FetchResponse{RpcId: uuid.NewString()}
			for _, e := range log.Events {
				cursor = e.ReplayID
				if !contains(ents, e.Entity) {
					continue
				}
				resp.Events = append(resp.Events, &eventbusv1.ConsumerEvent{
					Event:    &eventbusv1.ProducerEvent{Id: e.EventID, SchemaId: e.SchemaID, Payload: e.Payload},
					ReplayId: EncodeReplayID(e.ReplayID),
				})
			}
			pending -= int32(len(resp.Events))
			resp.LatestReplayId = EncodeReplayID(cursor)
			resp.PendingNumRequested = pending
			if len(resp.Events) > 0 {
				if err := stream.Send(resp); err != nil {
					return err
				}
				resetTimer(idle, s.opts.KeepAlive)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.drop:
			return rpcError(ctx, codes.Unavailable, ErrCodeServiceUnavailab, "The service is unavailable. Try again later.")
		case r := <-reqs:
			if r.err != nil {
				return r.err
			}
			pending = clampRequested(pending, r.n)
		case <-log.Wake:
		case <-idle.C:
			// Keep-alive: nothing to deliver, tell the client where the
			// stream stands so a quiet subscriber can resume near the tip.
			if len(log.Events) == 0 {
				cursor = max(cursor, log.Latest)
			}
			if err := stream.Send(&eventbusv1.FetchResponse{LatestReplayId: EncodeReplayID(cursor),
				RpcId: uuid.NewString(), PendingNumRequested: pending}); err != nil {
				return err
			}
			idle.Reset(s.opts.KeepAlive)
		}
	}
}

func clampRequested(pending, more int32) int32 {
	return min(pending+max(more, 0), MaxNumRequested)
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	t.Reset(d)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
