package clock

import (
	"sync"
	"testing"
	"time"
)

func TestManual(t *testing.T) {
	var zero Manual
	if got := zero.Now(); !got.Equal(Epoch) {
		t.Fatalf("zero Manual reads %v, want %v", got, Epoch)
	}
	c := NewManual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600)))
	if c.Now().Location() != time.UTC {
		t.Fatalf("Manual must report UTC, got %v", c.Now().Location())
	}
	c.Advance(90 * time.Minute)
	if want := time.Date(2029, 12, 31, 24, 30, 0, 0, time.UTC); !c.Now().Equal(want) {
		t.Fatalf("after Advance got %v, want %v", c.Now(), want)
	}
	c.Set(Epoch)
	if !c.Now().Equal(Epoch) {
		t.Fatalf("after Set got %v", c.Now())
	}
}

func TestManualConcurrent(t *testing.T) {
	c := NewManual(Epoch)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { c.Advance(time.Second); _ = c.Now() })
	}
	wg.Wait()
	if want := Epoch.Add(50 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("got %v, want %v", c.Now(), want)
	}
}

// Regression for issue 11 item 7: Advance read Now(), unlocked, then locked
// again to write, so concurrent advances overwrote each other. Many
// goroutines each advancing many times make the lost update near-certain on
// the old code, and the total must be exact.
func TestManualAdvanceLosesNoUpdate(t *testing.T) {
	const workers, steps = 8, 2000
	var c Manual // zero value starts at Epoch and must keep doing so
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			<-start
			for range steps {
				c.Advance(time.Millisecond)
			}
		})
	}
	close(start)
	wg.Wait()
	if want := Epoch.Add(workers * steps * time.Millisecond); !c.Now().Equal(want) {
		t.Fatalf("after %d concurrent advances got %v, want %v", workers*steps, c.Now(), want)
	}
}

func TestOffset(t *testing.T) {
	var c Offset
	before := time.Now().UTC()
	c.Advance(24 * time.Hour)
	if got := c.Now(); got.Before(before.Add(24 * time.Hour)) {
		t.Fatalf("Offset did not move ahead: %v", got)
	}
	target := time.Date(2040, 6, 1, 0, 0, 0, 0, time.UTC)
	c.Set(target)
	if d := c.Now().Sub(target); d < 0 || d > time.Minute {
		t.Fatalf("Offset.Set: now %v, want about %v", c.Now(), target)
	}
}

func TestOrReal(t *testing.T) {
	if _, ok := OrReal(nil).(Real); !ok {
		t.Fatal("OrReal(nil) must be Real")
	}
	m := NewManual(Epoch)
	if OrReal(m) != Clock(m) {
		t.Fatal("OrReal must keep a given clock")
	}
}
