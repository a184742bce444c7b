package world

import (
	"bytes"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// stateful is the control plane's view of a fake.
type stateful interface {
	ExportState() ([]byte, error)
	ImportState([]byte) error
}

// FuzzFixtureRoundTrip loads each fake's section of a world, exports it,
// imports the export into a second fake and exports again: the two exports
// must be the same bytes (issue 11, "Checks"). A section the loader refuses
// is fine; a panic, or a loaded world whose export the same fake refuses or
// changes, is a bug. The seeds are the shipped worlds; `make test` runs
// them, `go test -fuzz FuzzFixtureRoundTrip ./world` explores.
func FuzzFixtureRoundTrip(f *testing.F) {
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		w, err := fixture.Load(fixtures.FS, n)
		if err != nil {
			f.Fatal(err)
		}
		w.Extends, w.Induce = "", nil
		b, err := yaml.Marshal(w)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("aad: {tenants: []}\nsnow: {instance: x}\nm365: {}\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		w, err := fixture.Parse("fuzz", doc)
		if err != nil || w.Extends != "" {
			return
		}
		clk := clock.NewManual(clock.Epoch)
		builders := map[string]func() (stateful, error){
			"aad": func() (stateful, error) {
				fx, err := fakeaad.ParseFixture(&w.AAD)
				if err != nil {
					return nil, err
				}
				return fakeaad.New(fakeaad.Options{PublicURL: "https://" + wellknown.LoginHost, Clock: clk, Fixture: fx})
			},
			"snow": func() (stateful, error) {
				fx, err := fakesnow.ParseFixture(&w.Snow)
				if err != nil {
					return nil, err
				}
				return fakesnow.New(fakesnow.Options{Clock: clk, Fixture: fx})
			},
			"m365": func() (stateful, error) {
				fx, err := fakem365.ParseFixture(&w.M365)
				if err != nil {
					return nil, err
				}
				return fakem365.New(fakem365.Options{Clock: clk, Fixture: fx})
			},
		}
		for section, build := range builders {
			first, err := build()
			if err != nil {
				continue // the loader refused the section: allowed
			}
			export1, err := first.ExportState()
			if err != nil {
				t.Fatalf("%s: a loaded fake cannot export: %v", section, err)
			}
			second, err := build()
			if err != nil {
				t.Fatalf("%s: the section loaded once and not twice: %v", section, err)
			}
			if err := second.ImportState(export1); err != nil {
				t.Fatalf("%s: the fake refuses its own export: %v\n%s", section, err, export1)
			}
			export2, err := second.ExportState()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(export1, export2) {
				t.Fatalf("%s: export → import → export differs:\n%s\n---\n%s", section, export1, export2)
			}
		}
	})
}
