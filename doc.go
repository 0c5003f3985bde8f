// Package invitations gives a Go SaaS backend a complete, secure flow for
// inviting people into an account by email.
//
// An admin invites a person with one or more roles; the person receives a
// link, valid for seven days from when it was last sent (Config.TTL), and
// accepts or declines it. While the link is valid the admin can resend it
// (same link, fresh seven days) or copy it; once it has expired, the admin
// sends a new invitation (Regenerate: new link, the old one dead). An
// admin can change the roles of a pending invitation or remove it, which
// kills its link at once. One pending invitation per email per account;
// accounts never see each other's invitations.
//
// The Service enforces every rule, over a Store (memstore, sqlstore, or
// your own: see storetest) and a Mailer (smtpmailer, or your own):
//
//	svc, err := invitations.New(store, mailer, invitations.Config{
//		Secret:    secret, // 32+ random bytes
//		AcceptURL: "https://app.example.com/invitations/accept",
//	})
//	inv, err := svc.Invite(ctx, invitations.InviteInput{
//		AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"},
//	})
//	...
//	inv, err = svc.Accept(ctx, token) // from the link; then grant inv.Roles in inv.AccountID
//
// # Working with the host app
//
// A host's own writes and the library's can commit together: InTx gives a
// Service that works in the caller's transaction (sqlstore's Store.WithTx)
// and sends no mail; Deliver sends what became due once the caller has
// committed. Config.IsMember refuses emails that already belong to the
// account, WithActor names the admin behind a change for Event.Actor, and
// Service.Actions lists exactly the menu entries that will succeed.
//
// # Abuse
//
// An invitation form is a known spam vector. Config.Limits caps each
// account's mail per day, spaces out the mails of one invitation and caps
// its valid links; the counts live in the Store (LimitStore), so that
// every process sharing it enforces one limit. RecommendedLimits is a
// good start.
//
// # Errors
//
// Errors match the sentinels of this package with errors.Is (ErrExpired,
// ErrNotPending, ErrInvalidToken, ...); *InputError names the field of bad
// input and *AlreadyInvitedError the pending invitation in the way.
//
// # Secrets
//
// Tokens are derived from Config.Secret and never stored: a Store keeps a
// nonce and a keyed hash (TokenMaterial). Tokens, secrets and token
// material print redacted under fmt and slog.
package invitations
