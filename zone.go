package invitations

import (
	"sync"
	"time"
)

// maxCachedZones bounds the time-zone cache. Invite accepts only zones
// that load, and the tz database holds about 600 names, so the bound is
// never reached by honest use. But time.LoadLocation reads the system's
// tz database as files, so endless spellings of one zone load
// ("Europe//Berlin", "Europe/./Berlin", ...): the bound keeps a flood of
// them from growing the process without end.
const maxCachedZones = 1024

// zones caches time zones: loading one reads the tz database from disk.
var zones struct {
	sync.RWMutex
	byName map[string]*time.Location
}

// zone returns the named IANA time zone and true, or UTC and false for an
// unknown name or "Local"; "" is UTC.
func zone(name string) (*time.Location, bool) {
	switch name {
	case "":
		return time.UTC, true
	case "Local":
		// time.LoadLocation's name for the server's own zone, which says
		// nothing about where the invitee is.
		return time.UTC, false
	}
	zones.RLock()
	loc := zones.byName[name]
	zones.RUnlock()
	if loc != nil {
		return loc, true
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC, false
	}
	zones.Lock()
	if zones.byName == nil {
		zones.byName = make(map[string]*time.Location)
	}
	if len(zones.byName) < maxCachedZones {
		zones.byName[name] = loc
	}
	zones.Unlock()
	return loc, true
}

// cachedZones is how many zones the cache holds, for tests.
func cachedZones() int {
	zones.RLock()
	defer zones.RUnlock()
	return len(zones.byName)
}
