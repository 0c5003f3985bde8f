package dbtest

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestEveryFieldPersists writes an invitation whose every field is set
// through each statement that writes one (Create, CreateMany's batch
// insert, both Updates) and reads it back through those that read one,
// on each database. A field of invitations.Invitation with no column, or
// a column that a statement leaves out, fails it: the guards check,
// field by field and by reflection, that the fixtures set every field and
// that the update changes every field an Update may change, so a field
// added later is covered without touching this test.
func TestEveryFieldPersists(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := func(email string, offset time.Duration) *invitations.Invitation {
		at := at.Add(offset)
		return &invitations.Invitation{
			ID: uuid.Must(uuid.NewV7()), AccountID: "acct-1", Email: email,
			Name: "Ada Lovelace", Roles: []string{"admin", `with "quotes"`}, InvitedBy: "grace@example.com",
			Metadata: map[string]string{"locale": "en-GB"}, State: invitations.StatusPending,
			CreatedAt: at.Add(1 * time.Microsecond), SentAt: at.Add(2 * time.Microsecond), ExpiresAt: at.Add(3 * time.Microsecond),
			AcceptedAt: at.Add(4 * time.Microsecond), DeclinedAt: at.Add(5 * time.Microsecond), RevokedAt: at.Add(6 * time.Microsecond),
			LinkCopiedAt: at.Add(7 * time.Microsecond), SendCount: 2, Version: 3,
			Delivery: invitations.Delivery{
				Due: invitations.MessageResend, Attempts: 4, LastError: "smtp: 451 try again later",
				NextAttempt: at.Add(8 * time.Microsecond), DeliveredAt: at.Add(9 * time.Microsecond),
				FailedAt: at.Add(10 * time.Microsecond), RemindedAt: at.Add(11 * time.Microsecond),
				ClaimedAt: at.Add(12 * time.Microsecond),
			},
			Token: invitations.TokenMaterial{KeyID: "k1", Nonce: []byte("nonce-" + email), Hash: []byte("hash-" + email)},
		}
	}
	// changed differs from inv in every field but those an Update keeps,
	// and keeps or replaces the token.
	changed := func(inv *invitations.Invitation, newToken bool) *invitations.Invitation {
		next := full(inv.Email, inv.SentAt.Sub(at)+time.Hour)
		next.ID, next.AccountID, next.CreatedAt = inv.ID, inv.AccountID, inv.CreatedAt
		next.Name, next.InvitedBy = inv.Name+" II", inv.InvitedBy+".org"
		next.Roles = append(slices.Clone(inv.Roles), "viewer")
		next.Metadata = maps.Clone(inv.Metadata)
		next.Metadata["n"+strconv.Itoa(len(inv.Metadata))] = "x"
		next.State, next.Delivery.Due = invitations.StatusAccepted, invitations.MessageReminder
		if inv.State == next.State {
			next.State, next.Delivery.Due = invitations.StatusDeclined, invitations.MessageInvite
		}
		next.SendCount, next.Version = inv.SendCount+1, inv.Version+1
		next.Delivery.Attempts, next.Delivery.LastError = inv.Delivery.Attempts+1, inv.Delivery.LastError+" again"
		next.Token = inv.Token
		if newToken {
			next.Token = invitations.TokenMaterial{KeyID: inv.Token.KeyID + "2", Nonce: []byte("new nonce"), Hash: []byte("new hash")}
		}
		return next
	}
	fixed := map[string]bool{"ID": true, "AccountID": true, "Email": true, "CreatedAt": true}

	created := full("created@example.com", 0)
	requireEveryField(t, created, "is zero in the fixture: set it, and give it a column in sqlstore's columnTable", func(_ string, v reflect.Value) bool { return !v.IsZero() })
	kept := changed(created, false)
	replaced := changed(kept, true)
	for _, pair := range [][2]*invitations.Invitation{{created, kept}, {kept, replaced}} {
		requireEveryField(t, pair[1], "is not changed by the update: change it in changed", func(path string, v reflect.Value) bool {
			if fixed[path] || strings.HasPrefix(path, "Token.") && pair[1] == kept {
				return true
			}
			return !reflect.DeepEqual(v.Interface(), fieldAt(reflect.ValueOf(pair[0]).Elem(), path).Interface())
		})
	}

	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			s, _ := be.newStore(t)
			ctx := context.Background()
			requireStored := func(want *invitations.Invitation) {
				t.Helper()
				got, err := s.Get(ctx, want.AccountID, want.ID)
				require.NoError(t, err)
				require.Equal(t, want, got, "Get")
				got, err = s.GetByTokenHash(ctx, want.Token.Hash)
				require.NoError(t, err)
				require.Equal(t, want, got, "GetByTokenHash")
				page, err := s.List(ctx, invitations.ListFilter{AccountID: want.AccountID, Search: want.Email, Limit: 2})
				require.NoError(t, err)
				require.Equal(t, []*invitations.Invitation{want}, page, "List")
			}

			require.NoError(t, s.Create(ctx, created, nil))
			requireStored(created)

			batched := full("batched@example.com", time.Minute)
			errs, err := s.CreateMany(ctx, []*invitations.Invitation{batched}, nil)
			require.NoError(t, err)
			require.NoError(t, errs[0])
			requireStored(batched)

			require.NoError(t, s.Update(ctx, kept, created.Version, nil), "the Update that keeps the link")
			requireStored(kept)
			require.NoError(t, s.Update(ctx, replaced, kept.Version, nil), "the Update that replaces the link")
			requireStored(replaced)
		})
	}
}

// requireEveryField checks ok for each field of inv, nested structs
// (Delivery, Token) field by field; a time or a UUID is one value.
func requireEveryField(t *testing.T, inv *invitations.Invitation, failure string, ok func(path string, v reflect.Value) bool) {
	t.Helper()
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			if !f.IsExported() {
				continue
			}
			path := prefix + f.Name
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]() {
				walk(fv, path+".")
				continue
			}
			if !ok(path, fv) {
				t.Errorf("%s %s", path, failure)
			}
		}
	}
	walk(reflect.ValueOf(inv).Elem(), "")
}

// fieldAt is the field of v at a dotted path such as "Delivery.Due".
func fieldAt(v reflect.Value, path string) reflect.Value {
	for name := range strings.SplitSeq(path, ".") {
		v = v.FieldByName(name)
	}
	return v
}
