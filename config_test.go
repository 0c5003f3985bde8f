package invitations_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

func TestNewRejectsBadConfig(t *testing.T) {
	good := invitations.Config{Secret: secretA, AcceptURL: acceptURL}
	cases := map[string]func(*invitations.Config){
		"no secret":              func(c *invitations.Config) { c.Secret = nil },
		"short secret":           func(c *invitations.Config) { c.Secret = secretA[:31] },
		"short previous secret":  func(c *invitations.Config) { c.PreviousSecrets = [][]byte{[]byte("short")} },
		"no accept url":          func(c *invitations.Config) { c.AcceptURL = "" },
		"relative accept url":    func(c *invitations.Config) { c.AcceptURL = "/invitations/accept" },
		"host without scheme":    func(c *invitations.Config) { c.AcceptURL = "app.example.com/accept" },
		"ftp accept url":         func(c *invitations.Config) { c.AcceptURL = "ftp://app.example.com/accept" },
		"javascript accept url":  func(c *invitations.Config) { c.AcceptURL = "javascript:alert(1)" },
		"credentials in url":     func(c *invitations.Config) { c.AcceptURL = "https://user:pw@app.example.com/accept" },
		"unparseable accept url": func(c *invitations.Config) { c.AcceptURL = "https://app.example.com/%zz" },
		"negative ttl":           func(c *invitations.Config) { c.TTL = -time.Hour },
		"sub-second ttl":         func(c *invitations.Config) { c.TTL = time.Millisecond },
	}
	for name, adjust := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := good
			adjust(&cfg)
			svc, err := invitations.New(memstore.New(), invitationstest.NewMailer(), cfg)
			require.ErrorIs(t, err, invitations.ErrInvalidInput)
			assert.Nil(t, svc)
			assert.True(t, strings.HasPrefix(err.Error(), "invitations: "), err.Error())
			assert.NotContains(t, err.Error(), string(secretA))
		})
	}
	_, err := invitations.New(nil, invitationstest.NewMailer(), good)
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
	_, err = invitations.New(memstore.New(), nil, good)
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
	_, err = invitations.New(memstore.New(), invitationstest.NewMailer(), good)
	require.NoError(t, err)
}

func TestConfiguredTTL(t *testing.T) {
	h := newHarness(t, func(c *invitations.Config) { c.TTL = 48 * time.Hour })
	inv, token := h.invite("ada@example.com")
	assert.True(t, inv.ExpiresAt.Equal(start.Add(48*time.Hour)))
	h.clock.Advance(48 * time.Hour)
	_, err := h.svc.Accept(context.Background(), token)
	require.ErrorIs(t, err, invitations.ErrExpired)
}

func TestLinkKeepsTheAcceptURLsQueryAndFragment(t *testing.T) {
	for accept, wantPrefix := range map[string]string{
		"https://app.example.com/accept":                        "https://app.example.com/accept?token=",
		"https://app.example.com/accept?lang=en&ref=mail":       "https://app.example.com/accept?lang=en&ref=mail&token=",
		"https://app.example.com/accept?token=stale&lang=en":    "https://app.example.com/accept?lang=en&token=",
		"http://localhost:8080/i?":                              "http://localhost:8080/i?token=",
		"https://app.example.com/#/invitations/accept?tab=join": "https://app.example.com/?token=",
	} {
		h := newHarness(t, func(c *invitations.Config) { c.AcceptURL = accept })
		h.invite("ada@example.com")
		link := h.mailer.Last().Link
		assert.True(t, strings.HasPrefix(link, wantPrefix), "%s gave %s", accept, link)
		token, err := invitationstest.TokenFromLink(link)
		require.NoError(t, err)
		_, err = h.svc.Lookup(context.Background(), token)
		require.NoError(t, err, accept)
	}
	h := newHarness(t, func(c *invitations.Config) { c.AcceptURL = "https://app.example.com/#/accept" })
	h.invite("ada@example.com")
	assert.True(t, strings.HasSuffix(h.mailer.Last().Link, "#/accept"), "the fragment stays last")
}
