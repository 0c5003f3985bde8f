package invitations_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func TestListNewestFirstAcrossPages(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	var want []uuid.UUID
	for i := range 7 {
		inv, _ := h.invite(fmt.Sprintf("user%d@example.com", i))
		want = append([]uuid.UUID{inv.ID}, want...)
		h.clock.Advance(time.Minute)
	}
	_, err := h.svc.Invite(ctx, input("acct-2", "other@example.com"))
	require.NoError(t, err)

	var got []uuid.UUID
	q := invitations.ListQuery{AccountID: "acct-1", Limit: 3}
	pages := 0
	for {
		page, err := h.svc.List(ctx, q)
		require.NoError(t, err)
		pages++
		for _, inv := range page.Invitations {
			got = append(got, inv.ID)
			assertNoTokenSecrets(t, inv.Token)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)

	exact, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Limit: 7})
	require.NoError(t, err)
	assert.Len(t, exact.Invitations, 7)
	assert.Empty(t, exact.Next, "a full last page has no next cursor")
}

func TestListFiltersByStatusAtNow(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	expired, _ := h.inStatus(invitations.StatusExpired)
	pending, _ := h.inStatus(invitations.StatusPending)
	accepted, _ := h.inStatus(invitations.StatusAccepted)
	revoked, _ := h.inStatus(invitations.StatusRevoked)
	declined, _ := h.inStatus(invitations.StatusDeclined)
	for status, want := range map[invitations.Status]uuid.UUID{
		invitations.StatusPending: pending.ID, invitations.StatusExpired: expired.ID,
		invitations.StatusAccepted: accepted.ID, invitations.StatusRevoked: revoked.ID,
		invitations.StatusDeclined: declined.ID,
	} {
		page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Status: status})
		require.NoError(t, err)
		require.Len(t, page.Invitations, 1, status)
		assert.Equal(t, want, page.Invitations[0].ID, status)
	}

	// The filter is judged at the Service's clock: a week on, pending is expired.
	h.clock.Advance(week)
	page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Status: invitations.StatusPending})
	require.NoError(t, err)
	assert.Empty(t, page.Invitations)
}

func TestListLimits(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for i := range invitations.MaxPageSize + 1 {
		h.invite(fmt.Sprintf("u%d@example.com", i))
	}
	page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	assert.Len(t, page.Invitations, invitations.DefaultPageSize, "zero Limit means 50")
	assert.NotEmpty(t, page.Next)
	page, err = h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Limit: 10_000})
	require.NoError(t, err)
	assert.Len(t, page.Invitations, invitations.MaxPageSize, "Limit is capped at 500")
	assert.NotEmpty(t, page.Next)
}

func TestListRejectsBadQueries(t *testing.T) {
	h := newHarness(t)
	for name, q := range map[string]invitations.ListQuery{
		"no account":     {},
		"unknown status": {AccountID: "acct-1", Status: "lost"},
		"negative limit": {AccountID: "acct-1", Limit: -1},
		"bad cursor":     {AccountID: "acct-1", After: "not-a-cursor"},
		"cursor charset": {AccountID: "acct-1", After: "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"},
	} {
		_, err := h.svc.List(context.Background(), q)
		require.ErrorIs(t, err, invitations.ErrInvalidInput, name)
	}
}

// TestForgedCursorIsInputError: a well-formed cursor whose time no
// invitation can have is refused before the store sees it.
func TestForgedCursorIsInputError(t *testing.T) {
	h := newHarness(t)
	h.invite("ada@example.com")
	for _, micros := range []int64{-1 << 62, 1 << 62, -62135596800000000 - 1, 253402300800000000} {
		var raw [24]byte
		binary.BigEndian.PutUint64(raw[:8], uint64(micros))
		_, err := h.svc.List(context.Background(), invitations.ListQuery{AccountID: "acct-1", After: base64.RawURLEncoding.EncodeToString(raw[:])})
		var inputErr *invitations.InputError
		require.ErrorAs(t, err, &inputErr, "micros %d", micros)
		assert.Equal(t, "after", inputErr.Field)
	}
}

// TestSearchAndCount: the Users page's search box and tab badges.
func TestSearchAndCount(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, email := range []string{"ada@example.com", "adam@example.com", "bob@example.com", "Adele@Example.com"} {
		h.invite(email)
		h.clock.Advance(time.Second)
	}
	_, err := h.svc.Invite(ctx, input("acct-2", "ada2@example.com"))
	require.NoError(t, err)

	emails := func(q invitations.ListQuery) []string {
		t.Helper()
		q.AccountID = "acct-1"
		var out []string
		for {
			page, err := h.svc.List(ctx, q)
			require.NoError(t, err)
			for _, inv := range page.Invitations {
				out = append(out, inv.Email)
			}
			if page.Next == "" {
				return out
			}
			q.After = page.Next
		}
	}
	assert.Equal(t, []string{"adele@example.com", "adam@example.com", "ada@example.com"}, emails(invitations.ListQuery{Search: " AD ", Limit: 1}),
		"case-insensitive prefix, newest first, across pages")
	assert.Equal(t, []string{"ada@example.com"}, emails(invitations.ListQuery{Search: "ada@"}))
	assert.Empty(t, emails(invitations.ListQuery{Search: "example"}), "a prefix, not a substring")
	assert.Empty(t, emails(invitations.ListQuery{Search: "ädä"}), "no email holds non-ASCII")
	_, err = h.svc.Revoke(ctx, "acct-1", h.mustFind("adam@example.com").ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"adele@example.com", "ada@example.com"}, emails(invitations.ListQuery{Search: "ad", Status: invitations.StatusPending}))
	_, err = h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Search: "a\x00"})
	var inputErr *invitations.InputError
	require.ErrorAs(t, err, &inputErr)
	assert.Equal(t, "search", inputErr.Field)

	h.clock.Advance(week - 2*time.Second) // the first two have expired
	counts, err := h.svc.Count(ctx, "acct-1")
	require.NoError(t, err)
	assert.Equal(t, map[invitations.Status]int{
		invitations.StatusPending: 1, invitations.StatusExpired: 2, invitations.StatusRevoked: 1,
		invitations.StatusAccepted: 0, invitations.StatusDeclined: 0,
	}, counts)
	counts, err = h.svc.Count(ctx, "nobody")
	require.NoError(t, err)
	assert.Len(t, counts, 5, "every status is a key")
}

func TestListPageJSON(t *testing.T) {
	h := newHarness(t)
	page, err := h.svc.List(context.Background(), invitations.ListQuery{AccountID: "empty"})
	require.NoError(t, err)
	b, err := json.Marshal(page)
	require.NoError(t, err)
	assert.JSONEq(t, `{"invitations":[],"next":""}`, string(b))

	h.invite("ada@example.com")
	h.invite("bob@example.com")
	page, err = h.svc.List(context.Background(), invitations.ListQuery{AccountID: "acct-1", Limit: 1})
	require.NoError(t, err)
	b, err = json.Marshal(page)
	require.NoError(t, err)
	var decoded map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &decoded))
	assert.Len(t, decoded, 2)
	assert.JSONEq(t, `"`+page.Next+`"`, string(decoded["next"]))
	var list []map[string]any
	require.NoError(t, json.Unmarshal(decoded["invitations"], &list))
	require.Len(t, list, 1)
	assert.Equal(t, "bob@example.com", list[0]["email"])
}
