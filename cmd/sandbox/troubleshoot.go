package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/m365snow/m365snow/fixtures"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/world"
)

// The troubleshooting rows on the running world: the shipped
// troubleshooting-* worlds' induce: lists, applied to this world by the
// code that applies them when such a world starts (world.Induce: through
// the parties' own APIs and fault injection). The console lists and
// induces them over HTTP:
//
//	GET  /__admin/troubleshooting            the rows
//	POST /__admin/troubleshooting/{world}    apply that world's inducements

// troubleshootingRow is one shipped troubleshooting world.
type troubleshootingRow struct {
	World       string   `json:"world"`
	Description string   `json:"description"`
	Notes       []string `json:"notes"`
	// Induce are the inducements' notes, in order; none when the world
	// holds the cause as it is (rows 1 and 8: the users' roles, links).
	Induce []string `json:"induce"`
	// StartsFrom is the first ancestor that is not a troubleshooting
	// world: the world to run for the inducements to apply.
	StartsFrom string `json:"startsFrom"`
}

const troubleshootingPrefix = "troubleshooting-"

func loadWorld(name string) (*fixture.File, error) {
	schema := world.Schema()
	schema.Sandbox = reflect.TypeOf(Notes{})
	return fixture.LoadSchema(fixtures.FS, name, schema)
}

func troubleshootingRows() ([]troubleshootingRow, error) {
	names, err := fixture.Names(fixtures.FS)
	if err != nil {
		return nil, err
	}
	var rows []troubleshootingRow
	for _, n := range names {
		if !strings.HasPrefix(n, troubleshootingPrefix) {
			continue
		}
		f, err := loadWorld(n)
		if err != nil {
			return nil, err
		}
		row := troubleshootingRow{World: n, Description: f.Description}
		var notes Notes
		_ = fixture.Section(&f.Sandbox, &notes)
		row.Notes = notes.Notes
		for i := range f.Induce {
			var in world.Inducement
			if err := fixture.Section(&f.Induce[i], &in); err != nil {
				return nil, fmt.Errorf("%s: induce[%d]: %w", n, i, err)
			}
			row.Induce = append(row.Induce, in.Note)
		}
		// The merged file keeps no extends: read the chain file by file.
		for parent := n; strings.HasPrefix(parent, troubleshootingPrefix); {
			b, err := fs.ReadFile(fixtures.FS, parent+".yaml")
			if err != nil {
				return nil, err
			}
			raw, err := fixture.Parse(parent, b)
			if err != nil {
				return nil, err
			}
			parent, row.StartsFrom = raw.Extends, raw.Extends
		}
		rows = append(rows, row)
	}
	num := func(n string) int {
		k := 1 << 30
		fmt.Sscanf(strings.TrimPrefix(n, troubleshootingPrefix), "%d", &k)
		return k
	}
	sort.SliceStable(rows, func(i, j int) bool { return num(rows[i].World) < num(rows[j].World) })
	return rows, nil
}

// mountTroubleshooting serves the rows and applies one to w.
func mountTroubleshooting(mux *http.ServeMux, w *world.World) {
	mux.HandleFunc("GET /__admin/troubleshooting", func(rw http.ResponseWriter, r *http.Request) {
		rows, err := troubleshootingRows()
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"rows": rows})
	})
	mux.HandleFunc("POST /__admin/troubleshooting/{world}", func(rw http.ResponseWriter, r *http.Request) {
		name := r.PathValue("world")
		if !strings.HasPrefix(name, troubleshootingPrefix) || fixture.IsPath(name) {
			http.Error(rw, fmt.Sprintf("%q is not a shipped troubleshooting world (GET /__admin/troubleshooting lists them)", name), http.StatusNotFound)
			return
		}
		f, err := loadWorld(name)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusNotFound)
			return
		}
		// A cause that does not fit this world (a record it lacks) is
		// the caller's choice of row, not the sandbox's failure.
		if err := w.Induce(f.Induce); err != nil {
			http.Error(rw, err.Error(), http.StatusConflict)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"world": name, "induced": len(f.Induce)})
	})
}
