package main

// This file is all the code the demo writes for the invitations library:
// the Service with the app's policy (which roles an account has, its name,
// who is a member), the admin API behind the app's sign-in, the invitee's
// page with the app's sign-in and registration, the acceptance and the
// membership in one transaction, and the worker. The README counts it.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
)

// wire builds the Service, mounts the admin API and the invitee's page,
// and starts the worker (until ctx ends).
func (a *app) wire(ctx context.Context, cfg config) error {
	svc, errSvc := invitations.New(a.store, a.outbox, invitations.Config{
		Secret: cfg.secret, AcceptURL: cfg.baseURL + "/invitations/accept", Now: a.clock.Now,
		Limits: invitations.RecommendedLimits, // an invitation form is a spam vector
		Roles:  a.groups, AccountName: a.accountName, IsMember: a.isMember,
	})
	admin, errAdmin := invitationshttp.NewAdmin(svc, invitationshttp.AdminConfig{
		Authorize: func(r *http.Request, account string) error {
			user, err := a.adminOf(r, account) // errNotSignedIn gives 401, any other error 403
			*r = *r.WithContext(invitations.WithActor(r.Context(), user.Email))
			return err
		},
		InvitedBy: func(r *http.Request) string { user, _ := a.signedIn(r); return user.Name },
		// The page calls the API with the session cookie it signed in
		// with; /api/openapi.json says so to generated clients.
		Auth: invitationshttp.Auth{Scheme: invitationshttp.AuthCookie, Name: sessionCookie},
	})
	invitee, errInvitee := invitationshttp.NewInvitee(svc, invitationshttp.InviteeConfig{
		SignInURL: "/login", UserExists: a.userExists, Accept: a.registerThen(a.join),
		SignedIn: func(r *http.Request) (string, bool) { user, ok := a.signedIn(r); return user.Email, ok },
	})
	if err := errors.Join(errSvc, errAdmin, errInvitee); err != nil { // a nil svc fails the handlers too
		return err
	}
	a.svc = svc
	a.mux.Handle("/api/", http.StripPrefix("/api", admin))
	a.mux.Handle("/invitations/accept", invitee)
	go svc.Work(ctx, invitations.WorkConfig{Every: cfg.every, PurgeAfter: 90 * 24 * time.Hour, OnError: func(err error) { log.Print(err) }})
	return nil
}

// errNotSignedIn is the app's "sign in first", which the admin API
// answers with 401.
var errNotSignedIn = fmt.Errorf("not signed in: %w", invitationshttp.ErrUnauthenticated)

// join accepts, once a new user registered (newUser nil for a signed-in
// one): the acceptance and the membership commit together, or not at all.
func (a *app) join(r *http.Request, acc *invitationshttp.Acceptance, newUser *newUser) {
	tx, err := a.db.BeginTx(r.Context(), nil)
	if err != nil {
		acc.Finish(nil, err)
		return
	}
	defer tx.Rollback()
	ctx := context.WithValue(r.Context(), txKey{}, tx) // IsMember reads this transaction's rows
	inv, err := acc.Accept(ctx, a.svc.InTx(a.store.WithTx(tx)))
	if err == nil {
		err = a.addMember(ctx, tx, inv, newUser)
	}
	if err == nil || errors.Is(err, invitations.ErrAlreadyMember) { // a member already: the invitation ends too
		if commitErr := tx.Commit(); commitErr != nil {
			err = commitErr
		}
	}
	acc.Finish(inv, err) // a failure after Accept rolled back: the link still works
}
