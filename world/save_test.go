package world_test

import (
	"bytes"
	"testing"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/world"
)

// Every shipped world saved, loaded and saved again gives the same file:
// the saved world holds the whole state of the three fakes.
func TestEveryShippedWorldRoundTripsThroughSave(t *testing.T) {
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := world.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			first := saveOf(t, f)
			again, err := fixture.Parse("saved", first)
			if err != nil {
				t.Fatalf("the saved world does not parse: %v\n%s", err, first)
			}
			second := saveOf(t, again)
			if !bytes.Equal(first, second) {
				t.Fatalf("saved twice, the worlds differ:\n--- first\n%s\n--- second\n%s", first, second)
			}
		})
	}
}

func saveOf(t *testing.T, f *fixture.File) []byte {
	t.Helper()
	w, err := world.Start(world.Options{Fixture: f})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b, err := w.Save(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
