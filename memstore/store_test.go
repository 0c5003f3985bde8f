package memstore_test

import (
	"testing"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/memstore"
	"github.com/invitekit/invitations/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) invitations.Store { return memstore.New() })
}
