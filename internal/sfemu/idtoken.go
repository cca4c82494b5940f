package sfemu

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// signingKey is the server's RS256 key for OpenID Connect id_tokens,
// generated on first use and published at /id/keys.
type signingKey struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

const signingKID = "sfemu1"

func (s *Server) rsaKey() (*rsa.PrivateKey, error) {
	s.idKey.once.Do(func() { s.idKey.key, s.idKey.err = rsa.GenerateKey(rand.Reader, 2048) })
	return s.idKey.key, s.idKey.err
}

// idToken builds the id_token Salesforce returns when the openid scope is
// granted: an RS256 JWT whose at_hash binds it to the access token.
func (s *Server) idToken(base, clientID string, access *token, nonce string) (string, error) {
	key, err := s.rsaKey()
	if err != nil {
		return "", err
	}
	u, _ := access.org.userByIDLocking(access.userID)
	sum := sha256.Sum256([]byte(access.value))
	claims := orderedJSON{
		{"at_hash", base64.RawURLEncoding.EncodeToString(sum[:16])},
		{"sub", base + "/id/" + access.org.ID() + "/" + u.ID}, {"aud", clientID}, {"iss", base},
		{"exp", access.issued.Add(5 * time.Minute).Unix()}, {"iat", access.issued.Unix()},
		{"email", u.Email}, {"email_verified", true}, {"preferred_username", u.Username},
		{"name", u.Name()}, {"given_name", u.FirstName}, {"family_name", u.LastName},
		{"organization_id", access.org.ID()}, {"user_id", u.ID},
	}
	if nonce != "" {
		claims = append(claims, kv{"nonce", nonce})
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"` + signingKID + `","typ":"JWT","alg":"RS256"}`))
	payload := base64.RawURLEncoding.EncodeToString(claims.marshal())
	digest := sha256.Sum256([]byte(header + "." + payload))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// handleKeys answers /id/keys with the JWKS of the id_token key.
func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	key, err := s.rsaKey()
	if err != nil {
		writeErrors(w, []*apiError{plainErr(500, "UNKNOWN_EXCEPTION", err.Error())})
		return
	}
	e := big.NewInt(int64(key.E)).Bytes()
	body := map[string]any{"keys": []any{map[string]string{
		"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(e),
		"alg": "RS256", "use": "sig", "kid": signingKID,
	}}}
	b, _ := json.Marshal(body)
	writeRaw(w, http.StatusOK, b)
}
