package sqlstore

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestMarshalEventIsJSONMarshal: the hand-written encoder writes what
// encoding/json writes, for events whose every field (of Event,
// Invitation and Delivery, found by reflection) is set at random: plain
// and odd strings, zero and non-zero times in other zones and out of
// range, nil and empty lists and maps.
func TestMarshalEventIsJSONMarshal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		var ev invitations.Event
		fill(rnd, reflect.ValueOf(&ev).Elem())
		want, wantErr := json.Marshal(&ev)
		got, err := marshalEvent(&ev)
		if wantErr != nil {
			require.Error(t, err, "event %d", i)
			continue
		}
		require.NoError(t, err, "event %d", i)
		require.Equal(t, string(want), string(got), "event %d", i)
	}
}

var (
	timeType  = reflect.TypeFor[time.Time]()
	plainText = []string{"ada@example.com", "Ada Lovelace", "acme", "member", "k1AbCd", "https://x.test/?a=1;b=2"}
	// oddText are strings that encoding/json escapes, or that are not
	// UTF-8; oddYears and oddZones times it refuses.
	oddText  = []string{`say "hi"`, `back\slash`, "a<b", "a>b", "a&b", "tab\there", "line\u2028sep", "naïve", "\xff\xfe", "control\x01", "del\x7f"}
	oddYears = []int{10000, -1}
	zones    = []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("odd", -(3*3600 + 30*60))}
	oddZones = []*time.Location{time.FixedZone("far", 24*3600), time.FixedZone("far west", -24*3600)}
)

// pickOne is one of plain, or, once in rare, one of odd.
func pickOne[T any](rnd *rand.Rand, plain, odd []T, rare int) T {
	if rnd.IntN(rare) == 0 {
		return odd[rnd.IntN(len(odd))]
	}
	return plain[rnd.IntN(len(plain))]
}

// fill sets v, and every exported field within it, to random values:
// about one in four is left zero, and a value encoding/json escapes or
// refuses is rare enough that most events take the encoder's own path.
func fill(rnd *rand.Rand, v reflect.Value) {
	if rnd.IntN(4) == 0 {
		return
	}
	switch {
	case v.Type() == timeType:
		t := time.Date(pickOne(rnd, []int{2026, 1, 9999}, oddYears, 200), time.Month(1+rnd.IntN(12)), 1+rnd.IntN(28),
			rnd.IntN(24), rnd.IntN(60), rnd.IntN(60), rnd.IntN(3)*rnd.IntN(1e9), pickOne(rnd, zones, oddZones, 200))
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rnd, v.Field(i))
			}
		}
	case reflect.String:
		v.SetString(pickOne(rnd, plainText, oddText, 40))
	case reflect.Int, reflect.Int64:
		v.SetInt(rnd.Int64N(1<<40) - 1<<20)
	case reflect.Array:
		for i := range v.Len() {
			fill(rnd, v.Index(i))
		}
	case reflect.Uint8:
		v.SetUint(uint64(rnd.IntN(256)))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), rnd.IntN(4), 4)
		for i := range s.Len() {
			fill(rnd, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rnd.IntN(4) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(rnd, k)
			fill(rnd, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic("fill: no rule for " + v.Type().String())
	}
}

// BenchmarkMarshalEvent: the hand-written encoder against encoding/json,
// for a typical event.
func BenchmarkMarshalEvent(b *testing.B) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)
	ev := &invitations.Event{ID: uuid.Must(uuid.NewV7()), Kind: invitations.EventAccepted, At: at, Actor: "grace@acme.test",
		Invitation: invitations.Invitation{ID: uuid.Must(uuid.NewV7()), AccountID: "acme", Email: "ada@example.com",
			Name: "Ada Lovelace", Roles: []string{"admin", "billing"}, InvitedBy: "grace@acme.test",
			Metadata: map[string]string{"team": "core"}, State: invitations.StatusAccepted, CreatedAt: at, SentAt: at,
			ExpiresAt: at.Add(7 * 24 * time.Hour), AcceptedAt: at, SendCount: 1, Version: 3,
			Delivery: invitations.Delivery{DeliveredAt: at}}}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshalEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalEvent(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
