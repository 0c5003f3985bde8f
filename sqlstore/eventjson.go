package sqlstore

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
)

// marshalEvent is json.Marshal(ev), byte for byte, written out by hand:
// every change stores its event, and encoding/json's reflection was the
// largest Go-side cost of that write (about 10 µs and 17 allocations an
// event, against one allocation here). What it cannot write the same way
// for certain (a string that needs escaping, a time outside the years
// 0-9999) it leaves to encoding/json. TestMarshalEventIsJSONMarshal fills
// every field of the three types by reflection, so that a field added to
// Event, Invitation or Delivery and not written here fails it.
func marshalEvent(ev *invitations.Event) ([]byte, error) {
	w := eventWriter{b: make([]byte, 0, 768)}
	w.uuid(`{"id":`, ev.ID)
	w.string(`,"kind":`, string(ev.Kind))
	w.time(`,"at":`, ev.At)
	w.optionalString(`,"actor":`, ev.Actor)
	w.optionalString(`,"message":`, string(ev.Message))
	w.optionalString(`,"error":`, ev.Error)
	inv := &ev.Invitation
	w.uuid(`,"invitation":{"id":`, inv.ID)
	w.string(`,"account_id":`, inv.AccountID)
	w.string(`,"email":`, inv.Email)
	w.optionalString(`,"name":`, inv.Name)
	if inv.Roles == nil {
		w.b = append(w.b, `,"roles":null`...)
	} else {
		w.b = append(w.b, `,"roles":[`...)
		for i, role := range inv.Roles {
			w.string(separator(i), role)
		}
		w.b = append(w.b, ']')
	}
	w.optionalString(`,"invited_by":`, inv.InvitedBy)
	if len(inv.Metadata) > 0 {
		keys := make([]string, 0, len(inv.Metadata))
		for k := range inv.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.b = append(w.b, `,"metadata":{`...)
		for i, k := range keys {
			w.string(separator(i), k)
			w.string(`:`, inv.Metadata[k])
		}
		w.b = append(w.b, '}')
	}
	w.string(`,"state":`, string(inv.State))
	w.time(`,"created_at":`, inv.CreatedAt)
	w.time(`,"sent_at":`, inv.SentAt)
	w.time(`,"expires_at":`, inv.ExpiresAt)
	w.optionalTime(`,"accepted_at":`, inv.AcceptedAt)
	w.optionalTime(`,"declined_at":`, inv.DeclinedAt)
	w.optionalTime(`,"revoked_at":`, inv.RevokedAt)
	w.optionalTime(`,"link_copied_at":`, inv.LinkCopiedAt)
	w.int(`,"send_count":`, int64(inv.SendCount))
	w.int(`,"version":`, inv.Version)
	d := &inv.Delivery
	w.b = append(w.b, `,"delivery":{`...)
	first := len(w.b) // the comma before the delivery's first field goes
	w.optionalString(`,"due":`, string(d.Due))
	if d.Attempts != 0 {
		w.int(`,"attempts":`, int64(d.Attempts))
	}
	w.optionalString(`,"last_error":`, d.LastError)
	w.optionalTime(`,"next_attempt":`, d.NextAttempt)
	w.optionalTime(`,"claimed_at":`, d.ClaimedAt)
	w.optionalTime(`,"delivered_at":`, d.DeliveredAt)
	w.optionalTime(`,"failed_at":`, d.FailedAt)
	w.optionalTime(`,"reminded_at":`, d.RemindedAt)
	if len(w.b) > first {
		w.b = append(w.b[:first], w.b[first+1:]...)
	}
	w.b = append(w.b, "}}}"...)
	if w.unsure {
		return json.Marshal(ev)
	}
	return w.b, nil
}

// separator is what comes before the i-th element of a list.
func separator(i int) string {
	if i == 0 {
		return ""
	}
	return ","
}

// eventWriter appends an event's JSON; unsure records that some value
// is not one it writes as encoding/json would.
type eventWriter struct {
	b      []byte
	unsure bool
}

func (w *eventWriter) uuid(field string, id uuid.UUID) {
	var text [36]byte
	hex.Encode(text[:8], id[:4])
	hex.Encode(text[9:13], id[4:6])
	hex.Encode(text[14:18], id[6:8])
	hex.Encode(text[19:23], id[8:10])
	hex.Encode(text[24:], id[10:])
	text[8], text[13], text[18], text[23] = '-', '-', '-', '-'
	w.b = append(append(append(append(w.b, field...), '"'), text[:]...), '"')
}

// string writes s as is when it is printable ASCII that encoding/json
// does not escape (it escapes quotes, backslashes and, for HTML, <, >
// and &).
func (w *eventWriter) string(field, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			w.unsure = true
			return
		}
	}
	w.b = append(append(append(append(w.b, field...), '"'), s...), '"')
}

func (w *eventWriter) optionalString(field, s string) {
	if s != "" {
		w.string(field, s)
	}
}

func (w *eventWriter) int(field string, n int64) {
	w.b = strconv.AppendInt(append(w.b, field...), n, 10)
}

// time writes t as time.Time's MarshalJSON does, which refuses years
// outside 0-9999 and zone offsets of a day or more.
func (w *eventWriter) time(field string, t time.Time) {
	if _, offset := t.Zone(); t.Year() < 0 || t.Year() > 9999 || offset <= -24*3600 || offset >= 24*3600 {
		w.unsure = true
		return
	}
	w.b = append(t.AppendFormat(append(append(w.b, field...), '"'), time.RFC3339Nano), '"')
}

func (w *eventWriter) optionalTime(field string, t time.Time) {
	if !t.IsZero() {
		w.time(field, t)
	}
}
