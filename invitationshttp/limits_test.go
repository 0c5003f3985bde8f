package invitationshttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
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
	assert.Equal(t, string(invitations.LimitResendCooldown), p["limit"])

	w.invite("bob@example.com") // the second mail of the day
	w.clock.Advance(time.Hour)
	rec, _ = w.call("POST", "/accounts/acme/invitations", map[string]any{"email": "cy@example.com", "roles": []string{"admin"}})
	p = requireProblem(t, rec, http.StatusTooManyRequests, "rate_limited")
	wait := 24*time.Hour - time.Hour - 20*time.Second - 500*time.Millisecond
	assert.Equal(t, "82780", rec.Header().Get("Retry-After"), "until Ada's invite leaves the window: %s", wait)
	assert.Equal(t, string(invitations.LimitMailsPerDay), p["limit"])
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

// TestAdminResendCooldownUnderConcurrentPosts: 20 resends of one
// invitation posted at once, while the winner's mail is in flight: one
// 200, the others 429, one mail; the invitation's JSON says when a resend
// becomes possible, and its actions leave resend out until then.
func TestAdminResendCooldownUnderConcurrentPosts(t *testing.T) {
	clock := invitationstest.NewClock(start)
	mailer := invitationstest.NewMailer()
	slow := invitations.MailerFunc(func(ctx context.Context, m invitations.Message) error {
		time.Sleep(20 * time.Millisecond)
		return mailer.Send(ctx, m)
	})
	svc, err := invitations.New(memstore.New(), slow, invitations.Config{
		Secret: secret, AcceptURL: acceptURL, Now: clock.Now, Limits: invitations.Limits{ResendCooldown: time.Hour},
	})
	require.NoError(t, err)
	api := newAdmin(t, svc, invitationshttp.AdminConfig{
		Authorize: func(*http.Request, string) error { return nil },
	})
	post := func(path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}
	rec := post("/accounts/acme/invitations", `{"email":"ada@example.com","roles":["admin"]}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var created map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))
	assert.NotContains(t, created["actions"], "resend")
	assert.Equal(t, clock.Now().Add(time.Hour).Format(time.RFC3339Nano), created["resend_allowed_at"])

	clock.Advance(2 * time.Hour)
	codes := make([]int, 20)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { codes[i] = post("/accounts/acme/invitations/"+created["id"].(string)+"/resend", "").Code })
	}
	wg.Wait()
	ok := 0
	for _, code := range codes {
		if code == http.StatusOK {
			ok++
			continue
		}
		assert.Equal(t, http.StatusTooManyRequests, code)
	}
	assert.Equal(t, 1, ok)
	assert.Len(t, mailer.Messages(), 2, "the invite and one resend")
}
