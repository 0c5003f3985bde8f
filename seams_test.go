package invitations_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// members is a host's membership table for Config.IsMember.
type members struct {
	mu     sync.Mutex
	emails map[string]bool // "account/email"
	asked  []string
	err    error
}

func (m *members) isMember(_ context.Context, accountID, email string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = append(m.asked, email)
	return m.emails[accountID+"/"+email], m.err
}

func (m *members) add(accountID, email string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.emails[accountID+"/"+email] = true
}

func TestIsMemberRefusesAMembersEmail(t *testing.T) {
	ctx := context.Background()
	m := &members{emails: map[string]bool{"acct-1/ada@example.com": true}}
	h := newHarness(t, func(c *invitations.Config) { c.IsMember = m.isMember })

	_, err := h.svc.Invite(ctx, input("acct-1", "  Ada@Example.COM "))
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	assert.Equal(t, []string{"ada@example.com"}, m.asked, "IsMember sees the normalized email")
	assert.Zero(t, h.store.Len(), "nothing stored")
	assert.Empty(t, h.mailer.Messages(), "nothing sent")

	_, err = h.svc.Invite(ctx, input("acct-2", "ada@example.com"))
	require.NoError(t, err, "a member of another account can be invited")

	// Became a member after the invitation was sent: Resend and Regenerate
	// refuse, and change nothing.
	inv, _ := h.invite("bob@example.com")
	m.add("acct-1", "bob@example.com")
	sent := len(h.mailer.Messages())
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	h.clock.Advance(week)
	_, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	assert.Len(t, h.mailer.Messages(), sent)
	assert.Equal(t, inv.Version, h.get(inv.ID).Version, "nothing stored")
}

func TestIsMemberErrorIsReturnedWrapped(t *testing.T) {
	ctx := context.Background()
	down := errors.New("members table unreachable")
	m := &members{emails: map[string]bool{}, err: down}
	h := newHarness(t, func(c *invitations.Config) { c.IsMember = m.isMember })
	_, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, down)
	assert.NotErrorIs(t, err, invitations.ErrAlreadyMember)
	assert.Zero(t, h.store.Len())
	assert.Empty(t, h.mailer.Messages())
}

func TestWithActorNamesWhoDidIt(t *testing.T) {
	h := newHarness(t)
	admin := invitations.WithActor(context.Background(), "grace@acme.test")
	inv, err := h.svc.Invite(admin, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	_, err = h.svc.Resend(invitations.WithActor(context.Background(), "linus@acme.test"), "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.CopyLink(invitations.WithActor(context.Background(), "linus@acme.test"), "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.Revoke(context.Background(), "acct-1", inv.ID)
	require.NoError(t, err)

	got := map[invitations.EventKind][]string{}
	for _, e := range h.recorded() {
		got[e.Kind] = append(got[e.Kind], e.Actor)
	}
	assert.Equal(t, []string{"grace@acme.test"}, got[invitations.EventInvited])
	assert.Equal(t, []string{"linus@acme.test"}, got[invitations.EventResent])
	assert.Equal(t, []string{"linus@acme.test"}, got[invitations.EventLinkCopied])
	assert.Equal(t, []string{""}, got[invitations.EventRevoked], "no actor given")
	assert.Equal(t, []string{"grace@acme.test", "linus@acme.test"}, got[invitations.EventDelivered],
		"a delivery is reported by the call that sent it")
	for _, msg := range h.mailer.Messages() {
		assert.NotContains(t, msg.Text+msg.HTML+msg.Subject, "acme.test", "the actor is never mailed")
	}
}

// TestActionsOfferExactlyWhatSucceeds: in every status, and for a link
// whose secret was dropped, each action Actions offers succeeds and each it
// leaves out fails. Every pair gets a world of its own.
func TestActionsOfferExactlyWhatSucceeds(t *testing.T) {
	ctx := context.Background()
	all := []invitations.Action{invitations.ActionResend, invitations.ActionCopyLink,
		invitations.ActionRegenerate, invitations.ActionUpdateRoles, invitations.ActionRevoke}
	for _, status := range []invitations.Status{invitations.StatusPending, invitations.StatusExpired,
		invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked, "retired"} {
		for _, action := range all {
			t.Run(string(status)+"/"+string(action), func(t *testing.T) {
				h := newHarness(t)
				svc := h.svc
				var inv *invitations.Invitation
				if status == "retired" {
					inv, _ = h.invite("ada@example.com")
					cfg := h.cfg
					cfg.Secret = secretB // secret A dropped
					svc = h.service(cfg)
					var err error
					inv, err = svc.Get(ctx, "acct-1", inv.ID)
					require.NoError(t, err)
				} else {
					inv, _ = h.inStatus(status)
				}
				err := try(ctx, svc, inv, action)
				if slices.Contains(svc.Actions(inv), action) {
					assert.NoError(t, err, "offered but fails")
				} else {
					assert.Error(t, err, "not offered but succeeds")
				}
			})
		}
	}

	// The pure rule does not know about secrets; Actions does.
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	cfg := h.cfg
	cfg.Secret = secretB
	rotated := h.service(cfg)
	got, err := rotated.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, []invitations.Action{invitations.ActionRegenerate, invitations.ActionUpdateRoles, invitations.ActionRevoke},
		rotated.Actions(got))
	assert.Contains(t, got.ActionsAt(h.clock.Now()), invitations.ActionResend, "ActionsAt is the rule alone")
	cfg.PreviousSecrets = [][]byte{secretA}
	assert.Equal(t, got.ActionsAt(h.clock.Now()), h.service(cfg).Actions(got), "a secret still held changes nothing")
	page, err := rotated.List(ctx, invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	assert.Equal(t, rotated.Actions(got), rotated.Actions(page.Invitations[0]), "List keeps the key id too")
	assertNoTokenSecrets(t, page.Invitations[0].Token)
}

// try runs one admin action.
func try(ctx context.Context, svc *invitations.Service, inv *invitations.Invitation, a invitations.Action) error {
	var err error
	switch a {
	case invitations.ActionResend:
		_, err = svc.Resend(ctx, inv.AccountID, inv.ID)
	case invitations.ActionCopyLink:
		_, err = svc.CopyLink(ctx, inv.AccountID, inv.ID)
	case invitations.ActionRegenerate:
		_, err = svc.Regenerate(ctx, inv.AccountID, inv.ID)
	case invitations.ActionUpdateRoles:
		_, err = svc.UpdateRoles(ctx, inv.AccountID, inv.ID, []string{"viewer"})
	case invitations.ActionRevoke:
		_, err = svc.Revoke(ctx, inv.AccountID, inv.ID)
	}
	return err
}

// TestEndedLinkStillSaysWhatHappened: Lookup, Accept and Decline of an
// ended invitation return it with ErrNotPending, so the page can tell
// "you already joined" from "declined" from "withdrawn", and a retried
// Accept learns the account and roles.
func TestEndedLinkStillSaysWhatHappened(t *testing.T) {
	ctx := context.Background()
	for _, status := range []invitations.Status{invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		t.Run(string(status), func(t *testing.T) {
			h := newHarness(t)
			inv, token := h.inStatus(status)
			for name, call := range map[string]func(context.Context, string) (*invitations.Invitation, error){
				"Lookup": h.svc.Lookup, "Accept": h.svc.Accept, "Decline": h.svc.Decline,
			} {
				got, err := call(ctx, token)
				require.ErrorIs(t, err, invitations.ErrNotPending, name)
				require.NotNil(t, got, name)
				assert.Equal(t, inv.ID, got.ID, name)
				assert.Equal(t, status, got.State, name)
				assert.Equal(t, "acct-1", got.AccountID, name)
				assert.Equal(t, []string{"admin"}, got.Roles, name)
				assertNoTokenSecrets(t, got.Token)
			}
			assert.Equal(t, inv.Version, h.get(inv.ID).Version, "nothing changed")
		})
	}
	h := newHarness(t)
	_, token := h.inStatus(invitations.StatusExpired)
	got, err := h.svc.Accept(ctx, token)
	require.ErrorIs(t, err, invitations.ErrExpired)
	require.NotNil(t, got)
	got, err = h.svc.Lookup(ctx, strings.Repeat("A", 48))
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	assert.Nil(t, got)
}

// TestInTxSendsNoMail: a Service from InTx records the mail as due and
// sends none; Deliver sends it once, and refuses inside the transaction.
func TestInTxSendsNoMail(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	tx := h.svc.InTx(h.store) // memstore has no transactions; the mail rule is the Service's
	inv, err := tx.Invite(ctx, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	assert.Empty(t, h.mailer.Messages())
	assert.Equal(t, invitations.MessageInvite, inv.Delivery.Due)
	assert.Equal(t, inv.Delivery, h.get(inv.ID).Delivery, "returned as stored")
	_, err = tx.Deliver(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrInTx)
	_, err = tx.DeliverDue(ctx)
	require.ErrorIs(t, err, invitations.ErrInTx)
	kinds := []invitations.EventKind{}
	for _, e := range h.recorded() {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []invitations.EventKind{invitations.EventInvited}, kinds, "events still reach OnEvent; no delivery yet")

	got, err := h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	require.Len(t, h.mailer.Messages(), 1)
	assert.Empty(t, got.Delivery.Due)
	assert.Equal(t, got.Delivery, h.get(inv.ID).Delivery)
	got, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Len(t, h.mailer.Messages(), 1, "nothing due: no-op")
	assert.Equal(t, h.get(inv.ID).Version, got.Version)

	_, err = tx.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Len(t, h.mailer.Messages(), 1)
	h.mailer.FailNext(1, errOutage)
	_, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrDelivery)
	got, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.NoError(t, err, "backing off: left to DeliverDue")
	assert.Len(t, h.mailer.Messages(), 1)
	assert.Equal(t, invitations.MessageResend, got.Delivery.Due)
	_, err = h.svc.Deliver(ctx, "acct-1", uuid.New())
	require.ErrorIs(t, err, invitations.ErrNotFound)
}

// TestDeliverSendsOnceAgainstDeliverDue: Deliver and DeliverDue racing for
// the same due messages send each exactly once.
func TestDeliverSendsOnceAgainstDeliverDue(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	counting := newCountingMailer()
	svc, err := invitations.New(h.store, counting, h.cfg)
	require.NoError(t, err)
	var ids []uuid.UUID
	for i := range 20 {
		inv, err := svc.InTx(h.store).Invite(ctx, input("acct-1", strings.Repeat("x", i+1)+"@example.com"))
		require.NoError(t, err)
		ids = append(ids, inv.ID)
	}
	together(goroutines, func(i int) {
		if i%2 == 0 {
			_, _ = svc.DeliverDue(ctx)
			return
		}
		for _, id := range ids {
			_, _ = svc.Deliver(ctx, "acct-1", id)
		}
	})
	for _, id := range ids {
		assert.Equal(t, []invitations.MessageKind{invitations.MessageInvite}, counting.deliveries(id))
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

func (h *harness) mustFind(email string) *invitations.Invitation {
	h.t.Helper()
	page, err := h.svc.List(context.Background(), invitations.ListQuery{AccountID: "acct-1", Search: email})
	require.NoError(h.t, err)
	require.Len(h.t, page.Invitations, 1)
	return page.Invitations[0]
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

// ctxKey marks the context a host passes to a call.
type ctxKey struct{}

// TestOnEventGetsTheCallsContext: OnEvent runs with the caller's own
// context (a host keeps its transaction there for the audit row), for
// every event of the call, the delivery included.
func TestOnEventGetsTheCallsContext(t *testing.T) {
	var seen []any
	h := newHarness(t, func(c *invitations.Config) {
		c.OnEvent = func(ctx context.Context, e invitations.Event) { seen = append(seen, ctx.Value(ctxKey{})) }
	})
	ctx := context.WithValue(context.Background(), ctxKey{}, "the host's tx")
	_, err := h.svc.InTx(h.store).Invite(ctx, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	_, err = h.svc.Invite(ctx, input("acct-1", "bob@example.com"))
	require.NoError(t, err)
	assert.Equal(t, []any{"the host's tx", "the host's tx", "the host's tx"}, seen, "invited, invited, delivered")
}
