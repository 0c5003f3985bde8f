package invitations

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// DefaultTTL is how long a link stays valid after it was last sent, when
// Config.TTL is zero.
const DefaultTTL = 7 * 24 * time.Hour

// Config holds the Service's settings. Its zero value is not usable: Secret
// and AcceptURL are required. Config prints with its secrets redacted.
type Config struct {
	// Secret is the key that tokens are derived from; at least MinSecretSize
	// (32) random bytes. Keep it out of source control.
	Secret []byte
	// PreviousSecrets are older secrets whose links keep working. To rotate,
	// move the current Secret here and set a new one; drop an old secret to
	// kill every link it issued (those invitations can then be Regenerated).
	PreviousSecrets [][]byte
	// AcceptURL is the absolute http(s) URL of the page that accepts
	// invitations. A link is AcceptURL with the query parameter "token"
	// added; its other query parameters and fragment are kept.
	AcceptURL string
	// TTL is how long a link is valid after it was last sent; 0 means
	// DefaultTTL (seven days).
	TTL time.Duration
	// Now is the clock; nil means time.Now. Tests pass a fake clock's Now.
	Now func() time.Time
	// OnEvent, when set, is called after each stored change, on the
	// caller's goroutine, with the context of the call that made it (so
	// Event.Actor and any transaction the host keeps track of are at hand).
	// For a change that calls for mail it runs after the change is stored
	// and before the mail is sent; EventDelivered and EventDeliveryFailed
	// follow the send. It must not block long.
	//
	// Every event is also stored with its change, in the same store
	// operation (Service.History, Service.Events): the stored feed is the
	// source of truth, and OnEvent a notification that a crash or a
	// failing hook can miss. On a Service returned by InTx, OnEvent fires
	// before the caller commits, and the change (with its stored event)
	// may still roll back: act on the feed, not on OnEvent, for anything
	// that must not get ahead of the commit.
	OnEvent func(context.Context, Event)
	// IsMember, when set, tells whether email already belongs to the
	// account. Invite, Resend and Regenerate refuse a member's email with
	// ErrAlreadyMember, storing and sending nothing. The email is the
	// normalized one (see NormalizeEmail). An error from IsMember is
	// returned wrapped, and nothing is stored.
	//
	// Accept and AcceptAs ask it too: an invitee who joined the account
	// another way meanwhile ends the invitation as accepted, with
	// ErrAlreadyMember. Inside InTx the hook gets the call's context, so a
	// host that carries its transaction in that context can read its own
	// uncommitted rows there (see the README's "Integrating with your
	// app"); querying the pool instead can wait on the transaction's locks.
	IsMember func(ctx context.Context, accountID, email string) (bool, error)
	// Roles, when set, returns the roles (groups) an account has; accounts
	// may define their own. Invite, each InviteMany row and UpdateRoles
	// then refuse a role outside it with an *InputError whose Field is
	// "roles", storing and sending nothing. An error of the hook itself is
	// returned wrapped and does not match ErrInvalidInput.
	Roles func(ctx context.Context, accountID string) ([]string, error)
	// AccountName, when set, is the account's name for people: every mail
	// (invite, resend, regenerate, reminder) and the invitee's page name the
	// account as it says at that time, and an "account_name" in
	// InviteInput.Metadata is refused with an *InputError, so that a client
	// cannot make mail signed by your domain say "PayPal Security invited
	// you". An error of the hook is returned wrapped; in DeliverDue it
	// fails the attempt, which is retried.
	AccountName func(ctx context.Context, accountID string) (string, error)
	// Limits bound the mail and the valid links of each account; the
	// zero value means no limits. Set them (RecommendedLimits is a good
	// start) wherever strangers can sign up and invite: an invitation
	// form is a known spam vector. The mail quota and the pending cap
	// need a Store that implements LimitStore (memstore and sqlstore do).
	// Give every Service sharing a Store the same Limits: one without the
	// cap does not keep the per-account bound the cap relies on (see
	// LinkBound).
	Limits Limits
	// Templates, when set, replace the built-in messages.
	Templates *Templates
	// Delivery is the retry policy of messages that could not be sent.
	Delivery DeliveryPolicy
}

// DeliveryPolicy says how often and how soon a failed message is retried
// by Service.DeliverDue. Zero fields mean the defaults.
type DeliveryPolicy struct {
	// MaxAttempts is how many attempts a message gets, the first one
	// included, before delivery is marked failed. Default 5.
	MaxAttempts int
	// Backoff is the delay before the first retry; it doubles with each
	// further attempt, with random jitter. Default one minute.
	Backoff time.Duration
	// MaxBackoff caps the delay between attempts. Default one hour.
	MaxBackoff time.Duration
	// Lease is how long one sender holds a message it is sending before
	// another process may take it over (after a crash). Sends are cut off
	// well within it. Default five minutes.
	Lease time.Duration
	// Concurrency bounds how many messages one DeliverDue run sends at
	// once. Default 4. A send mostly waits on the mail server, so more
	// senders than cores pay off, the more so the farther the server is.
	// Mind the provider's own limit on connections.
	Concurrency int
	// RemindBefore, when set, makes DeliverDue mail one reminder
	// (MessageReminder: the same link, the expiry unchanged) to each
	// pending invitation whose link expires within this window and that
	// was not reminded since it was last sent. 0 means no reminders.
	RemindBefore time.Duration
}

// Default delivery policy.
const (
	DefaultMaxAttempts = 5
	DefaultBackoff     = time.Minute
	DefaultMaxBackoff  = time.Hour
	DefaultLease       = 5 * time.Minute
	DefaultConcurrency = 4
)

func (p DeliveryPolicy) withDefaults() (DeliveryPolicy, error) {
	if p.MaxAttempts < 0 || p.Backoff < 0 || p.MaxBackoff < 0 || p.Lease < 0 || p.Concurrency < 0 || p.RemindBefore < 0 {
		return p, configError("Delivery settings must not be negative")
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.Backoff == 0 {
		p.Backoff = DefaultBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.Lease == 0 {
		p.Lease = DefaultLease
	}
	if p.Concurrency == 0 {
		p.Concurrency = DefaultConcurrency
	}
	if p.MaxBackoff < p.Backoff {
		return p, configError("Delivery.MaxBackoff must not be less than Delivery.Backoff")
	}
	if p.Lease < 2*time.Second {
		return p, configError("Delivery.Lease must be at least two seconds")
	}
	return p, nil
}

// Format implements fmt.Formatter so that no verb prints the secrets.
func (c Config) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Secret:%s PreviousSecrets:%d×%s AcceptURL:%s TTL:%s}",
		redacted, len(c.PreviousSecrets), redacted, c.AcceptURL, c.TTL)
}

// LogValue implements slog.LogValuer without the secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("accept_url", c.AcceptURL),
		slog.Duration("ttl", c.TTL),
		slog.Int("previous_secrets", len(c.PreviousSecrets)),
	)
}

// acceptLink builds links from a validated AcceptURL: prefix + token + suffix.
type acceptLink struct {
	prefix, suffix string
}

func parseAcceptURL(raw string) (acceptLink, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return acceptLink{}, configError("AcceptURL is not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return acceptLink{}, configError("AcceptURL must be an absolute http or https URL")
	}
	if u.User != nil {
		return acceptLink{}, configError("AcceptURL must not carry credentials")
	}
	var suffix string
	if u.Fragment != "" {
		suffix = "#" + u.EscapedFragment()
		u.Fragment, u.RawFragment = "", ""
	}
	// Drop any "token" parameter but keep the others in their order.
	var kept []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if name, err := url.QueryUnescape(key); pair == "" || (err == nil && name == "token") {
			continue
		}
		kept = append(kept, pair)
	}
	u.RawQuery = strings.Join(kept, "&")
	u.ForceQuery = false
	sep := "?"
	if u.RawQuery != "" {
		sep = "&"
	}
	return acceptLink{prefix: u.String() + sep + "token=", suffix: suffix}, nil
}

// of returns the link for a token. Tokens are base64url, safe in a query.
func (l acceptLink) of(token string) string { return l.prefix + token + l.suffix }
