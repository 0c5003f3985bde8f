package smtpmailer

import "time"

// SetClock makes m read the time from now, so that tests of IdleTimeout
// move time on instead of waiting for it.
func SetClock(m *Mailer, now func() time.Time) { m.now = now }
