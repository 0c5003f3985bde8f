// Package invitationshttp is the HTTP seam of the invitations library: the
// admin API behind a Settings > Users page, and the page an invitation
// link opens. It uses only net/http (Go 1.22 patterns,
// http.CrossOriginProtection) and html/template; it owns no server, router
// or session: mount its handlers where you like.
//
//	admin, err := invitationshttp.NewAdmin(svc, invitationshttp.AdminConfig{
//		Authorize: func(r *http.Request, accountID string) error {
//			user, ok := currentUser(r) // your session
//			if !ok {
//				return invitationshttp.ErrUnauthenticated // 401
//			}
//			if !user.IsAdminOf(accountID) {
//				return errors.New("not an admin") // 403
//			}
//			*r = *r.WithContext(invitations.WithActor(r.Context(), user.Email))
//			return nil
//		},
//	})
//	mux.Handle("/api/", http.StripPrefix("/api", admin))
//
//	page, err := invitationshttp.NewInvitee(svc, invitationshttp.InviteeConfig{SignInURL: "/login"})
//	mux.Handle("/invitations/accept", page) // the path of Config.AcceptURL
//
// Security: GET and HEAD never change anything (mail scanners open links);
// state changes are POST, PUT and DELETE, refused when a browser sends them
// cross-site; the invitee's token travels in the form body after the first
// GET, and every invitee response forbids caching, referrers, indexing and
// scripts; the admin API answers another account's invitation, a malformed
// ID and an unknown one alike (404), and never echoes rejected input.
package invitationshttp
