//go:build !linux

package netdelay

import "time"

// A sleeper outside Linux is time.Sleep, which may wait whole
// milliseconds: use round trips of a few milliseconds there.
type sleeper struct{}

func newSleeper() sleeper { return sleeper{} }

func (sleeper) sleep(d time.Duration) { time.Sleep(d) }

func (sleeper) close() {}
