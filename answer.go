package invitations

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lookup returns the invitation of a link, for the page the link opens. It
// changes nothing (mail scanners open links too). An expired link gives the
// invitation together with ErrExpired, so the page can say so; an
// accepted, declined or revoked invitation gives the invitation together
// with ErrNotPending, so the page can say which ("you already joined: sign
// in"); a malformed, unknown or superseded token gives nil and
// ErrInvalidToken.
func (s *Service) Lookup(ctx context.Context, token string) (*Invitation, error) {
	p, err := s.keys.parseToken(token)
	if err != nil {
		return nil, err
	}
	inv, err := s.resolve(ctx, &p)
	if err != nil {
		return nil, err
	}
	switch inv.StatusAt(s.clock()) {
	case StatusPending:
		return inv.stripToken(), nil
	case StatusExpired:
		return inv.stripToken(), ErrExpired
	}
	return inv.stripToken(), ErrNotPending
}

// Accept accepts the invitation of a link while the link is valid, and
// returns it: the caller then grants the invitee its Roles in its AccountID.
// Of any number of concurrent Accept, Decline and Revoke calls on one
// invitation exactly one succeeds. An expired link gives the invitation
// with ErrExpired. An invitation that already ended gives the invitation
// with ErrNotPending: an Accept whose reply was lost can be retried and
// still learn the account and roles (State is StatusAccepted). With
// Config.IsMember set, an invitee who already belongs to the account (who
// joined another way meanwhile) ends the invitation as accepted, since the
// person is in, and gets it with ErrAlreadyMember: grant nothing more.
//
// The link alone is not proof of who holds it (an admin may have copied
// it, see CopyLink): for a signed-in person use AcceptAs.
func (s *Service) Accept(ctx context.Context, token string) (*Invitation, error) {
	return s.answer(ctx, token, anyone, accepting)
}

// AcceptAs is Accept for a signed-in person whose email is email: when it
// is not the invitation's email (both normalized, see NormalizeEmail),
// nothing changes and it returns nil and ErrEmailMismatch, whatever the
// invitation's state, so a stranger holding the link learns nothing
// about it. The email check comes before every other, ErrInvalidToken
// for a link that is not one aside.
func (s *Service) AcceptAs(ctx context.Context, token, email string) (*Invitation, error) {
	return s.answer(ctx, token, signedIn(email), accepting)
}

// Decline declines the invitation of a link while the link is valid, with
// the same rules as Accept.
func (s *Service) Decline(ctx context.Context, token string) (*Invitation, error) {
	return s.answer(ctx, token, anyone, declining)
}

// DeclineAs is Decline for a signed-in person, with the email check of
// AcceptAs: the wrong person cannot decline either.
func (s *Service) DeclineAs(ctx context.Context, token, email string) (*Invitation, error) {
	return s.answer(ctx, token, signedIn(email), declining)
}

// answerer is who answers a link: anyone holding it, or a signed-in
// person whose email must be the invitation's.
type answerer struct {
	email    string
	signedIn bool
}

var anyone = answerer{}

func signedIn(email string) answerer { return answerer{email: email, signedIn: true} }

// mayAnswer refuses a signed-in person whose email is not inv's.
func (a answerer) mayAnswer(inv *Invitation) error {
	if !a.signedIn {
		return nil
	}
	if email, err := NormalizeEmail(a.email); err != nil || email != inv.Email {
		return ErrEmailMismatch
	}
	return nil
}

// answerKind is an invitee's answer: the event it makes and how it ends the
// invitation.
type answerKind struct {
	event EventKind
	end   func(inv *Invitation, now time.Time)
}

var (
	accepting = answerKind{EventAccepted, func(inv *Invitation, now time.Time) { inv.State, inv.AcceptedAt = StatusAccepted, now }}
	declining = answerKind{EventDeclined, func(inv *Invitation, now time.Time) { inv.State, inv.DeclinedAt = StatusDeclined, now }}
)

func (s *Service) answer(ctx context.Context, token string, who answerer, kind answerKind) (*Invitation, error) {
	p, err := s.keys.parseToken(token)
	if err != nil {
		return nil, err
	}
	byToken := func(ctx context.Context) (*Invitation, error) {
		inv, err := s.resolve(ctx, &p)
		if err != nil {
			return nil, err
		}
		if err := who.mayAnswer(inv); err != nil {
			return nil, err // before any state is judged: nothing to learn
		}
		return inv, nil
	}
	var member bool
	inv, _, ev, err := s.change(ctx, byToken, records(kind.event), func(inv *Invitation, now time.Time) error {
		if err := requireValid(inv, now, "ask for a new invitation"); err != nil {
			return err
		}
		if kind.event == EventAccepted {
			var err error
			if member, err = s.member(ctx, inv.AccountID, inv.Email); err != nil {
				return err
			}
		}
		kind.end(inv, now)
		dropMail(inv)
		return nil
	})
	if inv != nil && (errors.Is(err, ErrExpired) || errors.Is(err, ErrNotPending)) {
		return inv.stripToken(), err
	}
	if err != nil {
		return nil, err
	}
	s.report(ctx, ev)
	if member {
		return inv.stripToken(), ErrAlreadyMember
	}
	return inv.stripToken(), nil
}

// resolve finds the invitation of a parsed token.
func (s *Service) resolve(ctx context.Context, p *parsedToken) (*Invitation, error) {
	inv, err := s.store.GetByTokenHash(ctx, p.hash)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown or superseded", ErrInvalidToken)
	}
	if err != nil {
		return nil, storeError(err)
	}
	if !p.matches(inv.Token) {
		return nil, fmt.Errorf("%w: unknown or superseded", ErrInvalidToken)
	}
	return inv, nil
}
