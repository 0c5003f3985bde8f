package invitations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/invitekit/invitations"
)

// relay posts every event after cursor to a webhook and returns the
// cursor to save: at least once, since the cursor moves only after a
// whole page went out; the receiver deduplicates by Event.ID.
func relay(ctx context.Context, svc *invitations.Service, webhook, cursor string) (string, error) {
	for {
		page, err := svc.Events(ctx, invitations.EventQuery{After: cursor})
		if err != nil {
			return cursor, err
		}
		for _, e := range page.Events {
			body, _ := json.Marshal(e)
			res, err := http.Post(webhook, "application/json", bytes.NewReader(body))
			if err != nil {
				return cursor, err
			}
			res.Body.Close()
			if res.StatusCode >= 300 {
				return cursor, fmt.Errorf("webhook: %s", res.Status)
			}
		}
		if cursor = page.Next; len(page.Events) == 0 {
			return cursor, nil // caught up: save it, and run again later
		}
	}
}

func ExampleService_Events() {
	svc, _, _ := exampleService()
	ctx := invitations.WithActor(context.Background(), "grace@acme.test")
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e invitations.Event
		_ = json.NewDecoder(r.Body).Decode(&e)
		fmt.Println("received:", e.Kind, "by", e.Actor, "for", e.Invitation.Email)
	}))
	defer receiver.Close()

	if _, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}}); err != nil {
		panic(err)
	}
	cursor, err := relay(ctx, svc, receiver.URL, "") // "": from the start
	fmt.Println("caught up:", err == nil, cursor != "")
	cursor, err = relay(ctx, svc, receiver.URL, cursor) // later: nothing new
	fmt.Println("caught up:", err == nil, cursor != "")
	// Output:
	// received: invited by grace@acme.test for ada@example.com
	// received: delivered by grace@acme.test for ada@example.com
	// caught up: true true
	// caught up: true true
}
