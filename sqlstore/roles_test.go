package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeRoles: the fast path reads back exactly what json.Unmarshal
// would, for every array json.Marshal writes.
func FuzzDecodeRoles(f *testing.F) {
	for _, seed := range [][2]string{{"admin", ""}, {"a\",\"b", "c"}, {"<b>", "x"}, {"ünï", `\`}, {"", ""}, {"\xff", "\u2028"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, roles := range [][]string{{a}, {a, b}, {}} {
			data, err := json.Marshal(roles)
			require.NoError(t, err)
			var want []string
			require.NoError(t, json.Unmarshal(data, &want))
			got, err := decodeRoles(string(data))
			require.NoError(t, err)
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i], got[i])
			}
		}
	})
}
