package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKey(t *testing.T) []byte {
	b := make([]byte, KeySize)
	rand.Read(b)
	return b
}

func TestRoundTripAndRotation(t *testing.T) {
	t.Parallel()
	oldKey, newK := newKey(t), newKey(t)
	oldRing, _ := NewKeyring(oldKey)
	ct, err := oldRing.Encrypt("refresh-token-123", "tenant:a")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ct, "refresh-token-123") {
		t.Fatalf("ciphertext %q holds the plaintext", ct)
	}
	if _, err := oldRing.Decrypt(ct, "tenant:b"); err == nil {
		t.Error("decrypt with other associated data succeeded, want failure")
	}
	rotated, _ := NewKeyring(newK, oldKey)
	got, err := rotated.Decrypt(ct, "tenant:a")
	if err != nil || got != "refresh-token-123" {
		t.Fatalf("rotated keyring decrypt = %q, %v; want the token", got, err)
	}
	if !rotated.NeedsRotation(ct) {
		t.Error("NeedsRotation(old ciphertext) = false, want true")
	}
	ct2, _ := rotated.Encrypt(got, "tenant:a")
	if rotated.NeedsRotation(ct2) {
		t.Error("NeedsRotation(new ciphertext) = true, want false")
	}
	newOnly, _ := NewKeyring(newK)
	if _, err := newOnly.Decrypt(ct, "tenant:a"); !errors.Is(err, ErrNoKey) {
		t.Errorf("decrypt after dropping the old key: %v, want ErrNoKey", err)
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k := base64.StdEncoding.EncodeToString(newKey(t))
	if _, err := ParseKeys(k + ", " + base64.RawURLEncoding.EncodeToString(newKey(t))); err != nil {
		t.Errorf("two valid keys: %v", err)
	}
	for _, bad := range []string{"", "not base64!!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) succeeded, want an error", bad)
		}
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data", "secret.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || k1 != k2 {
		t.Errorf("second load = %q, %v; want the same key", k2, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Error("a world-readable key file was accepted, want an error")
	}
}
