// Package secret encrypts small secrets (Salesforce tokens) at rest with
// AES-256-GCM. A Keyring holds one primary key, used to encrypt, and any
// number of older keys, still accepted to decrypt, so keys can be rotated:
// add a new key in front, run `sfsync rotate-key` (re-encrypts), then drop
// the old one.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// Keyring encrypts with its first key and decrypts with any of its keys.
type Keyring struct {
	keys []key
}

type key struct {
	id   string
	aead cipher.AEAD
}

// ErrNoKey reports ciphertext made with a key the keyring does not hold.
var ErrNoKey = errors.New("secret: encrypted with a key that is not configured")

// ParseKeys builds a keyring from a comma-separated list of base64 (std or
// URL, padded or not) 32-byte keys, primary first.
func ParseKeys(s string) (*Keyring, error) {
	var raw [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		b, err := decodeKey(part)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		raw = append(raw, b)
	}
	if len(raw) == 0 {
		return nil, errors.New("no key given")
	}
	return NewKeyring(raw...)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("must decode to %d bytes, got %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("must be base64 (e.g. from `openssl rand -base64 32`)")
}

// NewKeyring builds a keyring from raw 32-byte keys, primary first.
func NewKeyring(raw ...[]byte) (*Keyring, error) {
	kr := &Keyring{}
	for _, b := range raw {
		if len(b) != KeySize {
			return nil, fmt.Errorf("secret: key must be %d bytes, got %d", KeySize, len(b))
		}
		block, err := aes.NewCipher(b)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		kr.keys = append(kr.keys, key{id: hex.EncodeToString(sum[:4]), aead: aead})
	}
	if len(kr.keys) == 0 {
		return nil, errors.New("secret: no key")
	}
	return kr, nil
}

// WithPrimary returns a keyring that encrypts with raw and still decrypts
// with every key of k.
func (k *Keyring) WithPrimary(raw []byte) (*Keyring, error) {
	nk, err := NewKeyring(raw)
	if err != nil {
		return nil, err
	}
	nk.keys = append(nk.keys, k.keys...)
	return nk, nil
}

// PrimaryID identifies the key new ciphertexts are made with.
func (k *Keyring) PrimaryID() string { return k.keys[0].id }

// Encrypt seals plaintext with the primary key. The associated data binds
// the ciphertext to its place (e.g. "tenant:t_123:refresh_token"), so a
// ciphertext copied to another row does not decrypt.
func (k *Keyring) Encrypt(plaintext, associated string) (string, error) {
	p := k.keys[0]
	nonce := make([]byte, p.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := p.aead.Seal(nonce, nonce, []byte(plaintext), []byte(associated))
	return "v1:" + p.id + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Decrypt opens a ciphertext made by Encrypt with any key of the ring.
func (k *Keyring) Decrypt(ciphertext, associated string) (string, error) {
	parts := strings.SplitN(ciphertext, ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", errors.New("secret: not a v1 ciphertext")
	}
	for _, kk := range k.keys {
		if kk.id != parts[1] {
			continue
		}
		sealed, err := base64.RawStdEncoding.DecodeString(parts[2])
		if err != nil || len(sealed) < kk.aead.NonceSize() {
			return "", errors.New("secret: corrupt ciphertext")
		}
		n := kk.aead.NonceSize()
		plain, err := kk.aead.Open(nil, sealed[:n], sealed[n:], []byte(associated))
		if err != nil {
			return "", errors.New("secret: ciphertext does not authenticate")
		}
		return string(plain), nil
	}
	return "", ErrNoKey
}

// NeedsRotation reports whether ciphertext was made with an older key.
func (k *Keyring) NeedsRotation(ciphertext string) bool {
	return !strings.HasPrefix(ciphertext, "v1:"+k.keys[0].id+":")
}

// LoadOrCreateKeyFile reads a base64 key file, creating it with a fresh
// random key and 0600 permissions when it does not exist. It refuses a
// file that others can read.
func LoadOrCreateKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		st, err := os.Stat(path)
		if err != nil {
			return "", err
		}
		if st.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s is readable by others (mode %v); run chmod 600 on it", path, st.Mode().Perm())
		}
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(enc + "\n"); err != nil {
		f.Close()
		return "", err
	}
	return enc, f.Close()
}
