package pubsub

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"

	"github.com/sfsync/sfsync/internal/sfemu"
)

// ServerConfig says where and with which certificate ListenAndServe runs.
type ServerConfig struct {
	// Addr is the listen address, e.g. "127.0.0.1:7443" (Salesforce's
	// port); ":0" picks a free one (see Listening).
	Addr string
	// CertFile and KeyFile name a PEM certificate and key to serve. When
	// empty a self-signed certificate is generated for Hosts.
	CertFile, KeyFile string
	// Hosts are the subject alternative names of a generated certificate;
	// 127.0.0.1 and localhost when empty.
	Hosts []string
	// WriteCert, when set, receives the generated certificate's PEM, for
	// clients to trust (e.g. grpc's credentials.NewClientTLSFromFile).
	WriteCert string
	// Listening, when set, is called with the bound address before serving.
	Listening func(addr net.Addr)
}

// ListenAndServe serves emu's Pub/Sub API over TLS until ctx ends: the
// piece `sfsync emulator --pubsub-addr` wires in.
func ListenAndServe(ctx context.Context, emu *sfemu.Server, cfg ServerConfig, opts Options) error {
	var cert tls.Certificate
	var err error
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		cert, err = tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return fmt.Errorf("pubsub: load certificate: %w", err)
		}
	} else {
		hosts := cfg.Hosts
		if len(hosts) == 0 {
			hosts = []string{"127.0.0.1", "localhost"}
		}
		var certPEM []byte
		cert, certPEM, err = SelfSignedCert(hosts...)
		if err != nil {
			return fmt.Errorf("pubsub: %w", err)
		}
		if cfg.WriteCert != "" {
			if err := os.WriteFile(cfg.WriteCert, certPEM, 0o644); err != nil {
				return fmt.Errorf("pubsub: write certificate: %w", err)
			}
		}
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("pubsub: listen: %w", err)
	}
	if cfg.Listening != nil {
		cfg.Listening(lis.Addr())
	}
	return Serve(ctx, lis, New(emu, opts), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
}
