package invitations

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZoneCacheIsBounded: a flood of distinct time_zone strings leaves the
// process-wide cache within its bound; real zones still load and cache.
// Unknown names are never cached; the flood that could grow the cache is
// of spellings that load, which the system's tz database allows.
func TestZoneCacheIsBounded(t *testing.T) {
	for i := range 5000 {
		_, ok := zone(fmt.Sprintf("Nowhere/Zone%d", i))
		require.False(t, ok)
	}
	assert.LessOrEqual(t, cachedZones(), maxCachedZones)
	if _, err := time.LoadLocation(oddSpelling(1)); err != nil {
		t.Skipf("odd spellings of a zone do not load here (%v): nothing unbounded can enter the cache", err)
	}
	for i := range 2 * maxCachedZones {
		_, ok := zone(oddSpelling(i))
		require.True(t, ok, oddSpelling(i))
	}
	assert.Equal(t, maxCachedZones, cachedZones(), "filled up to its bound, not beyond")
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

// oddSpelling is the i-th of endless distinct names of Europe/Berlin that
// load from the system's tz database: the bits of i+1, least significant
// first, spelled "./" for a one and "/" for a zero.
func oddSpelling(i int) string {
	var b strings.Builder
	b.WriteString("Europe/")
	for n := uint(i) + 1; n > 0; n >>= 1 {
		if n&1 == 1 {
			b.WriteString("./")
		} else {
			b.WriteString("/")
		}
	}
	b.WriteString("Berlin")
	return b.String()
}
