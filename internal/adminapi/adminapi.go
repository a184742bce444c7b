// Package adminapi mounts the control plane every fake shares under
// /__admin/ (WireMock's convention): reset, state export/import, faults and
// clock. It mirrors the fakes' Go API for callers in another process, such
// as the docker-compose sandbox.
package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/faults"
	"github.com/m365snow/m365snow/internal/journal"
)

// Target is what a fake exposes to its control plane.
type Target interface {
	// Reset returns the fake to the state it was built with.
	Reset() error
	// ExportState renders the fake's current state as its fixture section.
	ExportState() ([]byte, error)
	// ImportState replaces the fake's state with a fixture section.
	ImportState(yaml []byte) error
}

// Config wires a fake into the control plane.
type Config struct {
	Service string // "fakeaad", "fakesnow", "fakem365": reported by /healthz
	Target  Target
	Faults  *faults.Set
	Clock   clock.Clock // moved by POST /__admin/clock when it is Adjustable
	// Journal is served as /__admin/requests (internal/journal); nil
	// answers an empty journal marked requestJournalDisabled.
	Journal *journal.Journal
}

// maxBody bounds a state import; maxJSONBody the small JSON bodies of the
// other calls (a fault or a clock move is a few hundred bytes), so that no
// control call decodes megabytes.
const (
	maxBody     = 10 << 20
	maxJSONBody = 64 << 10
)

// Mount adds /healthz and the /__admin/ routes to r and returns the
// /__admin subrouter, to which a fake adds routes of its own.
func Mount(r *mux.Router, c Config) *mux.Router {
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "service": c.Service})
	}).Methods(http.MethodGet, http.MethodHead)

	a := r.PathPrefix("/__admin").Subrouter()
	a.HandleFunc("/reset", func(w http.ResponseWriter, _ *http.Request) {
		if err := c.Target.Reset(); err != nil {
			writeErr(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	}).Methods(http.MethodPost)

	a.HandleFunc("/state", func(w http.ResponseWriter, _ *http.Request) {
		b, err := c.Target.ExportState()
		if err != nil {
			writeErr(w, http.StatusInternalServerError, err)
			return
		}
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(b)
	}).Methods(http.MethodGet)
	a.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeErr(w, http.StatusRequestEntityTooLarge, err)
			return
		}
		if err := c.Target.ImportState(b); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "imported"})
	}).Methods(http.MethodPut)

	a.HandleFunc("/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": c.Faults.List()})
	}).Methods(http.MethodGet)
	a.HandleFunc("/faults", func(w http.ResponseWriter, r *http.Request) {
		var f faults.Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("fault body: %w", err))
			return
		}
		id, err := c.Faults.Add(f)
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	}).Methods(http.MethodPost)
	a.HandleFunc("/faults", func(w http.ResponseWriter, _ *http.Request) {
		c.Faults.Clear()
		w.WriteHeader(http.StatusNoContent)
	}).Methods(http.MethodDelete)
	a.HandleFunc("/faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !c.Faults.Remove(mux.Vars(r)["id"]) {
			writeErr(w, http.StatusNotFound, errors.New("no such fault"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}).Methods(http.MethodDelete)

	a.HandleFunc("/requests", c.Journal.ServeList).Methods(http.MethodGet)
	a.HandleFunc("/requests/count", c.Journal.ServeCount).Methods(http.MethodGet)
	a.HandleFunc("/requests", c.Journal.ServeClear).Methods(http.MethodDelete)

	a.HandleFunc("/clock", func(w http.ResponseWriter, _ *http.Request) {
		writeClock(w, c.Clock)
	}).Methods(http.MethodGet)
	a.HandleFunc("/clock", func(w http.ResponseWriter, r *http.Request) {
		adj, ok := c.Clock.(clock.Adjustable)
		if !ok {
			writeErr(w, http.StatusConflict, errors.New("this fake runs on the wall clock; start it with an adjustable clock to move time"))
			return
		}
		var req struct {
			Advance string `json:"advance"`
			Now     string `json:"now"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("clock body: %w", err))
			return
		}
		switch {
		case req.Advance != "" && req.Now != "":
			writeErr(w, http.StatusBadRequest, errors.New(`give either "advance" or "now", not both`))
			return
		case req.Advance != "":
			d, err := time.ParseDuration(req.Advance)
			if err != nil {
				writeErr(w, http.StatusBadRequest, err)
				return
			}
			adj.Advance(d)
		case req.Now != "":
			t, err := time.Parse(time.RFC3339, req.Now)
			if err != nil {
				writeErr(w, http.StatusBadRequest, err)
				return
			}
			adj.Set(t)
		default:
			writeErr(w, http.StatusBadRequest, errors.New(`give "advance" (e.g. "61m") or "now" (RFC 3339)`))
			return
		}
		writeClock(w, c.Clock)
	}).Methods(http.MethodPost)

	a.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, fmt.Errorf("no control-plane route %s %s (see /__admin/ in the README)", r.Method, r.URL.Path))
	})
	return a
}

func writeClock(w http.ResponseWriter, c clock.Clock) {
	writeJSON(w, http.StatusOK, map[string]string{"now": c.Now().UTC().Format(time.RFC3339)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
