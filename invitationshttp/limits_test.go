package invitationshttp_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestAdminLimits: over a limit the API answers 429 with Retry-After (whole
// seconds, rounded up), and a bulk row over it carries its own problem.
func TestAdminLimits(t *testing.T) {
	w := newWorld(t, func(c *invitations.Config) {
		c.Limits = invitations.Limits{MailsPerAccountPerDay: 2, ResendCooldown: time.Minute, MaxPendingPerAccount: 3}
	})
	ada := w.invite("ada@example.com")

	w.clock.Advance(20*time.Second + 500*time.Millisecond)
	rec, _ := w.call("POST", "/accounts/acme/invitations/"+ada["id"].(string)+"/resend", nil)
	p := requireProblem(t, rec, http.StatusTooManyRequests, "rate_limited")
	assert.Equal(t, "40", rec.Header().Get("Retry-After"), "39.5 s, rounded up")
	assert.Equal(t, 40.0, p["retry_after"])
	assert.Equal(t, invitations.LimitResendCooldown, p["limit"])

	w.invite("bob@example.com") // the second mail of the day
	w.clock.Advance(time.Hour)
	rec, _ = w.call("POST", "/accounts/acme/invitations", map[string]any{"email": "cy@example.com", "roles": []string{"admin"}})
	p = requireProblem(t, rec, http.StatusTooManyRequests, "rate_limited")
	wait := 24*time.Hour - time.Hour - 20*time.Second - 500*time.Millisecond
	assert.Equal(t, "82780", rec.Header().Get("Retry-After"), "until Ada's invite leaves the window: %s", wait)
	assert.Equal(t, invitations.LimitMailsPerDay, p["limit"])
	assert.Len(t, w.mailer.Messages(), 2)

	rec, out := w.call("POST", "/accounts/acme/invitations/bulk", map[string]any{"invitations": []map[string]any{
		{"email": "dee@example.com", "roles": []string{"admin"}},
	}})
	require.Equal(t, http.StatusMultiStatus, rec.Code, rec.Body.String())
	row := out["results"].([]any)[0].(map[string]any)
	assert.Equal(t, 429.0, row["status"])
	assert.Equal(t, "rate_limited", row["problem"].(map[string]any)["code"])
	assert.Equal(t, 82780.0, row["problem"].(map[string]any)["retry_after"])
	assert.Empty(t, rec.Header().Get("Retry-After"), "the rows say it, not the 207")

	// The pending cap: Ada, Bob and Eve hold working links; a fourth is
	// refused with 429 and no Retry-After (only answers or removals help).
	w.clock.Advance(24 * time.Hour)
	w.invite("eve@example.com")
	rec, _ = w.call("POST", "/accounts/acme/invitations", map[string]any{"email": "fay@example.com", "roles": []string{"admin"}})
	requireProblem(t, rec, http.StatusTooManyRequests, "too_many_pending")
	assert.Empty(t, rec.Header().Get("Retry-After"))
	rec, _ = w.call("DELETE", "/accounts/acme/invitations/"+ada["id"].(string), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	w.invite("fay@example.com")
}
