package invitations_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestNoSecretInAnyOutput prints everything a user might print or log and
// looks for the token, the secrets and the stored token material in every
// form they could take.
func TestNoSecretInAnyOutput(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.PreviousSecrets = [][]byte{secretB} })
	h.mailer.FailNext(1, errors.New("smtp: 550 mailbox unavailable"))
	inv, deliveryErr := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, deliveryErr, invitations.ErrDelivery)
	_, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	msg := h.mailer.Last()
	token := h.lastToken()
	stored, err := h.store.Get(ctx, "acct-1", inv.ID) // as the Store holds it
	require.NoError(t, err)

	var secrets []string
	for _, b := range [][]byte{secretA, secretB, stored.Token.Nonce, stored.Token.Hash} {
		secrets = append(secrets, string(b), hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b),
			base64.RawURLEncoding.EncodeToString(b), fmt.Sprint([]byte(b)),
			strings.TrimPrefix(fmt.Sprintf("%#v", []byte(b)), "[]byte"))
	}
	rawToken, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	secrets = append(secrets, token, hex.EncodeToString(rawToken), fmt.Sprint(rawToken))

	var printed []string
	for _, v := range []any{stored, *stored, stored.Token, msg, &msg, h.cfg, h.svc, h.recorded()[0]} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			printed = append(printed, fmt.Sprintf(verb, v))
		}
	}
	var logs bytes.Buffer
	for _, handler := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(handler).Info("everything", "inv", stored, "inv_value", *stored, "msg", msg,
			"cfg", h.cfg, "svc", h.svc, "event", h.recorded()[0], "err", deliveryErr,
			"token", stored.Token, "token_ptr", &stored.Token, "nonce", stored.Token.Nonce)
	}
	printed = append(printed, logs.String(), deliveryErr.Error())
	for _, bad := range []string{"", "short", strings.Repeat("A", 48), token[:47] + "!"} {
		_, err := h.svc.Accept(ctx, bad)
		printed = append(printed, err.Error())
	}

	for _, out := range printed {
		for _, secret := range secrets {
			require.NotContains(t, out, secret)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", stored), "[redacted]")
	assert.Contains(t, fmt.Sprintf("%v", msg), "ada@example.com", "a message still prints its recipient")
}

func TestInvitationJSONHasNoTokenMaterial(t *testing.T) {
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	raw, err := h.store.Get(context.Background(), "acct-1", inv.ID) // with token material
	require.NoError(t, err)
	require.NotEmpty(t, raw.Token.Hash)
	data, err := json.Marshal(raw)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(data, &fields))
	for _, key := range []string{"id", "account_id", "email", "roles", "state", "created_at", "sent_at", "expires_at", "send_count", "version"} {
		assert.Contains(t, fields, key)
	}
	assert.NotContains(t, fields, "accepted_at", "zero end times are omitted")
	assert.NotContains(t, fields, "link_copied_at", "a link never copied says nothing")
	_, err = h.svc.CopyLink(context.Background(), "acct-1", inv.ID)
	require.NoError(t, err)
	data, err = json.Marshal(h.get(inv.ID))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"link_copied_at":"`+start.Format(time.RFC3339)+`"`)
	for key := range fields {
		assert.NotContains(t, strings.ToLower(key), "token")
		assert.NotContains(t, strings.ToLower(key), "hash")
		assert.NotContains(t, strings.ToLower(key), "nonce")
	}
}
