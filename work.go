package invitations

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultWorkEvery is how often Work runs DeliverDue when WorkConfig.Every
// is zero: soon enough that a message left due by InviteMany or a failed
// attempt goes out within a minute or so, rarely enough that an idle
// store answers one indexed query a minute per process.
const DefaultWorkEvery = time.Minute

// workPurgeEvery is about how often Work purges. What ended a few minutes
// more or less than PurgeAfter ago makes no difference to anyone, and a
// Purge with nothing to delete still costs a query per process.
const workPurgeEvery = time.Hour

// WorkConfig says what Service.Work runs and how often. Its zero value
// delivers due mail every minute and purges nothing.
type WorkConfig struct {
	// Every is the wait between the end of one DeliverDue run and the
	// start of the next; 0 means DefaultWorkEvery (one minute). Each wait
	// is drawn uniformly between 0.9 and 1.1 times Every, so that
	// processes started together (a deploy) drift apart instead of
	// querying the store in step, while the mean stays Every. The wait is
	// counted from the end of a run, so a long run is never followed by
	// another at once.
	Every time.Duration
	// PurgeAfter, when set, makes Work delete the invitations that ended
	// (were accepted, declined or revoked, or whose link expired) more
	// than PurgeAfter before the Service's clock: Purge at once, then
	// about hourly (each wait drawn between 54 and 66 minutes, for the
	// reason given at Every). 0 means never purge. Ended invitations stay
	// listed (and an expired one can be regenerated) until purged, so set
	// it to how long admins should see them: 90 days, say. A pending
	// invitation whose link still works is never deleted.
	PurgeAfter time.Duration
	// OnError, when set, is called with each error a DeliverDue or Purge
	// run returns (a store failure, say); the loop carries on regardless,
	// and the next run tries again. Calls are never concurrent, and an
	// error of a run cut short because ctx ended is not reported: that is
	// the host stopping Work, not a failure. nil ignores errors. It runs
	// on Work's goroutines and must not block long: the loop that failed
	// waits for it.
	OnError func(error)
}

// Work runs the Service's periodic work until ctx ends, then returns nil:
// DeliverDue at once and then every WorkConfig.Every, and, when
// WorkConfig.PurgeAfter is set, Purge at once and then about hourly. It is
// the loop every host would otherwise write; start it on a goroutine of
// your own, in every process that serves the Service:
//
//	go svc.Work(ctx, invitations.WorkConfig{
//		PurgeAfter: 90 * 24 * time.Hour,
//		OnError:    func(err error) { log.Print(err) },
//	})
//
// Running it in every process at once is safe: DeliverDue claims each due
// message with a compare-and-set before sending it, so one process sends
// it, and Purge deletes only what ended, so two purges at once delete
// each row once between them. More processes mean more runs, each with
// less to do.
//
// Purge runs beside delivery, not between its runs: purging a large
// backlog can take minutes, and mail should not wait for it. The Purge
// cutoff is the Service's clock (Config.Now) minus PurgeAfter; the waits
// between runs are real time, since a Service's clock may be a fake one
// that never moves by itself.
//
// Failures go to WorkConfig.OnError and do not stop the loop. Work
// returns once ctx has ended and the runs in flight have returned (a Store
// that honours ctx makes that quick); every goroutine it starts has ended
// by then. A negative duration in cfg is refused at once with an error
// matching ErrInvalidInput, and a Service returned by InTx refuses with
// ErrInTx, as DeliverDue does: both before anything runs. The go statement
// above drops those errors; where cfg comes from settings, call Work in a
// func that logs what it returns.
func (s *Service) Work(ctx context.Context, cfg WorkConfig) error {
	if s.inTx {
		return ErrInTx
	}
	if cfg.Every < 0 {
		return configError("WorkConfig.Every must not be negative")
	}
	if cfg.PurgeAfter < 0 {
		return configError("WorkConfig.PurgeAfter must not be negative")
	}
	every := cfg.Every
	if every == 0 {
		every = DefaultWorkEvery
	}
	var mu sync.Mutex // serializes OnError
	report := func(err error) {
		// Once ctx has ended, the run's error is the cancellation showing
		// through, whether or not the Store wrapped ctx's error.
		if err == nil || cfg.OnError == nil || ctx.Err() != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		cfg.OnError(err)
	}
	var purging sync.WaitGroup
	if cfg.PurgeAfter > 0 {
		purging.Go(func() {
			repeat(ctx, workPurgeEvery, func() {
				_, err := s.Purge(ctx, s.clock().Add(-cfg.PurgeAfter))
				report(err)
			})
		})
	}
	repeat(ctx, every, func() {
		_, err := s.DeliverDue(ctx)
		report(err)
	})
	purging.Wait()
	return nil
}

// repeat calls run at once, then again after each jittered wait of about
// every, until ctx ends. It waits on a timer, in real time.
func repeat(ctx context.Context, every time.Duration, run func()) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if ctx.Err() != nil {
			// Both were ready and select chose the timer.
			return
		}
		run()
		timer.Reset(jitter(every))
	}
}

// jitter returns a duration drawn uniformly between 0.9 and 1.1 times d.
// d is capped at a century first, so that the result cannot overflow.
func jitter(d time.Duration) time.Duration {
	d = min(d, 100*365*24*time.Hour)
	spread := d / 5
	return d - spread/2 + rand.N(spread+1)
}
