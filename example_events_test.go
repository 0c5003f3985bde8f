package invitations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
// An event the receiver refuses is tried again until it takes it, so
// that one failure never sends the page back to its start.
func relay(ctx context.Context, svc *invitations.Service, webhook, cursor string, save func(string) error) error {
	for {
		page, err := svc.Events(ctx, invitations.EventQuery{After: cursor})
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			for post(ctx, webhook, e) != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(relayBackoff)
			}
		}
		cursor = page.Next
		if err := save(cursor); err != nil || len(page.Events) == 0 {
			return err // nil: caught up, run again later
		}
	}
}

// relayBackoff is how long relay waits before it tries an event again.
var relayBackoff = time.Second

// webhookClient bounds each POST; relay's ctx bounds the whole run.
var webhookClient = &http.Client{Timeout: 10 * time.Second}

// post sends one event; a status of 300 or more is a failure.
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
	res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("webhook: %s", res.Status)
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
// and refuses every refuseEvery-th request with a 503.
type webhookReceiver struct {
	mu          sync.Mutex
	requests    int
	refuseEvery int
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
	old := relayBackoff
	relayBackoff = time.Millisecond
	t.Cleanup(func() { relayBackoff = old })
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
