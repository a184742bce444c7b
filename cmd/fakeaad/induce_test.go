package main

import (
	"log/slog"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/hostmap"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/world"
)

// Every shipped world loads in the single binary alone: the inducements
// it applies are Azure AD's own (none ship today; the troubleshooting
// rows on Azure AD are in the fixtures' data), and those acting on the
// other parties are left to their binaries rather than failing here.
func TestSingleBinaryLoadsEveryWorld(t *testing.T) {
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		f, err := world.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := command.Build(&serve.Flags{PublicURL: "https://login.microsoftonline.com"}, f, hostmap.New(), slog.New(slog.DiscardHandler)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
