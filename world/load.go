package world

import (
	"reflect"

	"github.com/m365snow/m365snow/fakeaad"
	"github.com/m365snow/m365snow/fakem365"
	"github.com/m365snow/m365snow/fakesnow"
	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
)

// Schema is the type of each section of a world file, for
// fixture.LoadSchema. The sandbox: section belongs to the sandbox, which
// adds its own.
func Schema() *fixture.Schema {
	return &fixture.Schema{
		AAD:    reflect.TypeOf(fakeaad.Fixture{}),
		Snow:   reflect.TypeOf(fakesnow.Fixture{}),
		M365:   reflect.TypeOf(fakem365.Fixture{}),
		Induce: reflect.TypeOf([]Inducement{}),
	}
}

// Load reads a shipped world by name, or a world file by path, checking
// every file of its extends: chain against Schema.
func Load(name string) (*fixture.File, error) {
	return fixture.LoadSchema(fixtures.FS, name, Schema())
}
