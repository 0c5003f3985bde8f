package invitations_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/invitekit/invitations"
)

func ExampleService_Work() {
	svc, mailer, _ := exampleService()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// InviteMany stores the mail as due; Work's first DeliverDue sends it.
	_, err := svc.InviteMany(ctx, []invitations.InviteInput{
		{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}},
		{AccountID: "acme", Email: "grace@example.com", Roles: []string{"viewer"}},
	})
	if err != nil {
		fmt.Println("invite failed:", err)
		return
	}

	// In every process, for as long as it serves:
	done := make(chan error, 1)
	go func() {
		done <- svc.Work(ctx, invitations.WorkConfig{
			PurgeAfter: 90 * 24 * time.Hour,
			OnError:    func(err error) { log.Print(err) },
		})
	}()

	for len(mailer.Messages()) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	for _, msg := range mailer.Messages() {
		fmt.Println("sent:", msg.Kind, "to", msg.To)
	}

	stop() // at shutdown
	fmt.Println("Work returned:", <-done)
	// Unordered output:
	// sent: invite to ada@example.com
	// sent: invite to grace@example.com
	// Work returned: <nil>
}
