package journal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The control plane's view of a journal (mounted by internal/adminapi):
//
//	GET    /__admin/requests[?filters]         {"requests": [...], "meta": {...}}, oldest first
//	GET    /__admin/requests?format=text       the same as compact text, one exchange a block
//	GET    /__admin/requests/count[?filters]   {"count": n}
//	DELETE /__admin/requests                   clears the journal
//
// Filters are ParseFilter's. A fake in a world shares the world's journal,
// so each of its fakes serves the merged journal of all three.

// ServeList answers GET /__admin/requests.
func (j *Journal) ServeList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	q.Del("format")
	f, err := ParseFilter(q)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	entries := j.Entries(f)
	switch format {
	case "", "json":
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var b strings.Builder
		for _, e := range entries {
			b.WriteString(Compact(e, 2000))
			b.WriteString("\n")
		}
		if len(entries) == 0 {
			b.WriteString("(no requests recorded)\n")
		}
		_, _ = w.Write([]byte(b.String()))
		return
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("format %q: want json or text", format)})
		return
	}
	if entries == nil {
		entries = []Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"requests": entries,
		"meta":     map[string]any{"total": j.Count(f), "returned": len(entries), "journalSize": j.Size()},
		// WireMock's flag; a fake built without a journal says so.
		"requestJournalDisabled": j == nil,
	})
}

// ServeCount answers GET /__admin/requests/count.
func (j *Journal) ServeCount(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": j.Count(f)})
}

// ServeClear answers DELETE /__admin/requests.
func (j *Journal) ServeClear(w http.ResponseWriter, _ *http.Request) {
	j.Clear()
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
