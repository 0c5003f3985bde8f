// Command smtp invites Ada and resends her link through a real SMTP server:
// Mailpit on localhost by default. The two mails share one connection.
//
//	go install github.com/axllent/mailpit@v1.33.1 && mailpit &   # SMTP :1025, web UI :8025
//	go run ./examples/smtp
//	go run ./examples/smtp -host smtp.example.com -port 587 -tls starttls -user me -from invitations@example.com
//
// The password, if any, is read from SMTP_PASSWORD, not from a flag that
// would show in the process list and shell history.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
	"github.com/invitekit/invitations/smtpmailer"
)

func main() {
	host := flag.String("host", "127.0.0.1", "SMTP server host")
	port := flag.Int("port", 1025, "SMTP server port")
	mode := flag.String("tls", "none", "none (loopback only), starttls or implicit")
	user := flag.String("user", "", "SMTP user name; the password comes from $SMTP_PASSWORD")
	from := flag.String("from", "invitations@example.com", "sender address")
	web := flag.String("web", "http://127.0.0.1:8025", "where to read the mail (Mailpit's web UI)")
	flag.Parse()

	cfg := smtpmailer.Config{
		Host: *host, Port: *port, From: *from, FromName: "Acme Invitations",
		Username: *user, Password: os.Getenv("SMTP_PASSWORD"),
	}
	switch *mode {
	case "none":
		cfg.TLS = smtpmailer.NoTLS
	case "starttls":
		cfg.TLS = smtpmailer.StartTLS
	case "implicit":
		cfg.TLS = smtpmailer.ImplicitTLS
	default:
		log.Fatalf("unknown -tls %q", *mode)
	}
	if err := run(os.Stdout, cfg, *web); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer, cfg smtpmailer.Config, web string) error {
	mailer, err := smtpmailer.New(cfg)
	if err != nil {
		return err
	}
	defer mailer.Close() // the connection it kept for the next message
	clock := invitationstest.NewClock(time.Now())
	svc, err := invitations.New(memstore.New(), mailer, invitations.Config{
		Secret:    []byte("smtp-example-secret-0123456789abcdef"), // in production: 32+ random bytes from your vault
		AcceptURL: "https://app.example.com/invitations/accept",
		Now:       clock.Now,
		Limits:    invitations.RecommendedLimits,
	})
	if err != nil {
		return err
	}
	ctx := context.Background()
	inv, err := svc.Invite(ctx, invitations.InviteInput{
		AccountID: "acme", Email: "ada@example.com", Name: "Ada", Roles: []string{"admin"}, InvitedBy: "Grace",
	})
	if err != nil {
		return err // ErrDelivery: the server refused or was unreachable; inv is stored, DeliverDue retries
	}
	fmt.Fprintf(out, "Invited %s: %s\n", inv.Email, describe(inv))
	clock.Advance(3 * 24 * time.Hour) // three days without an answer
	if inv, err = svc.Resend(ctx, "acme", inv.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "Resent: %s\n", describe(inv))
	fmt.Fprintf(out, "\nThe mails went to %s:%d; read them at %s\n", cfg.Host, cfg.Port, web)
	return nil
}

// describe says what became of the invitation's last mail.
func describe(inv *invitations.Invitation) string {
	if inv.Delivery.DeliveredAt.IsZero() {
		return "not delivered: " + inv.Delivery.LastError
	}
	return "delivered, mail " + strconv.Itoa(inv.SendCount) + " of this invitation"
}
