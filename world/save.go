package world

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/fixture"
)

// Save renders the running world as a world file that loads with
// `sandbox --world FILE` and reproduces it: each fake's exported state
// (users, passwords and secrets included: a saved world is as secret as
// the sandbox itself), the clock's instant, the faults still in force as
// inducements, and from the world it started from what describes it
// (description and sandbox notes). Inducements already applied are not
// repeated: their effects are in the state.
func (w *World) Save(from *fixture.File) ([]byte, error) {
	out := fixture.File{Clock: w.Clock.Now().UTC().Format(time.RFC3339Nano)}
	if from != nil {
		out.Description = from.Description
		out.Sandbox = from.Sandbox
	}
	type part struct {
		name   string
		export func() ([]byte, error)
		faults *faults.Set
		into   *yaml.Node
	}
	parts := []part{
		{"aad", w.AAD.ExportState, w.AAD.Faults(), &out.AAD},
		{"snow", w.Snow.ExportState, w.Snow.Faults(), &out.Snow},
	}
	if w.M365 != nil {
		parts = append(parts, part{"m365", w.M365.ExportState, w.M365.Faults(), &out.M365})
	}
	for _, p := range parts {
		b, err := p.export()
		if err != nil {
			return nil, fmt.Errorf("world: saving %s: %w", p.name, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("world: saving %s: %w", p.name, err)
		}
		if len(doc.Content) == 1 {
			*p.into = *doc.Content[0]
		}
		for _, f := range p.faults.List() {
			f.ID, f.Hits = "", 0
			var n yaml.Node
			if err := n.Encode(Inducement{Note: "a fault in force when the world was saved", Fault: &PartyFault{On: p.name, Fault: f}}); err != nil {
				return nil, err
			}
			out.Induce = append(out.Induce, n)
		}
	}
	return fixture.Marshal(&out)
}
