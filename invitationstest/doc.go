// Package invitationstest helps applications test their invitation flows:
// a fake clock to jump past expiry, a recording mailer to read the links the
// Service sent, and TokenFromLink to accept them.
//
//	clock := invitationstest.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
//	mailer := invitationstest.NewMailer()
//	svc, _ := invitations.New(memstore.New(), mailer, invitations.Config{
//		Secret: secret, AcceptURL: "https://app.example/accept", Now: clock.Now,
//	})
//	...
//	token, _ := invitationstest.TokenFromLink(mailer.Last().Link)
//	clock.Advance(8 * 24 * time.Hour)
//	_, err := svc.Accept(ctx, token) // errors.Is(err, invitations.ErrExpired)
package invitationstest
