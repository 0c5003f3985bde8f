// Command smtp tells the quick-start story and sends its mails to a real
// SMTP server: Mailpit on localhost by default.
//
//	go install github.com/axllent/mailpit@v1.33.1 && mailpit &   # SMTP :1025, web UI :8025
//	go run ./examples/smtp
//	go run ./examples/smtp -host smtp.example.com -port 587 -tls starttls -user me -from invitations@example.com
//
// The password, if any, is read from SMTP_PASSWORD, not from a flag that
// would show in the process list and shell history.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/invitekit/invitations/examples/internal/story"
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
	defer mailer.Close() // the connections it kept for the next message
	if err := story.Run(out, memstore.New(), "acme", mailer); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe mails went to %s:%d; read them at %s\n", cfg.Host, cfg.Port, web)
	return nil
}
