// Package clock gives the fakes one notion of time that tests can move.
//
// Every timestamp a fake writes and every expiry it checks reads a Clock, so a
// scenario that shares one Manual clock among fakeaad, fakesnow and fakem365
// can expire a token in all three at once without waiting for anything.
package clock

import (
	"sync"
	"time"
)

// Clock reports the current time.
type Clock interface {
	Now() time.Time
}

// Adjustable is a Clock that the control plane can move.
type Adjustable interface {
	Clock
	Advance(d time.Duration)
	Set(t time.Time)
}

// Real is the wall clock, in UTC.
type Real struct{}

// Now returns the wall-clock time in UTC.
func (Real) Now() time.Time { return time.Now().UTC() }

// Epoch is where a zero Manual clock starts: a fixed instant, so that tests
// which print times are reproducible.
var Epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Manual is a frozen clock that moves only when told to. It is safe for
// concurrent use; its zero value reads Epoch.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a Manual clock reading start (Epoch if start is zero).
func NewManual(start time.Time) *Manual {
	return &Manual{now: start.UTC()}
}

// Now returns the clock's current reading.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return Epoch
	}
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative).
// The read and the write happen under one lock: reading Now() and locking
// again to write lost concurrent advances.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		c.now = Epoch
	}
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC()
	c.mu.Unlock()
}

// Offset is the wall clock shifted by an adjustable offset. The sandbox uses
// it so that time passes normally for a person at a terminal, yet the control
// plane can still jump ahead to expire a token or a secret.
type Offset struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns wall-clock time plus the offset, in UTC.
func (c *Offset) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Advance adds d to the offset.
func (c *Offset) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Set makes Now read t at this instant.
func (c *Offset) Set(t time.Time) {
	c.mu.Lock()
	c.offset = time.Until(t)
	c.mu.Unlock()
}

// OrReal returns c, or Real when c is nil.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}
