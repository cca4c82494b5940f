package sfemu

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// certLifetime is how long a generated certificate is valid. A new one is
// made at every start, so it need not outlive a CI run by much; a year
// keeps a long-running emulator working.
const certLifetime = 365 * 24 * time.Hour

// GenerateCertificate makes a self-signed ECDSA P-256 certificate for the
// given DNS names and IP addresses (localhost, 127.0.0.1 and ::1 are always
// included) and returns it as PEM with its key. The certificate is its own
// issuer and is marked as a CA, so a client trusts it by adding this one
// file to its roots (Go's x509.CertPool, Node's NODE_EXTRA_CA_CERTS, curl's
// --cacert, Python's REQUESTS_CA_BUNDLE), as httptest's certificate is.
func GenerateCertificate(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"sfsync Salesforce emulator"}, CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour), // tolerate a client clock a little behind
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range certHosts(hosts) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// certHosts is the certificate's subject alternative names: the loopback
// names every local client uses, then the given hosts, without duplicates
// or wildcard listen addresses.
func certHosts(hosts []string) []string {
	out := []string{"localhost", "127.0.0.1", "::1"}
	for _, h := range hosts {
		h = strings.Trim(strings.ToLower(strings.TrimSpace(h)), "[]")
		if h == "" || h == "0.0.0.0" || h == "::" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// hostOf returns the host name of an absolute URL ("" when there is none).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// CertificateFingerprint is the SHA-256 of a certificate's DER bytes in
// the colon-separated upper-case hex that openssl x509 -fingerprint
// -sha256 and browsers show.
func CertificateFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// loadTLS returns the serving certificate and its PEM: the given files, or
// a generated certificate for hosts.
func loadTLS(certFile, keyFile string, hosts []string, now time.Time) (tls.Certificate, []byte, error) {
	switch {
	case certFile != "" && keyFile != "":
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("emulator: --tls-cert/--tls-key: %w", err)
		}
		var chain []byte
		for _, der := range c.Certificate {
			chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		return c, chain, nil
	case certFile != "" || keyFile != "":
		return tls.Certificate{}, nil, fmt.Errorf("emulator: --tls-cert and --tls-key go together")
	}
	certPEM, keyPEM, err := GenerateCertificate(hosts, now)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("emulator: generated certificate: %w", err)
	}
	return c, certPEM, nil
}

// setCertificatePEM records the served certificate for the side door.
func (s *Server) setCertificatePEM(pem []byte) {
	s.mu.Lock()
	s.certPEM = pem
	s.mu.Unlock()
}
