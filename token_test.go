package invitations

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func TestIssuedTokensAreURLSafeUniqueAndRederivable(t *testing.T) {
	ring, err := newKeyring(testSecret, nil)
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 1000 {
		token, m := ring.issue()
		require.Len(t, token, tokenLength)
		assert.NotContains(t, token, "=", "no padding")
		_, err := base64.RawURLEncoding.DecodeString(token)
		require.NoError(t, err, "base64url alphabet")
		require.False(t, seen[token], "tokens never repeat")
		seen[token] = true

		require.Len(t, []byte(m.Nonce), nonceSize, "256 bits of randomness per link")
		again, err := ring.rederive(m)
		require.NoError(t, err)
		require.Equal(t, token, again, "the stored material gives back the same token")

		p, err := ring.parseToken(token)
		require.NoError(t, err)
		require.Equal(t, []byte(m.Hash), p.hash, "lookup hash of the presented token equals the stored one")
		require.True(t, p.matches(m))
		require.NotContains(t, token, base64.RawURLEncoding.EncodeToString(m.Nonce))
	}
}

func TestTokenMaterialIsUselessWithoutTheSecret(t *testing.T) {
	ring, err := newKeyring(testSecret, nil)
	require.NoError(t, err)
	other, err := newKeyring([]byte(strings.Repeat("x", 32)), nil)
	require.NoError(t, err)
	token, m := ring.issue()
	m.KeyID = other.current().id // pretend the other secret issued it
	forged, err := other.rederive(m)
	require.NoError(t, err)
	assert.NotEqual(t, token, forged, "the nonce alone does not give the token")
}

func TestKeyringRotation(t *testing.T) {
	old, err := newKeyring(testSecret, nil)
	require.NoError(t, err)
	token, m := old.issue()

	newSecret := []byte(strings.Repeat("n", 40))
	rotated, err := newKeyring(newSecret, [][]byte{testSecret})
	require.NoError(t, err)
	p, err := rotated.parseToken(token)
	require.NoError(t, err, "the key id in the token finds the previous secret")
	assert.Equal(t, []byte(m.Hash), p.hash)
	again, err := rotated.rederive(m)
	require.NoError(t, err)
	assert.Equal(t, token, again)
	fresh, fm := rotated.issue()
	assert.NotEqual(t, m.KeyID, fm.KeyID, "new links use the new secret")
	_, err = old.parseToken(fresh)
	require.ErrorIs(t, err, ErrInvalidToken)

	dropped, err := newKeyring(newSecret, nil)
	require.NoError(t, err)
	_, err = dropped.parseToken(token)
	require.ErrorIs(t, err, ErrInvalidToken)
	_, err = dropped.rederive(m)
	require.ErrorIs(t, err, ErrInvalidToken)

	same, err := newKeyring(testSecret, [][]byte{testSecret})
	require.NoError(t, err, "listing the current secret again is harmless")
	assert.Len(t, same.keys, 1)
}

// FuzzParseToken: any string is either a token of a held key or rejected
// with ErrInvalidToken; nothing panics.
func FuzzParseToken(f *testing.F) {
	ring, err := newKeyring(testSecret, nil)
	require.NoError(f, err)
	token, _ := ring.issue()
	for _, seed := range []string{"", "A", token, token[:47], token + "A", strings.Repeat("=", 48), "é" + token[2:], token[:47] + "\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ring.parseToken(s)
		if err != nil {
			require.True(t, errors.Is(err, ErrInvalidToken), "only ErrInvalidToken, got %v", err)
			require.True(t, strings.HasPrefix(err.Error(), ErrInvalidToken.Error()))
			if len(s) >= 8 {
				require.NotContains(t, err.Error(), s, "the token is never echoed")
			}
			return
		}
		require.Len(t, s, tokenLength)
		require.NotEmpty(t, p.keyID)
		require.Len(t, p.hash, 32)
	})
}

// FuzzNormalizeEmail: no panic; accepted addresses are ASCII, lower-case,
// at most 254 bytes, and a fixed point; rejections are InputErrors.
func FuzzNormalizeEmail(f *testing.F) {
	for _, seed := range []string{"ada@example.com", " Ada@Example.COM ", "Ada <ada@example.com>", "a@b", "@", "a@b.c", "ä@b.de",
		"a..b@c.de", "a@xn--bcher-kva.ch", "a@-b.com", "a@b.123", "\x00@a.com", strings.Repeat("a", 300) + "@b.com"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			var inputErr *InputError
			require.ErrorAs(t, err, &inputErr)
			require.ErrorIs(t, err, ErrInvalidInput)
			require.Equal(t, "email", inputErr.Field)
			return
		}
		require.LessOrEqual(t, len(got), MaxEmailLength)
		require.Equal(t, strings.ToLower(got), got)
		require.Equal(t, 1, strings.Count(got, "@"))
		for i := 0; i < len(got); i++ {
			require.True(t, got[i] > ' ' && got[i] < 0x7f, "printable ASCII only")
		}
		again, err := NormalizeEmail(got)
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}
