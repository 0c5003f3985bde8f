package invitations_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// relay posts every event after cursor to a webhook, saving the cursor
// after each page: at least once (the receiver deduplicates by Event.ID).
// It returns nil once it has caught up, to be run again later, and stops
// with an error when an event cannot be delivered: that page goes out
// again, from its start, on the next run.
func relay(ctx context.Context, svc *invitations.Service, webhook, cursor string, save func(string) error) error {
	for {
		page, err := svc.Events(ctx, invitations.EventQuery{After: cursor})
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if err := deliver(ctx, webhook, e); err != nil {
				return err
			}
		}
		cursor = page.Next
		if err := save(cursor); err != nil || len(page.Events) == 0 {
			return cmp.Or(err, ctx.Err()) // nil: caught up
		}
	}
}

// The retries of one event: relayAttempts tries, the pause between them
// doubling from relayBackoff. An event the receiver refuses now and then
// is tried again on its own, rather than with its whole page, so that such
// a receiver cannot hold the relay on one page.
var (
	relayAttempts = 5
	relayBackoff  = time.Second
)

// deliver posts one event, trying again while the receiver fails.
func deliver(ctx context.Context, webhook string, e invitations.Event) error {
	pause := relayBackoff
	for attempt := 1; ; attempt++ {
		err := post(ctx, webhook, e)
		if err == nil || attempt == relayAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// webhookClient bounds each POST; ctx bounds the whole run.
var webhookClient = &http.Client{Timeout: 10 * time.Second}

// post sends one event's JSON; a status of 300 or more is a failure.
func post(ctx context.Context, webhook string, e invitations.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := webhookClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body) // so that the connection is kept
	if res.StatusCode >= 300 {
		return fmt.Errorf("webhook: event %s: %s", e.ID, res.Status)
	}
	return nil
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
	saved := "" // from the start; keep it where the relay finds it again
	save := func(cursor string) error { saved = cursor; return nil }
	err := relay(ctx, svc, receiver.URL, saved, save)
	fmt.Println("caught up:", err == nil, saved != "")
	err = relay(ctx, svc, receiver.URL, saved, save) // later: nothing new
	fmt.Println("caught up:", err == nil, saved != "")
	// Output:
	// received: invited by grace@acme.test for ada@example.com
	// received: delivered by grace@acme.test for ada@example.com
	// caught up: true true
	// caught up: true true
}

// webhookReceiver records the IDs of the events it accepts, in order,
// and refuses every refuseEvery-th request with a 503, and every request
// for the event refuseID with a 400.
type webhookReceiver struct {
	mu          sync.Mutex
	requests    int
	refuseEvery int
	refuseID    string
	refused     int
	accepted    []string
	onAccept    func(n int)
}

func (rc *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e invitations.Event
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.requests++
	if e.ID.String() == rc.refuseID {
		rc.refused++
		rc.mu.Unlock()
		http.Error(w, "no", http.StatusBadRequest)
		return
	}
	if rc.refuseEvery > 0 && rc.requests%rc.refuseEvery == 0 {
		rc.mu.Unlock()
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	rc.accepted = append(rc.accepted, e.ID.String())
	n := len(rc.accepted)
	rc.mu.Unlock()
	if rc.onAccept != nil {
		rc.onAccept(n)
	}
}

// relayFixture is a Service with 250 invitations (500 events: invited,
// delivered) and the IDs of its feed, in order.
func relayFixture(t *testing.T) (*invitations.Service, []string) {
	t.Helper()
	backoff, attempts := relayBackoff, relayAttempts
	relayBackoff = time.Millisecond
	t.Cleanup(func() { relayBackoff, relayAttempts = backoff, attempts })
	svc, _, _ := exampleService()
	ctx := context.Background()
	for i := range 250 {
		_, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "user" + strconv.Itoa(i) + "@example.com", Roles: []string{"member"}})
		require.NoError(t, err)
	}
	var ids []string
	for cursor := ""; ; {
		page, err := svc.Events(ctx, invitations.EventQuery{After: cursor, Limit: invitations.MaxEventPageSize})
		require.NoError(t, err)
		if len(page.Events) == 0 {
			break
		}
		for _, e := range page.Events {
			ids = append(ids, e.ID.String())
		}
		cursor = page.Next
	}
	require.Len(t, ids, 500)
	return svc, ids
}

// TestRelayMakesProgressWithAFlakyReceiver: a receiver that refuses one
// request in seven still gets every event, once each and in order, since
// the relay tries the refused event again rather than its whole page; the
// cursor is saved after every page.
func TestRelayMakesProgressWithAFlakyReceiver(t *testing.T) {
	svc, ids := relayFixture(t)
	receiver := &webhookReceiver{refuseEvery: 7}
	server := httptest.NewServer(receiver)
	defer server.Close()
	var saves []string
	saved := ""
	err := relay(context.Background(), svc, server.URL, saved, func(c string) error {
		saves, saved = append(saves, c), c
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, ids, receiver.accepted)
	assert.Len(t, saves, 6, "five pages of 100, then the empty one")
	page, err := svc.Events(context.Background(), invitations.EventQuery{After: saved})
	require.NoError(t, err)
	assert.Empty(t, page.Events, "the saved cursor is past every event")
}

// TestRelayResumesFromTheLastSavedPage: a relay stopped half way through
// a page resumes from the page it had not finished, not from the start.
func TestRelayResumesFromTheLastSavedPage(t *testing.T) {
	svc, ids := relayFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	receiver := &webhookReceiver{onAccept: func(n int) {
		if n == 150 {
			cancel()
		}
	}}
	server := httptest.NewServer(receiver)
	defer server.Close()
	saved := ""
	save := func(c string) error { saved = c; return nil }
	err := relay(ctx, svc, server.URL, saved, save)
	require.ErrorIs(t, err, context.Canceled)
	require.GreaterOrEqual(t, len(receiver.accepted), 150)
	first := len(receiver.accepted)

	require.NoError(t, relay(context.Background(), svc, server.URL, saved, save))
	assert.Equal(t, ids[100:], receiver.accepted[first:], "again from the 101st event, the first of the unfinished page")
}

// TestRelayStopsOnAnEventItCannotDeliver: an event the receiver always
// refuses stops the relay with an error after relayAttempts tries, with
// the cursor saved at the start of its page; once the receiver takes it,
// the next run goes on from there.
func TestRelayStopsOnAnEventItCannotDeliver(t *testing.T) {
	svc, ids := relayFixture(t)
	relayAttempts = 3
	receiver := &webhookReceiver{refuseID: ids[149]}
	server := httptest.NewServer(receiver)
	defer server.Close()
	saved := ""
	save := func(c string) error { saved = c; return nil }
	err := relay(context.Background(), svc, server.URL, saved, save)
	require.Error(t, err)
	assert.Contains(t, err.Error(), ids[149])
	assert.Contains(t, err.Error(), "400")
	assert.Equal(t, 3, receiver.refused, "tried relayAttempts times")
	assert.Equal(t, ids[:149], receiver.accepted)

	receiver.refuseID = ""
	require.NoError(t, relay(context.Background(), svc, server.URL, saved, save))
	assert.Equal(t, ids[100:], receiver.accepted[149:], "again from the start of the page it stopped in")
}

// TestRelayStopsWhenCtxEndsDuringAPause: a relay waiting to try an event
// again returns ctx's error as soon as ctx ends, not after its pause, and
// never reports a stopped run as caught up.
func TestRelayStopsWhenCtxEndsDuringAPause(t *testing.T) {
	svc, ids := relayFixture(t)
	relayBackoff = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	receiver := &webhookReceiver{refuseID: ids[0]}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		receiver.ServeHTTP(w, r)
		cancel() // the relay now waits an hour before it tries again
	}))
	defer server.Close()
	done := make(chan error, 1)
	go func() { done <- relay(ctx, svc, server.URL, "", func(string) error { return nil }) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("relay still waiting after ctx ended")
	}
}
