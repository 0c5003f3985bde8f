package invitations_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	htmltemplate "html/template"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestDueMessageWithExpiredLinkIsDropped: a message still due when its
// link expires is not sent; its delivery is marked failed, visibly, and
// the menu offers a new invitation.
func TestDueMessageWithExpiredLinkIsDropped(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv := h.inviteUndelivered("ada@example.com")
	h.clock.Advance(week)

	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, Expired: 1}, r)
	assert.Empty(t, h.mailer.Messages(), "an expired link is not mailed")
	got := h.get(inv.ID)
	assert.Empty(t, got.Delivery.Due)
	assert.Equal(t, h.clock.Now(), got.Delivery.FailedAt)
	assert.Contains(t, got.Delivery.LastError, "expired")
	assert.True(t, got.Delivery.DeliveredAt.IsZero(), "not recorded as delivered")
	assert.Contains(t, h.svc.Actions(got), invitations.ActionRegenerate)
	events := h.recorded()
	assert.Equal(t, invitations.EventDeliveryFailed, events[len(events)-1].Kind)

	// The same through Deliver, for a message made in a transaction.
	h = newHarness(t)
	inv, err = h.svc.InTx(h.store).Invite(ctx, input("acct-1", "bob@example.com"))
	require.NoError(t, err)
	h.clock.Advance(week)
	got, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrDelivery)
	assert.Empty(t, h.mailer.Messages())
	assert.Equal(t, h.get(inv.ID).Delivery, got.Delivery)
	assert.False(t, got.Delivery.FailedAt.IsZero())
}

// TestControlCharactersNeverReachAHeader: line breaks and other control
// characters in the fields that messages print are refused, naming the
// field, and nothing is stored.
func TestControlCharactersNeverReachAHeader(t *testing.T) {
	ctx := context.Background()
	for field, adjust := range map[string]func(*invitations.InviteInput){
		"name":       func(in *invitations.InviteInput) { in.Name = "Ada\r\nBcc: evil@example.com" },
		"invited_by": func(in *invitations.InviteInput) { in.InvitedBy = "Grace\nHopper" },
		"metadata": func(in *invitations.InviteInput) {
			in.Metadata = map[string]string{invitations.MetadataAccountName: "Acme\r\nBcc: evil@example.com"}
		},
		"metadata ": func(in *invitations.InviteInput) { in.Metadata = map[string]string{"note": "tab\x01bell\x07"} },
	} {
		h := newHarness(t)
		in := input("acct-1", "ada@example.com")
		adjust(&in)
		_, err := h.svc.Invite(ctx, in)
		var inputErr *invitations.InputError
		require.ErrorAs(t, err, &inputErr, field)
		assert.Equal(t, strings.TrimSpace(field), inputErr.Field)
		assert.NotContains(t, err.Error(), "evil", "the rejected value is not echoed")
		assert.Zero(t, h.store.Len())
		assert.Empty(t, h.mailer.Messages())
	}
}

// TestSubjectIsOneShortLine: whatever the templates and metadata produce,
// a subject is one line of at most MaxSubjectLength characters.
func TestSubjectIsOneShortLine(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("Ünïcode Äccount ", 40) // 640 characters, under 1 KiB
	text := texttemplate.Must(texttemplate.New("").Parse(`
{{define "invite_subject"}}Join
{{.AccountName}}	now{{"\r"}}!{{end}}{{define "invite_text"}}{{.Link}}{{end}}
{{define "resend_subject"}}x{{end}}{{define "resend_text"}}{{.Link}}{{end}}
{{define "regenerate_subject"}}x{{end}}{{define "regenerate_text"}}{{.Link}}{{end}}`))
	html := htmltemplate.Must(htmltemplate.New("").Parse(`{{define "invite_html"}}{{.Link}}{{end}}{{define "resend_html"}}x{{end}}{{define "regenerate_html"}}x{{end}}`))
	for name, adjust := range map[string]func(*invitations.Config){
		"default messages": func(*invitations.Config) {},
		"templates":        func(c *invitations.Config) { c.Templates = &invitations.Templates{Text: text, HTML: html} },
	} {
		h := newHarness(t, adjust)
		in := input("acct-1", "ada@example.com")
		in.Metadata = map[string]string{invitations.MetadataAccountName: long}
		_, err := h.svc.Invite(ctx, in)
		require.NoError(t, err, name)
		subject := h.mailer.Last().Subject
		assert.LessOrEqual(t, utf8.RuneCountInString(subject), invitations.MaxSubjectLength, name)
		assert.True(t, utf8.ValidString(subject), name)
		assert.NotContains(t, subject, "\n", name)
		assert.NotContains(t, subject, "\r", name)
		assert.NotContains(t, subject, "\t", name)
		assert.True(t, strings.HasSuffix(subject, "…"), "%s: cut with an ellipsis: %q", name, subject)
	}
	h := newHarness(t, func(c *invitations.Config) { c.Templates = &invitations.Templates{Text: text, HTML: html} })
	_, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	assert.Equal(t, "Join acct-1 now !", h.mailer.Last().Subject, "line breaks folded into spaces")
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

// TestPanickingMailerIsAFailedAttempt: the panic stays inside the library,
// counts as one failed attempt, and the message is retried and finally
// given up like any other failure.
func TestPanickingMailerIsAFailedAttempt(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.Delivery.MaxAttempts = 2 })
	var calls atomic.Int64
	panicking := invitations.MailerFunc(func(_ context.Context, msg invitations.Message) error {
		calls.Add(1)
		panic("nil map in the mail provider's client: " + msg.Link)
	})
	svc := h.serviceWith(panicking)
	inv, err := svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	assert.NotContains(t, err.Error(), "token=", "the panic value (here, the link) is not repeated")
	d := h.get(inv.ID).Delivery
	assert.Equal(t, 1, d.Attempts)
	assert.Contains(t, d.LastError, "panicked")

	h.clock.Advance(time.Hour)
	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, GaveUp: 1}, r)
	assert.Equal(t, int64(2), calls.Load())
	assert.False(t, h.get(inv.ID).Delivery.FailedAt.IsZero(), "given up after MaxAttempts, not retried forever")
}

func (h *harness) serviceWith(m invitations.Mailer) *invitations.Service {
	h.t.Helper()
	svc, err := invitations.New(h.store, m, h.cfg)
	require.NoError(h.t, err)
	return svc
}

// TestPermanentErrorGivesUpAtOnce: a Mailer that says "permanent" is not
// retried, neither after Invite nor in DeliverDue.
func TestPermanentErrorGivesUpAtOnce(t *testing.T) {
	ctx := context.Background()
	refused := errors.New("550 5.1.1 mailbox does not exist")
	perm := invitations.Permanent(refused)
	assert.ErrorIs(t, perm, invitations.ErrPermanent)
	assert.ErrorIs(t, perm, refused)
	assert.Equal(t, refused.Error(), perm.Error())
	assert.NoError(t, invitations.Permanent(nil))
	assert.NotErrorIs(t, refused, invitations.ErrPermanent)

	h := newHarness(t)
	h.mailer.FailNext(1, fmt.Errorf("provider: %w", perm))
	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	require.ErrorIs(t, err, invitations.ErrPermanent)
	d := h.get(inv.ID).Delivery
	assert.Equal(t, invitations.Delivery{Attempts: 1, LastError: "provider: " + refused.Error(), FailedAt: start}, d)
	h.clock.Advance(time.Hour)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted)

	// A temporary failure first, then a permanent one in DeliverDue.
	h = newHarness(t)
	inv = h.inviteUndelivered("ada@example.com")
	h.mailer.FailNext(1, perm)
	h.clock.Advance(time.Hour)
	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, GaveUp: 1}, r)
	assert.Equal(t, 2, h.get(inv.ID).Delivery.Attempts, "not the five of MaxAttempts")
}

// recordFailing fails every Update after the first n, as a database that
// goes away between saving an invitation and recording its delivery.
type recordFailing struct {
	invitations.Store
	allowed atomic.Int64
}

var errDatabaseGone = errors.New("database connection lost")

func (s *recordFailing) Update(ctx context.Context, inv *invitations.Invitation, expected int64) error {
	if s.allowed.Add(-1) < 0 {
		return errDatabaseGone
	}
	return s.Store.Update(ctx, inv, expected)
}

// TestReturnedIsWhatIsStored: when recording the delivery fails, the call
// returns the invitation as the store holds it, not as it would have been.
func TestReturnedIsWhatIsStored(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	failing := &recordFailing{Store: h.store}
	svc, err := invitations.New(failing, h.mailer, h.cfg)
	require.NoError(t, err)

	inv, err := svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, errDatabaseGone)
	assert.Len(t, h.mailer.Messages(), 1, "the mail went out")
	stored := h.get(inv.ID)
	assert.Equal(t, stored.Version, inv.Version)
	assert.Equal(t, stored.Delivery, inv.Delivery)

	failing.allowed.Store(1) // Resend's own change lands, its record does not
	h.clock.Advance(time.Minute)
	inv, err = svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, errDatabaseGone)
	stored = h.get(inv.ID)
	assert.Equal(t, stored.Version, inv.Version)
	assert.Equal(t, stored.Delivery, inv.Delivery)
	assert.Equal(t, stored.SentAt, inv.SentAt)
}

// TestPurgeNeverDeletesAWorkingLink: however far ahead the cutoff, a
// pending invitation whose link still works at the Service's clock stays.
func TestPurgeNeverDeletesAWorkingLink(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	valid, token := h.invite("ada@example.com")
	accepted, _ := h.inStatus(invitations.StatusAccepted)
	expired, _ := h.inStatus(invitations.StatusExpired)

	n, err := h.svc.Purge(ctx, h.clock.Now().Add(30*day))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the accepted and the expired ones")
	for _, gone := range []uuid.UUID{accepted.ID, expired.ID} {
		_, err := h.svc.Get(ctx, "acct-1", gone)
		require.ErrorIs(t, err, invitations.ErrNotFound)
	}
	assert.Equal(t, valid.ID, h.get(valid.ID).ID)
	_, err = h.svc.Accept(ctx, token)
	require.NoError(t, err, "the link still works")
}

// TestAccountIDsCannotBeConfused: " acme" and "acme" must not be two
// accounts by accident; IDs with surrounding spaces or control characters
// are refused by every call that takes one.
func TestAccountIDsCannotBeConfused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, bad := range []string{" acme", "acme ", "ac\nme", "acme\x00", "\t", ""} {
		calls := map[string]error{}
		_, calls["Invite"] = h.svc.Invite(ctx, input(bad, "ada@example.com"))
		_, calls["List"] = h.svc.List(ctx, invitations.ListQuery{AccountID: bad})
		_, calls["Count"] = h.svc.Count(ctx, bad)
		_, calls["Get"] = h.svc.Get(ctx, bad, uuid.New())
		_, calls["Revoke"] = h.svc.Revoke(ctx, bad, uuid.New())
		for name, err := range calls {
			var inputErr *invitations.InputError
			require.ErrorAs(t, err, &inputErr, "%s(%q)", name, bad)
			assert.Equal(t, "account_id", inputErr.Field)
		}
	}
	assert.Zero(t, h.store.Len())
}

// TestBackoffIsCappedAndJittered: every retry waits between half and all
// of min(Backoff×2^(n-1), MaxBackoff), and the waits differ.
func TestBackoffIsCappedAndJittered(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) {
		// A cap that is not Backoff times a power of two: reached by min(), not by the doubling alone.
		c.Delivery = invitations.DeliveryPolicy{MaxAttempts: 7, Backoff: time.Minute, MaxBackoff: 3 * time.Minute}
	})
	h.mailer.FailNext(1_000_000, errOutage)
	var ids []uuid.UUID
	for i := range 40 {
		inv, err := h.svc.Invite(ctx, input("acct-1", fmt.Sprintf("u%d@example.com", i)))
		require.ErrorIs(t, err, invitations.ErrDelivery)
		ids = append(ids, inv.ID)
	}
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt < 7; attempt++ {
		ceiling := min(time.Minute<<(attempt-1), 3*time.Minute)
		latest := time.Time{}
		for _, id := range ids {
			d := h.get(id).Delivery
			require.Equal(t, attempt, d.Attempts)
			wait := d.NextAttempt.Sub(h.clock.Now())
			assert.GreaterOrEqual(t, wait, ceiling/2, "attempt %d", attempt)
			assert.LessOrEqual(t, wait, ceiling, "attempt %d: capped at MaxBackoff", attempt)
			seen[wait] = true
			if d.NextAttempt.After(latest) {
				latest = d.NextAttempt
			}
		}
		h.clock.Set(latest)
		_, err := h.svc.DeliverDue(ctx)
		require.NoError(t, err)
	}
	assert.Greater(t, len(seen), 40, "jitter: waits are not all alike")
}

// TestBackoffStaysCappedOverManyAttempts: sixty retries later the wait is
// still within the cap (the doubling must not overflow into the past).
func TestBackoffStaysCappedOverManyAttempts(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) {
		c.TTL = 365 * day
		c.Delivery = invitations.DeliveryPolicy{MaxAttempts: 70, Backoff: time.Minute, MaxBackoff: 3 * time.Minute}
	})
	h.mailer.FailNext(1_000_000, errOutage)
	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	for attempt := 1; attempt < 70; attempt++ {
		d := h.get(inv.ID).Delivery
		require.Equal(t, attempt, d.Attempts)
		wait := d.NextAttempt.Sub(h.clock.Now())
		require.LessOrEqual(t, wait, 3*time.Minute, "attempt %d", attempt)
		require.GreaterOrEqual(t, wait, min(time.Minute<<(attempt-1), 3*time.Minute)/2, "attempt %d", attempt)
		h.clock.Set(d.NextAttempt)
		_, err := h.svc.DeliverDue(ctx)
		require.NoError(t, err)
	}
}

// vanishing lists due invitations that are then purged before the claim.
type vanishing struct {
	invitations.Store
	ghost *invitations.Invitation
}

func (s *vanishing) ListDue(ctx context.Context, now time.Time, limit int) ([]*invitations.Invitation, error) {
	due, err := s.Store.ListDue(ctx, now, limit)
	return append([]*invitations.Invitation{s.ghost.Clone()}, due...), err
}

// TestDeliverDueSkipsWhatWasPurged: an invitation listed as due but gone
// before the claim is skipped, and the others still go out.
func TestDeliverDueSkipsWhatWasPurged(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv := h.inviteUndelivered("ada@example.com")
	ghost := h.getStored(inv.ID)
	ghost.ID = uuid.New()
	ghost.Email = "ghost@example.com"
	svc, err := invitations.New(&vanishing{Store: h.store, ghost: ghost}, h.mailer, h.cfg)
	require.NoError(t, err)
	h.clock.Advance(time.Hour)
	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, Delivered: 1, Skipped: 1}, r)
	assert.Equal(t, inv.ID, h.mailer.Last().Invitation.ID)
}

// stuckDue lists the same full page of due invitations for ever, none of
// which can be claimed (another process keeps winning them).
type stuckDue struct {
	invitations.Store
	page  []*invitations.Invitation
	lists atomic.Int64
}

func (s *stuckDue) ListDue(context.Context, time.Time, int) ([]*invitations.Invitation, error) {
	s.lists.Add(1)
	out := make([]*invitations.Invitation, len(s.page))
	for i, inv := range s.page {
		out[i] = inv.Clone()
	}
	return out, nil
}

func (s *stuckDue) Update(context.Context, *invitations.Invitation, int64) error {
	return invitations.ErrConflict
}

// TestDeliverDueStopsWhenNothingCanBeClaimed: a full page of which nothing
// could be claimed ends the run instead of reading it again for ever.
func TestDeliverDueStopsWhenNothingCanBeClaimed(t *testing.T) {
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	stored := h.get(inv.ID)
	stuck := &stuckDue{Store: h.store}
	for range 100 {
		stuck.page = append(stuck.page, stored)
	}
	svc, err := invitations.New(stuck, h.mailer, h.cfg)
	require.NoError(t, err)
	done := make(chan invitations.DeliveryReport, 1)
	go func() {
		r, _ := svc.DeliverDue(context.Background())
		done <- r
	}()
	select {
	case r := <-done:
		assert.Equal(t, 100, r.Skipped)
		assert.Equal(t, int64(1), stuck.lists.Load())
	case <-time.After(10 * time.Second):
		t.Fatal("DeliverDue kept reading a page it could not claim")
	}
}

// laxStore answers Get with the invitation whatever account is asked, as
// a Store that forgot the account condition would.
type laxStore struct {
	invitations.Store
	row *invitations.Invitation
}

func (s *laxStore) Get(context.Context, string, uuid.UUID) (*invitations.Invitation, error) {
	return s.row.Clone(), nil
}

// TestAdminCallsCheckTheAccount: even over a Store that ignores the
// account, no admin call reaches another account's invitation.
func TestAdminCallsCheckTheAccount(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	svc, err := invitations.New(&laxStore{Store: h.store, row: h.getStored(inv.ID)}, h.mailer, h.cfg)
	require.NoError(t, err)
	calls := map[string]error{}
	_, calls["Get"] = svc.Get(ctx, "intruder", inv.ID)
	_, calls["Resend"] = svc.Resend(ctx, "intruder", inv.ID)
	_, calls["CopyLink"] = svc.CopyLink(ctx, "intruder", inv.ID)
	_, calls["Regenerate"] = svc.Regenerate(ctx, "intruder", inv.ID)
	_, calls["UpdateRoles"] = svc.UpdateRoles(ctx, "intruder", inv.ID, []string{"owner"})
	_, calls["Revoke"] = svc.Revoke(ctx, "intruder", inv.ID)
	_, calls["Deliver"] = svc.Deliver(ctx, "intruder", inv.ID)
	for name, err := range calls {
		assert.ErrorIs(t, err, invitations.ErrNotFound, name)
	}
	assert.Equal(t, inv.Version, h.get(inv.ID).Version, "nothing changed")
	assert.Len(t, h.mailer.Messages(), 1)
}

func (h *harness) getStored(id uuid.UUID) *invitations.Invitation {
	h.t.Helper()
	inv, err := h.store.Get(context.Background(), "acct-1", id)
	require.NoError(h.t, err)
	return inv
}
