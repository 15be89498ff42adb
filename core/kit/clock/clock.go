// Package clock lets services read the time through an interface so tests
// can move it (payment deadlines, token expiry, throttling windows).
package clock

import (
	"strings"
	"sync"
	"time"
	// A time zone must load on a machine without zoneinfo (a scratch
	// container): the binary carries the database.
	_ "time/tzdata"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// System is the real clock, in UTC.
var System Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

// Fake is a clock for tests that moves only when told to.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t.UTC()} }

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Set moves the fake clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t.UTC()
}

// Zone returns the IANA time zone named name, such as Asia/Shanghai or
// UTC, for cutting days at a shop's or a staff member's midnights. ok is
// false for a name the time zone database does not know, for "" and for
// "Local" (the server machine's zone, not the caller's), and for names
// longer than 64 bytes.
func Zone(name string) (loc *time.Location, ok bool) {
	if name == "" || strings.EqualFold(name, "local") || len(name) > 64 {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}
