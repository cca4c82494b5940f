package pubsub_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/sfsync/sfsync/internal/pubsubapi/eventbusv1"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
)

func TestListenAndServe_WritesACertificateClientsTrust(t *testing.T) {
	t.Parallel()
	emu := sfemu.New(sfemu.Options{})
	org, err := emu.CreateOrg(sfemu.OrgOptions{})
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
	certFile := filepath.Join(t.TempDir(), "pubsub.pem")
	addrs := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- pubsub.ListenAndServe(ctx, emu, pubsub.ServerConfig{Addr: "127.0.0.1:0", WriteCert: certFile,
			Listening: func(a net.Addr) { addrs <- a }}, pubsub.Options{})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	})
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	}
	creds, err := credentials.NewClientTLSFromFile(certFile, "")
	if err != nil {
		t.Fatalf("trust %s: %v", certFile, err)
	}
	conn, err := grpc.NewClient(addr.String(), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cctx, ccancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(),
		"accesstoken", tok.AccessToken, "instanceurl", "https://emulator.example", "tenantid", org.ID()), 10*time.Second)
	defer ccancel()
	info, err := eventbusv1.NewPubSubClient(conn).GetTopic(cctx, &eventbusv1.TopicRequest{TopicName: pubsub.TopicContactChangeEvent})
	if err != nil || info.SchemaId == "" {
		t.Fatalf("GetTopic over the written certificate: got %v, %v, want the topic", info, err)
	}
}
