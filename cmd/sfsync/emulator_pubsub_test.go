package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce/cdc"
)

// TestEmulator_pubsub: `sfsync emulator --pubsub-addr … --cdc Contact`
// serves Change Data Capture over TLS with a certificate it writes out; a
// REST create reaches a client that trusts only that file, as a
// ContactChangeEvent whose changeOrigin names the writer.
func TestEmulator_pubsub(t *testing.T) {
	t.Parallel()
	info := startEmulator(t, func(string) string { return "" }, "--pubsub-addr", "127.0.0.1:0", "--cdc", "Contact")
	get := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(info)
		if m == nil {
			t.Fatalf("the emulator printed no %s:\n%s", re, info)
		}
		return m[1]
	}
	endpoint, certFile := get(`export SFEMU_PUBSUB_ENDPOINT=(\S+)`), get(`export SFEMU_PUBSUB_CERT=(\S+)`)
	// sfsync's own settings point at the same endpoint and certificate.
	if e, ca := get(`export SFSYNC_PUBSUB_ENDPOINT=(\S+)`), get(`export SFSYNC_PUBSUB_CA=(\S+)`); e != endpoint || ca != certFile {
		t.Errorf("SFSYNC_PUBSUB_ENDPOINT/CA: got %s %s, want %s %s", e, ca, endpoint, certFile)
	}
	base, token, orgID := get(`instance URL:\s+(\S+)`), get(`access token:\s+(\S+)`), get(`org:\s+(\S+)`)
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", certFile)
	}
	c, err := cdc.Dial(cdc.Config{Endpoint: endpoint, TLS: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cr := cdc.Credentials{AccessToken: token, InstanceURL: base, TenantID: orgID}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.CheckTopic(ctx, cr, cdc.TopicContactChangeEvent); err != nil {
		t.Fatalf("GetTopic: %v", err)
	}
	got := make(chan cdc.Event, 1)
	go c.Subscribe(ctx, cr, cdc.TopicContactChangeEvent, cdc.From{Earliest: true}, func(_ context.Context, b cdc.Batch) error {
		for _, ev := range b.Events {
			got <- ev
			return errors.New("done")
		}
		return nil
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/services/data/v62.0/sobjects/Contact", bytes.NewBufferString(`{"LastName":"Amy","Email":"amy@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sforce-Call-Options", "client=pubsubtest")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("create: %v %v", res, err)
	}
	res.Body.Close()
	select {
	case ev := <-got:
		if ev.Type != "CREATE" || ev.Entity != "Contact" || !strings.Contains(ev.ChangeOrigin, "client=pubsubtest") {
			t.Errorf("event %s %s origin %q, want a Contact CREATE from client=pubsubtest", ev.Entity, ev.Type, ev.ChangeOrigin)
		}
	case <-ctx.Done():
		t.Fatal("no change event within 20 s")
	}
}
