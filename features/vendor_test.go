package features

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cucumber/godog"
)

// TestVendorSkipsAreReported: a scenario vendor mode cannot run is skipped
// (godog.ErrSkip, not a failure) with its reason, and counted in the
// run's last line with that reason.
func TestVendorSkipsAreReported(t *testing.T) {
	l := &skipLedger{}
	if line, _ := l.summary(); line != "0 run, 0 skipped" {
		t.Fatalf("empty ledger: %q", line)
	}
	l.ran()
	l.ran()
	l.add("Secrets expire", "needs Azure AD's clock")
	line, names := l.summary()
	if line != "2 run, 1 skipped (needs Azure AD's clock: 1)" {
		t.Fatalf("summary %q", line)
	}
	if len(names) != 1 || !strings.Contains(names[0], "Secrets expire — skipped: needs Azure AD's clock") {
		t.Fatalf("names %q", names)
	}
	sc := newScenario(suiteConfig{})
	sc.vendorSkip = "@tag: needs Azure AD's clock"
	_, err := sc.skipped(context.Background())
	if !errors.Is(err, godog.ErrSkip) || !strings.Contains(err.Error(), "needs Azure AD's clock") {
		t.Fatalf("skipped: %v", err)
	}
}
