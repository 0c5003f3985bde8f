package dbtest

import (
	"testing"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/storetest"
)

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) invitations.Store {
				s, _ := b.newStore(t)
				return s
			})
		})
	}
}
