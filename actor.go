package invitations

import "context"

// actorKey is the context key of WithActor.
type actorKey struct{}

// WithActor returns a context that names who is acting (an admin's user ID
// or email) for the calls made with it. The Service reports it as
// Event.Actor, so that an audit log knows who resent or revoked an
// invitation. It is never put in a mail: templates see InvitedBy, not the
// actor.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// actorOf returns the actor named by WithActor, or "".
func actorOf(ctx context.Context) string {
	actor, _ := ctx.Value(actorKey{}).(string)
	return actor
}
