package invitations

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"sync"
)

// Token layout. A token is base64url (no padding) of keyID || body, where
// body = HMAC(tokenKey, nonce). The nonce is stored; the token is not. The
// key ID picks the secret, so Lookup costs one indexed store call whichever
// secret issued the link.
const (
	// MinSecretSize is the smallest Config.Secret New accepts, in bytes.
	MinSecretSize = 32
	// TokenHashSize is the length of TokenMaterial.Hash, in bytes.
	TokenHashSize = sha256.Size

	nonceSize    = 32 // per-issue randomness: 256 bits from crypto/rand
	bodySize     = sha256.Size
	keyIDSize    = 4
	rawTokenSize = keyIDSize + bodySize
	tokenLength  = (rawTokenSize*8 + 5) / 6 // 48 characters
)

var tokenEncoding = base64.RawURLEncoding

// SecretBytes holds token material (a nonce or a hash) that a Store must
// persist but nobody should read. It prints as "[redacted]" under every fmt
// verb and in slog output.
type SecretBytes []byte

// Format implements fmt.Formatter so that %v, %+v, %#v, %s and %x all redact.
func (b SecretBytes) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// String implements fmt.Stringer with the redacted form.
func (b SecretBytes) String() string { return redacted }

// LogValue implements slog.LogValuer with the redacted form.
func (b SecretBytes) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler with the redacted form, so that
// slog's JSON handler and any JSON encoding of a struct holding token
// material print nothing secret. A Store persists the bytes themselves
// ([]byte(b)), never their JSON.
func (b SecretBytes) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

const redacted = "[redacted]"

// TokenMaterial is what a Store persists about an invitation's current link.
// It cannot be turned into a working link without the Service's secret.
type TokenMaterial struct {
	// KeyID names the secret that issued the link (not secret itself).
	KeyID string
	// Nonce is the per-issue random value the token is derived from.
	Nonce SecretBytes
	// Hash is the keyed hash of the token; Stores index it, uniquely, for
	// GetByTokenHash.
	Hash SecretBytes
}

// LogValue implements slog.LogValuer: the key ID, the rest redacted.
func (m TokenMaterial) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_id", m.KeyID), slog.String("nonce", redacted), slog.String("hash", redacted))
}

// signingKey is one configured secret, expanded into independent subkeys so
// that no key is used for two purposes.
type signingKey struct {
	id      string // base64url of rawID, as stored in TokenMaterial.KeyID
	rawID   [keyIDSize]byte
	tokens  sync.Pool // of HMAC(tokenKey) hashers: derive token bodies from nonces
	lookups sync.Pool // of HMAC(lookupKey) hashers: hash token bodies for lookup
}

func newSigningKey(secret []byte) (*signingKey, error) {
	derive := func(purpose string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, secret, nil, "invitekit/invitations v1 "+purpose, n)
	}
	rawID, err := derive("key id", keyIDSize)
	if err != nil {
		return nil, err
	}
	tokenKey, err := derive("token", sha256.Size)
	if err != nil {
		return nil, err
	}
	lookupKey, err := derive("lookup", sha256.Size)
	if err != nil {
		return nil, err
	}
	k := &signingKey{id: tokenEncoding.EncodeToString(rawID)}
	copy(k.rawID[:], rawID)
	k.tokens.New = func() any { return hmac.New(sha256.New, tokenKey) }
	k.lookups.New = func() any { return hmac.New(sha256.New, lookupKey) }
	return k, nil
}

func mac(pool *sync.Pool, dst, msg []byte) []byte {
	h := pool.Get().(hash.Hash)
	h.Reset()
	h.Write(msg)
	dst = h.Sum(dst)
	pool.Put(h)
	return dst
}

// body derives the secret part of the token from the stored nonce.
func (k *signingKey) body(dst []byte, nonce []byte) []byte { return mac(&k.tokens, dst, nonce) }

// lookupHash appends to dst what the store indexes for a token body.
func (k *signingKey) lookupHash(dst, body []byte) []byte { return mac(&k.lookups, dst, body) }

// keyring holds the current secret and the previous ones still honoured.
type keyring struct {
	keys []*signingKey // keys[0] issues new links
}

func newKeyring(current []byte, previous [][]byte) (*keyring, error) {
	secrets := append([][]byte{current}, previous...)
	r := &keyring{}
	for i, secret := range secrets {
		if len(secret) < MinSecretSize {
			if i == 0 {
				return nil, configError("Secret must be at least %d bytes", MinSecretSize)
			}
			return nil, configError("PreviousSecrets[%d] must be at least %d bytes", i-1, MinSecretSize)
		}
		k, err := newSigningKey(secret)
		if err != nil {
			return nil, configError("deriving keys: %w", err)
		}
		if r.byID(k.id) != nil {
			// The same secret listed twice is harmless; two secrets whose IDs
			// collide (odds 2^-32) would make links ambiguous.
			if subtleContains(secrets[:i], secret) {
				continue
			}
			return nil, configError("two secrets share a key id; replace one of them")
		}
		r.keys = append(r.keys, k)
	}
	return r, nil
}

func subtleContains(list [][]byte, secret []byte) bool {
	for _, s := range list {
		if subtle.ConstantTimeCompare(s, secret) == 1 {
			return true
		}
	}
	return false
}

func (r *keyring) current() *signingKey { return r.keys[0] }

func (r *keyring) byID(id string) *signingKey {
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

func (r *keyring) byRawID(id []byte) *signingKey {
	for _, k := range r.keys {
		if subtle.ConstantTimeCompare(k.rawID[:], id) == 1 {
			return k
		}
	}
	return nil
}

// issue draws a fresh nonce and returns the token and what the store keeps.
func (r *keyring) issue() (token string, material TokenMaterial) {
	k := r.current()
	nonce := make([]byte, nonceSize)
	_, _ = rand.Read(nonce) // crypto/rand.Read never returns an error since Go 1.24
	var raw [rawTokenSize]byte
	copy(raw[:], k.rawID[:])
	k.body(raw[keyIDSize:keyIDSize], nonce)
	return tokenEncoding.EncodeToString(raw[:]), TokenMaterial{
		KeyID: k.id,
		Nonce: nonce,
		Hash:  k.lookupHash(make([]byte, 0, sha256.Size), raw[keyIDSize:]),
	}
}

// rederive gives back the token of stored material, for CopyLink and Resend.
// It fails with ErrInvalidToken when the issuing secret is no longer held.
func (r *keyring) rederive(m TokenMaterial) (string, error) {
	k := r.byID(m.KeyID)
	if k == nil || len(m.Nonce) != nonceSize {
		return "", fmt.Errorf("%w: the link was issued under a secret that is no longer configured", ErrInvalidToken)
	}
	var raw [rawTokenSize]byte
	copy(raw[:], k.rawID[:])
	k.body(raw[keyIDSize:keyIDSize], m.Nonce)
	return tokenEncoding.EncodeToString(raw[:]), nil
}

// parsedToken is a syntactically valid token of a held key, with the hash
// the store indexes it by.
type parsedToken struct {
	keyID string
	hash  []byte
}

// parseToken rejects malformed tokens and tokens of unknown keys without
// touching the store.
func (r *keyring) parseToken(token string) (parsedToken, error) {
	if len(token) != tokenLength {
		// Covers empty, oversized and truncated tokens before any decoding.
		return parsedToken{}, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	var src [tokenLength]byte // on the stack: []byte(token) would allocate
	copy(src[:], token)
	// One allocation holds the decoded token and, after it, its hash: the
	// hasher keeps its input on the heap anyway.
	buf := make([]byte, rawTokenSize, rawTokenSize+sha256.Size)
	n, err := tokenEncoding.Decode(buf, src[:])
	if err != nil || n != rawTokenSize {
		return parsedToken{}, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	k := r.byRawID(buf[:keyIDSize])
	if k == nil {
		return parsedToken{}, fmt.Errorf("%w: unknown key", ErrInvalidToken)
	}
	return parsedToken{keyID: k.id, hash: k.lookupHash(buf[rawTokenSize:rawTokenSize], buf[keyIDSize:])}, nil
}

// matches checks, in constant time, that stored material is this token's.
// The store found the row by this hash; checking it again guards against a
// Store that returns the wrong row (a lax index or collation).
func (p *parsedToken) matches(m TokenMaterial) bool {
	return m.KeyID == p.keyID && hmac.Equal(m.Hash, p.hash)
}
