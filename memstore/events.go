package memstore

import (
	"context"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
)

// eventLog keeps every stored event in the order it was stored, each at a
// position that is never reused, and an index of each invitation's
// history. It is guarded by the Store's lock: an event is added in the
// same critical section as the change it records.
type eventLog struct {
	next    int64        // the position of the next event, from 1
	entries []eventEntry // by position
	byInv   map[uuid.UUID][]int64
}

type eventEntry struct {
	pos int64
	ev  invitations.Event
}

func (l *eventLog) add(ev *invitations.Event) {
	if ev == nil {
		return
	}
	l.next++
	stored := *ev
	stored.Invitation = *ev.Invitation.Clone()
	l.entries = append(l.entries, eventEntry{pos: l.next, ev: stored})
	if l.byInv == nil {
		l.byInv = make(map[uuid.UUID][]int64)
	}
	l.byInv[ev.Invitation.ID] = append(l.byInv[ev.Invitation.ID], l.next)
}

// forget drops the history of the invitations purged (Purge), in one
// pass over the log whatever their number.
func (l *eventLog) forget(purged map[uuid.UUID]bool) {
	found := false
	for id := range purged {
		if _, ok := l.byInv[id]; ok {
			delete(l.byInv, id)
			found = true
		}
	}
	if found {
		l.entries = slices.DeleteFunc(l.entries, func(e eventEntry) bool { return purged[e.ev.Invitation.ID] })
	}
}

// after returns the index of the first entry after position after.
func (l *eventLog) after(after int64) int {
	i, _ := slices.BinarySearchFunc(l.entries, after+1, func(e eventEntry, pos int64) int {
		return int(e.pos - pos)
	})
	return i
}

func copyEvent(ev invitations.Event) invitations.Event {
	ev.Invitation = *ev.Invitation.Clone()
	return ev
}

// History implements invitations.Store.
func (s *Store) History(ctx context.Context, accountID string, id uuid.UUID) ([]invitations.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []invitations.Event
	for _, pos := range s.events.byInv[id] {
		i := s.events.after(pos - 1)
		if i < len(s.events.entries) && s.events.entries[i].pos == pos && s.events.entries[i].ev.Invitation.AccountID == accountID {
			out = append(out, copyEvent(s.events.entries[i].ev))
		}
	}
	return out, nil
}

// ListEvents implements invitations.Store. Positions are decimal numbers
// that are never reused; the store's lock orders every event before it is
// visible, so a page never skips one a concurrent writer adds. A page of
// one account reads past the other accounts' events.
func (s *Store) ListEvents(ctx context.Context, f invitations.EventFilter) ([]invitations.Event, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var after int64
	if f.After != "" {
		n, err := strconv.ParseInt(f.After, 10, 64)
		if err != nil || n < 0 {
			return nil, "", errBadPosition
		}
		after = n
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []invitations.Event
	last := after
	for _, e := range s.events.entries[s.events.after(after):] {
		if len(out) == f.Limit {
			break
		}
		last = e.pos
		if f.AccountID == "" || e.ev.Invitation.AccountID == f.AccountID {
			out = append(out, copyEvent(e.ev))
		}
	}
	return out, strconv.FormatInt(last, 10), nil
}
