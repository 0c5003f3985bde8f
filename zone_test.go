package invitations

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZoneCacheIsBounded: a flood of distinct time_zone strings leaves the
// process-wide cache within its bound; real zones still load and cache.
func TestZoneCacheIsBounded(t *testing.T) {
	for i := range 5000 {
		_, ok := zone(fmt.Sprintf("Nowhere/Zone%d", i))
		require.False(t, ok)
	}
	assert.LessOrEqual(t, cachedZones(), maxCachedZones)
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata"} {
		loc, ok := zone(name)
		require.True(t, ok, name)
		assert.Equal(t, name, loc.String())
	}
	loc, ok := zone("")
	assert.True(t, ok)
	assert.Equal(t, time.UTC, loc)
	require.Error(t, checkMetadata(map[string]string{MetadataTimeZone: "Europe/Atlantis"}))
	require.NoError(t, checkMetadata(map[string]string{MetadataTimeZone: "Europe/Berlin"}))
}

// TestTimeZoneIsAnIANAName: "Local" loads in Go but means the server's
// zone, not the invitee's; only IANA names are accepted.
func TestTimeZoneIsAnIANAName(t *testing.T) {
	for _, name := range []string{"Local", "local"} {
		_, ok := zone(name)
		assert.False(t, ok, name)
		err := checkMetadata(map[string]string{MetadataTimeZone: name})
		require.ErrorIs(t, err, ErrInvalidInput, name)
		var in *InputError
		require.ErrorAs(t, err, &in)
		assert.Equal(t, "metadata", in.Field)
	}
	for _, name := range []string{"UTC", "Etc/UTC", "Europe/Berlin"} {
		_, ok := zone(name)
		assert.True(t, ok, name)
	}
}
