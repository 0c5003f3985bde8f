package invitations

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSameStored: a write read back is ours only when every field the
// Service writes matches; another process's write of the same version (a
// role change, a copied link) is not.
func TestSameStored(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ours := &Invitation{Version: 3, State: StatusPending, Roles: []string{"admin"}, SentAt: at, ExpiresAt: at.Add(DefaultTTL),
		Metadata: map[string]string{"locale": "en"}, Token: TokenMaterial{KeyID: "k", Hash: []byte{1, 2}},
		Delivery: Delivery{Due: MessageResend, NextAttempt: at.Add(DefaultLease)}}
	assert.True(t, sameStored(ours.Clone(), ours))
	for name, change := range map[string]func(*Invitation){
		"roles":       func(inv *Invitation) { inv.Roles = []string{"viewer"} },
		"copied link": func(inv *Invitation) { inv.LinkCopiedAt = at },
		"reminded":    func(inv *Invitation) { inv.Delivery.RemindedAt = at },
		"metadata":    func(inv *Invitation) { inv.Metadata = nil },
		"token":       func(inv *Invitation) { inv.Token.Hash = []byte{9} },
		"version":     func(inv *Invitation) { inv.Version++ },
	} {
		theirs := ours.Clone()
		change(theirs)
		assert.False(t, sameStored(theirs, ours), name)
	}
}
