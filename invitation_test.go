package invitations

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCloneIsDeep(t *testing.T) {
	for name, roles := range map[string][]string{
		"no roles":   nil,
		"few roles":  {"admin", "billing"},
		"many roles": {"a", "b", "c", "d", "e", "f"},
	} {
		t.Run(name, func(t *testing.T) {
			orig := &Invitation{
				Roles:    roles,
				Metadata: map[string]string{"k": "v"},
				Token:    TokenMaterial{KeyID: "k", Nonce: []byte{1, 2, 3}, Hash: []byte{4, 5, 6}},
			}
			c := orig.Clone()
			require.Equal(t, orig, c)
			if roles == nil {
				assert.Nil(t, c.Roles, "nil stays nil")
			} else {
				c.Roles[0] = "changed"
				c.Roles = append(c.Roles, "appended")
				assert.Equal(t, roles[0], orig.Roles[0])
				assert.Len(t, orig.Roles, len(roles))
			}
			c.Metadata["k"] = "changed"
			c.Token.Nonce[0], c.Token.Hash[0] = 9, 9
			c.Token.Nonce = append(c.Token.Nonce, 7) // must not run into Hash
			assert.Equal(t, "v", orig.Metadata["k"])
			assert.Equal(t, SecretBytes{1, 2, 3}, orig.Token.Nonce)
			assert.Equal(t, SecretBytes{9, 5, 6}, c.Token.Hash)
		})
	}
	empty := (&Invitation{}).Clone()
	assert.Nil(t, empty.Token.Nonce)
	assert.Nil(t, empty.Token.Hash)
}
