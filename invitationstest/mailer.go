package invitationstest

import (
	"context"
	"sync"

	"github.com/invitekit/invitations"
)

// Mailer is an invitations.Mailer that records what it is asked to send,
// and can be told to fail. It is safe for concurrent use.
type Mailer struct {
	mu       sync.Mutex
	messages []invitations.Message
	failures int
	failErr  error
}

var _ invitations.Mailer = (*Mailer)(nil)

// NewMailer returns a Mailer that records every message and fails none.
func NewMailer() *Mailer { return &Mailer{} }

// Send records msg, or fails without recording it while failures set by
// FailNext remain. It honours a cancelled context like a real mailer would.
func (m *Mailer) Send(ctx context.Context, msg invitations.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failures > 0 {
		m.failures--
		return m.failErr
	}
	m.messages = append(m.messages, copyMessage(msg))
	return nil
}

// Messages returns copies of the messages sent so far, in send order.
func (m *Mailer) Messages() []invitations.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]invitations.Message, len(m.messages))
	for i, msg := range m.messages {
		out[i] = copyMessage(msg)
	}
	return out
}

// Last returns a copy of the last message sent, or the zero Message when
// none was.
func (m *Mailer) Last() invitations.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.messages) == 0 {
		return invitations.Message{}
	}
	return copyMessage(m.messages[len(m.messages)-1])
}

// FailNext makes the next n sends fail with err (not recorded). A nil err
// fails them with ErrSendFailed. n <= 0 cancels pending failures.
func (m *Mailer) FailNext(n int, err error) {
	if err == nil {
		err = ErrSendFailed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures, m.failErr = max(n, 0), err
}

// Reset forgets the recorded messages and any pending failures.
func (m *Mailer) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages, m.failures, m.failErr = nil, 0, nil
}

func copyMessage(msg invitations.Message) invitations.Message {
	msg.Invitation = *msg.Invitation.Clone()
	return msg
}
